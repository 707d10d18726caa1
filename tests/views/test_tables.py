"""A ``table`` artifact read as a table (issue 21, item 5): feature importance as its top 20
features sorted for a bar chart, other tables as rows only, text artifacts previewed as text,
and a bad or huge file a one-line 400-class error, over a real store."""

from __future__ import annotations

import json

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.exceptions import NotFoundError, ValidationError
from jupyter_mlops.views import artifact_table
from jupyter_mlops.views import tables as tables_view
from jupyter_mlops.views.artifacts import artifact_preview

FEATURES = [f"f{i:02d}" for i in range(30)]


def _importance() -> dict:
    # gain is not in feature order, so sorting is seen; one feature has no split.
    rows = [
        [f, float((i * 7) % 30) + 0.5, i + 1 if i != 3 else None] for i, f in enumerate(FEATURES)
    ]
    return {"columns": ["feature", "gain", "weight"], "rows": rows}


def _run(**tables: object) -> str:
    with mlops.start_run(experiment="tables") as run:
        for name, body in tables.items():
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            run.log_bytes(data, name, kind="table")
        run.log_bytes(b"Layer (type)  Params\nLinear  330\n", "net.architecture.txt", kind="text")
    return run.id


def test_importance_table_sorted_top_20(tracker) -> None:
    run_id = _run(**{"clf.importance.json": _importance()})
    table = artifact_table(tracker, run_id, "clf.importance.json")
    assert table.columns == ("feature", "gain", "weight")
    assert table.total_rows == 30 and len(table.rows) == 30 and not table.truncated
    assert table.rows[0] == ("f00", 0.5, 1)
    imp = table.importance
    assert imp is not None
    assert (imp.column, imp.columns, imp.feature_column) == ("gain", ("gain", "weight"), "feature")
    expected = sorted(_importance()["rows"], key=lambda r: -r[1])[:20]
    assert imp.features == tuple(r[0] for r in expected)
    assert imp.values == tuple(r[1] for r in expected)
    assert list(imp.values) == sorted(imp.values, reverse=True) and imp.total == 30
    # By weight: the feature without one is left out.
    by_weight = artifact_table(tracker, run_id, "clf.importance.json", by="weight").importance
    assert by_weight is not None and by_weight.total == 29 and by_weight.features[0] == "f29"
    with pytest.raises(ValidationError, match="by must be a column of feature importance"):
        artifact_table(tracker, run_id, "clf.importance.json", by="feature")
    head = artifact_table(tracker, run_id, "clf.importance.json", rows=5)
    assert len(head.rows) == 5 and head.truncated and head.total_rows == 30


def test_a_table_without_importance_is_rows_only(tracker) -> None:
    cv = {
        "columns": ["param_C", "mean_test_score", "rank_test_score", "params"],
        "rows": [[0.1, 0.91, 2, {"C": 0.1}], [1.0, 0.95, 1, {"C": 1.0}]],
    }
    run_id = _run(**{"search.cv_results.json": cv})
    table = artifact_table(tracker, run_id, "search.cv_results.json")
    assert table.importance is None
    assert table.rows == ((0.1, 0.91, 2, '{"C": 0.1}'), (1.0, 0.95, 1, '{"C": 1.0}'))


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", 'no "columns" list'),
        (json.dumps({"columns": ["a"], "rows": [1]}).encode(), "not a list of lists"),
        (json.dumps({"columns": ["a", "b"], "rows": [[1]]}).encode(), "row 0 has 1 values"),
    ],
)
def test_a_bad_table_is_one_line(tracker, body: bytes, why: str) -> None:
    run_id = _run(**{"bad.json": body})
    with pytest.raises(ValidationError) as err:
        artifact_table(tracker, run_id, "bad.json")
    assert why in str(err.value) and "\n" not in str(err.value)
    assert "download it from runs/ID/artifacts/NAME" in str(err.value)


def test_a_huge_table_is_refused_unread(tracker, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = _run(**{"big.json": _importance()})
    monkeypatch.setattr(tables_view, "MAX_BYTES", 100)
    with pytest.raises(ValidationError, match=r"^Table 'big.json' is .* over the 100 B shown"):
        artifact_table(tracker, run_id, "big.json")
    with pytest.raises(NotFoundError, match="has no artifact 'nope.json'"):
        artifact_table(tracker, run_id, "nope.json")
    with pytest.raises(ValidationError, match="rows must be between 1 and 1000"):
        artifact_table(tracker, run_id, "big.json", rows=0)


def test_text_artifacts_preview_as_text(tracker) -> None:
    run_id = _run()
    preview = artifact_preview(tracker, run_id, "net.architecture.txt")
    assert (preview.kind, preview.preview) == ("text", "text")
    assert preview.text == "Layer (type)  Params\nLinear  330"
