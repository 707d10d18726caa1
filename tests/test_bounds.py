"""The one validation layer (jupyter_mlops.bounds): each parser keeps its type and bounds, and
says which field broke which limit in one line."""

from __future__ import annotations

import json
import math

import pytest

from jupyter_mlops import bounds
from jupyter_mlops.exceptions import ValidationError


def _refused(match: str):
    return pytest.raises(ValidationError, match=match)


@pytest.mark.parametrize(
    "text, lo, hi, message",
    [
        ("9223372036854775808", bounds.INT64_MIN, bounds.INT64_MAX, "to 9223372036854775807"),
        ("-5", 0, 10, "from 0 to 10, got -5"),
        ("1e20", 0, 10, "must be an integer"),
        ("5.0", 0, 10, "must be an integer"),
        ("9" * 5000, 0, 10, "must be an integer"),
        ("", 0, 10, "must be an integer"),
    ],
)
def test_integers_have_bounds(text: str, lo: int, hi: int, message: str) -> None:
    with _refused(message) as e:
        bounds.parse_int(text, "offset", lo, hi)
    assert str(e.value).startswith("offset ") and len(str(e.value)) < 200


def test_integers_in_bounds_parse() -> None:
    assert bounds.parse_int(" 42 ", "limit", 1, 500) == 42
    assert bounds.parse_int("-9223372036854775808", "x") == bounds.INT64_MIN
    assert bounds.check_int(3, "v", 1, 3) == 3
    with _refused("integer"):
        bounds.check_int(True, "v")


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e400", "NaN"])
def test_floats_are_finite(text: str) -> None:
    with _refused("now must be a finite number"):
        bounds.parse_float(text, "now")


def test_floats_in_bounds() -> None:
    assert bounds.parse_float("1e-6", "tolerance", lo=0) == 1e-6
    with _refused("tolerance must be 0 or more"):
        bounds.check_float(-1, "tolerance", lo=0)
    with _refused("finite"):
        bounds.check_float(10**400, "x")  # an int too large for a float


def test_names_follow_the_name_rule_and_fit_a_file_name() -> None:
    assert bounds.check_name("train_ok-2.v1") == "train_ok-2.v1"
    with _refused(f"2000 characters long; a pipeline name has at most {bounds.MAX_NAME_LENGTH}"):
        bounds.check_name("a" * 2000)
    for bad in ("-x", "a b", "../x", "", "a/b", 5):
        with _refused("name"):
            bounds.check_name(bad)
    with _refused("control character"):
        bounds.check_key("a\x00b", "run id")


def test_a_deep_json_body_is_refused_without_recursing() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    # The message is the scan's: json.loads would have raised RecursionError at this depth.
    with _refused(f"nested 100000 levels deep; the limit is {bounds.MAX_JSON_DEPTH}"):
        bounds.parse_json_body(deep)
    ok = "[" * bounds.MAX_JSON_DEPTH + "]" * bounds.MAX_JSON_DEPTH
    assert bounds.parse_json_body(ok.encode()) is not None
    # Brackets inside strings do not nest.
    assert bounds.parse_json_body(json.dumps({"a": "[" * 1000})) == {"a": "[" * 1000}


@pytest.mark.parametrize(
    "raw, message",
    [
        (b" " * (bounds.MAX_BODY_BYTES + 1), "the limit is 1048576 bytes"),
        (b'{"version": NaN}', "holds NaN"),
        (b'{"version": 1e400}', "overflows a float"),
        (b'{"version": ' + b"9" * 5000 + b"}", "5000 digits"),
        (b"{", "must be JSON"),
        (b"\xff", "UTF-8"),
    ],
)
def test_bad_bodies_are_one_line(raw: bytes, message: str) -> None:
    with _refused(message) as e:
        bounds.parse_json_body(raw)
    assert "\n" not in str(e.value)


def test_body_fields_have_types() -> None:
    body = bounds.Body(
        {"version": 3, "reason": None, "tolerance": 0.5}, ["version", "reason", "tolerance"]
    )
    assert body.integer("version", 1, bounds.MAX_VERSION) == 3
    assert body.text("reason") is None
    assert body.number("tolerance", lo=0) == 0.5
    with _refused("Unknown field 'verison' in the request body; fields: version, reason"):
        bounds.Body({"verison": 3}, ["version", "reason"])
    prose = bounds.Body({"reason": "bad data\n\tsee #12"}, ["reason"])
    assert prose.text("reason", prose=True) == "bad data\n\tsee #12"
    with _refused('"reason" contains a NUL'):
        bounds.Body({"reason": "a\x00"}, ["reason"]).text("reason", prose=True)
    with _refused('"reason" must be text'):
        bounds.Body({"reason": {"x": 1}}, ["reason"]).text("reason")
    with _refused('"to" must be from 1 to 2147483647'):
        bounds.Body({"to": 10**30}, ["to"]).integer("to", 1, bounds.MAX_VERSION)
    with _refused('"tolerance" must be a finite number'):
        bounds.Body({"tolerance": math.nan}, ["tolerance"]).number("tolerance", lo=0)
    with _refused('"params" must be an object'):
        bounds.Body({"params": [1]}, ["params"]).mapping("params")
    with _refused("must be a JSON object"):
        bounds.Body([1], [])


def test_the_cli_and_the_magic_use_the_same_bounds(shell, capsys) -> None:
    from IPython.core.error import UsageError

    from jupyter_mlops.cli.app import EXIT_USAGE, main

    with pytest.raises(SystemExit) as e:
        main(["runs", "--limit", "1e20"])
    assert e.value.code == EXIT_USAGE
    assert "--limit must be an integer from 1 to 1000000000" in capsys.readouterr().err
    with pytest.raises(UsageError, match="--limit must be from 1 to 1000000000"):
        shell.run("%mlops runs --limit 99999999999999999999")
    with pytest.raises(UsageError, match="--tolerance must be a finite number"):
        shell.run("%mlops reproduce abc --tolerance nan")


def test_monitor_since_is_a_duration_of_0_or_more(capsys) -> None:
    import jupyter_mlops as mlops
    from jupyter_mlops.cli.app import EXIT_USAGE, main

    mlops.default_tracker()  # a store, so the command gets as far as its options
    for since, message in (("-7d", "must be 0 or more"), ("1e400d", "finite"), ("soon", "bad")):
        assert main(["monitor", "churn", f"--since={since}"]) == EXIT_USAGE
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def test_cli_names_that_would_make_a_file_name_too_long_are_exit_2(capsys) -> None:
    from jupyter_mlops.cli.app import EXIT_USAGE, main

    long = "a" * 2000
    for argv in (
        ["schedule", "next", long],
        ["run", long],
        ["gc", "--pipeline", long],
        ["promote", "nb.ipynb", "--name", long],
        ["monitor", long],
    ):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == EXIT_USAGE
        err = capsys.readouterr().err
        assert "2000 characters long" in err and "128" in err and err.count("\n") == 1, err


@pytest.mark.parametrize("limit", [10**30, 0, -1, "5", 2.0, True])
def test_the_python_api_takes_the_same_limit_bounds(limit: object) -> None:
    import jupyter_mlops as mlops

    with mlops.start_run():
        mlops.log_metric("accuracy", 0.5)
    with _refused("limit must be"):
        mlops.runs(limit=limit)  # type: ignore[arg-type]
    assert len(mlops.runs(limit=1)) == 1
