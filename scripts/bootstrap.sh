#!/usr/bin/env bash
# Installs what homegallery needs on a Debian machine: system packages through apt and
# a virtual environment in .venv with the package (Rust extension included) built in
# editable mode, so both README commands start from a machine where nothing was set up.
#
#   scripts/bootstrap.sh          everything, for the checks and the tests
#   scripts/bootstrap.sh --demo   what the gallery needs to run (no browser, no WordNet)
#   --plan                        says what it would install and build, and stops
set -euo pipefail
cd "$(dirname "$0")/.."

demo=0
plan=0
for argument in "$@"; do
  case "$argument" in
    --demo) demo=1 ;;
    --plan) plan=1 ;;
    *) echo "bootstrap: unknown option $argument (use --demo, --plan)" >&2; exit 2 ;;
  esac
done

# ffmpeg: web video and video metadata; libvips42: previews (it pulls libheif for HEIC);
# python3-venv: the environment below. For the tests only: chromium (the browser
# tests), wordnet-base (WordNet 3.0's data.noun, which the test of the ImageNet
# label table regenerates it from), darknet (its classic demo photos, in
# /usr/share/darknet/data, which the object detection tests look at) and
# libimage-exiftool-perl (exiftool, with which the model of HomeGallery's storage
# writes the exif.json HomeGallery would).
APT_PACKAGES=(ffmpeg libvips42 python3-venv)
((demo)) || APT_PACKAGES+=(chromium wordnet-base darknet libimage-exiftool-perl)
# npm: fetches the map's country outlines below (only at install; never at run time).
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done

# The first install compiles the Rust core (about 6 minutes on two cores, more on a
# Raspberry Pi); later ones reuse what cargo built and take seconds.
if [ -x .venv/bin/python ] && .venv/bin/python -c "import homegallery._core" 2>/dev/null; then
  build_note="building and installing homegallery into .venv (the Rust core is rebuilt only where it changed: seconds to a minute)"
else
  build_note="building the Rust core and installing homegallery into .venv: the first build compiles for about 6 minutes on two cores (longer on a Raspberry Pi), with a line each minute"
fi

if ((plan)); then
  echo "bootstrap: system packages: ${APT_PACKAGES[*]} (to install: ${missing[*]:-none})"
  echo "bootstrap: $build_note"
  exit 0
fi

if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "bootstrap: installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Runs a long command and says every minute that it still runs, so a quiet build does
# not look like a hang.
with_ticks() {
  "$@" &
  local pid=$! seconds=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    seconds=$((seconds + 1))
    if ((seconds % 60 == 0)); then
      echo "bootstrap: still building ($((seconds / 60)) min)"
    fi
  done
  wait "$pid"
}

if ! command -v cargo >/dev/null 2>&1; then
  echo "bootstrap: cargo (Rust >= 1.85) is required to build the extension; install it with rustup" >&2
  exit 1
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
echo "bootstrap: $build_note"
started=$SECONDS
with_ticks .venv/bin/python -m pip install -q -e ".[dev]"
echo "bootstrap: homegallery installed in $((SECONDS - started)) s"

# pyvips compiles its binding against the system libvips when libvips-dev is present,
# and that binding and the pyvips-binary wheel share one module file: whichever was
# installed last wins. The wheel's libvips (8.16+, SIMD resampling) makes previews
# about twice as fast, so make sure it is the one in use.
if ! .venv/bin/python -c "import pyvips, sys; sys.exit(not pyvips.at_least_libvips(8, 16))" 2>/dev/null; then
  echo "bootstrap: reinstalling pyvips-binary so pyvips uses its libvips"
  .venv/bin/python -m pip install -q --force-reinstall --no-deps pyvips-binary
fi

# The map's country outlines without a tile server: Natural Earth (public domain) as
# TopoJSON from the world-atlas npm package (ISC), pinned by the tarball's SHA-256 and
# put where the app serves them from; nothing is fetched when the gallery runs.
WORLD_DIR=python/homegallery/web/world
WORLD_PACKAGE=world-atlas@2.0.2
WORLD_SHA256=032e7765f2ce00edaeafec23ff22bc3b77e42987c257da944cc585b452c05b97
if [ ! -f "$WORLD_DIR/countries-50m.json" ]; then
  echo "bootstrap: fetching the map's country outlines ($WORLD_PACKAGE)"
  world_tmp="$(mktemp -d)"
  (cd "$world_tmp" && npm pack --silent "$WORLD_PACKAGE" >/dev/null)
  echo "$WORLD_SHA256  $world_tmp/world-atlas-2.0.2.tgz" | sha256sum --check --quiet
  mkdir -p "$WORLD_DIR"
  tar -xzf "$world_tmp/world-atlas-2.0.2.tgz" -C "$WORLD_DIR" --strip-components=1 \
    package/countries-50m.json package/LICENSE
  rm -rf "$world_tmp"
fi
