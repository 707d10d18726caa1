/** One run: params, metrics (charts of stepped ones), inputs and what changed, and actions. */
import * as React from 'react';

import type { IMetricSeries, IReproduction, IRunDetail } from './api';
import { LineChart } from './chart';
import {
  ErrorLine,
  GateTable,
  StatusChip,
  useInterval,
  useLoad
} from './common';
import {
  fmtDelta,
  fmtDuration,
  fmtKeyed,
  fmtNumber,
  fmtTime,
  fmtValue,
  shortId
} from './format';
import type { IPanelContext, PanelModel } from './model';

function Section(props: {
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

function KeyValues(props: {
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
function SincePrevious(props: { run: IRunDetail; model: PanelModel }) {
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

function SteppedMetrics(props: { ctx: IPanelContext; run: IRunDetail }) {
  const { ctx, run } = props;
  const keys = Object.keys(run.metrics);
  const series = useLoad<IMetricSeries[]>(
    () => Promise.all(keys.map(k => ctx.api.metric(run.id, k))),
    [run.id, keys.join(',')]
  );
  const stepped = (series.data ?? []).filter(s => s.steps.length > 1);
  if (stepped.length === 0) {
    return null;
  }
  return (
    <div className="jp-mlops-charts">
      {stepped.map(s => (
        <div key={s.key}>
          <div className="jp-mlops-chart-title">{s.key}</div>
          <LineChart
            title={s.key}
            series={[
              {
                label: s.key,
                points: s.steps.map(p => ({ x: p.step, y: p.value ?? NaN }))
              }
            ]}
          />
        </div>
      ))}
    </div>
  );
}

export function RunDetailView(props: {
  ctx: IPanelContext;
  model: PanelModel;
  runId: string;
}): JSX.Element {
  const { ctx, model, runId } = props;
  const detail = useLoad(() => ctx.api.run(runId), [runId]);
  const run = detail.data;
  useInterval(
    detail.reload,
    model.settings.refreshInterval,
    run?.status === 'running'
  );
  const [repro, setRepro] = React.useState<IReproduction | null>(null);
  const [reproBusy, setReproBusy] = React.useState(false);
  const [actionError, setActionError] = React.useState<unknown>(null);

  const reproduce = async () => {
    setReproBusy(true);
    setRepro(null);
    setActionError(null);
    try {
      setRepro(await ctx.api.reproduce(runId));
    } catch (e) {
      setActionError(e);
    } finally {
      setReproBusy(false);
    }
  };
  const openNotebook = async () => {
    setActionError(null);
    try {
      await ctx.openOutputNotebook(await ctx.api.outputNotebook(runId));
    } catch (e) {
      setActionError(e);
    }
  };

  return (
    <div className="jp-mlops-detail">
      <div className="jp-mlops-toolbar">
        <button className="jp-mlops-button" onClick={() => model.closeRun()}>
          ‹ Runs
        </button>
      </div>
      <ErrorLine error={detail.error} />
      {run && (
        <>
          <h2 className="jp-mlops-title">
            <StatusChip status={run.status} /> {run.name ?? run.experiment}{' '}
            <code className="jp-mlops-runid" title={run.id}>
              {run.id}
            </code>
          </h2>
          <div className="jp-mlops-actions">
            <button
              className="jp-mlops-button"
              onClick={() => ctx.copy(run.id)}
            >
              Copy id
            </button>
            {run.output_notebook && (
              <button className="jp-mlops-button" onClick={openNotebook}>
                Open output notebook
              </button>
            )}
            <button
              className="jp-mlops-button"
              onClick={reproduce}
              disabled={reproBusy || run.status === 'running'}
            >
              {reproBusy ? 'Reproducing…' : 'Reproduce'}
            </button>
          </div>
          <ErrorLine error={actionError} />
          {repro && (
            <div
              className={`jp-mlops-verdict jp-mlops-verdict-${repro.verdict.replace(' ', '-')}`}
            >
              <b>{repro.verdict}</b>
              {repro.message && ` — ${repro.message}`}
              {repro.new && (
                <>
                  {' '}
                  (new run{' '}
                  <button
                    className="jp-mlops-link"
                    onClick={() => model.openRun(repro.new!)}
                  >
                    {shortId(repro.new)}
                  </button>
                  )
                </>
              )}
            </div>
          )}
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
          {run.error && (
            <Section title="Error">
              <pre className="jp-mlops-pre jp-mlops-run-error">{run.error}</pre>
            </Section>
          )}
          <Section title="Since the previous run">
            <SincePrevious run={run} model={model} />
          </Section>
          <Section title="Params">
            <KeyValues
              items={run.params}
              highlight={
                new Set(Object.keys(run.since_previous?.params_changed ?? {}))
              }
            />
          </Section>
          <Section title="Metrics">
            <KeyValues items={run.metrics} />
            <SteppedMetrics ctx={ctx} run={run} />
          </Section>
          {run.gate_results.length > 0 && (
            <Section title="Gates">
              <GateTable results={run.gate_results} />
            </Section>
          )}
          <Section title="Data">
            {run.data.length === 0 ? (
              <div className="jp-mlops-muted">none logged</div>
            ) : (
              <table className="jp-mlops-table">
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
                    const changed =
                      run.since_previous?.inputs_changed?.[d.name];
                    return (
                      <tr
                        key={`${d.role}:${d.name}`}
                        className={changed ? 'jp-mlops-differs' : ''}
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
            )}
          </Section>
          {run.models.length > 0 && (
            <Section title="Models">
              <ul>
                {run.models.map(m => (
                  <li key={`${m.name}@${m.version}`}>
                    {m.name}@{m.version}{' '}
                    <span className={`jp-mlops-chip jp-mlops-stage-${m.stage}`}>
                      {m.stage}
                    </span>
                  </li>
                ))}
              </ul>
            </Section>
          )}
          <Section title="Artifacts" open={run.artifacts.length > 0}>
            {run.artifacts.length === 0 ? (
              <div className="jp-mlops-muted">none</div>
            ) : (
              <ul className="jp-mlops-artifacts">
                {run.artifacts.map(a => (
                  <li key={a.name}>
                    <a
                      href={ctx.api.artifactURL(run.id, a.name, ctx.baseUrl)}
                      download
                    >
                      {a.name}
                    </a>{' '}
                    <span className="jp-mlops-muted">
                      {a.kind}, {a.size} B
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </Section>
          {run.children.length > 0 && (
            <Section title={`Children (${run.children.length})`}>
              <ul>
                {run.children.map(c => (
                  <li key={c}>
                    <button
                      className="jp-mlops-link"
                      onClick={() => model.openRun(c)}
                    >
                      {shortId(c)}
                    </button>
                  </li>
                ))}
              </ul>
            </Section>
          )}
          <Section title="Code" open={false}>
            <pre className="jp-mlops-pre">{run.code ?? 'not recorded'}</pre>
          </Section>
          <Section title="Environment" open={false}>
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
          </Section>
        </>
      )}
    </div>
  );
}
