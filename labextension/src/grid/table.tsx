/**
 * The runs grid: a TanStack Table (headless) rendered as a plain, accessible <table>. The
 * selection, status and name columns are pinned left and stay while the rest scrolls sideways;
 * numbers are right-aligned with one precision per column; times are relative with the full
 * time on hover. Sorting and paging happen on the server, so the table holds one page.
 */
import * as React from 'react';
import {
  type Column,
  type Header,
  type Row,
  flexRender,
  getCoreRowModel,
  useReactTable
} from '@tanstack/react-table';

import type { IRunRow } from '../api';
import { shortId } from '../format';
import type { IColumnChoice } from './choice';
import { type IColumnInfo, PINNED, type Tags, defineColumns } from './columns';

export { PINNED } from './columns';

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

type Info = Map<string, IColumnInfo>;

// One state object for every render: a new one would make TanStack recompute its columns.
const PIN_STATE = { columnPinning: { left: PINNED } };

/** Inline offset of a pinned column from the left edge (the sum of the widths before it). */
function pinStyle(column: Column<IRunRow>): React.CSSProperties {
  if (!column.getIsPinned()) {
    return {};
  }
  return { left: column.getStart('left') };
}

function cellClass(column: Column<IRunRow>, info: Info): string | undefined {
  const names = [
    column.getIsPinned() ? 'jp-mlops-pinned' : '',
    column.id === PINNED[PINNED.length - 1] ? 'jp-mlops-pinned-last' : '',
    info.get(column.id)?.numeric ? 'jp-mlops-num' : ''
  ];
  return names.filter(Boolean).join(' ') || undefined;
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

function HeaderCell(props: {
  header: Header<IRunRow, unknown>;
  info: Info;
  grid: IRunsGridProps;
}): JSX.Element {
  const { header, info, grid } = props;
  const column = header.column;
  const i = info.get(column.id) ?? {};
  const sort = sortState(grid.order, i.order);
  const label = flexRender(column.columnDef.header, header.getContext());
  const ids = grid.rows.map(r => r.id);
  const all = ids.length > 0 && ids.every(id => grid.selected.includes(id));
  let content: React.ReactNode = label;
  if (column.id === 'select') {
    content = (
      <input
        type="checkbox"
        aria-label="select all runs on this page"
        checked={all}
        disabled={ids.length === 0}
        onChange={() => grid.onToggle(ids, !all)}
      />
    );
  } else if (i.order) {
    const arrow =
      sort === 'descending' ? ' ▼' : sort === 'ascending' ? ' ▲' : '';
    content = (
      <button className="jp-mlops-sort" onClick={() => grid.onSort(i.order!)}>
        {label}
        {arrow}
      </button>
    );
  }
  return (
    <th
      scope="col"
      className={cellClass(column, info)}
      style={pinStyle(column)}
      aria-sort={sort}
      title={i.title}
    >
      {content}
    </th>
  );
}

function RunLine(props: {
  row: Row<IRunRow>;
  info: Info;
  grid: IRunsGridProps;
}): JSX.Element {
  const { row, info, grid } = props;
  const r = row.original;
  const on = grid.selected.includes(r.id);
  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.target !== e.currentTarget) {
      return; // a key meant for the checkbox or a link inside
    }
    if (e.key === 'Enter') {
      grid.onOpen(r.id);
    } else if (e.key === ' ') {
      e.preventDefault();
      grid.onToggle([r.id], !on);
    }
  };
  return (
    <tr
      className={`jp-mlops-run-row${on ? ' jp-mod-selected' : ''}`}
      data-run-id={r.id}
      tabIndex={0}
      onClick={() => grid.onOpen(r.id)}
      onKeyDown={onKeyDown}
    >
      {row.getVisibleCells().map(cell => (
        <td
          key={cell.id}
          className={cellClass(cell.column, info)}
          style={pinStyle(cell.column)}
          onClick={
            cell.column.id === 'select' ? e => e.stopPropagation() : undefined
          }
        >
          {cell.column.id === 'select' ? (
            <input
              type="checkbox"
              aria-label={`select ${r.name ?? shortId(r.id)}`}
              checked={on}
              onChange={() => grid.onToggle([r.id], !on)}
            />
          ) : (
            flexRender(cell.column.columnDef.cell, cell.getContext())
          )}
        </td>
      ))}
    </tr>
  );
}

export function RunsGrid(props: IRunsGridProps): JSX.Element {
  const { rows, tags, shown, now } = props;
  const [columns, info] = React.useMemo(
    () => defineColumns(rows, tags, shown, now),
    [rows, tags, shown, now]
  );
  const table = useReactTable({
    data: rows,
    columns,
    getCoreRowModel: getCoreRowModel(),
    getRowId: r => r.id,
    manualSorting: true,
    state: PIN_STATE
  });
  return (
    // Fixed layout, each column exactly its size: a pinned column's offset is then exact.
    <table
      className="jp-mlops-table jp-mlops-runs-table jp-mlops-grid"
      style={{ width: table.getTotalSize() }}
    >
      <colgroup>
        {table.getVisibleLeafColumns().map(c => (
          <col key={c.id} style={{ width: c.getSize() }} />
        ))}
      </colgroup>
      <thead>
        {table.getHeaderGroups().map(group => (
          <tr key={group.id}>
            {group.headers.map(h => (
              <HeaderCell key={h.id} header={h} info={info} grid={props} />
            ))}
          </tr>
        ))}
      </thead>
      <tbody>
        {table.getRowModel().rows.map(row => (
          <RunLine key={row.id} row={row} info={info} grid={props} />
        ))}
      </tbody>
    </table>
  );
}
