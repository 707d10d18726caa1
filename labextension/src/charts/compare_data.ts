/**
 * What compare charts: which metrics are curves (stepped) or scalars, which params are
 * numbers, the charts that fit the runs (curves, bars, scatter, parallel coordinates) and
 * the values of a row in the runs' order. Pure functions over the compare view.
 */
import type { ICompare, ICurveOverlay } from '../api';

export type ChartKind = 'curves' | 'bars' | 'scatter' | 'parallel';

export const CHART_TITLES: Record<ChartKind, string> = {
  curves: 'metric curves',
  bars: 'metric by run (bars)',
  scatter: 'param against metric',
  parallel: 'parallel coordinates'
};

/** A row's values in the runs' order; a value that is no finite number is null. */
export function rowValues(cmp: ICompare, key: string): (number | null)[] {
  const row = cmp.rows.find(r => r.key === key);
  return cmp.columns.map(c => {
    const v = row?.values[c];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  });
}

/** The metric keys (without `metrics.`), curves first, then the scalar ones. */
export function metricKeys(cmp: ICompare): {
  stepped: string[];
  scalar: string[];
} {
  const all = cmp.rows
    .filter(r => r.key.startsWith('metrics.'))
    .map(r => r.key.slice(8));
  return {
    stepped: all.filter(k => cmp.stepped.includes(k)),
    scalar: all.filter(k => !cmp.stepped.includes(k))
  };
}

/** Params that are numbers in every run that has them (differing ones first). */
export function numericParams(cmp: ICompare): string[] {
  return cmp.rows
    .filter(r => r.key.startsWith('params.'))
    .filter(r => {
      const vs = Object.values(r.values).filter(v => v !== null);
      return vs.length > 0 && vs.every(v => typeof v === 'number');
    })
    .sort((a, b) => Number(b.differs) - Number(a.differs))
    .map(r => r.key.slice(7));
}

/** The axes of parallel coordinates: differing numeric params, then metrics (8 at most). */
export function parallelAxes(cmp: ICompare): string[] {
  const params = cmp.rows
    .filter(r => r.differs && numericParams(cmp).includes(r.key.slice(7)))
    .map(r => r.key)
    .slice(0, 5);
  const { stepped, scalar } = metricKeys(cmp);
  const metrics = [...scalar, ...stepped].map(k => `metrics.${k}`);
  return [...params, ...metrics].slice(0, 8);
}

/** The charts these runs allow, the default first: a curve when one exists. */
export function chartKinds(cmp: ICompare): ChartKind[] {
  const { stepped, scalar } = metricKeys(cmp);
  const kinds: ChartKind[] = [];
  if (stepped.length) {
    kinds.push('curves');
  }
  if (stepped.length + scalar.length) {
    kinds.push('bars');
    if (numericParams(cmp).length) {
      kinds.push('scatter');
    }
  }
  if (cmp.runs.length >= 3 && parallelAxes(cmp).length >= 2) {
    kinds.push('parallel');
  }
  return kinds;
}

/** What an overlay leaves out, in words: runs past the first five, runs without the curve. */
export function overlayNote(cmp: ICompare, overlay: ICurveOverlay): string {
  const name = (id: string) =>
    cmp.names[cmp.runs.indexOf(id)] ?? id.slice(0, 8);
  const parts: string[] = [];
  if (overlay.omitted.length) {
    const shown = cmp.runs.length - overlay.omitted.length;
    parts.push(
      `${cmp.runs.length} runs: the first ${shown} are charted (not ${overlay.omitted
        .map(name)
        .join(', ')})`
    );
  }
  if (overlay.missing.length) {
    parts.push(
      `no ${overlay.key} curve in ${overlay.missing.map(name).join(', ')}`
    );
  }
  return parts.join('; ');
}
