/** The runs table: scope, filter (`where`), sorting, paging, live refresh, selection. */
import * as React from 'react';

import type { IRunRow, IRunsPage, IRunsQuery } from './api';
import {
  ErrorLine,
  GateChip,
  StatusChip,
  useInterval,
  useLoad
} from './common';
import { fmtDuration, fmtNumber, fmtTime, shortId } from './format';
import type { IPanelContext, PanelModel } from './model';

export type Scope = 'notebook' | 'experiment' | 'project';

const PAGE = 50;

interface IColumn {
  label: string;
  order?: string; // the order_by field, when sortable
  cell: (r: IRunRow) => React.ReactNode;
}

/** The `max` metric keys most rows have (ties by name), sorted by name. */
export function metricKeys(rows: IRunRow[], max: number): string[] {
  const count = new Map<string, number>();
  for (const r of rows) {
    for (const k of Object.keys(r.metrics)) {
      count.set(k, (count.get(k) ?? 0) + 1);
    }
  }
  return [...count.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, max)
    .map(([k]) => k)
    .sort();
}

function columns(metrics: string[]): IColumn[] {
  return [
    {
      label: 'status',
      order: 'status',
      cell: r => <StatusChip status={r.status} />
    },
    {
      label: 'run',
      order: 'name',
      cell: r => (
        <span title={r.id}>
          {r.name ?? <code>{shortId(r.id)}</code>}
          {r.kind === 'pipeline' && (
            <span className="jp-mlops-kind"> pipeline</span>
          )}
        </span>
      )
    },
    { label: 'experiment', order: 'experiment', cell: r => r.experiment },
    { label: 'started', order: 'started', cell: r => fmtTime(r.started) },
    {
      label: 'duration',
      order: 'duration',
      cell: r => fmtDuration(r.duration)
    },
    { label: 'gates', cell: r => <GateChip gates={r.gates} /> },
    {
      label: 'model',
      cell: r =>
        r.model ? (
          <span
            className={`jp-mlops-model-${r.model_stage ?? ''}`}
            title={r.model_stage ?? ''}
          >
            {r.model}
          </span>
        ) : (
          <span className="jp-mlops-muted">—</span>
        )
    },
    ...metrics.map(k => ({
      label: k,
      order: `metrics.${k}`,
      cell: (r: IRunRow) => fmtNumber(r.metrics[k])
    }))
  ];
}

export function RunsView(props: {
  ctx: IPanelContext;
  model: PanelModel;
}): JSX.Element {
  const { ctx, model } = props;
  const [scope, setScope] = React.useState<Scope>('project');
  const [experiment, setExperiment] = React.useState<string>('');
  const [draft, setDraft] = React.useState('');
  const [where, setWhere] = React.useState('');
  const [order, setOrder] = React.useState('-started');
  const [offset, setOffset] = React.useState(0);
  const [rowDraft, setRowDraft] = React.useState('');
  const [selected, setSelected] = React.useState<string[]>([]);
  const notebook = scope === 'notebook' ? ctx.currentNotebook() : null;

  const experiments = useLoad(() => ctx.api.experiments(), []);
  const query: IRunsQuery = {
    where: where || undefined,
    order_by: order,
    limit: PAGE,
    offset,
    experiment: scope === 'experiment' && experiment ? experiment : undefined,
    notebook: scope === 'notebook' ? (notebook ?? undefined) : undefined
  };
  const noNotebook = scope === 'notebook' && !notebook;
  const page = useLoad<IRunsPage>(
    () =>
      noNotebook
        ? Promise.resolve({
            runs: [],
            offset: 0,
            limit: PAGE,
            has_more: false,
            next_cursor: null,
            tags: {},
            columns: {
              metrics: [],
              params: [],
              tags: [],
              all_metrics: [],
              all_params: [],
              all_tags: []
            }
          })
        : ctx.api.runs(query),
    [JSON.stringify(query), noNotebook]
  );
  const rows = page.data?.runs ?? [];
  const running = rows.some(r => r.status === 'running');
  useInterval(page.reload, model.settings.refreshInterval, running);

  const maxMetrics = model.settings.metricColumns;
  const metrics = React.useMemo(
    () => metricKeys(rows, maxMetrics),
    [rows, maxMetrics]
  );
  const cols = columns(metrics);

  const sortBy = (field: string) => {
    setOrder(order === `-${field}` ? field : `-${field}`);
    setOffset(0);
  };
  const toggle = (id: string) =>
    setSelected(s => (s.includes(id) ? s.filter(x => x !== id) : [...s, id]));
  const goToRow = () => {
    const n = parseInt(rowDraft, 10);
    if (Number.isFinite(n) && n >= 1) {
      setOffset(Math.floor((n - 1) / PAGE) * PAGE);
    }
  };

  return (
    <div className="jp-mlops-runs">
      <div className="jp-mlops-toolbar" role="toolbar">
        <div className="jp-mlops-scope" role="radiogroup" aria-label="Scope">
          {(['notebook', 'experiment', 'project'] as Scope[]).map(s => (
            <button
              key={s}
              role="radio"
              aria-checked={scope === s}
              className={`jp-mlops-button ${scope === s ? 'jp-mod-active' : ''}`}
              onClick={() => {
                setScope(s);
                setOffset(0);
              }}
            >
              {s}
            </button>
          ))}
        </div>
        {scope === 'experiment' && (
          <select
            className="jp-mlops-select"
            aria-label="Experiment"
            value={experiment}
            onChange={e => {
              setExperiment(e.target.value);
              setOffset(0);
            }}
          >
            <option value="">all experiments</option>
            {(experiments.data?.experiments ?? []).map(x => (
              <option key={x} value={x}>
                {x}
              </option>
            ))}
          </select>
        )}
        {scope === 'notebook' && (
          <span className="jp-mlops-muted">
            {notebook ?? 'no notebook in focus'}
          </span>
        )}
      </div>
      <form
        className="jp-mlops-filter"
        onSubmit={e => {
          e.preventDefault();
          setWhere(draft.trim());
          setOffset(0);
        }}
      >
        <input
          className="jp-mlops-input"
          aria-label="Filter runs"
          placeholder={'filter: metrics.acc > 0.9 and params.solver == "saga"'}
          value={draft}
          onChange={e => setDraft(e.target.value)}
        />
        <button type="submit" className="jp-mlops-button">
          Filter
        </button>
      </form>
      <ErrorLine error={page.error} />
      <div className="jp-mlops-selection">
        <button
          className="jp-mlops-button"
          disabled={selected.length < 2}
          onClick={() => model.compare(selected)}
        >
          Compare ({selected.length})
        </button>
        {selected.length > 0 && (
          <button className="jp-mlops-button" onClick={() => setSelected([])}>
            Clear
          </button>
        )}
        {running && <span className="jp-mlops-live">● live</span>}
      </div>
      <div className="jp-mlops-table-wrap">
        <table className="jp-mlops-table jp-mlops-runs-table">
          <thead>
            <tr>
              <th aria-label="select" />
              {cols.map(c => (
                <th
                  key={c.label}
                  aria-sort={
                    c.order && order.replace('-', '') === c.order
                      ? order.startsWith('-')
                        ? 'descending'
                        : 'ascending'
                      : undefined
                  }
                >
                  {c.order ? (
                    <button
                      className="jp-mlops-sort"
                      onClick={() => sortBy(c.order!)}
                    >
                      {c.label}
                      {order === `-${c.order}`
                        ? ' ▼'
                        : order === c.order
                          ? ' ▲'
                          : ''}
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map(r => (
              <tr
                key={r.id}
                className="jp-mlops-run-row"
                data-run-id={r.id}
                tabIndex={0}
                onClick={() => model.openRun(r.id)}
                onKeyDown={e => {
                  if (e.key === 'Enter') {
                    model.openRun(r.id);
                  }
                }}
              >
                <td onClick={e => e.stopPropagation()}>
                  <input
                    type="checkbox"
                    aria-label={`select ${shortId(r.id)}`}
                    checked={selected.includes(r.id)}
                    onChange={() => toggle(r.id)}
                  />
                </td>
                {cols.map(c => (
                  <td key={c.label}>{c.cell(r)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {page.data && rows.length === 0 && (
          <div className="jp-mlops-muted">No runs match.</div>
        )}
      </div>
      <div className="jp-mlops-pager">
        <button
          className="jp-mlops-button"
          disabled={offset === 0}
          onClick={() => setOffset(Math.max(0, offset - PAGE))}
        >
          ‹ Prev
        </button>
        <span className="jp-mlops-range">
          {rows.length ? `rows ${offset + 1}–${offset + rows.length}` : ''}
        </span>
        <button
          className="jp-mlops-button"
          disabled={!page.data?.has_more}
          onClick={() => setOffset(offset + PAGE)}
        >
          Next ›
        </button>
        <form
          onSubmit={e => {
            e.preventDefault();
            goToRow();
          }}
        >
          <input
            className="jp-mlops-input jp-mlops-row-input"
            aria-label="Go to row"
            placeholder="row"
            value={rowDraft}
            onChange={e => setRowDraft(e.target.value)}
          />
        </form>
      </div>
    </div>
  );
}
