/** A small hand-made SVG line chart: one or more series of (step, value) on shared axes. */
import * as React from 'react';

import { fmtNumber } from './format';

export interface ISeries {
  label: string;
  points: { x: number; y: number }[];
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
}): JSX.Element {
  const width = props.width ?? 280;
  const height = props.height ?? 120;
  const pad = { l: 44, r: 8, t: 8, b: 18 };
  const all = props.series.flatMap(s => s.points).filter(p => Number.isFinite(p.y));
  if (all.length === 0) {
    return <div className="jp-mlops-muted">no values</div>;
  }
  const xs = all.map(p => p.x);
  const ys = all.map(p => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const sx = (x: number) =>
    pad.l + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const sy = (y: number) => pad.t + (1 - (y - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  return (
    <figure className="jp-mlops-chart" aria-label={props.title}>
      <svg width={width} height={height} role="img">
        <line className="jp-mlops-axis" x1={pad.l} x2={pad.l} y1={pad.t} y2={height - pad.b} />
        <line
          className="jp-mlops-axis"
          x1={pad.l}
          x2={width - pad.r}
          y1={height - pad.b}
          y2={height - pad.b}
        />
        <text className="jp-mlops-tick" x={pad.l - 4} y={pad.t + 8} textAnchor="end">
          {fmtNumber(y1)}
        </text>
        <text className="jp-mlops-tick" x={pad.l - 4} y={height - pad.b} textAnchor="end">
          {fmtNumber(y0)}
        </text>
        <text className="jp-mlops-tick" x={pad.l} y={height - 4}>
          {fmtNumber(x0)}
        </text>
        <text className="jp-mlops-tick" x={width - pad.r} y={height - 4} textAnchor="end">
          {fmtNumber(x1)}
        </text>
        {props.series.map((s, i) => {
          const pts = s.points.filter(p => Number.isFinite(p.y));
          const d = pts.map((p, j) => `${j ? 'L' : 'M'}${sx(p.x)},${sy(p.y)}`).join(' ');
          const color = COLORS[i % COLORS.length];
          return (
            <g key={s.label}>
              <path d={d} fill="none" stroke={color} strokeWidth={1.5}>
                <title>{s.label}</title>
              </path>
              {pts.map(p => (
                <circle key={p.x} cx={sx(p.x)} cy={sy(p.y)} r={2} fill={color}>
                  <title>{`${s.label} step ${p.x}: ${fmtNumber(p.y)}`}</title>
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
              <span className="jp-mlops-swatch" style={{ background: COLORS[i % COLORS.length] }} />
              {s.label}
            </span>
          ))}
        </figcaption>
      )}
    </figure>
  );
}
