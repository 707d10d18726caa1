/**
 * Which metric, param and tag columns the grid shows: the server's default for the page
 * (`RunsPage.columns`, the one rule in jupyter_mlops/views/columns.py) until the user picks
 * columns with the chooser; a pick is saved per experiment in the browser's storage.
 */
import type { RunColumns } from '../types';

export type ColumnGroup = 'metrics' | 'params' | 'tags';
export const GROUPS: ColumnGroup[] = ['metrics', 'params', 'tags'];

export type IColumnChoice = Record<ColumnGroup, string[]>;

/** What the grid needs of `localStorage`: injected, so tests use a map. */
export type IChoiceStorage = Pick<
  Storage,
  'getItem' | 'setItem' | 'removeItem'
>;

const PREFIX = 'jupyter-mlops:runs-columns:';

/** The storage key of an experiment's pick ('' : runs of several experiments). */
export function storageKey(experiment: string): string {
  return `${PREFIX}${experiment || '*'}`;
}

/** The pick saved for `experiment`, or null (none, or not one we wrote). */
export function loadChoice(
  storage: IChoiceStorage | null,
  experiment: string
): IColumnChoice | null {
  let raw: string | null = null;
  try {
    raw = storage?.getItem(storageKey(experiment)) ?? null;
  } catch {
    return null; // storage refused (a privacy setting): defaults
  }
  if (!raw) {
    return null;
  }
  try {
    const data = JSON.parse(raw) as Record<string, unknown>;
    const out = {} as IColumnChoice;
    for (const g of GROUPS) {
      const list = data[g];
      if (!Array.isArray(list) || !list.every(k => typeof k === 'string')) {
        return null;
      }
      out[g] = list as string[];
    }
    return out;
  } catch {
    return null;
  }
}

export function saveChoice(
  storage: IChoiceStorage | null,
  experiment: string,
  choice: IColumnChoice | null
): void {
  try {
    if (choice === null) {
      storage?.removeItem(storageKey(experiment));
    } else {
      storage?.setItem(storageKey(experiment), JSON.stringify(choice));
    }
  } catch {
    // A full or refused storage only loses the pick, never the grid.
  }
}

/** The server's default for the page, with `metricColumns` metrics (the panel's setting). */
export function defaultChoice(
  columns: RunColumns,
  metricColumns: number
): IColumnChoice {
  return {
    metrics: [...columns.all_metrics.slice(0, metricColumns)].sort(),
    params: [...columns.params],
    tags: [...columns.tags]
  };
}

/** The columns to show: the saved pick, else the page's default. */
export function shownColumns(
  columns: RunColumns,
  saved: IColumnChoice | null,
  metricColumns: number
): IColumnChoice {
  return saved ?? defaultChoice(columns, metricColumns);
}

/** `choice` with `key` of `group` shown or hidden (added at the end, in click order). */
export function toggleColumn(
  choice: IColumnChoice,
  group: ColumnGroup,
  key: string
): IColumnChoice {
  const list = choice[group];
  return {
    ...choice,
    [group]: list.includes(key) ? list.filter(k => k !== key) : [...list, key]
  };
}

/** Every key the chooser offers for `group`: the page's, then saved ones the page lacks. */
export function offered(
  columns: RunColumns,
  shown: IColumnChoice,
  group: ColumnGroup
): string[] {
  const all = columns[`all_${group}`];
  return [...all, ...shown[group].filter(k => !all.includes(k))];
}
