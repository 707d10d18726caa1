/**
 * The *Run now* form: one field per declared parameter, built from its type (a whole number,
 * a number, a checkbox, a text, a choice, or a Python literal for the other types), filled
 * with its default. A value is checked by the server as the run would check it (on leaving
 * the field and before the run), so a bad one is refused inline with the server's own line;
 * the run checks it again.
 */
import * as React from 'react';

import type { Value } from './api';
import { describeError } from './common';
import type { ParameterInfo } from './types';

/** What a field holds: text as typed, a checkbox, or a choice's index ('' for None). */
type FieldValue = string | boolean;

/** A value as a Python literal (what `run -p` takes): None, True, [1, 'a']… */
export function pyLiteral(v: unknown): string {
  if (v === null || v === undefined) {
    return 'None';
  }
  if (typeof v === 'boolean') {
    return v ? 'True' : 'False';
  }
  if (Array.isArray(v)) {
    return `[${v.map(pyLiteral).join(', ')}]`;
  }
  if (typeof v === 'object') {
    const items = Object.entries(v as Record<string, unknown>);
    return `{${items.map(([k, x]) => `${JSON.stringify(k)}: ${pyLiteral(x)}`).join(', ')}}`;
  }
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** The field's first content: the parameter's default, as the field shows it. */
export function initialValue(p: ParameterInfo): FieldValue {
  const d = p.default as unknown;
  switch (p.input) {
    case 'bool':
      return d === true;
    case 'choice':
      return d === null ? '' : String(p.choices.findIndex(c => c === d));
    case 'derived':
      return '';
    case 'literal':
      return pyLiteral(d);
    default:
      return d === null || d === undefined ? '' : String(d);
  }
}

/**
 * What the request carries for a field: a checkbox's boolean, a choice's own value, None
 * for an emptied optional field, else the text as typed (the server reads it as `run -p`
 * does: `400` as an int, `[1, 2]` as a list). `undefined`: not sent (the default stays).
 */
export function requestValue(
  p: ParameterInfo,
  v: FieldValue
): Value | undefined {
  if (typeof v === 'boolean') {
    return v;
  }
  if (p.input === 'choice') {
    return v === '' ? null : (p.choices[Number(v)] as Value);
  }
  if (v.trim() === '') {
    return p.input === 'derived' ? undefined : p.nullable ? null : v;
  }
  return v;
}

/** The parameters whose field differs from its first content: the run's overrides. */
export function changedParams(
  params: ParameterInfo[],
  values: Record<string, FieldValue>
): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const p of params) {
    const v = values[p.name];
    if (v !== undefined && v !== initialValue(p)) {
      const sent = requestValue(p, v);
      if (sent !== undefined) {
        out[p.name] = sent;
      }
    }
  }
  return out;
}

/** The parameter a server message is about (`Parameter 'n_rows' expects int…`), if any. */
export function fieldOf(message: string): string | null {
  const m = /[Pp]arameter '([^']+)'/.exec(message);
  return m ? m[1] : null;
}

function hint(p: ParameterInfo): string {
  const kind =
    p.input === 'derived'
      ? `computed: ${p.expression ?? ''}`
      : p.input === 'int'
        ? 'whole number'
        : p.input === 'literal'
          ? `${p.type} (Python literal)`
          : (p.type ?? '');
  return [kind, p.nullable ? 'empty: None' : '', p.help ?? '']
    .filter(Boolean)
    .join(' · ');
}

function Field(props: {
  p: ParameterInfo;
  value: FieldValue;
  error: string | null;
  onChange: (v: FieldValue) => void;
  onBlur: () => void;
}): JSX.Element {
  const { p, value, error } = props;
  const id = `jp-mlops-param-${p.name}`;
  const common = {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': `${id}-hint${error ? ` ${id}-error` : ''}`,
    onBlur: props.onBlur
  };
  let input: JSX.Element;
  if (p.input === 'bool') {
    input = (
      <input
        type="checkbox"
        {...common}
        checked={value === true}
        onChange={e => props.onChange(e.target.checked)}
      />
    );
  } else if (p.input === 'choice') {
    input = (
      <select
        className="jp-mod-styled"
        {...common}
        value={String(value)}
        onChange={e => props.onChange(e.target.value)}
      >
        {p.nullable && <option value="">None</option>}
        {p.choices.map((c, i) => (
          <option key={i} value={String(i)}>
            {String(c)}
          </option>
        ))}
      </select>
    );
  } else {
    const numeric = p.input === 'int' || p.input === 'float';
    input = (
      <input
        type="text"
        className="jp-mod-styled"
        {...common}
        inputMode={
          p.input === 'int' ? 'numeric' : numeric ? 'decimal' : undefined
        }
        spellCheck={false}
        placeholder={
          p.input === 'derived' ? 'computed' : p.nullable ? 'None' : ''
        }
        value={String(value)}
        onChange={e => props.onChange(e.target.value)}
      />
    );
  }
  return (
    <div className="jp-mlops-param" data-param={p.name} data-input={p.input}>
      <label htmlFor={id}>{p.name}</label>
      {input}
      <div id={`${id}-hint`} className="jp-mlops-param-hint">
        {hint(p)}
      </div>
      {error && (
        <div id={`${id}-error`} className="jp-mlops-param-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

export interface IRunFormProps {
  params: ParameterInfo[];
  /** The server's check of the overrides (resolves, or rejects with its one-line message). */
  check: (params: Record<string, Value>) => Promise<unknown>;
  /** Start the run with the checked overrides. */
  run: (params: Record<string, Value>) => Promise<void>;
  onCancel: () => void;
}

export function RunForm(props: IRunFormProps): JSX.Element {
  const [values, setValues] = React.useState<Record<string, FieldValue>>(() =>
    Object.fromEntries(props.params.map(p => [p.name, initialValue(p)]))
  );
  const [error, setError] = React.useState<string | null>(null);
  const [busy, setBusy] = React.useState(false);
  const seq = React.useRef(0);

  /** Ask the server about the current values; true when it takes them. */
  const check = async (): Promise<boolean> => {
    const mine = ++seq.current;
    try {
      await props.check(changedParams(props.params, values));
      if (mine === seq.current) {
        setError(null);
      }
      return true;
    } catch (e) {
      if (mine === seq.current) {
        setError(describeError(e));
      }
      return false;
    }
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      if (await check()) {
        await props.run(changedParams(props.params, values));
      }
    } catch (err) {
      setError(describeError(err)); // the run's own refusal, if the check passed
    } finally {
      setBusy(false);
    }
  };

  const about = error ? fieldOf(error) : null;
  const known = about !== null && props.params.some(p => p.name === about);
  return (
    <form className="jp-mlops-run-form" onSubmit={submit} noValidate>
      {props.params.length === 0 && (
        <div className="jp-mlops-muted">no parameters</div>
      )}
      {props.params.map(p => (
        <Field
          key={p.name}
          p={p}
          value={values[p.name]}
          error={known && about === p.name ? error : null}
          onChange={v => setValues(old => ({ ...old, [p.name]: v }))}
          onBlur={() => void check()}
        />
      ))}
      {error && !known && (
        <div className="jp-mlops-param-error" role="alert">
          {error}
        </div>
      )}
      <div className="jp-mlops-run-form-actions">
        <button
          type="submit"
          className="jp-mlops-button jp-mod-accept"
          disabled={busy}
        >
          {busy ? 'Checking…' : 'Run'}
        </button>
        <button
          type="button"
          className="jp-mlops-button"
          onClick={props.onCancel}
        >
          Cancel
        </button>
      </div>
    </form>
  );
}
