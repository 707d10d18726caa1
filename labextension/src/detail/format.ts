/** What the run detail writes about gates and artifacts, as pure functions (tested by vitest). */
import type { IGateLine } from '../api';
import { fmtValue } from '../format';

/** Bytes in SI units, as file managers and the server (`format_size`) write them. */
export function fmtSize(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) {
    return '—';
  }
  if (bytes < 1000) {
    return `${Math.round(bytes)} B`;
  }
  let value = bytes;
  for (const unit of ['kB', 'MB', 'GB', 'TB']) {
    value /= 1000;
    if (value < 999.5 || unit === 'TB') {
      return `${Number(value.toPrecision(3))} ${unit}`;
    }
  }
  return `${bytes} B`;
}

export type GateOutcome = 'passed' | 'warned' | 'failed' | null | undefined;

/**
 * The header's chip: the run's status, and what its gates said when they failed or warned,
 * so a run whose gates failed never reads as a plain (green) "finished".
 */
export function headerChip(
  status: string,
  outcome: GateOutcome
): { label: string; className: string } {
  if (outcome === 'failed') {
    return {
      label: `${status} · gates failed`,
      className: 'jp-mlops-gate-fail'
    };
  }
  if (outcome === 'warned') {
    return {
      label: `${status} · gates warned`,
      className: 'jp-mlops-gate-warn'
    };
  }
  return { label: status, className: `jp-mlops-status-${status}` };
}

const ORDER: Record<string, number> = { fail: 0, warn: 1, pass: 2, skip: 3 };

/** Failed gates first, then warned, passed and skipped (the server sends them so already). */
export function sortGates(gates: readonly IGateLine[]): IGateLine[] {
  return [...gates].sort(
    (a, b) => (ORDER[a.status] ?? 4) - (ORDER[b.status] ?? 4)
  );
}

/** A gate's observed value for people: the server's text, else the raw value. */
export function observedText(g: IGateLine): string {
  if (g.observed_text) {
    return g.observed_text;
  }
  return g.observed === null || g.observed === undefined
    ? '—'
    : fmtValue(g.observed);
}

/** "first 10 of 5,000 rows", "first 10 rows", or "" when everything is shown. */
export function headCaption(
  shown: number,
  total: number | null | undefined,
  truncated: boolean
): string {
  if (!truncated) {
    return '';
  }
  if (total !== null && total !== undefined) {
    return `first ${shown} of ${total.toLocaleString('en-US')} rows`;
  }
  return `first ${shown} rows`;
}
