#!/usr/bin/env bash
# Declare the public API as the code has it now: build the packages that hold their surface with
# Microsoft.CodeAnalysis.PublicApiAnalyzers, and for every symbol the analyzer reports
#   RS0016 (public in the code, not declared)  -> append it to PublicAPI.Unshipped.txt;
#   RS0017 (declared, no longer public)        -> drop it from PublicAPI.Unshipped.txt, or, if it had
#                                                shipped, record it as *REMOVED* there.
# Run it after a merge that adds public members, read `git diff -- '*PublicAPI*.txt'` (every line is
# a deliberate change to what users see), and commit. Building again must then succeed.
set -euo pipefail
cd "$(dirname "$0")/.."

projects=(src/EffNet.MLNet src/EffNet.MLNet.AspNetCore src/EffNet.MLNet.FineTuning)
for round in 1 2 3; do
  changed=0
  for project in "${projects[@]}"; do
    log=$(mktemp)
    # No incremental build: the analyzer must see every file again.
    dotnet build "$project" -c Release --no-incremental -p:TreatWarningsAsErrors=false -warnaserror:RS0016,RS0017 >"$log" 2>&1 || true
    if python3 - "$project" "$log" <<'PY'
import os, re, sys
project, log = sys.argv[1], sys.argv[2]
name = os.path.basename(project.rstrip('/'))
pattern = re.compile(r": (?:error|warning) (RS0016|RS0017): Symbol '(.*)' is (?:not )?part of the declared (?:public )?API.*\[(.*?)\]\s*$")
found = {"RS0016": set(), "RS0017": set()}
for line in open(log, encoding="utf-8", errors="replace"):
    m = pattern.search(line)
    # Only this project's own symbols: a referenced project reports its own.
    if m and os.path.basename(m.group(3)) == name + ".csproj":
        found[m.group(1)].add(m.group(2))
if not found["RS0016"] and not found["RS0017"]:
    sys.exit(1)
unshipped_path = os.path.join(project, "PublicAPI.Unshipped.txt")
shipped = {l.rstrip("\n") for l in open(os.path.join(project, "PublicAPI.Shipped.txt"), encoding="utf-8")}
lines = [l.rstrip("\n") for l in open(unshipped_path, encoding="utf-8")]
header = [l for l in lines if l.startswith("#")]
body = [l for l in lines if l and not l.startswith("#") and l not in found["RS0017"]]
body += sorted(found["RS0016"] - set(body))
body += sorted("*REMOVED*" + s for s in found["RS0017"] if s in shipped and "*REMOVED*" + s not in body)
with open(unshipped_path, "w", encoding="utf-8", newline="\n") as f:
    f.write("\n".join((header or ["#nullable enable"]) + sorted(set(body), key=str.casefold)) + "\n")
print(f"{unshipped_path}: {len(found['RS0016'])} added, {len(found['RS0017'])} removed")
PY
    then changed=1; fi
    rm -f "$log"
  done
  [ "$changed" = 0 ] && break
done

# What remains must build cleanly with warnings as errors.
for project in "${projects[@]}"; do
  if ! out=$(dotnet build "$project" -c Release 2>&1); then
    echo "$out" | grep -E "error" | sort -u | head -20
    echo "update-public-api: $project still does not build (see above)." >&2
    exit 1
  fi
done
echo "update-public-api: the declared public API matches the code; review: git diff -- '*PublicAPI*.txt'"
