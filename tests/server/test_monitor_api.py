"""The monitoring endpoints against a real jupyter_server (authentication on), over a store of
real ``predict``/``log_labels`` batches and evaluations (tests/monitoring/helpers.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main as cli_main
from jupyter_mlops.codec import iso_time
from jupyter_mlops.monitoring.plots import plot_drift, plot_performance
from tests.monitoring.helpers import DAY, T0, build_monitored
from tests.server.conftest import building_in
from tests.server.shared_server import *  # noqa: F403  (one server for the module)

pytestmark = pytest.mark.slow
NOW = str(T0 + 3 * DAY + 200)


@pytest.fixture(scope="module")
def server_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, None]:
    # Not the shared template project: this module's root holds the monitored models only.
    root = tmp_path_factory.mktemp("monitored")
    with building_in(root):
        build_monitored(mlops.default_tracker(), root)
    return root, None


async def test_monitors_list(api) -> None:
    code, data = await api("monitors")
    assert code == 200, data
    rows = {m["name"]: m for m in data["monitors"]}
    assert set(rows) == {"churn", "steady"}
    churn, steady = rows["churn"], rows["steady"]
    assert (churn["model"], churn["blessed"], churn["shadows"]) == ("churn", "churn@1", ["churn@2"])
    assert churn["status"] == "breach" and churn["last_breach"] == iso_time(T0 + 3 * DAY + 120)
    assert churn["last_batch"] == iso_time(T0 + 3 * DAY)
    # steady is monitored through its pipeline spec's `monitor:` key
    assert (steady["model"], steady["status"], steady["shadows"]) == ("steady", "ok", [])
    assert steady["last_breach"] is None and steady["last_batch"] == iso_time(T0 + DAY)


async def test_monitor_detail_is_the_cli_json(api, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = await api("monitors", "churn", params={"since": "36h", "now": NOW})
    assert code == 200, data
    capsys.readouterr()
    assert cli_main(["monitor", "churn", "--json", "--since", "36h", "--now", NOW]) == 0
    assert json.loads(capsys.readouterr().out) == data
    # per window: drift per column with method, statistic, threshold and the verdict
    # (daily windows are UTC days; T0 is not a midnight)
    days = [T0 + 2 * DAY, T0 + 3 * DAY]
    assert [w["start"] for w in data["windows"]] == [iso_time(t - t % DAY) for t in days]
    assert [w["end"] for w in data["windows"]] == [iso_time(t - t % DAY + DAY) for t in days]
    last = data["windows"][-1]
    assert last["drifted"] == ["x1"] and last["share_drifted"] == 0.5
    x1, x2 = last["columns"]["x1"], last["columns"]["x2"]
    assert x1["drifted"] and not x2["drifted"]
    assert {"method", "statistic", "threshold", "p_value"} <= set(x1)
    # performance per metric with its threshold (the latest labelled window: day 3's)
    accuracy = next(p for p in data["performance"] if p["metric"] == "accuracy")
    assert (accuracy["min"], accuracy["value"], accuracy["breached"]) == (0.8, 1.0, False)
    assert data["windows"][0]["metrics"]["accuracy"] == 0.0
    # breaches and the actions they took
    breaches = [T0 + 2 * DAY + 120, T0 + 3 * DAY + 120]
    assert [b["time"] for b in data["breaches"]] == [iso_time(t) for t in breaches]
    assert [c["check"] for c in data["breaches"][1]["checks"]] == ["drift:drift"]
    (action,) = data["actions"]
    assert (action["action"], action["status"], action["time"]) == (
        "notify", "no target", iso_time(T0 + 3 * DAY + 120),
    )  # fmt: skip
    assert action["detail"]["delivered"] is False  # the project has no notify target: said so
    # the shadow against the blessed version on the labelled batches both scored
    (shadow,) = data["shadows"]
    assert (shadow["ref"], shadow["metric"], shadow["batches"]) == ("churn@2", "accuracy", 2)
    assert data["status"] == "breach" and data["blessed"] == "churn@1"


async def test_series_is_what_the_plots_draw(api) -> None:
    code, drift = await api("monitors", "churn", "series", params={"kind": "drift"})
    assert code == 200, drift
    (line,) = drift["series"]
    values = [p["value"] for p in line["points"]]
    assert values == list(plot_drift("churn").axes[0].get_lines()[0].get_ydata())
    assert values == [0.0, 0.0, 0.0, 0.5] and drift["thresholds"] == [0.0]
    assert [p["breach"] for p in line["points"]] == [False, False, False, True]
    code, col = await api("monitors", "churn", "series", params={"kind": "drift", "column": "x1"})
    assert code == 200 and col["column"] == "x1"
    assert [p["breach"] for p in col["series"][0]["points"]] == [False, False, False, True]
    assert all(p["method"] and p["threshold"] > 0 for p in col["series"][0]["points"])
    code, perf = await api(
        "monitors", "churn", "series", params={"kind": "performance", "metric": "accuracy"}
    )
    assert code == 200 and perf["thresholds"] == [0.8]
    blessed = next(s for s in perf["series"] if s["role"] == "blessed")
    assert [p["value"] for p in blessed["points"]] == list(
        plot_performance("churn", "accuracy").axes[0].get_lines()[0].get_ydata()
    )
    assert [p["breach"] for p in blessed["points"]] == [False, False, True, False]
    assert {s["role"] for s in perf["series"]} == {"blessed", "shadow"}


@pytest.mark.parametrize(
    ("parts", "params", "status", "needle"),
    [
        (("monitors", "nope"), {}, 404, "No monitor 'nope' (monitors: churn, steady)"),
        (("monitors", "nope", "series"), {}, 404, "No monitor 'nope'"),
        (("monitors", "churn"), {"since": "soon"}, 400, "bad duration 'soon'"),
        (("monitors", "churn"), {"now": "later"}, 400, "now 'later' must be an ISO-8601 time"),
        (("monitors", "churn", "series"), {"kind": "latency"}, 400, "must be drift or perf"),
        (("monitors", "churn", "series"), {"column": "nope"}, 400, "column 'nope'"),
        (("monitors", "churn", "series"), {"kind": "performance", "metric": "auc"}, 400,
         "Unknown metric 'auc'"),
        (("monitors", "churn", "series"), {"kind": "drift", "metric": "f1"}, 400,
         "metric= goes with kind=performance"),
    ],
)  # fmt: skip
async def test_bad_requests_are_one_line(api, parts, params, status, needle) -> None:
    code, data = await api(*parts, params=params)
    assert code == status, data
    assert needle in data["error"] and "\n" not in data["error"]


async def test_monitor_endpoints_need_credentials(http_server_client, jp_base_url) -> None:
    for path in ("monitors", "monitors/churn", "monitors/churn/series?kind=drift"):
        url = f"{jp_base_url}jupyter-mlops/api/{path}"
        resp = await http_server_client.fetch(url, raise_error=False)
        assert resp.code in (401, 403), (path, resp.code)
        assert "churn@1" not in resp.body.decode() and "error" in json.loads(resp.body)
