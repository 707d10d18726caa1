from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from jupyter_mlops.exceptions import PipelineSpecError, ValidationError
from jupyter_mlops.pipeline.spec import (
    Parameter,
    PipelineSpec,
    dump_spec,
    list_pipelines,
    load_gates,
    load_pipeline,
    load_spec,
    save_spec,
)
from jupyter_mlops.validation.gates import GateSpec, Severity


def make_spec(**overrides: object) -> PipelineSpec:
    base: dict[str, object] = {
        "name": "train",
        "notebook": "../train.ipynb",
        "notebook_hash": "ab" * 32,
        "cell_hashes": ("0" * 16, "1" * 16),
        "parameters": (
            Parameter("alpha", "float", 0.5, "regularisation"),
            Parameter("cols", "list[str]", ["a", "b"]),
            Parameter("shape", "tuple[int, ...]", (2, 3)),
            Parameter("seed", "int | None", None),
            Parameter("out_dir", help="derived", expression="f'runs/{alpha}'"),
        ),
        "schedule": "0 3 * * MON-FRI",
        "timeout": "30m",
        "retries": 2,
        "gates": (
            GateSpec("metric", {"metric": "accuracy", "min": 0.9}),
            GateSpec("row_count", {"dataset": "train", "min": 10}, "rows", Severity.WARN),
        ),
    }
    base.update(overrides)
    return PipelineSpec(**base)  # type: ignore[arg-type]


def test_round_trip_through_yaml(tmp_path: Path) -> None:
    spec = make_spec()
    path = save_spec(spec, tmp_path / "pipelines" / "train.yaml")
    loaded = load_spec(path)
    assert loaded == spec
    assert loaded.parameter("shape") == Parameter("shape", "tuple[int, ...]", (2, 3))
    assert loaded.path == str(path)
    assert loaded.timeout_s == 1800
    assert loaded.cron is not None and loaded.cron.expr == "0 3 * * MON-FRI"
    assert loaded.notebook_path() == (tmp_path / "train.ipynb").resolve()
    assert PipelineSpec.from_dict(spec.to_dict()) == spec


def test_dump_is_commented_and_reviewable() -> None:
    text = dump_spec(make_spec())
    assert text.startswith("# Pipeline spec written by `jupyter-mlops promote`")
    assert "# Cron 'minute hour day-of-month month day-of-week'" in text
    assert "# Evaluated in order after the run; `severity: warn`" in text
    assert "  default: [a, b]\n" in text  # lists of scalars on one line
    assert "- kind: metric\n  metric: accuracy\n  min: 0.9\n" in text
    assert "- name: rows\n  kind: row_count\n  severity: warn\n" in text
    assert "help: regularisation" in text
    data = yaml.safe_load(text)
    assert list(data)[:3] == ["version", "name", "notebook"]
    assert "help" not in data["parameters"][1]  # empty help left out


def test_to_dict_is_json_able() -> None:
    import json

    d = make_spec().to_dict()
    assert json.loads(json.dumps(d)) == d


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


BASE = "name: train\nnotebook: train.ipynb\n"


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("name: train\n", ["missing field 'notebook'"]),
        (BASE + "schedul: '@daily'\n", ["unknown field 'schedul'; did you mean 'schedule'?"]),
        (BASE + "schedule: '61 * * * *'\n", ["field 'schedule'", "minute field", "0-59"]),
        (BASE + "timeout: 30x\n", ["field 'timeout'", "Invalid duration '30x'"]),
        (BASE + "timeout: 0\n", ["timeout must be more than zero"]),
        (BASE + "retries: -1\n", ["field 'retries'", "whole number >= 0"]),
        (BASE + "retries: yes\n", ["field 'retries'"]),
        (BASE + "version: 9\n", ["version 9 is not supported"]),
        ("name: 'bad name'\nnotebook: x.ipynb\n", ["not a valid pipeline name"]),
        (BASE + "parameters: {a: 1}\n", ["'parameters' must be a list"]),
        (
            BASE + "parameters:\n- {name: n, type: int, default: 1.5}\n",
            ["parameters[0]", "default 1.5, which is not a int"],
        ),
        (BASE + "parameters:\n- {name: 1x, type: int}\n", ["not a Python identifier"]),
        (
            BASE + "parameters:\n- {name: d, expression: a ==, type: bool}\n",
            ["parameters[0]", "'d' is derived", "cannot also have type", "literal default"],
        ),
        (
            BASE + "parameters:\n- {name: d, expression: a ==}\n",
            ["parameters[0]", "expression 'a ==', which is not Python"],
        ),
        (BASE + "parameters:\n- {name: d, expression: 3}\n", ["write the Python expression"]),
        (BASE + "gates:\n- {kind: metrc, metric: a, min: 1}\n", ["gates: Gate #1", "'metric'?"]),
        ("- just\n- a list\n", ["expected a mapping"]),
        (BASE + "kernel: [\n", ["line 4 column 1", "invalid YAML"]),
    ],
)
def test_invalid_specs_name_file_and_field(tmp_path: Path, text: str, needles: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PipelineSpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message
    assert isinstance(info.value, ValidationError)


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(PipelineSpecError, match="not found; promote a notebook with"):
        load_spec(tmp_path / "nope.yaml")


def test_load_pipeline_did_you_mean(tmp_path: Path) -> None:
    save_spec(make_spec(), tmp_path / "pipelines" / "train.yaml")
    save_spec(make_spec(name="score"), tmp_path / "pipelines" / "score.yaml")
    assert list_pipelines(tmp_path / "pipelines") == ["score", "train"]
    assert load_pipeline("train", tmp_path / "pipelines").name == "train"
    with pytest.raises(PipelineSpecError) as info:
        load_pipeline("trian", tmp_path / "pipelines")
    assert "did you mean 'train'?" in str(info.value)
    assert "pipelines: score, train" in str(info.value)
    with pytest.raises(PipelineSpecError, match="no pipelines yet"):
        load_pipeline("x", tmp_path / "empty")
    save_spec(make_spec(name="other"), tmp_path / "pipelines" / "copy.yaml")
    with pytest.raises(PipelineSpecError, match="names its pipeline 'other'; make the name match"):
        load_pipeline("copy", tmp_path / "pipelines")


def test_load_gates_file_forms(tmp_path: Path) -> None:
    listed = write(tmp_path, "- {kind: metric, metric: f1, min: 0.5}\n")
    assert load_gates(listed) == (GateSpec("metric", {"metric": "f1", "min": 0.5}),)
    mapped = tmp_path / "g.yaml"
    mapped.write_text("gates:\n  - kind: row_count\n    dataset: d\n    max: 5\n")
    assert load_gates(mapped)[0].kind == "row_count"
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: metric\n")
    with pytest.raises(PipelineSpecError, match="expected a list of gates"):
        load_gates(bad)
    with pytest.raises(PipelineSpecError, match="Gates file .* not found; check the path"):
        load_gates(tmp_path / "missing.yaml")


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "pipelines" / "train.yaml"
    save_spec(make_spec(), path)
    save_spec(make_spec(retries=5), path)
    assert load_spec(path).retries == 5
    assert [p.name for p in path.parent.iterdir()] == ["train.yaml"]
