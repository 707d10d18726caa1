/** What the panel shows, shared by its views and by the commands that steer it. */
import { ISignal, Signal } from '@lumino/signaling';

import type { IMLOpsAPI, IOutputNotebook } from './api';

export type ViewName =
  'runs' | 'compare' | 'pipelines' | 'models' | 'monitoring';

/** What the views need from JupyterLab; the plugin provides it. */
export interface IPanelContext {
  api: IMLOpsAPI;
  baseUrl: string;
  /** The path (under the server root) of the notebook in focus, if any. */
  currentNotebook(): string | null;
  openPath(path: string): void;
  /** Open a pipeline run's executed notebook (a copy, when the store is hidden or elsewhere). */
  openOutputNotebook(nb: IOutputNotebook): Promise<void>;
  /** Ask for a reason in a confirmation dialog; null when cancelled. */
  askReason(title: string, question: string): Promise<string | null>;
  notify(message: string, kind: 'success' | 'error' | 'info'): void;
  copy(text: string): void;
}

export class PanelModel {
  private _view: ViewName = 'runs';
  private _runId: string | null = null;
  private _compareIds: string[] = [];
  private _changed = new Signal<this, void>(this);

  get changed(): ISignal<this, void> {
    return this._changed;
  }
  get view(): ViewName {
    return this._view;
  }
  /** The run whose detail is open (over the runs view), or null. */
  get runId(): string | null {
    return this._runId;
  }
  get compareIds(): string[] {
    return this._compareIds;
  }

  show(view: ViewName): void {
    this._view = view;
    this._runId = null;
    this._changed.emit();
  }

  openRun(id: string): void {
    this._runId = id;
    this._changed.emit();
  }

  closeRun(): void {
    this._runId = null;
    this._changed.emit();
  }

  compare(ids: string[]): void {
    this._compareIds = ids;
    this._view = 'compare';
    this._runId = null;
    this._changed.emit();
  }
}
