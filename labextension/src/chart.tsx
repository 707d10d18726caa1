/**
 * A line chart (ECharts, src/charts/): one or more curves of (x, value) on shared axes that
 * follow the panel's width and theme, with hover values, a log-scale toggle and zoom (the
 * mouse wheel or a pinch; "reset zoom" undoes it), and optional dashed threshold lines and
 * breach markers (monitoring). The container exposes what it shows as data attributes
 * (`data-y-scale`, `data-zoom`, `data-thresholds`, `data-breaches`, `data-x-range`) for tests.
 */
import * as React from 'react';

import { EChart } from './charts/echart';
import { lineOption, logAllowed } from './charts/options';
import type { ISeries } from './charts/options';
import { useChartTheme } from './charts/theme';

export type { ISeries } from './charts/options';

/** Above this many points a chart draws on a canvas: SVG slows down with thousands of nodes. */
const SVG_POINTS = 2000;

/** What identifies a chart's data cheaply: each series' label, length and last point. */
export function seriesKey(series: ISeries[]): string {
  return series
    .map(s => {
      const last = s.points[s.points.length - 1];
      return `${s.label}:${s.points.length}:${last?.x}:${last?.y}`;
    })
    .join('|');
}

export function LineChart(props: {
  series: ISeries[];
  /** Ignored: the chart takes its container's width. */
  width?: number;
  height?: number;
  title?: string;
  /** Horizontal lines, e.g. a monitor's limits; they widen the y range to stay visible. */
  thresholds?: number[];
  /** How x values are written on the axis and in tooltips (default: numbers, as steps). */
  formatX?: (x: number) => string;
  xName?: string;
}): JSX.Element {
  const theme = useChartTheme();
  const [log, setLog] = React.useState(false);
  const [zoom, setZoom] = React.useState<[number, number]>([0, 100]);
  const [resetKey, setResetKey] = React.useState(0);
  const values = props.series.flatMap(s => s.points.map(p => p.y));
  const canLog = logAllowed(values);
  const useLog = log && canLog;
  const thresholds = (props.thresholds ?? []).filter(Number.isFinite);
  const option = React.useMemo(
    () =>
      lineOption(props.series, {
        theme,
        log: useLog,
        thresholds,
        formatX: props.formatX,
        xName: props.xName
      }),
    // By content, not identity: a parent re-rendering the same points (a running run's
    // detail polls) must not redraw the chart and lose its zoom.
    [
      seriesKey(props.series),
      theme,
      useLog,
      thresholds.join(' '),
      props.formatX
    ]
  );
  if (!values.some(Number.isFinite)) {
    return <div className="jp-mlops-muted">no values</div>;
  }
  const zoomed = zoom[0] > 0 || zoom[1] < 100;
  const xs = props.series.flatMap(s => s.points.map(p => p.x));
  // Not Math.min(...xs): spreading 100k arguments overflows the stack.
  const xRange = `${xs.reduce((a, b) => Math.min(a, b))} ${xs.reduce((a, b) => Math.max(a, b))}`;
  const renderer = xs.length > SVG_POINTS ? 'canvas' : 'svg';
  const breaches = props.series.reduce(
    (n, s) => n + s.points.filter(p => p.breach).length,
    0
  );
  return (
    <figure
      className="jp-mlops-chart"
      data-y-scale={useLog ? 'log' : 'linear'}
      data-zoom={`${Math.round(zoom[0])}-${Math.round(zoom[1])}`}
      data-thresholds={thresholds.join(' ')}
      data-breaches={breaches}
      data-x-range={xRange}
    >
      <div className="jp-mlops-chart-tools">
        <label title={canLog ? '' : 'a log scale needs values above 0'}>
          <input
            type="checkbox"
            className="jp-mlops-log-toggle"
            checked={useLog}
            disabled={!canLog}
            onChange={e => setLog(e.target.checked)}
          />{' '}
          log scale
        </label>
        {zoomed && (
          <button
            className="jp-mlops-link jp-mlops-zoom-reset"
            onClick={() => {
              setZoom([0, 100]);
              setResetKey(k => k + 1);
            }}
          >
            reset zoom
          </button>
        )}
      </div>
      <EChart
        option={option}
        height={props.height ?? 160}
        resetKey={resetKey}
        key={renderer}
        renderer={renderer}
        label={props.title ?? 'chart'}
        onZoom={(start, end) => setZoom([start, end])}
      />
    </figure>
  );
}
