"""Drift calibration and power on the issue-20 data, against scipy.stats and Evidently 0.7.23.

    python benchmarks/bench_drift_power.py [--quick] [--no-evidently]

The data (``drift_power_data.py``): 20 numeric columns (normal, lognormal, integer, 0/1,
five-level integers, one 30 % NaN) and 2 string columns, ``city`` and ``segment`` (four slices).
Every repetition draws a fresh reference and current sample. Three detectors answer:

- ours: ``check_drift`` against the stored profile of the reference (the path gates and
  monitors take), and, where it is cheap (reference <= 50k rows), on the two DataFrames;
- scipy: KS per numeric column + chi-square per string column, Benjamini-Hochberg (``drift_scipy``);
- Evidently 0.7.23 with its defaults, in its own venv (``evidently_runner``), where it finishes in
  reasonable time: its dataset verdict (>= 50 % of columns drifted) and ">= 1 column drifted".

Sections:

1. False alarms: same-distribution samples, share of repetitions with a dataset-level alarm, at
   n = 50, 500, 5k, 100k, 1M; the reference holds 10x the current rows, capped at 1M (so 1M
   against 1M). Target <= 5 % for ours at every n.
2. Power at n = 500 (reference 5k): a hit is a report that flags the moved column (in the moved
   slice, with ``by=``). Variance x 1.5 (>= 70 %), 10 % new NaN in a column that had none
   (>= 80 %), +0.5 SD in one slice of four with ``check_drift(..., by="segment")`` (>= 90 %), and
   the same shift on the whole frame without ``by`` (no target: the contrast).
3. The old n_eff = 10,000 boundary: reference 100k, current 5k to 100k, a 30 -> 35 % category
   shift and a 0.04 SD mean shift; detection must not fall as n grows. A fall counts only when
   it is beyond sampling noise: the later rate's 95 % interval lies wholly under the earlier's.
4. Speed: ``bench_drift.speed_rows`` (1M x 20 numeric against a stored profile, < 1 s, ratio to
   ``DataFrame.describe()``).

Each rate prints with its 95 % Clopper-Pearson interval (``scipy.stats.binomtest``) and its
repetitions. ``--quick`` runs few repetitions (indicative only).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
for _path in (str(HERE.parent), str(HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import drift_power_data as data  # noqa: E402
import numpy as np  # noqa: E402
from drift_scipy import scipy_drifted  # noqa: E402
from evidently_runner import EvidentlyBatch  # noqa: E402
from report import print_table, result  # noqa: E402
from scipy.integrate import IntegrationWarning  # noqa: E402

FALSE_ALARM_MAX = 0.05
FA_CASES = ((50, 500), (500, 5_000), (5_000, 50_000), (100_000, 1_000_000), (1_000_000, 1_000_000))
POWER_N, POWER_REF = 500, 5_000
POWER_TARGETS = {"variance x1.5": 0.70, "10% new NaN": 0.80, "slice +0.5 SD, by=": 0.90}
WHOLE = "slice +0.5 SD, whole"
BOUNDARY_REF = 100_000
BOUNDARY_N = (5_000, 10_000, 12_500, 20_000, 100_000)
FRAME_PATH_MAX_REF = 50_000  # the DataFrame path (exact KS on raw rows) runs up to this size

# (section, n) -> repetitions: full run, then --quick
REPETITIONS = {"fa": {5_000: (200, 40), 100_000: (60, 10), 1_000_000: (30, 4)}}
POWER_REPS, BOUNDARY_REPS = (200, 40), (100, 20)
BY_REPS = (100, 20)  # check_drift(by=) takes ~1.5 s at n = 500 (AD per slice x column)
SCIPY_LARGE_REPS = (10, 2)  # scipy at n >= 100k: ~4 s a repetition (KS on 1M rows x 20)
# Evidently takes ~1 s a verdict at 500 rows and 2-6 s at 5k (152 s at 1M x 20): run up to 5k.
EVIDENTLY_REPS = {50: (100, 10), 500: (100, 10), 5_000: (25, 3), "power": (60, 10)}

Tally = dict[str, list[int]]  # method -> [hits, repetitions]


def _repetitions(table: dict[Any, tuple[int, int]], n: Any, quick: bool) -> int:
    key = n if n in table else min(k for k in table if k >= n)
    return table[key][1 if quick else 0]


def _add(tally: Tally, method: str, hit: bool) -> None:
    counts = tally.setdefault(method, [0, 0])
    counts[0] += int(hit)
    counts[1] += 1


def interval(hits: int, trials: int) -> tuple[float, float]:
    """The 95 % Clopper-Pearson interval of ``hits / trials``."""
    from scipy.stats import binomtest

    ci = binomtest(hits, trials).proportion_ci(0.95, method="exact")
    return float(ci.low), float(ci.high)


def flags(report: Any, column: str, slice_value: str | None = None) -> bool:
    """Whether ``report`` flags ``column`` (in the slice ``by=slice_value`` when given), by any
    of its tests (a location, scale or null-share verdict all name their column)."""
    for c in report.columns.values():
        if not c.drifted or c.column != column:
            continue
        where = getattr(c, "slice", None) or ""
        if slice_value is None or where.rsplit("=", 1)[-1] == slice_value:
            return True
    return False


def _ours(reference: Any, current: Any, **kwargs: Any) -> Any:
    from jupyter_mlops.validation.drift import check_drift

    return check_drift(reference, current, **kwargs)


def _profile(frame: Any) -> Any:
    from jupyter_mlops.validation.profiles import profile

    return profile(frame)


def false_alarms(quick: bool, ev: EvidentlyBatch) -> dict[tuple[int, int], Tally]:
    out = {}
    for i, (n, n_ref) in enumerate(FA_CASES):
        rng, tally, start = np.random.default_rng(2000 + i), {}, time.perf_counter()
        ev_reps = _repetitions(EVIDENTLY_REPS, n, quick) if n in EVIDENTLY_REPS else 0
        for rep in range(_repetitions(REPETITIONS["fa"], n, quick)):
            ref, cur = data.make_frame(rng, n_ref), data.make_frame(rng, n)
            _add(tally, "ours", _ours(_profile(ref), cur).drifted)
            if n_ref <= FRAME_PATH_MAX_REF:
                _add(tally, "ours df", _ours(ref, cur).drifted)
            if n < 100_000 or rep < SCIPY_LARGE_REPS[int(quick)]:
                _add(tally, "scipy", bool(scipy_drifted(ref, cur)))
            if rep < ev_reps:
                ev.add(f"fa {n}", ref, cur)
        out[(n, n_ref)] = tally
        print(f"  false alarms n={n:,}: {time.perf_counter() - start:.0f} s", flush=True)
    return out


def _slice_checks(ref: Any, cur: Any) -> dict[str, bool] | None:
    """Ours with ``by="segment"`` on the slice-shifted sample, against per-slice profiles of the
    reference (what a monitor stores) and on the DataFrames; ``None`` if ``by`` is not there."""
    try:
        from jupyter_mlops.validation.drift_slices import profile_slices

        stored = profile_slices(ref, "segment")
        return {
            "ours": flags(_ours(stored, cur, by="segment"), data.SHIFTED, "a"),
            "ours df": flags(_ours(ref, cur, by="segment"), data.SHIFTED, "a"),
        }
    except (TypeError, ImportError) as e:  # before per-slice drift lands
        print(f"  check_drift(by=) not available: {type(e).__name__}: {e}"[:120], flush=True)
        return None


def power(quick: bool, ev: EvidentlyBatch) -> dict[str, Tally]:
    rng, start = np.random.default_rng(3000), time.perf_counter()
    out: dict[str, Tally] = {name: {} for name in (*POWER_TARGETS, WHOLE)}
    by_available = True
    for rep in range(_repetitions({0: POWER_REPS}, 0, quick)):
        ref, cur = data.make_frame(rng, POWER_REF), data.make_frame(rng, POWER_N)
        ref_profile, moved = _profile(ref), data.mean_shift(cur, 0.5, segment="a")
        cases = {
            "variance x1.5": (data.variance(cur), data.SHIFTED),
            "10% new NaN": (data.new_nulls(cur, rng), data.NULLED),
            WHOLE: (moved, data.SHIFTED),
        }
        for name, (current, column) in cases.items():
            _add(out[name], "ours", flags(_ours(ref_profile, current), column))
            _add(out[name], "scipy", ("", column) in scipy_drifted(ref, current))
            if rep < _repetitions(EVIDENTLY_REPS, "power", quick):
                ev.add(f"power {name}", ref, current)
        sliced = out["slice +0.5 SD, by="]
        if by_available and rep < _repetitions({0: BY_REPS}, 0, quick):
            hits = _slice_checks(ref, moved)
            by_available = hits is not None
            for method, hit in (hits or {}).items():
                _add(sliced, method, hit)
        _add(sliced, "scipy", ("a", data.SHIFTED) in scipy_drifted(ref, moved, by="segment"))
    print(f"  power n={POWER_N}: {time.perf_counter() - start:.0f} s", flush=True)
    return out


def boundary(quick: bool) -> dict[str, dict[int, Tally]]:
    """Detection of two small true effects as the current batch grows past the old switch."""
    rng, start = np.random.default_rng(4000), time.perf_counter()
    out: dict[str, dict[int, Tally]] = {"city 30->35%": {}, "0.04 SD shift": {}}
    for _ in range(_repetitions({0: BOUNDARY_REPS}, 0, quick)):
        ref_profile = _profile(data.make_frame(rng, BOUNDARY_REF))
        for n in BOUNDARY_N:
            cur = data.make_frame(rng, n)
            hit = flags(_ours(ref_profile, data.city_shift(cur, rng)), "city")
            _add(out["city 30->35%"].setdefault(n, {}), "ours", hit)
            hit = flags(_ours(ref_profile, data.mean_shift(cur, 0.04)), data.SHIFTED)
            _add(out["0.04 SD shift"].setdefault(n, {}), "ours", hit)
    print(f"  boundary: {time.perf_counter() - start:.0f} s", flush=True)
    return out


def fold_evidently(verdicts: dict[str, list[dict[str, Any]]] | None, fa: Any, pw: Any) -> None:
    """Evidently's verdicts into the tallies: dataset verdict, >= 1 column, the moved column."""
    if not verdicts:
        return
    for (n, _), tally in fa.items():
        for v in verdicts.get(f"fa {n}", []):
            _add(tally, "Evid. dataset", v["dataset"])
            _add(tally, "Evid. >=1 col", any(v["columns"].values()))
    column = {"variance x1.5": data.SHIFTED, "10% new NaN": data.NULLED}
    for name, tally in pw.items():
        for v in verdicts.get(f"power {name}", []):
            _add(tally, "Evid. column", v["columns"].get(column.get(name, data.SHIFTED), False))
            _add(tally, "Evid. dataset", v["dataset"])


def _cell(counts: list[int] | None) -> str:
    if not counts:
        return "-"
    lo, hi = interval(*counts)
    return f"{counts[0] / counts[1]:.1%} [{lo:.1%}-{hi:.1%}] /{counts[1]}"


def format_matrix(title: str, rows: dict[str, Tally], markdown: bool = False) -> str:
    """One table: a row per case, a column per detector, each cell a rate, its 95 % interval
    and its repetitions."""
    order = ("ours", "ours df", "scipy")  # then Evidently's, as they came
    methods = list(dict.fromkeys(m for tally in rows.values() for m in tally))
    methods.sort(key=lambda m: order.index(m) if m in order else len(order))
    if markdown:
        lines = [f"**{title}**", "", "| | " + " | ".join(methods) + " |"]
        lines.append("|---" * (len(methods) + 1) + "|")
        for label, tally in rows.items():
            lines.append(f"| {label} | " + " | ".join(_cell(tally.get(m)) for m in methods) + " |")
        return "\n".join(lines) + "\n"
    lines = [title, f"{'':24}" + "".join(f"{m:>30}" for m in methods)]
    for label, tally in rows.items():
        lines.append(f"{label:24}" + "".join(f"{_cell(tally.get(m)):>30}" for m in methods))
    return "\n".join(lines)


def rate_row(name: str, counts: list[int], target: float | None, at_most: bool) -> dict[str, Any]:
    hits, trials = counts
    rate, (lo, hi) = hits / trials, interval(hits, trials)
    passed = None if target is None else (rate <= target if at_most else rate >= target)
    sign = "<=" if at_most else ">="
    return result(
        name,
        round(100 * rate, 1),
        "%",
        None,
        "-" if target is None else f"{sign} {target:.0%}",
        passed,
        f"{hits}/{trials}, 95% CI {lo:.1%}-{hi:.1%}",
    )


def _ours_target(method: str) -> bool:
    return method.startswith("ours")


def report_rows(fa: Any, pw: Any, bd: Any) -> list[dict[str, Any]]:
    rows = []
    for (n, n_ref), tally in fa.items():
        for method, counts in tally.items():
            target = FALSE_ALARM_MAX if _ours_target(method) else None
            rows.append(rate_row(f"false alarm {n:,}/{n_ref:,} {method}", counts, target, True))
    for name, tally in pw.items():
        for method, counts in tally.items():
            target = POWER_TARGETS.get(name) if _ours_target(method) else None
            rows.append(rate_row(f"power {name} {method}", counts, target, False))
    for name, by_n in bd.items():
        rows.append(monotone_row(name, [by_n[n]["ours"] for n in BOUNDARY_N]))
    return rows


def monotone_row(name: str, counts: list[list[int]]) -> dict[str, Any]:
    """PASS unless some larger n detects less beyond sampling noise (its 95 % interval wholly
    under an earlier n's); the note gives the rates and whether they are strictly monotone."""
    bounds = [interval(*c) for c in counts]
    falls = any(
        bounds[j][1] < bounds[i][0] for i in range(len(bounds)) for j in range(i + 1, len(bounds))
    )
    rates = [h / t for h, t in counts]
    strict = all(b >= a for a, b in itertools.pairwise(rates))
    shown = ", ".join(f"{n / 1000:g}k {r:.0%}" for n, r in zip(BOUNDARY_N, rates, strict=True))
    return result(
        f"monotone in n: {name}",
        round(100 * min(rates), 1),
        "%",
        None,
        "no fall",
        not falls,
        f"{shown}; {'' if strict else 'not '}strictly monotone ({counts[0][1]} reps)",
    )


def run(
    quick: bool = False, evidently: bool = True, markdown: Path | None = None
) -> list[dict[str, Any]]:
    """Every section; the tables print as they are ready, and go to ``markdown`` if given."""
    from bench_drift import speed_rows

    # Evidently runs in the background, its minutes overlapping the sections that follow.
    ev_fa = EvidentlyBatch(enabled=evidently)
    fa = false_alarms(quick, ev_fa)
    ev_fa.start()
    ev_pw = EvidentlyBatch(enabled=evidently)
    pw = power(quick, ev_pw)
    ev_pw.start()
    bd = boundary(quick)
    speed = speed_rows(quick)
    fold_evidently(ev_fa.results(), fa, {})
    fold_evidently(ev_pw.results(), {}, pw)
    matrices = [
        ("False alarms: share of repetitions with a dataset-level alarm", _fa_labels(fa)),
        (f"Power at n = {POWER_N} (reference {POWER_REF:,}): the moved column flagged", pw),
        (
            f"Detection across the old n_eff = 10,000 boundary (reference {BOUNDARY_REF:,})",
            {
                f"n = {n:,}": {name: by_n[n]["ours"] for name, by_n in bd.items()}
                for n in BOUNDARY_N
            },
        ),
    ]
    for title, rows in matrices:
        print("\n" + format_matrix(title, rows))
    if markdown is not None:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text("\n".join(format_matrix(t, r, markdown=True) for t, r in matrices))
    print()
    return report_rows(fa, pw, bd) + speed


def _fa_labels(fa: dict[tuple[int, int], Tally]) -> dict[str, Tally]:
    return {f"{n:,} / ref {n_ref:,}": tally for (n, n_ref), tally in fa.items()}


def main() -> None:
    # check_drift's AD tail integral can warn once per column (scipy's IntegrationWarning);
    # hundreds of copies would bury the tables, so they are silenced here (see the docs page).
    warnings.filterwarnings("ignore", category=IntegrationWarning)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="few repetitions (indicative only)")
    p.add_argument("--no-evidently", action="store_true", help="skip Evidently and its venv")
    p.add_argument("--markdown", type=Path, help="also write the tables to this markdown file")
    args = p.parse_args()
    start = time.perf_counter()
    rows = run(args.quick, evidently=not args.no_evidently, markdown=args.markdown)
    print_table(rows)
    print(f"\n{time.perf_counter() - start:.0f} s in all")


if __name__ == "__main__":
    main()
