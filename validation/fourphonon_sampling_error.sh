#!/usr/bin/env bash
# Does the sampled four-phonon run's reported κ_P standard error match the actual scatter of κ_P
# over seeds? Runs `latdyn kappa --fc4 --four-phonon sampled` on the FourPhonon SW Si case
# (shared/data/fourphonon-si-inputs, 300 K, adaptive smearing) with SEEDS seeds and SAMPLES
# draws per q and class, and prints the mean κ_P, the standard deviation over seeds, the mean
# reported standard error and the exact value.
#
# usage: validation/fourphonon_sampling_error.sh [MESH] [SAMPLES] [SEEDS]   (default: 5 64 12)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5}
samples=${2:-64}
seeds=${3:-12}
D=../shared/data/fourphonon-si-inputs
cargo build --release --quiet
work=$(mktemp -d)
common=(kappa --cell $D/CONTROL --fc2 $D/FORCE_CONSTANTS_2ND --fc3 $D/FORCE_CONSTANTS_3RD
    --fc4 $D/FORCE_CONSTANTS_4TH --mesh "$n $n $n" --adaptive-smearing 1.0
    --masses Si=28.0855099896 --no-plots)
./target/release/latdyn "${common[@]}" --out "$work/exact" >/dev/null 2>&1
for seed in $(seq 1 "$seeds"); do
    ./target/release/latdyn "${common[@]}" --four-phonon sampled --four-phonon-samples "$samples" \
        --four-phonon-seed "$seed" --out "$work/s$seed" >/dev/null 2>&1
done
python3 - "$work" "$seeds" "$n" "$samples" <<'PY'
import json, statistics as st, sys
w, seeds, n, m = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
k, e = [], []
for s in range(1, seeds + 1):
    d = json.load(open(f"{w}/s{s}/kappa.json"))
    k.append(d["kappa_p"][0][0])
    e.append(d["four_phonon"]["convergence"]["kappa_p_std_error"][0][0])
exact = json.load(open(f"{w}/exact/kappa.json"))["kappa_p"][0][0]
print(f"{n}³, {m} draws per q and class, {seeds} seeds: κ_P mean {st.mean(k):.3f} (exact {exact:.3f}), "
      f"spread over seeds {st.stdev(k):.3f}, mean reported standard error {st.mean(e):.3f} W/(m·K)")
PY
rm -rf "$work"
