"""Drift: calibration on synthetic data with known truth, and speed against a stored profile.

    python benchmarks/bench_drift.py [--quick]

Calibration. Each trial draws a reference sample and a current sample of six columns (normal,
lognormal, integer 18-79, uniform; 3 and 6 categories) from the same distribution, profiles the
reference (the stored-profile path gates and monitors use) and asks ``check_drift`` whether the
current sample drifted:

- false alarm: the report says ``drifted`` on same-distribution samples (target <= 5% at every n);
- detection: the same current sample with the normal column shifted by 0.25 SD, or with 10
  points of the 3-category column's share moved (0.5/0.3/0.2 -> 0.4/0.4/0.2); a hit is a report
  that flags that column (target >= 95% at n >= 1,000).

The reference holds 10x the current rows (capped at 1M), plus one equal-size row at n = 20,000
(``n_eff`` = 10,000, where the rule before issue 20 switched from tests to distances). The
issue-20 data (20 numeric and 2 string columns), power and the comparison with scipy.stats and
Evidently are in ``bench_drift_power.py``, which reuses this file's speed rows. Rows up to
20,000 also run the DataFrame path (exact KS on raw rows).
The previous defaults are the old rules, expressed with explicit methods of the same function:
the drift gate's default (PSI <= 0.2 over reference deciles, every column) and ``method: ks``
(KS statistic <= 0.1, numeric columns). Trials: 400 per row up to n = 5,000, 200 at 20,000, 60
at 100,000, 30 at 1M (``--quick``: 100, 50, 15, 5; indicative only). The 95% upper bound
(Clopper-Pearson) of each false-alarm rate is in the note.

Speed: ``check_drift`` of 1M rows x 20 numeric columns against a stored (JSON) profile, target
< 1 s, with the ratio to ``DataFrame.describe()`` on the same frame; and merging 30 stored daily
batch profiles, checked equal to the profile of the concatenated rows.
"""

from __future__ import annotations

import time
from typing import Any

from report import main as bench_main
from report import median_seconds, result

CITY = (0.5, 0.3, 0.2)
CITY_SHIFTED = (0.4, 0.4, 0.2)
SEGMENT = (0.3, 0.25, 0.2, 0.12, 0.08, 0.05)
FALSE_ALARM_MAX = 0.05
DETECTION_MIN = 0.95


def make_frame(rng: Any, n: int) -> Any:
    import numpy as np
    import pandas as pd

    return pd.DataFrame(
        {
            "normal": rng.normal(0.0, 1.0, n),
            "lognormal": rng.lognormal(0.0, 0.75, n),
            "integer": rng.integers(18, 80, n),
            "uniform": rng.random(n),
            "city": np.array(["paris", "lyon", "nice"])[_draw(rng, CITY, n)],
            "segment": np.array(list("abcdef"))[_draw(rng, SEGMENT, n)],
        }
    )


def _draw(rng: Any, shares: tuple[float, ...], n: int) -> Any:
    import numpy as np

    return np.searchsorted(np.cumsum(shares)[:-1], rng.random(n), side="right")


# name -> (check_drift keyword arguments, the report's verdict on column `col` or on any column)
RULES: dict[str, dict[str, Any]] = {
    "new": {},
    "previous psi": {"method": "psi", "threshold": 0.2},
    "previous ks": {"method": "ks", "threshold": 0.1},
}


def _verdicts(reference: Any, current: Any, rules: dict[str, dict[str, Any]], col: str | None):
    from jupyter_mlops.validation.drift import check_drift

    out = {}
    for name, kwargs in rules.items():
        report = check_drift(reference, current, **kwargs)
        if col is None:
            out[name] = report.drifted
        else:  # a detection counts only if the shifted column is the one flagged
            c = report.columns.get(col)
            out[name] = c is not None and c.drifted
    return out


def calibrate(n: int, n_ref: int, trials: int, seed: int) -> dict[str, dict[str, float]]:
    """Rates per scenario (false alarm, numeric shift, category shift) and rule."""
    import numpy as np

    from jupyter_mlops.validation.profiles import profile

    rng = np.random.default_rng(seed)
    raw = n_ref <= 20_000  # the DataFrame path too, where it is cheap
    counts: dict[str, dict[str, int]] = {"false alarm": {}, "0.25 SD shift": {}, "10-pt shift": {}}
    for _ in range(trials):
        ref_df = make_frame(rng, n_ref)
        cur = make_frame(rng, n)
        ref = profile(ref_df)
        shifted = cur.assign(normal=cur["normal"] + 0.25)
        moved = cur.assign(city=np.array(["paris", "lyon", "nice"])[_draw(rng, CITY_SHIFTED, n)])
        scenarios = {"false alarm": (cur, None), "0.25 SD shift": (shifted, "normal")}
        scenarios["10-pt shift"] = (moved, "city")
        for scenario, (current, col) in scenarios.items():
            verdicts = _verdicts(ref, current, RULES, col)
            if raw:
                verdicts |= {
                    f"{k} (DataFrame)": v
                    for k, v in _verdicts(ref_df, current, {"new": {}}, col).items()
                }
            for rule, hit in verdicts.items():
                counts[scenario][rule] = counts[scenario].get(rule, 0) + int(hit)
    return {s: {r: k / trials for r, k in c.items()} for s, c in counts.items()}


def upper_bound(rate: float, trials: int) -> float:
    """The two-sided 95% Clopper-Pearson upper bound of a rate."""
    from scipy.stats import beta

    k = round(rate * trials)
    return 1.0 if k == trials else float(beta.ppf(0.975, k + 1, trials - k))


def calibration_rows(quick: bool) -> list[dict[str, Any]]:
    cases = [(50, 500), (500, 5_000), (1_000, 10_000), (5_000, 50_000), (20_000, 20_000)]
    cases += [(100_000, 1_000_000), (1_000_000, 1_000_000)]
    rows, table = [], []
    for i, (n, n_ref) in enumerate(cases):
        trials = _trials(n, quick)
        start = time.perf_counter()
        rates = calibrate(n, n_ref, trials, seed=1000 + i)
        seconds = time.perf_counter() - start
        table.append((n, n_ref, trials, rates))
        fa = rates["false alarm"]
        new_fa = fa["new"]
        prev = ", ".join(f"{r} {fa[r]:.1%}" for r in RULES if r != "new")
        frame = f", DataFrame path {fa['new (DataFrame)']:.1%}" if "new (DataFrame)" in fa else ""
        rows.append(
            result(
                f"drift false alarms, n={n:,} (ref {n_ref:,})",
                round(100 * new_fa, 2),
                "%",
                None,
                f"<= {FALSE_ALARM_MAX:.0%}",
                new_fa <= FALSE_ALARM_MAX,
                f"{trials} trials, 95% upper {upper_bound(new_fa, trials):.1%}{frame}; "
                f"previous: {prev} ({seconds:.0f} s)",
            )
        )
        if n < 1_000:
            continue
        for scenario in ("0.25 SD shift", "10-pt shift"):
            hit = rates[scenario]["new"]
            prev = ", ".join(f"{r} {rates[scenario][r]:.1%}" for r in RULES if r != "new")
            frame = rates[scenario].get("new (DataFrame)")
            extra = f", DataFrame path {frame:.1%}" if frame is not None else ""
            rows.append(
                result(
                    f"drift detects {scenario}, n={n:,}",
                    round(100 * hit, 2),
                    "%",
                    None,
                    f">= {DETECTION_MIN:.0%}",
                    hit >= DETECTION_MIN,
                    f"{trials} trials{extra}; previous: {prev}",
                )
            )
    print_calibration(table)
    return rows


def _trials(n: int, quick: bool) -> int:
    if n <= 5_000:
        return 100 if quick else 400
    if n <= 20_000:
        return 50 if quick else 200
    if n <= 100_000:
        return 15 if quick else 60
    return 5 if quick else 30


def print_calibration(table: list[tuple[int, int, int, dict[str, dict[str, float]]]]) -> None:
    rules = ["new", "new (DataFrame)", *[r for r in RULES if r != "new"]]
    print("\ndrift calibration: share of trials flagged (false alarm: lower is better)")
    head = f"{'n':>9} {'ref':>9} {'trials':>6}  {'scenario':<14}"
    print(head + "".join(f"{r:>17}" for r in rules))
    for n, n_ref, trials, rates in table:
        for scenario, by_rule in rates.items():
            if n < 1_000 and scenario != "false alarm":
                continue
            cells = "".join(f"{by_rule[r]:>17.1%}" if r in by_rule else f"{'-':>17}" for r in rules)
            print(f"{n:>9,} {n_ref:>9,} {trials:>6}  {scenario:<14}{cells}")
    print()


def speed_rows(quick: bool) -> list[dict[str, Any]]:
    import numpy as np
    import pandas as pd

    from jupyter_mlops.validation.drift import check_drift
    from jupyter_mlops.validation.profiles import Profile, profile

    rows_n, cols = 1_000_000, 20
    rng = np.random.default_rng(7)

    def numeric(n: int, shift: float = 0.0) -> Any:
        data = {f"x{i}": rng.normal(shift, 1.0 + i / 10, n) for i in range(cols // 2)}
        data |= {f"y{i}": rng.lognormal(0.0, 0.5, n) for i in range(cols - cols // 2)}
        return pd.DataFrame(data)

    stored = profile(numeric(rows_n)).to_json()
    current = numeric(rows_n, shift=0.1)
    repeats = 3 if quick else 5

    def check() -> Any:
        return check_drift(Profile.from_json(stored), current)

    report = check()
    check_s = median_seconds(check, repeats)
    describe_s = median_seconds(current.describe, repeats)

    # 30 daily batches profiled on the reference's bins and stored; the weekly/monthly view
    # merges them without the rows.
    days = np.array_split(np.arange(rows_n), 30)
    ref = Profile.from_json(stored)
    daily = [profile(current.iloc[d], bins_from=ref).to_json() for d in days]

    def merge() -> Profile:
        merged = Profile.from_json(daily[0])
        for text in daily[1:]:
            merged = merged.merge(Profile.from_json(text))
        return merged

    merged = merge()
    whole = profile(current, bins_from=ref)
    same = all(
        merged.columns[c].counts == whole.columns[c].counts
        and merged.columns[c].min == whole.columns[c].min
        and merged.columns[c].max == whole.columns[c].max
        for c in whole.columns
    )
    merge_s = median_seconds(merge, repeats)
    return [
        result(
            f"check_drift {rows_n:,} x {cols} numeric vs stored profile",
            round(check_s * 1e3, 1),
            "ms",
            round(describe_s * 1e3, 1),
            "< 1000 ms",
            check_s < 1.0,
            f"baseline: pandas describe() on the same frame; {report.summary()[:60]}...",
        ),
        result(
            "merge 30 stored daily profiles (20 numeric columns)",
            round(merge_s * 1e3, 2),
            "ms",
            round(describe_s * 1e3, 1),
            "equal to the profile of all rows",
            same,
            "baseline: describe() of the month's rows",
        ),
    ]


def run(quick: bool = False) -> list[dict[str, Any]]:
    return speed_rows(quick) + calibration_rows(quick)


def main() -> None:
    bench_main(__doc__ or "", run, "fewer trials (indicative only)")


if __name__ == "__main__":
    main()
