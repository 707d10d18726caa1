import { describe, expect, it } from 'vitest';

import type { IGateLine } from '../api';
import {
  fmtSize,
  headCaption,
  headerChip,
  observedText,
  sortGates
} from '../detail/format';

// `observed` is any JSON value; types.ts spells Python's Any as an object.
const raw = (v: unknown) => v as IGateLine['observed'];

function gate(
  name: string,
  status: IGateLine['status'],
  extra: Partial<IGateLine> = {}
): IGateLine {
  return {
    gate: name,
    kind: 'metric',
    status,
    observed: raw(0.6433566433566433),
    threshold: '>= 0.6',
    message: '',
    severity: 'error',
    details: {},
    observed_text: '0.6434',
    ...extra
  };
}

describe('fmtSize', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1 kB'],
    [12_345, '12.3 kB'],
    [999_499, '999 kB'],
    [999_500, '1 MB'],
    [4_560_000, '4.56 MB'],
    [3e9, '3 GB']
  ])('writes %d bytes as %s, as the server does', (n, text) => {
    expect(fmtSize(n)).toBe(text);
  });
  it('has a dash for no size', () => {
    expect(fmtSize(null)).toBe('—');
    expect(fmtSize(NaN)).toBe('—');
  });
});

describe('headerChip', () => {
  it('never shows a plain finished when gates failed', () => {
    expect(headerChip('finished', 'failed')).toEqual({
      label: 'finished · gates failed',
      className: 'jp-mlops-gate-fail'
    });
  });
  it('says when gates warned', () => {
    expect(headerChip('finished', 'warned').label).toBe(
      'finished · gates warned'
    );
    expect(headerChip('finished', 'warned').className).toBe(
      'jp-mlops-gate-warn'
    );
  });
  it('is the status alone when gates passed or there are none', () => {
    for (const outcome of ['passed', null, undefined] as const) {
      expect(headerChip('finished', outcome)).toEqual({
        label: 'finished',
        className: 'jp-mlops-status-finished'
      });
    }
  });
});

describe('sortGates', () => {
  it('puts failed gates first, then warned, passed and skipped, stable within', () => {
    const gates = [
      gate('a', 'pass'),
      gate('b', 'skip'),
      gate('c', 'fail'),
      gate('d', 'warn'),
      gate('e', 'fail')
    ];
    expect(sortGates(gates).map(g => g.gate)).toEqual([
      'c',
      'e',
      'd',
      'a',
      'b'
    ]);
    expect(gates[0].gate).toBe('a'); // the input is left as it was
  });
});

describe('observedText', () => {
  it('uses the text the server made in the unit of the threshold', () => {
    expect(
      observedText(
        gate('f', 'fail', { observed: raw(781200.5), observed_text: '9d1h' })
      )
    ).toBe('9d1h');
  });
  it('falls back on the raw value, to 4 significant digits', () => {
    expect(observedText(gate('a', 'pass', { observed_text: '' }))).toBe(
      '0.6434'
    );
    expect(
      observedText(
        gate('a', 'pass', { observed: raw(null), observed_text: '' })
      )
    ).toBe('—');
  });
});

describe('headCaption', () => {
  it('says how much of a table is shown', () => {
    expect(headCaption(10, 5000, true)).toBe('first 10 of 5,000 rows');
    expect(headCaption(10, null, true)).toBe('first 10 rows');
    expect(headCaption(3, 3, false)).toBe('');
  });
});
