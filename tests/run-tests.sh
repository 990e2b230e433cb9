#!/usr/bin/env bash
# The project's one test command (README and .ci/run): installs what the tests need on a
# fresh Debian machine, runs every test, and ends with a plain "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."

# Reference numerics come from Debian's torchvision (tests/fixtures/make_torchvision_fixtures.py),
# the preprocessing-fidelity photographs from scikit-image's data files (python3-skimage);
# camera photographs from Debian's lomiri-wallpapers score int8 outside its calibration sample;
# the ONNX project's checker (python3-onnx) checks exported classifiers; npm installs
# onnxruntime-node into the test output folder for the outside-runtime check.
missing=()
/usr/bin/python3 -c "import torchvision" >/dev/null 2>&1 || missing+=(python3-torchvision)
/usr/bin/python3 -c "import onnx" >/dev/null 2>&1 || missing+=(python3-onnx)
/usr/bin/python3 -c "import skimage" >/dev/null 2>&1 || missing+=(python3-skimage)
[ -f /usr/share/backgrounds/Dragonfly_by_Bolly.jpg ] || missing+=(lomiri-wallpapers)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  else
    echo "The tests need Debian packages: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

log=$(mktemp)
set +e
# Progress: the console logger at normal verbosity prints each test's result as it finishes.
dotnet test EffNet.MLNet.sln -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One result line per test ("  Passed Name [12 ms]"), over every test project in the solution.
count() { grep -cE "^  $1 " "$log" || true; }
passed=$(count Passed); failed=$(count Failed); skipped=$(count Skipped)
rm -f "$log"
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
