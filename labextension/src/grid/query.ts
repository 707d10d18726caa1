/** What the runs grid's controls ask of `GET runs`: one pure function from their state. */
import type { IRunsQuery } from '../api';

export type Scope = 'notebook' | 'experiment' | 'project';

/** The gate filter's values, as `RunsQuery.gate` takes them ("none": no gate ran). */
export const GATE_FILTERS = ['passed', 'failed', 'warned', 'none'] as const;
export type GateFilter = (typeof GATE_FILTERS)[number];

export const PAGE = 50;

/** The state of the grid's toolbar; '' means "no filter". */
export interface IGridFilters {
  scope: Scope;
  experiment: string;
  /** The notebook in focus (notebook scope), or null when there is none. */
  notebook: string | null;
  search: string;
  status: string;
  gate: GateFilter | '';
  where: string;
  order: string;
  offset: number;
}

export const DEFAULT_FILTERS: Readonly<IGridFilters> = {
  scope: 'project',
  experiment: '',
  notebook: null,
  search: '',
  status: '',
  gate: '',
  where: '',
  order: '-started',
  offset: 0
};

/** The query for the grid's state; absent keys for unused filters, so URLs stay short. */
export function toQuery(f: IGridFilters, limit: number = PAGE): IRunsQuery {
  const q: IRunsQuery = { order_by: f.order, limit, offset: f.offset };
  const set = (key: keyof IRunsQuery, value: string) => {
    if (value.trim()) {
      (q as Record<string, unknown>)[key] = value.trim();
    }
  };
  set('q', f.search);
  set('status', f.status);
  set('gate', f.gate);
  set('where', f.where);
  if (f.scope === 'experiment') {
    set('experiment', f.experiment);
  }
  if (f.scope === 'notebook' && f.notebook) {
    q.notebook = f.notebook;
  }
  return q;
}

/** The experiment whose saved columns apply: the scope's own, or one the page shares. */
export function columnsKey(f: IGridFilters, experiments: string[]): string {
  if (f.scope === 'experiment' && f.experiment) {
    return f.experiment;
  }
  const distinct = new Set(experiments);
  return distinct.size === 1 ? [...distinct][0] : '';
}

/** The next ordering when a column's header is clicked: descending first, then ascending. */
export function nextOrder(current: string, field: string): string {
  return current === `-${field}` ? field : `-${field}`;
}
