"""The drift rule of issue 20: nulls and unmatched columns, scale changes, and delta (the practical
size an effect must exceed). Seeded samples, sizes chosen so each verdict is far from its line;
the rates themselves are measured by benchmarks/bench_drift*.py."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.pipeline.monitor_spec import MonitorSpec
from jupyter_mlops.validation.drift import check_drift
from jupyter_mlops.validation.drift_quadratic import ad_weights, quadratic_p, quadratic_sf
from jupyter_mlops.validation.gates import GateContext, GateStatus, evaluate_gates, parse_gates
from jupyter_mlops.validation.profiles import profile


def normal(n: int, seed: int, sd: float = 1.0, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.normal(shift, sd, n),
            "b": rng.normal(0, 1, n),
            "c": rng.choice(["x", "y", "z"], n, p=[0.5, 0.3, 0.2]),
        }
    )


def test_all_null_missing_and_new_columns_are_named_breaches() -> None:
    ref = profile(normal(2_000, 1))
    cur = normal(300, 2).assign(a=np.nan, b=lambda d: d["b"] + 1.0)  # a all null, b +1 SD
    report = check_drift(ref, cur)
    a, b, c = (report.columns[k] for k in "abc")
    assert (a.method, a.drifted, a.detail) == ("all-null", True, "all null in the current data")
    assert a.null_shares == (0.0, 1.0)
    assert b.drifted and b.method in ("ad", "ks") and not c.drifted  # the others still checked
    moved = check_drift(ref, normal(300, 2).drop(columns="c").assign(d=1.0))
    assert {k: (v.method, v.drifted) for k, v in moved.columns.items() if k in "cd"} == {
        "c": ("missing", True),
        "d": ("new", True),
    }
    assert "c: missing: missing from the current data" in moved.summary()
    retyped = check_drift(ref, normal(300, 2).assign(a="text"))
    assert retyped.columns["a"].method == "type" and retyped.columns["a"].drifted
    # an empty object column is all null too, whatever its dtype says
    empty = check_drift(ref, normal(300, 2).assign(c=None)).columns["c"]
    assert (empty.method, empty.kind, empty.drifted) == ("all-null", "categorical", True)
    both = check_drift(normal(100, 3).assign(e=np.nan), normal(100, 4).assign(e=np.nan))
    assert both.columns["e"].method == "all-null" and not both.columns["e"].drifted


def test_a_column_named_in_columns_that_neither_side_has_is_a_typo() -> None:
    with pytest.raises(ValidationError, match=r"^column 'aa' is in neither the reference"):
        check_drift(normal(100, 1), normal(100, 2), ["aa"])
    report = check_drift(normal(100, 1), normal(100, 2).drop(columns="a"), ["a", "b"])
    assert report.columns["a"].method == "missing" and not report.columns["b"].drifted


def test_null_share_changes_are_tested() -> None:
    ref = normal(5_000, 5)
    most = normal(500, 6)
    most.loc[most.index[:450], "a"] = np.nan  # the case: 90% NaN said "no drift"
    report = check_drift(ref, most)
    assert report.columns["a"].method == "nulls" and report.columns["a"].drifted
    assert report.columns["a"].null_shares == (0.0, 0.9)
    some = normal(500, 7)
    some.loc[some.sample(frac=0.1, random_state=0).index, "b"] = np.nan  # 10% new NaN
    report = check_drift(profile(ref), some)
    b = report.columns["b"]
    assert (b.method, b.drifted) == ("nulls", True) and b.p_adjusted < 1e-6
    assert b.describe().startswith("nulls: null share 0.0% -> 10.0%, w ")
    # nulls on both sides in the same share are no drift
    ref_n, cur_n = normal(5_000, 8), normal(500, 9)
    ref_n.loc[::3, "b"], cur_n.loc[::3, "b"] = np.nan, np.nan
    assert not check_drift(ref_n, cur_n).drifted


def test_scale_change_caught_where_ks_alone_misses_it() -> None:
    """A tenth of the rows five times as spread: the tails move, the middle barely does."""
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"a": rng.normal(0, 1, 5_000)})
    x = rng.normal(0, 1, 1_000)
    x[rng.random(1_000) < 0.1] *= 5
    cur = pd.DataFrame({"a": x})
    ks = check_drift(ref, cur, method="ks").columns["a"]
    assert ks.p_value > 0.1 and not ks.drifted
    auto = check_drift(ref, cur).columns["a"]
    assert auto.method == "ad" and auto.drifted and auto.p_adjusted < 0.002
    assert check_drift(profile(ref), cur).columns["a"].drifted  # the binned path too


def test_more_data_of_the_same_effect_never_weakens_the_evidence() -> None:
    """Monotone in n: the same empirical current distribution, repeated, at the default delta."""
    ref = profile(normal(20_000, 10))
    cur = normal(2_000, 11, shift=0.08)  # ~0.08 SD: above the default delta
    p = []
    for times in (1, 2, 4, 8):
        repeated = pd.concat([cur] * times, ignore_index=True)
        p.append(check_drift(ref, repeated, ["a"]).columns["a"].p_value)
    assert p == sorted(p, reverse=True) and p[-1] < 1e-6
    # an effect below delta is flagged less, not more, as n grows
    tiny = normal(2_000, 12, shift=0.004)
    q = [
        check_drift(ref, pd.concat([tiny] * t, ignore_index=True), ["a"], delta=0.05)
        .columns["a"]
        .p_value
        for t in (1, 4)
    ]
    assert q[0] <= q[1] and q[1] == pytest.approx(1.0)


def test_delta_zero_is_the_plain_test_and_a_large_delta_hides_small_effects() -> None:
    ref, cur = normal(4_000, 13), normal(4_000, 14, shift=0.15)
    plain = check_drift(ref, cur, ["a"], method="ks", delta=0).columns["a"]
    assert plain.p_value == pytest.approx(stats.ks_2samp(ref["a"], cur["a"]).pvalue)
    assert check_drift(ref, cur, ["a"]).columns["a"].drifted
    wide = check_drift(ref, cur, ["a"], delta=0.5).columns["a"]
    assert not wide.drifted and wide.delta == 0.5


def test_the_verdict_names_the_rule_the_effect_and_its_interval() -> None:
    report = check_drift(normal(3_000, 15), normal(800, 16, shift=0.5))
    a = report.columns["a"]
    low, high = a.interval
    assert low < a.effect < high and a.delta == 0.005
    text = a.describe()
    assert text.startswith(f"{a.method}: distance {a.effect:.3g} (95% {low:.3g}-{high:.3g})")
    assert "> delta 0.005, adjusted p=" in text
    d = a.to_dict()
    assert d["method"] == a.method and d["effect"] == a.effect and d["interval"] == [low, high]
    c = report.columns["c"]
    assert c.describe().startswith("chi2: w ") and " vs delta 0.03, adjusted p=" in c.describe()


def test_anderson_darling_law_on_bins() -> None:
    # continuous data on 100 equal bins: the classical asymptotic AD quantiles
    r, c = np.full(100, 50.0), np.full(100, 5.0)
    w = ad_weights(r, c)
    assert w.sum() == pytest.approx(1.0, abs=1e-3) and w[0] == pytest.approx(0.5, abs=0.01)
    assert quadratic_sf(2.492, w) == pytest.approx(0.05, abs=0.003)
    assert quadratic_p(3.857, w) == pytest.approx(0.01, abs=0.001)
    # two values: the statistic is one scaled chi-square(1), exactly
    w2 = ad_weights(np.array([300.0, 700.0]), np.array([40.0, 60.0]))
    assert len(w2) == 1
    assert quadratic_sf(2.0, w2) == pytest.approx(stats.chi2.sf(2.0 / w2[0], 1), rel=1e-6)
    # noncentrality can only raise the p-value of the same statistic
    assert quadratic_p(6.0, w, 2.0) > quadratic_p(6.0, w)


def test_delta_in_gates_and_monitor_specs() -> None:
    ref = profile(normal(3_000, 17)).to_dict()
    ctx = GateContext(datasets={"s": normal(3_000, 18, shift=0.2)}, reference_profiles={"t": ref})
    gate = {"kind": "drift", "dataset": "s", "reference": "t"}
    (strict,) = evaluate_gates([gate], ctx)
    (loose,) = evaluate_gates([gate | {"delta": 0.5}], ctx)
    assert strict.status is GateStatus.FAIL and loose.status is GateStatus.PASS
    assert loose.threshold == "no column drifts (auto, alpha 0.05, delta 0.5)"
    for bad in (-0.1, 2, "x", True):
        with pytest.raises(ValidationError) as info:
            parse_gates([gate | {"delta": bad}])
        assert "delta" in str(info.value) and "\n" not in str(info.value)
    (psi,) = evaluate_gates([gate | {"method": "psi", "delta": 0.1}], ctx)
    assert psi.status is GateStatus.FAIL and psi.message.startswith("delta applies to tests")
    spec = MonitorSpec.from_dict("m", {"checks": [{"kind": "drift", "delta": 0.02}]})
    assert spec.checks[0].delta == 0.02
    assert MonitorSpec.from_dict("m", {"checks": [{"kind": "drift"}]}).checks[0].delta is None
    cases = [
        ({"kind": "drift", "delta": 1.5}, "check 1: delta must be a number from 0 to 1"),
        ({"kind": "drift", "delta": "big"}, "check 1: delta must be a number from 0 to 1"),
        (
            {"kind": "performance", "metric": "accuracy", "min": 0.8, "delta": 0.1},
            "check 1: delta applies to drift checks only",
        ),
    ]
    for check, message in cases:
        with pytest.raises(ValidationError) as info:
            MonitorSpec.from_dict("m", {"checks": [check]})
        assert message in str(info.value) and "\n" not in str(info.value)


_CELLS = {
    "float": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none()),
    "int": st.integers(-5, 5),
    "text": st.one_of(st.sampled_from(["a", "b", "c", ""]), st.none()),
    "bool": st.booleans(),
}


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 12))
    names = draw(st.lists(st.sampled_from(list("pqrs")), min_size=1, max_size=4, unique=True))
    data = {}
    for name in names:
        kind = draw(st.sampled_from(sorted(_CELLS)))
        data[name] = draw(st.lists(_CELLS[kind], min_size=n, max_size=n))
    return pd.DataFrame(data, index=range(n))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frames(),
    frames(),
    st.sampled_from(["auto", "ks", "chi2", "psi"]),
    st.one_of(st.none(), st.floats(-0.5, 1.5)),
    st.booleans(),
    st.one_of(st.none(), st.lists(st.sampled_from(list("pqrs")), max_size=2)),
)
def test_fuzz_check_drift_raises_nothing_but_validation_errors(
    ref: pd.DataFrame,
    cur: pd.DataFrame,
    method: str,
    delta: float | None,
    stored: bool,
    columns: list[str] | None,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy on inf-only columns
        try:
            reference = profile(ref) if stored and len(ref) else ref
            report = check_drift(reference, cur, columns, method, delta=delta)
        except ValidationError as e:
            assert "\n" not in str(e)
            return
    assert report.columns and all(0 <= (c.p_value or 0) <= 1 for c in report.columns.values())
    report.summary()
    report.to_dict()


def test_a_monitor_drift_check_reports_an_all_null_column_and_the_others() -> None:
    """Issue 20: an all-null column made `evaluate` raise, and hid a +1 SD drift elsewhere."""
    from jupyter_mlops.monitoring.checks import drift_check as _drift
    from jupyter_mlops.pipeline.monitor_spec import Check
    from jupyter_mlops.store.monitor_store import MonitorBatch

    ref = profile(normal(2_000, 19))
    cur = normal(400, 20).assign(a=np.nan, b=lambda d: d["b"] + 1.0)
    batch = MonitorBatch(
        "b1", "m", 1, "blessed", 0.0, 400, profile=profile(cur, bins_from=ref).to_dict()
    )
    result = _drift(Check("drift", delta=0.02), ref.to_dict(), [batch])
    assert result.breached and result.detail["drifted"] == ["a", "b"]
    assert result.detail["columns"]["a"] == "all-null: all null in the current data"
    assert "> delta 0.02" in result.detail["columns"]["b"]
