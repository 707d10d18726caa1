from __future__ import annotations

from typing import Any

import pytest

from jupyter_mlops.exceptions import ParameterError, ValidationError
from jupyter_mlops.pipeline.params import (
    check_value,
    coerce_params,
    infer_type,
    literal_text,
    parse_kv,
    parse_type,
    resolve_params,
)
from jupyter_mlops.pipeline.spec import Parameter

PARAMS = [
    Parameter("n", "int", 100, "trees"),
    Parameter("lr", "float", 0.1),
    Parameter("name", "str", "model"),
    Parameter("flag", "bool", False),
    Parameter("cols", "list[str]", ["a"]),
    Parameter("weights", "dict[str, float]", {"a": 1.0}),
    Parameter("depth", "int | None", None),
    Parameter("either", "int | str", 1),
    Parameter("kind", "Literal['rf', 'gbm']", "rf"),
    Parameter("shape", "tuple[int, ...]", (1, 2)),
    Parameter("anything", "Any", None),
    Parameter("stamp", "pd.Timestamp", "2024-01-01"),
]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("int", "int"),
        ("Optional[int]", "int | None"),
        ("typing.Optional[str]", "str | None"),
        ("None | float", "float | None"),
        ("Union[int, str, None]", "int | str | None"),
        ("List[str]", "list[str]"),
        ("Dict[str, float]", "dict[str, float]"),
        ("dict[str, list[int]]", "dict[str, list[int]]"),
        ("tuple[int, ...]", "tuple[int, ...]"),
        ("tuple[int, str]", "tuple[int, str]"),
        ("Literal['a', 'b']", "Literal['a', 'b']"),
        ("'int'", "int"),
        ("object", "Any"),
        ("pd.DataFrame", "pd.DataFrame"),
        ("list", "list"),
    ],
)
def test_parse_type_canonical(text: str, canonical: str) -> None:
    assert str(parse_type(text)) == canonical


def test_parse_type_syntax_error() -> None:
    with pytest.raises(ValidationError, match="Invalid parameter type 'list\\['"):
        parse_type("list[")


@pytest.mark.parametrize(
    ("value", "type_text", "ok"),
    [
        (5, "int", True),
        (5.5, "int", False),
        (True, "int", False),
        (5, "float", True),
        (True, "float", False),
        (True, "bool", True),
        (1, "bool", False),
        (None, "int | None", True),
        (None, "int", False),
        (["a", "b"], "list[str]", True),
        (["a", 1], "list[str]", False),
        (("a",), "list[str]", True),
        ({"a": 1, "b": 2.5}, "dict[str, float]", True),
        ({1: 1.0}, "dict[str, float]", False),
        ({"a": "x"}, "dict[str, float]", False),
        ("gbm", "Literal['rf', 'gbm']", True),
        ("xgb", "Literal['rf', 'gbm']", False),
        ((1, "a"), "tuple[int, str]", True),
        ((1, 2), "tuple[int, str]", False),
        ((1, 2, 3), "tuple[int, ...]", True),
        ({"x": [1, 2]}, "dict[str, list[int]]", True),
        (object(), "Any", True),
        ("x", "pd.Timestamp", True),
    ],
)
def test_check_value(value: Any, type_text: str, ok: bool) -> None:
    assert check_value(value, type_text) is ok


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, "int"),
        (1.5, "float"),
        ("a", "str"),
        (True, "bool"),
        (None, "Any"),
        ([1, 2], "list[int]"),
        ([1, 2.5], "list[float]"),
        (["a", 1], "list"),
        ([], "list"),
        ({"a": 1.0}, "dict[str, float]"),
        ({}, "dict"),
        ((1, 2), "tuple[int, ...]"),
    ],
)
def test_infer_type(value: Any, expected: str) -> None:
    assert infer_type(value) == expected


def test_coerce_cli_values() -> None:
    raw = parse_kv(
        [
            "n=200",
            "lr=1",
            "name=forest",
            "flag=TRUE",
            "cols=['x', 'y']",
            'weights={"a": 2}',
            "depth=None",
            "either=abc",
            "kind=gbm",
            "shape=[3, 4]",
            "anything=[1, 'two']",
            "stamp=2024-02-02",
        ]
    )
    out = coerce_params(PARAMS, raw)
    assert out == {
        "n": 200,
        "lr": 1.0,
        "name": "forest",
        "flag": True,
        "cols": ["x", "y"],
        "weights": {"a": 2.0},
        "depth": None,
        "either": "abc",
        "kind": "gbm",
        "shape": (3, 4),
        "anything": [1, "two"],
        "stamp": "2024-02-02",
    }
    assert isinstance(out["lr"], float) and isinstance(out["weights"]["a"], float)


def test_cli_strings_that_look_like_numbers_stay_text_for_str_params() -> None:
    out = coerce_params(PARAMS, {"name": "2024", "either": "7", "anything": "hello world"})
    assert out == {"name": "2024", "either": 7, "anything": "hello world"}
    assert coerce_params(PARAMS, {"name": "'quoted'"}) == {"name": "quoted"}
    assert coerce_params(PARAMS, {"name": ""}) == {"name": ""}


@pytest.mark.parametrize(
    ("key", "value", "needles"),
    [
        ("n", "5.5", ["Parameter 'n' expects int, got '5.5' (float)", "-p n=100", "n: float"]),
        ("n", "True", ["expects int, got 'True' (bool)"]),
        ("n", "ten", ["expects int, got 'ten'"]),
        ("lr", "fast", ["expects float", "-p lr=0.1"]),
        ("flag", "yes", ["expects bool", "-p flag=False"]),
        ("cols", "a", ["expects list[str]", "-p 'cols=[\"a\"]'"]),
        ("cols", "[1, 2]", ["expects list[str], got '[1, 2]' (list)"]),
        ("weights", "{'a': 'x'}", ["expects dict[str, float]"]),
        ("kind", "xgb", ["expects Literal['rf', 'gbm']", "-p kind=rf"]),
        ("depth", "3.5", ["expects int | None"]),
        # A quoted literal is echoed as typed, quoted once, with its type.
        ("n", "'5'", ["Parameter 'n' expects int, got '5' (str); e.g. -p n=100"]),
        ("n", '"5"', ["expects int, got '5' (str)"]),
        ("n", "it's", ['expects int, got "it\'s"; e.g.']),
    ],
)
def test_coerce_errors_name_parameter_value_type_and_example(
    key: str, value: str, needles: list[str]
) -> None:
    with pytest.raises(ParameterError) as info:
        coerce_params(PARAMS, {key: value})
    message = str(info.value)
    for needle in needles:
        assert needle in message
    assert info.value.name == key


def test_unknown_parameter_did_you_mean_and_listing() -> None:
    with pytest.raises(ParameterError) as info:
        coerce_params(PARAMS, {"nn": "5"}, source="pipeline 'train'")
    message = str(info.value)
    assert "Unknown parameter 'nn'; did you mean 'n'?" in message
    assert "Pipeline 'train' declares: n: int = 100, lr: float = 0.1" in message
    with pytest.raises(ParameterError, match="did you mean 'C'\\?"):
        coerce_params([Parameter("C", "float", 1.0)], {"c": "2"})
    with pytest.raises(ParameterError, match="no parameters \\(tag a notebook cell 'parameters'"):
        coerce_params([], {"x": "1"})


def test_file_values_are_typed_and_cli_overrides_them() -> None:
    out = coerce_params(PARAMS, {"n": "7"}, {"n": 3, "lr": 2, "cols": ["q"], "shape": [5]})
    assert out == {"n": 7, "lr": 2.0, "cols": ["q"], "shape": (5,)}
    with pytest.raises(ParameterError) as info:
        coerce_params(PARAMS, None, {"n": "3"})
    assert "expects int, got '3';" in str(info.value)
    with pytest.raises(ParameterError, match="expects int, got \"'5'\"; e.g. n: 100"):
        coerce_params(PARAMS, None, {"n": "'5'"})  # a file's string holding quotes: its repr
    assert "e.g. n: 100" in str(info.value)  # file syntax, not -p
    with pytest.raises(ParameterError, match="did you mean 'lr'"):
        coerce_params(PARAMS, None, {"lrr": 0.3})


def test_resolve_params_merges_defaults() -> None:
    merged = resolve_params(PARAMS[:3], {"n": 5})
    assert merged == {"n": 5, "lr": 0.1, "name": "model"}


def test_derived_parameters_take_any_literal_and_are_computed_when_not_given() -> None:
    derived = [Parameter("n", "int", 100), Parameter("out_dir", expression="f'runs/{n}'")]
    got = coerce_params(derived, {"out_dir": "runs/x", "n": "5"})
    assert got == {"out_dir": "runs/x", "n": 5}  # a bare word is text, as with papermill's -p
    assert coerce_params(derived, {"out_dir": "[1, 2]"}) == {"out_dir": [1, 2]}
    assert coerce_params(derived, None, {"out_dir": 3.5}) == {"out_dir": 3.5}
    assert resolve_params(derived, {"n": 5}) == {"n": 5}  # the notebook computes out_dir
    assert resolve_params(derived, {"out_dir": "o"}) == {"n": 100, "out_dir": "o"}
    with pytest.raises(
        ParameterError, match=r"declares: n: int = 100, out_dir = f'runs/\{n\}' \(derived\)"
    ):
        coerce_params(derived, {"m": "1"})


def test_parse_kv() -> None:
    # Split on the first '='; the key is stripped, the value kept as typed; the last one wins.
    assert parse_kv(["a=1", "b = x=y", "a=2"]) == {"a": "2", "b": " x=y"}
    with pytest.raises(ParameterError, match="Expected key=value, got 'alpha'; pass parameters"):
        parse_kv(["alpha"])
    with pytest.raises(ParameterError, match="Expected key=value"):
        parse_kv(["=3"])


def test_literal_text_round_trips() -> None:
    import ast

    for value in ["a'b", ["x", 1], {"k": [1.5, None]}, (1,), (1, 2), True, set()]:
        assert ast.literal_eval(literal_text(value)) == value
