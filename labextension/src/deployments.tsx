/**
 * The Deployments section of a model card (`GET models/NAME/rollout`): the canary's state and
 * next look, the arms and their shares (a share bar), each arm's evidence (rows, error rate,
 * p50/p99, labels, the metric with its always-valid interval, as a table and as a band chart),
 * the look of now, the plan, and the trail of decisions newest first. *Abort* (a reason asked)
 * while a canary runs; *Start canary* sits beside *Bless* in the versions table (models.tsx).
 * The card reloads it with the models view's live updates (each look and step is a model
 * event), and every 10 s while a canary runs (rows and labels arrive between looks).
 */
import * as React from 'react';

import type { IArm, IDecision, IDeployment } from './api';
import {
  describePlan,
  fmtDifference,
  fmtInterval,
  fmtMs,
  fmtShare,
  lookNow,
  newestFirst,
  shareParts
} from './canary';
import { bandOption, bandRows } from './charts/bands';
import { EChart } from './charts/echart';
import { useChartTheme } from './charts/theme';
import { fmtNumber, fmtTime } from './format';

function ShareBar(props: { d: IDeployment }): JSX.Element | null {
  const parts = shareParts(props.d);
  if (!parts.length) {
    return null;
  }
  const said = parts
    .map(p => `${p.arm} v${p.version} ${fmtShare(p.percent / 100)}`)
    .join(', ');
  return (
    <div className="jp-mlops-share">
      <div className="jp-mlops-share-bar" role="img" aria-label={said}>
        {parts.map(p => (
          <span
            key={p.arm}
            className={`jp-mlops-share-${p.arm}`}
            style={{ width: `${p.percent}%` }}
          />
        ))}
      </div>
      <div className="jp-mlops-share-legend">
        {parts.map(p => (
          <span key={p.arm} className={`jp-mlops-share-key-${p.arm}`}>
            {p.arm} v{p.version}: {fmtShare(p.percent / 100)}
          </span>
        ))}
      </div>
    </div>
  );
}

function ArmTable(props: { arms: IArm[]; metric: string }): JSX.Element {
  // Focusable: a keyboard user can scroll the table sideways when the card is narrower.
  return (
    <div
      className="jp-mlops-arms-scroll"
      tabIndex={0}
      role="region"
      aria-label="Evidence per arm"
    >
      <table className="jp-mlops-table jp-mlops-arms">
        <thead>
          <tr>
            <th>arm</th>
            <th>rows</th>
            <th>error rate</th>
            <th>p50 / p99</th>
            <th>labels</th>
            <th>{props.metric} [interval]</th>
            <th>distance</th>
          </tr>
        </thead>
        <tbody>
          {props.arms.map(a => (
            <tr key={a.arm} data-arm={a.arm}>
              <td data-label="arm">
                {a.arm} v{a.version}
              </td>
              <td data-label="rows" className="jp-mlops-num">
                {a.rows}
              </td>
              <td data-label="error rate" className="jp-mlops-num">
                {fmtShare(a.error_rate)}
              </td>
              <td data-label="p50 / p99" className="jp-mlops-num">
                {fmtMs(a.p50_ms)} / {fmtMs(a.p99_ms)}
              </td>
              <td data-label="labels" className="jp-mlops-num">
                {a.labels}
              </td>
              <td data-label={props.metric} className="jp-mlops-num">
                {fmtInterval(a)}
              </td>
              <td data-label="distance" className="jp-mlops-num">
                {fmtNumber(a.distance)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function BandChart(props: { arms: IArm[]; metric: string }): JSX.Element {
  const theme = useChartTheme();
  const { arms, metric } = props;
  const option = React.useMemo(
    () => bandOption(arms, metric, theme),
    [JSON.stringify(arms), metric, theme]
  );
  const said = bandRows(arms)
    .reverse()
    .map(a => `${a.arm} v${a.version} ${fmtInterval(a)}`)
    .join('; ');
  return (
    <div className="jp-mlops-chart jp-mlops-band-chart">
      <EChart
        option={option}
        height={40 + 34 * bandRows(arms).length}
        label={`${metric} with its always-valid interval per arm: ${said}`}
      />
    </div>
  );
}

function Trail(props: { trail: IDecision[] }): JSX.Element | null {
  if (!props.trail.length) {
    return null;
  }
  return (
    <details className="jp-mlops-section jp-mlops-trail" open>
      <summary>Decisions</summary>
      <ol className="jp-mlops-events" reversed>
        {newestFirst(props.trail).map(x => (
          <li key={x.seq} data-seq={x.seq}>
            {fmtTime(x.time)} —{' '}
            <span className={`jp-mlops-chip jp-mlops-decision-${x.decision}`}>
              {x.decision}
            </span>
            {x.share !== null ? ` at ${fmtShare(x.share)}` : ''}
            {x.reason ? `: ${x.reason}` : ''}
          </li>
        ))}
      </ol>
    </details>
  );
}

/** The model's deployment; nothing while it never had a canary. */
export function DeploymentSection(props: {
  d: IDeployment;
  busy: boolean;
  onAbort: () => void;
}): JSX.Element | null {
  const { d } = props;
  if (d.state === 'none') {
    return null;
  }
  const running = d.state === 'running';
  const metric = typeof d.plan.metric === 'string' ? d.plan.metric : 'metric';
  const look = lookNow(d);
  const charted = d.arms.some(a => a.metric !== null);
  return (
    <section
      className="jp-mlops-deployment"
      data-state={d.state}
      aria-label={`Deployment of ${d.name}`}
    >
      <div className="jp-mlops-deployment-head">
        <h4>Deployment</h4>
        <span className={`jp-mlops-chip jp-mlops-rollout-${d.state}`}>
          {d.state.replace('_', ' ')}
        </span>
        <span>
          canary v{d.candidate} vs blessed v{d.baseline}
        </span>
        {running && (
          <button
            className="jp-mlops-button"
            disabled={props.busy}
            onClick={props.onAbort}
          >
            Abort
          </button>
        )}
      </div>
      {running && (
        <div className="jp-mlops-deployment-when">
          step {(d.step ?? 0) + 1}, next look {fmtTime(d.next_look)}
        </div>
      )}
      <ShareBar d={d} />
      {d.arms.length > 0 && <ArmTable arms={d.arms} metric={metric} />}
      {charted && <BandChart arms={d.arms} metric={metric} />}
      {look && (
        <div className="jp-mlops-look-now">
          look now: <strong>{look.decision}</strong>
          {look.diff !== null && ` (difference ${fmtDifference(look)})`}
          {look.reason ? `: ${look.reason}` : ''}
          {look.breaches.length > 0 &&
            ` — guardrail breached: ${look.breaches.join('; ')}`}
        </div>
      )}
      <div className="jp-mlops-muted jp-mlops-plan">
        plan: {describePlan(d.plan)}
      </div>
      <Trail trail={d.trail} />
    </section>
  );
}
