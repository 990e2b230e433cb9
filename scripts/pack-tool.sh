#!/usr/bin/env bash
# Packs the effnet CLI as a .NET tool into a local NuGet feed and prints how to install it.
#
#   bash scripts/pack-tool.sh [FEED]          # FEED default: ~/.cache/effnet/tool-feed (per user)
#   EFFNET_TOOL_VERSION=0.3.0-x bash scripts/pack-tool.sh FEED
#
# Every pack gets a version of its own (<csproj version>-local.<UTC time>), so `dotnet tool install`
# never picks up a stale package of the same version from the NuGet cache.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
feed="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/effnet/tool-feed}"
base="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/src/EffNet.MLNet.Cli/EffNet.MLNet.Cli.csproj" | head -1)"
version="${EFFNET_TOOL_VERSION:-$base-local.$(date -u +%Y%m%d%H%M%S)}"
mkdir -p "$feed"
feed="$(cd "$feed" && pwd)"
# Build in a scratch folder so packing never touches the checkout's bin/ and obj/.
build="$(mktemp -d "${TMPDIR:-/tmp}/effnet-pack.XXXXXX")"
trap 'rm -rf "$build"' EXIT
rm -f "$feed"/effnet.*.nupkg
dotnet pack "$root/src/EffNet.MLNet.Cli/EffNet.MLNet.Cli.csproj" -c Release -o "$feed" \
  --artifacts-path "$build" -p:Version="$version" -nologo -v quiet >&2
echo "Packed effnet $version into $feed" >&2
echo "Install it with:  dotnet tool install --global --add-source \"$feed\" effnet --version $version" >&2
echo "$feed"
