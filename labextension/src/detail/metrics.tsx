/** Charts of the run's stepped metrics (a metric logged at more than one step). */
import * as React from 'react';

import type { IMetricSeries, IRunDetail } from '../api';
import { LineChart } from '../chart';
import { useLoad } from '../common';
import type { IPanelContext } from '../model';

export function SteppedMetrics(props: { ctx: IPanelContext; run: IRunDetail }) {
  const { ctx, run } = props;
  const keys = Object.keys(run.metrics);
  const series = useLoad<IMetricSeries[]>(
    () => Promise.all(keys.map(k => ctx.api.metric(run.id, k))),
    [run.id, keys.join(',')]
  );
  const stepped = (series.data ?? []).filter(s => s.steps.length > 1);
  if (stepped.length === 0) {
    return null;
  }
  return (
    <div className="jp-mlops-charts">
      {stepped.map(s => (
        <div key={s.key}>
          <div className="jp-mlops-chart-title">{s.key}</div>
          <LineChart
            title={s.key}
            series={[
              {
                label: s.key,
                points: s.steps.map(p => ({ x: p.step, y: p.value ?? NaN }))
              }
            ]}
          />
        </div>
      ))}
    </div>
  );
}
