/* Generated from jupyter_mlops/views by `jlpm build:types` (json-schema-to-typescript): do not edit. */

export type RunStatus = 'failed' | 'finished' | 'interrupted' | 'running';
export type RunKind = 'cell' | 'pipeline' | 'script';
export type DataRole = 'input' | 'output';
export type GateStatus = 'fail' | 'pass' | 'skip' | 'warn';
export type Severity = 'error' | 'warn';
export type ModelStage = 'archived' | 'blessed' | 'candidate' | 'shadow';
export type Severity1 = 'error' | 'warn';
export type NotificationStatus = 'delivered' | 'failed' | 'pending';
/**
 * What a change touches, by the panel view that shows it.
 */
export type ChangeKind = 'models' | 'monitors' | 'pipelines' | 'runs';

/**
 * The REST bodies of jupyter-mlops (generated from jupyter_mlops.views).
 */
export interface MLOpsBodies {
  RunsPage: RunsPage;
  RunDetail: RunDetail;
  MetricSeries: MetricSeries;
  OutputNotebook: OutputNotebook;
  ArtifactPreview: ArtifactPreview;
  ArtifactTable: ArtifactTable;
  RunCurves: RunCurves;
  CurveOverlay: CurveOverlay;
  Comparison: Comparison;
  Experiments: Experiments;
  Pipelines: Pipelines;
  PipelineDetail: PipelineDetail;
  Launch: Launch;
  Promoted: Promoted;
  Models: Models;
  ModelDetail: ModelDetail;
  ModelVersion: ModelVersion;
  RolledBack: RolledBack;
  Unpinned: Unpinned;
  Monitors: Monitors;
  MonitorReport: MonitorReport;
  MonitorSeries: MonitorSeries;
  Status: Status;
  StoreInfo: StoreInfo;
  SchedulerStatus: SchedulerStatus;
  Notifications: Notifications;
  Changes: Changes;
  Deployment: Deployment;
}
/**
 * One page of runs; ``next_cursor`` fetches the next page of the same result set, which
 * runs started after the first page never shift. ``tags`` holds each run's tags by id and
 * ``columns`` the columns a table of this page shows by default (:mod:`.columns`).
 */
export interface RunsPage {
  runs: RunRow[];
  offset: number;
  limit: number;
  has_more: boolean;
  next_cursor: string | null;
  tags: {
    [k: string]: {
      [k: string]: string;
    };
  };
  columns: RunColumns;
}
/**
 * One line of a runs listing: the columns of ``runs()`` (``store.rows.RUN_COLUMNS``)
 * with the run's params and latest metrics, without the detail of a full :class:`Run`.
 */
export interface RunRow {
  id: string;
  experiment: string;
  name: string | null;
  status: RunStatus;
  kind: RunKind;
  parent_id: string | null;
  started: string;
  duration: number | null;
  seed: number | null;
  gates: string | null;
  model: string | null;
  model_stage: string | null;
  params: {
    [k: string]: unknown;
  };
  metrics: {
    [k: string]: number | null;
  };
}
/**
 * The default columns of a runs table (``metrics``, ``params``, ``tags``, in display
 * order) and every column a chooser offers (``all_*``, most useful first).
 */
export interface RunColumns {
  metrics: string[];
  params: string[];
  tags: string[];
  all_metrics: string[];
  all_params: string[];
  all_tags: string[];
}
/**
 * A run (its fields, as the JSON contract lists them) with its gate results (failed first,
 * each with its observed value for people) and their outcome, the model versions it
 * registered, whether it has an output notebook, its child runs, and what changed since the
 * previous run.
 */
export interface RunDetail {
  id: string;
  experiment: string;
  status: RunStatus;
  kind: RunKind;
  started: string;
  name: string | null;
  parent_id: string | null;
  ended: string | null;
  duration: number | null;
  seed: number | null;
  notebook: string | null;
  execution_count: number | null;
  code: string | null;
  history: string[];
  peak_memory: number | null;
  git: GitState;
  environment_id: string | null;
  error: string | null;
  stdout_tail: string | null;
  host: string | null;
  pid: number | null;
  params: {
    [k: string]: unknown;
  };
  metrics: {
    [k: string]: number | null;
  };
  tags: {
    [k: string]: string;
  };
  data: DataRef[];
  artifacts: Artifact[];
  warnings: string[];
  since_previous: RunChanges | null;
  children: string[];
  gate_results: GateLine[];
  gate_outcome: ('failed' | 'passed' | 'warned') | null;
  models: ModelVersion[];
  output_notebook: boolean;
}
export interface GitState {
  commit: string | null;
  branch: string | null;
  dirty: boolean | null;
  diff_hash: string | null;
}
/**
 * A dataset a run read (input) or produced (output), by the name it had in the run: its
 * fingerprint's fields with a role and a name.
 *
 * A subclass rather than a ``fingerprint`` field because its JSON (in the store, the journal
 * and ``show --json``) has always been flat; msgspec fills the fields without ``__init__``.
 */
export interface DataRef {
  kind: string;
  hash: string;
  shape: number[] | null;
  schema: {
    [k: string]: string;
  };
  parts: {
    [k: string]: string;
  };
  nbytes: number;
  path: string | null;
  role: DataRole;
  name: string;
}
/**
 * A file stored content-addressed under ``artifacts/`` (``uri`` is relative to the store).
 */
export interface Artifact {
  name: string;
  kind: string;
  sha256: string;
  size: number;
  uri: string;
}
/**
 * What changed since the previous run of the experiment (``diff_runs``): params as
 * ``[old, new]``, metric deltas, and the changed parts (columns, index, schema) of inputs.
 */
export interface RunChanges {
  previous_id: string | null;
  params_changed: {
    /**
     * @minItems 2
     * @maxItems 2
     */
    [k: string]: never[];
  };
  metric_deltas: {
    [k: string]: MetricDelta;
  };
  inputs_changed: {
    [k: string]: string[];
  };
  inputs_same: string[];
  inputs_new: string[];
}
export interface MetricDelta {
  old: number | null;
  new: number | null;
}
/**
 * A gate result with ``observed_text``: ``observed`` for people, in the unit of the
 * threshold ('2d3h' next to '<= 7d', '4.17%', '0.6434'); ``observed`` stays the raw value.
 */
export interface GateLine {
  gate: string;
  kind: string;
  status: GateStatus;
  observed: {
    [k: string]: unknown;
  };
  threshold: string;
  message: string;
  severity: Severity;
  details: {
    [k: string]: unknown;
  };
  observed_text: string;
}
/**
 * One registered version of a model: lineage back to the run that produced it.
 */
export interface ModelVersion {
  name: string;
  version: number;
  run_id: string;
  artifact_uri: string;
  artifact_sha: string;
  size: number;
  stage: ModelStage;
  created: string;
  updated: string;
  metrics: {
    [k: string]: number | null;
  };
  data: DataRef[];
  pipeline: string | null;
  description: string | null;
  aliases: string[];
  tags: {
    [k: string]: string;
  };
}
/**
 * The history of one metric of one run: one point per step, the newest value at a step.
 * ``stepped`` is False for a scalar (logged without a step: one point at step 0), which
 * front-ends show as a value or a bar, not as a curve.
 */
export interface MetricSeries {
  run_id: string;
  key: string;
  steps: MetricPoint[];
  stepped: boolean;
}
export interface MetricPoint {
  step: number;
  value: number | null;
  time: string | null;
}
/**
 * The executed notebook of a pipeline run; ``root_path`` is its path relative to the
 * Jupyter server's root (None elsewhere, and when it lies outside).
 */
export interface OutputNotebook {
  run_id: string;
  path: string;
  content: {
    [k: string]: unknown;
  };
  root_path: string | null;
}
/**
 * What the panel shows of an artifact: ``preview`` says how (``image`` and ``html`` are
 * shown from ``GET runs/ID/inline/NAME``; ``table`` from ``columns``/``rows``; ``text`` from
 * ``text``; ``none`` with ``note`` saying why). ``truncated``: more rows, columns or lines
 * than shown. ``size_text`` is ``size`` for people ('12.3 kB').
 */
export interface ArtifactPreview {
  run_id: string;
  name: string;
  kind: string;
  size: number;
  size_text: string;
  media_type: string;
  preview: 'html' | 'image' | 'none' | 'table' | 'text';
  columns: string[];
  rows: string[][];
  total_rows: number | null;
  text: string | null;
  truncated: boolean;
  note: string;
}
/**
 * A ``table`` artifact's rows (the first ``len(rows)`` of ``total_rows``); ``truncated``:
 * more rows or columns than shown; ``importance``: its top features, when it has a column
 * of importance.
 */
export interface ArtifactTable {
  run_id: string;
  name: string;
  size_text: string;
  columns: string[];
  rows: (string | number | boolean | null)[][];
  total_rows: number;
  truncated: boolean;
  importance: Importance | null;
}
/**
 * The top features by importance ``column`` (of ``columns``, every importance-like
 * column), largest first: ``features[i]`` has ``values[i]``; ``total``: features with a
 * value.
 */
export interface Importance {
  column: string;
  columns: string[];
  feature_column: string;
  features: string[];
  values: number[];
  total: number;
}
/**
 * Every stepped metric of a run (a metric logged at a step above 0), grouped; ``points``:
 * the most any curve shows.
 */
export interface RunCurves {
  run_id: string;
  groups: CurveGroup[];
  points: number;
  downsampled: boolean;
}
/**
 * Curves measuring one thing (``logloss`` on each eval set), drawn on one chart.
 */
export interface CurveGroup {
  name: string;
  curves: Curve[];
}
/**
 * One metric's curve: ``steps`` and ``values`` side by side (a null value is a gap).
 * ``total``: the points logged; ``downsampled``: fewer are shown (min and max per bucket,
 * the first and last point exact). ``label``: what a legend calls it.
 */
export interface Curve {
  key: string;
  label: string;
  steps: number[];
  values: (number | null)[];
  total: number;
  downsampled: boolean;
  run_id: string;
}
/**
 * Metric ``key`` of up to :data:`MAX_OVERLAY` runs (``curves``, labelled by run name);
 * ``missing``: runs without that curve; ``omitted``: runs past the first five, not drawn.
 */
export interface CurveOverlay {
  key: string;
  curves: Curve[];
  missing: string[];
  omitted: string[];
  points: number;
}
/**
 * Params and metrics of runs aligned, differing rows first in each group. ``names``: each
 * run's name (its short id when it has none), what charts label it by; ``stepped``: the
 * metrics some run logged as a curve (at a step above 0), the others are scalars.
 */
export interface Comparison {
  runs: string[];
  columns: string[];
  inputs_changed: {
    [k: string]: {
      [k: string]: string[];
    };
  };
  rows: CompareRow[];
  names: string[];
  stepped: string[];
}
/**
 * A param or metric (``params.C``, ``metrics.acc``) across the runs, by short id.
 */
export interface CompareRow {
  key: string;
  differs: boolean;
  values: {
    [k: string]: unknown;
  };
}
export interface Experiments {
  experiments: string[];
}
export interface Pipelines {
  pipelines: PipelineSummary[];
}
/**
 * A pipeline: its schedule (as cron, in words, and the next firings as UTC instants), its
 * parameters as form fields, and its last real runs, newest first.
 */
export interface PipelineSummary {
  name: string;
  notebook: string | null;
  schedule: string | null;
  next_fire: string | null;
  parameters: ParameterInfo[];
  gates: number;
  last_runs: PipelineRun[];
  error: string | null;
  schedule_text: string | null;
  timezone: string | null;
  next_fires: string[];
}
/**
 * A declared parameter: typed with a default, or computed from an ``expression``; with
 * what a form needs to ask for it (``input``, ``choices``, ``nullable``, and the bounds
 * ``minimum``/``maximum`` a number must keep).
 */
export interface ParameterInfo {
  name: string;
  help?: string | null;
  type?: string | null;
  default: {
    [k: string]: unknown;
  };
  expression?: string | null;
  input: 'bool' | 'choice' | 'derived' | 'float' | 'int' | 'literal' | 'str';
  choices: unknown[];
  nullable: boolean;
  minimum: number | null;
  maximum: number | null;
}
/**
 * A run of the pipeline: a runs-table row, with its gate results on the detail page.
 */
export interface PipelineRun {
  id: string;
  experiment: string;
  name: string | null;
  status: RunStatus;
  kind: RunKind;
  parent_id: string | null;
  started: string;
  duration: number | null;
  seed: number | null;
  gates: string | null;
  model: string | null;
  model_stage: string | null;
  params: {
    [k: string]: unknown;
  };
  metrics: {
    [k: string]: number | null;
  };
  gate_results?: GateResult[] | null;
}
/**
 * The outcome of one gate; ``observed`` is JSON-able, ``threshold`` a short human string.
 */
export interface GateResult {
  gate: string;
  kind: string;
  status: GateStatus;
  observed: {
    [k: string]: unknown;
  };
  threshold: string;
  message: string;
  severity: Severity1;
  details: {
    [k: string]: unknown;
  };
}
export interface PipelineDetail {
  name: string;
  notebook: string | null;
  schedule: string | null;
  next_fire: string | null;
  parameters: ParameterInfo[];
  gates: number;
  last_runs: PipelineRun[];
  error: string | null;
  schedule_text: string | null;
  timezone: string | null;
  next_fires: string[];
  spec: {
    [k: string]: unknown;
  } | null;
  schedule_log: ScheduleEvent[];
}
/**
 * What the scheduler did about one firing: its outcome (passed, gate_failed, failed,
 * interrupted), or that it skipped or missed it.
 */
export interface ScheduleEvent {
  pipeline: string;
  scheduled_for: string;
  outcome: string;
  run_id: string | null;
  message: string | null;
  time: string;
}
/**
 * A pipeline run started in a subprocess; ``run_id`` is its id in the store (its output
 * goes to ``runs/RUN_ID/launch.log`` in the store's directory).
 */
export interface Launch {
  run_id: string;
  pipeline: string;
  pid: number;
}
/**
 * A notebook promoted to a pipeline spec: where it was written and what changed.
 */
export interface Promoted {
  path: string;
  created: boolean;
  messages: string[];
  changes: string[];
  spec: {
    [k: string]: unknown;
  };
}
export interface Models {
  models: ModelSummary[];
}
export interface ModelSummary {
  name: string;
  versions: number;
  blessed: number | null;
  pinned: number | null;
  latest: ModelVersion;
}
/**
 * Versions of a model (all, or the one a ``NAME@VERSION`` or ``NAME@ALIAS`` names) with
 * their stages, aliases, tags and description, the gates of the versions that ran some, its
 * pin (None when runs may bless), the history of changes and the monitor's actions.
 */
export interface ModelDetail {
  name: string;
  versions: ModelVersion[];
  gates: VersionGates[];
  pin: ModelPin | null;
  events: ModelEvent[];
  monitor_actions: ActionTaken[];
}
/**
 * The gates a version was judged by (its pipeline run's): the outcome, the blocking
 * failures, and ``failed_text``, the one line a bless of it is refused with
 * ("wine@3 failed its gates: metric:accuracy 0.61 (needs >= 0.8)"), None when none failed.
 */
export interface VersionGates {
  version: number;
  outcome: string;
  failed: GateResult[];
  failed_text: string | null;
}
/**
 * A model held at ``version``: automated runs (pipelines, scheduled firings, sweeps)
 * register candidates but do not bless, until it is unpinned or ``until`` passes.
 *
 * ``origin`` is how it was pinned: ``rollback`` (every rollback pins) or ``pin`` (by hand).
 */
export interface ModelPin {
  name: string;
  version: number;
  origin: string;
  by: string | null;
  reason: string | null;
  since: string;
  until: string | null;
}
export interface ModelEvent {
  name: string;
  version: number;
  action: string;
  actor: string | null;
  reason: string | null;
  time: string;
}
/**
 * An action a monitor took (retrain, rollback, notify) and how it went.
 */
export interface ActionTaken {
  time: string;
  action: string | null;
  status: string;
  description: string;
  detail: {
    [k: string]: unknown;
  };
}
export interface RolledBack {
  archived: ModelVersion;
  blessed: ModelVersion;
}
export interface Unpinned {
  unpinned: ModelPin | null;
}
export interface Monitors {
  monitors: MonitorSummary[];
}
/**
 * A monitor: its model, blessed and shadow versions, last batch and breach; ``error``
 * for a spec that does not load.
 */
export interface MonitorSummary {
  name: string;
  status: 'breach' | 'error' | 'ok' | 'pending';
  model: string | null;
  window: string | null;
  blessed: string | null;
  shadows: string[];
  last_batch: string | null;
  batches: number;
  last_breach: string | null;
  error: string | null;
}
/**
 * The whole monitoring record of a monitor over a period.
 */
export interface MonitorReport {
  name: string;
  model: string;
  monitor: MonitorInfo | null;
  blessed: string | null;
  status: 'breach' | 'error' | 'ok' | 'pending';
  batches: BatchInfo[];
  events: MonitorEventInfo[];
  windows: WindowInfo[];
  performance: Performance[];
  breaches: Breach[];
  actions: ActionTaken[];
  shadows: ShadowComparison[];
}
export interface MonitorInfo {
  name: string;
  window: string;
  cooldown: number;
  pipeline: string | null;
  checks: {
    [k: string]: unknown;
  }[];
  plans: CheckPlan[];
}
/**
 * What a check does when it breaches, in words: "retrain with pipeline churn", "roll
 * back churn to version 2", "notify".
 */
export interface CheckPlan {
  check: string;
  kind: string;
  action: string;
  words: string;
}
export interface BatchInfo {
  batch_id: string;
  time: string;
  version: number;
  role: string;
  rows: number;
  latency: number | null;
  share_drifted: number | null;
  drifted: string[];
  columns: {
    [k: string]: ColumnDrift;
  };
  metrics: {
    [k: string]: number | null;
  };
}
/**
 * One column's drift verdict (``validation.drift_report.ColumnDrift.to_dict``): the test
 * that decided, its effect with the 95 % interval against the practical size ``delta``, the
 * null shares (reference, current), or a named breach's words in ``detail``.
 */
export interface ColumnDrift {
  kind: string;
  method: string;
  statistic: number;
  threshold: number;
  drifted: boolean;
  p_value: number | null;
  p_adjusted: number | null;
  n_reference: number;
  n_current: number;
  slice: string | null;
  column: string | null;
  effect: number | null;
  interval: number[];
  delta: number | null;
  null_shares: number[] | null;
  detail: string | null;
}
export interface MonitorEventInfo {
  time: string;
  kind: string;
  status: string;
  detail: {
    [k: string]: unknown;
  };
}
export interface WindowInfo {
  start: string;
  end: string;
  version: number;
  batches: number;
  rows: number;
  share_drifted: number | null;
  drifted: string[];
  columns: {
    [k: string]: ColumnDrift;
  };
  metrics: {
    [k: string]: number | null;
  };
}
/**
 * Per metric: the monitor's limits and the latest labelled window's value; ``pending``
 * while too few labels judge it.
 */
export interface Performance {
  metric: string;
  min: number | null;
  max: number | null;
  value: number | null;
  labelled: number;
  window_start: string | null;
  breached: boolean;
  status: 'breach' | 'ok' | 'pending';
}
export interface Breach {
  time: string;
  version: number | null;
  window: unknown;
  checks: BreachedCheck[];
  description: string;
}
export interface BreachedCheck {
  check: string;
  kind: string;
  value: number | null;
  threshold: string | null;
  action: string | null;
}
/**
 * A shadow version against the blessed one on the labelled batches both scored.
 */
export interface ShadowComparison {
  ref: string;
  version: number;
  metric: string | null;
  batches: number | null;
  won: number | null;
  tied: number | null;
  lost: number | null;
  shadow: number | null;
  blessed: number | null;
  error: string | null;
}
/**
 * Points over time with thresholds and breach markers: what the plots draw.
 */
export interface MonitorSeries {
  name: string;
  kind: 'drift' | 'performance';
  column: string | null;
  metric: string | null;
  label: string;
  breach_when: 'above' | 'below' | 'outside';
  thresholds: number[];
  series: SeriesLine[];
}
export interface SeriesLine {
  label: string;
  version: number | null;
  role: string;
  points: SeriesPoint[];
}
export interface SeriesPoint {
  time: string;
  value: number;
  breach: boolean;
  version: number | null;
  threshold: number | null;
  method: string | null;
}
/**
 * Where the store is, its schema version and counts of runs by status, experiments,
 * pipelines and models.
 */
export interface Status {
  store: string;
  schema_version: number;
  runs: number;
  runs_by_status: {
    [k: string]: number;
  };
  experiments: number;
  pipelines: number;
  models: number;
}
export interface StoreInfo {
  backend: string;
  location: string;
  artifacts: string;
  schema_version: number | null;
  runs: number;
  running_runs: number;
  experiments: number;
  pipelines: number;
  model_versions: number;
  artifact_count: number;
  artifact_bytes: number;
  database_bytes: number | null;
}
/**
 * What ``jupyter-mlops scheduler --status`` shows: next firings, then the latest log rows.
 */
export interface SchedulerStatus {
  next: {
    [k: string]: string;
  };
  log: ScheduleEvent[];
}
/**
 * The outbox: notifications not delivered yet (and the newest delivered ones, on
 * request).
 */
export interface Notifications {
  notifications: Notification[];
}
/**
 * One message of the notification outbox, to one target (a webhook URL or a command).
 * ``id`` is its idempotency key: every delivery of it carries the same id.
 */
export interface Notification {
  id: string;
  created: string;
  event: string;
  channel: string;
  target: string;
  payload: {
    [k: string]: unknown;
  };
  attempts: number;
  next_attempt: string | null;
  status: NotificationStatus;
  last_error: string | null;
  delivered: string | null;
  claimed_by: string | null;
}
/**
 * The kinds of record that changed after revision ``since`` up to ``revision`` (every kind
 * when ``since`` is None or older than the log remembers); pass ``revision`` back next time.
 */
export interface Changes {
  revision: number;
  since: number | null;
  kinds: ChangeKind[];
}
/**
 * ``state`` is ``none`` when the model never had a canary (the other fields empty).
 */
export interface Deployment {
  name: string;
  state: string;
  candidate: number | null;
  baseline: number | null;
  share: number;
  step: number | null;
  plan: {
    [k: string]: unknown;
  };
  started: string | null;
  updated: string | null;
  next_look: string | null;
  arms: Arm[];
  difference: {
    [k: string]: unknown;
  };
  trail: Decision[];
}
export interface Arm {
  version: number;
  arm: string;
  share: number;
  rows: number;
  errors: number;
  error_rate: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  labels: number;
  metric: number | null;
  lower: number | null;
  upper: number | null;
  distance: number | null;
}
export interface Decision {
  seq: number;
  time: string;
  decision: string;
  reason: string;
  share: number | null;
}
