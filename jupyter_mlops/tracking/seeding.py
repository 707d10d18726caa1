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
    return [message for _, message in unseeded_rng_creations(tree)]


def unseeded_rng_creations(tree: ast.AST) -> list[tuple[str, str]]:
    """(called name, warning) for each RNG created without a seed; a tracked cell that records
    RNG state drops the ``default_rng`` ones, whose entropy it draws and records itself."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node.func)
        if name in _UNSEEDED_CALLS and not _has_seed(node):
            # random.Random() only when qualified: a bare Random() may be anything.
            if name == "Random" and not isinstance(node.func, ast.Attribute):
                continue
            found.append(
                (
                    name,
                    f"line {node.lineno}: {ast.unparse(node)} creates an unseeded random generator "
                    "that the run's seed does not control; pass a seed, e.g. "
                    f"{ast.unparse(node.func)}(seed)",
                )
            )
    return found


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
    # 'auto' may pick the randomized solver on large inputs (see _resolved_solver).
    "PCA": lambda p: p.get("svd_solver") not in ("full", "covariance_eigh"),
    # An explicit array of initial centers leaves nothing to draw.
    "KMeans": lambda p: isinstance(p.get("init"), str) or callable(p.get("init")),
}


# Frameworks whose scikit-learn-style classes read ``random_state=None`` as a fixed seed
# (XGBoost: 0, LightGBM: its C++ defaults, CatBoost: 0) and never NumPy's global state.
_FIXED_SEED_FRAMEWORKS = frozenset({"xgboost", "lightgbm", "catboost"})


def _resolved_params(estimator: Any) -> dict[str, Any]:
    """The estimator's params, with a solver that fitting resolved from 'auto' (PCA records
    it as ``_fit_svd_solver``: the full solver on small dense data, deterministic)."""
    params = dict(estimator.get_params(deep=False))
    solver = getattr(estimator, "_fit_svd_solver", None)
    if params.get("svd_solver") == "auto" and isinstance(solver, str):
        params["svd_solver"] = solver
    return params


def uses_randomness(estimator: Any) -> bool:
    """Whether ``estimator``, with its actual parameters, draws random numbers when fitted."""
    rule = _RANDOM_ONLY_WHEN.get(type(estimator).__name__)
    return True if rule is None else bool(rule(_resolved_params(estimator)))


def random_state_unpinned(estimator: Any) -> bool:
    """True when ``estimator`` uses randomness and leaves ``random_state`` unset (None), so what
    it draws depends on NumPy's global state: worth a reproducibility warning. Never for the
    gradient-boosting frameworks (their None is a fixed seed); PyTorch and Keras models have
    no ``random_state``: their randomness is the RNG state the run records."""
    if type(estimator).__module__.partition(".")[0] in _FIXED_SEED_FRAMEWORKS:
        return False
    params = estimator.get_params(deep=False)
    return (
        "random_state" in params and params["random_state"] is None and uses_randomness(estimator)
    )


# -- recording RNG states (the default): the cell runs exactly as it would untracked ----------

RNG_STATE_TAG = "rng_state"  # the content hash (in the store's code table) of the states
_HOOKED = ("numpy", "torch")  # RNG libraries caught when first imported during a cell
ENTROPY_KEY = "default_rng"  # the entropy drawn for unseeded np.random.default_rng() calls
# Entropy a replay hands, in order, to the next tracked cell's unseeded default_rng() calls.
_replay_entropy: list[int] = []


def capture_state(name: str, module: Any | None = None) -> Any | None:
    """The global RNG state of library ``name`` (None when it is not imported)."""
    if name == "random":
        return random.getstate()
    mod = module if module is not None else sys.modules.get(name)
    if mod is None:
        return None
    if name == "numpy":
        return mod.random.get_state()
    if name == "torch" and hasattr(mod, "get_rng_state"):
        return mod.get_rng_state()
    return None


def restore_states(states: dict[str, Any]) -> list[str]:
    """Put recorded RNG states back, importing a library whose state was recorded (the
    original cell imported it); returns what was restored."""
    import importlib

    done = []
    for name, state in states.items():
        if name == ENTROPY_KEY:
            _replay_entropy[:] = list(state)
            done.append(name)
        elif name == "random":
            random.setstate(state)
        elif name == "numpy":
            importlib.import_module("numpy").random.set_state(state)
        elif name == "torch":
            importlib.import_module("torch").set_rng_state(state)
        else:
            continue
        done.append(name)
    return done


def encode_states(states: dict[str, Any]) -> tuple[str, str]:
    """(sha, text) of ``states`` for the store's content-addressed code table (a NumPy state
    is ~2.5 KB, the same for every cell that does not draw)."""
    import base64
    import hashlib
    import pickle

    text = "rng-state:" + base64.b64encode(pickle.dumps(states, protocol=4)).decode()
    return hashlib.sha256(text.encode()).hexdigest()[:32], text


def decode_states(text: str) -> dict[str, Any]:
    import base64
    import pickle

    states: dict[str, Any] = pickle.loads(base64.b64decode(text.removeprefix("rng-state:")))
    return states


class RngRecorder:
    """For one tracked cell: record (``seed`` None) or set (``seed`` given) the state of every
    RNG at cell start, and of NumPy/torch when the cell itself imports them (an import hook
    active only while the cell runs)."""

    def __init__(self, seed: int | None) -> None:
        self.seed = seed
        self.states: dict[str, Any] = {}
        self.entropy: list[int] = []
        self._replay = list(_replay_entropy)
        _replay_entropy.clear()
        self._unpatch: Any = None

    def start(self) -> RngRecorder:
        if self.seed is None:
            for name in ("random", *_HOOKED):
                state = capture_state(name)
                if state is not None:
                    self.states[name] = state
        if any(name not in sys.modules for name in _HOOKED):
            sys.meta_path.insert(0, self)
        if "numpy" in sys.modules:
            self._patch_default_rng(sys.modules["numpy"])
        return self

    def _patch_default_rng(self, np: Any) -> None:
        """While the cell runs, an unseeded ``np.random.default_rng()`` gets entropy drawn (or,
        in a replay, recorded) here: a Generator distributed exactly as from OS entropy, that
        ``reproduce`` can recreate. Seeded calls pass through untouched."""
        if self.seed is not None or self._unpatch is not None:
            return
        original = np.random.default_rng

        def default_rng(seed: Any = None) -> Any:
            if seed is None:
                seed = np.random.SeedSequence(self._entropy())
            return original(seed)

        base = np.random.SeedSequence
        recorder = self

        class SeedSequence(base):  # type: ignore[misc, valid-type]
            """``SeedSequence()`` without entropy gets recorded entropy (a subclass, so
            isinstance checks and ``default_rng(ss)`` behave as before)."""

            def __init__(self, entropy: Any = None, *args: Any, **kwargs: Any) -> None:
                if entropy is None:
                    entropy = recorder._entropy()
                super().__init__(entropy, *args, **kwargs)

        np.random.default_rng = default_rng
        np.random.SeedSequence = SeedSequence

        def unpatch() -> None:
            np.random.default_rng = original
            np.random.SeedSequence = base

        self._unpatch = unpatch

    def _entropy(self) -> int:
        """128 bits for an unseeded generator: drawn and recorded, or, in a replay, recorded."""
        value = self._replay.pop(0) if self._replay else secrets.randbits(128)
        self.entropy.append(value)
        return value

    def stop(self) -> tuple[str, str] | None:
        """Remove the hook; the (sha, text) of the recorded states, if any were recorded."""
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        if self._unpatch is not None:
            self._unpatch()
            self._unpatch = None
        if self.entropy:
            self.states[ENTROPY_KEY] = self.entropy
        return encode_states(self.states) if self.states else None

    # importlib's MetaPathFinder protocol
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in _HOOKED or name in sys.modules:
            return None
        from ..import_watch import spec_calling_back

        return spec_calling_back(name, path, lambda module: self._imported(name, module))

    def _imported(self, name: str, module: Any) -> None:
        try:
            if self.seed is not None:
                if name == "numpy":
                    module.random.seed(self.seed)
                elif name == "torch":
                    module.manual_seed(self.seed)
            else:
                state = capture_state(name, module)
                if state is not None:
                    self.states.setdefault(name, state)
                if name == "numpy":
                    self._patch_default_rng(module)
        except Exception:  # a library's RNG API changed: the import itself must still work
            pass
