"""One seed per run: drawn or given, recorded, and applied to every RNG already imported.

Libraries are seeded only when already imported (``sys.modules``): importing torch just to seed
it would cost seconds and change the environment the run records.
"""

from __future__ import annotations

import ast
import random
import secrets
import sys
from collections.abc import Collection
from typing import Any

MAX_SEED = 2**32 - 1  # NumPy's legacy global state takes seeds below 2**32


def draw_seed() -> int:
    return secrets.randbelow(2**31)


def apply_seed(seed: int, only: Collection[str] | None = None) -> list[str]:
    """Seed ``random``, NumPy's global state, torch and tensorflow (those already imported, and
    of those only ``only`` when given); returns what was seeded."""
    seeded = []

    def want(name: str) -> bool:
        return only is None or name in only

    if want("random"):
        random.seed(seed)
        seeded.append("random")
    np = sys.modules.get("numpy")
    if np is not None and want("numpy"):
        np.random.seed(seed)
        seeded.append("numpy")
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "manual_seed") and want("torch"):
        torch.manual_seed(seed)
        seeded.append("torch")
    tf = sys.modules.get("tensorflow")
    if tf is not None and hasattr(tf, "random") and want("tensorflow"):
        tf.random.set_seed(seed)
        seeded.append("tensorflow")
    return seeded


_UNSEEDED_CALLS = {"default_rng", "RandomState", "Random", "Generator", "PCG64", "MT19937"}


def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _has_seed(call: ast.Call) -> bool:
    if call.args:
        first = call.args[0]
        return not (isinstance(first, ast.Constant) and first.value is None)
    for kw in call.keywords:
        if kw.arg in ("seed", "x") or kw.arg is None:
            return not (isinstance(kw.value, ast.Constant) and kw.value.value is None)
    return False


def unseeded_rng_calls(tree: ast.AST) -> list[str]:
    """Warnings for RNGs created without a seed (``np.random.default_rng()`` and friends)."""
    warnings = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node.func)
        if name in _UNSEEDED_CALLS and not _has_seed(node):
            # random.Random() only when qualified: a bare Random() may be anything.
            if name == "Random" and not isinstance(node.func, ast.Attribute):
                continue
            warnings.append(
                f"line {node.lineno}: {ast.unparse(node)} creates an unseeded random generator "
                "that the run's seed does not control; pass a seed, e.g. "
                f"{ast.unparse(node.func)}(seed)"
            )
    return warnings


# Calls that draw random numbers unless given a ``random_state`` (by keyword; positions vary).
_RANDOM_STATE_CALLS = {
    "train_test_split",
    "sample",
    "shuffle",
    "permutation",
    "make_classification",
    "make_regression",
    "make_blobs",
}
_GLOBAL_RNG_MODULES = {"random", "np.random", "numpy.random"}
_GLOBAL_SEEDERS = {"seed", "manual_seed", "set_seed", "default_rng", "RandomState", "Random"}


def nondeterministic_calls(code: str) -> list[str]:
    """The calls in ``code`` whose result changes from one execution to the next, as source
    text: unseeded generators, ``random_state``-taking calls without one, and draws from the
    ``random``/NumPy global state in code that never seeds it. Best effort, by syntax."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    seeds_globally = any(_call_name(c.func) in _GLOBAL_SEEDERS and _has_seed(c) for c in calls)
    found = []
    for call in sorted(calls, key=lambda c: (c.lineno, c.col_offset)):
        name = _call_name(call.func)
        owner = ast.unparse(call.func.value) if isinstance(call.func, ast.Attribute) else None
        if name in _UNSEEDED_CALLS and not _has_seed(call) and name != "Random":
            found.append(ast.unparse(call))
        elif name in _RANDOM_STATE_CALLS and not any(
            k.arg == "random_state" for k in call.keywords
        ):
            if owner not in _GLOBAL_RNG_MODULES or not seeds_globally:
                found.append(ast.unparse(call))
        elif owner in _GLOBAL_RNG_MODULES and name not in _GLOBAL_SEEDERS and not seeds_globally:
            found.append(ast.unparse(call))
    return found


# Estimators whose ``random_state`` matters only under some parameters, by class name (no
# scikit-learn import): with any other parameters they are deterministic, so an unset
# random_state pins nothing and a warning would be noise. Any estimator not listed here that has
# ``random_state=None`` is taken to use randomness (forests, boosting, SGD, MLP, KMeans …).
def _solver_in(*solvers: str) -> Any:
    return lambda p: p.get("solver") in solvers


_RANDOM_ONLY_WHEN: dict[str, Any] = {
    "Ridge": _solver_in("sag", "saga"),
    "RidgeClassifier": _solver_in("sag", "saga"),
    "LogisticRegression": _solver_in("sag", "saga", "liblinear"),
    "LogisticRegressionCV": _solver_in("sag", "saga", "liblinear"),
    **dict.fromkeys(
        (
            "Lasso",
            "ElasticNet",
            "LassoCV",
            "ElasticNetCV",
            "MultiTaskLasso",
            "MultiTaskElasticNet",
            "MultiTaskLassoCV",
            "MultiTaskElasticNetCV",
        ),
        lambda p: p.get("selection") == "random",
    ),
    # libsvm draws only for Platt scaling's internal cross-validation.
    "SVC": lambda p: p.get("probability") is True,  # "deprecated" (sklearn 1.9) is off
    "NuSVC": lambda p: p.get("probability") is True,
    # liblinear's dual coordinate descent shuffles; the primal solver does not.
    "LinearSVC": lambda p: p.get("dual") is not False,
    "LinearSVR": lambda p: p.get("dual") is not False,
    **dict.fromkeys(
        (
            "SGDClassifier",
            "SGDRegressor",
            "SGDOneClassSVM",
            "Perceptron",
            "PassiveAggressiveClassifier",
            "PassiveAggressiveRegressor",
        ),
        lambda p: bool(p.get("shuffle", True)) or bool(p.get("early_stopping")),
    ),
    # 'auto' may pick the randomized solver on large inputs.
    "PCA": lambda p: p.get("svd_solver") not in ("full", "covariance_eigh"),
    # An explicit array of initial centers leaves nothing to draw.
    "KMeans": lambda p: isinstance(p.get("init"), str) or callable(p.get("init")),
}


def uses_randomness(estimator: Any) -> bool:
    """Whether ``estimator``, with its actual parameters, draws random numbers when fitted."""
    rule = _RANDOM_ONLY_WHEN.get(type(estimator).__name__)
    return True if rule is None else bool(rule(estimator.get_params(deep=False)))


def random_state_unpinned(estimator: Any) -> bool:
    """True when ``estimator`` uses randomness and leaves ``random_state`` unset (None), so what
    it draws depends on NumPy's global state: worth a reproducibility warning."""
    params = estimator.get_params(deep=False)
    return (
        "random_state" in params and params["random_state"] is None and uses_randomness(estimator)
    )
