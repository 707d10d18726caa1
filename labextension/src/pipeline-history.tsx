/** A pipeline's schedule in words with its next firings, and its run history. */
import * as React from 'react';

import type { IPipelineRun, IPipelineSummary } from './api';
import { GateChip, StatusChip } from './common';
import { fmtDuration, fmtTime, shortId } from './format';

/** A moment, compact (`Jan 9, 16:50`), in the reader's time zone; the full time on hover. */
export function fmtShort(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) {
    return iso;
  }
  return d.toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false
  });
}

export function Moment(props: { iso: string }): JSX.Element {
  return (
    <time dateTime={props.iso} title={fmtTime(props.iso)}>
      {fmtShort(props.iso)}
    </time>
  );
}

/** The schedule in words (the cron expression beside it) and the next firings. */
export function ScheduleRows(props: { p: IPipelineSummary }): JSX.Element {
  const { p } = props;
  if (!p.schedule) {
    return (
      <tr>
        <th>schedule</th>
        <td className="jp-mlops-schedule">manual (no schedule)</td>
      </tr>
    );
  }
  return (
    <>
      <tr>
        <th>schedule</th>
        <td className="jp-mlops-schedule">
          <span className="jp-mlops-schedule-words">
            {p.schedule_text ?? p.schedule}
          </span>{' '}
          <code className="jp-mlops-cron">{p.schedule}</code>
        </td>
      </tr>
      <tr>
        <th>next</th>
        <td>
          <ul className="jp-mlops-next-fires" aria-label="next firings">
            {p.next_fires.map(t => (
              <li key={t}>
                <Moment iso={t} />
              </li>
            ))}
          </ul>
        </td>
      </tr>
    </>
  );
}

/** Recent real runs, newest first; each opens its run detail. */
export function RunHistory(props: {
  runs: IPipelineRun[];
  onOpen: (id: string) => void;
}): JSX.Element {
  if (props.runs.length === 0) {
    return <div className="jp-mlops-muted">no runs yet</div>;
  }
  return (
    <ol className="jp-mlops-history" aria-label="run history">
      {props.runs.map(r => (
        <li key={r.id} data-run={r.id}>
          <button
            className="jp-mlops-history-run"
            onClick={() => props.onOpen(r.id)}
            title={`open run ${r.id}`}
          >
            <span className="jp-mlops-history-id">{shortId(r.id)}</span>
            <StatusChip status={r.status} />
            <GateChip gates={r.gates} />
            <span className="jp-mlops-history-duration">
              {fmtDuration(r.duration)}
            </span>
            <span className="jp-mlops-history-start">
              <Moment iso={r.started} />
            </span>
          </button>
        </li>
      ))}
    </ol>
  );
}
