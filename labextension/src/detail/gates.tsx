/** The run's gates: failed first, each with its value in its unit, threshold and message. */
import * as React from 'react';

import type { IGateLine } from '../api';
import { observedText, sortGates } from './format';

export function GateList(props: { gates: readonly IGateLine[] }): JSX.Element {
  if (props.gates.length === 0) {
    return <div className="jp-mlops-muted">no gates</div>;
  }
  return (
    <ul className="jp-mlops-gate-list" aria-label="gates">
      {sortGates(props.gates).map(g => (
        <li
          key={g.gate}
          className={`jp-mlops-gate-line jp-mlops-gate-line-${g.status}`}
          data-gate={g.gate}
          data-status={g.status}
        >
          <div className="jp-mlops-gate-head">
            <span className={`jp-mlops-chip jp-mlops-gate-${g.status}`}>
              {g.status}
            </span>
            <span className="jp-mlops-gate-name">{g.gate}</span>
          </div>
          <dl className="jp-mlops-gate-values">
            <div>
              <dt>observed</dt>
              <dd className="jp-mlops-gate-observed">{observedText(g)}</dd>
            </div>
            <div>
              <dt>threshold</dt>
              <dd className="jp-mlops-gate-threshold">{g.threshold || '—'}</dd>
            </div>
          </dl>
          {g.message && (
            <div className="jp-mlops-gate-message">{g.message}</div>
          )}
        </li>
      ))}
    </ul>
  );
}
