#!/usr/bin/env bash
# The main job: promote 02_train_pipeline.ipynb to a gated pipeline and run it end to end on
# the embedded store (<repo>/.mlops): two passing runs (blessed), one bad hyperparameter that a
# gate stops (the blessed model stays), a rollback, and a reproduction of the first run.
# The spec lands in the project's pipelines folder (<repo>/pipelines/ unless pipelines_dir says
# otherwise), where the sidebar, the scheduler and the CLI look, from whichever folder they run.
set -euo pipefail
cd "$(dirname "$0")/.."
mlops() { echo; echo "\$ jupyter-mlops $*"; jupyter-mlops "$@"; }

mlops promote example_notebooks/02_train_pipeline.ipynb --name breast-cancer \
    --gates example_notebooks/gates.yaml \
    --schedule "0 3 * * *" --timeout 10m
mlops run breast-cancer --no-progress
first=$(jupyter-mlops runs -e breast-cancer --limit 1 --json | python3 -c \
    'import json, sys; print(json.load(sys.stdin)["runs"][0]["id"][:12])')
mlops run breast-cancer -p C=0.3 --no-progress

# A deliberately bad hyperparameter: the gates refuse it (exit code 3) and nothing is blessed.
status=0
mlops run breast-cancer -p C=0.0001 --no-progress || status=$?
if [ "$status" -ne 3 ]; then echo "expected the gates to fail (exit 3), got $status"; exit 1; fi

mlops models list breast-cancer
mlops models rollback breast-cancer --reason "demo: the newest blessed model misbehaves"
mlops models show breast-cancer
mlops runs -e breast-cancer
mlops reproduce "$first"
echo
echo "The pipeline spec is $PWD/pipelines/breast-cancer.yaml; gate reports and executed"
echo "notebooks are under $PWD/.mlops/runs/"
