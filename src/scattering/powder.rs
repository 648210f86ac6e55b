//! Orientational (powder) average of S(Q,E) at fixed |Q|: a quasi-uniform Fibonacci set of
//! directions on the sphere, each with equal weight. The error is estimated by comparing the
//! average over N directions with the average over a second Fibonacci set of N/2.

use super::spectra::{SpectrumSettings, raw_spectrum};
use super::sqe::SqeModel;
use crate::error::Result;
use crate::linalg::{self, Vec3};

/// N quasi-uniform unit vectors (Fibonacci lattice on the sphere, equal-area latitude bands).
pub fn fibonacci_directions(n: usize) -> Vec<Vec3> {
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    (0..n)
        .map(|i| {
            let z = 1.0 - (2.0 * i as f64 + 1.0) / n as f64;
            let r = (1.0 - z * z).max(0.0).sqrt();
            let phi = golden * i as f64;
            [r * phi.cos(), r * phi.sin(), z]
        })
        .collect()
}

/// The spectrum at |Q| = `length` (Å⁻¹, 2π included) averaged over `directions` (Cartesian unit
/// vectors), before the energy resolution.
pub fn powder_spectrum(
    model: &SqeModel,
    length: f64,
    directions: &[Vec3],
    settings: &SpectrumSettings,
) -> Result<Vec<f64>> {
    let lattice = model.dm.primitive().lattice;
    let mut acc = vec![0.0; settings.grid.n];
    for d in directions {
        // Reduced primitive coordinates of Q: a_i · Q/2π.
        let q = linalg::mat_vec(&lattice, &linalg::scale(d, length / std::f64::consts::TAU));
        let sp = raw_spectrum(model, &q, settings)?;
        acc.iter_mut()
            .zip(&sp)
            .for_each(|(x, y)| *x += y / directions.len() as f64);
    }
    Ok(acc)
}

/// Relative L1 difference ‖a − b‖₁/‖a‖₁ of two spectra (0 when both vanish).
pub fn relative_difference(a: &[f64], b: &[f64]) -> f64 {
    let norm: f64 = a.iter().map(|x| x.abs()).sum();
    let diff: f64 = a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum();
    if norm > 0.0 { diff / norm } else { diff }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_average_an_isotropic_tensor() {
        // ⟨n_a n_b⟩ = δ_ab/3 over the sphere; the Fibonacci set converges like 1/N.
        for n in [200, 1000] {
            let d = fibonacci_directions(n);
            for a in 0..3 {
                for b in 0..3 {
                    let m: f64 = d.iter().map(|v| v[a] * v[b]).sum::<f64>() / n as f64;
                    let want = if a == b { 1.0 / 3.0 } else { 0.0 };
                    assert!((m - want).abs() < 2.0 / n as f64, "{n} {a}{b}: {m}");
                }
            }
        }
    }
}
