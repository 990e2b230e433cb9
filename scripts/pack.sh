#!/usr/bin/env bash
# Packs the libraries (EffNet.MLNet, EffNet.MLNet.AspNetCore, EffNet.MLNet.FineTuning) into a local
# NuGet feed, all with one version, and prints how to reference them.
#
#   bash scripts/pack.sh [FEED]               # FEED default: ~/.cache/effnet/feed (per user)
#   EFFNET_PACKAGE_VERSION=0.3.0-x bash scripts/pack.sh FEED
#
# Every pack gets a version of its own (<csproj version>-local.<UTC time>), so a restore never takes
# a stale package of the same version from the NuGet cache. The last line printed is the version.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
feed="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/effnet/feed}"
base="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/src/EffNet.MLNet/EffNet.MLNet.csproj" | head -1)"
version="${EFFNET_PACKAGE_VERSION:-$base-local.$(date -u +%Y%m%d%H%M%S)}"
mkdir -p "$feed"
feed="$(cd "$feed" && pwd)"
# Build in a scratch folder so packing never touches the checkout's bin/ and obj/.
build="$(mktemp -d "${TMPDIR:-/tmp}/effnet-pack.XXXXXX")"
trap 'rm -rf "$build"' EXIT
for project in EffNet.MLNet EffNet.MLNet.AspNetCore EffNet.MLNet.FineTuning; do
  dotnet pack "$root/src/$project/$project.csproj" -c Release -o "$feed" \
    --artifacts-path "$build" -p:Version="$version" -nologo -v quiet >&2
done
cat >&2 <<TEXT
Packed EffNet.MLNet, EffNet.MLNet.AspNetCore and EffNet.MLNet.FineTuning $version into $feed
In your app's folder:
  dotnet new nugetconfig
  dotnet nuget add source "$feed" --name effnet-local --configfile nuget.config
  dotnet add package EffNet.MLNet --version $version
TEXT
echo "$feed"
echo "$version"
