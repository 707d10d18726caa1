"""The ``monitor:`` key of a pipeline spec: the monitor file's schema and errors, found by the
pipeline's name (by evaluate, the history and `jupyter-mlops monitor`), kept by a re-promote,
and never defined twice."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main
from jupyter_mlops.codec import iso_time
from jupyter_mlops.exceptions import MLOpsError, PipelineSpecError
from jupyter_mlops.monitoring import evaluate, load_monitor
from jupyter_mlops.monitoring.spec import list_monitors
from jupyter_mlops.pipeline import promote
from jupyter_mlops.pipeline.spec import PipelineSpec, load_pipeline
from tests.conftest import ROOT

from .helpers import DAY, T0, Threshold, register
from .test_evaluation import feed

MONITOR = {
    "window": "daily",
    "cooldown": "2d",
    "checks": [
        {"kind": "drift", "max_share": 0.0, "action": "notify"},
        {"kind": "performance", "metric": "accuracy", "min": 0.8, "action": "rollback"},
    ],
}


def write_pipeline(root: Path, name: str, monitor: object) -> Path:
    (root / "pipelines").mkdir(exist_ok=True)
    path = root / "pipelines" / f"{name}.yaml"
    spec = {"version": 1, "name": name, "notebook": "../train.ipynb", "monitor": monitor}
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_monitor_key_defaults_to_the_pipelines_model_and_retrain(tmp_path: Path) -> None:
    write_pipeline(tmp_path, "churn", MONITOR)
    spec = load_monitor("churn")
    assert (spec.name, spec.model, spec.pipeline) == ("churn", "churn", "churn")
    assert spec.window == "daily" and spec.cooldown == 2 * DAY
    assert [c.name for c in spec.checks] == ["drift:drift", "performance:accuracy"]
    assert load_pipeline("churn").monitor == spec
    # The key may name another model and another retraining pipeline, as a monitor file does.
    write_pipeline(tmp_path, "scorer", {**MONITOR, "model": "churn", "pipeline": "train"})
    other = load_monitor("scorer")
    assert (other.model, other.pipeline) == ("churn", "train")
    assert list_monitors() == ["churn", "scorer"]


@pytest.mark.parametrize(
    ("monitor", "needle"),
    [
        ({"colldown": "1d"}, "unknown field(s) colldown"),
        ({"window": "hourly"}, "window 'hourly' must be one of"),
        ({"checks": [{"kind": "drift", "action": "panic"}]}, "action must be one of"),
        ({"checks": [{"kind": "performance", "metric": "f1"}]}, "needs a metric and a min"),
        ({"cooldown": "soon"}, "bad duration 'soon'"),
        ([1, 2], "a monitor spec is a mapping of fields"),
    ],
)
def test_monitor_key_errors_match_the_monitor_files(
    tmp_path: Path, monitor: object, needle: str
) -> None:
    write_pipeline(tmp_path, "churn", monitor)
    with pytest.raises(PipelineSpecError) as err:
        load_pipeline("churn")
    message = str(err.value)
    assert "\n" not in message and needle in message
    spec = tmp_path / "pipelines" / "churn.yaml"  # the project's folder, named in full
    assert message.startswith(f"{spec}: field 'monitor': monitor 'churn': ")
    # The same error through the monitor's own door, and the same text a monitor file gets.
    with pytest.raises(PipelineSpecError, match="field 'monitor'"):
        load_monitor("churn")
    if isinstance(monitor, dict):
        (tmp_path / "monitors").mkdir()
        (tmp_path / "monitors" / "alone.yaml").write_text(yaml.safe_dump(monitor))
        with pytest.raises(MLOpsError) as file_err:
            load_monitor("alone")
        assert str(file_err.value).replace("'alone'", "'churn'") in message


def test_a_monitor_defined_twice_is_one_clear_error(tmp_path: Path) -> None:
    write_pipeline(tmp_path, "churn", MONITOR)
    (tmp_path / "monitors").mkdir()
    (tmp_path / "monitors" / "churn.yaml").write_text(yaml.safe_dump(MONITOR))
    with pytest.raises(MLOpsError) as err:
        load_monitor("churn")
    assert str(err.value) == (
        f"Monitor 'churn' is defined twice, in {tmp_path}/monitors/churn.yaml and under "
        f"'monitor:' in {tmp_path}/pipelines/churn.yaml; keep one of them"
    )
    with pytest.raises(MLOpsError, match="No monitor 'nope': neither .*/monitors/nope.yaml nor"):
        load_monitor("nope")
    # A pipeline without the key is no monitor, and `monitor: null` is none either.
    write_pipeline(tmp_path, "plain", None)
    assert list_monitors() == ["churn"] and load_pipeline("plain").monitor is None


def test_evaluate_and_the_cli_find_the_monitor_by_pipeline_name(
    tracker: mlops.Tracker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_pipeline(tmp_path, "churn", {"checks": [{"kind": "drift", "action": "notify"}]})
    register(tracker, "churn", Threshold())
    feed(range(5), drift_from=4)
    assert not evaluate("churn", now=T0 + 3 * DAY + 7200).breached
    hit = evaluate("churn", now=T0 + 4 * DAY + 7200)
    assert hit.breached and [a["action"] for a in hit.actions] == ["notify"]
    assert main(["monitor", "churn", "--now", str(T0 + 5 * DAY)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("model churn: blessed churn@1; monitor window daily, checks: ")
    assert "drift:drift -> notify" in out and "breaches: 1" in out
    # --pipelines-dir says where the key is read; elsewhere there is no such monitor
    assert main(["monitor", "churn", "--evaluate", "--pipelines-dir", "elsewhere"]) == 2
    err = capsys.readouterr().err
    assert f"No monitor 'churn': neither {tmp_path}/monitors/churn.yaml nor" in err
    assert f"key in {tmp_path}/elsewhere/churn.yaml;" in err


def test_re_promote_keeps_the_monitor_key(tmp_path: Path) -> None:
    shutil.copy(ROOT / "tests" / "notebooks" / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    first = promote(tmp_path / "train_ok.ipynb", timeout="5m")
    data = yaml.safe_load(first.path.read_text())
    data["monitor"] = MONITOR
    first.path.write_text(yaml.safe_dump(data, sort_keys=False))
    again = promote(tmp_path / "train_ok.ipynb", timeout="10m")
    assert again.spec.monitor is not None and again.spec.timeout == "10m"
    assert yaml.safe_load(again.path.read_text())["monitor"] == MONITOR
    assert PipelineSpec.from_dict(again.spec.to_dict()) == again.spec


def test_two_monitors_of_one_model_keep_their_own_status(
    tracker: mlops.Tracker, tmp_path: Path
) -> None:
    from jupyter_mlops.monitoring.report import summaries

    (tmp_path / "monitors").mkdir()
    (tmp_path / "monitors" / "churn.yaml").write_text("checks:\n  - {kind: drift}\n")
    quiet = {"model": "churn", "checks": [{"kind": "drift", "max_share": 1.0}]}
    write_pipeline(tmp_path, "scorer", quiet)
    register(tracker, "churn", Threshold())
    feed(range(5), drift_from=4)
    assert summaries(store=tracker.store)[0]["status"] == "pending"
    evaluate("churn", now=T0 + 4 * DAY + 7200)
    evaluate("scorer", now=T0 + 4 * DAY + 7300)
    rows = {r["name"]: r for r in summaries(store=tracker.store)}
    assert (rows["churn"]["status"], rows["churn"]["last_breach"]) == (
        "breach",
        iso_time(T0 + 4 * DAY + 7200),
    )
    assert (rows["scorer"]["status"], rows["scorer"]["last_breach"]) == ("ok", None)
    assert rows["scorer"]["model"] == "churn" and rows["scorer"]["last_batch"] == iso_time(
        T0 + 4 * DAY + 3600
    )
