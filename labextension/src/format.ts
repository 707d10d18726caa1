/** Small formatting helpers shared by the panel's views. */
import type { Value } from './api';

export function shortId(id: string | null | undefined): string {
  return id ? id.slice(0, 8) : '';
}

export function fmtNumber(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    return v === null || v === undefined ? '—' : String(v);
  }
  if (Number.isInteger(v)) {
    return String(v);
  }
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5)
    ? v.toExponential(3)
    : v.toPrecision(4).replace(/\.?0+$/, '');
}

export function fmtValue(v: Value | unknown): string {
  if (v === null || v === undefined) {
    return '—';
  }
  if (typeof v === 'number') {
    return fmtNumber(v);
  }
  if (typeof v === 'object') {
    return JSON.stringify(v);
  }
  return String(v);
}

export function fmtDuration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) {
    return '—';
  }
  if (s < 1) {
    return `${Math.round(s * 1000)} ms`;
  }
  if (s < 120) {
    return `${s.toFixed(1)} s`;
  }
  if (s < 7200) {
    return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  }
  return `${(s / 3600).toFixed(1)} h`;
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) {
    return '—';
  }
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) {
    return iso;
  }
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit'
  });
}

// As jupyter_mlops/display.py: a key naming a moment holding epoch seconds (a tag such as
// reproduced_at) reads as a time; a number outside 1973-2286 is a duration, not a moment.
const TIME_KEY =
  /(?:^|[_.-])(?:at|time|timestamp|created|updated|started|ended)$/;

/** ``v`` as a time when ``key`` names one and it holds epoch seconds, else as ``fmtValue``. */
export function fmtKeyed(key: string, v: Value | unknown): string {
  const seconds = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (
    TIME_KEY.test(key.toLowerCase()) &&
    typeof seconds === 'number' &&
    seconds >= 1e8 &&
    seconds <= 1e10
  ) {
    return fmtTime(new Date(seconds * 1000).toISOString());
  }
  return fmtValue(v);
}

export function fmtDelta(oldV: number | null, newV: number | null): string {
  if (oldV === null || newV === null) {
    return '';
  }
  const d = newV - oldV;
  if (d === 0) {
    return '±0';
  }
  return `${d > 0 ? '+' : ''}${fmtNumber(d)}`;
}

const UNITS: [number, string][] = [
  [60, 's'],
  [60, 'min'],
  [24, 'h'],
  [30, 'd'],
  [12, 'mo']
];

/**
 * `iso` against `now` (ms since the epoch, injected so tests do not read the clock) in the
 * grid's compact form: "just now", "3 min ago", "2 h ago", "5 d ago", "1 y ago"; a time ahead
 * of the clock (another machine's) reads "in 3 min".
 */
export function fmtRelative(
  iso: string | null | undefined,
  now: number
): string {
  if (!iso) {
    return '—';
  }
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) {
    return iso;
  }
  let n = Math.round(Math.abs(now - t) / 1000);
  if (n < 10) {
    return 'just now';
  }
  let unit = 'y';
  for (const [size, name] of UNITS) {
    if (n < size) {
      unit = name;
      break;
    }
    n = Math.floor(n / size);
  }
  return t > now ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

// One formatter for every title: toLocaleString with options builds a new one per call, which
// costs a page of 50 rows a few milliseconds on each render.
let fullTimeFormat: Intl.DateTimeFormat | null = null;

/** The full time for a title: date and time in the viewer's zone, with the zone. */
export function fmtFullTime(iso: string | null | undefined): string {
  if (!iso) {
    return '';
  }
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) {
    return iso;
  }
  fullTimeFormat ??= new Intl.DateTimeFormat(undefined, {
    dateStyle: 'medium',
    timeStyle: 'long'
  });
  return fullTimeFormat.format(d);
}

/** How a numeric column prints: `digits` decimals, or exponent notation for all its cells. */
export interface INumberFormat {
  digits: number;
  exponent: boolean;
}

/**
 * One format for every number of a column, so its decimals line up: integers stay integers;
 * otherwise four significant digits of the column's largest magnitude (0.6434, 12.35, 1234.6),
 * and exponent notation when that magnitude is below 1e-3 or from 1e6 up.
 */
export function columnFormat(values: unknown[]): INumberFormat {
  const nums = values.filter(
    (v): v is number => typeof v === 'number' && Number.isFinite(v)
  );
  if (nums.every(v => Number.isInteger(v))) {
    return { digits: 0, exponent: nums.some(v => Math.abs(v) >= 1e15) };
  }
  const top = Math.max(...nums.map(v => Math.abs(v)));
  if (top < 1e-3 || top >= 1e6) {
    return { digits: 3, exponent: true };
  }
  const digits = 3 - Math.floor(Math.log10(top));
  return { digits: Math.min(6, Math.max(1, digits)), exponent: false };
}

/** `v` printed with its column's format; anything not a finite number as `fmtValue`. */
export function fmtColumnNumber(v: unknown, f: INumberFormat): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    return fmtValue(v);
  }
  return f.exponent ? v.toExponential(f.digits) : v.toFixed(f.digits);
}
