/**
 * The dialog of *Bless* on a version whose gates failed: it says which gates failed, and asks
 * for a reason AND an explicit confirmation (a checkbox) before *Bless anyway* can be pressed.
 * The server refuses such a bless without `override_gates` and a reason, so the panel, the
 * CLI (`--override-gates --reason`) and REST agree.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

export interface IOverride {
  reason: string;
  confirmed: boolean;
}

/** Whether the dialog's answer may bless: confirmed, with a reason that is not blank. */
export function overrideAccepted(value: IOverride | null): value is IOverride {
  return value !== null && value.confirmed && value.reason.trim().length > 0;
}

class OverrideBody extends Widget implements Dialog.IBodyWidget<IOverride> {
  private _reason: HTMLInputElement;
  private _confirm: HTMLInputElement;

  constructor(failedText: string) {
    const node = document.createElement('div');
    node.className = 'jp-mlops-override-form';
    super({ node });
    const warning = document.createElement('p');
    warning.className = 'jp-mlops-gate-warning';
    warning.setAttribute('role', 'alert');
    warning.textContent = failedText;
    const reasonLabel = document.createElement('label');
    reasonLabel.textContent =
      'Why bless it anyway? (recorded with the failed gates)';
    this._reason = document.createElement('input');
    this._reason.className = 'jp-mod-styled';
    this._reason.name = 'reason';
    this._reason.placeholder = 'reason';
    reasonLabel.appendChild(this._reason);
    const confirmLabel = document.createElement('label');
    confirmLabel.className = 'jp-mlops-override-confirm';
    this._confirm = document.createElement('input');
    this._confirm.type = 'checkbox';
    this._confirm.name = 'confirm';
    confirmLabel.append(
      this._confirm,
      ' I have read the failed gates and bless this version anyway'
    );
    node.append(warning, reasonLabel, confirmLabel);
    const update = () => this._syncAccept();
    this._reason.addEventListener('input', update);
    this._confirm.addEventListener('change', update);
  }

  getValue(): IOverride {
    return { reason: this._reason.value, confirmed: this._confirm.checked };
  }

  protected onAfterAttach(): void {
    this._syncAccept();
    this._reason.focus();
  }

  /** *Bless anyway* stays disabled until the box is ticked and a reason given. */
  private _syncAccept(): void {
    const accept = this.node
      .closest('.jp-Dialog-content')
      ?.querySelector<HTMLButtonElement>('.jp-mod-accept');
    if (accept) {
      accept.disabled = !overrideAccepted(this.getValue());
    }
  }
}

/** Ask to bless a gate-failed version: the reason, or null when cancelled or unconfirmed. */
export async function confirmGateOverride(
  title: string,
  failedText: string
): Promise<string | null> {
  const result = await showDialog<IOverride>({
    title,
    body: new OverrideBody(failedText),
    buttons: [
      Dialog.cancelButton(),
      Dialog.warnButton({ label: 'Bless anyway' })
    ],
    focusNodeSelector: 'input[name=reason]'
  });
  // Enter may accept a dialog whose button is disabled: check the answer itself too.
  if (!result.button.accept || !overrideAccepted(result.value)) {
    return null;
  }
  return result.value.reason;
}
