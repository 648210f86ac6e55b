//! Acoustic sum rule of fc2: report the violation, enforce it on request.
//!
//! Σ_{R,κ'} Φ_αβ(0κ; Rκ') = 0 for every κ, α, β. Enforcement subtracts the residual from the
//! self term Φ(0κ; 0κ), the simplest correction that keeps every other term as it was.

use super::{Fc2, Pair};

/// Largest |Σ_{R,κ'} Φ_αβ(0κ; Rκ')| over κ, α, β (eV/Å²).
pub fn asr_violation(fc: &Fc2) -> f64 {
    residuals(fc)
        .iter()
        .flatten()
        .flatten()
        .map(|x| x.abs())
        .fold(0.0, f64::max)
}

fn residuals(fc: &Fc2) -> Vec<[[f64; 3]; 3]> {
    let mut sums = vec![[[0.0; 3]; 3]; fc.n_atoms];
    for p in &fc.pairs {
        for a in 0..3 {
            for b in 0..3 {
                sums[p.i][a][b] += p.phi[a][b];
            }
        }
    }
    sums
}

/// Enforces the sum rule by correcting the self terms; adds a self term where none exists.
pub fn enforce_asr(fc: &mut Fc2) {
    let res = residuals(fc);
    for (k, r) in res.iter().enumerate() {
        let pos = fc
            .pairs
            .iter()
            .position(|p| p.i == k && p.j == k && p.cell == [0, 0, 0]);
        let idx = match pos {
            Some(i) => i,
            None => {
                fc.pairs.push(Pair {
                    i: k,
                    j: k,
                    cell: [0, 0, 0],
                    phi: [[0.0; 3]; 3],
                });
                fc.pairs.len() - 1
            }
        };
        for a in 0..3 {
            for b in 0..3 {
                fc.pairs[idx].phi[a][b] -= r[a][b];
            }
        }
    }
}
