/** Pieces the views share: chips, the error line, a loader hook that keeps old data. */
import { ServerConnection } from '@jupyterlab/services';
import * as React from 'react';

import type { IGateResult } from './api';
import type { PanelModel } from './model';
import { APIError } from './request';
import type { ChangeKind } from './types';

/**
 * The panel's model, for what every view does alike: `useLoad` reloads when the store
 * changes what the visible view shows, and `ErrorLine`'s Retry reloads the view.
 */
export const PanelModelContext = React.createContext<PanelModel | null>(null);

export function StatusChip(props: {
  status: string | null | undefined;
}): JSX.Element {
  const s = props.status ?? 'unknown';
  return <span className={`jp-mlops-chip jp-mlops-status-${s}`}>{s}</span>;
}

export function GateChip(props: {
  gates: string | null | undefined;
}): JSX.Element | null {
  if (!props.gates) {
    return <span className="jp-mlops-muted">—</span>;
  }
  return (
    <span className={`jp-mlops-chip jp-mlops-gates-${props.gates}`}>
      {props.gates}
    </span>
  );
}

/** What went wrong, in words a user can act on. */
export function describeError(error: unknown): string {
  if (isNetworkError(error)) {
    return 'Cannot reach the Jupyter server: is it running? Check the terminal that started it.';
  }
  if (error instanceof APIError) {
    if (error.status === 403) {
      return 'The Jupyter server refused the request (403): the session may have expired; reload the page to sign in again.';
    }
    if (error.status >= 500) {
      return `The Jupyter server failed to answer (${error.status}): ${error.message}`;
    }
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

function isNetworkError(error: unknown): boolean {
  return (
    error instanceof ServerConnection.NetworkError ||
    (error instanceof TypeError &&
      /fetch|network|load failed/i.test(error.message))
  );
}

/** Whether trying again may help: the server unreachable or failing, not a refused request. */
export function isRetryable(error: unknown): boolean {
  return (
    isNetworkError(error) || !(error instanceof APIError) || error.status >= 500
  );
}

/**
 * The error box of every view: what happened, in words, and a Retry button. Retry calls
 * `retry`, or else reloads the view (every load on screen runs again); without `retry` it is
 * offered only where trying again may help (the server unreachable or failing).
 */
export function ErrorLine(props: {
  error: unknown;
  retry?: () => void;
}): JSX.Element | null {
  const model = React.useContext(PanelModelContext);
  if (!props.error) {
    return null;
  }
  const retry =
    props.retry ??
    (model && isRetryable(props.error) ? () => model.refresh() : undefined);
  return (
    <div className="jp-mlops-error" role="alert">
      <span className="jp-mlops-error-text">{describeError(props.error)}</span>
      {retry && (
        <button type="button" className="jp-mlops-retry" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function GateTable(props: { results: IGateResult[] }): JSX.Element {
  if (props.results.length === 0) {
    return <div className="jp-mlops-muted">no gates</div>;
  }
  return (
    <table className="jp-mlops-table jp-mlops-gate-table">
      <thead>
        <tr>
          <th>check</th>
          <th>result</th>
          <th>observed</th>
          <th>threshold</th>
        </tr>
      </thead>
      <tbody>
        {props.results.map(g => (
          <tr key={g.gate} title={g.message}>
            <td>{g.gate}</td>
            <td>
              <span className={`jp-mlops-chip jp-mlops-gate-${g.status}`}>
                {g.status}
              </span>
            </td>
            <td>
              {typeof g.observed === 'object'
                ? JSON.stringify(g.observed)
                : String(g.observed)}
            </td>
            <td>{g.threshold ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface ILoad<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Load `fn()` whenever `deps` change. The last data stays on screen while a new load runs, so
 * a refresh never blanks the view; an answer that arrives after a newer request is dropped.
 */
export function useLoad<T>(
  fn: () => Promise<T>,
  deps: React.DependencyList
): ILoad<T> {
  const [data, setData] = React.useState<T | null>(null);
  const [error, setError] = React.useState<unknown>(null);
  const [loading, setLoading] = React.useState(true);
  const [tick, setTick] = React.useState(0);
  const seq = React.useRef(0);
  React.useEffect(() => {
    const mine = ++seq.current;
    setLoading(true);
    fn().then(
      d => {
        if (mine === seq.current) {
          setData(d);
          setError(null);
          setLoading(false);
        }
      },
      e => {
        if (mine === seq.current) {
          setError(e);
          setLoading(false);
        }
      }
    );
  }, [...deps, tick]);
  const reload = React.useCallback(() => setTick(t => t + 1), []);
  useStoreChanges(reload);
  return { data, error, loading, reload };
}

/** Call `reload` when the store changes what the panel shows now (pushed by the server, or
 * the refresh button): see `PanelModel.shows`. */
export function useStoreChanges(reload: () => void): void {
  const model = React.useContext(PanelModelContext);
  React.useEffect(() => {
    if (!model) {
      return;
    }
    const onChange = (m: PanelModel, kinds: readonly ChangeKind[]) => {
      if (m.shows(kinds)) {
        reload();
      }
    };
    model.storeChanged.connect(onChange);
    return () => {
      model.storeChanged.disconnect(onChange);
    };
  }, [model, reload]);
}

/** Call `fn` every `ms` while `active`. */
export function useInterval(fn: () => void, ms: number, active: boolean): void {
  const saved = React.useRef(fn);
  saved.current = fn;
  React.useEffect(() => {
    if (!active) {
      return;
    }
    const t = window.setInterval(() => saved.current(), ms);
    return () => window.clearInterval(t);
  }, [ms, active]);
}
