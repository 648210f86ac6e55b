#!/usr/bin/env bash
# Side-by-side wall time and peak memory of `latdyn kappa` and `phono3py-load` on the same machine
# and thread count: Si-PBEsol (shared/data/si-pbesol), RTA with the tetrahedron method, 300 K.
# Installs phonopy + phono3py into validation/venv with pip.
# Usage: validation/bench_kappa_vs_phono3py.sh [threads] [mesh]   (defaults: 2, 19)
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-2}
N=${2:-19}
D=$(cd ../shared/data/si-pbesol && pwd)
[ -x validation/venv/bin/phono3py-load ] || { python3 -m venv validation/venv && validation/venv/bin/pip install -q phonopy phono3py h5py; }
cargo build --release --quiet
export OMP_NUM_THREADS=$T RAYON_NUM_THREADS=$T
work=$(mktemp -d)
cp "$D/inputs/phono3py_disp.yaml" "$D/fc/fc2.hdf5" "$D/fc/fc3.hdf5" "$work/"
echo "Si ${N}x${N}x${N}, 300 K, RTA, tetrahedron, $T threads; phono3py $(validation/venv/bin/python -c 'import phono3py; print(phono3py.__version__)')"
( cd "$work" && /usr/bin/time -f "phono3py: %e s wall, %M kB peak" "$OLDPWD/validation/venv/bin/phono3py-load" phono3py_disp.yaml \
    --mesh $N $N $N --br --ts 300 > phono3py.log ) 2>&1 | tail -1
grep -A1 "^#  *T(K)" "$work/phono3py.log" | tail -1 | sed 's/^/  phono3py κ: /' || true
/usr/bin/time -f "latdyn:   %e s wall, %M kB peak" ./target/release/latdyn --quiet --threads "$T" kappa \
    --cell "$D/inputs/phono3py_disp.yaml" --fc2 "$D/fc/fc2.hdf5" --fc3 "$D/fc/fc3.hdf5" \
    --mesh "$N $N $N" --temperatures 300 --out "$work/latdyn" 2>&1 | grep -E "T =|latdyn:"
rm -rf "$work"
