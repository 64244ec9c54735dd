#!/usr/bin/env bash
# Builds what pip installs into dist/: an abi3 wheel for this machine's processor
# (x86-64 or 64-bit ARM), linked by zig against glibc 2.28 so that it installs on any
# Linux from 2018 on (manylinux_2_28, as numpy's and onnxruntime's wheels), and the
# sdist. Extra arguments go to `maturin build` (e.g. `--target aarch64-unknown-linux-gnu`).
set -euo pipefail
cd "$(dirname "$0")/.."

# .venv with maturin and ziglang, and the map's country outlines the wheel carries.
scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

rm -rf dist
echo "build-wheels: compiling the core with whole-program LTO (several minutes)"
maturin build --profile dist --zig --compatibility manylinux_2_28 --out dist "$@"
maturin sdist --out dist
ls -l dist
