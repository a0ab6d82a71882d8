#!/usr/bin/env bash
# The test command (README, CI): 1) notebooks, package and README in sync and clean, 2) ruff on the package, 3) notebooks as tests, 4) pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

state() { git status --porcelain --untracked-files=all; git diff --no-ext-diff; }
if git rev-parse --git-dir >/dev/null 2>&1; then
  before=$(state)
  nbdev-export
  nbdev-clean
  python tools/readme.py
  after=$(state)
  if [ "$before" != "$after" ]; then
    echo "FAIL: nbdev-export/nbdev-clean/tools/readme.py changed files: notebooks, package and README.md are out of sync, or notebooks are unclean."
    diff <(echo "$before") <(echo "$after") | head -40
    exit 1
  fi
  echo "ok: notebooks, package and README.md in sync, notebooks clean"
else
  echo "not a git checkout: skipping the sync check"
fi
ruff check mylib # the generated package: names undefined or unused, and the like (rules in pyproject.toml)

# Two notebooks at a time, each with its share of the cores: two processes each running torch's default of one thread
# per core would fight over them (on 2 cores that made a training notebook several times slower). Each notebook runs in
# a process of its own (`nbdev-test --n-workers` reuses its workers): a notebook that patches an earlier class (`@patch`
# onto `Learner`) must not leave its own copy of the method to the next notebook in the same process.
workers=2
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(( $(nproc) / workers > 0 ? $(nproc) / workers : 1 ))}
find nbs -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort | xargs -P $workers -n 1 nbdev-test \
  || { echo "FAIL: notebook tests (the failing notebook is named above)"; exit 1; }
python -m pytest -q tests
