/**
 * ECharts options for the panel's charts, built from plain values and the theme's colours:
 * curves (run detail, compare, monitoring), bars of scalar metrics, a param-against-metric
 * scatter and parallel coordinates. Pure functions, unit-tested in src/__tests__.
 */
import { fmtNumber } from '../format';
import type { IChartTheme } from './theme';

export interface IPoint {
  x: number;
  y: number;
  breach?: boolean;
}

export interface ISeries {
  label: string;
  points: IPoint[];
}

// Loose on purpose: ECharts' own option types are a deep union; the tests check the shape.

export type Option = Record<string, any>;

/** x, y interleaved in one typed array: ECharts draws 100k points from it in ~60 ms where
 * [x, y] pairs take 300 ms (benchmarks/bench_charts.py). A missing value is NaN (a gap). */
export function flatPoints(points: IPoint[]): Float64Array {
  const flat = new Float64Array(points.length * 2);
  points.forEach((p, i) => {
    flat[2 * i] = p.x;
    flat[2 * i + 1] = Number.isFinite(p.y) ? p.y : NaN;
  });
  return flat;
}

/** Whether a log scale can show these values: every finite one above 0, and one at least. */
export function logAllowed(values: number[]): boolean {
  const finite = values.filter(Number.isFinite);
  return finite.length > 0 && finite.every(v => v > 0);
}

/** The y range to show: the values and the thresholds, with air so that a threshold at the
 * data's edge stays clear of the axis; null: let the chart choose (no thresholds). */
export function yRange(
  values: number[],
  thresholds: number[]
): [number, number] | null {
  const all = [...values, ...thresholds].filter(Number.isFinite);
  if (thresholds.length === 0 || all.length === 0) {
    return null;
  }
  let [lo, hi] = [
    all.reduce((a, b) => Math.min(a, b)),
    all.reduce((a, b) => Math.max(a, b))
  ];
  if (lo === hi) {
    [lo, hi] = [lo - 0.5, hi + 0.5];
  }
  const air = (hi - lo) * 0.08;
  return [lo - air, hi + air];
}

function base(theme: IChartTheme): Option {
  return {
    animation: false,
    color: theme.palette,
    textStyle: { color: theme.text, fontFamily: theme.font, fontSize: 11 },
    tooltip: {
      className: 'jp-mlops-chart-tooltip',
      backgroundColor: theme.background,
      borderColor: theme.axis,
      textStyle: { color: theme.text },
      confine: true,
      valueFormatter: (v: unknown) => fmtNumber(v)
    }
  };
}

function axis(theme: IChartTheme, extra: Option): Option {
  return {
    axisLine: { lineStyle: { color: theme.axis } },
    axisTick: { lineStyle: { color: theme.axis } },
    axisLabel: { color: theme.text, hideOverlap: true },
    splitLine: { lineStyle: { color: theme.grid } },
    nameTextStyle: { color: theme.text },
    ...extra
  };
}

function legend(theme: IChartTheme, show: boolean): Option {
  return {
    show,
    type: 'scroll',
    bottom: 0,
    textStyle: { color: theme.text },
    pageTextStyle: { color: theme.text },
    pageIconColor: theme.text
  };
}

export interface ILineOptions {
  theme: IChartTheme;
  log?: boolean;
  thresholds?: number[];
  formatX?: (x: number) => string;
  xName?: string;
}

/** Curves on shared axes, with dashed threshold lines and breach markers (monitoring). */
export function lineOption(series: ISeries[], o: ILineOptions): Option {
  const { theme } = o;
  const thresholds = (o.thresholds ?? []).filter(Number.isFinite);
  const values = series.flatMap(s => s.points.map(p => p.y));
  const range = o.log ? null : yRange(values, thresholds);
  const fx = o.formatX ?? ((x: number) => fmtNumber(x));
  const many = series.length > 1;
  const lines = series.map((s, i) => ({
    type: 'line',
    name: s.label,
    showSymbol: s.points.length < 50,
    symbolSize: 4,
    sampling: 'lttb',
    dimensions: ['x', 'y'],
    data: flatPoints(s.points),
    ...(i === 0 && thresholds.length ? thresholdLines(thresholds, theme) : {})
  }));
  return {
    ...base(theme),
    grid: {
      left: 8,
      right: 12,
      top: 14,
      bottom: many ? 44 : 24,
      containLabel: true
    },
    tooltip: { ...base(theme).tooltip, trigger: 'axis' },
    legend: legend(theme, many),
    dataZoom: [{ type: 'inside', filterMode: 'none' }],
    xAxis: axis(theme, {
      type: 'value',
      min: 'dataMin',
      max: 'dataMax',
      name: o.xName,
      axisLabel: { color: theme.text, hideOverlap: true, formatter: fx },
      axisPointer: {
        label: { formatter: (p: { value: number }) => fx(p.value) }
      }
    }),
    yAxis: axis(theme, {
      type: o.log ? 'log' : 'value',
      scale: true,
      ...(range ? { min: range[0], max: range[1] } : {}),
      axisLabel: { color: theme.text, formatter: (v: number) => fmtNumber(v) }
    }),
    series: [...lines, ...breachMarkers(series, theme)]
  };
}

/** Dashed horizontal lines at a monitor's limits. */
function thresholdLines(thresholds: number[], theme: IChartTheme): Option {
  return {
    markLine: {
      silent: true,
      symbol: 'none',
      lineStyle: { type: 'dashed', color: theme.threshold, width: 1.5 },
      label: { color: theme.text, formatter: 'threshold {c}' },
      data: thresholds.map(t => ({ yAxis: t }))
    }
  };
}

/** A marker on each breaching point, a scatter series per curve that has one. */
function breachMarkers(series: ISeries[], theme: IChartTheme): Option[] {
  return series
    .map(s => ({ s, pts: s.points.filter(p => p.breach) }))
    .filter(b => b.pts.length)
    .map(b => ({
      type: 'scatter',
      name: `${b.s.label}: breach`,
      symbolSize: 9,
      itemStyle: { color: theme.breach },
      z: 5,
      data: b.pts.map(p => [p.x, p.y])
    }));
}

/** One bar per run of a scalar metric, labelled by run name. */
export function barOption(
  names: string[],
  values: (number | null)[],
  o: { theme: IChartTheme; log?: boolean; metric: string }
): Option {
  const { theme } = o;
  return {
    ...base(theme),
    grid: { left: 8, right: 12, top: 14, bottom: 8, containLabel: true },
    tooltip: { ...base(theme).tooltip, trigger: 'axis' },
    xAxis: axis(theme, {
      type: 'category',
      data: names,
      axisLabel: {
        color: theme.text,
        interval: 0,
        rotate: names.length > 3 ? 30 : 0
      }
    }),
    yAxis: axis(theme, { type: o.log ? 'log' : 'value', scale: !!o.log }),
    series: [
      {
        type: 'bar',
        name: o.metric,
        data: values.map(v => (v === null || !Number.isFinite(v) ? '-' : v)),
        colorBy: 'data',
        label: {
          show: true,
          position: 'top',
          color: theme.text,
          formatter: (p: { value: unknown }) => fmtNumber(p.value)
        }
      }
    ]
  };
}

/** A param (x) against a metric (y), one named point per run. */
export function scatterOption(
  points: { name: string; x: number; y: number }[],
  o: { theme: IChartTheme; xName: string; yName: string; log?: boolean }
): Option {
  const { theme } = o;
  return {
    ...base(theme),
    grid: { left: 8, right: 24, top: 20, bottom: 24, containLabel: true },
    tooltip: {
      ...base(theme).tooltip,
      trigger: 'item',
      formatter: (p: { data: { name: string; value: number[] } }) =>
        `${p.data.name}<br/>${o.xName}: ${fmtNumber(p.data.value[0])}<br/>` +
        `${o.yName}: ${fmtNumber(p.data.value[1])}`
    },
    xAxis: axis(theme, {
      type: o.log ? 'log' : 'value',
      scale: true,
      name: o.xName,
      nameLocation: 'middle',
      nameGap: 22
    }),
    yAxis: axis(theme, { type: 'value', scale: true, name: o.yName }),
    series: [
      {
        type: 'scatter',
        symbolSize: 9,
        data: points.map(p => ({ name: p.name, value: [p.x, p.y] })),
        label: {
          show: true,
          position: 'right',
          color: theme.text,
          formatter: (p: { name: string }) => p.name
        }
      }
    ]
  };
}

/** Parallel coordinates: one axis per param or metric, one line per run (a sweep). */
export function parallelOption(
  axes: { name: string; values: (number | null)[] }[],
  names: string[],
  theme: IChartTheme
): Option {
  const lineAxis = {
    axisLine: { lineStyle: { color: theme.axis } },
    axisTick: { lineStyle: { color: theme.axis } },
    axisLabel: { color: theme.text },
    nameTextStyle: { color: theme.text },
    nameRotate: 0
  };
  return {
    ...base(theme),
    tooltip: {
      ...base(theme).tooltip,
      trigger: 'item',
      valueFormatter: undefined
    },
    legend: legend(theme, true),
    parallel: {
      left: 24,
      right: 40,
      top: 30,
      bottom: 40,
      parallelAxisDefault: { ...lineAxis, type: 'value', scale: true }
    },
    parallelAxis: axes.map((a, dim) => ({ dim, name: a.name })),
    series: names.map((name, run) => ({
      type: 'parallel',
      name,
      lineStyle: { width: 2, opacity: 0.9 },
      data: [axes.map(a => a.values[run] ?? '-')]
    }))
  };
}
