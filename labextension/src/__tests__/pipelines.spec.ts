import { describe, expect, it } from 'vitest';

import { driftedFirst } from '../monitoring';
import {
  changedParams,
  fieldOf,
  initialValue,
  pyLiteral,
  requestValue
} from '../pipeline-form';
import type { ParameterInfo } from '../types';

function param(p: Partial<ParameterInfo> & { name: string }): ParameterInfo {
  return {
    default: null as any,
    input: 'literal',
    choices: [],
    nullable: false,
    minimum: null,
    maximum: null,
    ...p
  };
}

const n = param({ name: 'n', type: 'int', input: 'int', default: 400 as any });
const model = param({
  name: 'model',
  input: 'choice',
  choices: ['rf', 'gbm'],
  default: 'rf' as any
});
const depth = param({ name: 'depth', input: 'int', nullable: true });
const feats = param({ name: 'feats', default: ['a', 'b'] as any });
const verbose = param({
  name: 'verbose',
  input: 'bool',
  default: false as any
});
const out = param({ name: 'out', input: 'derived', expression: 'f"x/{n}"' });

describe('the Run now form', () => {
  it('writes defaults as Python literals', () => {
    expect(pyLiteral(['a', 1, true, null])).toBe('["a", 1, True, None]');
    expect(pyLiteral({ k: 0.5 })).toBe('{"k": 0.5}');
    expect(initialValue(feats)).toBe('["a", "b"]');
    expect(initialValue(model)).toBe('0');
    expect(initialValue(depth)).toBe('');
  });

  it('sends only what changed, typed where the field is', () => {
    const params = [n, model, depth, feats, verbose, out];
    const values = Object.fromEntries(
      params.map(p => [p.name, initialValue(p)])
    );
    expect(changedParams(params, values)).toEqual({});
    const edited = {
      ...values,
      n: '5.5',
      model: '1',
      verbose: true,
      depth: '3'
    };
    expect(changedParams(params, edited)).toEqual({
      n: '5.5', // as typed: the server refuses it with its own line
      model: 'gbm',
      depth: '3',
      verbose: true
    });
    expect(requestValue(depth, '')).toBeNull(); // an emptied optional field is None
    expect(requestValue(out, ' ')).toBeUndefined(); // a derived one stays computed
  });

  it('finds the field a server message is about', () => {
    expect(fieldOf("Parameter 'n' expects int, got '5.5' (float)")).toBe('n');
    expect(fieldOf("Unknown parameter 'x'; did you mean 'n'?")).toBe('x');
    expect(fieldOf('Pipeline is already running')).toBeNull();
  });
});

describe('a monitor window', () => {
  it('lists drifted columns first, number-like names too', () => {
    const cols = {
      '1': { drifted: false },
      b: { drifted: true },
      a: { drifted: false },
      '2': { drifted: true }
    };
    expect(driftedFirst(cols).map(([c]) => c)).toEqual(['2', 'b', '1', 'a']);
  });
});
