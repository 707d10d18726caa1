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
