//! Group velocities and the velocity operator (physics.md §3, §5).
//!
//! Inside each degenerate subspace (|Δf| < 1e-4 THz) the eigenvectors are first rotated to
//! diagonalize ∂D/∂q along the Cartesian direction (1,2,3)/√14, as phonopy does; then
//! v_s = ⟨e_s|∂D/∂q|e_s⟩ / (2 f_s) in THz·Å (q in Å⁻¹ without 2π), and the result is averaged over
//! the rotations that leave q invariant. The velocity operator in the same rotated basis is
//! V_ss' = ⟨e_s|∂D/∂q|e_s'⟩ / (f_s + f_s') — Hermitian, with the group velocities on its diagonal.

use super::dynmat::DynamicalMatrix;
use super::eigen::{Modes, degenerate_sets, solve_hermitian};
use crate::error::Result;
use crate::linalg::{self, Mat3, Vec3};
use crate::units::{DEGENERACY_TOL_THZ, VASP_TO_THZ};
use num_complex::Complex64 as C64;

/// Modes below this frequency (THz) get zero velocity (phonopy's GroupVelocity cutoff).
pub const VELOCITY_CUTOFF_THZ: f64 = 1e-4;

/// ⟨a| M |b⟩ for row-major M.
fn sandwich(a: &[C64], m: &[C64], b: &[C64]) -> C64 {
    let n = a.len();
    let mut s = C64::new(0.0, 0.0);
    for i in 0..n {
        let row = &m[i * n..(i + 1) * n];
        let mb: C64 = row.iter().zip(b).map(|(x, y)| x * y).sum();
        s += a[i].conj() * mb;
    }
    s
}

/// Eigenvectors rotated inside degenerate subspaces so that ∂D/∂q along (1,2,3)/√14 is diagonal.
pub fn rotate_degenerate(modes: &Modes, dd: &[Vec<C64>; 3]) -> Result<Modes> {
    let nb = modes.n_bands();
    let dir = [1.0 / 14f64.sqrt(), 2.0 / 14f64.sqrt(), 3.0 / 14f64.sqrt()];
    let mut out = modes.clone();
    for set in degenerate_sets(&modes.frequencies, DEGENERACY_TOL_THZ) {
        if set.len() < 2 {
            continue;
        }
        let m = set.len();
        let mut p = vec![C64::new(0.0, 0.0); m * m];
        let ddir: Vec<C64> = (0..nb * nb)
            .map(|k| dd[0][k] * dir[0] + dd[1][k] * dir[1] + dd[2][k] * dir[2])
            .collect();
        for (a, &sa) in set.iter().enumerate() {
            for (b, &sb) in set.iter().enumerate() {
                p[a * m + b] = sandwich(modes.vector(sa), &ddir, modes.vector(sb));
            }
        }
        super::dynmat::hermitianize(&mut p, m);
        let sub = solve_hermitian(&p, m)?;
        for (b, &sb) in set.iter().enumerate() {
            for k in 0..nb {
                let v: C64 = set
                    .iter()
                    .enumerate()
                    .map(|(a, &sa)| modes.vector(sa)[k] * sub.eigenvectors[b * m + a])
                    .sum();
                out.eigenvectors[sb * nb + k] = v;
            }
        }
    }
    Ok(out)
}

/// Group velocities (THz·Å) at reduced q from already-solved modes, before symmetrization.
pub fn group_velocities_unsymmetrized(
    dm: &DynamicalMatrix,
    q: &Vec3,
    modes: &Modes,
) -> Result<Vec<Vec3>> {
    let mut dd: [Vec<C64>; 3] = Default::default();
    dm.derivative(q, &mut dd);
    let rot = rotate_degenerate(modes, &dd)?;
    Ok((0..modes.n_bands())
        .map(|s| {
            let f = modes.frequencies[s];
            if f <= VELOCITY_CUTOFF_THZ {
                return [0.0; 3];
            }
            let e = rot.vector(s);
            std::array::from_fn(|c| {
                sandwich(e, &dd[c], e).re * VASP_TO_THZ * VASP_TO_THZ / (2.0 * f)
            })
        })
        .collect())
}

/// Averages velocities over the reciprocal rotations that leave q unchanged (not modulo G),
/// as phonopy's site-symmetry symmetrization. `reciprocal` holds the reciprocal lattice rows.
pub fn symmetrize_velocities(
    v: &[Vec3],
    q: &Vec3,
    rotations: &[[[i32; 3]; 3]],
    reciprocal: &Mat3,
) -> Vec<Vec3> {
    // numpy.rint rounds halves to even: q = 0.5 stays 0.5, which decides the site symmetry.
    let q_bz = q.map(|x| x - x.round_ties_even());
    let bt = linalg::transpose(reciprocal);
    let bt_inv = linalg::inverse(&bt).expect("non-singular reciprocal lattice");
    let site: Vec<Mat3> = rotations
        .iter()
        .filter(|r| {
            let rq = linalg::mat_vec(&linalg::to_f64(r), &q_bz);
            (0..3).all(|k| (q_bz[k] - rq[k]).abs() < 1e-5)
        })
        .map(|r| linalg::mat_mul(&linalg::mat_mul(&bt, &linalg::to_f64(r)), &bt_inv))
        .collect();
    if site.is_empty() {
        return v.to_vec();
    }
    v.iter()
        .map(|vs| {
            let mut acc = [0.0; 3];
            for r in &site {
                let rv = linalg::mat_vec(r, vs);
                for k in 0..3 {
                    acc[k] += rv[k];
                }
            }
            acc.map(|x| x / site.len() as f64)
        })
        .collect()
}

/// Velocity operator V^c_ss' (THz·Å) for c = x, y, z, row-major nb × nb, in the eigenbasis rotated
/// as for the group velocities. Pairs with f_s + f_s' ≤ 2·cutoff are set to zero.
pub fn velocity_operator(dm: &DynamicalMatrix, q: &Vec3, modes: &Modes) -> Result<[Vec<C64>; 3]> {
    let nb = modes.n_bands();
    let mut dd: [Vec<C64>; 3] = Default::default();
    dm.derivative(q, &mut dd);
    let rot = rotate_degenerate(modes, &dd)?;
    let conv = VASP_TO_THZ * VASP_TO_THZ;
    Ok(std::array::from_fn(|c| {
        let mut v = vec![C64::new(0.0, 0.0); nb * nb];
        for s in 0..nb {
            for t in 0..nb {
                let fs = modes.frequencies[s].max(0.0);
                let ft = modes.frequencies[t].max(0.0);
                if fs <= VELOCITY_CUTOFF_THZ || ft <= VELOCITY_CUTOFF_THZ {
                    continue;
                }
                v[s * nb + t] = sandwich(rot.vector(s), &dd[c], rot.vector(t)) * (conv / (fs + ft));
            }
        }
        v
    }))
}
