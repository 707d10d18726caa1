/**
 * The pure side of the Deployments view (src/deployments.tsx): the *Start canary* form checked
 * as the server checks it (jupyter_mlops/monitoring/canary_spec.py and sequential.Design), so a
 * plan the server would refuse is said wrong before it is sent, with the same words; and the
 * Deployment view shaped for display (shares, latencies, the trail newest first). Unit-tested
 * in src/__tests__/canary.spec.ts.
 */
import type { IArm, ICanaryPlan, IDecision, IDeployment } from './api';
import { fmtNumber } from './format';

/** What the dialog's fields hold, as typed. */
export interface ICanaryForm {
  steps: string;
  metric: string;
  minLabels: string;
  guards: string;
  interval: string;
  effect: string;
}

export const DEFAULT_FORM: Readonly<ICanaryForm> = {
  steps: '2,5,10,25,50,100',
  metric: 'accuracy',
  minLabels: '200',
  guards: '',
  interval: '1h',
  effect: '0.02'
};

/** The metrics the sequential test decides on (sequential.METRICS). */
export const CANARY_METRICS = ['accuracy', 'mae', 'mse'] as const;

// The server's bounds (canary_spec.py, sequential.py).
const MAX_STEPS = 20;
const MIN_LABELS_FLOOR = 30;
const MIN_INTERVAL = 1;
const MAX_INTERVAL = 30 * 86400;
const GUARD = /^\s*(error_rate|p50|p99)\s*<\s*(\d+(?:\.\d+)?)\s*(%|ms|s)\s*$/;
const GUARD_HELP = 'write error_rate<1%, p50<20ms or p99<50ms';
const UNITS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 604800
};
const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/gi;
const DURATION_HELP =
  "use seconds or units ms, s, m, h, d, w, e.g. '90s', '30m', '2h', '1h30m', '2d'";
// What Python's float() reads: a decimal number, or a spelling of infinity or NaN.
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const NOT_FINITE = /^[+-]?(nan|inf|infinity)$/i;

/** ``text`` as Python's float() reads it, NaN for a non-finite spelling; null: not a number. */
export function pyFloat(text: string): number | null {
  const bare = text.trim();
  if (NOT_FINITE.test(bare)) {
    return NaN;
  }
  return FLOAT.test(bare) ? Number(bare) : null;
}

/** A string as Python's repr() quotes it (the server's messages quote what was typed so). */
function repr(text: string): string {
  return text.includes("'") && !text.includes('"') ? `"${text}"` : `'${text}'`;
}

/** Percents that increase within (0, 100] and end at 100; else the server's line. */
export function checkSteps(text: string): string | null {
  const parts = text.split(',');
  if (parts.length > MAX_STEPS) {
    return `--steps needs 1 to ${MAX_STEPS} percents, e.g. 2,5,10,25,50,100`;
  }
  let last: number | null = null;
  for (const part of parts) {
    const value = pyFloat(part.trim().replace(/%+$/, ''));
    if (value === null) {
      return `--steps: ${repr(part)} is not a percent, e.g. 2,5,10,25,50,100`;
    }
    if (!Number.isFinite(value) || value <= 0 || value > 100) {
      return `--steps: ${repr(part)} is outside (0, 100]`;
    }
    if (last !== null && value <= last) {
      return `--steps must increase: ${value} comes after ${last}`;
    }
    last = value;
  }
  if (last !== 100) {
    return `--steps must end at 100 (the candidate takes all traffic); got ${last}`;
  }
  return null;
}

/** One guardrail (`error_rate<1%`, `p99<50ms`); null when the server takes it. */
export function checkGuard(text: string): string | null {
  const found = GUARD.exec(text);
  const quoted = repr(text);
  if (!found) {
    return `--guard ${quoted} is not a guardrail; ${GUARD_HELP}`;
  }
  const [, kind, number, unit] = found;
  const value = Number(number);
  if (value <= 0) {
    return `--guard ${quoted}: the limit must be above 0`;
  }
  if (kind === 'error_rate') {
    return unit !== '%' || value > 100
      ? `--guard ${quoted}: an error rate is a percent up to 100%`
      : null;
  }
  return unit === '%'
    ? `--guard ${quoted}: a latency is in ms or s, e.g. p99<50ms`
    : null;
}

/** The guardrails typed in one field, separated by commas. */
export function splitGuards(text: string): string[] {
  return text
    .split(',')
    .map(g => g.trim())
    .filter(g => g !== '');
}

/** Seconds in a duration as the server reads it (`90s`, `30m`, `1h30m`, `2d`, or seconds). */
export function parseDuration(text: string): number | null {
  const bare = text.trim();
  const number = pyFloat(bare);
  if (number !== null) {
    return number;
  }
  const compact = bare.replace(/ /g, '');
  const parts = [...compact.matchAll(DURATION_PART)];
  const joined = parts.map(p => p[1] + p[2]).join('');
  if (!parts.length || joined.toLowerCase() !== compact.toLowerCase()) {
    return null;
  }
  return parts.reduce(
    (sum, p) => sum + Number(p[1]) * UNITS[p[2].toLowerCase()],
    0
  );
}

export function checkInterval(text: string): string | null {
  const seconds = parseDuration(text);
  if (seconds === null) {
    return `Invalid duration ${repr(text)}; ${DURATION_HELP}`;
  }
  if (!Number.isFinite(seconds) || seconds < 0) {
    return `Invalid duration ${repr(text)}: must be zero or more; ${DURATION_HELP}`;
  }
  if (seconds < MIN_INTERVAL || seconds > MAX_INTERVAL) {
    return `--interval ${repr(text)} must be between 1s and 30d, e.g. 1h`;
  }
  return null;
}

function checkMinLabels(text: string): string | null {
  const n = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || n < MIN_LABELS_FLOOR || n > 1e9) {
    return `--min-labels must be a whole number from ${MIN_LABELS_FLOOR} to 1000000000`;
  }
  return null;
}

function checkEffect(text: string): string | null {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(n) || n < 1e-6 || n > 1e6) {
    return '--effect must be a number from 0.000001 to 1000000, e.g. 0.02';
  }
  return null;
}

export type FormErrors = Partial<Record<keyof ICanaryForm, string>>;

/** The form's errors by field (empty: the server should take it). */
export function checkForm(form: ICanaryForm): FormErrors {
  const errors: FormErrors = {};
  const add = (field: keyof ICanaryForm, error: string | null) => {
    if (error) {
      errors[field] = error;
    }
  };
  add('steps', checkSteps(form.steps));
  add(
    'metric',
    (CANARY_METRICS as readonly string[]).includes(form.metric)
      ? null
      : `--metric must be one of ${CANARY_METRICS.join(', ')}`
  );
  add('minLabels', checkMinLabels(form.minLabels));
  add('guards', splitGuards(form.guards).map(checkGuard).find(Boolean) ?? null);
  add('interval', checkInterval(form.interval));
  add('effect', checkEffect(form.effect));
  return errors;
}

/** The body of `POST models/NAME/rollout` from a valid form. */
export function planOf(version: number, form: ICanaryForm): ICanaryPlan {
  return {
    version,
    steps: form.steps.trim(),
    metric: form.metric,
    min_labels: Number(form.minLabels.trim()),
    guards: splitGuards(form.guards),
    interval: form.interval.trim(),
    effect: Number(form.effect.trim())
  };
}

/** A share of traffic (a fraction) as a percent: 0.1 -> "10%", 0.025 -> "2.5%". */
export function fmtShare(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) {
    return '—';
  }
  return `${Number((share * 100).toPrecision(3))}%`;
}

/** Milliseconds, or a dash. */
export function fmtMs(ms: number | null): string {
  return ms === null ? '—' : `${fmtNumber(ms)} ms`;
}

/** An arm's metric with its always-valid interval: `0.91 [0.88, 0.94]`. */
export function fmtInterval(a: IArm): string {
  if (a.metric === null) {
    return '—';
  }
  const band =
    a.lower !== null && a.upper !== null
      ? ` [${fmtNumber(a.lower)}, ${fmtNumber(a.upper)}]`
      : '';
  return `${fmtNumber(a.metric)}${band}`;
}

/** The decisions, newest first. */
export function newestFirst(trail: readonly IDecision[]): IDecision[] {
  return [...trail].sort((a, b) => b.seq - a.seq);
}

/** The look of now: the difference candidate - blessed with its interval and the decision. */
export interface ILookNow {
  decision: string;
  reason: string;
  diff: number | null;
  lower: number | null;
  upper: number | null;
  breaches: string[];
}

const num = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : null;

export function lookNow(d: IDeployment): ILookNow | null {
  const x = d.difference;
  if (typeof x.decision !== 'string') {
    return null;
  }
  return {
    decision: x.decision,
    reason: typeof x.reason === 'string' ? x.reason : '',
    diff: num(x.diff),
    lower: num(x.lower),
    upper: num(x.upper),
    breaches: Array.isArray(x.breaches)
      ? x.breaches.filter((b): b is string => typeof b === 'string')
      : []
  };
}

/** The difference candidate - blessed, with its interval once it is finite. */
export function fmtDifference(look: ILookNow): string {
  if (look.diff === null) {
    return '—';
  }
  const band =
    look.lower !== null && look.upper !== null
      ? ` [${fmtNumber(look.lower)}, ${fmtNumber(look.upper)}]`
      : '';
  return `${fmtNumber(look.diff)}${band}`;
}

/** The plan in one line: `steps 2,5,…,100 · accuracy effect 0.02 · min 200 labels · p99<50ms`. */
export function describePlan(plan: Record<string, unknown>): string {
  const parts: string[] = [];
  if (Array.isArray(plan.steps)) {
    parts.push(`steps ${plan.steps.join(',')}%`);
  }
  if (typeof plan.metric === 'string') {
    parts.push(`${plan.metric} effect ${fmtNumber(plan.effect)}`);
  }
  if (typeof plan.min_labels === 'number') {
    parts.push(`min ${plan.min_labels} labels`);
  }
  if (Array.isArray(plan.guards) && plan.guards.length) {
    parts.push(plan.guards.join(' '));
  }
  return parts.join(' · ');
}

/** The share bar's two parts, candidate first, as percents that add up to 100. */
export function shareParts(
  d: IDeployment
): { arm: string; version: number | null; percent: number }[] {
  if (d.state !== 'running') {
    return [];
  }
  const candidate = Math.min(100, Math.max(0, d.share * 100));
  return [
    { arm: 'candidate', version: d.candidate, percent: candidate },
    { arm: 'blessed', version: d.baseline, percent: 100 - candidate }
  ];
}
