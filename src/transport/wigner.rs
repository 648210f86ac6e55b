//! The Wigner conductivity (physics.md §5, Simoncelli–Marzari–Mauri) in phono3py's RTA form.
//! For every pair (s, s') at an irreducible q, both above the cutoff:
//!
//!   K_ss' = U · ¼(f_s + f_s')(C_s/f_s + C_s'/f_s') · Re[S_ss'] · (Γ_s + Γ_s') / [(f_s − f_s')² + (Γ_s + Γ_s')²]
//!
//! with S_ss' = Σ_star V_ss' ⊗ V_ss'^* (the velocity operator rotated over the star of q), U the
//! RTA unit factor (rta::kappa_unit_conversion), f and Γ in THz. Pairs closer than 1e-4 THz
//! (degenerate, and s = s') form κ_P, half to each mode; the others form κ_C. For s = s' the
//! term is the RTA mode κ.

use crate::linalg::Mat3;
use crate::units::DEGENERACY_TOL_THZ;
use num_complex::Complex64 as C64;

/// S_ss' (Voigt, real part) for all pairs, `out[s·nb + s']`, as (weight/|P|) Σ_{R∈P} (R V)(R V)†.
pub fn star_operator_products(
    vop: &[Vec<C64>; 3],
    nb: usize,
    weight: usize,
    cartesian_rotations: &[Mat3],
) -> Vec<[f64; 6]> {
    let f = weight as f64 / cartesian_rotations.len() as f64;
    (0..nb * nb)
        .map(|p| {
            let v = [vop[0][p], vop[1][p], vop[2][p]];
            let mut t = [0.0; 6];
            for r in cartesian_rotations {
                let rv: [C64; 3] =
                    std::array::from_fn(|i| (0..3).map(|j| v[j] * r[i][j]).sum::<C64>());
                let re = |i: usize, j: usize| (rv[i] * rv[j].conj()).re;
                let p6 = [re(0, 0), re(1, 1), re(2, 2), re(1, 2), re(0, 2), re(0, 1)];
                for (a, b) in t.iter_mut().zip(p6) {
                    *a += b;
                }
            }
            t.map(|x| x * f)
        })
        .collect()
}

/// Per-mode κ_P (`[s]`) and per-pair κ_C (`[s·nb + s']`, zero on degenerate pairs), W/(m·K)
/// with the star included, for one temperature.
pub fn wigner_mode_kappa(
    freqs: &[f64],
    heat_capacity: &[f64],
    products: &[[f64; 6]],
    gamma: &[f64],
    cutoff: f64,
    unit: f64,
) -> (Vec<[f64; 6]>, Vec<[f64; 6]>) {
    let nb = freqs.len();
    let mut kp = vec![[0.0; 6]; nb];
    let mut kc = vec![[0.0; 6]; nb * nb];
    for s in 0..nb {
        for t in 0..nb {
            let (fs, ft) = (freqs[s], freqs[t]);
            if fs <= cutoff || ft <= cutoff {
                continue;
            }
            let g = gamma[s] + gamma[t];
            if g <= 0.0 {
                continue;
            }
            let pre = 0.25 * (fs + ft) * (heat_capacity[s] / fs + heat_capacity[t] / ft);
            let lorentz = g / ((fs - ft) * (fs - ft) + g * g);
            let k = products[s * nb + t].map(|x| unit * pre * x * lorentz);
            if (fs - ft).abs() < DEGENERACY_TOL_THZ {
                for c in 0..6 {
                    kp[s][c] += 0.5 * k[c];
                    kp[t][c] += 0.5 * k[c];
                }
            } else {
                kc[s * nb + t] = k;
            }
        }
    }
    (kp, kc)
}
