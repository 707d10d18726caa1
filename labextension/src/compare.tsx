/** Compare two or more runs: params (differences highlighted), metric deltas, curves. */
import * as React from 'react';

import type { ICompare, IMetricSeries } from './api';
import { LineChart } from './chart';
import { ErrorLine, useLoad } from './common';
import { fmtDelta, fmtValue, shortId } from './format';
import type { IPanelContext, PanelModel } from './model';

function Curves(props: { ctx: IPanelContext; cmp: ICompare }) {
  const { ctx, cmp } = props;
  const keys = cmp.rows
    .filter(r => r.key.startsWith('metrics.'))
    .map(r => r.key.slice(8));
  const [key, setKey] = React.useState(keys[0] ?? '');
  const series = useLoad<(IMetricSeries | null)[]>(
    () =>
      Promise.all(
        cmp.runs.map(id => ctx.api.metric(id, key).catch(() => null))
      ),
    [cmp.runs.join(','), key]
  );
  if (keys.length === 0) {
    return null;
  }
  return (
    <div className="jp-mlops-curves">
      <label>
        metric{' '}
        <select
          className="jp-mlops-select"
          value={key}
          onChange={e => setKey(e.target.value)}
        >
          {keys.map(k => (
            <option key={k}>{k}</option>
          ))}
        </select>
      </label>
      <LineChart
        width={320}
        height={160}
        title={key}
        series={(series.data ?? [])
          .filter((s): s is IMetricSeries => s !== null)
          .map(s => ({
            label: shortId(s.run_id),
            points: s.steps.map(p => ({ x: p.step, y: p.value ?? NaN }))
          }))}
      />
    </div>
  );
}

export function CompareView(props: {
  ctx: IPanelContext;
  model: PanelModel;
}): JSX.Element {
  const { ctx, model } = props;
  const ids = model.compareIds;
  const cmp = useLoad(
    () => (ids.length >= 2 ? ctx.api.compare(ids) : Promise.resolve(null)),
    [ids.join(',')]
  );
  const [onlyDiff, setOnlyDiff] = React.useState(false);
  if (ids.length < 2) {
    return (
      <div className="jp-mlops-muted jp-mlops-pad">
        Select two or more runs in the Runs view and press Compare.
      </div>
    );
  }
  const data = cmp.data;
  const first = data?.columns[0];
  const rows = (data?.rows ?? []).filter(r => !onlyDiff || r.differs);
  return (
    <div className="jp-mlops-compare">
      <ErrorLine error={cmp.error} />
      {data && (
        <>
          <label className="jp-mlops-pad">
            <input
              type="checkbox"
              checked={onlyDiff}
              onChange={e => setOnlyDiff(e.target.checked)}
            />{' '}
            only differences
          </label>
          <div className="jp-mlops-table-wrap">
            <table className="jp-mlops-table jp-mlops-compare-table">
              <thead>
                <tr>
                  <th />
                  {data.columns.map((c, i) => (
                    <th key={c}>
                      <button
                        className="jp-mlops-link"
                        onClick={() => model.openRun(data.runs[i])}
                      >
                        {c}
                      </button>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map(r => {
                  const isMetric = r.key.startsWith('metrics.');
                  const base = first ? r.values[first] : null;
                  return (
                    <tr
                      key={r.key}
                      className={r.differs ? 'jp-mlops-differs' : ''}
                    >
                      <th>{r.key}</th>
                      {data.columns.map(c => {
                        const v = r.values[c];
                        const delta =
                          isMetric &&
                          c !== first &&
                          typeof v === 'number' &&
                          typeof base === 'number'
                            ? fmtDelta(base, v)
                            : '';
                        return (
                          <td key={c}>
                            {fmtValue(v)}
                            {delta && (
                              <span className="jp-mlops-delta"> ({delta})</span>
                            )}
                          </td>
                        );
                      })}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <Curves ctx={ctx} cmp={data} />
        </>
      )}
    </div>
  );
}
