#!/usr/bin/env bash
# The project's one test command (README and .ci/run): installs what the tests need on a
# fresh Debian machine, runs every test, and ends with a plain "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."

# Reference numerics come from Debian's torchvision (tests/fixtures/make_torchvision_fixtures.py).
if ! /usr/bin/python3 -c "import torchvision" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torchvision
  else
    echo "The parity tests need Debian's python3-torchvision: sudo apt-get install -y python3-torchvision" >&2
    exit 1
  fi
fi

log=$(mktemp)
set +e
dotnet test EffNet.MLNet.sln -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E "(Passed|Failed)! +- +Failed: +[0-9]+, Passed: +[0-9]+" "$log" | tail -1 || true)
rm -f "$log"
if [ -n "$summary" ]; then
  failed=$(sed -E 's/.*Failed: +([0-9]+),.*/\1/' <<<"$summary")
  passed=$(sed -E 's/.*Passed: +([0-9]+),.*/\1/' <<<"$summary")
  skipped=$(sed -E 's/.*Skipped: +([0-9]+),.*/\1/' <<<"$summary")
  echo "$passed passed, $failed failed, $skipped skipped"
fi
exit "$status"
