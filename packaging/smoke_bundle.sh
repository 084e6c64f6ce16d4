#!/usr/bin/env bash
# Prove a built bundle is self-contained: run a copy of it far from the source tree, with empty
# home/config/data dirs, and check its --version and its --smoke mode.
#   packaging/smoke_bundle.sh dist/operator-desk
set -euo pipefail
bundle=$(cd "${1:-dist/operator-desk}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
expected=$("${PYTHON:-python3}" "$root/packaging/sync_version.py" --print)
sandbox=$(mktemp -d /tmp/operator-desk-smoke.XXXXXX)
trap 'rm -rf "$sandbox"' EXIT
# a copy, so that not even a path relative to the original dist/ can reach the source tree
cp -a "$bundle" "$sandbox/operator-desk"
size=$(du -sh "$bundle" | cut -f1)
bundle="$sandbox/operator-desk"
cd "$sandbox"
export HOME="$sandbox/home" XDG_CONFIG_HOME="$sandbox/config" XDG_DATA_HOME="$sandbox/data"
export XDG_CACHE_HOME="$sandbox/cache" XDG_STATE_HOME="$sandbox/state"
export QT_QPA_PLATFORM=offscreen PYTHONPATH= PYTHONHOME=
mkdir -p "$HOME"

reported=$("$bundle/operator-desk" --version)
if [ "$reported" != "operator-app $expected" ]; then
  echo "bundle: --version says '$reported', operator_app/__init__.py says $expected" >&2
  exit 1
fi
timeout 120 "$bundle/operator-desk" --smoke
echo "bundle: smoke passed from a copy in $sandbox; size $size"
