//! Isotope scattering (Tamura, physics.md §6), in phono3py's convention (half width, THz):
//!
//!   Γ^iso_λ = π f_λ² / (2N) Σ_{q's'} δ(f_λ − f_q's') Σ_κ g_κ |Σ_α e*_κα(λ) e_κα(q's')|²
//!
//! with g_κ the mass variance of site κ and δ by the tetrahedron method on the mesh (or a
//! Gaussian). Degenerate modes of q are averaged, as for the three-phonon Γ.

use super::linewidth::{DeltaMethod, MeshPhonons};
use crate::harmonic::dos::{SortedTetrahedra, tetrahedra};
use crate::harmonic::eigen::{average_over_sets, degenerate_sets};
use crate::linalg::Mat3;
use crate::units::DEGENERACY_TOL_THZ;

/// Γ^iso[s] at grid point `g0`; `mass_variance[κ]` per primitive atom.
pub fn isotope_gamma_at(
    g0: usize,
    ph: &MeshPhonons,
    mass_variance: &[f64],
    delta: DeltaMethod,
    cutoff: f64,
    reciprocal: &Mat3,
) -> Vec<f64> {
    let nb = ph.nb;
    let mesh = &ph.mesh;
    let n = mesh.n_points();
    let f0 = ph.freqs(g0);
    let e0 = ph.vectors(g0);
    let tets = tetrahedra(mesh, reciprocal);
    let mut gamma = vec![0.0; nb];
    for g1 in 0..n {
        let f1 = ph.freqs(g1);
        let e1 = ph.vectors(g1);
        let a = mesh.address(g1);
        for j in 0..nb {
            // δ weights of band j around q' at every band of q.
            let weights: Vec<f64> = match delta {
                DeltaMethod::Adaptive(scale) => {
                    // FourPhonon's isotope broadening: σ from the partner's velocity.
                    let sw = super::linewidth::adaptive_sigma(
                        &ph.velocities[g1 * nb + j],
                        &ph.reciprocal_2pi,
                        mesh.n,
                        scale,
                    );
                    f0.iter()
                        .map(|&f| super::linewidth::fourphonon_delta(f - f1[j], sw))
                        .collect()
                }
                DeltaMethod::Gaussian(sigma) => f0
                    .iter()
                    .map(|&f| {
                        let x = f - f1[j];
                        (-(x * x) / (2.0 * sigma * sigma)).exp()
                            / (sigma * (2.0 * std::f64::consts::PI).sqrt())
                    })
                    .collect(),
                DeltaMethod::Tetrahedron => {
                    let mut t = [[0.0; 4]; 24];
                    for (tv, rel) in t.iter_mut().zip(&tets) {
                        for (v, r) in rel.iter().enumerate() {
                            let b: [usize; 3] = std::array::from_fn(|c| {
                                (a[c] as i32 + r[c]).rem_euclid(mesh.n[c] as i32) as usize
                            });
                            tv[v] = ph.frequencies[mesh.index(&b) * nb + j];
                        }
                    }
                    let (lo, hi) = SortedTetrahedra::range(&t);
                    if !f0.iter().any(|&f| f > lo && f < hi) {
                        continue;
                    }
                    let st = SortedTetrahedra::new(&t);
                    f0.iter().map(|&f| st.weight(f)).collect()
                }
            };
            for s in 0..nb {
                if f0[s] <= cutoff || weights[s] == 0.0 {
                    continue;
                }
                let mut overlap = 0.0;
                for (k, g) in mass_variance.iter().enumerate() {
                    let mut d = num_complex::Complex64::new(0.0, 0.0);
                    for al in 0..3 {
                        let c = 3 * k + al;
                        d += e0[s * nb + c].conj() * e1[j * nb + c];
                    }
                    overlap += g * d.norm_sqr();
                }
                gamma[s] += weights[s] * overlap;
            }
        }
    }
    for s in 0..nb {
        gamma[s] *= std::f64::consts::PI * f0[s] * f0[s] / (4.0 * n as f64);
    }
    average_over_sets(&mut gamma, &degenerate_sets(f0, DEGENERACY_TOL_THZ));
    gamma
}
