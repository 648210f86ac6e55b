"""Reference one-phonon dynamic structure factors from phonopy for tests/sqe_reference.rs
(tests/data/si_sqe_phonopy.json).

phonopy (validation/venv, DynamicStructureFactor) on shared/data/si-pbesol: unit cell POSCAR-unitcell,
supercell 2x2x2, primitive F, fc2 = fc/fc2.hdf5 (compact). Debye-Waller factors from its thermal
displacement matrices on a Gamma-centred 20x20x20 mesh without symmetry reduction, freq_min 1e-3 THz
(the same cut for the DW sum and the S weights), T = 300 K. X-ray: Waasmaier-Kirfel f0 for Si
(DABAX coefficients, the table latdyn builds in); neutron: b_c(Si) = 4.15071 fm (periodictable, as
latdyn's table). Q is listed in reciprocal-lattice units of the conventional cubic cell and handed to
phonopy in the primitive basis (q_prim = Q_conv @ P, P = primitive matrix F).
Usage: validation/venv/bin/pip install periodictable==2.1.0
       validation/venv/bin/python validation/gen_sqe_reference.py
"""

import json
import os
import warnings

import numpy as np

warnings.simplefilter("ignore")
import periodictable  # noqa: E402
import phonopy  # noqa: E402
from phonopy.spectrum.dynamic_structure_factor import atomic_form_factor_WK1995  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(ROOT, "..", "shared", "data", "si-pbesol")
P = np.array([[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
T = 300.0
MESH = [20, 20, 20]
FMIN = 1e-3

Q_CONV = [
    [2.05, 2.0, 0.0], [2.2, 2.0, 0.0], [2.5, 2.0, 0.0], [3.0, 3.0, 0.0],
    [4.0, 0.1, 0.0], [4.0, 0.5, 0.0], [4.0, 1.0, 0.0], [4.0, 0.0, 0.0],
    [1.1, 1.1, 1.1], [1.5, 1.5, 1.5], [3.1, 1.2, 1.3], [2.13, -0.27, 2.41],
    [7.0, 6.9, 0.0], [7.0, 6.5, 0.0], [7.0, 6.0, 0.0], [7.0, 5.0, 0.0],
    [8.0, 2.3, 1.1], [-3.3, 4.6, 0.7], [0.0, 0.0, 0.3], [5.25, 5.25, 5.25],
]


def wk_si():
    path = os.path.join(os.path.dirname(periodictable.__file__), "f0_WaasKirf.dat")
    lines = open(path).read().splitlines()
    i = next(k for k, l in enumerate(lines) if l.split()[:3] == ["#S", "14", "Si"])
    v = [float(x) for x in next(l for l in lines[i + 1:] if not l.startswith("#")).split()]
    a, c, b = v[0:5], v[5], v[6:11]
    # phonopy's order: a1, b1, ..., a5, b5, c
    return [x for pair in zip(a, b) for x in pair] + [c]


def main():
    ph = phonopy.load(
        unitcell_filename=os.path.join(DATA, "inputs", "POSCAR-unitcell"),
        supercell_matrix=[2, 2, 2],
        primitive_matrix="F",
        force_constants_filename=os.path.join(DATA, "fc", "fc2.hdf5"),
        produce_fc=False,
        symmetrize_fc=False,
        log_level=0,
    )
    ph.run_mesh(MESH, with_eigenvectors=True, is_mesh_symmetry=False, is_gamma_center=True)
    ph.run_thermal_displacement_matrices(temperatures=[T], freq_min=FMIN)
    u_cart = ph.thermal_displacement_matrices.thermal_displacement_matrices[0].tolist()
    qs_prim = (np.array(Q_CONV) @ P).tolist()
    f_si = wk_si()
    b_si = float(periodictable.Si.neutron.b_c)
    out = {
        "source": "phonopy %s DynamicStructureFactor, validation/gen_sqe_reference.py" % phonopy.__version__,
        "temperature": T,
        "dw_mesh": MESH,
        "freq_min": FMIN,
        "q_conventional": Q_CONV,
        "q_primitive": qs_prim,
        "u_cart": u_cart,
        "neutron_b_fm": b_si,
        "xray_wk_phonopy_order": f_si,
    }
    for probe in ("xray", "neutron"):
        kw = {}
        if probe == "xray":
            kw["atomic_form_factor_func"] = lambda sym, s: atomic_form_factor_WK1995(s, f_si)
        else:
            kw["scattering_lengths"] = {"Si": b_si}
        ph.run_dynamic_structure_factor(qs_prim, T, freq_min=FMIN, **kw)
        dsf = ph.dynamic_structure_factor
        out[probe] = {
            "frequencies": np.array(dsf.frequencies).tolist(),
            "intensities": np.array(dsf.dynamic_structure_factors).tolist(),
        }
    path = os.path.join(ROOT, "tests", "data", "si_sqe_phonopy.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print("wrote", path)


main()
