/**
 * Live updates: follow the server's `GET events` stream (server-sent events) and tell the panel
 * which kinds of record changed, so the visible view reloads itself; nothing polls per view.
 *
 * The stream is read with fetch through `ServerConnection.makeRequest` (not EventSource), so
 * the token and the other connection settings of JupyterLab apply as they do to every other
 * call. A dropped stream reconnects with a growing delay, passing back the last revision: the
 * server's first event then says what changed meanwhile.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { API_PREFIX } from './request';
import type { ChangeKind, Changes } from './types';

/** One server-sent event. */
export interface IServerEvent {
  id: string | null;
  event: string;
  data: string;
}

/** The complete events at the start of `buffer`, and what is left of it (a partial event). */
export function parseEvents(buffer: string): {
  events: IServerEvent[];
  rest: string;
} {
  const text = buffer.replace(/\r\n?/g, '\n');
  const blocks = text.split('\n\n');
  const rest = blocks.pop() ?? '';
  const events: IServerEvent[] = [];
  for (const block of blocks) {
    let id: string | null = null;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) {
        continue; // a comment: the server's keep-alive
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') {
        id = value;
      } else if (field === 'event') {
        event = value;
      } else if (field === 'data') {
        data.push(value);
      }
    }
    if (data.length) {
      events.push({ id, event, data: data.join('\n') });
    }
  }
  return { events, rest };
}

/** Milliseconds to wait before reconnection `attempt` (0, 1, …): doubling, capped. */
export function backoff(attempt: number, base = 500, max = 30_000): number {
  return Math.min(max, base * 2 ** Math.max(0, attempt));
}

export interface ILiveOptions {
  /** Told the kinds of record that changed (never on the first connection's hello). */
  onChange: (kinds: ChangeKind[]) => void;
  /** Told when the stream connects (its first event) and when it drops. */
  onStatus?: (connected: boolean) => void;
  /** Opens the stream (default: `GET events` through ServerConnection). */
  open?: (since: number | null, signal: AbortSignal) => Promise<Response>;
  sleep?: (ms: number) => Promise<void>;
}

/** Opens `GET events?since=REV` with JupyterLab's connection settings. */
export function openEvents(
  since: number | null,
  signal: AbortSignal,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<Response> {
  const query = since === null ? '' : `?since=${since}`;
  const url = URLExt.join(settings.baseUrl, API_PREFIX, 'events') + query;
  return ServerConnection.makeRequest(
    url,
    { signal, cache: 'no-store', headers: { Accept: 'text/event-stream' } },
    settings
  );
}

const wait = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

/** The panel's one subscription to the server's changes. */
export class LiveUpdates {
  private _revision: number | null = null;
  private _abort: AbortController | null = null;
  private _running = false;
  private _connected = false;

  constructor(private readonly _options: ILiveOptions) {}

  /** The last revision the server announced (null before the first event). */
  get revision(): number | null {
    return this._revision;
  }
  get connected(): boolean {
    return this._connected;
  }

  start(): void {
    if (!this._running) {
      this._running = true;
      void this._loop();
    }
  }

  stop(): void {
    this._running = false;
    this._abort?.abort();
  }

  /** Take one event of the stream. */
  handle(event: IServerEvent): void {
    if (event.event !== 'changes') {
      return;
    }
    const change = JSON.parse(event.data) as Changes;
    const hello = this._revision === null;
    this._revision = change.revision;
    if (!hello && change.kinds.length) {
      this._options.onChange(change.kinds);
    }
  }

  private _setConnected(connected: boolean): void {
    if (connected !== this._connected) {
      this._connected = connected;
      this._options.onStatus?.(connected);
    }
  }

  private async _loop(): Promise<void> {
    const open = this._options.open ?? openEvents;
    const sleep = this._options.sleep ?? wait;
    let attempt = 0;
    while (this._running) {
      this._abort = new AbortController();
      try {
        const response = await open(this._revision, this._abort.signal);
        if (!response.ok || !response.body) {
          throw new Error(`events: ${response.status}`);
        }
        await this._read(response.body, () => (attempt = 0));
      } catch {
        // Dropped, refused or unreachable: try again after a pause.
      }
      this._setConnected(false);
      if (this._running) {
        await sleep(backoff(attempt++));
      }
    }
  }

  private async _read(
    body: ReadableStream<Uint8Array>,
    onEvent: () => void
  ): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        return;
      }
      buffer += decoder.decode(value, { stream: true });
      const { events, rest } = parseEvents(buffer);
      buffer = rest;
      for (const event of events) {
        this._setConnected(true);
        onEvent();
        this.handle(event);
      }
    }
  }
}
