"""mlops.live_validation_set over real predict/log_labels batches: the kept and labelled rows with
their latest labels, newest first, bounded by a window and a limit on an injected clock; the CLI
export; and a tracked run logging the set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main
from jupyter_mlops.exceptions import MLOpsError, UntrustedModelError
from jupyter_mlops.monitoring import log_labels, predict
from jupyter_mlops.registry import is_team_store

from .helpers import DAY, T0, Threshold, features, register, truth

NOW = T0 + 10 * DAY


def _trust(tracker: mlops.Tracker) -> bool:
    # A team store (PostgreSQL) refuses to unpickle kept rows unless the caller vouches for them.
    return is_team_store(tracker.store)


@pytest.fixture
def live(tracker: mlops.Tracker) -> dict[str, pd.DataFrame]:
    """Model ``m``: day 0 kept and labelled (some relabelled later), day 1 kept with only half
    labelled, day 2 labelled but not kept, day 3 kept and labelled after v2 was blessed."""
    from jupyter_mlops.registry import ModelRegistry

    register(tracker, "m", Threshold())
    frames = {}
    for day in range(4):
        if day == 3:
            v2 = register(tracker, "m", Threshold(w=0.6), bless=False)
            ModelRegistry(tracker.store).bless(f"m@{v2}")
        X = features(20, seed=day).drop(columns="region")
        ids = [f"d{day}-{i}" for i in range(20)]
        predict("m", X, ids=ids, keep_rows=day != 2, now=T0 + day * DAY)
        y = truth(X)
        labelled = ids if day != 1 else ids[:10]
        log_labels("m", labelled, y[: len(labelled)], now=T0 + day * DAY + 60)
        frames[f"d{day}"] = X.assign(label=y, row_id=ids)
    # day 0's first five rows are relabelled: the later label wins
    log_labels("m", [f"d0-{i}" for i in range(5)], [7] * 5, now=T0 + 5 * DAY)
    return frames


def test_kept_and_labelled_rows_with_latest_labels_newest_first(
    tracker: mlops.Tracker, live: dict[str, pd.DataFrame]
) -> None:
    df = mlops.live_validation_set("m", now=NOW, trust=_trust(tracker))
    assert list(df.columns) == ["x1", "x2", "label", "row_id", "batch_id", "batch_time", "version"]
    # day 3 (20 rows), day 1's labelled half (10), day 0 (20); day 2 was not kept
    assert len(df) == 50
    assert df["row_id"].str[:2].drop_duplicates().tolist() == ["d3", "d1", "d0"]
    assert not df["row_id"].str.startswith("d2").any()
    assert set(df.loc[df.row_id.str.startswith("d1"), "row_id"]) == {f"d1-{i}" for i in range(10)}
    assert df.groupby(df.row_id.str[:2])["version"].first().to_dict() == {
        "d0": 1, "d1": 1, "d3": 2
    }  # fmt: skip
    times = df["batch_time"]
    assert times.is_monotonic_decreasing
    assert times.iloc[0] == pd.Timestamp(T0 + 3 * DAY, unit="s", tz="UTC")
    # features and labels are the rows' own, joined by id; relabelled rows carry the later label
    expected = pd.concat(live.values(), ignore_index=True).set_index("row_id")
    got = df.set_index("row_id")
    assert np.allclose(got["x1"], expected.loc[got.index, "x1"])
    relabelled = [f"d0-{i}" for i in range(5)]
    assert (got.loc[relabelled, "label"] == 7).all()
    rest = got.index.difference(relabelled)
    assert (got.loc[rest, "label"] == expected.loc[rest, "label"]).all()


def test_window_and_limit_on_an_injected_clock(
    tracker: mlops.Tracker, live: dict[str, pd.DataFrame]
) -> None:
    trust = _trust(tracker)
    now = T0 + 3 * DAY + 3600  # an hour after day 3's batch
    recent = mlops.live_validation_set("m", "36h", now=now, trust=trust)
    assert set(recent.row_id.str[:2]) == {"d3"}
    older = mlops.live_validation_set("m", "4d", "36h", now=now, trust=trust)
    assert set(older.row_id.str[:2]) == {"d0", "d1"}
    # timestamps work too: ISO strings and epoch numbers, since inclusive and until exclusive
    iso = pd.Timestamp(T0 + DAY, unit="s", tz="UTC").isoformat()
    assert set(mlops.live_validation_set("m", iso, now=now, trust=trust).row_id.str[:2]) == {
        "d1", "d3"
    }  # fmt: skip
    until = mlops.live_validation_set("m", until=T0 + DAY, now=now, trust=trust)
    assert set(until.row_id.str[:2]) == {"d0"}
    top = mlops.live_validation_set("m", now=now, limit=25, trust=trust)
    assert len(top) == 25
    assert (
        top.row_id.tolist()
        == mlops.live_validation_set("m", now=now, trust=trust).row_id[:25].tolist()
    )


def test_custom_label_name_and_repeated_ids(tracker: mlops.Tracker) -> None:
    register(tracker, "r", Threshold())
    old = features(6, seed=1).drop(columns="region")
    new = features(6, seed=2).drop(columns="region")
    ids = [f"u{i}" for i in range(6)]
    predict("r", old, ids=ids, keep_rows=True, now=T0)
    predict("r", new, ids=ids, keep_rows=True, now=T0 + DAY)  # the same users, scored again
    log_labels("r", ids, [1, 0, 1, 0, 1, 0], now=T0 + 2 * DAY)
    df = mlops.live_validation_set("r", label="y", now=NOW, trust=_trust(tracker))
    assert "y" in df.columns and "label" not in df.columns
    assert df.row_id.tolist() == ids  # once each, from the newest batch
    assert np.allclose(df["x1"], new["x1"])
    assert df["y"].tolist() == [1, 0, 1, 0, 1, 0]


def _one_line_error(match: str, *args: object, **kwargs: object) -> None:
    with pytest.raises(MLOpsError, match=match) as info:
        mlops.live_validation_set(*args, **kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_errors_are_one_line(tracker: mlops.Tracker) -> None:
    _one_line_error("nope", "nope", now=NOW)
    register(tracker, "e", Threshold())
    X = features(10, seed=1).drop(columns="region")
    predict("e", X, ids=range(10), now=T0)
    _one_line_error("pass keep_rows=True to mlops.predict", "e", now=NOW)
    predict("e", X, ids=[f"k{i}" for i in range(10)], keep_rows=True, now=T0 + DAY)
    trust = _trust(tracker)
    _one_line_error("No labels yet", "e", now=NOW, trust=trust)
    log_labels("e", range(10), truth(X), now=T0 + DAY)  # labels for the rows that were not kept
    _one_line_error("No labels yet for the rows", "e", now=NOW, trust=trust)
    log_labels("e", [f"k{i}" for i in range(10)], truth(X), now=T0 + 2 * DAY)
    assert len(mlops.live_validation_set("e", now=NOW, trust=trust)) == 10
    _one_line_error("kept in that time window", "e", "1d", now=NOW, trust=trust)
    _one_line_error("bad time 'soon'", "e", "soon", now=NOW)
    _one_line_error("limit=0", "e", now=NOW, limit=0)
    _one_line_error("columns named", "e", now=NOW, label="x1", trust=trust)


def test_a_team_store_unpickles_kept_rows_only_with_trust(tracker: mlops.Tracker) -> None:
    register(tracker, "t", Threshold())
    X = features(5, seed=1).drop(columns="region")
    predict("t", X, ids=range(5), keep_rows=True, now=T0)
    log_labels("t", range(5), truth(X), now=T0)
    if is_team_store(tracker.store):  # anyone who can write it could have planted the pickle
        with pytest.raises(UntrustedModelError, match="pass trust=True") as info:
            mlops.live_validation_set("t", now=NOW)
        assert "\n" not in str(info.value)
    else:  # the local store's own files are trusted, as for models
        assert len(mlops.live_validation_set("t", now=NOW)) == 5
    assert len(mlops.live_validation_set("t", now=NOW, trust=True)) == 5


def test_cli_exports_parquet_and_csv(
    tracker: mlops.Tracker,
    live: dict[str, pd.DataFrame],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    trust = ["--trust"] if _trust(tracker) else []
    out = tmp_path / "valid.parquet"
    args = ["monitor", "m", "--export-validation", str(out), "--now", str(NOW), *trust]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert f"wrote 50 labelled rows of m to {out}: 3 batches" in printed
    assert "version 1, 2" in printed
    back = pd.read_parquet(out)
    expected = mlops.live_validation_set("m", now=NOW, trust=bool(trust))
    pd.testing.assert_frame_equal(back, expected)
    csv = tmp_path / "valid.csv"
    args = ["monitor", "m", "--export-validation", str(csv), "--since", "8d", "--limit", "7"]
    assert main([*args, "--now", str(NOW), *trust]) == 0
    assert "wrote 7 labelled rows" in capsys.readouterr().out
    assert pd.read_csv(csv)["row_id"].tolist() == expected.row_id[:7].tolist()
    # an error is one line on stderr with the usage exit code
    assert main(["monitor", "m", "--export-validation", str(out), "--since", "1d"]) == 2
    err = capsys.readouterr().err.strip()
    assert "No rows of 'm' were kept in that time window" in err and "\n" not in err


def test_a_tracked_run_logs_the_set_as_its_validation_data(
    tracker: mlops.Tracker, live: dict[str, pd.DataFrame]
) -> None:
    df = mlops.live_validation_set("m", "30d", now=NOW, trust=_trust(tracker))
    with mlops.start_run(experiment="retrain") as run:
        fp = mlops.log_dataset("valid", df, save=True)
        mlops.log_validation_data(df[["x1", "x2"]], df["label"])
    stored = mlops.get_run(run.id)
    (ref,) = [d for d in stored.data if d.name == "valid"]
    assert ref.fingerprint == fp == mlops.fingerprint(df)
    assert {a.kind for a in stored.artifacts} >= {"validation"}
