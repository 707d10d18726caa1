/**
 * Monitoring's chart: one series (a monitor's drift share, a column's statistic, or a
 * performance metric) over time, with its threshold lines and breach markers.
 */
import * as React from 'react';

import type { IMonitorSeries } from '../api';
import { LineChart } from '../chart';
import { ErrorLine, useLoad } from '../common';
import type { IPanelContext } from '../model';

/** Epoch seconds as the month and day of a chart's axis (UTC). */
export function fmtDay(t: number): string {
  return new Date(t * 1000).toISOString().slice(5, 10);
}

/** The series as the line chart takes it: x in epoch seconds, breaches marked. */
export function monitorLines(s: IMonitorSeries) {
  return s.series.map(line => ({
    label: line.label,
    points: line.points.map(p => ({
      x: Date.parse(p.time) / 1000,
      y: p.value ?? NaN,
      breach: p.breach
    }))
  }));
}

/** The chart of one series (drift share, a column's statistic, or a metric) over time. */
export function SeriesChart(props: {
  ctx: IPanelContext;
  name: string;
  kind: 'drift' | 'performance';
  what?: string;
}): JSX.Element {
  const { ctx, name, kind, what } = props;
  const data = useLoad<IMonitorSeries>(
    () => ctx.api.monitorSeries(name, kind, what),
    [name, kind, what]
  );
  const s = data.data;
  const lines = React.useMemo(() => (s ? monitorLines(s) : []), [s]);
  return (
    <div
      className="jp-mlops-monitor-chart"
      data-kind={kind}
      data-what={what ?? ''}
    >
      <ErrorLine error={data.error} />
      {s && (
        <>
          <div className="jp-mlops-chart-title">
            {s.label}
            {s.breach_when === 'below' ? ' (drifts below the threshold)' : ''}
          </div>
          <LineChart
            title={`${name}: ${s.label}`}
            height={160}
            thresholds={s.thresholds}
            formatX={fmtDay}
            series={lines}
          />
        </>
      )}
    </div>
  );
}
