/** The run's title: a chip with its status and, when they failed or warned, its gates. */
import * as React from 'react';

import type { IRunDetail } from '../api';
import { headerChip } from './format';

export function RunHeader(props: { run: IRunDetail }): JSX.Element {
  const { run } = props;
  const chip = headerChip(run.status, run.gate_outcome);
  return (
    <h2 className="jp-mlops-title jp-mlops-detail-title">
      <span
        className={`jp-mlops-chip jp-mlops-detail-status ${chip.className}`}
        data-status={run.status}
        data-gates={run.gate_outcome ?? ''}
      >
        {chip.label}
      </span>{' '}
      <span className="jp-mlops-detail-name">{run.name ?? run.experiment}</span>{' '}
      <code className="jp-mlops-runid" title={run.id}>
        {run.id}
      </code>
    </h2>
  );
}
