/**
 * The dialog of *Start canary* on a candidate version: the plan (steps, metric, minimum
 * effect, minimum labels per arm, guardrails, look interval), checked as the server checks it
 * (src/canary.ts) while it is typed: each wrong field says why under it, and *Start canary*
 * stays disabled until the plan is whole. What the server still refuses (a model without
 * labels, a canary already running) comes back as its one line in the model card.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import {
  CANARY_METRICS,
  checkForm,
  DEFAULT_FORM,
  type ICanaryForm
} from '../canary';

const FIELDS: {
  key: keyof ICanaryForm;
  label: string;
  hint: string;
}[] = [
  { key: 'steps', label: 'Steps (% of traffic)', hint: '2,5,10,25,50,100' },
  { key: 'metric', label: 'Metric on labels', hint: '' },
  {
    key: 'effect',
    label: 'Minimum effect to detect',
    hint: '0.02 (two accuracy points)'
  },
  { key: 'minLabels', label: 'Minimum labels per arm', hint: '200' },
  {
    key: 'guards',
    label: 'Guardrails (comma-separated)',
    hint: 'error_rate<1%, p99<50ms'
  },
  { key: 'interval', label: 'Look every', hint: '1h' }
];

class CanaryBody extends Widget implements Dialog.IBodyWidget<ICanaryForm> {
  private _inputs = new Map<
    keyof ICanaryForm,
    HTMLInputElement | HTMLSelectElement
  >();
  private _errors = new Map<keyof ICanaryForm, HTMLElement>();

  constructor(what: string) {
    const node = document.createElement('div');
    node.className = 'jp-mlops-canary-form';
    super({ node });
    const intro = document.createElement('p');
    intro.textContent =
      `${what} takes the first step's share of traffic; at each look a sequential test ` +
      'on the labels advances it, holds it or rolls it back.';
    node.appendChild(intro);
    for (const f of FIELDS) {
      node.appendChild(this._field(f.key, f.label, f.hint));
    }
  }

  private _field(
    key: keyof ICanaryForm,
    label: string,
    hint: string
  ): HTMLElement {
    const wrap = document.createElement('label');
    wrap.className = 'jp-mlops-canary-field';
    const text = document.createElement('span');
    text.textContent = label;
    let input: HTMLInputElement | HTMLSelectElement;
    if (key === 'metric') {
      input = document.createElement('select');
      for (const m of CANARY_METRICS) {
        input.appendChild(new Option(m, m));
      }
    } else {
      input = document.createElement('input');
      input.placeholder = hint;
    }
    input.className = 'jp-mod-styled';
    input.name = key;
    input.value = DEFAULT_FORM[key];
    const error = document.createElement('span');
    error.className = 'jp-mlops-canary-error';
    error.id = `jp-mlops-canary-${key}-error`;
    input.setAttribute('aria-describedby', error.id);
    input.addEventListener('input', () => this._sync());
    input.addEventListener('change', () => this._sync());
    this._inputs.set(key, input);
    this._errors.set(key, error);
    wrap.append(text, input, error);
    return wrap;
  }

  getValue(): ICanaryForm {
    const form = { ...DEFAULT_FORM };
    for (const [key, input] of this._inputs) {
      form[key] = input.value;
    }
    return form;
  }

  protected onAfterAttach(): void {
    this._sync();
    this._inputs.get('steps')?.focus();
  }

  /** Each field's error under it; *Start canary* enabled only when there is none. */
  private _sync(): void {
    const errors = checkForm(this.getValue());
    for (const [key, span] of this._errors) {
      const error = errors[key] ?? '';
      span.textContent = error;
      this._inputs.get(key)?.setAttribute('aria-invalid', String(!!error));
    }
    const accept = this.node
      .closest('.jp-Dialog-content')
      ?.querySelector<HTMLButtonElement>('.jp-mod-accept');
    if (accept) {
      accept.disabled = Object.keys(errors).length > 0;
    }
  }
}

/** Ask for a canary's plan: the form, or null when cancelled or not valid. */
export async function askCanaryPlan(
  title: string,
  what: string
): Promise<ICanaryForm | null> {
  const result = await showDialog<ICanaryForm>({
    title,
    body: new CanaryBody(what),
    buttons: [
      Dialog.cancelButton(),
      Dialog.okButton({ label: 'Start canary' })
    ],
    focusNodeSelector: 'input[name=steps]'
  });
  // Enter may accept a dialog whose button is disabled: check the answer itself too.
  if (
    !result.button.accept ||
    result.value === null ||
    Object.keys(checkForm(result.value)).length > 0
  ) {
    return null;
  }
  return result.value;
}
