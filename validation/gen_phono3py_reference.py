"""Reference values from phono3py for the tests (tests/data/si_pbesol_*_m111111.json): direct LBTE,
boundary scattering, the normal/umklapp split of Γ and isotope scattering.

Runs phono3py (the pip wheel in validation/venv, 4.9.0) on shared/data/si-pbesol with its
fc2.hdf5/fc3.hdf5 (phono3py 4.8.2 force constants), 11x11x11:
  lbte:                phono3py-load phono3py_disp.yaml --mesh 11 11 11 --lbte --ts 100 300 700
  boundary0.1um:       ... --br --bmfp 0.1 --ts 100 300
  nu:                  ... --br --nu --ts 100 300
  isotope:             ... --br --isotope --ts 300
  isotope_gaussian0.1: ... --br --isotope --sigma 0.1 --ts 300
each (but the Gaussian one) with --average-degenerate-weights: the tetrahedron weights averaged
over degenerate bands at q' and q'', which makes Γ independent of the eigenvector basis chosen
inside degenerate subspaces. latdyn averages |V|² over those bands instead, which gives the same
sum; phono3py's default (no average, its own basis choice) differs from both by up to 3.6 % for
single modes. Usage: validation/venv/bin/python validation/gen_phono3py_reference.py
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import phono3py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(ROOT, "..", "shared", "data", "si-pbesol")
LOAD = os.path.join(os.path.dirname(sys.executable), "phono3py-load")
AVERAGE = ["--average-degenerate-weights"]


def run(flags, tag):
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(os.path.join(DATA, "inputs", "phono3py_disp.yaml"), tmp)
        for f in ("fc2.hdf5", "fc3.hdf5"):
            shutil.copy(os.path.join(DATA, "fc", f), tmp)
        cmd = [LOAD, "phono3py_disp.yaml", "--mesh", "11", "11", "11"] + flags
        subprocess.run(cmd, cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        # With --sigma the file is kappa-m111111-s0.1.hdf5.
        (name,) = [f for f in os.listdir(tmp) if f.startswith("kappa-m111111")]
        with h5py.File(os.path.join(tmp, name)) as h:
            out = {
                "source": f"phono3py {phono3py.__version__} (pip): phono3py-load phono3py_disp.yaml "
                + " ".join(cmd[2:])
                + ", shared/data/si-pbesol inputs with fc/fc2.hdf5 and fc/fc3.hdf5",
                "temperature_K": h["temperature"][:].tolist(),
                "kappa_Wm-1K-1_voigt_xx_yy_zz_yz_xz_xy": h["kappa"][:].tolist(),
                "weight": h["weight"][:].tolist(),
                "grid_point": h["grid_point"][:].tolist(),
            }
            if "kappa_RTA" in h:
                out["kappa_RTA_Wm-1K-1_voigt_xx_yy_zz_yz_xz_xy"] = h["kappa_RTA"][:].tolist()
            for name in ("gamma", "gamma_N", "gamma_U"):
                if name in h:
                    out[name + "_THz_per_T"] = h[name][:].tolist()
            if "gamma_isotope" in h:
                out["gamma_isotope_THz"] = h["gamma_isotope"][:].tolist()
    path = os.path.join(ROOT, "tests", "data", f"si_pbesol_{tag}_m111111.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", path, [k[0] for k in out["kappa_Wm-1K-1_voigt_xx_yy_zz_yz_xz_xy"]])


run(["--lbte", "--ts", "100", "300", "700"] + AVERAGE, "lbte")
run(["--br", "--bmfp", "0.1", "--ts", "100", "300"] + AVERAGE, "boundary0.1um")
run(["--br", "--nu", "--ts", "100", "300"] + AVERAGE, "nu")
run(["--br", "--isotope", "--ts", "300"] + AVERAGE, "isotope")
run(["--br", "--isotope", "--sigma", "0.1", "--ts", "300"], "isotope_gaussian0.1")
