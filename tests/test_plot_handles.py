"""Plotting objects a tracked cell makes are figures, never datasets (issue 19, item 6): an
array of matplotlib Axes (``fig, axes = plt.subplots(1, 2)``, ``df.hist()``) passes for data by
its type alone."""

from __future__ import annotations

import numpy as np

import jupyter_mlops as mlops
from jupyter_mlops.entities import DataRole
from jupyter_mlops.tracking.collect import holds_plot_handles

CELL = """%%track -e plots
fig, ax = plt.subplots()
ax.plot([1, 2, 3])
fig2, axes = plt.subplots(1, 2)
hists = pd.DataFrame({"a": [1, 2, 3]}).hist()
scores = np.arange(5.0)
"""


def test_a_cell_s_axes_are_not_output_datasets(shell) -> None:
    shell.run("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt")
    shell.run("import numpy as np\nimport pandas as pd")
    try:
        shell.run(CELL)
        run = mlops.get_run(mlops.runs(limit=1)["id"].iloc[0])
        outputs = {d.name for d in run.data if d.role is DataRole.OUTPUT}
        assert outputs == {"scores"}  # data still recorded; ax, axes and hists are not
        assert {a.kind for a in run.artifacts} == {"figure"}  # the plots are kept as figures
        # A later cell reading them records no input dataset either.
        shell.run("%%track -e plots\nn = len(axes) + len(hists)")
        again = mlops.get_run(mlops.runs(limit=1)["id"].iloc[0])
        assert not {"axes", "hists"} & {d.name for d in again.data}
    finally:
        shell.run("plt.close('all')")


def test_object_arrays_of_data_stay_data() -> None:
    assert not holds_plot_handles(np.array([{"a": 1}, "text"], dtype=object))
    assert not holds_plot_handles(np.arange(3))
    assert not holds_plot_handles(np.array([], dtype=object))
