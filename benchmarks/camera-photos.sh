#!/usr/bin/env bash
# Fills a folder with real camera photographs for `featurize --sets camera --camera-dir DIR` and
# prints the folder (last line of stdout), so this works:
#
#   dir="$(bash benchmarks/camera-photos.sh)"          # DIR default: ${TMPDIR:-/tmp}/effnet-bench-camera
#   bash benchmarks/camera-photos.sh DIR [COUNT]       # COUNT default 512 (at least 256; a multiple of
#                                                      # 256 splits evenly over ML.NET's cursors on 2 cores)
#
# The photographs come from Debian's wallpaper packages (installed with apt-get if missing):
# ukui-wallpapers and lomiri-wallpapers-16.04/-20.04 (Ubuntu's wallpaper-contest photographs), mate-backgrounds.
# Only JPEGs of at least MIN_MP megapixels (default 3) are taken, and never the five UKUI designs
# that were drawn in Photoshop, not photographed. scikit-image's photographs are under 1 MP and
# mostly PNG, so they are no camera set (preprocess-fidelity uses them).
#
# There are far fewer distinct photographs than the 256 a fair stock-chain run needs, so the folder
# holds plain copies, dealt out in turn (0000-a.jpg, 0001-b.jpg, ...) so that any first N files mix
# every photograph. The benchmark counts distinct photographs by content and prints that count with
# every camera figure; this script prints it too.
set -euo pipefail
dir="${1:-${TMPDIR:-/tmp}/effnet-bench-camera}"
count="${2:-512}"
min_mp="${MIN_MP:-3}"
packages=(ukui-wallpapers lomiri-wallpapers lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 mate-backgrounds)
drawn='^(2004default|firstgeneration|rhythm|string|the-mouse)\.jpg$'

if ! [[ "$count" =~ ^[0-9]+$ ]] || (( count < 256 )); then
  echo "camera-photos.sh: COUNT must be a whole number of at least 256, not '$count'." >&2
  exit 3
fi

missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if (( ${#missing[@]} > 0 )); then
  sudo=(); (( EUID == 0 )) || sudo=(sudo)
  echo "installing ${missing[*]} ..." >&2
  "${sudo[@]}" apt-get install -y "${missing[@]}" >&2 \
    || { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y "${missing[@]}" >&2; }
fi

# Distinct photographs: the packages' own JPEG files (links resolved, each file once), big enough.
photos=()
while IFS= read -r f; do
  name="$(basename "$f")"
  [[ "$name" =~ $drawn ]] && continue
  size="$(file -b "$f" | grep -oE '[0-9]+x[0-9]+' | tail -1 || true)"
  [[ -n "$size" ]] || continue
  (( ${size%x*} * ${size#*x} >= min_mp * 1000000 )) && photos+=("$f")
done < <(dpkg -L "${packages[@]}" | grep -iE '\.jpe?g$' | while IFS= read -r f; do [[ -f "$f" ]] && readlink -f "$f"; done | sort -u)

if (( ${#photos[@]} == 0 )); then
  echo "camera-photos.sh: no JPEG of at least $min_mp MP found in ${packages[*]}." >&2
  exit 1
fi

# Only a folder this script made (it leaves a marker) is emptied; any other must be new or empty.
marker="$dir/.effnet-camera-photos"
if [[ -d "$dir" && ! -f "$marker" && -n "$(ls -A "$dir")" ]]; then
  echo "camera-photos.sh: $dir is not empty and was not made by this script; name a new folder." >&2
  exit 3
fi
mkdir -p "$dir"
rm -f "$dir"/*.jpg
touch "$marker"
for (( i = 0; i < count; i++ )); do
  src="${photos[i % ${#photos[@]}]}"
  cp "$src" "$(printf '%s/%04d-%s' "$dir" "$i" "$(basename "$src")")"
done
echo "$count JPEGs in $dir: ${#photos[@]} distinct photographs of at least $min_mp MP, copied in turn." >&2
echo "$dir"
