import { PageConfig } from '@jupyterlab/coreutils';
import { readFileSync } from 'fs';
import { join } from 'path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { IArm, IDeployment } from '../api';
import { MLOpsAPI } from '../api';
import {
  checkForm,
  checkGuard,
  checkInterval,
  checkSteps,
  DEFAULT_FORM,
  describePlan,
  fmtDifference,
  fmtInterval,
  fmtShare,
  lookNow,
  newestFirst,
  parseDuration,
  planOf,
  shareParts,
  splitGuards
} from '../canary';
import { armName, bandOption, bandRows } from '../charts/bands';
import { chartTheme } from '../charts/theme';
import { API_PREFIX } from '../request';

function arm(extra: Partial<IArm> = {}): IArm {
  return {
    version: 2,
    arm: 'candidate',
    share: 0.1,
    rows: 120,
    errors: 1,
    error_rate: 1 / 120,
    p50_ms: 1.5,
    p99_ms: 7.25,
    labels: 100,
    metric: 0.95,
    lower: 0.9,
    upper: 0.99,
    distance: 0.05,
    ...extra
  };
}

function deployment(extra: Partial<IDeployment> = {}): IDeployment {
  return {
    name: 'churn',
    state: 'running',
    candidate: 2,
    baseline: 1,
    share: 0.1,
    step: 1,
    plan: {
      steps: [5, 10, 100],
      guards: ['p99<50ms'],
      interval: 3600,
      metric: 'accuracy',
      effect: 0.02,
      alpha: 0.05,
      beta: 0.2,
      min_labels: 100
    },
    started: '2023-11-14T22:13:20+00:00',
    updated: '2023-11-14T23:13:20+00:00',
    next_look: '2023-11-15T00:13:20+00:00',
    arms: [
      arm(),
      arm({ version: 1, arm: 'blessed', share: 0.9, metric: 0.85 })
    ],
    difference: {
      decision: 'hold',
      reason: 'more labels needed',
      diff: 0.1,
      lower: -0.02,
      upper: 0.2,
      candidate: {},
      baseline: {},
      breaches: []
    },
    trail: [
      {
        seq: 1,
        time: '2023-11-14T22:13:20+00:00',
        decision: 'advance',
        reason: 'a',
        share: 0.05
      },
      {
        seq: 2,
        time: '2023-11-14T23:13:20+00:00',
        decision: 'hold',
        reason: 'b',
        share: 0.1
      }
    ],
    ...extra
  };
}

// The cases with the server's line for each (tests/test_panel_canary_form.py checks the lines).
const CASES = JSON.parse(
  readFileSync(join(__dirname, 'canary_cases.json'), 'utf8')
) as {
  field: 'steps' | 'guards' | 'interval';
  text: string;
  error: string | null;
}[];
const CHECKS = {
  steps: checkSteps,
  guards: checkGuard,
  interval: checkInterval
};

describe('the Start canary form, checked as the server checks it', () => {
  it.each(CASES)("$field $text: the server's line", c => {
    expect(CHECKS[c.field](c.text)).toBe(c.error);
  });
  it('takes the defaults', () => {
    expect(checkForm(DEFAULT_FORM)).toEqual({});
  });
  it('refuses steps the server refuses, with its words', () => {
    expect(checkSteps('2,5,10,25,50,100')).toBeNull();
    expect(checkSteps('10%, 50%, 100%')).toBeNull();
    expect(checkSteps('100')).toBeNull();
    expect(checkSteps('')).toMatch(/'' is not a percent/);
    expect(checkSteps('5,x,100')).toBe(
      "--steps: 'x' is not a percent, e.g. 2,5,10,25,50,100"
    );
    expect(checkSteps('5,,100')).toMatch(/is not a percent/);
    expect(checkSteps('0,100')).toBe("--steps: '0' is outside (0, 100]");
    expect(checkSteps('5,150')).toMatch(/outside \(0, 100\]/);
    expect(checkSteps('10,5,100')).toBe(
      '--steps must increase: 5 comes after 10'
    );
    expect(checkSteps('5,50')).toBe(
      '--steps must end at 100 (the candidate takes all traffic); got 50'
    );
    expect(checkSteps(Array(21).fill('100').join(','))).toMatch(/1 to 20/);
  });
  it('reads guardrails as the server does', () => {
    for (const ok of ['error_rate<1%', 'p99<50ms', ' p50 < 0.5 s ']) {
      expect(checkGuard(ok)).toBeNull();
    }
    expect(checkGuard('latency<5ms')).toMatch(/is not a guardrail; write/);
    expect(checkGuard('error_rate<5ms')).toMatch(/a percent up to 100%/);
    expect(checkGuard('error_rate<101%')).toMatch(/a percent up to 100%/);
    expect(checkGuard('p99<5%')).toMatch(/a latency is in ms or s/);
    expect(checkGuard('p99<0ms')).toMatch(/must be above 0/);
    expect(splitGuards(' p99<50ms, ,error_rate<1% ')).toEqual([
      'p99<50ms',
      'error_rate<1%'
    ]);
  });
  it('reads durations as the server does and bounds the interval', () => {
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('2 d')).toBe(172800);
    expect(parseDuration('soon')).toBeNull();
    expect(parseDuration('1h soon')).toBeNull();
    expect(checkInterval('1h')).toBeNull();
    expect(checkInterval('500ms')).toMatch(/between 1s and 30d/);
    expect(checkInterval('31d')).toMatch(/between 1s and 30d/);
  });
  it('names each wrong field and builds the REST body of a right one', () => {
    const errors = checkForm({
      ...DEFAULT_FORM,
      metric: 'auc',
      minLabels: '10',
      effect: '0',
      guards: 'p99<50ms, nope'
    });
    expect(Object.keys(errors).sort()).toEqual([
      'effect',
      'guards',
      'metric',
      'minLabels'
    ]);
    expect(errors.minLabels).toMatch(/from 30/);
    expect(errors.guards).toMatch(/'nope' is not a guardrail/);
    expect(
      planOf(3, { ...DEFAULT_FORM, guards: 'p99<50ms', minLabels: ' 300 ' })
    ).toEqual({
      version: 3,
      steps: '2,5,10,25,50,100',
      metric: 'accuracy',
      min_labels: 300,
      guards: ['p99<50ms'],
      interval: '1h',
      effect: 0.02
    });
  });
});

describe('the deployment shaped for display', () => {
  it('writes shares and intervals', () => {
    expect(fmtShare(0.1)).toBe('10%');
    expect(fmtShare(0.025)).toBe('2.5%');
    expect(fmtShare(1 / 3)).toBe('33.3%');
    expect(fmtShare(null)).toBe('—');
    expect(fmtInterval(arm())).toBe('0.95 [0.9, 0.99]');
    expect(fmtInterval(arm({ lower: null, upper: null }))).toBe('0.95');
    expect(fmtInterval(arm({ metric: null }))).toBe('—');
  });
  it('lists the decisions newest first without touching the view', () => {
    const d = deployment();
    expect(newestFirst(d.trail).map(x => x.seq)).toEqual([2, 1]);
    expect(d.trail.map(x => x.seq)).toEqual([1, 2]);
  });
  it('splits the share bar and reads the look of now', () => {
    expect(shareParts(deployment())).toEqual([
      { arm: 'candidate', version: 2, percent: 10 },
      { arm: 'blessed', version: 1, percent: 90 }
    ]);
    expect(shareParts(deployment({ state: 'promoted' }))).toEqual([]);
    expect(lookNow(deployment())).toEqual({
      decision: 'hold',
      reason: 'more labels needed',
      diff: 0.1,
      lower: -0.02,
      upper: 0.2,
      breaches: []
    });
    expect(lookNow(deployment({ difference: {} }))).toBeNull();
    const look = lookNow(deployment())!;
    expect(fmtDifference(look)).toBe('0.1 [-0.02, 0.2]');
    expect(fmtDifference({ ...look, lower: null, upper: null })).toBe('0.1');
    expect(describePlan(deployment().plan)).toBe(
      'steps 5,10,100% · accuracy effect 0.02 · min 100 labels · p99<50ms'
    );
  });
  it('charts each arm with a metric: a band from lower to upper and the point', () => {
    const theme = chartTheme(() => '');
    const arms = [
      arm(),
      arm({ version: 1, arm: 'blessed', metric: 0.85, lower: 0.8, upper: 0.9 }),
      arm({ version: 3, arm: 'other', metric: null })
    ];
    expect(bandRows(arms).map(armName)).toEqual(['blessed v1', 'candidate v2']);
    const option = bandOption(arms, 'accuracy', theme);
    expect(option.yAxis.data).toEqual(['blessed v1', 'candidate v2']);
    const [b1, b2, points] = option.series;
    expect(b1.data).toEqual([
      [0.8, 'blessed v1'],
      [0.9, 'blessed v1']
    ]);
    expect(b2.data).toEqual([
      [0.9, 'candidate v2'],
      [0.99, 'candidate v2']
    ]);
    expect(points.type).toBe('scatter');
    expect(points.data.map((p: { value: unknown }) => p.value)).toEqual([
      [0.85, 'blessed v1'],
      [0.95, 'candidate v2']
    ]);
    expect(option.xAxis.name).toBe('accuracy');
  });
});

describe('the rollout calls', () => {
  const calls: Request[] = [];
  beforeEach(() => {
    PageConfig.setOption('baseUrl', 'http://localhost:8888/');
    calls.length = 0;
    vi.stubGlobal('fetch', async (req: Request) => {
      calls.push(req);
      return new Response(JSON.stringify(deployment()), { status: 200 });
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('GET and POST models/NAME/rollout, POST .../abort', async () => {
    await MLOpsAPI.rollout('a b');
    await MLOpsAPI.startCanary('a b', { version: 2, steps: '50,100' });
    await MLOpsAPI.abortCanary('a b', 'too slow');
    const base = `/${API_PREFIX}/models/a%20b/rollout`;
    expect(calls.map(c => [c.method, new URL(c.url).pathname])).toEqual([
      ['GET', base],
      ['POST', base],
      ['POST', `${base}/abort`]
    ]);
    expect(await calls[1].json()).toEqual({ version: 2, steps: '50,100' });
    expect(await calls[2].json()).toEqual({ reason: 'too slow' });
  });
});
