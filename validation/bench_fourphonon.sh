#!/usr/bin/env bash
# Four-phonon cost of latdyn on the FourPhonon reference case (Stillinger–Weber Si,
# shared/data/fourphonon-si-inputs, 300 K, adaptive smearing scalebroad 1, 3+4 phonon RTA):
# exact enumeration and the sampled estimator, wall and CPU time and peak memory on THREADS
# threads, for the meshes given. FourPhonon's cost on this case (reference-n4/README.md, same
# machine type, 2 MPI ranks): 4×4×4 ≈ 8.5 CPU-minutes (510 CPU-s), 21 MB per rank; 8×8×8 ≈ 20
# CPU-hours. With FOURPHONON=/path/to/ShengBTE (FourPhonon build) it is run beside latdyn on
# the same mesh (mpirun -np THREADS) and timed the same way.
#
# Sampled runs: default rows (drawn first partners beyond small meshes) and, with ALL_ROWS=1,
# every row screened. EXACT=0 skips exact enumeration (12³ takes ≈ 45 CPU-minutes).
#
# usage: [EXACT=0] [ALL_ROWS=1] validation/bench_fourphonon.sh [THREADS] [MESHES...]   (default: 2 4)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
shift || true
meshes=${*:-4}
D=../shared/data/fourphonon-si-inputs
cargo build --release --quiet
work=$(mktemp -d)
measure() { # label, command...
    local label=$1
    shift
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
    read -r wall user sys rss <"$work/time"
    printf "%-28s wall %8.2f s  cpu %8.2f s  peak %7.1f MB\n" "$label" "$wall" "$(echo "$user + $sys" | bc)" "$(echo "$rss / 1024" | bc -l)"
}
for n in $meshes; do
    common=(kappa --cell $D/CONTROL --fc2 $D/FORCE_CONSTANTS_2ND --fc3 $D/FORCE_CONSTANTS_3RD
        --fc4 $D/FORCE_CONSTANTS_4TH --mesh "$n $n $n" --adaptive-smearing 1.0
        --masses Si=28.0855099896 --no-plots)
    export RAYON_NUM_THREADS=$threads
    measure "latdyn 3ph only ${n}³" ./target/release/latdyn kappa --cell $D/CONTROL --fc2 $D/FORCE_CONSTANTS_2ND \
        --fc3 $D/FORCE_CONSTANTS_3RD --mesh "$n $n $n" --adaptive-smearing 1.0 --masses Si=28.0855099896 \
        --no-plots --out "$work/k3_$n"
    if [ "${EXACT:-1}" != 0 ]; then
        measure "latdyn 3+4ph exact ${n}³" ./target/release/latdyn "${common[@]}" --out "$work/ke_$n"
    fi
    measure "latdyn 3+4ph sampled ${n}³" ./target/release/latdyn "${common[@]}" --four-phonon sampled \
        --four-phonon-samples 256 --out "$work/ks_$n"
    if [ "${ALL_ROWS:-0}" != 0 ]; then
        measure "  sampled, every row ${n}³" ./target/release/latdyn "${common[@]}" --four-phonon sampled \
            --four-phonon-samples 256 --four-phonon-rows all --out "$work/ka_$n"
    fi
    python3 - "$work" "$n" <<'PY'
import json, os, sys
w, n = sys.argv[1], sys.argv[2]
load = lambda tag: json.load(open(f"{w}/{tag}_{n}/kappa.json")) if os.path.exists(f"{w}/{tag}_{n}/kappa.json") else None
e, s, a = load("ke"), load("ks"), load("ka")
ref = e or a
for name, r in (("sampled", s), ("sampled, every row", a)):
    if r is None:
        continue
    k, se = r["kappa_p"][0][0], r["four_phonon"]["convergence"]["kappa_p_std_error"][0][0]
    rows = r["four_phonon"]["mode"]["screened_rows_per_q_and_class"]
    line = f"  κ_P 3+4ph {name} ({rows} rows) {k:.2f} ± {se:.2f}"
    if ref is not None and ref is not r:
        line += f" ({100*(k/ref['kappa_p'][0][0]-1):+.3f} % vs {'exact' if e else 'every row'})"
    print(line)
if e:
    print(f"  κ_P 3+4ph exact {e['kappa_p'][0][0]:.2f}, 3ph only {e['kappa_p_3ph'][0][0]:.2f} W/(m·K)")
    print(f"  processes {e['four_phonon']['processes']}")
PY
    if [ -n "${FOURPHONON:-}" ]; then
        mkdir -p "$work/fp_$n"
        cp $D/FORCE_CONSTANTS_* "$work/fp_$n/"
        sed "s/ngrid(:)=4 4 4/ngrid(:)=$n $n $n/" $D/reference-n4/CONTROL >"$work/fp_$n/CONTROL"
        (cd "$work/fp_$n" && measure "FourPhonon ${n}³ (np $threads)" mpirun -np "$threads" "$FOURPHONON")
    fi
done
rm -rf "$work"
