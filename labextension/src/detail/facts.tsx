/** The run's facts (experiment, kind, times, seed, notebook, parent) and its environment. */
import * as React from 'react';

import type { IRunDetail } from '../api';
import { fmtDuration, fmtTime, fmtValue, shortId } from '../format';
import type { PanelModel } from '../model';
import { KeyValues } from './sections';

export function RunFacts(props: {
  run: IRunDetail;
  model: PanelModel;
}): JSX.Element {
  const { run, model } = props;
  return (
    <table className="jp-mlops-table jp-mlops-kv">
      <tbody>
        <tr>
          <th>experiment</th>
          <td>{run.experiment}</td>
        </tr>
        <tr>
          <th>kind</th>
          <td>{run.kind}</td>
        </tr>
        <tr>
          <th>started</th>
          <td>{fmtTime(run.started)}</td>
        </tr>
        <tr>
          <th>duration</th>
          <td>{fmtDuration(run.duration)}</td>
        </tr>
        <tr>
          <th>seed</th>
          <td>{fmtValue(run.seed)}</td>
        </tr>
        {run.notebook && (
          <tr>
            <th>notebook</th>
            <td>{run.notebook}</td>
          </tr>
        )}
        {run.parent_id && (
          <tr>
            <th>parent</th>
            <td>
              <button
                className="jp-mlops-link"
                onClick={() => model.openRun(run.parent_id!)}
              >
                {shortId(run.parent_id)}
              </button>
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

export function RunEnvironment(props: { run: IRunDetail }): JSX.Element {
  const { run } = props;
  return (
    <>
      <KeyValues
        items={{
          environment: run.environment_id,
          host: run.host,
          'peak memory': run.peak_memory,
          'git commit': run.git?.commit,
          'git branch': run.git?.branch,
          'git dirty': run.git?.dirty,
          ...Object.fromEntries(
            Object.entries(run.tags).map(([k, v]) => [`tag ${k}`, v])
          )
        }}
      />
      {run.warnings.length > 0 && (
        <ul>
          {run.warnings.map(w => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
    </>
  );
}
