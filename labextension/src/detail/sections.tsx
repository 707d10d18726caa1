/** The run detail's building blocks: a folding section, a key-value table, "since the previous run". */
import * as React from 'react';

import type { IRunDetail } from '../api';
import { fmtDelta, fmtKeyed, fmtNumber, fmtValue, shortId } from '../format';
import type { PanelModel } from '../model';

export function Section(props: {
  title: string;
  children: React.ReactNode;
  open?: boolean;
}) {
  return (
    <details className="jp-mlops-section" open={props.open ?? true}>
      <summary>{props.title}</summary>
      {props.children}
    </details>
  );
}

export function KeyValues(props: {
  items: Record<string, unknown>;
  highlight?: Set<string>;
}) {
  const keys = Object.keys(props.items);
  if (keys.length === 0) {
    return <div className="jp-mlops-muted">none</div>;
  }
  return (
    <table className="jp-mlops-table jp-mlops-kv">
      <tbody>
        {keys.map(k => (
          <tr
            key={k}
            className={props.highlight?.has(k) ? 'jp-mlops-differs' : ''}
          >
            <th>{k}</th>
            <td>{fmtKeyed(k, props.items[k])}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** What changed since the previous run of the experiment, naming changed columns. */
export function SincePrevious(props: { run: IRunDetail; model: PanelModel }) {
  const d = props.run.since_previous;
  if (!d || !d.previous_id) {
    return (
      <div className="jp-mlops-muted">first run of {props.run.experiment}</div>
    );
  }
  const params = Object.entries(d.params_changed);
  const inputs = Object.entries(d.inputs_changed);
  return (
    <div className="jp-mlops-since">
      <div>
        since{' '}
        <button
          className="jp-mlops-link"
          onClick={() => props.model.openRun(d.previous_id!)}
        >
          {shortId(d.previous_id)}
        </button>
        :
      </div>
      <ul>
        {inputs.map(([name, parts]) => (
          <li key={name} className="jp-mlops-changed-input">
            input <b>{name}</b> changed: {parts.join(', ')}
          </li>
        ))}
        {d.inputs_same.length > 0 && (
          <li>inputs unchanged: {d.inputs_same.join(', ')}</li>
        )}
        {d.inputs_new.length > 0 && (
          <li>new inputs: {d.inputs_new.join(', ')}</li>
        )}
        {params.map(([k, [o, n]]) => (
          <li key={k}>
            param <b>{k}</b>: {fmtValue(o)} → {fmtValue(n)}
          </li>
        ))}
        {Object.entries(d.metric_deltas).map(([k, v]) => (
          <li key={k}>
            metric <b>{k}</b>: {fmtNumber(v.old)} → {fmtNumber(v.new)} (
            {fmtDelta(v.old, v.new)})
          </li>
        ))}
        {inputs.length === 0 && params.length === 0 && (
          <li>same inputs and params</li>
        )}
      </ul>
    </div>
  );
}
