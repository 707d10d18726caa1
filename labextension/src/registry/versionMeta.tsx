/**
 * What users attach to a model version, shown under its row: the failed gates, aliases, tags
 * and description; *Edit* opens a small form to set or remove them (each edit one REST call,
 * recorded in the model's history by the server).
 */
import * as React from 'react';

import type { IModelVersion, IVersionGates } from '../api';
import { ErrorLine } from '../common';
import type { IPanelContext } from '../model';

/** `key=value` as [key, value]; null when there is no `=` or no key. */
export function parseTag(text: string): [string, string] | null {
  const at = text.indexOf('=');
  if (at <= 0) {
    return null;
  }
  return [text.slice(0, at).trim(), text.slice(at + 1)];
}

/** Whether a version has anything to show under its row. */
export function hasFacts(
  v: IModelVersion,
  gates: IVersionGates | undefined
): boolean {
  return Boolean(
    gates?.failed_text ||
    v.aliases.length ||
    Object.keys(v.tags).length ||
    v.description
  );
}

/** The version's gate failures, aliases, tags and description, read-only. */
export function VersionFacts(props: {
  v: IModelVersion;
  gates: IVersionGates | undefined;
}): JSX.Element | null {
  const { v, gates } = props;
  const tags = Object.entries(v.tags);
  if (!hasFacts(v, gates)) {
    return null;
  }
  return (
    <div className="jp-mlops-version-facts">
      {gates?.failed_text && (
        <div className="jp-mlops-gate-warning">{gates.failed_text}</div>
      )}
      {(v.aliases.length > 0 || tags.length > 0) && (
        <div className="jp-mlops-version-labels">
          {v.aliases.map(a => (
            <span key={`@${a}`} className="jp-mlops-chip jp-mlops-alias">
              @{a}
            </span>
          ))}
          {tags.map(([k, val]) => (
            <span
              key={k}
              className="jp-mlops-chip jp-mlops-tag"
              title={`${k}=${val}`}
            >
              {k}={val}
            </span>
          ))}
        </div>
      )}
      {v.description && <p className="jp-mlops-description">{v.description}</p>}
    </div>
  );
}

/** The edit form of one version: alias, tag and description, and removal of each. */
export function VersionEditor(props: {
  ctx: IPanelContext;
  name: string;
  v: IModelVersion;
  onChanged: () => void;
}): JSX.Element {
  const { ctx, name, v, onChanged } = props;
  const [alias, setAlias] = React.useState('');
  const [tag, setTag] = React.useState('');
  const [text, setText] = React.useState(v.description ?? '');
  const [error, setError] = React.useState<unknown>(null);
  const [busy, setBusy] = React.useState(false);
  const what = `${name} v${v.version}`;

  const run = async (call: () => Promise<unknown>, done?: () => void) => {
    setBusy(true);
    setError(null);
    try {
      await call();
      done?.();
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const addTag = () => {
    const kv = parseTag(tag);
    if (kv === null) {
      setError(new Error('Write a tag as key=value, e.g. owner=ana'));
      return;
    }
    void run(
      () => ctx.api.setTags(name, v.version, { [kv[0]]: kv[1] }),
      () => setTag('')
    );
  };
  return (
    <div className="jp-mlops-version-editor">
      <ErrorLine error={error} />
      <div className="jp-mlops-version-removals">
        {v.aliases.map(a => (
          <button
            key={`@${a}`}
            className="jp-mlops-button"
            disabled={busy}
            aria-label={`Remove alias ${a} of ${what}`}
            onClick={() =>
              run(() => ctx.api.setAlias(name, v.version, a, true))
            }
          >
            @{a} ×
          </button>
        ))}
        {Object.keys(v.tags).map(k => (
          <button
            key={k}
            className="jp-mlops-button"
            disabled={busy}
            aria-label={`Remove tag ${k} of ${what}`}
            onClick={() => run(() => ctx.api.setTags(name, v.version, {}, [k]))}
          >
            {k} ×
          </button>
        ))}
      </div>
      <form
        className="jp-mlops-version-field"
        onSubmit={e => {
          e.preventDefault();
          void run(
            () => ctx.api.setAlias(name, v.version, alias.trim()),
            () => setAlias('')
          );
        }}
      >
        <input
          className="jp-mod-styled"
          aria-label={`Alias for ${what}`}
          placeholder="alias, e.g. champion"
          value={alias}
          onChange={e => setAlias(e.target.value)}
        />
        <button className="jp-mlops-button" disabled={busy || !alias.trim()}>
          Set alias
        </button>
      </form>
      <form
        className="jp-mlops-version-field"
        onSubmit={e => {
          e.preventDefault();
          addTag();
        }}
      >
        <input
          className="jp-mod-styled"
          aria-label={`Tag for ${what}`}
          placeholder="key=value"
          value={tag}
          onChange={e => setTag(e.target.value)}
        />
        <button className="jp-mlops-button" disabled={busy || !tag.trim()}>
          Add tag
        </button>
      </form>
      <form
        className="jp-mlops-version-field jp-mlops-version-description"
        onSubmit={e => {
          e.preventDefault();
          void run(() => ctx.api.describe(name, v.version, text));
        }}
      >
        <textarea
          className="jp-mod-styled"
          aria-label={`Description of ${what}`}
          placeholder="description (empty clears it)"
          rows={3}
          value={text}
          onChange={e => setText(e.target.value)}
        />
        <button className="jp-mlops-button" disabled={busy}>
          Save description
        </button>
      </form>
    </div>
  );
}
