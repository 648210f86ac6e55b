#!/usr/bin/env bash
# Side-by-side wall time and peak memory of `latdyn kappa` and `phono3py-load` on the same machine
# and thread count, RTA with the tetrahedron method at 300 K:
#   Si-PBEsol (shared/data/si-pbesol), mesh N×N×N (default 19), and
#   AlN-LDA (shared/data/aln-lda: fc3 3×3×2, fc2 5×5×3, BORN), mesh 12×12×8.
# Installs phonopy + phono3py into validation/venv with pip.
# Usage: validation/bench_kappa_vs_phono3py.sh [threads] [si_mesh] [rta|lbte]   (defaults: 2, 19, rta)
# With `lbte` both codes solve the linearized BTE directly (phono3py --lbte, latdyn --lbte).
# phono3py runs with --average-degenerate-weights: the basis-independent Γ that latdyn computes
# (without it phono3py's single-mode Γ depend on its eigenvector basis in degenerate subspaces).
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-2}
N=${2:-19}
MODE=${3:-rta}
case $MODE in
  rta) P3FLAG="--br --average-degenerate-weights"; LDFLAG=() ;;
  lbte) P3FLAG="--lbte --average-degenerate-weights"; LDFLAG=(--lbte) ;;
  *) echo "mode must be rta or lbte" >&2; exit 2 ;;
esac
root=$(pwd)
[ -x validation/venv/bin/phono3py-load ] || { python3 -m venv validation/venv && validation/venv/bin/pip install -q phonopy phono3py h5py; }
cargo build --release --quiet
export OMP_NUM_THREADS=$T RAYON_NUM_THREADS=$T
echo "phono3py $(validation/venv/bin/python -c 'import phono3py; print(phono3py.__version__)'), $T threads, $MODE"
bench() { # name yaml mesh files...
  local name=$1 yaml=$2 mesh=$3; shift 3
  local work; work=$(mktemp -d)
  cp "$@" "$work/"
  echo "== $name, mesh $mesh"
  ( cd "$work" && /usr/bin/time -f "  phono3py: %e s wall, %M kB peak" "$root/validation/venv/bin/phono3py-load" \
      "$(basename "$yaml")" --mesh $mesh $P3FLAG --ts 300 > phono3py.log ) 2>&1 | tail -1
  grep -A1 "^#  *T(K)" "$work/phono3py.log" | tail -1 | sed 's/^/  phono3py κ (xx yy zz yz xz xy): /'
  local born=(); [ -f "$work/BORN" ] && born=(--born "$work/BORN")
  /usr/bin/time -f "  latdyn:   %e s wall, %M kB peak" ./target/release/latdyn --quiet --threads "$T" kappa \
      --cell "$work/$(basename "$yaml")" --fc2 "$work/fc2.hdf5" --fc3 "$work/fc3.hdf5" "${born[@]}" \
      --mesh "$mesh" --temperatures 300 "${LDFLAG[@]}" --out "$work/latdyn" 2>&1 | grep -E "T =|latdyn:" | sed 's/^  T/  latdyn κ at T/'
  rm -rf "$work"
}
S=../shared/data/si-pbesol
bench "Si-PBEsol" $S/inputs/phono3py_disp.yaml "$N $N $N" $S/inputs/phono3py_disp.yaml $S/fc/fc2.hdf5 $S/fc/fc3.hdf5
A=../shared/data/aln-lda
bench "AlN-LDA (NAC)" $A/phono3py_disp_dimfc2.yaml "12 12 8" $A/phono3py_disp_dimfc2.yaml $A/fc2.hdf5 $A/fc3.hdf5 $A/BORN
