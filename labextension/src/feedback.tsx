/**
 * What a view shows while it waits or after it failed: a skeleton that says what is loading
 * (never a blank), and an error said in words with a *Retry*.
 *
 * `ErrorRetry` and `describeError` stand in for the shared error box's own (common.tsx's
 * `ErrorLine` with a `retry` prop, and its `describeError`): once it has them, each
 * `<ErrorRetry error={…} retry={…} />` becomes `<ErrorLine error={…} retry={…} />`.
 */
import { ServerConnection } from '@jupyterlab/services';
import * as React from 'react';

import { ErrorLine } from './common';

/** An error in words: a lost server is said so, an API error is its one line. */
export function describeError(error: unknown): string {
  if (error instanceof ServerConnection.NetworkError) {
    return 'The Jupyter server did not answer: check that it is still running, then retry.';
  }
  return error instanceof Error ? error.message : String(error);
}

export function ErrorRetry(props: {
  error: unknown;
  retry: () => void;
}): JSX.Element | null {
  if (!props.error) {
    return null;
  }
  return (
    <div className="jp-mlops-error-retry">
      <ErrorLine error={describeError(props.error)} />
      <button className="jp-mlops-button" onClick={props.retry}>
        Retry
      </button>
    </div>
  );
}

/** A skeleton of `lines` grey bars, announced as "Loading <what>…". */
export function Loading(props: { what: string; lines?: number }): JSX.Element {
  const lines = props.lines ?? 3;
  return (
    <div
      className="jp-mlops-loading"
      role="status"
      aria-live="polite"
      aria-busy="true"
    >
      <span className="jp-mlops-loading-text">Loading {props.what}…</span>
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} className="jp-mlops-skeleton" aria-hidden="true" />
      ))}
    </div>
  );
}
