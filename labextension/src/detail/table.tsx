/**
 * A `table` artifact a framework cell logged (feature importance, a search's candidates, a
 * model's coefficients), from `GET runs/ID/table/NAME`: its top features by importance as
 * horizontal bars (with a picker when it has several importance columns: gain, weight…) and
 * its rows as a table. A file that is no such table says why in one line.
 */
import * as React from 'react';

import type { IArtifactTable, IImportance } from '../api';
import { BAR_CHART_PAD, BAR_HEIGHT, importanceOption } from '../charts/curves';
import { EChart } from '../charts/echart';
import { useChartTheme } from '../charts/theme';
import { ErrorLine, useLoad } from '../common';
import { fmtValue } from '../format';
import type { IPanelContext } from '../model';
import { headCaption } from './format';

/** Rows shown in the panel; the artifact's download has them all. */
export const TABLE_ROWS = 50;

function ImportanceChart(props: {
  imp: IImportance;
  onPick: (column: string) => void;
}): JSX.Element {
  const { imp } = props;
  const theme = useChartTheme();
  const option = React.useMemo(
    () => importanceOption(imp, theme),
    [imp, theme]
  );
  const more = imp.total > imp.features.length;
  return (
    <figure
      className="jp-mlops-chart jp-mlops-importance"
      data-kind="importance"
      data-column={imp.column}
      data-features={imp.features.join(' ')}
    >
      <div className="jp-mlops-chart-picks">
        {imp.columns.length > 1 ? (
          <label className="jp-mlops-chart-pick">
            importance{' '}
            <select
              className="jp-mlops-select"
              aria-label="importance"
              value={imp.column}
              onChange={e => props.onPick(e.target.value)}
            >
              {imp.columns.map(c => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <span>importance: {imp.column}</span>
        )}
        <span className="jp-mlops-muted">
          {more
            ? `top ${imp.features.length} of ${imp.total} features`
            : `${imp.total} features`}
        </span>
      </div>
      <EChart
        option={option}
        height={imp.features.length * BAR_HEIGHT + BAR_CHART_PAD}
        label={`${imp.feature_column} by ${imp.column}, largest first`}
      />
    </figure>
  );
}

function Rows(props: { table: IArtifactTable }): JSX.Element {
  const t = props.table;
  return (
    <div className="jp-mlops-preview-table">
      <div
        className="jp-mlops-preview-scroll"
        tabIndex={0}
        role="region"
        aria-label={`rows of ${t.name}`}
      >
        <table className="jp-mlops-table">
          <thead>
            <tr>
              {t.columns.map((c, i) => (
                <th key={i}>{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {t.rows.map((r, i) => (
              <tr key={i}>
                {r.map((v, j) => (
                  <td key={j}>{typeof v === 'string' ? v : fmtValue(v)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="jp-mlops-muted">
        {headCaption(t.rows.length, t.total_rows, t.truncated)}
      </div>
    </div>
  );
}

export function TableArtifact(props: {
  ctx: IPanelContext;
  runId: string;
  name: string;
}): JSX.Element {
  const { ctx, runId, name } = props;
  const [by, setBy] = React.useState<string | undefined>(undefined);
  const load = useLoad(
    () => ctx.api.artifactTable(runId, name, by, TABLE_ROWS),
    [runId, name, by]
  );
  if (load.error) {
    return <ErrorLine error={load.error} />;
  }
  if (!load.data) {
    return <div className="jp-mlops-muted">loading table…</div>;
  }
  const imp = load.data.importance;
  return (
    <div className="jp-mlops-table-artifact">
      {imp && <ImportanceChart imp={imp} onPick={setBy} />}
      <Rows table={load.data} />
    </div>
  );
}
