/**
 * A canary's evidence as a chart: one row per arm (candidate, blessed), its metric on labels
 * as a point and its always-valid confidence interval as a band around it. Built from the
 * chart kinds engine.ts already loads (a thick line per band, a scatter for the points), so
 * no chart kind is added for it. Pure, unit-tested in src/__tests__/canary.spec.ts.
 */
import type { IArm } from '../api';
import { fmtNumber } from '../format';
import type { Option } from './options';
import type { IChartTheme } from './theme';

/** The arms with a metric, in the order the chart lists them (candidate on top). */
export function bandRows(arms: readonly IArm[]): IArm[] {
  const order = (a: IArm) => (a.arm === 'candidate' ? 0 : 1);
  return arms
    .filter(a => a.metric !== null)
    .sort((a, b) => order(b) - order(a));
}

export function armName(a: IArm): string {
  return `${a.arm} v${a.version}`;
}

/** The metric with its interval per arm, on a value axis shared by the arms. */
export function bandOption(
  arms: readonly IArm[],
  metric: string,
  theme: IChartTheme
): Option {
  const rows = bandRows(arms);
  const names = rows.map(armName);
  const colour = (a: IArm) => theme.palette[a.arm === 'candidate' ? 0 : 2];
  const bands = rows
    .filter(a => a.lower !== null && a.upper !== null)
    .map(a => ({
      type: 'line',
      name: `${armName(a)} interval`,
      silent: true,
      symbol: 'none',
      lineStyle: { width: 10, opacity: 0.35, color: colour(a), cap: 'butt' },
      data: [
        [a.lower, armName(a)],
        [a.upper, armName(a)]
      ]
    }));
  return {
    animation: false,
    color: theme.palette,
    textStyle: { color: theme.text, fontFamily: theme.font, fontSize: 11 },
    tooltip: {
      trigger: 'item',
      className: 'jp-mlops-chart-tooltip',
      backgroundColor: theme.background,
      borderColor: theme.axis,
      textStyle: { color: theme.text },
      confine: true
    },
    grid: { left: 8, right: 16, top: 8, bottom: 24, containLabel: true },
    xAxis: {
      type: 'value',
      scale: true,
      name: metric,
      nameLocation: 'middle',
      nameGap: 20,
      nameTextStyle: { color: theme.text },
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
      data: names,
      axisLine: { lineStyle: { color: theme.axis } },
      axisLabel: { color: theme.text }
    },
    series: [
      ...bands,
      {
        type: 'scatter',
        name: metric,
        symbolSize: 10,
        z: 5,
        data: rows.map(a => ({
          value: [a.metric, armName(a)],
          itemStyle: { color: colour(a) },
          lower: a.lower,
          upper: a.upper
        })),
        tooltip: {
          formatter: (p: {
            data: { value: [number, string]; lower: number; upper: number };
          }) =>
            `${p.data.value[1]}: ${metric} ${fmtNumber(p.data.value[0])}` +
            (p.data.lower === null
              ? ''
              : ` [${fmtNumber(p.data.lower)}, ${fmtNumber(p.data.upper)}]`)
        }
      }
    ]
  };
}
