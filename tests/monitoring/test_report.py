"""`jupyter-mlops monitor` (text, JSON, HTML) and the drift and performance plots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from matplotlib.figure import Figure

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main
from jupyter_mlops.codec import iso_time
from jupyter_mlops.exceptions import MLOpsError
from jupyter_mlops.monitoring import evaluate, log_labels, predict

from .helpers import DAY, T0, Threshold, features, register, truth

MONITOR = """\
cooldown: 1d
checks:
  - {kind: drift, max_share: 0.0, action: notify}
  - {kind: performance, metric: accuracy, min: 0.8, action: none}
"""


@pytest.fixture
def history(tracker: mlops.Tracker, tmp_path: Path) -> None:
    (tmp_path / "monitors").mkdir()
    (tmp_path / "monitors" / "churn.yaml").write_text(MONITOR)
    register(tracker, "churn", Threshold())
    for day in range(4):
        X = features(300, seed=day, shift=2.0 if day == 3 else 0.0).drop(columns="region")
        ids = [f"{day}-{i}" for i in range(300)]
        predict("churn", X, ids=ids, now=T0 + day * DAY)
        y = truth(X)
        if day == 2:
            y = 1 - y  # a bad day of labels: accuracy 0
        log_labels("churn", ids, y, now=T0 + day * DAY + 60)
        evaluate("churn", now=T0 + day * DAY + 120)


def test_monitor_table_text_and_json(history: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitor", "churn", "--now", str(T0 + 3 * DAY + 200)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("model churn: blessed churn@1; monitor window daily")
    lines = [line for line in out.splitlines() if line.startswith("20") and "blessed" in line]
    assert len(lines) == 4
    assert lines[3].split()[6:8] == ["0.50", "x1"]  # day 3: x1 of 2 columns drifted
    assert "evaluations: 4, breaches: 2" in out
    assert "drift:drift 0.5 breaches share drifted <= 0 -> notify" in out
    assert "performance:accuracy 0 breaches accuracy >= 0.8 -> none" in out
    assert (
        main(["monitor", "churn", "--json", "--since", "36h", "--now", str(T0 + 3 * DAY + 200)])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert [b["time"] for b in data["batches"]] == [iso_time(T0 + 2 * DAY), iso_time(T0 + 3 * DAY)]
    assert data["batches"][0]["metrics"]["accuracy"] == 0.0
    assert data["batches"][1]["drifted"] == ["x1"] and data["blessed"] == "churn@1"
    assert [e["kind"] for e in data["events"]].count("action") == 1  # day 3's notify


def test_monitor_html_report_and_evaluate(
    history: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "r.html"
    args = ["monitor", "churn", "--html", str(report), "--evaluate", "--now", str(T0 + 4 * DAY)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "evaluations: 5" in out
    # What --evaluate did, first: day 4 has no batch yet, so drift cannot be judged (pending).
    assert out.startswith(
        "evaluated churn: drift:drift pending (no batch in the window); 1 check(s) ok\n"
    )
    page = report.read_text()
    assert page.startswith("<!doctype html>") and page.count("<svg") == 3  # drift, accuracy, f1
    assert "breaches share drifted" in page


def test_monitor_errors(tracker: mlops.Tracker, capsys: pytest.CaptureFixture[str]) -> None:
    register(tracker, "m", Threshold())
    assert main(["monitor", "m", "--since", "soon"]) == 2
    assert "bad duration 'soon'" in capsys.readouterr().err
    assert main(["monitor", "m", "--evaluate"]) == 2
    assert "No monitor 'm'" in capsys.readouterr().err


def test_plots_have_thresholds_and_breach_markers(history: None) -> None:
    fig = mlops.plot_drift("churn")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    (line,) = ax.get_lines()[:1]
    assert list(line.get_ydata()) == [0.0, 0.0, 0.0, 0.5]
    breaches = ax.collections[0].get_offsets()
    assert len(breaches) == 1 and breaches[0][1] == 0.5
    assert any(t.get_text() == "threshold 0" for t in ax.get_legend().get_texts())
    col = mlops.plot_drift("churn", column="x1").axes[0]
    assert len(col.collections[0].get_offsets()) == 1
    perf = mlops.plot_performance("churn", "accuracy").axes[0]
    assert list(perf.get_lines()[0].get_ydata()) == [1.0, 1.0, 0.0, 1.0]
    assert perf.get_lines()[1].get_ydata()[0] == 0.8  # the threshold line
    assert len(perf.collections[0].get_offsets()) == 1
    with pytest.raises(MLOpsError, match="Unknown metric 'auc'"):
        mlops.plot_performance("churn", "auc")
    with pytest.raises(MLOpsError, match="column 'nope'"):
        mlops.plot_drift("churn", column="nope")
