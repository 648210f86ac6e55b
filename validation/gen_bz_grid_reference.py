"""phono3py/phonopy BZ-grid indices (dense gp_map) for even meshes: the `grid_point` numbering
phono3py writes in kappa files (its BZ grid, type 2). Regenerate: validation/venv/bin/python validation/gen_bz_grid_reference.py"""
import numpy as np, phono3py, json, os, phonopy
from phonopy.phonon.grid import BZGrid
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
D = os.path.join(ROOT, "..", "shared", "data")
cases = {"si-pbesol": ("si-pbesol/inputs/phono3py_disp.yaml", [[8, 8, 8], [6, 6, 6], [11, 11, 11]]),
         "aln-lda": ("aln-lda/phono3py_disp.yaml", [[12, 12, 8], [6, 6, 4]])}
out = {"source": f"phonopy {phonopy.__version__} BZGrid(store_dense_gp_map=True).gp_map (phono3py {phono3py.__version__})", "cases": []}
for k, (y, meshes) in cases.items():
    ph = phono3py.load(os.path.join(D, y), produce_fc=False, log_level=0)
    for m in meshes:
        bz = BZGrid(m, lattice=ph.primitive.cell, symmetry_dataset=ph.primitive_symmetry.dataset, store_dense_gp_map=True)
        out["cases"].append({"data": k, "mesh": m, "n_bz_points": int(len(bz.addresses)), "gp_map": bz.gp_map.tolist()})
with open(os.path.join(ROOT, "tests", "data", "bz_grid_gp_map.json"), "w") as f:
    json.dump(out, f)
