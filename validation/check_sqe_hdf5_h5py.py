"""Opens the sqe.hdf5 of a `latdyn sqe` run with h5py (the library users read it with) and checks
that every dataset matches sqe.json. Usage (from the repository root, after cargo build --release):

    validation/venv/bin/python validation/check_sqe_hdf5_h5py.py
"""
import json
import subprocess
import sys
import tempfile

import h5py
import numpy as np

data = "../shared/data/si-pbesol"
out = tempfile.mkdtemp()
subprocess.run(
    ["./target/release/latdyn", "sqe", "--quiet", "--cell", f"{data}/inputs/phono3py_disp.yaml",
     "--fc2", f"{data}/fc/fc2.hdf5", "--q", "2.2 2 0; 3.1 1.2 1.3", "--energy", "-70 70 0.5",
     "--lineshape", "dho", "--linewidth", "0.5", "--resolution", "1.5", "--no-plots", "--out", out],
    check=True)
doc = json.load(open(f"{out}/sqe.json"))
worst = 0.0
with h5py.File(f"{out}/sqe.hdf5", "r") as h:
    print("datasets:", sorted(h.keys()))
    for key in ["q_cartesian", "frequencies", "intensities", "intensities_anti_stokes", "energies", "spectra"]:
        a, b = np.asarray(h[key]), np.asarray(doc[key])
        if a.shape != b.shape:
            sys.exit(f"{key}: shape {a.shape} in HDF5, {b.shape} in JSON")
        d = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))
        worst = max(worst, d)
        print(f"{key:26s} {str(a.shape):12s} max relative difference {d:.1e}")
print(f"worst {worst:.1e}")
sys.exit(0 if worst < 1e-12 else 1)
