/**
 * Monitoring: the monitored models with their status (ok / breach / pending: too few labels
 * yet), last batch, blessed and shadow versions; a monitor's detail shows what each check does
 * on a breach (in words), the latest window's drift per column (drifted columns first),
 * performance against its limits, a chart over time with the threshold and breach markers,
 * the breaches and the actions they took, and the shadows against the blessed version. While
 * a monitor loads, a skeleton says so; an error is said in words, with a Retry.
 */
import * as React from 'react';

import type { IMonitorDetail, IMonitorSummary } from './api';
import { SeriesChart } from './charts/monitor';
import { ErrorLine, useLoad } from './common';
import { Loading } from './feedback';
import { fmtNumber, fmtTime } from './format';
import type { IPanelContext, PanelModel } from './model';

export { fmtDay } from './charts/monitor';

function MonitorChip(props: { status: string }): JSX.Element {
  return (
    <span className={`jp-mlops-chip jp-mlops-monitor-${props.status}`}>
      {props.status}
    </span>
  );
}

/** A performance check's limits, as `≥ min and ≤ max`. */
export function limitText(min: number | null, max: number | null): string {
  const parts = [];
  if (min !== null) {
    parts.push(`≥ ${fmtNumber(min)}`);
  }
  if (max !== null) {
    parts.push(`≤ ${fmtNumber(max)}`);
  }
  return parts.join(' and ') || '—';
}

/** A window's columns, drifted ones first (a JS object puts number-like keys first). */
export function driftedFirst<T extends { drifted: boolean }>(
  columns: Record<string, T>
): [string, T][] {
  const entries = Object.entries(columns);
  return [
    ...entries.filter(([, d]) => d.drifted),
    ...entries.filter(([, d]) => !d.drifted)
  ];
}

/** What the monitor's checks do on a breach, in words ("roll back churn to version 2"). */
/** What serving answered and never recorded (a server killed, a full record queue): listed
 * with the breaches and actions, as `jupyter-mlops monitor NAME` lists them. */
export function lostRecords(
  events: IMonitorDetail['events']
): { time: string; kind: string; text: string }[] {
  return events
    .filter(e => e.kind === 'lost' || e.kind === 'overflow')
    .map(e => ({
      time: e.time,
      kind: e.kind === 'lost' ? 'lost' : 'overflow',
      text:
        `${String(e.detail.batches)} batch(es), ${String(e.detail.rows)} rows ` +
        `answered and never recorded (${String(e.detail.why ?? e.status)})`
    }));
}

function CheckPlans(props: { detail: IMonitorDetail }): JSX.Element | null {
  const plans = props.detail.monitor?.plans ?? [];
  if (plans.length === 0) {
    return null;
  }
  return (
    <ul className="jp-mlops-monitor-plans" aria-label="on a breach">
      {plans.map(p => (
        <li key={p.check} data-check={p.check} data-action={p.action}>
          <span className="jp-mlops-plan-check">{p.check}</span>
          <span aria-hidden="true"> → </span>
          <span className="jp-mlops-plan-words">{p.words}</span>
        </li>
      ))}
    </ul>
  );
}

function DriftTable(props: { detail: IMonitorDetail }): JSX.Element {
  const windows = props.detail.windows.filter(w => w.share_drifted !== null);
  const last = windows[windows.length - 1];
  if (!last) {
    return <div className="jp-mlops-muted">no drift measured yet</div>;
  }
  return (
    <>
      <div className="jp-mlops-muted">
        window from {fmtTime(last.start)}: {last.rows} rows in {last.batches}{' '}
        batch
        {last.batches === 1 ? '' : 'es'} of @{last.version}, share drifted{' '}
        {fmtNumber(last.share_drifted)}
      </div>
      <table
        className="jp-mlops-table jp-mlops-drift-table"
        tabIndex={0}
        aria-label="drift per column"
      >
        <thead>
          <tr>
            <th>column</th>
            <th>method</th>
            <th>statistic</th>
            <th>p (adjusted)</th>
            <th>threshold</th>
            <th>drifted</th>
          </tr>
        </thead>
        <tbody>
          {driftedFirst(last.columns).map(([col, d]) => (
            <tr
              key={col}
              data-column={col}
              className={d.drifted ? 'jp-mlops-drifted' : undefined}
              title={
                d.p_value === null
                  ? 'drifts above the threshold'
                  : 'drifts below alpha'
              }
            >
              <td>{col}</td>
              <td>{d.method}</td>
              <td>{fmtNumber(d.statistic)}</td>
              <td>
                {d.p_value === null
                  ? '—'
                  : fmtNumber(d.p_adjusted ?? d.p_value)}
              </td>
              <td>{fmtNumber(d.threshold)}</td>
              <td>{d.drifted ? <MonitorChip status="drifted" /> : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function MonitorDetail(props: {
  ctx: IPanelContext;
  name: string;
  onBack: () => void;
}) {
  const { ctx, name } = props;
  const detail = useLoad<IMonitorDetail>(() => ctx.api.monitor(name), [name]);
  const [column, setColumn] = React.useState('');
  const d = detail.data;
  const columns = d
    ? [...new Set(d.windows.flatMap(w => Object.keys(w.columns)))]
    : [];
  const metric = d?.performance[0]?.metric;
  return (
    <section
      className="jp-mlops-card jp-mlops-monitor-detail"
      data-monitor={name}
    >
      <header>
        <h3>
          {name} {d && <MonitorChip status={d.status} />}
        </h3>
        <button className="jp-mlops-button" onClick={props.onBack}>
          Back
        </button>
      </header>
      <ErrorLine error={detail.error} retry={detail.reload} />
      {!d && detail.loading && <Loading what={`monitor ${name}`} lines={6} />}
      {d && (
        <>
          <div className="jp-mlops-muted">
            model {d.model}: blessed {d.blessed ?? '(none)'}
            {d.monitor ? `; window ${d.monitor.window}` : ''}
          </div>
          {d.monitor && d.monitor.plans.length > 0 && <h4>On a breach</h4>}
          <CheckPlans detail={d} />
          <h4>Drift</h4>
          <DriftTable detail={d} />
          <label className="jp-mlops-inline">
            chart{' '}
            <select
              aria-label="Drift chart column"
              value={column}
              onChange={e => setColumn(e.target.value)}
            >
              <option value="">share of columns drifted</option>
              {columns.map(c => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
          {/* Keyed: a new column's chart loads fresh instead of relabelling the old one. */}
          <SeriesChart
            key={column}
            ctx={ctx}
            name={name}
            kind="drift"
            what={column || undefined}
          />
          <h4>Performance</h4>
          {d.performance.length === 0 ? (
            <div className="jp-mlops-muted">no labelled batches yet</div>
          ) : (
            <table
              className="jp-mlops-table jp-mlops-performance-table"
              tabIndex={0}
              aria-label="performance per version"
            >
              <thead>
                <tr>
                  <th>metric</th>
                  <th>latest window</th>
                  <th>labelled</th>
                  <th>limit</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {d.performance.map(p => (
                  <tr
                    key={p.metric}
                    data-metric={p.metric}
                    className={p.breached ? 'jp-mlops-drifted' : undefined}
                  >
                    <td>{p.metric}</td>
                    <td>{fmtNumber(p.value)}</td>
                    <td>{p.labelled}</td>
                    <td>{limitText(p.min, p.max)}</td>
                    <td>
                      {p.status !== 'ok' ? (
                        <MonitorChip status={p.status} />
                      ) : (
                        ''
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {metric && (
            <SeriesChart
              ctx={ctx}
              name={name}
              kind="performance"
              what={metric}
            />
          )}
          <h4>Breaches and actions</h4>
          {d.breaches.length === 0 &&
          d.actions.length === 0 &&
          lostRecords(d.events).length === 0 ? (
            <div className="jp-mlops-muted">none</div>
          ) : (
            <ul className="jp-mlops-events jp-mlops-monitor-events">
              {[
                ...d.breaches.map(b => ({
                  time: b.time,
                  kind: 'breach',
                  text: b.description
                })),
                ...d.actions.map(a => ({
                  time: a.time,
                  kind: `action ${a.status}`,
                  text: a.description
                })),
                ...lostRecords(d.events)
              ]
                .sort((a, b) => Date.parse(b.time) - Date.parse(a.time))
                .map((e, i) => (
                  <li
                    key={i}
                    className={`jp-mlops-event-${e.kind.split(' ')[0]}`}
                  >
                    {fmtTime(e.time)} — <strong>{e.kind}</strong>: {e.text}
                  </li>
                ))}
            </ul>
          )}
          {d.shadows.length > 0 && (
            <>
              <h4>Shadows</h4>
              <table
                className="jp-mlops-table jp-mlops-shadow-table"
                tabIndex={0}
                aria-label="shadow versions against the blessed one"
              >
                <thead>
                  <tr>
                    <th>version</th>
                    <th>metric</th>
                    <th>shadow</th>
                    <th>blessed</th>
                    <th>won</th>
                  </tr>
                </thead>
                <tbody>
                  {d.shadows.map(s => (
                    <tr key={s.ref} title={s.error ?? undefined}>
                      <td>{s.ref}</td>
                      <td>{s.metric ?? '—'}</td>
                      <td>{fmtNumber(s.shadow)}</td>
                      <td>{fmtNumber(s.blessed)}</td>
                      <td>
                        {s.batches === undefined
                          ? '—'
                          : `${s.won} of ${s.batches}`}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </>
      )}
    </section>
  );
}

function MonitorRow(props: {
  m: IMonitorSummary;
  onOpen: () => void;
}): JSX.Element {
  const { m } = props;
  return (
    <tr
      className="jp-mlops-monitor-row"
      data-monitor={m.name}
      onClick={props.onOpen}
    >
      <td>
        <button className="jp-mlops-link">{m.name}</button>
      </td>
      <td>
        <MonitorChip status={m.status} />
      </td>
      <td>{m.error ?? m.model}</td>
      <td>{m.blessed ?? '—'}</td>
      <td>{m.shadows?.length ? m.shadows.join(', ') : '—'}</td>
      <td>{fmtTime(m.last_batch)}</td>
      <td>{fmtTime(m.last_breach)}</td>
    </tr>
  );
}

export function MonitoringView(props: {
  ctx: IPanelContext;
  model: PanelModel;
}): JSX.Element {
  const list = useLoad(() => props.ctx.api.monitors(), []);
  const [open, setOpen] = React.useState<string | null>(null);
  const monitors = list.data?.monitors ?? [];
  if (open) {
    return (
      <MonitorDetail
        ctx={props.ctx}
        name={open}
        onBack={() => {
          setOpen(null);
          list.reload();
        }}
      />
    );
  }
  return (
    <div className="jp-mlops-monitoring">
      <ErrorLine error={list.error} retry={list.reload} />
      {!list.data && list.loading && <Loading what="monitors" />}
      {list.data && monitors.length === 0 && (
        <div className="jp-mlops-muted jp-mlops-pad">
          No monitors yet: write monitors/NAME.yaml or a monitor: key in a
          pipeline spec.
        </div>
      )}
      {monitors.length > 0 && (
        <table className="jp-mlops-table jp-mlops-monitors">
          <thead>
            <tr>
              <th>monitor</th>
              <th>status</th>
              <th>model</th>
              <th>blessed</th>
              <th>shadows</th>
              <th>last batch</th>
              <th>last breach</th>
            </tr>
          </thead>
          <tbody>
            {monitors.map(m => (
              <MonitorRow key={m.name} m={m} onOpen={() => setOpen(m.name)} />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
