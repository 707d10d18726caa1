/** Models: versions with stage and metrics, a link to each run; Bless, Rollback, Unpin, and a
 * "pinned vN" badge while a rollback (or `models pin`) keeps runs from blessing. */
import * as React from 'react';

import type { IModelDetail, IModelPin } from './api';
import { ErrorLine, useLoad } from './common';
import { fmtNumber, fmtTime, shortId } from './format';
import type { IPanelContext, PanelModel } from './model';

/** The pin's reason first (the badge's title), then who pinned it, since when, until when. */
export function pinTitle(pin: IModelPin): string {
  const who = pin.by ? ` by ${pin.by}` : '';
  const until = pin.until ? `, until ${fmtTime(pin.until)}` : '';
  return (
    `${pin.reason ?? 'no reason given'} (pinned by ${pin.origin}${who} ` +
    `since ${fmtTime(pin.since)}${until}; runs register candidates only)`
  );
}

function ModelCard(props: {
  ctx: IPanelContext;
  model: PanelModel;
  name: string;
}) {
  const { ctx, model, name } = props;
  const detail = useLoad<IModelDetail>(() => ctx.api.model(name), [name]);
  const [error, setError] = React.useState<unknown>(null);
  const [busy, setBusy] = React.useState(false);

  const act = async (
    title: string,
    question: string,
    call: (reason: string) => Promise<unknown>
  ) => {
    const reason = await ctx.askReason(title, question);
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
    }
  };

  const d = detail.data;
  const metricKeys = [
    ...new Set((d?.versions ?? []).flatMap(v => Object.keys(v.metrics)))
  ].sort();
  const blessed = d?.versions.find(v => v.stage === 'blessed');
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
                `Why let runs bless ${name} again?`,
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
              `Why roll back ${name}@${blessed?.version}?`,
              reason => ctx.api.rollback(name, null, reason)
            )
          }
        >
          Rollback
        </button>
      </header>
      <ErrorLine error={detail.error ?? error} />
      {d && (
        <table className="jp-mlops-table jp-mlops-versions">
          <thead>
            <tr>
              <th>version</th>
              <th>stage</th>
              {metricKeys.map(k => (
                <th key={k}>{k}</th>
              ))}
              <th>run</th>
              <th>created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {[...d.versions].reverse().map(v => (
              <tr key={v.version} data-version={v.version}>
                <td>{v.version}</td>
                <td>
                  <span className={`jp-mlops-chip jp-mlops-stage-${v.stage}`}>
                    {v.stage}
                  </span>
                </td>
                {metricKeys.map(k => (
                  <td key={k}>{fmtNumber(v.metrics[k])}</td>
                ))}
                <td>
                  <button
                    className="jp-mlops-link"
                    onClick={() => model.openRun(v.run_id)}
                  >
                    {shortId(v.run_id)}
                  </button>
                </td>
                <td>{fmtTime(v.created)}</td>
                <td>
                  {v.stage !== 'blessed' && (
                    <button
                      className="jp-mlops-button"
                      disabled={busy}
                      onClick={() =>
                        act(
                          `Bless ${name}@${v.version}`,
                          `Why bless ${name}@${v.version}?`,
                          reason => ctx.api.bless(name, v.version, reason)
                        )
                      }
                    >
                      Bless
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
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
