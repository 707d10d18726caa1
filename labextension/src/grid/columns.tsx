/**
 * The grid's columns as TanStack column definitions: fixed run columns around the metric,
 * param and tag columns the user shows, each number column with one format for its cells.
 */
import * as React from 'react';
import type { ColumnDef } from '@tanstack/react-table';

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
import type { ColumnGroup, IColumnChoice } from './choice';

export type Tags = Record<string, Record<string, string>>;

/** What a column adds to TanStack's definition: its order_by field, alignment, title. */
export interface IColumnInfo {
  order?: string;
  numeric?: boolean;
  title?: string;
}

/** The columns pinned at the left edge, in order; they stay on a sideways scroll. */
export const PINNED = ['select', 'status', 'name'];

interface IFixed extends IColumnInfo {
  id: string;
  header: string;
  size: number;
  cell: (r: IRunRow, now: number) => React.ReactNode;
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

function started(r: IRunRow, now: number): React.ReactNode {
  return (
    <time dateTime={r.started} title={fmtFullTime(r.started)}>
      {fmtRelative(r.started, now)}
    </time>
  );
}

function model(r: IRunRow): React.ReactNode {
  if (!r.model) {
    return <span className="jp-mlops-muted">—</span>;
  }
  const stage = r.model_stage ?? '';
  return (
    <span className={`jp-mlops-model-${stage}`} title={stage}>
      {r.model}
    </span>
  );
}

// The select column's cells are drawn by the grid itself (they need the selection).
const LEADING: IFixed[] = [
  { id: 'select', header: '', size: 26, cell: () => null },
  {
    id: 'status',
    header: 'status',
    size: 84,
    order: 'status',
    cell: r => <StatusChip status={r.status} />
  },
  { id: 'name', header: 'run', size: 100, order: 'name', cell: runName },
  {
    id: 'started',
    header: 'started',
    size: 84,
    order: 'started',
    cell: started
  },
  {
    id: 'gates',
    header: 'gates',
    size: 70,
    order: 'gates',
    cell: r => <GateChip gates={r.gates} />
  }
];

const TRAILING: IFixed[] = [
  {
    id: 'duration',
    header: 'duration',
    size: 70,
    order: 'duration',
    numeric: true,
    cell: r => fmtDuration(r.duration)
  },
  {
    id: 'experiment',
    header: 'experiment',
    size: 90,
    order: 'experiment',
    cell: r => r.experiment
  },
  { id: 'model', header: 'model', size: 90, cell: model }
];

const GETTERS: Record<
  ColumnGroup,
  (r: IRunRow, key: string, tags: Tags) => unknown
> = {
  metrics: (r, k) => r.metrics[k],
  params: (r, k) => r.params[k],
  tags: (r, k, tags) => tags[r.id]?.[k]
};

/** The column definitions and what the grid needs to know of each, by column id. */
export function defineColumns(
  rows: IRunRow[],
  tags: Tags,
  shown: IColumnChoice,
  now: number
): [ColumnDef<IRunRow>[], Map<string, IColumnInfo>] {
  const info = new Map<string, IColumnInfo>();
  const fixed = (f: IFixed): ColumnDef<IRunRow> => {
    info.set(f.id, { order: f.order, numeric: f.numeric, title: f.title });
    return {
      id: f.id,
      header: f.header,
      size: f.size,
      cell: c => f.cell(c.row.original, now)
    };
  };
  const values: ColumnDef<IRunRow>[] = [];
  for (const group of ['metrics', 'params', 'tags'] as ColumnGroup[]) {
    for (const key of shown[group]) {
      const id = `${group}.${key}`;
      const get = (r: IRunRow) => GETTERS[group](r, key, tags);
      const cells = rows.map(get);
      const format = columnFormat(cells);
      const numeric = cells.some(v => typeof v === 'number');
      info.set(id, { order: id, numeric, title: id });
      values.push({
        id,
        header: key,
        size: 90,
        cell: c => {
          const v = get(c.row.original);
          const text =
            typeof v === 'number' ? fmtColumnNumber(v, format) : fmtValue(v);
          // The whole value on hover: the cell may cut it (fixed widths, ellipsis).
          return <span title={fmtValue(v)}>{text}</span>;
        }
      });
    }
  }
  return [[...LEADING.map(fixed), ...values, ...TRAILING.map(fixed)], info];
}
