import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';

import type { IRunRow } from '../api';
import {
  columnFormat,
  fmtColumnNumber,
  fmtFullTime,
  fmtRelative
} from '../format';
import {
  defaultChoice,
  type IChoiceStorage,
  loadChoice,
  offered,
  saveChoice,
  shownColumns,
  storageKey,
  toggleColumn
} from '../grid/choice';
import { DEFAULT_FILTERS, columnsKey, nextOrder, toQuery } from '../grid/query';
import { RunsGrid } from '../grid/table';
import type { RunColumns } from '../types';

const NOW = Date.parse('2026-12-07T12:00:00Z');

function row(
  id: string,
  metrics: Record<string, number> = {},
  params: Record<string, unknown> = {}
): IRunRow {
  return {
    id,
    experiment: 'e',
    name: `run-${id}`,
    status: 'finished',
    kind: 'cell',
    parent_id: null,
    started: '2026-12-07T11:57:00.000+00:00',
    duration: 1.5,
    seed: null,
    params: params as IRunRow['params'],
    gates: null,
    model: null,
    model_stage: null,
    metrics
  };
}

function memory(): IChoiceStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: k => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: k => void data.delete(k)
  };
}

const COLUMNS: RunColumns = {
  metrics: ['acc', 'loss'],
  params: ['C'],
  tags: [],
  all_metrics: ['acc', 'loss', 'f1'],
  all_params: ['C', 'solver'],
  all_tags: ['team']
};

describe('fmtRelative (compact times against an injected clock)', () => {
  const ago = (s: number) => new Date(NOW - s * 1000).toISOString();
  it('reads seconds to years', () => {
    expect(fmtRelative(ago(3), NOW)).toBe('just now');
    expect(fmtRelative(ago(42), NOW)).toBe('42 s ago');
    expect(fmtRelative(ago(180), NOW)).toBe('3 min ago');
    expect(fmtRelative(ago(2 * 3600 + 59), NOW)).toBe('2 h ago');
    expect(fmtRelative(ago(5 * 86400), NOW)).toBe('5 d ago');
    expect(fmtRelative(ago(65 * 86400), NOW)).toBe('2 mo ago');
    expect(fmtRelative(ago(400 * 86400), NOW)).toBe('1 y ago');
  });
  it('says a time ahead of the clock is ahead, and passes bad input through', () => {
    expect(fmtRelative(new Date(NOW + 120_000).toISOString(), NOW)).toBe(
      'in 2 min'
    );
    expect(fmtRelative(null, NOW)).toBe('—');
    expect(fmtRelative('not a time', NOW)).toBe('not a time');
  });
  it('gives the full time for the title', () => {
    expect(fmtFullTime(ago(0))).toMatch(/2026/);
    expect(fmtFullTime('')).toBe('');
  });
});

describe('columnFormat (one precision per column)', () => {
  const fmt = (values: unknown[]) =>
    values.map(v => fmtColumnNumber(v, columnFormat(values)));
  it('lines up decimals to four significant digits of the largest value', () => {
    expect(fmt([0.6433566433566433, 0.5, 0.91])).toEqual([
      '0.6434',
      '0.5000',
      '0.9100'
    ]);
    expect(fmt([123.456, 7.1])).toEqual(['123.5', '7.1']);
    expect(fmt([12.5, 3])).toEqual(['12.50', '3.00']);
  });
  it('keeps integers whole and goes to exponents for tiny or huge columns', () => {
    expect(fmt([3, 10, 200])).toEqual(['3', '10', '200']);
    expect(fmt([0.0001456, 0.0002])).toEqual(['1.456e-4', '2.000e-4']);
    expect(fmt([2.5e7, 1e6 + 0.5])).toEqual(['2.500e+7', '1.000e+6']);
  });
  it('prints what is not a number as a value', () => {
    expect(fmt([null, 'saga', 0.5])).toEqual(['—', 'saga', '0.5000']);
    expect(fmt([Number.NaN])).toEqual(['NaN']);
  });
});

describe('column choice, saved per experiment', () => {
  it('starts from the page default with the metric-column setting', () => {
    expect(defaultChoice(COLUMNS, 4)).toEqual({
      metrics: ['acc', 'f1', 'loss'],
      params: ['C'],
      tags: []
    });
    expect(defaultChoice(COLUMNS, 1).metrics).toEqual(['acc']);
  });
  it('saves a pick per experiment and reads it back', () => {
    const storage = memory();
    const pick = toggleColumn(defaultChoice(COLUMNS, 2), 'tags', 'team');
    saveChoice(storage, 'wine', pick);
    expect(loadChoice(storage, 'wine')).toEqual(pick);
    expect(loadChoice(storage, 'iris')).toBeNull();
    expect(shownColumns(COLUMNS, loadChoice(storage, 'wine'), 2).tags).toEqual([
      'team'
    ]);
    expect(storage.data.has(storageKey('wine'))).toBe(true);
    saveChoice(storage, 'wine', null); // reset to default
    expect(loadChoice(storage, 'wine')).toBeNull();
  });
  it('ignores what it did not write, and survives a refusing storage', () => {
    const storage = memory();
    storage.setItem(
      storageKey(''),
      '{"metrics": [1], "params": [], "tags": []}'
    );
    expect(loadChoice(storage, '')).toBeNull();
    storage.setItem(storageKey(''), 'not json');
    expect(loadChoice(storage, '')).toBeNull();
    const refusing: IChoiceStorage = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('full');
      },
      removeItem: () => undefined
    };
    expect(loadChoice(refusing, 'x')).toBeNull();
    expect(() =>
      saveChoice(refusing, 'x', defaultChoice(COLUMNS, 1))
    ).not.toThrow();
    expect(loadChoice(null, 'x')).toBeNull();
  });
  it('toggles in click order and offers saved keys the page lacks', () => {
    let c = defaultChoice(COLUMNS, 1);
    c = toggleColumn(c, 'params', 'solver');
    c = toggleColumn(c, 'params', 'C');
    expect(c.params).toEqual(['solver']);
    c = toggleColumn(c, 'metrics', 'gone');
    expect(offered(COLUMNS, c, 'metrics')).toEqual([
      'acc',
      'loss',
      'f1',
      'gone'
    ]);
  });
});

describe('filters → query', () => {
  it('sends only the filters in use', () => {
    expect(toQuery(DEFAULT_FILTERS)).toEqual({
      order_by: '-started',
      limit: 50,
      offset: 0
    });
  });
  it('maps search, status, gate, where and scope', () => {
    const f = {
      ...DEFAULT_FILTERS,
      scope: 'experiment' as const,
      experiment: 'wine',
      search: '  vision ',
      status: 'failed',
      gate: 'none' as const,
      where: 'metrics.acc > 0.9',
      offset: 100
    };
    expect(toQuery(f)).toEqual({
      order_by: '-started',
      limit: 50,
      offset: 100,
      q: 'vision',
      status: 'failed',
      gate: 'none',
      where: 'metrics.acc > 0.9',
      experiment: 'wine'
    });
    expect(toQuery({ ...f, scope: 'project' }).experiment).toBeUndefined();
    const nb = {
      ...DEFAULT_FILTERS,
      scope: 'notebook' as const,
      notebook: 'a.ipynb'
    };
    expect(toQuery(nb).notebook).toBe('a.ipynb');
  });
  it('keys saved columns by the experiment in view', () => {
    const f = {
      ...DEFAULT_FILTERS,
      scope: 'experiment' as const,
      experiment: 'wine'
    };
    expect(columnsKey(f, ['iris'])).toBe('wine');
    expect(columnsKey(DEFAULT_FILTERS, ['iris', 'iris'])).toBe('iris');
    expect(columnsKey(DEFAULT_FILTERS, ['iris', 'wine'])).toBe('');
  });
  it('sorts descending first, then ascending', () => {
    expect(nextOrder('-started', 'metrics.acc')).toBe('-metrics.acc');
    expect(nextOrder('-metrics.acc', 'metrics.acc')).toBe('metrics.acc');
    expect(nextOrder('metrics.acc', 'metrics.acc')).toBe('-metrics.acc');
  });
});

describe('RunsGrid markup', () => {
  const html = renderToStaticMarkup(
    <RunsGrid
      rows={[
        row('a', { acc: 0.64336 }, { C: 1 }),
        row('b', { acc: 0.5 }, { C: 10 })
      ]}
      tags={{ a: { team: 'vision' } }}
      shown={{ metrics: ['acc'], params: ['C'], tags: ['team'] }}
      order="-metrics.acc"
      onSort={() => undefined}
      selected={['b']}
      onToggle={() => undefined}
      onOpen={() => undefined}
      now={NOW}
    />
  );
  it('shows relative times with the full time on hover', () => {
    expect(html).toContain('>3 min ago</time>');
    expect(html).toMatch(
      /<time dateTime="2026-12-07T11:57:00.000\+00:00" title="[^"]*2026/
    );
  });
  it('right-aligns numbers with one precision, and marks the sort', () => {
    expect(html).toContain('class="jp-mlops-num"');
    expect(html).toContain('0.6434');
    expect(html).toContain('0.5000');
    expect(html).toMatch(/aria-sort="descending"[^>]*title="metrics.acc"/);
    expect(html).toContain('vision');
  });
  it('pins the selection, status and name columns at growing offsets', () => {
    const lefts = [
      ...html.matchAll(
        /<th[^>]*class="jp-mlops-pinned[^"]*" style="left:(\d+)/g
      )
    ];
    expect(lefts.map(m => Number(m[1]))).toEqual([0, 26, 110]);
    expect(html).toContain('aria-label="select run-a"');
    expect(html).toContain('jp-mlops-run-row jp-mod-selected');
  });
});
