"""check_drift: report shape, the tests against scipy, multiple-testing control, profiles that
merge, and one-line errors. Every sample comes from a seeded generator. The rule's own properties
(nulls, breaches, scale, delta) are in test_drift_rule.py."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import jupyter_mlops as mlops
from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.validation.drift import check_drift
from jupyter_mlops.validation.drift_quadratic import ad_statistic
from jupyter_mlops.validation.drift_stats import chi2_test, ks_test
from jupyter_mlops.validation.profiles import Profile, log_profile, profile
from tests.drift_data import drift_frame

frame = drift_frame


def test_report_shape_and_json() -> None:
    report = mlops.check_drift(frame(500, 0), frame(200, 1, shift=8))
    assert report.drifted is True
    assert set(report.columns) == {"income", "age", "city"}  # datetimes are not tested
    assert report.share_drifted == pytest.approx(1 / 3)
    income = report.columns["income"]
    assert (income.method, income.kind, income.drifted) == ("ad", "numeric", True)
    assert income.p_value is not None and income.p_adjusted is not None
    assert income.threshold == 0.05 and income.n_reference == 500 and income.n_current == 200
    assert income.delta == 0.005 and income.effect is not None and income.interval is not None
    d = json.loads(json.dumps(report.to_dict()))
    assert d["drifted"] is True and d["columns"]["city"]["method"] == "chi2"
    assert set(d["columns"]["age"]) >= {"method", "statistic", "threshold", "p_value", "drifted"}
    assert set(d["columns"]["age"]) >= {"effect", "interval", "delta", "null_shares"}
    assert report.summary().startswith("drift in 1 of 3 columns: income: ad: distance ")


def test_the_tests_agree_with_scipy() -> None:
    ref, cur = frame(300, 2), frame(80, 3, shift=3)
    rp, cp = profile(ref), profile(cur, bins_from=profile(ref))
    raw = (ref["income"], cur["income"])
    ks = stats.ks_2samp(ref["income"], cur["income"])
    got = ks_test(rp.columns["income"], cp.columns["income"], raw, 0.0)
    assert (got.statistic, got.p_value) == pytest.approx((ks.statistic, ks.pvalue))
    table = [ref["city"].value_counts().sort_index(), cur["city"].value_counts().sort_index()]
    chi2 = stats.chi2_contingency(np.array(table), correction=False)
    got = chi2_test(rp.columns["city"], cp.columns["city"], 0.0)
    assert (got.statistic, got.p_value) == pytest.approx((chi2.statistic, chi2.pvalue))
    # Anderson-Darling on counts per value: scipy's midrank statistic, standardised as scipy does
    values = np.union1d(ref["age"], cur["age"])
    r = ref["age"].value_counts().reindex(values, fill_value=0).to_numpy(dtype=float)
    c = cur["age"].value_counts().reindex(values, fill_value=0).to_numpy(dtype=float)
    with warnings.catch_warnings():  # scipy warns that its p-value is capped: not used here
        warnings.simplefilter("ignore")
        res = stats.anderson_ksamp(
            [ref["age"].to_numpy(), cur["age"].to_numpy()], variant="midrank"
        )
    a2 = ad_statistic(r, c)
    scholz = res.statistic * _ad_sigma(300, 80) + 1  # scipy reports (A2 - 1) / sigma_N
    assert a2 == pytest.approx(scholz, rel=1e-9)


def _ad_sigma(n1: int, n2: int) -> float:
    """Scholz and Stephens' standard deviation of A2 for k = 2 samples (their eq. 4)."""
    n, k = n1 + n2, 2
    big_h = 1 / n1 + 1 / n2
    i = np.arange(1, n, dtype=float)
    h = float(np.sum(1 / i))
    tail = np.cumsum((1 / i)[::-1])[::-1]
    j = np.arange(1, n - 1)
    g = float(np.sum(tail[j] / (n - j)))
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * big_h
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * big_h - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * big_h + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    return float(np.sqrt((a * n**3 + b * n**2 + c * n + d) / ((n - 1) * (n - 2) * (n - 3))))


def test_large_n_ignores_shifts_below_delta_and_flags_real_ones() -> None:
    ref = profile(frame(60_000, 4))
    trivial = check_drift(ref, frame(60_000, 5, shift=0.05))  # 0.005 SD: a plain test flags it
    assert not trivial.drifted
    assert trivial.columns["income"].effect == pytest.approx(0.0, abs=0.01)
    plain = check_drift(ref, frame(60_000, 5, shift=0.05), delta=0)
    assert plain.columns["income"].p_value < trivial.columns["income"].p_value
    real = check_drift(ref, frame(60_000, 5, shift=1.0, cities=(0.4, 0.4, 0.2)))
    assert real.columns["income"].drifted and real.columns["income"].effect > 0.05
    assert real.columns["city"].drifted and not real.columns["age"].drifted


def test_profile_path_ks_is_a_lower_bound_of_the_exact_statistic() -> None:
    ref, cur = frame(5_000, 8), frame(2_000, 9, shift=1)
    rp, cp = profile(ref), profile(cur, bins_from=profile(ref))
    raw = (ref["income"], cur["income"])
    exact = ks_test(rp.columns["income"], cp.columns["income"], raw, 0.0)
    binned = ks_test(rp.columns["income"], cp.columns["income"], None, 0.0)
    assert binned.statistic <= exact.statistic + 1e-12
    assert binned.statistic == pytest.approx(exact.statistic, abs=0.01)  # 100 percentile bins


def test_benjamini_hochberg_across_columns() -> None:
    rng = np.random.default_rng(10)
    ref = pd.DataFrame({f"c{i}": rng.normal(size=400) for i in range(20)})
    cur = pd.DataFrame({f"c{i}": rng.normal(size=400) for i in range(20)})
    cur["c0"] += 0.4
    report = check_drift(ref, cur, delta=0)  # the plain tests
    raw = np.array([c.p_value for c in report.columns.values()])  # each column's own p
    expected = stats.false_discovery_control(raw, method="bh")
    assert [c.p_adjusted for c in report.columns.values()] == pytest.approx(list(expected))
    assert report.columns["c0"].drifted
    # without the adjustment, same-distribution columns would alarm at raw p < 0.05
    assert any(p < 0.05 for p in raw[1:])
    assert [name for name, c in report.columns.items() if c.drifted] == ["c0"]


def test_false_alarms_stay_near_alpha_on_many_columns() -> None:
    """The report-level rate on same-distribution data is the test level, not columns x level."""
    rng = np.random.default_rng(11)
    alarms = 0
    for _ in range(60):
        ref = pd.DataFrame({f"c{i}": rng.normal(size=50) for i in range(10)})
        cur = pd.DataFrame({f"c{i}": rng.normal(size=50) for i in range(10)})
        alarms += check_drift(ref, cur).drifted
    assert alarms <= 9  # 5% of 60 is 3; ten unadjusted columns would alarm in ~40% (24)


def test_explicit_methods_and_old_thresholds() -> None:
    ref, cur = profile(frame(5_000, 12)), frame(5_000, 13, shift=6)
    psi = check_drift(ref, cur, method="psi")
    assert set(psi.columns) == {"income", "age", "city"} and psi.columns["income"].drifted
    assert psi.columns["income"].threshold == 0.2 and not psi.columns["age"].drifted
    ks = check_drift(ref, cur, method="ks", threshold=0.5)
    assert set(ks.columns) == {"income", "age"} and not ks.drifted
    chi2 = check_drift(ref, cur, method="chi2", p_min=0.01)
    assert set(chi2.columns) == {"city"} and chi2.columns["city"].threshold == 0.01
    js = check_drift(ref, cur, ["city"], method="jensenshannon")
    assert js.columns["city"].statistic < 0.05 and not js.drifted
    w = check_drift(ref, cur, ["income"], method="wasserstein")
    assert w.columns["income"].statistic == pytest.approx(0.6, abs=0.05)


def test_new_and_unseen_categories_count_as_drift() -> None:
    ref = profile(frame(2_000, 14))
    cur = pd.DataFrame({"city": ["paris"] * 50 + ["marseille"] * 50})
    report = check_drift(ref, cur, ["city"])
    assert report.drifted and report.columns["city"].p_value < 1e-10


def test_profile_merge_equals_profile_of_concatenation() -> None:
    ref = profile(frame(3_000, 15))
    days = [frame(700, 16 + d, shift=4 * d) for d in range(3)]
    days[1].loc[::7, "income"] = np.nan
    days[2].loc[::5, "city"] = None
    merged = profile(days[0], bins_from=ref)
    for day in days[1:]:  # through JSON, as stored
        merged = merged.merge(Profile.from_dict(json.loads(profile(day, bins_from=ref).to_json())))
    whole = profile(pd.concat(days, ignore_index=True), bins_from=ref)
    assert merged.rows == whole.rows == 2_100
    for name in ("income", "age", "city", "when"):
        m, w = merged.columns[name], whole.columns[name]
        assert (m.count, m.nulls, m.min, m.max) == (w.count, w.nulls, w.min, w.max), name
        assert m.counts == w.counts and m.categories == w.categories, name
        assert m.sums == pytest.approx(w.sums) and m.mean == pytest.approx(w.mean)
        assert (m.m2 or 0) == pytest.approx(w.m2 or 0)
    assert merged.columns["income"].nulls == 100 and merged.columns["city"].nulls == 140
    report = check_drift(ref, merged)
    assert report.columns["income"].drifted  # weeks of drift seen from profiles only


def test_profiles_with_other_bins_do_not_merge() -> None:
    a, b = profile(frame(100, 20)), profile(frame(100, 21))
    with pytest.raises(ValidationError, match=r"bins_from=reference_profile\)$"):
        a.merge(b)


def test_bad_input_messages() -> None:
    ref = frame(100, 22)
    cases = [
        (lambda: check_drift(ref, ref.iloc[:0]), "the current data has no rows; pass at least"),
        (lambda: check_drift(ref, ref, method="kl"), "unknown drift method 'kl'; use one of auto"),
        (
            lambda: check_drift(ref[["when"]], ref[["when"]]),
            "reference and current data have no numeric or categorical column",
        ),
        (
            lambda: check_drift(ref, ref, ["incme"]),
            "column 'incme' is in neither the reference nor the current data (reference: income,",
        ),
        (
            lambda: check_drift(ref, ref, ["city"], method="ks"),
            "column 'city': ks does not apply to categorical columns; use method='auto'",
        ),
        (lambda: check_drift(ref, ref, delta=-0.1), "delta must be from 0 to 1 (a distance"),
        (lambda: check_drift(ref, ref, delta="big"), "delta must be a number from 0 to 1"),
        (
            lambda: check_drift(ref, ref, method="psi", delta=0.1),
            "delta applies to tests, not to the psi distance; set its line with threshold=",
        ),
        (lambda: check_drift([1, 2], ref), "expected a DataFrame or a profile, got list"),
        (lambda: check_drift({"format": "x"}, ref), "not a jupyter-mlops profile version 2"),
    ]
    for call, message in cases:
        with pytest.raises(ValidationError) as info:
            call()
        assert str(info.value).startswith(message), str(info.value)
        assert "\n" not in str(info.value)


def test_log_profile_needs_a_run_and_stores_json(tmp_path) -> None:
    prof = profile(frame(50, 23))
    with pytest.raises(ValidationError, match="needs an active run"):
        log_profile(prof)
    mlops.set_store(str(tmp_path / ".mlops"))
    with mlops.start_run(experiment="drift") as run:
        art = log_profile(prof, "train")
    assert art.name == "profile:train" and art.kind == "profile"
    stored = mlops.get_run(run.id).artifacts
    assert [a.name for a in stored] == ["profile:train"]


def test_import_stays_light() -> None:
    code = "import sys, jupyter_mlops; print(sorted({'numpy','pandas','scipy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_seam_for_slices_settles_any_list_and_names_the_slice() -> None:
    from dataclasses import replace

    from jupyter_mlops.validation.drift import DriftOptions, DriftReport, column_drifts, settle

    options = DriftOptions()
    ref, north, south = profile(frame(2_000, 20)), frame(300, 21, shift=8), frame(300, 22)
    results = []
    for name, cur in (("region=north", north), ("region=south", south)):
        raw = column_drifts(ref, profile(cur, bins_from=ref), ["income"], None, options)
        results += [replace(r, slice=name) for r in raw]
    assert all(r.p_adjusted is None for r in results)  # unadjusted until settled
    settled = settle(results, options)
    assert [r.drifted for r in settled] == [True, False]
    report = DriftReport("auto", {f"{r.slice}/{r.column}": r for r in settled})
    assert report.summary().startswith("drift in 1 of 2 columns: region=north: income: ad: ")
    assert report.to_dict()["columns"]["region=north/income"]["slice"] == "region=north"
