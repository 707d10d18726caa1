/**
 * Charts of every stepped metric of the run (a metric logged at more than one step), one
 * chart per metric with a line per eval set (`validation_0-logloss` beside
 * `validation_1-logloss`, `loss` beside `val_loss`). A few metrics are drawn side by side;
 * more are listed in a picker, one chart at a time. Long curves come downsampled from the
 * server (`GET runs/ID/curves`) and the chart says so.
 */
import * as React from 'react';

import type { ICurveGroup, IRunCurves, IRunDetail } from '../api';
import { LineChart } from '../chart';
import { CURVE_POINTS, curveSeries, downsampleNote } from '../charts/curves';
import { ErrorLine, useLoad } from '../common';
import type { IPanelContext } from '../model';

/** Up to this many metrics are drawn at once; more get a picker. */
export const SMALL_MULTIPLES = 4;

function GroupChart(props: { group: ICurveGroup }): JSX.Element {
  const { group } = props;
  const series = React.useMemo(() => curveSeries(group.curves), [group]);
  const note = downsampleNote(group.curves);
  return (
    <div className="jp-mlops-curve-group" data-group={group.name}>
      <div className="jp-mlops-chart-title">{group.name}</div>
      <LineChart title={group.name} series={series} />
      {note && (
        <div className="jp-mlops-muted jp-mlops-downsampled">{note}</div>
      )}
    </div>
  );
}

export function CurveGroups(props: { curves: IRunCurves }): JSX.Element | null {
  const groups = props.curves.groups;
  const [picked, setPicked] = React.useState('');
  if (groups.length === 0) {
    return null;
  }
  if (groups.length <= SMALL_MULTIPLES) {
    return (
      <div className="jp-mlops-charts">
        {groups.map(g => (
          <GroupChart key={g.name} group={g} />
        ))}
      </div>
    );
  }
  const group = groups.find(g => g.name === picked) ?? groups[0];
  return (
    <div className="jp-mlops-charts">
      <div className="jp-mlops-chart-picks">
        <label className="jp-mlops-chart-pick">
          metric{' '}
          <select
            className="jp-mlops-select jp-mlops-curve-pick"
            aria-label="metric"
            value={group.name}
            onChange={e => setPicked(e.target.value)}
          >
            {groups.map(g => (
              <option key={g.name} value={g.name}>
                {g.name} ({g.curves.length})
              </option>
            ))}
          </select>
        </label>
        <span className="jp-mlops-muted">{groups.length} metrics</span>
      </div>
      <GroupChart key={group.name} group={group} />
    </div>
  );
}

export function SteppedMetrics(props: { ctx: IPanelContext; run: IRunDetail }) {
  const { ctx, run } = props;
  // A running run's curves grow: its metrics' latest values change, and they reload.
  const latest = JSON.stringify(run.metrics);
  const curves = useLoad<IRunCurves>(
    () => ctx.api.runCurves(run.id, CURVE_POINTS),
    [run.id, latest]
  );
  if (curves.error) {
    return <ErrorLine error={curves.error} />;
  }
  return curves.data ? <CurveGroups curves={curves.data} /> : null;
}
