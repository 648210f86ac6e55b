#!/usr/bin/env bash
# `latdyn md adp` on a ~1 GB trajectory: memory must not grow with the file.
# The LJ-argon run (shared/data/lj-argon/md, 1000 frames, 8.3 MB as text) is concatenated
# COPIES times into one extended-XYZ file (atoms do not diffuse, so the joins are ordinary
# frame-to-frame steps), then processed once; peak RSS and wall time come from /usr/bin/time.
# The same command on the 1000-frame file gives the baseline RSS.
# Usage: validation/md_bounded_memory.sh [COPIES=125] [WORKDIR=/tmp/latdyn-md-1gb]
set -euo pipefail
copies=${1:-125}
work=${2:-/tmp/latdyn-md-1gb}
here=$(cd "$(dirname "$0")/.." && pwd)
data="$here/../shared/data/lj-argon"
mkdir -p "$work"
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/latdyn"
xz -dc "$data/md/ar_lj_T10K.extxyz.xz" > "$work/one.extxyz"
big="$work/big.extxyz"
if [ ! -s "$big" ]; then
  for _ in $(seq "$copies"); do cat "$work/one.extxyz"; done > "$big"
fi
size=$(du -BM "$big" | cut -f1)
run() {
  /usr/bin/time -f "%e s wall, %M kB peak RSS" "$bin" --quiet md adp --trajectory "$1" \
    --reference "$data/fc/POSCAR-primitive" --quick --out "$work/out-$2" 2>&1 | tail -3
}
echo "== 1000 frames (8.3 MB)"
run "$work/one.extxyz" one
echo "== $((copies * 1000)) frames ($size)"
run "$big" big
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
a = json.load(open(f"{w}/out-one/md_adp.json")); b = json.load(open(f"{w}/out-big/md_adp.json"))
print(f"U_iso: {a['u_iso_by_atom'][0]:.9f} (1000 frames) vs {b['u_iso_by_atom'][0]:.9f} ({b['n_frames_used']} frames), "
      f"frames per mini-block {b['frames_per_miniblock']}, migrating {len(b['migrating_atoms'])}")
PY
