#!/usr/bin/env bash
# Side-by-side timing of latdyn and phonopy on the same machine and thread count:
# frequencies + eigenvectors + group velocities on the irreducible points of a mesh.
# Installs phonopy into validation/venv with pip. Usage: validation/bench_vs_phonopy.sh [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-2}
D=../shared/data
[ -x validation/venv/bin/python ] || { python3 -m venv validation/venv && validation/venv/bin/pip install -q phonopy h5py; }
cargo build --release --quiet
export OMP_NUM_THREADS=$T RAYON_NUM_THREADS=$T
run_latdyn() { # cell fc2 born|- supercell mesh
  local b=(); [ "$3" != - ] && b=(--born "$3")
  local sc=(); [ "$4" != - ] && sc=(--supercell "$4")
  /usr/bin/time -f "%e s %M kB" ./target/release/latdyn --threads "$T" --quiet phonons --cell "$1" --fc2 "$2" "${b[@]}" "${sc[@]}" \
     --qpoints "0 0 0" --mesh "$5" --no-plots --out /tmp/latdyn-bench >/dev/null
}
cat > /tmp/phonopy_bench.py <<'PY'
import sys, time, phonopy
cell, fc2, born, sc, mesh = sys.argv[1:6]
t = time.time()
kw = dict(force_constants_filename=fc2, produce_fc=False, log_level=0)
if cell.endswith("yaml"):
    ph = phonopy.load(cell, **kw, is_nac=born != "-", born_filename=None if born == "-" else born)
else:
    ph = phonopy.load(supercell_matrix=[int(x) for x in sc.split()], unitcell_filename=cell, **kw,
                      born_filename=None if born == "-" else born)
t_load = time.time() - t
ph.run_mesh([int(x) for x in mesh.split()], is_gamma_center=True, with_eigenvectors=True, with_group_velocities=True)
print("irreducible q:", len(ph.mesh.qpoints))
print(f"phonopy load {t_load:.2f} s, mesh {time.time() - t - t_load:.2f} s, total {time.time() - t:.2f} s")
PY
for case in "si $D/si-pbesol/inputs/phono3py_disp.yaml $D/si-pbesol/fc/fc2.hdf5 - - 40_40_40" \
            "aln $D/aln-lda/POSCAR-unitcell $D/aln-lda/fc2.hdf5 $D/aln-lda/BORN 5_5_3 24_24_16"; do
  set -- $case
  echo "== $1 mesh ${6//_/ } ($T threads)"
  echo -n "latdyn  (whole run incl. DOS/thermo): "; run_latdyn "$2" "$3" "$4" "${5//_/ }" "${6//_/ }" 2>&1 | tail -1
  /usr/bin/time -f "phonopy process: %e s %M kB" validation/venv/bin/python /tmp/phonopy_bench.py "$2" "$3" "$4" "${5//_/ }" "${6//_/ }"
done
