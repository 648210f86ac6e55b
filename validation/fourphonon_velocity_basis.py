"""Why FourPhonon's per-mode rates on the SW-Si 4x4x4 case cannot be matched to 2 % by an
independent code: its adaptive broadening uses group velocities of degenerate modes taken in
whatever eigenvector basis LAPACK's zheev returns, and those change from one LAPACK build to
another.

This script rebuilds FourPhonon's velocities with the steps of its phonon_phonopy routine (read in
FourPhonon's source and re-implemented here, not copied): the dynamical matrix in the cell-origin gauge with the
supercell images split equally, diagonalized by zheev ('V', 'U', here SciPy's LAPACK), diagonal
<e|dD/dq|e>/(2 omega), then averaged over the rotations with R q = q exactly (q reduced in [0, 1),
ShengBTE's "symmetrizers"). It compares with BTE.v at the irreducible points. Measured: every
non-degenerate velocity and every frequency agrees (frequencies to the file's 10 digits); at W the
degenerate pairs differ (this LAPACK: +-2.374 km/s on bands 1-2 and ~0 on bands 3-4; the
reference run: ~0 and +-0.379 km/s). At X both give 0, where degenerate perturbation theory
(phonopy, latdyn) gives +-5.22 km/s. Writes /tmp/fourphonon_v_full.txt (km/s, band-major like
BTE.v_full) for experiments.

With --json PATH it also writes the full-grid frequencies, eigenvectors and velocities
(tests/data/fourphonon_si_n4_phonons.json is this output: tests/four_phonon.rs feeds them to
latdyn's rate code to separate the velocity convention from the rest of the physics).

Usage: validation/venv/bin/python validation/fourphonon_velocity_basis.py [--json PATH]
"""
import itertools
import json
import os
import sys

import numpy as np
import scipy.linalg as sl
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../shared/data/fourphonon-si-inputs")
N = 4
lf = 0.5431
lat = lf * np.array([[-0.5, 0.0, 0.5], [0.0, 0.5, 0.5], [-0.5, 0.5, 0.0]]).T  # columns, nm
rlat = 2 * np.pi * np.linalg.inv(lat).T  # columns b_i, nm^-1
pos = np.array([[0, 0, 0], [0.25, 0.25, 0.25]]).T
cart = lat @ pos
mass = 28.0855099896
nat = 2
sc = [4, 4, 4]
lines = open(f"{D}/FORCE_CONSTANTS_2ND").read().split("\n")
ntot = int(lines[0].split()[0])
fc = np.zeros((nat, 3, 4, 4, 4, nat, 3))
k = 1
for i in range(ntot):
    for j in range(ntot):
        a1, a2 = map(int, lines[k].split()[:2])
        def split(idx):
            t = idx - 1
            ix = t % 4; t //= 4
            iy = t % 4; t //= 4
            iz = t % 4; ia = t // 4
            return ix, iy, iz, ia
        ix1, iy1, iz1, ia1 = split(a1)
        ix2, iy2, iz2, ia2 = split(a2)
        if ix1 == 0 and iy1 == 0 and iz1 == 0:
            for ip in range(3):
                fc[ia1, ip, ix2, iy2, iz2, ia2, :] = [float(x) for x in lines[k + 1 + ip].split()]
        k += 4
fc = fc / mass * 9648.53336213

def dyn(q):
    d = np.zeros((6, 6), complex)
    dd = np.zeros((6, 6, 3), complex)
    for a1 in range(nat):
        for a2 in range(nat):
            for ix1 in range(4):
                for iy1 in range(4):
                    for iz1 in range(4):
                        rcell = lat @ np.array([ix1, iy1, iz1], float)
                        r = cart[:, a1] - cart[:, a2] + rcell
                        dmin = np.inf
                        rr = []
                        for ix2, iy2, iz2 in itertools.product(range(-2, 3), repeat=3):
                            rl = ix2 * sc[0] * lat[:, 0] + iy2 * sc[1] * lat[:, 1] + iz2 * sc[2] * lat[:, 2]
                            rn = np.linalg.norm(rl + r)
                            if abs(rn - dmin) > 1e-5:
                                if rn < dmin:
                                    dmin = rn
                                    rr = [rl + rcell]
                            else:
                                rr.append(rl + rcell)
                        neq = len(rr)
                        for R in rr:
                            z = np.exp(-1j * (q @ R)) / neq
                            for i in range(3):
                                for j in range(3):
                                    f = fc[a2, j, ix1, iy1, iz1, a1, i]
                                    d[3 * a1 + i, 3 * a2 + j] += z * f
                                    dd[3 * a1 + i, 3 * a2 + j, :] += -1j * z * R * f
    return d, dd

# Oh rotations in Cartesian
ops = []
for perm in itertools.permutations(range(3)):
    for s in itertools.product([1, -1], repeat=3):
        R = np.zeros((3, 3))
        for i, p in enumerate(perm):
            R[i, p] = s[i]
        ops.append(R)
out = []
for g in range(N ** 3):
    ii, jj, kk = g % N, (g // N) % N, g // (N * N)
    qred = np.array([ii, jj, kk]) / N
    q = rlat @ qred
    d, dd = dyn(q)
    w2, e = sl.eigh(d, lower=False, driver="ev")
    w = np.sign(w2) * np.sqrt(np.abs(w2))
    v = np.zeros((6, 3))
    for s in range(6):
        for c in range(3):
            v[s, c] = np.real(np.conj(e[:, s]) @ dd[:, :, c] @ e[:, s])
        v[s] /= 2 * w[s] if w[s] != 0 else np.inf
    S = np.zeros((3, 3)); n = 0
    for R in ops:
        if np.allclose(R @ q, q, atol=1e-6):
            S += R; n += 1
    S /= n
    v = (S @ v.T).T
    if g == 0:
        v[:3] = 0
        w[:3] = 0
    out.append((w, v, e))
ref = np.loadtxt(f"{D}/reference-n4/BTE.v")
qp = np.loadtxt(f"{D}/reference-n4/BTE.qpoints")
om = np.loadtxt(f"{D}/reference-n4/BTE.omega")
nq = len(qp)
worst = 0
for iq in range(nq):
    g = int(qp[iq][1]) - 1
    for s in range(6):
        diff = np.abs(out[g][1][s] - ref[s * nq + iq]).max()
        worst = max(worst, diff)
        if diff > 1e-6:
            print("q", iq, "s", s, out[g][1][s], ref[s * nq + iq])
    print("q", iq, "omega diff", np.abs(out[g][0] - om[iq]).max())
print("worst velocity difference (km/s)", worst)
np.savetxt("/tmp/fourphonon_v_full.txt", np.array([out[g][1][s] for s in range(6) for g in range(N ** 3)]))
if "--json" in sys.argv:
    # FourPhonon's phonons on the full grid (grid order: first reduced coordinate fastest), for
    # tests/four_phonon.rs: frequencies (THz), eigenvectors (cell-origin gauge, exp(-i q.R) in
    # D, columns = modes, component 3*atom + xyz) and symmetrized velocities (km/s).
    path = sys.argv[sys.argv.index("--json") + 1]
    doc = {
        "source": "validation/fourphonon_velocity_basis.py (FourPhonon's phonon_phonopy steps, SciPy "
        + sl.__name__ + " zheev via scipy " + __import__("scipy").__version__ + ")",
        "mesh": [N, N, N],
        "frequencies_THz": [list(out[g][0] / (2 * np.pi)) for g in range(N ** 3)],
        "eigenvectors_re": [out[g][2].real.round(15).tolist() for g in range(N ** 3)],
        "eigenvectors_im": [out[g][2].imag.round(15).tolist() for g in range(N ** 3)],
        "velocities_km_s": [out[g][1].tolist() for g in range(N ** 3)],
    }
    json.dump(doc, open(path, "w"))
