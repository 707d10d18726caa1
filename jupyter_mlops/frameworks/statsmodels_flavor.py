"""statsmodels fitted results: the coefficients table, the fit statistics, the summary, and
linear models in a small data-only format.

Supported: statsmodels >= 0.13, < 0.16 (tested on 0.15 with patsy formulas). No hooks: a
results object holds everything, so a tracked cell reads it from the namespace once, in the
first tracked cell that sees it (a later cell that only reads it records nothing for it).

- params: the model class (``OLS``), the formula (``smf``), the covariance type, and a GLM's
  family and link;
- metrics: ``aic``, ``bic``, ``rsquared``, ``rsquared_adj``, ``prsquared``, ``llf``, ``nobs``,
  those the results have and that are finite (a GLM's ``bic`` is the likelihood one,
  ``bic_llf``, as statsmodels' own future default);
- tables: ``coefficients`` (name, coef, std_err, t or z, p, ci_low, ci_high);
- texts: ``summary`` (``results.summary()``).

**The model**: statsmodels results pickle, which a team store refuses without trust. A linear
model (OLS, WLS, GLS, Logit, Probit, GLM without offset or exposure) on plain exog, or on a
formula whose terms are numeric columns, categorical columns (``g`` or ``C(g)``, treatment or
any contrast patsy computed) and their interactions, is saved instead as JSON: its
coefficients and the recipe of its design matrix (no formula code is evaluated on load). It
loads as a :class:`LinearPredictor` whose ``predict(df)`` equals ``results.predict(df)``. The
recipe is checked against the design matrix the model was fitted on; anything else (a
transform such as ``np.log(x)`` or ``center(x)``, ARIMA, mixed models) returns None from
``save``, so the results are stored as a pickle, loaded on a team store only with trust.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import warnings
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .base import Flavor, ModelFacts

SUPPORTED = ">=0.13,<0.16"
# Results objects already described: a cell that only reads one records nothing for it.
_DESCRIBED: weakref.WeakSet[Any] = weakref.WeakSet()
_METRICS = ("aic", "bic", "rsquared", "rsquared_adj", "prsquared", "llf", "nobs")
_LINEAR = {"OLS", "WLS", "GLS", "Logit", "Probit", "GLM"}
_LINKS = {"Identity", "Log", "Logit", "Probit", "InversePower", "CLogLog", "InverseSquared"}
_CATEGORICAL = re.compile(r"^C\((\w+)\)$")


def _results_of(obj: Any) -> Any:
    """The fitted results inside ``obj`` (statsmodels hands out a wrapper), or None."""
    from statsmodels.base.model import Results  # type: ignore[import-untyped,unused-ignore]

    results = getattr(obj, "_results", obj)
    return results if isinstance(results, Results) else None


def _finite(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _params(results: Any) -> dict[str, Any]:
    model = results.model
    out: dict[str, Any] = {"model_class": type(model).__name__}
    formula = getattr(model, "formula", None)
    if isinstance(formula, str):
        out["formula"] = formula
    if isinstance(getattr(results, "cov_type", None), str):
        out["cov_type"] = results.cov_type
    family = getattr(model, "family", None)
    if family is not None:
        out["family"] = type(family).__name__
        out["link"] = type(family.link).__name__
    return out


def _metrics(results: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    for key in _METRICS:
        # A GLM's bic: the likelihood one, as statsmodels' own future default (no warning).
        attr = "bic_llf" if key == "bic" and hasattr(type(results), "bic_llf") else key
        try:
            value = _finite(getattr(results, attr))
        except Exception:  # a statistic this model does not define (or cannot compute)
            continue
        if value is not None:
            out[key] = value
    return out


def _coefficients(results: Any) -> dict[str, Any] | None:
    params = np.asarray(results.params, dtype=float)
    if params.ndim != 1:  # several equations (MNLogit): no single table
        return None
    names = list(getattr(results.model, "exog_names", None) or range(len(params)))
    if len(names) != len(params):
        names = [str(i) for i in range(len(params))]
    stat = "t" if getattr(results, "use_t", False) else "z"
    columns = ["name", "coef", "std_err", stat, "p", "ci_low", "ci_high"]
    try:
        ci = np.asarray(results.conf_int(), dtype=float)
        cols = [params, results.bse, results.tvalues, results.pvalues, ci[:, 0], ci[:, 1]]
    except (AttributeError, NotImplementedError):  # no inference (fit_regularized): coefs only
        columns, cols = columns[:2], [params]
    arrays = [np.asarray(c, dtype=float) for c in cols]
    rows = [[str(n), *(_finite(a[i]) for a in arrays)] for i, n in enumerate(names)]
    return {"columns": columns, "rows": rows}


def _describe(name: str, obj: Any) -> ModelFacts | None:
    results = _results_of(obj)
    if results is None or results in _DESCRIBED:
        return None
    # statsmodels warns on some statistics (small samples): not the user's cell output.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = _coefficients(results)
        try:
            texts = {"summary": str(results.summary())}
        except Exception:  # a model without a summary
            texts = {}
        facts = ModelFacts(
            params=_params(results),
            metrics=_metrics(results),
            tables={"coefficients": table} if table is not None else {},
            texts=texts,
        )
    _DESCRIBED.add(results)
    return facts


# -- the linear predictor: a data-only model file ---------------------------------------------


def _factor(factor: Any, info: Any, contrast: Any) -> dict[str, Any] | None:
    """One factor of the design as data: a numeric column, or a categorical column with its
    levels and contrast matrix; None for anything computed (code we would have to run)."""
    code = factor.code
    if info.type == "numerical":
        if not code.isidentifier() or info.num_columns != 1:
            return None
        return {"var": code}
    match = _CATEGORICAL.match(code)
    var = match.group(1) if match else code
    levels = [getattr(v, "item", lambda v=v: v)() for v in info.categories]
    if not var.isidentifier() or contrast is None:
        return None
    if not all(isinstance(v, (str, int, float, bool)) for v in levels):
        return None
    return {"var": var, "levels": levels, "contrast": np.asarray(contrast.matrix).tolist()}


def _design(spec: Any) -> list[dict[str, Any]] | None:
    """The recipe of a patsy design: per term, its factors; None if any is not data."""
    terms = []
    for subterms in spec.term_codings.values():
        for sub in subterms:
            factors = [
                _factor(f, spec.factor_infos[f], sub.contrast_matrices.get(f)) for f in sub.factors
            ]
            if any(f is None for f in factors):
                return None
            terms.append({"factors": factors})
    return terms


def _factor_columns(factor: Mapping[str, Any], frame: Any) -> np.ndarray:
    values = np.asarray(frame[factor["var"]])
    if "levels" not in factor:
        return np.asarray(values, dtype=float)[:, None]
    index = {level: i for i, level in enumerate(factor["levels"])}
    try:
        rows = [index[v.item() if hasattr(v, "item") else v] for v in values]
    except KeyError as e:
        raise ValueError(
            f"column {factor['var']!r} has the level {e.args[0]!r}, unseen in training "
            f"(known: {factor['levels']})"
        ) from None
    return np.asarray(factor["contrast"], dtype=float)[rows]


def _design_matrix(terms: Sequence[Mapping[str, Any]], frame: Any) -> np.ndarray:
    """The design matrix of ``frame``, column for column as patsy builds it (the left-most
    factor of a term varies fastest)."""
    n = len(frame)
    blocks = []
    for term in terms:
        parts = [_factor_columns(f, frame) for f in term["factors"]]
        for combo in itertools.product(*(range(p.shape[1]) for p in reversed(parts))):
            column = np.ones(n)
            for part, j in zip(parts, reversed(combo), strict=True):
                column = column * part[:, j]
            blocks.append(column)
    # Column-major, as patsy's: np.dot then sums in the same order (identical predictions).
    return np.asfortranarray(np.column_stack(blocks)) if blocks else np.empty((n, 0))


def _inverse_link(link: str, eta: np.ndarray) -> np.ndarray:
    if link == "Identity":
        return eta
    if link == "Log":
        return np.exp(eta)
    if link == "Logit":
        return 1.0 / (1.0 + np.exp(-eta))
    if link == "Probit":
        from scipy.special import ndtr

        return np.asarray(ndtr(eta))
    if link == "CLogLog":
        return 1.0 - np.exp(-np.exp(eta))
    if link == "InverseSquared":
        return 1.0 / np.sqrt(eta)
    return 1.0 / eta  # InversePower


class LinearPredictor:
    """A fitted linear model as data: ``predict(X)`` is the link's inverse of ``X @ params``,
    ``X`` built from a frame by the recorded design (formula models) or taken as the exog."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.model_class: str = spec["model_class"]
        self.formula: str | None = spec.get("formula")
        self.link: str = spec["link"]
        self.columns: list[str] = list(spec["columns"])
        self.params = np.asarray(spec["params"], dtype=float)
        self._design: list[dict[str, Any]] | None = spec.get("design")

    def __repr__(self) -> str:
        what = self.formula or f"{len(self.columns)} exog columns"
        return f"<LinearPredictor {self.model_class} {what}>"

    def exog(self, X: Any) -> np.ndarray:
        if self._design is not None:
            return _design_matrix(self._design, X)
        if hasattr(X, "columns") and set(self.columns) <= set(map(str, X.columns)):
            X = X[self.columns]
        exog = np.asarray(X, dtype=float)
        exog = exog[:, None] if exog.ndim == 1 else exog
        if exog.shape[1] != len(self.params):
            raise ValueError(
                f"{self.model_class} takes {len(self.params)} exog columns "
                f"({', '.join(self.columns)}), got {exog.shape[1]}"
            )
        return exog

    def predict(self, X: Any) -> np.ndarray:
        return _inverse_link(self.link, np.dot(self.exog(X), self.params))


def _link(results: Any) -> str | None:
    name = type(results.model).__name__
    if name not in _LINEAR:
        return None
    if name == "GLM":
        model = results.model
        if (
            getattr(model, "offset", None) is not None
            or getattr(model, "exposure", None) is not None
        ):
            return None
        link = type(model.family.link).__name__
        return link if link in _LINKS else None
    return {"Logit": "Logit", "Probit": "Probit"}.get(name, "Identity")


def _training_frame(data: Any) -> Any:
    frame = data.frame
    labels = getattr(data, "row_labels", None)
    return frame.loc[labels] if labels is not None and len(labels) != len(frame) else frame


def _save(obj: Any) -> tuple[bytes, dict[str, Any]] | None:
    import statsmodels  # type: ignore[import-untyped,unused-ignore]

    results = _results_of(obj)
    link = _link(results) if results is not None else None
    if results is None or link is None:
        return None  # not a linear model: stored as a pickle (trust needed on a team store)
    model = results.model
    params = np.asarray(results.params, dtype=float)
    spec: dict[str, Any] = {
        "model_class": type(model).__name__,
        "link": link,
        "columns": [str(c) for c in model.exog_names],
        "params": params.tolist(),
    }
    design_info = getattr(model.data, "model_spec", None) or getattr(
        model.data, "design_info", None
    )
    if design_info is not None:  # a formula: the design as data, checked on the training rows
        terms = _design(design_info)
        if terms is None:
            return None
        try:
            rebuilt = _design_matrix(terms, _training_frame(model.data))
        except (KeyError, ValueError):
            return None
        if rebuilt.shape != model.exog.shape or not np.array_equal(rebuilt, model.exog):
            return None
        spec.update(formula=getattr(model, "formula", None), design=terms)
    header = {"format": "linear-predictor", "version": 1, "statsmodels": statsmodels.__version__}
    return json.dumps(spec).encode(), header


def _load(payload: bytes, header: Mapping[str, Any]) -> Any:
    if header.get("format") != "linear-predictor":
        raise ValueError(
            f"unknown statsmodels model format {header.get('format')!r}; "
            "upgrade jupyter-mlops to load it"
        )
    return LinearPredictor(json.loads(payload))


FLAVOR = Flavor(
    name="statsmodels",
    module="statsmodels",
    supported=SUPPORTED,
    describe=_describe,
    save=_save,
    load=_load,
)

__all__ = ["FLAVOR", "SUPPORTED", "LinearPredictor"]
