/** Models: versions with stage, gates, metrics, aliases, tags and description, a link to each
 * run; Bless (with a warning and an explicit confirmation when the version failed its gates),
 * Edit, Rollback, Unpin, and a "pinned vN" badge while a rollback (or `models pin`) keeps runs
 * from blessing. The versions table scrolls inside its card, and under ~420 px of card width
 * each version reflows into a block of its own (style/models.css). *Start canary* beside
 * *Bless* on a candidate, and the card's Deployments section (src/deployments.tsx). */
import * as React from 'react';

import type {
  IDeployment,
  IModelDetail,
  IModelPin,
  IModelVersion,
  IVersionGates
} from './api';
import { planOf } from './canary';
import { ErrorLine, GateChip, useInterval, useLoad } from './common';
import { DeploymentSection } from './deployments';
import { fmtNumber, fmtTime, shortId } from './format';
import type { IPanelContext, PanelModel } from './model';
import { hasFacts, VersionEditor, VersionFacts } from './registry/versionMeta';

/** How often (at least) a running canary's evidence is read again: rows and labels arrive
 * between its looks without a model event, and each read gathers the evidence anew. */
const EVIDENCE_MS = 10_000;

/** The pin's reason first (the badge's title), then who pinned it, since when, until when. */
export function pinTitle(pin: IModelPin): string {
  const who = pin.by ? ` by ${pin.by}` : '';
  const until = pin.until ? `, until ${fmtTime(pin.until)}` : '';
  return (
    `${pin.reason ?? 'no reason given'} (pinned by ${pin.origin}${who} ` +
    `since ${fmtTime(pin.since)}${until}; runs register candidates only)`
  );
}

function VersionRows(props: {
  ctx: IPanelContext;
  model: PanelModel;
  name: string;
  v: IModelVersion;
  gates: IVersionGates | undefined;
  metricKeys: string[];
  busy: boolean;
  editing: boolean;
  /** Whether *Start canary* is offered (a candidate, a blessed version, no canary running). */
  canCanary: boolean;
  onBless: () => void;
  onCanary: () => void;
  onEdit: () => void;
  onChanged: () => void;
}): JSX.Element {
  const { ctx, model, name, v, gates, metricKeys } = props;
  const columns = 6 + metricKeys.length;
  return (
    <>
      <tr data-version={v.version} className="jp-mlops-version-row">
        <td data-label="version">v{v.version}</td>
        <td data-label="stage">
          <span className={`jp-mlops-chip jp-mlops-stage-${v.stage}`}>
            {v.stage}
          </span>
        </td>
        <td data-label="gates">
          <GateChip gates={gates?.outcome} />
        </td>
        {metricKeys.map(k => (
          <td key={k} data-label={k} className="jp-mlops-num">
            {fmtNumber(v.metrics[k])}
          </td>
        ))}
        <td data-label="run">
          <button
            className="jp-mlops-link"
            onClick={() => model.openRun(v.run_id)}
          >
            {shortId(v.run_id)}
          </button>
        </td>
        <td data-label="created">{fmtTime(v.created)}</td>
        <td className="jp-mlops-version-actions">
          <div className="jp-mlops-version-buttons">
            {v.stage !== 'blessed' && (
              <button
                className={`jp-mlops-button${gates?.failed_text ? ' jp-mlops-bless-failed' : ''}`}
                disabled={props.busy}
                title={gates?.failed_text ?? undefined}
                onClick={props.onBless}
              >
                Bless
              </button>
            )}
            {props.canCanary && (
              <button
                className="jp-mlops-button"
                disabled={props.busy}
                onClick={props.onCanary}
              >
                Start canary
              </button>
            )}
            <button
              className="jp-mlops-button"
              aria-expanded={props.editing}
              aria-label={`Edit aliases, tags and description of ${name} v${v.version}`}
              onClick={props.onEdit}
            >
              Edit
            </button>
          </div>
        </td>
      </tr>
      {(props.editing || hasFacts(v, gates)) && (
        <tr className="jp-mlops-version-meta" data-meta-version={v.version}>
          <td colSpan={columns}>
            <VersionFacts v={v} gates={gates} />
            {props.editing && (
              <VersionEditor
                ctx={ctx}
                name={name}
                v={v}
                onChanged={props.onChanged}
              />
            )}
          </td>
        </tr>
      )}
    </>
  );
}

function ModelCard(props: {
  ctx: IPanelContext;
  model: PanelModel;
  name: string;
}) {
  const { ctx, model, name } = props;
  const detail = useLoad<IModelDetail>(() => ctx.api.model(name), [name]);
  const rollout = useLoad<IDeployment>(() => ctx.api.rollout(name), [name]);
  const [error, setError] = React.useState<unknown>(null);
  const [busy, setBusy] = React.useState(false);
  const [editing, setEditing] = React.useState<number | null>(null);

  const act = async <A,>(
    title: string,
    ask: () => Promise<A | null>,
    call: (answer: A) => Promise<unknown>
  ) => {
    const reason = await ask();
    if (reason === null) {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await call(reason);
      ctx.notify(`${title}: done`, 'success');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      detail.reload();
      rollout.reload();
    }
  };
  const askReason = (title: string, question: string) => () =>
    ctx.askReason(title, question);

  const d = detail.data;
  const metricKeys = [
    ...new Set((d?.versions ?? []).flatMap(v => Object.keys(v.metrics)))
  ].sort();
  const gates = new Map((d?.gates ?? []).map(g => [g.version, g]));
  const blessed = d?.versions.find(v => v.stage === 'blessed');
  const bless = (v: IModelVersion) => {
    const title = `Bless ${name}@${v.version}`;
    const failed = gates.get(v.version)?.failed_text;
    if (failed) {
      void act(
        title,
        // Loaded when needed: the dialog pulls in apputils, which the unit tests (Node, no
        // DOM) that import this module cannot load.
        async () =>
          (await import('./registry/blessDialog')).confirmGateOverride(
            title,
            failed
          ),
        reason => ctx.api.blessOverridingGates(name, v.version, reason)
      );
    } else {
      void act(
        title,
        askReason(title, `Why bless ${name}@${v.version}?`),
        reason => ctx.api.bless(name, v.version, reason)
      );
    }
  };
  const running = rollout.data?.state === 'running';
  useInterval(
    rollout.reload,
    Math.max(model.settings.refreshInterval, EVIDENCE_MS),
    running
  );
  const canary = (v: IModelVersion) => {
    const what = `${name}@${v.version}`;
    void act(
      `Start canary ${what}`,
      async () =>
        (await import('./registry/canaryDialog')).askCanaryPlan(
          `Start canary ${what}`,
          `${what}, against the blessed v${blessed?.version},`
        ),
      form => ctx.api.startCanary(name, planOf(v.version, form))
    );
  };
  const abort = () =>
    act(
      `Abort the canary of ${name}`,
      askReason(
        `Abort the canary of ${name}`,
        `Why abort the canary of ${name}@${rollout.data?.candidate}? All traffic goes back to the blessed version.`
      ),
      reason => ctx.api.abortCanary(name, reason)
    );
  return (
    <section className="jp-mlops-card jp-mlops-model" data-model={name}>
      <header>
        <h3>{name}</h3>
        {d?.pin && (
          <span
            className="jp-mlops-chip jp-mlops-pinned"
            title={pinTitle(d.pin)}
          >
            pinned v{d.pin.version}
          </span>
        )}
        {d?.pin && (
          <button
            className="jp-mlops-button"
            disabled={busy}
            onClick={() =>
              act(
                `Unpin ${name}`,
                askReason(`Unpin ${name}`, `Why let runs bless ${name} again?`),
                reason => ctx.api.unpin(name, reason)
              )
            }
          >
            Unpin
          </button>
        )}
        <button
          className="jp-mlops-button"
          disabled={busy || !blessed}
          onClick={() =>
            act(
              `Roll back ${name}`,
              askReason(
                `Roll back ${name}`,
                `Why roll back ${name}@${blessed?.version}?`
              ),
              reason => ctx.api.rollback(name, null, reason)
            )
          }
        >
          Rollback
        </button>
      </header>
      <ErrorLine error={detail.error ?? error} />
      {d && (
        <div className="jp-mlops-versions-scroll">
          <table className="jp-mlops-table jp-mlops-versions">
            <thead>
              <tr>
                <th>version</th>
                <th>stage</th>
                <th>gates</th>
                {metricKeys.map(k => (
                  <th key={k}>{k}</th>
                ))}
                <th>run</th>
                <th>created</th>
                <th>
                  <span className="jp-mlops-sr-only">actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {[...d.versions].reverse().map(v => (
                <VersionRows
                  key={v.version}
                  ctx={ctx}
                  model={model}
                  name={name}
                  v={v}
                  gates={gates.get(v.version)}
                  metricKeys={metricKeys}
                  busy={busy}
                  editing={editing === v.version}
                  canCanary={v.stage === 'candidate' && !!blessed && !running}
                  onBless={() => bless(v)}
                  onCanary={() => canary(v)}
                  onEdit={() =>
                    setEditing(editing === v.version ? null : v.version)
                  }
                  onChanged={detail.reload}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ErrorLine error={rollout.error} />
      {rollout.data && (
        <DeploymentSection d={rollout.data} busy={busy} onAbort={abort} />
      )}
      {d && d.events.length > 0 && (
        <details className="jp-mlops-section">
          <summary>History</summary>
          <ul className="jp-mlops-events">
            {[...d.events].reverse().map((e, i) => (
              <li key={i}>
                {fmtTime(e.time)} — {e.action} v{e.version}
                {e.actor ? ` by ${e.actor}` : ''}
                {e.reason ? `: ${e.reason}` : ''}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

export function ModelsView(props: {
  ctx: IPanelContext;
  model: PanelModel;
}): JSX.Element {
  const list = useLoad(() => props.ctx.api.models(), []);
  const names = (list.data?.models ?? []).map(m => m.name);
  return (
    <div className="jp-mlops-models">
      <ErrorLine error={list.error} />
      {list.data && names.length === 0 && (
        <div className="jp-mlops-muted jp-mlops-pad">
          No models registered yet.
        </div>
      )}
      {names.map(n => (
        <ModelCard key={n} ctx={props.ctx} model={props.model} name={n} />
      ))}
    </div>
  );
}
