#!/usr/bin/env bash
# Side-by-side timing of latdyn and phonopy on the same machine and thread count: frequencies +
# eigenvectors + group velocities on the irreducible points of a mesh (Si 40×40×40; AlN
# 24×24×16 with NAC). Both sides time only that computation (inputs already loaded): latdyn via
# the criterion bench `benches/mesh.rs`, phonopy via `run_mesh` (best of 3). Whole-process times
# (load + compute + writing) are printed as well.
# Installs phonopy into validation/venv with pip. Usage: validation/bench_vs_phonopy.sh [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-2}
D=../shared/data
[ -x validation/venv/bin/python ] || { python3 -m venv validation/venv && validation/venv/bin/pip install -q phonopy h5py; }
export OMP_NUM_THREADS=$T RAYON_NUM_THREADS=$T
cat > /tmp/phonopy_bench.py <<'PY'
import sys, time, phonopy
cell, fc2, born, sc, mesh = sys.argv[1:6]
repeats = int(sys.argv[6]) if len(sys.argv) > 6 else 3
kw = dict(force_constants_filename=fc2, produce_fc=False, log_level=0)
b = None if born == "-" else born
if cell.endswith("yaml"):
    ph = phonopy.load(cell, **kw, is_nac=b is not None, born_filename=b)
else:
    ph = phonopy.load(supercell_matrix=[int(x) for x in sc.split()], unitcell_filename=cell, **kw, born_filename=b)
m = [int(x) for x in mesh.split()]
best = 1e9
for _ in range(repeats):
    t = time.perf_counter()
    ph.run_mesh(m, is_gamma_center=True, with_eigenvectors=True, with_group_velocities=True)
    best = min(best, time.perf_counter() - t)
print(f"{best:.6f} {len(ph.mesh.qpoints)}")
PY
echo "building and running the criterion bench (latdyn)..."
bench=$(cargo bench --quiet --bench mesh 2>/dev/null | grep -E "^mesh/|time:")
cargo build --release --quiet
ms() { # criterion median of benchmark $1, in seconds
  echo "$bench" | grep "mesh/$1 " | grep -o 'time: *\[[^]]*\]' | awk '{v=$4; u=$5; f=(u=="ms")?1e-3:((u=="µs"||u=="us")?1e-6:1); printf "%.6f", v*f}'
}
printf "%-16s %10s %12s %12s %8s\n" case "irr. q" "latdyn (s)" "phonopy (s)" ratio
for case in "si_40x40x40 $D/si-pbesol/inputs/phono3py_disp.yaml $D/si-pbesol/fc/fc2.hdf5 - - 40_40_40" \
            "aln_24x24x16 $D/aln-lda/POSCAR-unitcell $D/aln-lda/fc2.hdf5 $D/aln-lda/BORN 5_5_3 24_24_16"; do
  set -- $case
  read -r tp nq < <(validation/venv/bin/python /tmp/phonopy_bench.py "$2" "$3" "$4" "${5//_/ }" "${6//_/ }")
  tl=$(ms "$1")
  printf "%-16s %10s %12.4f %12.4f %7.1fx\n" "$1" "$nq" "$tl" "$tp" "$(awk -v a="$tp" -v b="$tl" 'BEGIN{print a/b}')"
done
echo "whole processes (load + mesh + DOS + thermal + writing for latdyn; load + mesh for phonopy):"
for case in "$D/si-pbesol/inputs/phono3py_disp.yaml $D/si-pbesol/fc/fc2.hdf5 - - 40_40_40" \
            "$D/aln-lda/POSCAR-unitcell $D/aln-lda/fc2.hdf5 $D/aln-lda/BORN 5_5_3 24_24_16"; do
  set -- $case
  b=(); [ "$3" != - ] && b=(--born "$3")
  sc=(); [ "$4" != - ] && sc=(--supercell "${4//_/ }")
  /usr/bin/time -f "  latdyn  ${5//_/x}: %e s, %M kB" ./target/release/latdyn --threads "$T" --quiet phonons --cell "$1" --fc2 "$2" "${b[@]}" "${sc[@]}" \
     --mesh "${5//_/ }" --no-plots --out /tmp/latdyn-bench >/dev/null
  /usr/bin/time -f "  phonopy ${5//_/x}: %e s, %M kB" validation/venv/bin/python /tmp/phonopy_bench.py "$1" "$2" "$3" "${4//_/ }" "${5//_/ }" 1 >/dev/null
done
