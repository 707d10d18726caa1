/**
 * A small hand-made SVG line chart: one or more series of (x, value) on shared axes, with
 * optional dashed threshold lines and red breach markers (the monitoring plots' look).
 */
import * as React from 'react';

import { fmtNumber } from './format';

export interface ISeries {
  label: string;
  points: { x: number; y: number; breach?: boolean }[];
}

const COLORS = [
  'var(--jp-brand-color1)',
  'var(--jp-warn-color1)',
  'var(--jp-success-color1)',
  'var(--jp-error-color1)',
  'var(--jp-accent-color1)',
  'var(--jp-brand-color3)'
];

export function LineChart(props: {
  series: ISeries[];
  width?: number;
  height?: number;
  title?: string;
  /** Horizontal lines, e.g. a monitor's limits; they widen the y range to stay visible. */
  thresholds?: number[];
  /** How x values are written on the axis and in tooltips (default: numbers, as steps). */
  formatX?: (x: number) => string;
}): JSX.Element {
  const width = props.width ?? 280;
  const height = props.height ?? 120;
  const pad = { l: 44, r: 8, t: 8, b: 18 };
  const all = props.series
    .flatMap(s => s.points)
    .filter(p => Number.isFinite(p.y));
  if (all.length === 0) {
    return <div className="jp-mlops-muted">no values</div>;
  }
  const thresholds = (props.thresholds ?? []).filter(t => Number.isFinite(t));
  const fx = props.formatX ?? fmtNumber;
  const xs = all.map(p => p.x);
  const ys = [...all.map(p => p.y), ...thresholds];
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  if (thresholds.length) {
    // A little air, so that a threshold at the data's edge stays clear of the axis.
    const air = (y1 - y0) * 0.08;
    y0 -= air;
    y1 += air;
  }
  const sx = (x: number) =>
    pad.l + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const sy = (y: number) =>
    pad.t + (1 - (y - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  return (
    <figure className="jp-mlops-chart" aria-label={props.title}>
      <svg width={width} height={height} role="img">
        <line
          className="jp-mlops-axis"
          x1={pad.l}
          x2={pad.l}
          y1={pad.t}
          y2={height - pad.b}
        />
        <line
          className="jp-mlops-axis"
          x1={pad.l}
          x2={width - pad.r}
          y1={height - pad.b}
          y2={height - pad.b}
        />
        <text
          className="jp-mlops-tick"
          x={pad.l - 4}
          y={pad.t + 8}
          textAnchor="end"
        >
          {fmtNumber(y1)}
        </text>
        <text
          className="jp-mlops-tick"
          x={pad.l - 4}
          y={height - pad.b}
          textAnchor="end"
        >
          {fmtNumber(y0)}
        </text>
        <text className="jp-mlops-tick" x={pad.l} y={height - 4}>
          {fx(x0)}
        </text>
        <text
          className="jp-mlops-tick"
          x={width - pad.r}
          y={height - 4}
          textAnchor="end"
        >
          {fx(x1)}
        </text>
        {thresholds.map(t => (
          <line
            key={`t${t}`}
            className="jp-mlops-threshold"
            data-threshold={t}
            x1={pad.l}
            x2={width - pad.r}
            y1={sy(t)}
            y2={sy(t)}
          >
            <title>{`threshold ${fmtNumber(t)}`}</title>
          </line>
        ))}
        {props.series.map((s, i) => {
          const pts = s.points.filter(p => Number.isFinite(p.y));
          const d = pts
            .map((p, j) => `${j ? 'L' : 'M'}${sx(p.x)},${sy(p.y)}`)
            .join(' ');
          const color = COLORS[i % COLORS.length];
          return (
            <g key={s.label}>
              <path d={d} fill="none" stroke={color} strokeWidth={1.5}>
                <title>{s.label}</title>
              </path>
              {pts.map(p => (
                <circle key={p.x} cx={sx(p.x)} cy={sy(p.y)} r={2} fill={color}>
                  <title>{`${s.label} ${props.formatX ? fx(p.x) : `step ${p.x}`}: ${fmtNumber(p.y)}`}</title>
                </circle>
              ))}
              {pts
                .filter(p => p.breach)
                .map(p => (
                  <circle
                    key={`b${p.x}`}
                    className="jp-mlops-breach-marker"
                    cx={sx(p.x)}
                    cy={sy(p.y)}
                    r={4}
                  >
                    <title>{`breach: ${s.label} ${fx(p.x)}: ${fmtNumber(p.y)}`}</title>
                  </circle>
                ))}
            </g>
          );
        })}
      </svg>
      {props.series.length > 1 && (
        <figcaption className="jp-mlops-legend">
          {props.series.map((s, i) => (
            <span key={s.label}>
              <span
                className="jp-mlops-swatch"
                style={{ background: COLORS[i % COLORS.length] }}
              />
              {s.label}
            </span>
          ))}
        </figcaption>
      )}
    </figure>
  );
}
