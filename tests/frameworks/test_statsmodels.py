"""statsmodels results under ``%%track``, with the real framework: the fit statistics, the
coefficients table, the summary, and linear models stored as data (no pickle)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbclient import NotebookClient

import jupyter_mlops as mlops
from jupyter_mlops.frameworks.statsmodels_flavor import LinearPredictor
from jupyter_mlops.model_format import CLOUDPICKLE, NATIVE, dumps, format_of, loads
from jupyter_mlops.registry import ModelRegistry
from tests.conftest import ROOT, run_fresh

SETUP = """
import numpy as np, pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
rng = np.random.default_rng(0)
df = pd.DataFrame({"x": rng.normal(size=120), "g": rng.choice(["a", "b", "c"], 120),
                   "s": rng.choice(["u", "v"], 120)})
df["y"] = 1 + 2 * df.x + (df.g == "b") * 1.5 + rng.normal(size=120)
df["hit"] = (df.y > 1.5).astype(int)
df["count"] = rng.poisson(np.exp(0.3 + 0.4 * df.x))
"""


def _last_run() -> mlops.Run:
    return mlops.get_run(mlops.runs(limit=1)["id"].iloc[0])


def _artifact(run: mlops.Run, name: str) -> bytes:
    art = next(a for a in run.artifacts if a.name == name)
    return mlops.default_tracker().store.artifacts.read_bytes(art.uri, art.sha256)


def test_a_tracked_ols_records_statistics_coefficients_and_summary(shell) -> None:
    shell.run(SETUP)
    shell.run('%%track -e sm\nres = smf.ols("y ~ x + C(g)", data=df).fit()')
    run, res = _last_run(), shell.user_ns["res"]
    assert run.metrics == {
        "aic": res.aic,
        "bic": res.bic,
        "rsquared": res.rsquared,
        "rsquared_adj": res.rsquared_adj,
        "llf": res.llf,
        "nobs": 120.0,
    }
    assert {k: v for k, v in run.params.items() if k.startswith("res.")} == {
        "res.model_class": "OLS",
        "res.formula": "y ~ x + C(g)",
        "res.cov_type": "nonrobust",
    }
    table = json.loads(_artifact(run, "res.coefficients.json"))
    assert table["columns"] == ["name", "coef", "std_err", "t", "p", "ci_low", "ci_high"]
    ci = res.conf_int()
    assert table["rows"] == [
        [name, res.params[name], res.bse[name], res.tvalues[name], res.pvalues[name], *ci.loc[name]]
        for name in ["Intercept", "C(g)[T.b]", "C(g)[T.c]", "x"]
    ]
    summary = _artifact(run, "res.summary.txt").decode()
    assert summary.startswith("                            OLS Regression Results")
    assert "C(g)[T.b]" in summary and "R-squared:" in summary
    assert {a.kind for a in run.artifacts} == {"table", "text"}  # no model without --log-model
    # A cell that only reads the results records nothing for them.
    shell.run("%%track -e sm\nslope = float(res.params['x'])")
    again = _last_run()
    assert not any(k.startswith("res.") for k in again.params) and again.artifacts == ()
    assert "aic" not in again.metrics


@pytest.mark.parametrize("artifact_backend", ["s3"], indirect=True)
def test_the_logged_linear_model_loads_from_a_team_store_without_trust(
    shell, artifact_backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JUPYTER_MLOPS_TRUSTED_PUBLISHERS")  # a pickle would now be refused
    shell.run(SETUP)
    shell.run('%%track -e sm --log-model\nres = smf.ols("y ~ x * C(g) + s", data=df).fit()')
    run = _last_run()
    assert format_of(_artifact(run, "res")) == NATIVE
    store = mlops.default_tracker().store
    assert not store.artifacts.is_local
    ModelRegistry(store).register("sales", mlops.get_run(run.id), "res")
    new = shell.user_ns["df"].sample(40, random_state=3)
    new.to_csv(tmp_path / "new.csv", index=False)
    out = run_fresh(
        "import sys, numpy as np, pandas as pd, jupyter_mlops as mlops\n"
        "model = mlops.load_model('sales', 1)\n"
        "np.save(sys.argv[2], model.predict(pd.read_csv(sys.argv[1])))\n"
        "print(repr(model), 'statsmodels' in sys.modules)",
        str(tmp_path / "new.csv"),
        str(tmp_path / "pred.npy"),
    )
    # Loading the data-only file needs neither trust nor statsmodels.
    assert out.strip() == "<LinearPredictor OLS y ~ x * C(g) + s> False"
    expected = np.asarray(shell.user_ns["res"].predict(pd.read_csv(tmp_path / "new.csv")))
    assert np.load(tmp_path / "pred.npy").tobytes() == expected.tobytes()


MODELS = {
    "logit": 'smf.logit("hit ~ x + g", data=df).fit(disp=0)',
    "probit": 'smf.probit("hit ~ x:s + g", data=df).fit(disp=0)',
    "poisson": 'smf.glm("count ~ x + C(g)", data=df, family=sm.families.Poisson()).fit()',
    "wls": 'smf.wls("y ~ x + g - 1", data=df, weights=np.arange(1, 121)).fit()',
    "exog": 'sm.OLS(df.y, sm.add_constant(df[["x"]])).fit()',
}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_linear_models_predict_identically_after_loading(shell, kind: str) -> None:
    shell.run(SETUP)
    res = shell.run(MODELS[kind])
    data = dumps(res, kind)
    assert format_of(data) == NATIVE
    model = loads(data, what=kind, trusted=False, how_to_trust="")
    assert isinstance(model, LinearPredictor)
    new = shell.user_ns["df"].sample(30, random_state=1)
    if kind == "exog":
        new = shell.run('sm.add_constant(df[["x"]]).sample(30, random_state=1)')
    assert model.predict(new).tobytes() == np.asarray(res.predict(new)).tobytes()


def test_what_the_data_format_cannot_hold_is_a_pickle_and_unseen_levels_are_refused(
    shell,
) -> None:
    shell.run(SETUP)
    # np.log(...) is code: it would have to run at load time, so the results are pickled.
    logged = shell.run('smf.ols("y ~ np.log(x ** 2)", data=df).fit()')
    assert format_of(dumps(logged, "logged")) == CLOUDPICKLE
    res = shell.run('smf.ols("y ~ x + C(g)", data=df).fit()')
    model = loads(dumps(res, "res"), what="res", trusted=False, how_to_trust="")
    with pytest.raises(ValueError, match=r"^column 'g' has the level 'z', unseen in training"):
        model.predict(pd.DataFrame({"x": [0.5], "g": ["z"]}))


def test_the_example_notebook_runs(tmp_path: Path) -> None:
    nb = nbformat.read(ROOT / "example_notebooks" / "frameworks" / "statsmodels.ipynb", 4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    runs = mlops.runs(experiment="statsmodels-sales")
    assert len(runs) == 1
    run = mlops.get_run(runs["id"].iloc[0])
    assert {"aic", "bic", "rsquared", "llf", "nobs"} <= set(run.metrics)
    assert run.params["res.formula"] == "sales ~ x + C(shop)"
    last = nb.cells[-1].outputs[0]["data"]["text/plain"]
    assert last == "(<LinearPredictor OLS sales ~ x + C(shop)>, True)"
