//! Hermitian eigen-solve of the dynamical matrix (faer), frequencies in THz.

use crate::error::{Error, Result};
use crate::units::eigenvalue_to_thz;
use faer::{Mat, Side};
use num_complex::Complex64 as C64;

/// Normal modes at one q: frequencies ascending (THz, negative = imaginary) and mass-weighted,
/// unit-normalized eigenvectors; `eigenvectors[s * nb + k]` is component k (= 3κ+α) of mode s.
#[derive(Clone, Debug)]
pub struct Modes {
    pub eigenvalues: Vec<f64>,
    pub frequencies: Vec<f64>,
    pub eigenvectors: Vec<C64>,
}

impl Modes {
    pub fn n_bands(&self) -> usize {
        self.frequencies.len()
    }
    pub fn vector(&self, s: usize) -> &[C64] {
        let nb = self.n_bands();
        &self.eigenvectors[s * nb..(s + 1) * nb]
    }
}

/// Diagonalizes a Hermitian row-major `nb × nb` matrix.
pub fn solve_hermitian(d: &[C64], nb: usize) -> Result<Modes> {
    if d.iter().any(|x| !x.re.is_finite() || !x.im.is_finite()) {
        return Err(Error::Numerical(
            "dynamical matrix has non-finite entries".into(),
        ));
    }
    let m = Mat::<C64>::from_fn(nb, nb, |i, j| d[i * nb + j]);
    let evd = m
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| Error::Numerical(format!("Hermitian eigen-solve did not converge: {e:?}")))?;
    let s = evd.S();
    let u = evd.U();
    let eigenvalues: Vec<f64> = (0..nb).map(|i| s[i].re).collect();
    let frequencies = eigenvalues.iter().map(|&l| eigenvalue_to_thz(l)).collect();
    let mut eigenvectors = Vec::with_capacity(nb * nb);
    for j in 0..nb {
        for i in 0..nb {
            eigenvectors.push(u[(i, j)]);
        }
    }
    Ok(Modes {
        eigenvalues,
        frequencies,
        eigenvectors,
    })
}

/// Index sets of degenerate modes (frequencies linked by |Δf| < tol), as phonopy's degenerate_sets.
/// Replaces the values of every degenerate set (from `degenerate_sets`) by their mean: a
/// per-mode quantity whose split inside a degenerate subspace depends on the eigenvector basis.
pub fn average_over_sets(row: &mut [f64], sets: &[Vec<usize>]) {
    for set in sets {
        let avg = set.iter().map(|&s| row[s]).sum::<f64>() / set.len() as f64;
        for &s in set {
            row[s] = avg;
        }
    }
}

pub fn degenerate_sets(freqs: &[f64], tol: f64) -> Vec<Vec<usize>> {
    let mut sets: Vec<Vec<usize>> = Vec::new();
    let mut done = vec![false; freqs.len()];
    for i in 0..freqs.len() {
        if done[i] {
            continue;
        }
        let mut set = vec![i];
        done[i] = true;
        for j in i + 1..freqs.len() {
            if !done[j] && set.iter().any(|&k| (freqs[k] - freqs[j]).abs() < tol) {
                set.push(j);
                done[j] = true;
            }
        }
        sets.push(set);
    }
    sets
}
