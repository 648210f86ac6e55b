#!/usr/bin/env bash
# `latdyn converge` against the same meshes run one by one with `latdyn kappa`, side by side in
# one run on the same machine and thread count: Si-PBEsol (shared/data/si-pbesol), κ at 300 K,
# tetrahedron, with --wigner, meshes 8³…19³ (every N). Reports the wall times, their ratio, the
# largest per-mesh difference of κ_P, κ_C, κ_TOT between the series and the single runs, and the
# extrapolated κ with its uncertainty.
# Usage: validation/converge_series_vs_separate.sh [threads] [first] [last]   (defaults: 2, 8, 19)
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-2}
FIRST=${2:-8}
LAST=${3:-19}
cargo build --release --quiet
S=../shared/data/si-pbesol
work=$(mktemp -d)
meshes=""
for n in $(seq "$FIRST" "$LAST"); do meshes="$meshes$n $n $n; "; done
common=(--cell $S/inputs/phono3py_disp.yaml --fc2 $S/fc/fc2.hdf5 --fc3 $S/fc/fc3.hdf5 --temperatures 300 --wigner)
echo "== series: latdyn converge, meshes $FIRST³…$LAST³, $T threads"
/usr/bin/time -f "  converge: %e s wall, %M kB peak" ./target/release/latdyn --quiet --threads "$T" converge \
  "${common[@]}" --quantity kappa --meshes "$meshes" --out "$work/series" 2>&1 | grep -E "converge:|reused|verdict|converged" || true
series_s=$(python3 -c "import json; print(json.load(open('$work/series/converge.json'))['wall_time_s'])")
echo "== the same meshes one by one: latdyn kappa (plots on, as a user runs it), then with --no-plots"
start=$(date +%s.%N)
for n in $(seq "$FIRST" "$LAST"); do
  ./target/release/latdyn --quiet --threads "$T" kappa "${common[@]}" --mesh "$n $n $n" --out "$work/k$n" > /dev/null
done
mid=$(date +%s.%N)
for n in $(seq "$FIRST" "$LAST"); do
  ./target/release/latdyn --quiet --threads "$T" kappa "${common[@]}" --mesh "$n $n $n" --no-plots --out "$work/np$n" > /dev/null
done
end=$(date +%s.%N)
python3 - "$work" "$FIRST" "$LAST" "$series_s" "$start" "$mid" "$end" <<'EOF'
import json, sys
work, first, last, series_s, start, mid, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *map(float, sys.argv[4:])
c = json.load(open(f"{work}/series/converge.json"))
worst = 0.0
for m in c["meshes"]:
    n = m["mesh"][0]
    k = json.load(open(f"{work}/k{n}/kappa.json"))
    b = m["detail"]["by_delta"][0]
    for key in ("kappa_p", "kappa_c", "kappa_total"):
        for x, y in zip(b[key][0], k[key][0]):
            worst = max(worst, abs(x - y) / max(abs(y), 1e-300) if y else abs(x))
sep, sep_np = mid - start, end - mid
print(f"  separate runs: {sep:.2f} s (with plots), {sep_np:.2f} s (--no-plots); series {series_s:.2f} s")
print(f"  ratio separate/series: {sep / series_s:.2f} (with plots), {sep_np / series_s:.2f} (--no-plots)")
print(f"  largest relative difference of κ_P, κ_C, κ_TOT per mesh, series vs single runs: {worst:.1e}")
for r in c["scalars"]:
    if r["name"] in ("kappa_total xx 300K", "kappa_p xx 300K", "kappa_c xx 300K"):
        e = r["extrapolation"]
        print(f"  {r['name']}: limit {e['limit']:.3f} ± {e['uncertainty']:.3f} W/(m·K) (fit {e['fit_error']:.3f}, "
              f"without the coarsest mesh {e['model_spread']:.3f}); finest {r['values'][-1]:.3f}")
print("  verdict:", c["verdict"]["message"])
print("  phonon points reused / solved:", c["phonon_points"]["reused"], "/", c["phonon_points"]["solved"])
EOF
echo "== smearing series: tetrahedron + Gaussian σ = 0.05 0.1 0.2 THz on 11³, 14³, 16³ in one series vs 12 single runs"
sm="11 11 11; 14 14 14; 16 16 16"
./target/release/latdyn --quiet --threads "$T" converge "${common[@]}" --quantity kappa --meshes "$sm" \
  --smearing-series "0.05 0.1 0.2" --no-plots --out "$work/smear" > /dev/null
start=$(date +%s.%N)
for n in 11 14 16; do
  ./target/release/latdyn --quiet --threads "$T" kappa "${common[@]}" --mesh "$n $n $n" --no-plots --out "$work/s$n-t" > /dev/null
  for s in 0.05 0.1 0.2; do
    ./target/release/latdyn --quiet --threads "$T" kappa "${common[@]}" --mesh "$n $n $n" --smearing $s --no-plots --out "$work/s$n-$s" > /dev/null
  done
done
end=$(date +%s.%N)
python3 - "$work" "$start" "$end" <<'EOF2'
import json, sys
work, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
c = json.load(open(f"{work}/smear/converge.json"))
worst = 0.0
for m in c["meshes"]:
    n = m["mesh"][0]
    for d, tag in enumerate(["t", "0.05", "0.1", "0.2"]):
        k = json.load(open(f"{work}/s{n}-{tag}/kappa.json"))
        for key in ("kappa_p", "kappa_c", "kappa_total"):
            for x, y in zip(m["detail"]["by_delta"][d][key][0], k[key][0]):
                worst = max(worst, abs(x - y) / abs(y) if y else abs(x))
print(f"  series {c['wall_time_s']:.2f} s, single runs {end - start:.2f} s: ratio {(end - start) / c['wall_time_s']:.2f}; largest relative difference {worst:.1e}")
for s in c["smearing_series"]:
    r = s["kappa_total_limits"][0]
    print(f"  {json.dumps(s['delta'])}: κ_TOT xx 300 K per mesh {[round(v, 3) for v in r['values']]}")
EOF2
rm -rf "$work"
