/**
 * Interfaces mirroring the JSON of the REST API (`jupyter_mlops/views.py`, `actions.py`) and
 * the typed calls over it. Panel components reach the server only through `MLOpsAPI`.
 */
import { API_PREFIX, queryString, requestAPI } from './request';

// The unions below mirror the str enums of jupyter_mlops/entities.py, value for value
// (tests/test_labextension.py compares them).
/** `RunStatus`: every status gets a chip (`jp-mlops-status-*` in style/base.css). */
export const RUN_STATUSES = [
  'running',
  'finished',
  'failed',
  'interrupted'
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** `RunKind` */
export type RunKind = 'cell' | 'pipeline' | 'script';
/** `ModelStage` */
export type ModelStage = 'candidate' | 'blessed' | 'archived' | 'shadow';
/** `GateStatus` */
export type GateStatus = 'pass' | 'fail' | 'warn' | 'skip';
/** `Severity` */
export type Severity = 'error' | 'warn';
export type Value =
  string | number | boolean | null | Value[] | { [k: string]: Value };

/** What a runs-table row and a run's detail share (`Run.to_dict()` names). */
export interface IRunBase {
  id: string;
  experiment: string;
  name: string | null;
  status: RunStatus;
  kind: RunKind;
  parent_id: string | null;
  started: string | null;
  duration: number | null;
  seed: number | null;
  params: Record<string, Value>;
}

/** One row of `GET runs` (a `runs()` frame row with nested params and metrics). */
export interface IRunRow extends IRunBase {
  gates: string | null;
  model: string | null;
  model_stage: ModelStage | null;
  metrics: Record<string, number>;
  [column: string]: unknown;
}

export interface IRunsPage {
  runs: IRunRow[];
  offset: number;
  limit: number;
  has_more: boolean;
  next_cursor: string | null;
}

export interface IRunsQuery {
  experiment?: string;
  notebook?: string;
  status?: string;
  where?: string;
  q?: string;
  order_by?: string;
  limit?: number;
  offset?: number;
  cursor?: string;
}

export interface IDataRef {
  role: string;
  name: string;
  kind: string;
  hash: string;
  shape: number[] | null;
  schema: Record<string, string>;
  parts: Record<string, string>;
  nbytes: number | null;
  path: string | null;
}

export interface IArtifact {
  name: string;
  kind: string;
  sha256: string;
  size: number;
  uri: string;
}

export interface IGateResult {
  gate: string;
  kind: string;
  status: GateStatus;
  severity: Severity;
  observed: Value;
  threshold: string | null;
  message: string;
  details: Record<string, Value>;
}

export interface IModelVersion {
  name: string;
  version: number;
  run_id: string;
  artifact_uri: string;
  size: number;
  stage: ModelStage;
  created: string;
  updated: string;
  metrics: Record<string, number>;
  pipeline?: string | null;
}

/** `diff_runs(previous, run).to_dict()`: what changed since the previous run. */
export interface IRunDiff {
  previous_id: string | null;
  params_changed: Record<string, [Value, Value]>;
  metric_deltas: Record<string, { old: number | null; new: number | null }>;
  inputs_changed: Record<string, string[]>;
  inputs_same: string[];
  inputs_new: string[];
}

/** `GET runs/ID`: `Run.to_dict()` and what the views add. */
export interface IRunDetail extends IRunBase {
  ended: string | null;
  notebook: string | null;
  code: string | null;
  history: string[];
  peak_memory: number | null;
  git: { commit: string | null; branch: string | null; dirty: boolean | null };
  environment_id: string | null;
  error: string | null;
  stdout_tail: string | null;
  host: string | null;
  metrics: Record<string, number | null>;
  tags: Record<string, string>;
  data: IDataRef[];
  artifacts: IArtifact[];
  warnings: string[];
  gate_results: IGateResult[];
  models: IModelVersion[];
  output_notebook: boolean;
  since_previous: IRunDiff;
  children: string[];
}

export interface IMetricSeries {
  run_id: string;
  key: string;
  steps: { step: number; value: number | null; time: number | null }[];
}

export interface ICompare {
  runs: string[];
  columns: string[];
  inputs_changed: Record<string, Record<string, string[]>>;
  rows: { key: string; differs: boolean; values: Record<string, Value> }[];
}

export interface IPipelineRun extends IRunRow {
  gate_results?: IGateResult[];
}

export interface IPipeline {
  name: string;
  notebook: string | null;
  schedule: string | null;
  next_fire: string | null;
  parameters: { name: string; type: string; default: Value; help: string }[];
  gates: number;
  last_runs: IPipelineRun[];
  error: string | null;
  schedule_log?: Record<string, Value>[];
}

export interface IModelSummary {
  name: string;
  versions: number;
  blessed: number | null;
  /** The version a rollback or `models pin` holds; null when runs may bless. */
  pinned: number | null;
  latest: IModelVersion;
}

/** `ModelPin.to_dict()`: while it holds, runs register candidates and do not bless. */
export interface IModelPin {
  name: string;
  version: number;
  origin: 'rollback' | 'pin' | string;
  by: string | null;
  reason: string | null;
  since: string;
  until: string | null;
}

export interface IModelEvent {
  name: string;
  version: number;
  action: string;
  actor: string | null;
  reason: string | null;
  time: string;
}

export interface IModelDetail {
  name: string;
  versions: IModelVersion[];
  pin: IModelPin | null;
  events: IModelEvent[];
}

export interface ILaunch {
  run_id: string;
  pipeline: string;
  pid: number;
}

export interface IReproduction {
  original: string;
  new: string | null;
  verdict: 'reproduced' | 'differs' | 'inputs changed' | 'failed' | string;
  input_changes: Record<string, string>;
  metric_diffs: Record<string, { original: number | null; new: number | null }>;
  message: string;
}

export interface IPromoted {
  path: string;
  created: boolean;
  messages: string[];
  changes: string[];
}

export interface IOutputNotebook {
  run_id: string;
  path: string;
  root_path: string | null;
  content: Record<string, unknown>;
}

/** One row of `GET monitors` (`monitoring/report.py: summaries`). Times are ISO-8601. */
export interface IMonitorSummary {
  name: string;
  model?: string;
  window?: string;
  blessed?: string | null;
  shadows?: string[];
  last_batch?: string | null;
  batches?: number;
  last_breach?: string | null;
  status: 'ok' | 'breach' | 'pending' | 'error' | string;
  error?: string;
}

/** `ColumnDrift.to_dict()`: one column's drift against the reference. */
export interface IColumnDrift {
  kind: string;
  method: string;
  statistic: number;
  threshold: number;
  p_value: number | null;
  p_adjusted: number | null;
  drifted: boolean;
}

export interface IMonitorWindow {
  start: string;
  end: string;
  version: number;
  batches: number;
  rows: number;
  share_drifted: number | null;
  drifted: string[];
  columns: Record<string, IColumnDrift>;
  metrics: Record<string, number>;
}

export interface IMonitorCheck {
  check: string;
  kind: string;
  value: number | null;
  threshold: string;
  action: string;
}

/** `GET monitors/NAME`: what `jupyter-mlops monitor NAME --json` prints. */
export interface IMonitorDetail {
  name: string;
  model: string;
  blessed: string | null;
  status: string;
  monitor: {
    name: string;
    window: string;
    cooldown: number;
    pipeline: string | null;
    checks: ({ name: string } & Record<string, Value>)[];
  } | null;
  windows: IMonitorWindow[];
  performance: {
    metric: string;
    min: number | null;
    max: number | null;
    value: number | null;
    labelled: number;
    window_start: string | null;
    breached: boolean;
    /** `pending`: too few labels to judge yet (fewer than the check's `min_labels`). */
    status: 'ok' | 'breach' | 'pending';
  }[];
  breaches: {
    time: string;
    version: number;
    checks: IMonitorCheck[];
    description: string;
  }[];
  actions: ({
    time: string;
    action: string;
    status: string;
    description: string;
  } & Record<string, Value>)[];
  shadows: {
    ref: string;
    version: number;
    metric?: string;
    batches?: number;
    won?: number;
    shadow?: number | null;
    blessed?: number | null;
    error?: string;
  }[];
}

/** `GET monitors/NAME/series`: what `plot_drift` / `plot_performance` draw. */
export interface IMonitorSeries {
  name: string;
  kind: 'drift' | 'performance';
  column: string | null;
  metric: string | null;
  label: string;
  breach_when: 'above' | 'below' | 'outside';
  thresholds: number[];
  series: {
    label: string;
    version: number | null;
    role: string;
    points: {
      time: string;
      value: number;
      breach: boolean;
      threshold?: number;
    }[];
  }[];
}

function post(body: unknown): RequestInit {
  return { method: 'POST', body: JSON.stringify(body) };
}

const seg = encodeURIComponent;

/** The typed calls of the REST API. */
export const MLOpsAPI = {
  runs: (query: IRunsQuery) =>
    requestAPI<IRunsPage>(`runs${queryString({ ...query })}`),
  run: (id: string) => requestAPI<IRunDetail>(`runs/${seg(id)}`),
  metric: (id: string, key: string) =>
    requestAPI<IMetricSeries>(`runs/${seg(id)}/metrics/${seg(key)}`),
  outputNotebook: (id: string) =>
    requestAPI<IOutputNotebook>(`runs/${seg(id)}/notebook`),
  reproduce: (id: string) =>
    requestAPI<IReproduction>(`runs/${seg(id)}/reproduce`, post({})),
  compare: (ids: string[]) =>
    requestAPI<ICompare>(`compare${queryString({ ids: ids.join(',') })}`),
  experiments: () => requestAPI<{ experiments: string[] }>('experiments'),
  pipelines: () => requestAPI<{ pipelines: IPipeline[] }>('pipelines'),
  pipeline: (name: string) => requestAPI<IPipeline>(`pipelines/${seg(name)}`),
  runPipeline: (name: string, params: Record<string, Value> = {}) =>
    requestAPI<ILaunch>(`pipelines/${seg(name)}/run`, post({ params })),
  promote: (notebook: string, name?: string, schedule?: string) =>
    requestAPI<IPromoted>('promote', post({ notebook, name, schedule })),
  models: () => requestAPI<{ models: IModelSummary[] }>('models'),
  model: (name: string) => requestAPI<IModelDetail>(`models/${seg(name)}`),
  bless: (name: string, version: number, reason: string) =>
    requestAPI<IModelVersion>(
      `models/${seg(name)}/bless`,
      post({ version, reason })
    ),
  rollback: (name: string, to: number | null, reason: string) =>
    requestAPI<{ archived: IModelVersion; blessed: IModelVersion }>(
      `models/${seg(name)}/rollback`,
      post({ to, reason })
    ),
  unpin: (name: string, reason: string) =>
    requestAPI<{ unpinned: IModelPin | null }>(
      `models/${seg(name)}/unpin`,
      post({ reason })
    ),
  monitors: () => requestAPI<{ monitors: IMonitorSummary[] }>('monitors'),
  monitor: (name: string, since?: string) =>
    requestAPI<IMonitorDetail>(
      `monitors/${seg(name)}${queryString({ since })}`
    ),
  monitorSeries: (name: string, kind: 'drift' | 'performance', what?: string) =>
    requestAPI<IMonitorSeries>(
      `monitors/${seg(name)}/series${queryString(
        kind === 'drift' ? { kind, column: what } : { kind, metric: what }
      )}`
    ),
  artifactURL: (id: string, name: string, baseUrl: string) =>
    `${baseUrl}${API_PREFIX}/runs/${seg(id)}/artifacts/${name
      .split('/')
      .map(seg)
      .join('/')}`
};

export type IMLOpsAPI = typeof MLOpsAPI;
