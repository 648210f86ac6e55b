//! Relaxation-time κ_P (physics.md §5) in phono3py's form, per irreducible mode:
//!
//!   mode_kappa = U · C · (Σ_star v⊗v) / (2Γ),  κ = Σ mode_kappa / N,
//!   U = eV·10²²/(2π V)  (C in eV/K, v in THz·Å, Γ in THz, V in Å³ → W/(m·K)),
//!
//! which is κ = 1/(V N) Σ C v⊗v τ with τ = 1/(4πΓ). Voigt order xx, yy, zz, yz, xz, xy.

use crate::linalg::{Mat3, Vec3};
use crate::units::EV_J;

/// phono3py's `kappa_unit_conversion` for a primitive cell of volume `v` (Å³).
pub fn kappa_unit_conversion(volume: f64) -> f64 {
    EV_J * 1e22 / (2.0 * std::f64::consts::PI) / volume
}

/// Σ over the star of q of v⊗v (Voigt), as (weight/|P|) Σ_{R∈P} (R v)(R v)ᵀ with the
/// Cartesian point-group rotations P (time reversal leaves v⊗v unchanged).
pub fn star_gv_by_gv(v: &Vec3, weight: usize, cartesian_rotations: &[Mat3]) -> [f64; 6] {
    let mut t = [0.0; 6];
    for r in cartesian_rotations {
        let rv: Vec3 = std::array::from_fn(|i| (0..3).map(|j| r[i][j] * v[j]).sum());
        for (a, b) in t.iter_mut().zip(crate::linalg::voigt_outer(&rv)) {
            *a += b;
        }
    }
    let f = weight as f64 / cartesian_rotations.len() as f64;
    t.map(|x| x * f)
}

/// Per-mode κ (W/(m·K), star included) for one temperature: `heat_capacity[s]` (eV/K),
/// `gv_by_gv[s]`, `gamma[s]` (THz). Modes with Γ ≤ 0 or f ≤ cutoff contribute 0.
pub fn mode_kappa(
    freqs: &[f64],
    heat_capacity: &[f64],
    gv_by_gv: &[[f64; 6]],
    gamma: &[f64],
    cutoff: f64,
    unit: f64,
) -> Vec<[f64; 6]> {
    (0..freqs.len())
        .map(|s| {
            if freqs[s] <= cutoff || gamma[s] <= 0.0 {
                return [0.0; 6];
            }
            gv_by_gv[s].map(|g| unit * heat_capacity[s] * g / (2.0 * gamma[s]))
        })
        .collect()
}
