/**
 * What a view shows while it waits: a skeleton that says what is loading, never a blank.
 * (An error is common.tsx's ErrorLine: in words, with a Retry.)
 */
import * as React from 'react';

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
