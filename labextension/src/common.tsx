/** Pieces the views share: chips, the error line, a loader hook that keeps old data. */
import * as React from 'react';

import type { IGateResult } from './api';

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

export function ErrorLine(props: { error: unknown }): JSX.Element | null {
  if (!props.error) {
    return null;
  }
  const message =
    props.error instanceof Error ? props.error.message : String(props.error);
  return (
    <div className="jp-mlops-error" role="alert">
      {message}
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
  return { data, error, loading, reload };
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
