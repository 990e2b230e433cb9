#!/usr/bin/env bash
# Packs EffNet.MLNet into a package feed of this run's own, runs every notebook headless with
# dotnet-repl against it, and checks that each produced its expected outputs. Exits non-zero if any
# notebook fails. The notebooks name /tmp/effnet-mlnet-feed and version 0.1.0 for people who open
# them in VS Code; here each runs as a copy that names this run's feed and version instead, so
# concurrent runs and other users of the machine never see each other's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/artifacts/notebooks"
tools="$root/artifacts/tools"
feed=$(mktemp -d "${TMPDIR:-/tmp}/effnet-notebook-feed.XXXXXX")
version="0.1.0-run.$(date -u +%Y%m%d%H%M%S).$$"
trap 'rm -rf "$feed" "${NUGET_PACKAGES:-$HOME/.nuget/packages}/effnet.mlnet/$version" "${NUGET_PACKAGES:-$HOME/.nuget/packages}/effnet.mlnet.finetuning/$version"' EXIT
mkdir -p "$out" "$tools"

dotnet pack src/EffNet.MLNet -c Release -o "$feed" --nologo -v quiet -p:Version="$version"
dotnet pack src/EffNet.MLNet.FineTuning -c Release -o "$feed" --nologo -v quiet -p:Version="$version"   # notebook 05

if [ ! -x "$tools/dotnet-repl" ]; then
  dotnet tool install --tool-path "$tools" dotnet-repl --version 0.3.259 >/dev/null
fi
export DOTNET_ROLL_FORWARD=Major   # dotnet-repl targets an older runtime than the SDK here

status=0
for source in "$root"/notebooks/*.ipynb; do
  notebook=$(basename "$source")
  echo "== $notebook"
  run="$out/${notebook%.ipynb}.input.ipynb"
  sed -e "s#/tmp/effnet-mlnet-feed#$feed#g" -e "s#EffNet.MLNet, 0.1.0#EffNet.MLNet, $version#g" -e "s#EffNet.MLNet.FineTuning, 0.1.0#EffNet.MLNet.FineTuning, $version#g" "$source" > "$run"
  if ! (cd "$root/notebooks" && "$tools/dotnet-repl" --run "$run" --exit-after-run --output-path "$out/$notebook" > "$out/${notebook%.ipynb}.log" 2>&1); then
    echo "FAILED: $notebook (log: $out/${notebook%.ipynb}.log)"; tail -20 "$out/${notebook%.ipynb}.log"; status=1; continue
  fi
  python3 "$root/notebooks/keep-last-restore-display.py" "$out/$notebook"
  if ! python3 "$root/notebooks/check-outputs.py" "$out/$notebook"; then status=1; fi
  rm -f "$run"
done
echo "Executed notebooks (with their outputs) are in $out"
exit $status
