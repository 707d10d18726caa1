import { describe, expect, it } from 'vitest';

import {
  fmtDelta,
  fmtDuration,
  fmtKeyed,
  fmtNumber,
  fmtTime,
  fmtValue,
  shortId
} from '../format';

describe('shortId', () => {
  it('keeps the first 8 characters of an id', () => {
    expect(shortId('0123456789abcdef')).toBe('01234567');
  });
  it('is empty for no id', () => {
    expect(shortId(null)).toBe('');
    expect(shortId(undefined)).toBe('');
  });
});

describe('fmtNumber', () => {
  it('writes integers whole', () => {
    expect(fmtNumber(42)).toBe('42');
    expect(fmtNumber(-7)).toBe('-7');
    expect(fmtNumber(0)).toBe('0');
  });
  it('keeps 4 significant digits without trailing zeros', () => {
    expect(fmtNumber(0.912345)).toBe('0.9123');
    expect(fmtNumber(0.5)).toBe('0.5');
    expect(fmtNumber(12.3456)).toBe('12.35');
  });
  it('switches to exponents for very small and very large values', () => {
    expect(fmtNumber(0.0001234)).toBe('1.234e-4');
    expect(fmtNumber(123456.7)).toBe('1.235e+5');
  });
  it('writes a dash for no value and the text of anything else', () => {
    expect(fmtNumber(null)).toBe('—');
    expect(fmtNumber(undefined)).toBe('—');
    expect(fmtNumber(Number.NaN)).toBe('NaN');
    expect(fmtNumber(Infinity)).toBe('Infinity');
    expect(fmtNumber('abc')).toBe('abc');
  });
});

describe('fmtValue', () => {
  it('formats numbers, objects and strings', () => {
    expect(fmtValue(0.333333)).toBe('0.3333');
    expect(fmtValue({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(fmtValue('saga')).toBe('saga');
    expect(fmtValue(true)).toBe('true');
    expect(fmtValue(null)).toBe('—');
  });
});

describe('fmtDuration', () => {
  it.each([
    [0.0421, '42 ms'],
    [1.25, '1.3 s'],
    [119.9, '119.9 s'],
    [150, '2 min 30 s'],
    [7200, '2.0 h'],
    [null, '—'],
    [Number.NaN, '—']
  ])('%s seconds read %s', (s, expected) => {
    expect(fmtDuration(s)).toBe(expected);
  });
});

describe('fmtTime', () => {
  it('writes a dash for no time and keeps what is not a time', () => {
    expect(fmtTime(null)).toBe('—');
    expect(fmtTime('')).toBe('—');
    expect(fmtTime('not a time')).toBe('not a time');
  });
  it('writes a time with its year', () => {
    const text = fmtTime('2024-03-05T10:20:30+00:00');
    expect(text).toContain('2024');
    expect(text).not.toBe('2024-03-05T10:20:30+00:00');
  });
});

describe('fmtKeyed', () => {
  const moment = 1_700_000_000; // 2023-11-14, epoch seconds
  it('reads epoch seconds under a key naming a moment as a time', () => {
    const asTime = fmtTime(new Date(moment * 1000).toISOString());
    expect(fmtKeyed('reproduced_at', moment)).toBe(asTime);
    expect(fmtKeyed('ended', String(moment))).toBe(asTime);
    expect(fmtKeyed('Last.Timestamp', moment)).toBe(asTime);
  });
  it('keeps a number outside 1973-2286 or under another key as a value', () => {
    expect(fmtKeyed('reproduced_at', 3600)).toBe('3600');
    expect(fmtKeyed('threshold', moment)).toBe(String(moment));
    expect(fmtKeyed('format', moment)).toBe(String(moment));
    expect(fmtKeyed('started', '')).toBe('');
  });
});

describe('fmtDelta', () => {
  it('signs the change', () => {
    expect(fmtDelta(0.5, 0.75)).toBe('+0.25');
    expect(fmtDelta(3, 1)).toBe('-2');
    expect(fmtDelta(1, 1)).toBe('±0');
  });
  it('is empty when a side is missing', () => {
    expect(fmtDelta(null, 1)).toBe('');
    expect(fmtDelta(1, null)).toBe('');
  });
});
