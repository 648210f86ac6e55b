"""Reference values for the direct LBTE solution, boundary scattering and the normal/umklapp
split of Γ (tests/data).

Runs phono3py (the pip wheel in validation/venv, 4.9.0) on shared/data/si-pbesol with its
fc2.hdf5/fc3.hdf5 (phono3py 4.8.2 force constants), 11x11x11, tetrahedron method:
  lbte:     phono3py-load phono3py_disp.yaml --mesh 11 11 11 --lbte --ts 100 300 700
  boundary: phono3py-load phono3py_disp.yaml --mesh 11 11 11 --br --bmfp 0.1 --ts 100 300
  nu:       phono3py-load phono3py_disp.yaml --mesh 11 11 11 --br --nu --ts 100 300
and stores kappa (and kappa_RTA) as JSON. Usage: validation/venv/bin/python validation/gen_lbte_reference.py
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


def run(flags, tag):
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(os.path.join(DATA, "inputs", "phono3py_disp.yaml"), tmp)
        for f in ("fc2.hdf5", "fc3.hdf5"):
            shutil.copy(os.path.join(DATA, "fc", f), tmp)
        cmd = [LOAD, "phono3py_disp.yaml", "--mesh", "11", "11", "11"] + flags
        subprocess.run(cmd, cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        with h5py.File(os.path.join(tmp, "kappa-m111111.hdf5")) as h:
            out = {
                "source": f"phono3py {phono3py.__version__} (pip): phono3py-load phono3py_disp.yaml "
                + " ".join(cmd[2:])
                + ", shared/data/si-pbesol inputs with fc/fc2.hdf5 and fc/fc3.hdf5",
                "temperature_K": h["temperature"][:].tolist(),
                "kappa_Wm-1K-1_voigt_xx_yy_zz_yz_xz_xy": h["kappa"][:].tolist(),
                "weight": h["weight"][:].tolist(),
            }
            if "kappa_RTA" in h:
                out["kappa_RTA_Wm-1K-1_voigt_xx_yy_zz_yz_xz_xy"] = h["kappa_RTA"][:].tolist()
            if "gamma" in h:
                out["gamma_THz_per_T"] = h["gamma"][:].tolist()
            for name in ("gamma_N", "gamma_U"):
                if name in h:
                    out[name + "_THz_per_T"] = h[name][:].tolist()
                    out["grid_point"] = h["grid_point"][:].tolist()
    path = os.path.join(ROOT, "tests", "data", f"si_pbesol_{tag}_m111111.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", path, out["kappa_Wm-1K-1_voigt_xx_yy_zz_yz_xz_xy"])


run(["--lbte", "--ts", "100", "300", "700"], "lbte")
run(["--br", "--bmfp", "0.1", "--ts", "100", "300"], "boundary0.1um")
run(["--br", "--nu", "--ts", "100", "300"], "nu")
