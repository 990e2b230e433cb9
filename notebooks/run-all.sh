#!/usr/bin/env bash
# Packs EffNet.MLNet into a local NuGet feed, runs every notebook headless with dotnet-repl, and
# checks that each produced its expected outputs. Exits non-zero if any notebook fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
feed=/tmp/effnet-mlnet-feed   # the absolute path the notebooks name in their #i line
out="$root/artifacts/notebooks"
tools="$root/artifacts/tools"
mkdir -p "$feed" "$out" "$tools"

dotnet pack src/EffNet.MLNet -c Release -o "$feed" --nologo -v quiet
# The version stays 0.1.0 between builds: drop the cached copy so notebooks get this build.
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/effnet.mlnet"

if [ ! -x "$tools/dotnet-repl" ]; then
  dotnet tool install --tool-path "$tools" dotnet-repl --version 0.3.259 >/dev/null
fi
export DOTNET_ROLL_FORWARD=Major   # dotnet-repl targets an older runtime than the SDK here

status=0
cd "$root/notebooks"
for notebook in *.ipynb; do
  echo "== $notebook"
  if ! "$tools/dotnet-repl" --run "$notebook" --exit-after-run --output-path "$out/$notebook" > "$out/${notebook%.ipynb}.log" 2>&1; then
    echo "FAILED: $notebook (log: $out/${notebook%.ipynb}.log)"; tail -20 "$out/${notebook%.ipynb}.log"; status=1; continue
  fi
  if ! python3 "$root/notebooks/check-outputs.py" "$out/$notebook"; then status=1; fi
done
exit $status
