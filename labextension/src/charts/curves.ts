/**
 * What the panel draws of the server's curves (`GET runs/ID/curves`, `GET compare/curves`):
 * each curve as a line-chart series, what a chart says when it shows fewer points than the
 * run logged, and a horizontal bar chart of the top features by importance. Pure functions.
 */
import type { ICurve, IImportance } from '../api';
import { fmtNumber } from '../format';
import type { ISeries, Option } from './options';
import type { IChartTheme } from './theme';

/** Points per curve asked of the server: more than a sidebar chart has pixels across. */
export const CURVE_POINTS = 600;

/** Curves as series: `label` names each line, a null value is a gap (NaN). */
export function curveSeries(curves: readonly ICurve[]): ISeries[] {
  return curves.map(c => ({
    label: c.label,
    points: c.steps.map((x, i) => ({ x, y: c.values[i] ?? NaN }))
  }));
}

/** '' when every point is drawn; else how many of how many, e.g. "600 of 10,000 points
 * shown (min and max per bucket; the last point exact)". */
export function downsampleNote(curves: readonly ICurve[]): string {
  const down = curves.filter(c => c.downsampled);
  if (down.length === 0) {
    return '';
  }
  const shown = Math.max(...down.map(c => c.steps.length));
  const total = Math.max(...down.map(c => c.total));
  return (
    `${shown.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} points ` +
    'shown (min and max per bucket; the last point exact)'
  );
}

/** Pixels per bar of the importance chart, and around them. */
export const BAR_HEIGHT = 16;
export const BAR_CHART_PAD = 40;

/** Top features as horizontal bars, the largest on top, labelled by feature name. */
export function importanceOption(imp: IImportance, theme: IChartTheme): Option {
  return {
    animation: false,
    color: theme.palette,
    textStyle: { color: theme.text, fontFamily: theme.font, fontSize: 11 },
    tooltip: {
      className: 'jp-mlops-chart-tooltip',
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      backgroundColor: theme.background,
      borderColor: theme.axis,
      textStyle: { color: theme.text },
      confine: true,
      valueFormatter: (v: unknown) => fmtNumber(v)
    },
    grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
    xAxis: {
      type: 'value',
      axisLine: { lineStyle: { color: theme.axis } },
      axisLabel: {
        color: theme.text,
        hideOverlap: true,
        formatter: (v: number) => fmtNumber(v)
      },
      splitLine: { lineStyle: { color: theme.grid } }
    },
    yAxis: {
      type: 'category',
      inverse: true,
      data: [...imp.features],
      axisLine: { lineStyle: { color: theme.axis } },
      axisTick: { show: false },
      // A long feature name is cut, not the bars: the panel may be 250 px wide.
      axisLabel: {
        color: theme.text,
        interval: 0,
        width: 96,
        overflow: 'truncate'
      }
    },
    series: [
      {
        type: 'bar',
        name: imp.column,
        data: [...imp.values],
        barMaxWidth: BAR_HEIGHT - 4,
        itemStyle: { color: theme.palette[0] }
      }
    ]
  };
}
