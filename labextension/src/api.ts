/**
 * The typed calls of the REST API. The bodies' types are generated from the Python view values
 * (`jupyter_mlops/views/`) into `types.ts` by `jlpm build:types`; the names below are the ones
 * the components use. Panel components reach the server only through `MLOpsAPI`.
 */
import { API_PREFIX, queryString, requestAPI } from './request';
import type * as T from './types';

export type {
  GateStatus,
  ModelStage,
  RunKind,
  RunStatus,
  Severity
} from './types';

/** Every `RunStatus` gets a chip (`jp-mlops-status-*` in style/base.css). */
export const RUN_STATUSES = [
  'running',
  'finished',
  'failed',
  'interrupted'
] as const satisfies readonly T.RunStatus[];
// A status added in Python (hence in types.ts) and missing above fails to compile here.
type MissingStatus = Exclude<T.RunStatus, (typeof RUN_STATUSES)[number]>;
export const ALL_STATUSES_HAVE_A_CHIP: [MissingStatus] extends [never]
  ? true
  : MissingStatus = true;

export type Value =
  string | number | boolean | null | Value[] | { [k: string]: Value };

export type IRunRow = T.RunRow;
export type IRunsPage = T.RunsPage;
export type IDataRef = T.DataRef;
export type IArtifact = T.Artifact;
export type IGateResult = T.GateResult;
export type IModelVersion = T.ModelVersion;
export type IRunDiff = T.RunChanges;
export type IRunDetail = T.RunDetail;
export type IMetricSeries = T.MetricSeries;
export type ICompare = T.Comparison;
export type IPipelineRun = T.PipelineRun;
export type IPipelineSummary = T.PipelineSummary;
export type IPipeline = T.PipelineDetail;
export type IModelSummary = T.ModelSummary;
export type IModelPin = T.ModelPin;
export type IModelEvent = T.ModelEvent;
export type IModelDetail = T.ModelDetail;
export type IVersionGates = T.VersionGates;
export type ILaunch = T.Launch;
export type IPromoted = T.Promoted;
export type IOutputNotebook = T.OutputNotebook;
export type IMonitorSummary = T.MonitorSummary;
export type IColumnDrift = T.ColumnDrift;
export type IMonitorWindow = T.WindowInfo;
export type IMonitorCheck = T.BreachedCheck;
export type IMonitorDetail = T.MonitorReport;
export type IMonitorSeries = T.MonitorSeries;
export type IGateLine = T.GateLine;
export type IArtifactPreview = T.ArtifactPreview;
export type IArtifactTable = T.ArtifactTable;
export type IImportance = T.Importance;
export type IRunCurves = T.RunCurves;
export type ICurveGroup = T.CurveGroup;
export type ICurve = T.Curve;
export type ICurveOverlay = T.CurveOverlay;
export type IDeployment = T.Deployment;
export type IArm = T.Arm;
export type IDecision = T.Decision;

/** What `POST models/NAME/rollout` takes (the handler's fields; all but `version` optional). */
export interface ICanaryPlan {
  version: number;
  steps?: string;
  metric?: string;
  min_labels?: number;
  guards?: string[];
  interval?: string;
  effect?: number;
  alpha?: number;
  beta?: number;
}

/** What `GET runs` takes (query-string parameters, not a Python value). */
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
  /** passed | failed | warned | none (no gate ran) */
  gate?: string;
}

/** `POST runs/ID/reproduce` (`Reproduction.to_dict()`, not a view value yet). */
export interface IReproduction {
  original: string;
  new: string | null;
  verdict: 'reproduced' | 'differs' | 'inputs changed' | 'failed' | string;
  input_changes: Record<string, string>;
  metric_diffs: Record<string, { original: number | null; new: number | null }>;
  message: string;
}

/** `POST pipelines/NAME/check`: values converted to their declared types (not a view type yet). */
export interface ICheckedParams {
  pipeline: string;
  params: Record<string, Value>;
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
  /** Every stepped metric of a run, grouped by metric, each downsampled to `points`. */
  runCurves: (id: string, points?: number) =>
    requestAPI<IRunCurves>(`runs/${seg(id)}/curves${queryString({ points })}`),
  /** Metric `metric` of the first five of `ids` overlaid (the rest in `omitted`). */
  compareCurves: (ids: string[], metric: string, points?: number) =>
    requestAPI<ICurveOverlay>(
      `compare/curves${queryString({ ids: ids.join(','), metric, points })}`
    ),
  /** A `table` artifact's rows and, with a column of importance, its top features. */
  artifactTable: (id: string, name: string, by?: string, rows?: number) =>
    requestAPI<IArtifactTable>(
      `runs/${seg(id)}/table/${name.split('/').map(seg).join('/')}${queryString({ by, rows })}`
    ),
  outputNotebook: (id: string) =>
    requestAPI<IOutputNotebook>(`runs/${seg(id)}/notebook`),
  reproduce: (id: string) =>
    requestAPI<IReproduction>(`runs/${seg(id)}/reproduce`, post({})),
  compare: (ids: string[]) =>
    requestAPI<ICompare>(`compare${queryString({ ids: ids.join(',') })}`),
  experiments: () => requestAPI<T.Experiments>('experiments'),
  pipelines: () => requestAPI<T.Pipelines>('pipelines'),
  pipeline: (name: string) => requestAPI<IPipeline>(`pipelines/${seg(name)}`),
  runPipeline: (name: string, params: Record<string, Value> = {}) =>
    requestAPI<ILaunch>(`pipelines/${seg(name)}/run`, post({ params })),
  promote: (notebook: string, name?: string, schedule?: string) =>
    requestAPI<IPromoted>('promote', post({ notebook, name, schedule })),
  models: () => requestAPI<T.Models>('models'),
  model: (name: string) => requestAPI<IModelDetail>(`models/${seg(name)}`),
  bless: (name: string, version: number, reason: string) =>
    requestAPI<IModelVersion>(
      `models/${seg(name)}/bless`,
      post({ version, reason })
    ),
  rollback: (name: string, to: number | null, reason: string) =>
    requestAPI<T.RolledBack>(
      `models/${seg(name)}/rollback`,
      post({ to, reason })
    ),
  unpin: (name: string, reason: string) =>
    requestAPI<T.Unpinned>(`models/${seg(name)}/unpin`, post({ reason })),
  /** The model's canary: arms, evidence, plan and trail (`state: none` when it never had one). */
  rollout: (name: string) =>
    requestAPI<IDeployment>(`models/${seg(name)}/rollout`),
  /** Start canarying `plan.version` against the blessed version. */
  startCanary: (name: string, plan: ICanaryPlan) =>
    requestAPI<IDeployment>(`models/${seg(name)}/rollout`, post(plan)),
  /** Abort the running canary: all traffic back on the blessed version. */
  abortCanary: (name: string, reason: string) =>
    requestAPI<IDeployment>(
      `models/${seg(name)}/rollout/abort`,
      post({ reason })
    ),
  monitors: () => requestAPI<T.Monitors>('monitors'),
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
      .join('/')}`,
  checkParams: (name: string, params: Record<string, Value>) =>
    requestAPI<ICheckedParams>(
      `pipelines/${seg(name)}/check`,
      post({ params })
    ),
  artifactPreview: (id: string, name: string) =>
    requestAPI<IArtifactPreview>(
      `runs/${seg(id)}/preview/${name.split('/').map(seg).join('/')}`
    ),
  /** An image or HTML artifact as the page shows it (HTML: in a CSP sandbox). */
  artifactInlineURL: (id: string, name: string, baseUrl: string) =>
    `${baseUrl}${API_PREFIX}/runs/${seg(id)}/inline/${name
      .split('/')
      .map(seg)
      .join('/')}`,
  /** Bless a version whose gates failed: the reason is recorded with the failures. */
  blessOverridingGates: (name: string, version: number, reason: string) =>
    requestAPI<IModelVersion>(
      `models/${seg(name)}/bless`,
      post({ version, reason, override_gates: true })
    ),
  /** Point `alias` at `version` (a number or an alias), or remove it (`remove`). */
  setAlias: (
    name: string,
    version: number | string,
    alias: string,
    remove = false
  ) =>
    requestAPI<IModelVersion>(
      `models/${seg(name)}/versions/${seg(String(version))}/alias`,
      post(remove ? { alias, delete: true } : { alias })
    ),
  setTags: (
    name: string,
    version: number | string,
    set: Record<string, string>,
    remove: string[] = []
  ) =>
    requestAPI<IModelVersion>(
      `models/${seg(name)}/versions/${seg(String(version))}/tags`,
      post({ set, delete: remove })
    ),
  describe: (name: string, version: number | string, description: string) =>
    requestAPI<IModelVersion>(
      `models/${seg(name)}/versions/${seg(String(version))}/description`,
      post({ description })
    )
};

export type IMLOpsAPI = typeof MLOpsAPI;
