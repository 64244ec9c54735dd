#!/usr/bin/env bash
# Sets everything up, builds a demo gallery from the shared test photos (or generated
# ones when they are absent) and serves it, so a new user sees the gallery in one step.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --demo  # the browser and WordNet are for the tests only
exec .venv/bin/homegallery demo "${@}"
