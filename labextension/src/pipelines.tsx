/**
 * Pipelines: per pipeline its schedule in words with the next firings, the last real run
 * (never a reproduction) with its gate results, the run history, and *Run now* through a
 * parameter form, with the run's progress.
 */
import * as React from 'react';

import type { IPipeline, IRunDetail, Value } from './api';
import {
  ErrorLine,
  GateChip,
  GateTable,
  StatusChip,
  useInterval,
  useLoad
} from './common';
import { Loading } from './feedback';
import { fmtDuration, shortId } from './format';
import type { IPanelContext, PanelModel } from './model';
import { RunForm } from './pipeline-form';
import { Moment, RunHistory, ScheduleRows } from './pipeline-history';

interface IProgress {
  runId: string;
  run: IRunDetail | null; // null until the subprocess has recorded the run
  started: number;
}

function Progress(props: {
  progress: IProgress;
  active: boolean;
  onOpen: (id: string) => void;
}): JSX.Element {
  const { progress, active } = props;
  return (
    <div className="jp-mlops-progress" role="status">
      {progress.run === null ? (
        <>starting run {shortId(progress.runId)}…</>
      ) : (
        <>
          run{' '}
          <button
            className="jp-mlops-link"
            onClick={() => props.onOpen(progress.runId)}
          >
            {shortId(progress.runId)}
          </button>{' '}
          <StatusChip status={progress.run.status} />
          {progress.run.status === 'running'
            ? ` ${Math.round((Date.now() - progress.started) / 1000)} s`
            : ` in ${fmtDuration(progress.run.duration)}`}
          {progress.run.tags?.gates && ` · gates ${progress.run.tags.gates}`}
        </>
      )}
      {active && <progress aria-label="run in progress" />}
    </div>
  );
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
  const [asking, setAsking] = React.useState(false);
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

  const run = async (params: Record<string, Value>) => {
    setError(null);
    const launch = await ctx.api.runPipeline(name, params); // a refusal: shown by the form
    setAsking(false);
    setProgress({ runId: launch.run_id, run: null, started: Date.now() });
  };

  const p = detail.data;
  const last = p?.last_runs[0];
  return (
    <section className="jp-mlops-card jp-mlops-pipeline" data-pipeline={name}>
      <header>
        <h3>{name}</h3>
        <button
          className="jp-mlops-button jp-mod-accept"
          onClick={() => setAsking(!asking)}
          disabled={active || !p}
          aria-expanded={asking}
        >
          {active ? 'Running…' : 'Run now'}
        </button>
      </header>
      <ErrorLine error={detail.error ?? error} retry={detail.reload} />
      {asking && p && (
        <RunForm
          params={p.parameters}
          check={params => ctx.api.checkParams(name, params)}
          run={run}
          onCancel={() => setAsking(false)}
        />
      )}
      {progress && (
        <Progress
          progress={progress}
          active={active}
          onOpen={model.openRun.bind(model)}
        />
      )}
      {!p && detail.loading && <Loading what={`pipeline ${name}`} />}
      {p && (
        <>
          <table className="jp-mlops-table jp-mlops-kv">
            <tbody>
              <tr>
                <th>notebook</th>
                <td className="jp-mlops-wrap">{p.notebook}</td>
              </tr>
              <ScheduleRows p={p} />
              <tr>
                <th>last status</th>
                <td className="jp-mlops-last-status">
                  {last ? (
                    <>
                      <StatusChip status={last.status} />{' '}
                      {last.gates && (
                        <>
                          <GateChip gates={last.gates} />{' '}
                        </>
                      )}
                      <button
                        className="jp-mlops-link"
                        onClick={() => model.openRun(last.id)}
                      >
                        {shortId(last.id)}
                      </button>{' '}
                      <Moment iso={last.started} />
                    </>
                  ) : (
                    'no runs yet'
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
          <h4>Run history</h4>
          <RunHistory runs={p.last_runs} onOpen={id => model.openRun(id)} />
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
      <ErrorLine error={list.error} retry={list.reload} />
      {!list.data && list.loading && <Loading what="pipelines" />}
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
