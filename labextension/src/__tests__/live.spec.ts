import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it, vi } from 'vitest';

import { describeError, isRetryable } from '../common';
import { backoff, LiveUpdates, openEvents, parseEvents } from '../live';
import { PanelModel } from '../model';
import { APIError } from '../request';
import type { ChangeKind } from '../types';

const event = (revision: number, since: number | null, kinds: string[]) =>
  `id: ${revision}\nevent: changes\ndata: ${JSON.stringify({ revision, since, kinds })}\n\n`;

/** A streamed response whose body yields `chunks`, then stays open until `close()`. */
function streaming(chunks: string[]) {
  let close = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) {
        controller.enqueue(new TextEncoder().encode(c));
      }
      close = () => controller.close();
    }
  });
  return {
    response: new Response(body, { status: 200 }),
    close: () => close()
  };
}

const tick = () => new Promise(r => setTimeout(r, 0));

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) {
    await tick();
  }
  expect(cond()).toBe(true);
}

describe('parseEvents', () => {
  it('splits complete events, skips comments and keeps a partial one', () => {
    const text = `: keep-alive\n\n${event(5, null, ['runs'])}id: 6\nevent: chan`;
    const { events, rest } = parseEvents(text);
    expect(events).toEqual([
      {
        id: '5',
        event: 'changes',
        data: '{"revision":5,"since":null,"kinds":["runs"]}'
      }
    ]);
    expect(rest).toBe('id: 6\nevent: chan');
    expect(parseEvents(`${rest}ges\ndata: {}\n\n`).events[0]).toEqual({
      id: '6',
      event: 'changes',
      data: '{}'
    });
  });

  it('reads CRLF line ends and multi-line data', () => {
    const { events } = parseEvents('data: a\r\ndata: b\r\n\r\n');
    expect(events).toEqual([{ id: null, event: 'message', data: 'a\nb' }]);
  });
});

describe('backoff', () => {
  it('doubles from half a second and stops at the cap', () => {
    expect([0, 1, 2, 3].map(a => backoff(a))).toEqual([500, 1000, 2000, 4000]);
    expect(backoff(30)).toBe(30_000);
  });
});

describe('LiveUpdates', () => {
  it('reports changes after the hello, and reconnects with the last revision', async () => {
    const seen: ChangeKind[][] = [];
    const first = streaming([
      event(10, null, ['runs', 'models']),
      event(11, 10, ['runs'])
    ]);
    const second = streaming([event(13, 11, ['models'])]);
    const opened: (number | null)[] = [];
    const sleeps: number[] = [];
    const statuses: boolean[] = [];
    const live = new LiveUpdates({
      onChange: kinds => seen.push(kinds),
      onStatus: connected => statuses.push(connected),
      open: async since => {
        opened.push(since);
        return opened.length === 1 ? first.response : second.response;
      },
      sleep: async ms => {
        sleeps.push(ms);
      }
    });
    live.start();
    await until(() => live.revision === 11);
    expect(seen).toEqual([['runs']]); // the hello (every kind) reloads nothing
    first.close(); // the server went away
    await until(() => live.revision === 13);
    expect(opened).toEqual([null, 11]);
    expect(seen).toEqual([['runs'], ['models']]);
    expect(sleeps).toEqual([500]); // it had connected: back to the shortest pause
    expect(statuses).toEqual([true, false, true]);
    live.stop();
    second.close();
  });

  it('backs off while the server refuses or cannot be reached', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const live = new LiveUpdates({
      onChange: () => {},
      open: async () => {
        calls++;
        if (calls === 1) {
          throw new TypeError('Failed to fetch');
        }
        return new Response('{"error": "no"}', { status: 503 });
      },
      sleep: async ms => {
        sleeps.push(ms);
        if (sleeps.length === 4) {
          live.stop();
        }
      }
    });
    live.start();
    await until(() => sleeps.length === 4);
    expect(sleeps).toEqual([500, 1000, 2000, 4000]);
    expect(live.connected).toBe(false);
  });

  it('opens GET events through ServerConnection with the token', async () => {
    const fetch = vi.fn(
      async (_: Request) => new Response('', { status: 200 })
    );
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/base/',
      token: 'secret',
      fetch: fetch as unknown as typeof globalThis.fetch
    });
    await openEvents(42, new AbortController().signal, settings);
    const request = fetch.mock.calls[0][0];
    // (ServerConnection adds a cache-busting number to a no-store request)
    expect(request.url).toMatch(
      /^http:\/\/localhost:8888\/base\/jupyter-mlops\/api\/events\?since=42(&\d+)?$/
    );
    expect(request.headers.get('Authorization')).toBe('token secret');
  });
});

describe('PanelModel store changes', () => {
  it('tells the views a change of what they show; a refresh is every kind', () => {
    const model = new PanelModel();
    const got: (readonly ChangeKind[])[] = [];
    model.storeChanged.connect((_, kinds) => got.push(kinds));
    model.storeChangedBy(['models']);
    expect(model.shows(['models'])).toBe(false); // the runs view is on screen
    expect(model.shows(['runs'])).toBe(true);
    model.show('models');
    expect(model.shows(['models'])).toBe(true);
    model.openRun('abc');
    expect(model.shows(['runs'])).toBe(true); // a run's detail shows runs
    model.refresh();
    expect(got.length).toBe(3); // the change, the tab switch, the refresh
    expect(got[2]).toEqual(['runs', 'pipelines', 'models', 'monitors']);
    model.storeChangedBy([]);
    expect(got.length).toBe(3);
  });
});

describe('describeError', () => {
  it('says the server cannot be reached instead of "Failed to fetch"', () => {
    const offline = new ServerConnection.NetworkError(
      new TypeError('Failed to fetch')
    );
    expect(describeError(offline)).toMatch(
      /^Cannot reach the Jupyter server: is it running\?/
    );
    expect(describeError(new TypeError('Failed to fetch'))).toMatch(
      /Cannot reach/
    );
    expect(isRetryable(offline)).toBe(true);
  });

  it("keeps the server's own words for a client mistake, with no Retry", () => {
    const missing = new APIError("Run 'zz' not found", 404);
    expect(describeError(missing)).toBe("Run 'zz' not found");
    expect(isRetryable(missing)).toBe(false);
    const failed = new APIError('internal error: boom', 500);
    expect(describeError(failed)).toMatch(
      /failed to answer \(500\): internal error/
    );
    expect(isRetryable(failed)).toBe(true);
    expect(describeError(new APIError('Forbidden', 403))).toMatch(
      /session may have expired/
    );
  });
});
