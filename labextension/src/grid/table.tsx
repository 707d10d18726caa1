/**
 * The runs grid: a TanStack Table (headless) rendered as a plain, accessible <table>. The
 * selection, status and name columns are pinned left and stay while the rest scrolls sideways;
 * numbers are right-aligned with one precision per column; times are relative with the full
 * time on hover. Sorting and paging happen on the server, so the table holds one page.
 */
import * as React from 'react';
import {
  type Column,
  type ColumnDef,
  flexRender,
  getCoreRowModel,
  useReactTable
} from '@tanstack/react-table';

import type { IRunRow } from '../api';
import { GateChip, StatusChip } from '../common';
import {
  columnFormat,
  fmtColumnNumber,
  fmtDuration,
  fmtFullTime,
  fmtRelative,
  fmtValue,
  shortId
} from '../format';
import type { IColumnChoice } from './choice';

type Tags = Record<string, Record<string, string>>;

/** What a column adds to TanStack's definition: its order_by field and alignment. */
interface IColumnInfo {
  order?: string;
  numeric?: boolean;
  title?: string;
}

export const PINNED = ['select', 'status', 'name'];

export interface IRunsGridProps {
  rows: IRunRow[];
  tags: Tags;
  shown: IColumnChoice;
  order: string;
  onSort: (field: string) => void;
  selected: string[];
  onToggle: (ids: string[], on: boolean) => void;
  onOpen: (id: string) => void;
  /** The clock, in ms since the epoch (injected: tests and refreshes pass their own). */
  now: number;
}

function runName(r: IRunRow): React.ReactNode {
  return (
    <span title={r.id}>
      {r.name ?? <code>{shortId(r.id)}</code>}
      {r.kind === 'pipeline' && (
        <span className="jp-mlops-kind"> pipeline</span>
      )}
    </span>
  );
}

/** A column of values from `get` (metrics, params, tags), numbers with one format. */
function valueColumn(
  id: string,
  label: string,
  rows: IRunRow[],
  get: (r: IRunRow) => unknown
): [ColumnDef<IRunRow>, IColumnInfo] {
  const values = rows.map(get);
  const numeric = values.some(v => typeof v === 'number');
  const format = columnFormat(values);
  const def: ColumnDef<IRunRow> = {
    id,
    header: label,
    size: 90,
    cell: c => {
      const v = get(c.row.original);
      return typeof v === 'number' ? fmtColumnNumber(v, format) : fmtValue(v);
    }
  };
  return [def, { order: id, numeric, title: id }];
}

function defineColumns(
  p: IRunsGridProps
): [ColumnDef<IRunRow>[], Map<string, IColumnInfo>] {
  const { rows, tags, shown, now } = p;
  const info = new Map<string, IColumnInfo>();
  const add = (def: ColumnDef<IRunRow>, i: IColumnInfo = {}) => {
    info.set(def.id!, i);
    return def;
  };
  const defs: ColumnDef<IRunRow>[] = [
    add({ id: 'select', header: '', size: 28 }),
    add(
      {
        id: 'status',
        header: 'status',
        size: 84,
        cell: c => <StatusChip status={c.row.original.status} />
      },
      { order: 'status' }
    ),
    add(
      {
        id: 'name',
        header: 'run',
        size: 120,
        cell: c => runName(c.row.original)
      },
      { order: 'name' }
    ),
    add(
      {
        id: 'started',
        header: 'started',
        size: 84,
        cell: c => {
          const iso = c.row.original.started;
          return (
            <time dateTime={iso} title={fmtFullTime(iso)}>
              {fmtRelative(iso, now)}
            </time>
          );
        }
      },
      { order: 'started' }
    ),
    add(
      {
        id: 'gates',
        header: 'gates',
        size: 70,
        cell: c => <GateChip gates={c.row.original.gates} />
      },
      { order: 'gates' }
    )
  ];
  const groups: [keyof IColumnChoice, (r: IRunRow, k: string) => unknown][] = [
    ['metrics', (r, k) => r.metrics[k]],
    ['params', (r, k) => r.params[k]],
    ['tags', (r, k) => tags[r.id]?.[k]]
  ];
  for (const [group, get] of groups) {
    for (const key of shown[group]) {
      const [def, i] = valueColumn(`${group}.${key}`, key, rows, r =>
        get(r, key)
      );
      defs.push(add(def, i));
    }
  }
  defs.push(
    add(
      {
        id: 'duration',
        header: 'duration',
        size: 70,
        cell: c => fmtDuration(c.row.original.duration)
      },
      { order: 'duration', numeric: true }
    ),
    add(
      {
        id: 'experiment',
        header: 'experiment',
        size: 90,
        cell: c => c.row.original.experiment
      },
      { order: 'experiment' }
    ),
    add({
      id: 'model',
      header: 'model',
      size: 90,
      cell: c => modelCell(c.row.original)
    })
  );
  return [defs, info];
}

function modelCell(r: IRunRow): React.ReactNode {
  return r.model ? (
    <span
      className={`jp-mlops-model-${r.model_stage ?? ''}`}
      title={r.model_stage ?? ''}
    >
      {r.model}
    </span>
  ) : (
    <span className="jp-mlops-muted">—</span>
  );
}

/** Inline position of a pinned column (its offset from the left edge), else nothing. */
function pinStyle(column: Column<IRunRow>): React.CSSProperties {
  const width = column.getSize();
  if (!column.getIsPinned()) {
    return { minWidth: width };
  }
  return {
    left: column.getStart('left'),
    width,
    minWidth: width,
    maxWidth: width
  };
}

function sortState(
  order: string,
  field?: string
): 'ascending' | 'descending' | undefined {
  if (!field || order.replace(/^-/, '') !== field) {
    return undefined;
  }
  return order.startsWith('-') ? 'descending' : 'ascending';
}

export function RunsGrid(props: IRunsGridProps): JSX.Element {
  const { rows, order, onSort, selected, onToggle, onOpen } = props;
  const [columns, info] = React.useMemo(
    () => defineColumns(props),
    [props.rows, props.tags, props.shown, props.now]
  );
  const table = useReactTable({
    data: rows,
    columns,
    getCoreRowModel: getCoreRowModel(),
    getRowId: r => r.id,
    manualSorting: true,
    state: { columnPinning: { left: PINNED } }
  });
  const ids = rows.map(r => r.id);
  const all = ids.length > 0 && ids.every(id => selected.includes(id));
  const cellClass = (id: string, pinned: boolean) =>
    [
      pinned ? 'jp-mlops-pinned' : '',
      id === PINNED[PINNED.length - 1] ? 'jp-mlops-pinned-last' : '',
      info.get(id)?.numeric ? 'jp-mlops-num' : ''
    ]
      .filter(Boolean)
      .join(' ') || undefined;

  return (
    <table className="jp-mlops-table jp-mlops-runs-table jp-mlops-grid">
      <thead>
        {table.getHeaderGroups().map(group => (
          <tr key={group.id}>
            {group.headers.map(h => {
              const i = info.get(h.column.id) ?? {};
              const pinned = Boolean(h.column.getIsPinned());
              const sort = sortState(order, i.order);
              return (
                <th
                  key={h.id}
                  scope="col"
                  className={cellClass(h.column.id, pinned)}
                  style={pinStyle(h.column)}
                  aria-sort={sort}
                  title={i.title}
                >
                  {h.column.id === 'select' ? (
                    <input
                      type="checkbox"
                      aria-label="select all runs on this page"
                      checked={all}
                      disabled={ids.length === 0}
                      onChange={() => onToggle(ids, !all)}
                    />
                  ) : i.order ? (
                    <button
                      className="jp-mlops-sort"
                      onClick={() => onSort(i.order!)}
                    >
                      {flexRender(h.column.columnDef.header, h.getContext())}
                      {sort === 'descending'
                        ? ' ▼'
                        : sort === 'ascending'
                          ? ' ▲'
                          : ''}
                    </button>
                  ) : (
                    flexRender(h.column.columnDef.header, h.getContext())
                  )}
                </th>
              );
            })}
          </tr>
        ))}
      </thead>
      <tbody>
        {table.getRowModel().rows.map(row => {
          const r = row.original;
          const on = selected.includes(r.id);
          return (
            <tr
              key={row.id}
              className={`jp-mlops-run-row${on ? ' jp-mod-selected' : ''}`}
              data-run-id={r.id}
              tabIndex={0}
              onClick={() => onOpen(r.id)}
              onKeyDown={e => {
                if (e.key === 'Enter' && e.target === e.currentTarget) {
                  onOpen(r.id);
                } else if (e.key === ' ' && e.target === e.currentTarget) {
                  e.preventDefault();
                  onToggle([r.id], !on);
                }
              }}
            >
              {row.getVisibleCells().map(cell => {
                const pinned = Boolean(cell.column.getIsPinned());
                return (
                  <td
                    key={cell.id}
                    className={cellClass(cell.column.id, pinned)}
                    style={pinStyle(cell.column)}
                    onClick={
                      cell.column.id === 'select'
                        ? e => e.stopPropagation()
                        : undefined
                    }
                  >
                    {cell.column.id === 'select' ? (
                      <input
                        type="checkbox"
                        aria-label={`select ${r.name ?? shortId(r.id)}`}
                        checked={on}
                        onChange={() => onToggle([r.id], !on)}
                      />
                    ) : (
                      flexRender(cell.column.columnDef.cell, cell.getContext())
                    )}
                  </td>
                );
              })}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
