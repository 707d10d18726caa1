import { describe, expect, it } from 'vitest';

import type { ICompare } from '../api';
import { seriesKey } from '../chart';
import { monitorLines } from '../charts/monitor';
import {
  chartKinds,
  metricKeys,
  numericParams,
  parallelAxes,
  rowValues
} from '../charts/compare_data';
import {
  barOption,
  flatPoints,
  lineOption,
  logAllowed,
  parallelOption,
  scatterOption,
  yRange
} from '../charts/options';
import { chartTheme } from '../charts/theme';

const VARS: Record<string, string> = {
  '--jp-brand-color1': ' #1976d2',
  '--jp-warn-color1': '#f57c00',
  '--jp-ui-font-color1': 'rgba(255, 255, 255, 1)',
  '--jp-border-color1': '#616161',
  '--jp-error-color1': '#d32f2f'
};
const theme = chartTheme(name => VARS[name] ?? '');

function compare(runs: number, stepped: string[] = ['loss']): ICompare {
  const columns = Array.from({ length: runs }, (_, i) => `r${i}`);
  const byRun = (f: (i: number) => unknown) =>
    Object.fromEntries(columns.map((c, i) => [c, f(i)]));
  return {
    runs: columns.map(c => `${c}-id`),
    columns,
    names: columns.map((_, i) => `try-${i}`),
    stepped,
    inputs_changed: {},
    rows: [
      { key: 'params.C', differs: true, values: byRun(i => 10 ** i) },
      { key: 'params.solver', differs: false, values: byRun(() => 'lbfgs') },
      { key: 'params.seed', differs: false, values: byRun(() => 1) },
      { key: 'metrics.acc', differs: true, values: byRun(i => 0.5 + i / 10) },
      { key: 'metrics.loss', differs: true, values: byRun(i => 1 / (i + 1)) }
    ]
  };
}

describe('theme', () => {
  it('takes its colours from the theme variables, trimmed, with fallbacks', () => {
    expect(theme.palette[0]).toBe('#1976d2');
    expect(theme.text).toBe('rgba(255, 255, 255, 1)');
    expect(theme.breach).toBe('#d32f2f');
    // Unset variables fall back to the text colour, never to a literal of light themes.
    expect(theme.palette[2]).toBe(theme.text);
  });
});

describe('line option', () => {
  const series = [
    {
      label: 'drift',
      points: [
        { x: 1, y: 0.1 },
        { x: 2, y: NaN },
        { x: 3, y: 0.4, breach: true }
      ]
    }
  ];

  it('interleaves x and y in a typed array, NaN for a gap', () => {
    const flat = flatPoints(series[0].points);
    expect(flat).toBeInstanceOf(Float64Array);
    expect(Array.from(flat.slice(0, 2))).toEqual([1, 0.1]);
    expect(Number.isNaN(flat[3])).toBe(true);
  });

  it('draws thresholds as dashed lines, breaches as markers, in theme colours', () => {
    const o = lineOption(series, { theme, thresholds: [0.8] });
    expect(o.series[0].markLine.data).toEqual([{ yAxis: 0.8 }]);
    expect(o.series[0].markLine.lineStyle.type).toBe('dashed');
    expect(o.series[1].type).toBe('scatter');
    expect(o.series[1].data).toEqual([[3, 0.4]]);
    expect(o.series[1].itemStyle.color).toBe(theme.breach);
    // The threshold above the data stays inside the y range.
    expect(o.yAxis.max).toBeGreaterThan(0.8);
    expect(o.yAxis.min).toBeLessThan(0.1);
    expect(o.xAxis.axisLabel.color).toBe(theme.text);
    expect(o.dataZoom[0].type).toBe('inside');
    expect(o.tooltip.trigger).toBe('axis');
  });

  it('switches to a log axis only when every value is above 0', () => {
    expect(lineOption(series, { theme, log: true }).yAxis.type).toBe('log');
    expect(lineOption(series, { theme }).yAxis.type).toBe('value');
    expect(logAllowed([0.1, NaN, 2])).toBe(true);
    expect(logAllowed([0, 1])).toBe(false);
    expect(logAllowed([NaN])).toBe(false);
  });

  it('leaves the range to the chart without thresholds, widens a flat one', () => {
    expect(yRange([1, 2], [])).toBeNull();
    const [lo, hi] = yRange([1, 1], [1])!;
    expect(lo).toBeLessThan(0.5);
    expect(hi).toBeGreaterThan(1.5);
  });

  it('shows a legend for several curves only', () => {
    expect(lineOption(series, { theme }).legend.show).toBe(false);
    expect(
      lineOption([...series, { ...series[0], label: 'b' }], { theme }).legend
        .show
    ).toBe(true);
  });
});

describe('compare charts', () => {
  it('splits metrics into curves and scalars', () => {
    expect(metricKeys(compare(2))).toEqual({
      stepped: ['loss'],
      scalar: ['acc']
    });
  });

  it('defaults to curves when a metric is stepped, else to bars', () => {
    expect(chartKinds(compare(2))).toEqual(['curves', 'bars', 'scatter']);
    expect(chartKinds(compare(2, []))[0]).toBe('bars');
    expect(chartKinds(compare(3))).toContain('parallel');
  });

  it('keeps numeric params, differing first; parallel axes are params then metrics', () => {
    expect(numericParams(compare(3))).toEqual(['C', 'seed']);
    expect(parallelAxes(compare(3))).toEqual([
      'params.C',
      'metrics.acc',
      'metrics.loss'
    ]);
  });

  it('builds bars, scatter and parallel coordinates labelled by run name', () => {
    const cmp = compare(3);
    const bars = barOption([...cmp.names], rowValues(cmp, 'metrics.acc'), {
      theme,
      metric: 'acc'
    });
    expect(bars.xAxis.data).toEqual(['try-0', 'try-1', 'try-2']);
    expect(bars.series[0].data).toEqual([0.5, 0.6, 0.7]);
    const scatter = scatterOption([{ name: 'try-0', x: 1, y: 0.5 }], {
      theme,
      xName: 'C',
      yName: 'acc'
    });
    expect(scatter.series[0].data).toEqual([
      { name: 'try-0', value: [1, 0.5] }
    ]);
    const par = parallelOption(
      [
        { name: 'C', values: rowValues(cmp, 'params.C') },
        { name: 'acc', values: [0.5, null, 0.7] }
      ],
      [...cmp.names],
      theme
    );
    expect(par.parallelAxis.map((a: { name: string }) => a.name)).toEqual([
      'C',
      'acc'
    ]);
    expect(par.series.map((s: { name: string }) => s.name)).toEqual(cmp.names);
    expect(par.series[1].data).toEqual([[10, '-']]);
  });
});

describe('monitor lines', () => {
  it('puts times in epoch seconds and keeps breaches', () => {
    const lines = monitorLines({
      label: 'drift share',
      breach_when: 'above',
      thresholds: [0.3],
      series: [
        {
          label: 'share',
          points: [{ time: '2026-01-02T00:00:00Z', value: null, breach: true }]
        }
      ]
    } as never);
    expect(lines[0].points[0].x).toBe(Date.UTC(2026, 0, 2) / 1000);
    expect(Number.isNaN(lines[0].points[0].y)).toBe(true);
    expect(lines[0].points[0].breach).toBe(true);
  });
});

describe('series key', () => {
  it('changes with the data, not with a copy of the same points', () => {
    const a = [{ label: 'loss', points: [{ x: 1, y: 0.5 }] }];
    const copy = [{ label: 'loss', points: [{ x: 1, y: 0.5 }] }];
    expect(seriesKey(copy)).toBe(seriesKey(a));
    expect(seriesKey([{ label: 'loss', points: [{ x: 1, y: 0.4 }] }])).not.toBe(
      seriesKey(a)
    );
    expect(seriesKey([{ label: 'loss', points: [] }])).not.toBe(seriesKey(a));
  });
});
