/** Pipelines: schedule, next firing, last status, gate results; "Run now" with progress. */
import * as React from 'react';

import type { IPipeline, IRunDetail } from './api';
import {
  ErrorLine,
  GateTable,
  StatusChip,
  useInterval,
  useLoad
} from './common';
import { fmtDuration, fmtTime, shortId } from './format';
import type { IPanelContext, PanelModel } from './model';

interface IProgress {
  runId: string;
  run: IRunDetail | null; // null until the subprocess has recorded the run
  started: number;
}

function PipelineCard(props: {
  ctx: IPanelContext;
  model: PanelModel;
  name: string;
}) {
  const { ctx, model, name } = props;
  const detail = useLoad<IPipeline>(() => ctx.api.pipeline(name), [name]);
  const [progress, setProgress] = React.useState<IProgress | null>(null);
  const [error, setError] = React.useState<unknown>(null);
  const active =
    !!progress && (!progress.run || progress.run.status === 'running');

  const poll = async () => {
    if (!progress) {
      return;
    }
    try {
      const run = await ctx.api.run(progress.runId);
      setProgress({ ...progress, run });
      if (run.status !== 'running') {
        detail.reload();
      }
    } catch (e: any) {
      if (e?.status !== 404) {
        setError(e); // 404: not recorded yet
      }
    }
  };
  useInterval(poll, 1000, active);

  const runNow = async () => {
    setError(null);
    try {
      const launch = await ctx.api.runPipeline(name);
      setProgress({ runId: launch.run_id, run: null, started: Date.now() });
    } catch (e) {
      setError(e);
    }
  };

  const p = detail.data;
  const last = p?.last_runs[0];
  return (
    <section className="jp-mlops-card jp-mlops-pipeline" data-pipeline={name}>
      <header>
        <h3>{name}</h3>
        <button
          className="jp-mlops-button jp-mod-accept"
          onClick={runNow}
          disabled={active}
        >
          {active ? 'Running…' : 'Run now'}
        </button>
      </header>
      <ErrorLine error={detail.error ?? error} />
      {progress && (
        <div className="jp-mlops-progress" role="status">
          {progress.run === null ? (
            <>starting run {shortId(progress.runId)}…</>
          ) : (
            <>
              run{' '}
              <button
                className="jp-mlops-link"
                onClick={() => model.openRun(progress.runId)}
              >
                {shortId(progress.runId)}
              </button>{' '}
              <StatusChip status={progress.run.status} />
              {progress.run.status === 'running'
                ? ` ${Math.round((Date.now() - progress.started) / 1000)} s`
                : ` in ${fmtDuration(progress.run.duration)}`}
              {progress.run.tags?.gates &&
                ` · gates ${progress.run.tags.gates}`}
            </>
          )}
          {active && <progress aria-label="run in progress" />}
        </div>
      )}
      {p && (
        <>
          <table className="jp-mlops-table jp-mlops-kv">
            <tbody>
              <tr>
                <th>notebook</th>
                <td>{p.notebook}</td>
              </tr>
              <tr>
                <th>schedule</th>
                <td>{p.schedule ?? 'manual'}</td>
              </tr>
              <tr>
                <th>next firing</th>
                <td>{fmtTime(p.next_fire)}</td>
              </tr>
              <tr>
                <th>last status</th>
                <td>
                  {last ? (
                    <>
                      <StatusChip status={last.status} />{' '}
                      <button
                        className="jp-mlops-link"
                        onClick={() => model.openRun(last.id)}
                      >
                        {shortId(last.id)}
                      </button>{' '}
                      {fmtTime(last.started)}
                    </>
                  ) : (
                    'never run'
                  )}
                </td>
              </tr>
            </tbody>
          </table>
          <h4>Gates of the last run</h4>
          {last ? (
            <GateTable results={last.gate_results ?? []} />
          ) : (
            <div className="jp-mlops-muted">{p.gates} gates</div>
          )}
        </>
      )}
    </section>
  );
}

export function PipelinesView(props: {
  ctx: IPanelContext;
  model: PanelModel;
}): JSX.Element {
  const list = useLoad(() => props.ctx.api.pipelines(), []);
  const names = (list.data?.pipelines ?? []).map(p => p.name);
  return (
    <div className="jp-mlops-pipelines">
      <ErrorLine error={list.error} />
      {list.data && names.length === 0 && (
        <div className="jp-mlops-muted jp-mlops-pad">
          No pipelines yet: promote a notebook (command “Promote notebook to
          pipeline”).
        </div>
      )}
      {names.map(n => (
        <PipelineCard key={n} ctx={props.ctx} model={props.model} name={n} />
      ))}
    </div>
  );
}
