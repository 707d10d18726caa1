/** One run: its header (status and gates), facts, params, metrics, gates, data, artifacts with
 * previews, and actions. The pieces live in src/detail/. */
import * as React from 'react';

import type { IReproduction } from './api';
import { ErrorLine, useInterval, useLoad } from './common';
import { ArtifactList } from './detail/artifacts';
import { DataTable } from './detail/data';
import { RunEnvironment, RunFacts } from './detail/facts';
import { GateList } from './detail/gates';
import { RunHeader } from './detail/header';
import { SteppedMetrics } from './detail/metrics';
import { KeyValues, Section, SincePrevious } from './detail/sections';
import { shortId } from './format';
import type { IPanelContext, PanelModel } from './model';

function Verdict(props: {
  repro: IReproduction;
  model: PanelModel;
}): JSX.Element {
  const { repro, model } = props;
  return (
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
          <RunHeader run={run} />
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
          {repro && <Verdict repro={repro} model={model} />}
          <RunFacts run={run} model={model} />
          {run.error && (
            <Section title="Error">
              <pre className="jp-mlops-pre jp-mlops-run-error">{run.error}</pre>
            </Section>
          )}
          {run.gate_results.length > 0 && (
            <Section title="Gates">
              <GateList gates={run.gate_results} />
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
          <Section title="Data">
            <DataTable run={run} />
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
            <ArtifactList ctx={ctx} runId={run.id} artifacts={run.artifacts} />
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
            <RunEnvironment run={run} />
          </Section>
        </>
      )}
    </div>
  );
}
