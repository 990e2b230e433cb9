#!/bin/bash
# How process-level sharding scales on this machine: one single-core shard alone, then two shards at
# once on two cores (taskset), B0 with seeded random weights over N generated 400x300 BMP images.
# Each run gets a fresh EFFNET_HOME, so nothing comes from a feature cache. Prints both rates and the ratio.
#   bash benchmarks/shard-scaling.sh            (N=300 by default: 150 images a shard)
set -euo pipefail
N=${N:-300}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet build -c Release "$root/src/EffNet.MLNet.Cli" > "$work/build.log"
effnet=(dotnet "$root/src/EffNet.MLNet.Cli/bin/Release/net10.0/effnet.dll")

python3 - "$work/data" "$N" <<'PY'
import os, random, struct, sys
root, n = sys.argv[1], int(sys.argv[2])
w, h = 400, 300
rng = random.Random(5)
row = (w * 3 + 3) & ~3
for i in range(n):
    folder = os.path.join(root, "even" if i % 2 == 0 else "odd")
    os.makedirs(folder, exist_ok=True)
    pixels = bytes(rng.getrandbits(8) for _ in range(row * h))
    header = b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    with open(os.path.join(folder, f"img-{i:04d}.bmp"), "wb") as f:
        f.write(header + pixels)
PY

# One shard on one core: one run at a time (DOTNET_PROCESSOR_COUNT=1), pinned with taskset.
shard() { # core shard tag
  EFFNET_HOME="$work/home-$3" DOTNET_PROCESSOR_COUNT=1 taskset -c "$1" "${effnet[@]}" featurize \
    --data "$work/data" --out "$work/out-$3" --shard "$2" --random-init --variant b0 > "$work/$3.log"
}
rate() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["rows"], r["seconds"])' "$1"; }

shard 0 0/2 alone
read -r alone_rows alone_s < <(rate "$work/out-alone/part-00000-of-00002.report.json")

start=$(date +%s.%N)
shard 0 0/2 a & shard 1 1/2 b & wait
wall=$(python3 -c "import time; print(time.time() - $start)")
read -r a_rows a_s < <(rate "$work/out-a/part-00000-of-00002.report.json")
read -r b_rows b_s < <(rate "$work/out-b/part-00001-of-00002.report.json")

python3 - "$alone_rows" "$alone_s" "$a_rows" "$a_s" "$b_rows" "$b_s" "$wall" "$(nproc)" <<'PY'
import sys
ar, As, r0, s0, r1, s1, wall, cores = map(float, sys.argv[1:])
one = ar / As
two = (r0 + r1) / max(s0, s1)
print(f"cores on this machine: {int(cores)}")
print(f"one shard alone, one core:  {int(ar)} images in {As:.2f} s featurizing = {one:.1f} images/s")
print(f"two shards at once, a core each: {int(r0 + r1)} images in {max(s0, s1):.2f} s (the slower shard) = {two:.1f} images/s; wall {wall:.1f} s with process start")
print(f"scaling: {two / one:.2f}x (target >= 1.8x)")
PY
