import { describe, expect, it } from 'vitest';

import { lostRecords } from '../monitoring';

describe('the records serving lost', () => {
  it('lists lost and overflow events, not evaluations', () => {
    const events = [
      { time: 't1', kind: 'evaluation', status: 'ok', detail: {} },
      {
        time: 't2',
        kind: 'lost',
        status: 'killed',
        detail: { batches: 3, rows: 30, why: 'server process 12 ended' }
      },
      {
        time: 't3',
        kind: 'overflow',
        status: 'dropped',
        detail: { batches: 1, rows: 2 }
      }
    ];
    expect(lostRecords(events)).toEqual([
      {
        time: 't2',
        kind: 'lost',
        text: '3 batch(es), 30 rows answered and never recorded (server process 12 ended)'
      },
      {
        time: 't3',
        kind: 'overflow',
        text: '1 batch(es), 2 rows answered and never recorded (dropped)'
      }
    ]);
  });
});
