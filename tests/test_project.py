"""The project: one place finds the root, the store and the pipelines, monitors and outputs
folders; every front-end asks it, from whichever folder it runs in."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli import main
from jupyter_mlops.exceptions import ConfigError
from jupyter_mlops.project import find_project

from .conftest import python_env

PACKAGE = Path(mlops.__file__).parent
NOTEBOOKS = Path(__file__).parent / "notebooks"


def _project_root(tmp_path: Path, settings: str = "") -> Path:
    """A project at ``tmp_path`` (a pyproject.toml marks its root) with a ``notebooks/``
    subfolder holding train_ok.ipynb."""
    (tmp_path / "pyproject.toml").write_text(f"[tool.jupyter_mlops]\n{settings}")
    (tmp_path / "notebooks").mkdir()
    shutil.copy(NOTEBOOKS / "train_ok.ipynb", tmp_path / "notebooks" / "train_ok.ipynb")
    return tmp_path


# -- resolution ------------------------------------------------------------------------------


def test_each_folder_defaults_under_the_root_and_outputs_beside_the_store(tmp_path: Path) -> None:
    root = _project_root(tmp_path)
    project = find_project(root / "notebooks")
    assert project.root == root
    assert project.pipelines_dir == root / "pipelines"
    assert project.monitors_dir == root / "monitors"
    assert project.outputs_dir == root / ".mlops" / "runs"  # the test's store is <root>/.mlops
    elsewhere = find_project(root, store=tmp_path / "other-store")
    assert elsewhere.outputs_dir == (tmp_path / "other-store" / "runs").resolve()
    # A server store keeps its local files (locks, run outputs) in <root>/.mlops.
    team = find_project(root, store="postgresql://mlops@db.example/mlops")
    assert team.store_dir == root / ".mlops" and team.outputs_dir == root / ".mlops" / "runs"


def test_argument_beats_environment_beats_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project_root(
        tmp_path, 'pipelines_dir = "flows"\nmonitors_dir = "watch"\noutputs_dir = "out"\n'
    )
    sub = root / "notebooks"
    monkeypatch.chdir(sub)  # relative settings are the project's, not the working folder's
    project = find_project()
    assert (project.pipelines_dir, project.monitors_dir, project.outputs_dir) == (
        root / "flows",
        root / "watch",
        root / "out",
    )
    monkeypatch.setenv("JUPYTER_MLOPS_PIPELINES_DIR", "env-flows")
    monkeypatch.setenv("JUPYTER_MLOPS_OUTPUTS_DIR", str(tmp_path / "abs-out"))
    project = find_project()
    assert project.pipelines_dir == root / "env-flows"
    assert project.outputs_dir == tmp_path / "abs-out"
    assert project.monitors_dir == root / "watch"  # still pyproject's
    # A flag (the argument level) is read as the user typed it: against the working folder.
    flagged = find_project(pipelines_dir="here", monitors_dir=root / "m")
    assert flagged.pipelines_dir == sub / "here" and flagged.monitors_dir == root / "m"


@pytest.mark.parametrize(
    "line, expected",
    [
        ("pipelines_dir = 3", "pipelines_dir .* must be a folder path, got 3"),
        ('monitors_dir = ""', "monitors_dir .* must be a folder path"),
        ('outputs_dir = "notes.txt"', "outputs_dir .* is .*notes.txt, which is a file"),
    ],
)
def test_a_bad_folder_setting_is_one_line(tmp_path: Path, line: str, expected: str) -> None:
    root = _project_root(tmp_path, line + "\n")
    (root / "notes.txt").write_text("")
    with pytest.raises(ConfigError, match=expected) as err:
        find_project(root)
    assert "\n" not in str(err.value)


def test_a_bad_folder_setting_is_a_usage_error_of_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _project_root(tmp_path)
    monkeypatch.setenv("JUPYTER_MLOPS_MONITORS_DIR", str(tmp_path / "pyproject.toml"))
    assert main(["schedule", "list"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("jupyter-mlops: error: monitors_dir") and "which is a file" in err
    assert "\n" not in err


# -- front-ends agree --------------------------------------------------------------------------


def test_the_cli_run_from_a_subfolder_sees_the_roots_pipelines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project_root(tmp_path)
    monkeypatch.chdir(root / "notebooks")  # as demo.sh's user might
    assert main(["promote", "train_ok.ipynb", "--schedule", "0 3 * * *", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["path"] == str(root / "pipelines" / "train_ok.yaml")
    assert not (root / "notebooks" / "pipelines").exists()
    monkeypatch.chdir(root)
    assert main(["schedule", "list", "--json"]) == 0
    assert [s["pipeline"] for s in json.loads(capsys.readouterr().out)] == ["train_ok"]
    # The same from a fresh process started in the subfolder, as a user's shell would.
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops", "schedule", "list", "--json"],
        cwd=root / "notebooks",
        env=python_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert [s["pipeline"] for s in json.loads(done.stdout)] == ["train_ok"]


def test_a_pipeline_kernel_finds_the_runners_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import nbformat

    root = _project_root(tmp_path, 'monitors_dir = "watch"\n')
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import jupyter_mlops as mlops\n"
            "from jupyter_mlops.project import find_project\n"
            "mlops.log_params({k: str(v) for k, v in find_project().paths().items()})"
        ),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Py"}
    nbformat.write(nb, root / "notebooks" / "where.ipynb")
    monkeypatch.chdir(root / "notebooks")
    # A flag is the runner's alone: the kernel, started in notebooks/, must still see it.
    flag = ["--pipelines-dir", "../flows"]
    assert main(["promote", "where.ipynb", "--timeout", "5m", *flag]) == 0
    assert (root / "flows" / "where.yaml").is_file()
    capsys.readouterr()
    assert main(["run", "where", "--no-progress", "--json", *flag]) == 0
    run = json.loads(capsys.readouterr().out)["run"]
    mine = find_project(pipelines_dir=root / "flows")
    assert {k: run["params"][k] for k in mine.paths()} == mine.paths()
    assert mine.monitors_dir == root / "watch"
    assert (mine.outputs_dir / run["id"] / "output.ipynb").is_file()


# -- nothing else computes a path ------------------------------------------------------------

# Names of the project's folders: joined onto a path anywhere but project.py and config.py,
# they are a second default.
FOLDER_NAMES = {"pipelines", "monitors", "outputs", "runs", ".mlops"}
PATH_CALLS = {"Path", "PurePath", "join"}
OWNERS = {"project.py", "config.py"}


def path_literals(source: str) -> list[int]:
    """Lines where a folder name is joined onto a path (``x / "runs"``, ``Path("pipelines")``,
    ``os.path.join(.., "monitors")``) or is a default (of a ``*_dir`` parameter, of an
    option), and where the root is looked for by hand."""

    def folder(node: ast.AST | None) -> bool:
        return isinstance(node, ast.Constant) and node.value in FOLDER_NAMES

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            if folder(node.left) or folder(node.right):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in PATH_CALLS and any(folder(a) for a in node.args):
                lines.append(node.lineno)
            elif any(k.arg == "default" and folder(k.value) for k in node.keywords):
                lines.append(node.lineno)  # e.g. add_argument("--pipelines-dir", default=...)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = [*node.args.posonlyargs, *node.args.args]
            pairs = [
                *zip(args[len(args) - len(node.args.defaults) :], node.args.defaults, strict=True),
                *zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True),
            ]
            lines += [d.lineno for a, d in pairs if a.arg.endswith("_dir") and folder(d)]
        elif isinstance(node, ast.Name) and node.id == "find_project_root":
            lines.append(node.lineno)
    return lines


def test_no_module_but_the_project_builds_a_project_path() -> None:
    found = {
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in PACKAGE.rglob("*.py")
        if path.name not in OWNERS or path.parent != PACKAGE
        for line in path_literals(path.read_text(encoding="utf-8"))
    }
    assert found == set(), "take these paths from the Project (jupyter_mlops/project.py)"


@pytest.mark.parametrize(
    "planted",
    [
        'out = store.workdir / "runs" / run_id',
        'd = Path("pipelines")',
        'p = os.path.join(root, ".mlops")',
        'def f(monitors_dir="monitors"): ...',
        "root = find_project_root()",
        'p.add_argument("--pipelines-dir", default="pipelines")',
    ],
)
def test_the_scan_catches_a_planted_path(planted: str) -> None:
    assert path_literals(planted) == [1]
    assert path_literals('key = "runs"\nrows = d["pipelines"]') == []  # not paths
