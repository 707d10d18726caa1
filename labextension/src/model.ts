/** What the panel shows, shared by its views and by the commands that steer it. */
import { ISignal, Signal } from '@lumino/signaling';

import type { IMLOpsAPI, IOutputNotebook } from './api';
import type { ChangeKind } from './types';

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
  /** Follow the store's changes into `model.storeChanged`; returns what stops it. */
  follow?(model: PanelModel): () => void;
}

export const ALL_KINDS: readonly ChangeKind[] = [
  'runs',
  'pipelines',
  'models',
  'monitors'
];

/** The kinds of record each view shows: a change of one of them reloads the view. */
export const VIEW_KINDS: Readonly<Record<ViewName, readonly ChangeKind[]>> = {
  runs: ['runs'],
  compare: ['runs'],
  pipelines: ['pipelines'],
  models: ['models', 'monitors'],
  monitoring: ['monitors', 'models']
};

/** The panel's settings (schema/plugin.json); the defaults hold without a settings registry. */
export interface IPanelSettings {
  /** How often (ms) the runs table and a run's detail refresh while a run is running. */
  refreshInterval: number;
  /** How many metric columns the runs table shows. */
  metricColumns: number;
}

export const DEFAULT_SETTINGS: Readonly<IPanelSettings> = {
  refreshInterval: 2000,
  metricColumns: 4
};

// The schema's bounds, kept here too: a value edited in the JSON settings editor reaches the
// plugin before any validation would stop it.
const MIN_REFRESH_MS = 500;
const MAX_METRIC_COLUMNS = 20;

/** The panel's settings from a plugin's composite settings, defaults for what is missing. */
export function readSettings(composite: {
  [key: string]: unknown;
}): IPanelSettings {
  const int = (v: unknown, fallback: number, min: number, max: number) =>
    typeof v === 'number' && Number.isFinite(v)
      ? Math.min(max, Math.max(min, Math.round(v)))
      : fallback;
  return {
    refreshInterval: int(
      composite.refreshInterval,
      DEFAULT_SETTINGS.refreshInterval,
      MIN_REFRESH_MS,
      Number.MAX_SAFE_INTEGER
    ),
    metricColumns: int(
      composite.metricColumns,
      DEFAULT_SETTINGS.metricColumns,
      0,
      MAX_METRIC_COLUMNS
    )
  };
}

export class PanelModel {
  private _view: ViewName = 'runs';
  private _settings: IPanelSettings = { ...DEFAULT_SETTINGS };
  private _runId: string | null = null;
  private _compareIds: string[] = [];
  private _changed = new Signal<this, void>(this);
  private _storeChanged = new Signal<this, readonly ChangeKind[]>(this);
  private _live = false;

  get changed(): ISignal<this, void> {
    return this._changed;
  }
  /** The kinds of record that changed in the store (every kind on a refresh). */
  get storeChanged(): ISignal<this, readonly ChangeKind[]> {
    return this._storeChanged;
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
  get settings(): Readonly<IPanelSettings> {
    return this._settings;
  }

  setSettings(settings: IPanelSettings): void {
    this._settings = { ...settings };
    this._changed.emit();
  }

  show(view: ViewName): void {
    this._view = view;
    this._runId = null;
    this._changed.emit();
    this.refresh(); // a view shown again (the runs view stays mounted) shows what is new
  }

  /** Whether the server's changes stream in (live updates connected). */
  get live(): boolean {
    return this._live;
  }
  setLive(live: boolean): void {
    if (live !== this._live) {
      this._live = live;
      this._changed.emit();
    }
  }

  /** Reload what the panel shows (the refresh button, Retry, a tab switch). */
  refresh(): void {
    this._storeChanged.emit(ALL_KINDS);
  }

  /** The store changed (pushed by the server): the views showing `kinds` reload. */
  storeChangedBy(kinds: readonly ChangeKind[]): void {
    if (kinds.length) {
      this._storeChanged.emit(kinds);
    }
  }

  /** Whether a change of `kinds` touches what the panel shows now. */
  shows(kinds: readonly ChangeKind[]): boolean {
    const mine = this._runId ? VIEW_KINDS.runs : VIEW_KINDS[this._view];
    return kinds.some(k => mine.includes(k));
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
