"""The panel's TypeScript types come from Python: ``labextension/src/types.ts`` is what
``jlpm build:types`` generates from the view values' JSON Schema (jupyter_mlops.views.schema,
then json-schema-to-typescript and prettier), so a status or stage added in Python cannot be
missing in the panel: the committed file must be regenerated, and api.ts's exhaustive checks
then fail to compile until the panel handles the new value."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_mlops.entities import GateStatus, ModelStage, RunKind, RunStatus, Severity

ROOT = Path(__file__).resolve().parents[1]
LABEXT = ROOT / "labextension"
BIN = LABEXT / "node_modules" / ".bin"

# A RunStatus member the store does not have, added in a fresh interpreter before the schema
# is generated: the enum class is rebuilt with it, as a new member in entities.py would be.
PLANT = """
import enum, sys
import jupyter_mlops.entities as entities
members = {m.name: m.value for m in entities.RunStatus} | {"QUEUED": "queued"}
entities.RunStatus = enum.Enum("RunStatus", members, type=str)
from jupyter_mlops.views.schema import main
main([sys.argv[1]])
"""


def _json2ts_args() -> list[str]:
    """The json2ts options of package.json's build:types (one place says them)."""
    script = json.loads((LABEXT / "package.json").read_text())["scripts"]["build:types"]
    (step,) = [s for s in script.split(" && ") if s.startswith("json2ts ")]
    args = shlex.split(step)[1:]
    for flag in ("-i", "-o"):
        i = args.index(flag)
        del args[i : i + 2]
    return args


def generate(tmp_path: Path, code: list[str]) -> str:
    """types.ts as build:types writes it, from the schema the Python ``code`` writes."""
    if not (BIN / "json2ts").exists():
        pytest.skip("labextension/node_modules is missing: pip install -e . runs jlpm install")
    schema, raw = tmp_path / "views.schema.json", tmp_path / "types.ts"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, *code, str(schema)], env=env, check=True, timeout=120)
    json2ts = [str(BIN / "json2ts"), "-i", str(schema), "-o", str(raw), *_json2ts_args()]
    subprocess.run(json2ts, cwd=LABEXT, check=True, timeout=120, capture_output=True)
    done = subprocess.run(
        [str(BIN / "prettier"), "--stdin-filepath", "src/types.ts"],
        cwd=LABEXT, input=raw.read_text(), capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return done.stdout


def union(source: str, name: str) -> set[str]:
    found = re.search(rf"export type {name} =([^;]+);", source)
    assert found, f"types.ts has no type {name}"
    return set(re.findall(r"'([^']*)'", found.group(1)))


@pytest.mark.slow
def test_the_committed_types_are_the_generated_ones(tmp_path: Path) -> None:
    fresh = generate(tmp_path, ["-m", "jupyter_mlops.views.schema"])
    committed = (LABEXT / "src" / "types.ts").read_text()
    assert committed == fresh, (
        "labextension/src/types.ts is stale: run `jlpm build:types` in labextension/ and commit"
    )


@pytest.mark.slow
def test_a_status_added_in_python_reaches_the_types(tmp_path: Path) -> None:
    planted = generate(tmp_path, ["-c", PLANT])
    committed = (LABEXT / "src" / "types.ts").read_text()
    assert union(planted, "RunStatus") == {m.value for m in RunStatus} | {"queued"}
    assert "queued" not in union(committed, "RunStatus")  # so the staleness test fails


@pytest.mark.parametrize("enum", [RunStatus, RunKind, ModelStage, GateStatus, Severity])
def test_the_committed_unions_list_the_python_enum_values(enum: type) -> None:
    """Without node: the enums in types.ts are the Python ones, value for value."""
    committed = (LABEXT / "src" / "types.ts").read_text()
    assert union(committed, enum.__name__) == {m.value for m in enum}


@pytest.mark.slow
def test_the_panel_does_not_compile_without_a_chip_for_a_new_status(tmp_path: Path) -> None:
    """With the planted status in types.ts, tsc refuses api.ts until RUN_STATUSES (the chips)
    lists it: the panel cannot ship missing it."""
    import shutil

    planted = generate(tmp_path, ["-c", PLANT])
    # Beside the real sources (node_modules resolves from there), in the ignored lib/ folder.
    copy = LABEXT / "lib" / f"planted-{os.getpid()}"
    shutil.rmtree(copy, ignore_errors=True)
    try:
        shutil.copytree(LABEXT / "src", copy / "src", ignore=shutil.ignore_patterns("__tests__"))
        (copy / "src" / "types.ts").write_text(planted)
        options = {"composite": False, "noEmit": True, "incremental": False, "rootDir": "src"}
        config = {"extends": "../../tsconfig.json", "compilerOptions": options}
        config |= {"include": ["src/*"], "exclude": []}  # lib/ (outDir) is excluded by default
        (copy / "tsconfig.json").write_text(json.dumps(config))
        done = subprocess.run(
            [str(BIN / "tsc"), "-p", str(copy / "tsconfig.json")],
            cwd=LABEXT, capture_output=True, text=True, timeout=270, check=False,
        )  # fmt: skip
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "ALL_STATUSES_HAVE_A_CHIP" in out or "queued" in out, out
    assert [line for line in out.splitlines() if "error TS" in line] == [
        line for line in out.splitlines() if "error TS" in line and "api.ts" in line
    ], out  # only the exhaustive check fails, not something else of the copy
