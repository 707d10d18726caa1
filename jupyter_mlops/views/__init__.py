"""The view layer: one core function per question a user asks, each returning a typed, frozen
value that every front-end renders (the REST body, ``jupyter-mlops … --json`` and its tables,
the widgets and ``%mlops``). The values are dataclasses whose JSON is their fields, encoded by
:func:`encode`; their JSON Schema generates the panel's TypeScript types (:mod:`.schema`).

========================  ======================  ==========================================
question                  function                front-ends
========================  ======================  ==========================================
runs page                 :func:`runs_page`       ``GET runs``, ``runs``, ``%mlops runs``
run detail                :func:`run_detail`      ``GET runs/ID``, ``show``
metric series             :func:`metric_series`   ``GET runs/ID/metrics/KEY``
run curves                :func:`run_curves`      ``GET runs/ID/curves``
table artifact            :func:`artifact_table`  ``GET runs/ID/table/NAME``
compare                   :func:`compare_runs`    ``GET compare``, ``compare``, ``%mlops``
overlaid curves           :func:`compare_curves`  ``GET compare/curves``
experiments               :func:`experiments`     ``GET experiments``
pipelines                 :func:`pipeline_list`   ``GET pipelines``, ``pipelines list``
pipeline detail           :func:`pipeline_detail` ``GET pipelines/NAME``, ``pipelines show``
models                    :func:`model_list`      ``GET models``, ``models list``
model detail              :func:`model_detail`    ``GET models/NAME``, ``models show``
version edits             :func:`tag_model` …     ``POST models/NAME/versions/V/…``, ``models tag``
monitors                  :func:`monitor_list`    ``GET monitors``
monitor report            :func:`monitor_report`  ``GET monitors/NAME``, ``monitor NAME``
status                    :func:`status_summary`  ``GET status``
store info                :func:`store_summary`   ``GET store``, ``store info``
schedule                  :func:`schedule_status` ``GET schedule``, ``scheduler --status``
notifications             :func:`notifications`   ``GET notifications``, ``notify list``
========================  ======================  ==========================================

Nothing here imports tornado, IPython or ipywidgets.
"""

from __future__ import annotations

from .actions import (
    Launch,
    Promoted,
    RolledBack,
    Unpinned,
    bless_model,
    launch_pipeline_run,
    promote_notebook,
    rollback_model,
    unpin_model,
)
from .compare import CompareRow, Comparison, Experiments, compare_runs, experiments
from .curves import CurveOverlay, RunCurves, compare_curves, run_curves
from .detail import (
    ArtifactFile,
    MetricSeries,
    OutputNotebook,
    RunDetail,
    artifact_file,
    metric_series,
    output_notebook,
    run_detail,
)
from .model_edits import alias_model, describe_model, tag_model
from .models import ModelDetail, Models, ModelSummary, VersionGates, model_detail, model_list
from .monitors import (
    MonitorReport,
    Monitors,
    MonitorSeries,
    monitor_list,
    monitor_report,
    monitor_series,
    report_of,
)
from .pipelines import (
    PipelineDetail,
    Pipelines,
    PipelineSummary,
    pipeline_detail,
    pipeline_list,
    stored,
)
from .runs import MAX_PAGE, RunsPage, RunsQuery, all_runs, runs_page, runs_records
from .status import (
    Notifications,
    Status,
    notifications,
    schedule_status,
    status_summary,
    store_summary,
)
from .tables import ArtifactTable, artifact_table
from .values import View, encode, to_jsonable

__all__ = [
    "MAX_PAGE",
    "ArtifactFile",
    "ArtifactTable",
    "CompareRow",
    "Comparison",
    "CurveOverlay",
    "Experiments",
    "Launch",
    "MetricSeries",
    "ModelDetail",
    "ModelSummary",
    "Models",
    "MonitorReport",
    "MonitorSeries",
    "Monitors",
    "Notifications",
    "OutputNotebook",
    "PipelineDetail",
    "PipelineSummary",
    "Pipelines",
    "Promoted",
    "RolledBack",
    "RunCurves",
    "RunDetail",
    "RunsPage",
    "RunsQuery",
    "Status",
    "Unpinned",
    "VersionGates",
    "View",
    "alias_model",
    "all_runs",
    "artifact_file",
    "artifact_table",
    "bless_model",
    "compare_curves",
    "compare_runs",
    "describe_model",
    "encode",
    "experiments",
    "launch_pipeline_run",
    "metric_series",
    "model_detail",
    "model_list",
    "monitor_list",
    "monitor_report",
    "monitor_series",
    "notifications",
    "output_notebook",
    "pipeline_detail",
    "pipeline_list",
    "promote_notebook",
    "report_of",
    "rollback_model",
    "run_curves",
    "run_detail",
    "runs_page",
    "runs_records",
    "schedule_status",
    "status_summary",
    "store_summary",
    "tag_model",
    "stored",
    "to_jsonable",
    "unpin_model",
]
