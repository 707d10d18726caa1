/**
 * The runs view: scope, search, status and gate filters, the `where` filter, the column
 * chooser, the grid (src/grid/table.tsx), paging, live refresh and selection for compare.
 */
import * as React from 'react';

import { RUN_STATUSES, type IRunsPage } from './api';
import { ErrorLine, useInterval, useLoad } from './common';
import { ColumnChooser } from './grid/chooser';
import {
  type IChoiceStorage,
  type IColumnChoice,
  loadChoice,
  saveChoice,
  shownColumns
} from './grid/choice';
import {
  DEFAULT_FILTERS,
  GATE_FILTERS,
  type IGridFilters,
  PAGE,
  type Scope,
  columnsKey,
  nextOrder,
  toQuery
} from './grid/query';
import { RunsGrid } from './grid/table';
import type { IPanelContext, PanelModel } from './model';

export type { Scope } from './grid/query';

const SEARCH_DELAY_MS = 300;
const CLOCK_TICK_MS = 30_000; // how often relative times ("3 min ago") move on

const EMPTY_PAGE: IRunsPage = {
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
};

function browserStorage(): IChoiceStorage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export function RunsView(props: {
  ctx: IPanelContext;
  model: PanelModel;
  /** The clock (ms since the epoch) for relative times; tests pass a fixed one. */
  clock?: () => number;
  /** Where column picks are saved; the browser's localStorage by default. */
  storage?: IChoiceStorage | null;
}): JSX.Element {
  const { ctx, model } = props;
  const clock = props.clock ?? Date.now;
  const storage = React.useMemo(
    () => (props.storage !== undefined ? props.storage : browserStorage()),
    [props.storage]
  );
  const [filters, setFilters] = React.useState<IGridFilters>(DEFAULT_FILTERS);
  const [selected, setSelected] = React.useState<string[]>([]);
  const [tick, setTick] = React.useState(0);
  const update = (change: Partial<IGridFilters>) =>
    setFilters(f => ({ ...f, offset: 0, ...change }));

  const notebook = filters.scope === 'notebook' ? ctx.currentNotebook() : null;
  const current = { ...filters, notebook };
  const query = toQuery(current);
  const noNotebook = filters.scope === 'notebook' && !notebook;
  const experiments = useLoad(() => ctx.api.experiments(), []);
  const page = useLoad<IRunsPage>(
    () => (noNotebook ? Promise.resolve(EMPTY_PAGE) : ctx.api.runs(query)),
    [JSON.stringify(query), noNotebook]
  );
  const data = page.data ?? EMPTY_PAGE;
  const rows = data.runs;
  const running = rows.some(r => r.status === 'running');
  useInterval(page.reload, model.settings.refreshInterval, running);
  useInterval(() => setTick(t => t + 1), CLOCK_TICK_MS, true);
  // Read with each page and each tick, in the same render: no second render per page.
  const now = React.useMemo(() => clock(), [page.data, tick]);

  const key = columnsKey(
    current,
    rows.map(r => r.experiment)
  );
  const [version, setVersion] = React.useState(0);
  const saved = React.useMemo(() => loadChoice(storage, key), [key, version]);
  const metricColumns = model.settings.metricColumns;
  const shown = React.useMemo(
    () => shownColumns(data.columns, saved, metricColumns),
    [data.columns, saved, metricColumns]
  );
  const choose = (choice: IColumnChoice | null) => {
    saveChoice(storage, key, choice);
    setVersion(v => v + 1);
  };
  const toggle = (ids: string[], on: boolean) =>
    setSelected(s =>
      on
        ? [...s, ...ids.filter(id => !s.includes(id))]
        : s.filter(x => !ids.includes(x))
    );

  return (
    <div className="jp-mlops-runs">
      <ScopeBar
        filters={filters}
        notebook={notebook}
        experiments={experiments.data?.experiments ?? []}
        update={update}
      />
      <GridFilters filters={filters} update={update} />
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
        <ColumnChooser
          columns={data.columns}
          shown={shown}
          custom={saved !== null}
          onChange={choose}
        />
        {running && <span className="jp-mlops-live">● live</span>}
      </div>
      <div className="jp-mlops-table-wrap jp-mlops-grid-wrap">
        <RunsGrid
          rows={rows}
          tags={data.tags}
          shown={shown}
          order={filters.order}
          onSort={field => update({ order: nextOrder(filters.order, field) })}
          selected={selected}
          onToggle={toggle}
          onOpen={id => model.openRun(id)}
          now={now}
        />
        {page.data && rows.length === 0 && (
          <div className="jp-mlops-muted">No runs match.</div>
        )}
      </div>
      <Pager
        offset={filters.offset}
        count={rows.length}
        hasMore={Boolean(page.data?.has_more)}
        go={offset => setFilters(f => ({ ...f, offset }))}
      />
    </div>
  );
}

function ScopeBar(props: {
  filters: IGridFilters;
  notebook: string | null;
  experiments: string[];
  update: (change: Partial<IGridFilters>) => void;
}): JSX.Element {
  const { filters, notebook, experiments, update } = props;
  return (
    <div className="jp-mlops-toolbar" role="toolbar">
      <div className="jp-mlops-scope" role="radiogroup" aria-label="Scope">
        {(['notebook', 'experiment', 'project'] as Scope[]).map(s => (
          <button
            key={s}
            role="radio"
            aria-checked={filters.scope === s}
            className={`jp-mlops-button ${filters.scope === s ? 'jp-mod-active' : ''}`}
            onClick={() => update({ scope: s })}
          >
            {s}
          </button>
        ))}
      </div>
      {filters.scope === 'experiment' && (
        <ChoiceSelect
          label="Experiment"
          value={filters.experiment}
          any="all experiments"
          choices={experiments}
          onChange={experiment => update({ experiment })}
        />
      )}
      {filters.scope === 'notebook' && (
        <span className="jp-mlops-muted">
          {notebook ?? 'no notebook in focus'}
        </span>
      )}
    </div>
  );
}

function GridFilters(props: {
  filters: IGridFilters;
  update: (change: Partial<IGridFilters>) => void;
}): JSX.Element {
  const { filters, update } = props;
  const [search, setSearch] = React.useState(filters.search);
  const [where, setWhere] = React.useState(filters.where);
  React.useEffect(() => {
    if (search === filters.search) {
      return;
    }
    const t = window.setTimeout(() => update({ search }), SEARCH_DELAY_MS);
    return () => window.clearTimeout(t);
  }, [search]);
  return (
    <>
      <div className="jp-mlops-grid-filters">
        <input
          type="search"
          className="jp-mlops-input jp-mlops-search"
          aria-label="Search runs"
          placeholder="search name, experiment, tags"
          value={search}
          onChange={e => setSearch(e.target.value)}
          onKeyDown={e => e.key === 'Enter' && update({ search })}
        />
        <ChoiceSelect
          label="Status filter"
          value={filters.status}
          any="any status"
          choices={RUN_STATUSES}
          onChange={status => update({ status })}
        />
        <ChoiceSelect
          label="Gate filter"
          value={filters.gate}
          any="any gates"
          choices={GATE_FILTERS}
          text={g => (g === 'none' ? 'no gates' : `gates ${g}`)}
          onChange={gate => update({ gate: gate as IGridFilters['gate'] })}
        />
      </div>
      <form
        className="jp-mlops-filter"
        onSubmit={e => {
          e.preventDefault();
          update({ where: where.trim() });
        }}
      >
        <input
          className="jp-mlops-input"
          aria-label="Filter runs"
          placeholder={'filter: metrics.acc > 0.9 and params.solver == "saga"'}
          value={where}
          onChange={e => setWhere(e.target.value)}
        />
        <button type="submit" className="jp-mlops-button">
          Filter
        </button>
      </form>
    </>
  );
}

/** A labelled select of `choices`, with an empty "any" first (no filter). */
function ChoiceSelect(props: {
  label: string;
  value: string;
  any: string;
  choices: readonly string[];
  text?: (choice: string) => string;
  onChange: (value: string) => void;
}): JSX.Element {
  const { text = (c: string) => c } = props;
  return (
    <select
      className="jp-mlops-select"
      aria-label={props.label}
      value={props.value}
      onChange={e => props.onChange(e.target.value)}
    >
      <option value="">{props.any}</option>
      {props.choices.map(c => (
        <option key={c} value={c}>
          {text(c)}
        </option>
      ))}
    </select>
  );
}

function Pager(props: {
  offset: number;
  count: number;
  hasMore: boolean;
  go: (offset: number) => void;
}): JSX.Element {
  const { offset, count, hasMore, go } = props;
  const [row, setRow] = React.useState('');
  const goToRow = () => {
    const n = parseInt(row, 10);
    if (Number.isFinite(n) && n >= 1) {
      go(Math.floor((n - 1) / PAGE) * PAGE);
    }
  };
  return (
    <div className="jp-mlops-pager">
      <button
        className="jp-mlops-button"
        disabled={offset === 0}
        onClick={() => go(Math.max(0, offset - PAGE))}
      >
        ‹ Prev
      </button>
      <span className="jp-mlops-range">
        {count ? `rows ${offset + 1}–${offset + count}` : ''}
      </span>
      <button
        className="jp-mlops-button"
        disabled={!hasMore}
        onClick={() => go(offset + PAGE)}
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
          value={row}
          onChange={e => setRow(e.target.value)}
        />
      </form>
    </div>
  );
}
