/** The data a run read and wrote, with what changed since the previous run. */
import * as React from 'react';

import type { IRunDetail } from '../api';

export function DataTable(props: { run: IRunDetail }): JSX.Element {
  const { run } = props;
  if (run.data.length === 0) {
    return <div className="jp-mlops-muted">none logged</div>;
  }
  return (
    <div
      className="jp-mlops-detail-scroll"
      tabIndex={0}
      role="region"
      aria-label="data"
    >
      <table className="jp-mlops-table jp-mlops-data-table">
        <thead>
          <tr>
            <th>name</th>
            <th>role</th>
            <th>shape</th>
            <th>fingerprint</th>
            <th>changed</th>
          </tr>
        </thead>
        <tbody>
          {run.data.map(d => {
            const changed = run.since_previous?.inputs_changed?.[d.name];
            return (
              <tr
                key={`${d.role}:${d.name}`}
                className={changed ? 'jp-mlops-differs' : ''}
                data-role={d.role}
                data-name={d.name}
              >
                <td>{d.name}</td>
                <td>{d.role}</td>
                <td>{d.shape ? d.shape.join(' × ') : '—'}</td>
                <td>
                  <code>{d.hash.slice(0, 10)}</code>
                </td>
                <td>{changed ? changed.join(', ') : ''}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
