/** Compare two or more runs: charts (src/charts/compare_charts.tsx), then params (differences
 * highlighted) and metric deltas. */
import * as React from 'react';

import { CompareCharts } from './charts/compare_charts';
import { ErrorLine, useLoad } from './common';
import { fmtDelta, fmtValue } from './format';
import type { IPanelContext, PanelModel } from './model';

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
          <CompareCharts ctx={ctx} cmp={data} />
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
        </>
      )}
    </div>
  );
}
