//! Harmonic ADPs from the phonons on a set of q-points (physics.md §4):
//!
//!   quantum   U_cart(κ) = ħ/(2 m_κ N) Σ_{q,s} (1 + 2n_s)/ω_s · Re[e_{κ,s} e_{κ,s}^†]
//!   classical U_cart(κ) = k_B T/(m_κ N) Σ_{q,s} 1/ω_s² · Re[e_{κ,s} e_{κ,s}^†]
//!
//! (the classical form is what classical MD samples). Modes at or below the cutoff frequency
//! (the acoustic modes at Γ, imaginary modes) are left out and counted.

use crate::error::{Error, Result};
use crate::harmonic::dynmat::DynamicalMatrix;
use crate::harmonic::phonons::{PhononPoint, SolveOptions, progress_bar, solve_point};
use crate::harmonic::thermo::bose;
use crate::linalg::{Mat3, Vec3};
use crate::units::{AMU_KG, EV_J, HBAR_EV_S, KB_J};
use rayon::prelude::*;

/// ħ/(2 · amu · 2π · 1 THz) in Å²: U = this · (1 + 2n)/(m f) for m in amu and f in THz.
fn quantum_prefactor() -> f64 {
    HBAR_EV_S * EV_J / (2.0 * AMU_KG * std::f64::consts::TAU * 1e12) * 1e20
}

/// k_B · 1 K/(amu · (2π · 1 THz)²) in Å²: U = this · T/(m f²).
fn classical_prefactor() -> f64 {
    KB_J / (AMU_KG * (std::f64::consts::TAU * 1e12).powi(2)) * 1e20
}

#[derive(Clone, Debug)]
pub struct HarmonicAdps {
    pub temperatures: Vec<f64>,
    /// [T][atom] Cartesian U (Å²).
    pub u_cart: Vec<Vec<Mat3>>,
    pub u_cart_classical: Vec<Vec<Mat3>>,
    pub n_qpoints: usize,
    /// Modes left out (f ≤ cutoff), and the lowest frequency kept (THz).
    pub modes_skipped: usize,
    pub lowest_frequency_used: f64,
}

impl HarmonicAdps {
    /// The first `n` temperatures and the rest, as two results of the same q-set.
    pub fn split_temperatures(mut self, n: usize) -> (HarmonicAdps, HarmonicAdps) {
        let rest = HarmonicAdps {
            temperatures: self.temperatures.split_off(n),
            u_cart: self.u_cart.split_off(n),
            u_cart_classical: self.u_cart_classical.split_off(n),
            ..self.clone()
        };
        (self, rest)
    }
}

/// What the ADP sum asks of every q-point: frequencies and eigenvectors.
pub fn adp_solve_options() -> SolveOptions {
    SolveOptions {
        eigenvectors: true,
        ..Default::default()
    }
}

/// ADPs from the phonons at `qpoints` (reduced), each with weight 1/N.
pub fn harmonic_adps(
    dm: &DynamicalMatrix,
    qpoints: &[Vec3],
    temperatures: &[f64],
    cutoff: f64,
    progress: bool,
) -> Result<HarmonicAdps> {
    let rec = dm.primitive().reciprocal();
    let opts = adp_solve_options();
    let solve = |_: usize, q: &Vec3| solve_point(dm, q, &opts, &rec).map(std::sync::Arc::new);
    harmonic_adps_from(dm, qpoints, temperatures, cutoff, progress, &solve)
}

/// Solves (or looks up) the phonons of the i-th q-point of a list, with `adp_solve_options`.
pub type PointSource<'a> = dyn Fn(usize, &Vec3) -> Result<std::sync::Arc<PhononPoint>> + Sync + 'a;

/// As `harmonic_adps` with the phonons of each q-point from `source` (a convergence series takes
/// points shared with earlier meshes from its cache); the sums run in the same order.
pub fn harmonic_adps_from(
    dm: &DynamicalMatrix,
    qpoints: &[Vec3],
    temperatures: &[f64],
    cutoff: f64,
    progress: bool,
    source: &PointSource,
) -> Result<HarmonicAdps> {
    let prim = dm.primitive();
    let (na, nb, nt) = (prim.n_atoms(), dm.n_bands(), temperatures.len());
    if qpoints.is_empty() {
        return Err(Error::input("harmonic ADPs need at least one q-point"));
    }
    let (cq, cc) = (quantum_prefactor(), classical_prefactor());
    // Accumulators [T][atom][9] for the quantum and classical sums, plus (skipped, lowest).
    let size = nt * na * 9;
    let pb = progress_bar(qpoints.len() as u64, "ADP q-points", progress);
    // Fixed chunks summed in order: the result does not depend on the thread count.
    let chunks: Vec<(Vec<f64>, Vec<f64>, usize, f64)> = qpoints
        .par_chunks(16)
        .enumerate()
        .map(|(ic, chunk)| -> Result<(Vec<f64>, Vec<f64>, usize, f64)> {
            let (mut uq, mut uc) = (vec![0.0; size], vec![0.0; size]);
            let (mut skipped, mut lowest) = (0usize, f64::INFINITY);
            for (i, q) in chunk.iter().enumerate() {
                let p = source(16 * ic + i, q)?;
                let e = p.eigenvectors.as_ref().expect("requested");
                for (s, &f) in p.frequencies.iter().enumerate() {
                    if f <= cutoff {
                        skipped += 1;
                        continue;
                    }
                    lowest = lowest.min(f);
                    let v = &e[s * nb..(s + 1) * nb];
                    for k in 0..na {
                        let m = prim.masses[k];
                        // Re[e_a e_b*] of atom k.
                        let mut outer = [0.0; 9];
                        for a in 0..3 {
                            for b in 0..3 {
                                let z = v[3 * k + a] * v[3 * k + b].conj();
                                outer[3 * a + b] = z.re;
                            }
                        }
                        for (it, &t) in temperatures.iter().enumerate() {
                            let wq = cq * (1.0 + 2.0 * bose(f, t)) / (m * f);
                            let wc = cc * t / (m * f * f);
                            let o = (it * na + k) * 9;
                            for c in 0..9 {
                                uq[o + c] += wq * outer[c];
                                uc[o + c] += wc * outer[c];
                            }
                        }
                    }
                }
                pb.inc(1);
            }
            Ok((uq, uc, skipped, lowest))
        })
        .collect::<Result<_>>()?;
    pb.finish_and_clear();
    let (mut uq, mut uc) = (vec![0.0; size], vec![0.0; size]);
    let (mut skipped, mut lowest) = (0, f64::INFINITY);
    for (a, b, s, l) in chunks {
        uq.iter_mut().zip(&a).for_each(|(x, y)| *x += y);
        uc.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
        skipped += s;
        lowest = lowest.min(l);
    }
    let n = qpoints.len() as f64;
    let tensors = |u: &[f64]| -> Vec<Vec<Mat3>> {
        (0..nt)
            .map(|it| {
                (0..na)
                    .map(|k| {
                        let o = (it * na + k) * 9;
                        // Symmetrize: the sum is symmetric up to rounding.
                        std::array::from_fn(|a| {
                            std::array::from_fn(|b| 0.5 * (u[o + 3 * a + b] + u[o + 3 * b + a]) / n)
                        })
                    })
                    .collect()
            })
            .collect()
    };
    Ok(HarmonicAdps {
        temperatures: temperatures.to_vec(),
        u_cart: tensors(&uq),
        u_cart_classical: tensors(&uc),
        n_qpoints: qpoints.len(),
        modes_skipped: skipped,
        lowest_frequency_used: lowest,
    })
}

/// The q-points (reduced, primitive reciprocal basis, in [0, 1)) commensurate with a supercell
/// whose lattice is `super_in_prim` in the primitive basis (rows, integer): the wave vectors an
/// MD run in that supercell can hold (|det| of them). They are q = a/d (d = |det|) with integer
/// a, generated as the closure of the three columns of d·M⁻¹ under addition modulo d — O(d)
/// work, so large MD cells are no problem.
pub fn commensurate_qpoints(super_in_prim: &[[i32; 3]; 3]) -> Result<Vec<Vec3>> {
    let m = crate::linalg::to_f64(super_in_prim);
    let d = crate::linalg::det(&m).round().abs() as i64;
    if d == 0 {
        return Err(Error::input("the supercell matrix is singular"));
    }
    let inv = crate::linalg::inverse(&m).expect("non-singular");
    // Columns of d·M⁻¹ are integer vectors: the generators, in units of 1/d.
    let gens: Vec<[i64; 3]> = (0..3)
        .map(|c| std::array::from_fn(|r| (inv[r][c] * d as f64).round() as i64))
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut out = vec![[0i64; 3]];
    seen.insert([0i64; 3]);
    let mut i = 0;
    while i < out.len() {
        let a = out[i];
        for g in &gens {
            let b: [i64; 3] = std::array::from_fn(|k| (a[k] + g[k]).rem_euclid(d));
            if seen.insert(b) {
                out.push(b);
            }
        }
        i += 1;
    }
    if out.len() as i64 != d {
        return Err(Error::Numerical(format!(
            "found {} commensurate q-points for a supercell of {d} primitive cells",
            out.len()
        )));
    }
    out.sort();
    Ok(out
        .into_iter()
        .map(|a| a.map(|x| x as f64 / d as f64))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commensurate_points_of_an_fcc_conventional_supercell() {
        // Conventional 2×2×2 of fcc in the primitive basis: rows 2·(−1 1 1), … (det 32).
        let m = [[-2, 2, 2], [2, -2, 2], [2, 2, -2]];
        let q = commensurate_qpoints(&m).unwrap();
        assert_eq!(q.len(), 32);
        for p in &q {
            for r in &m {
                let x: f64 = (0..3).map(|k| r[k] as f64 * p[k]).sum();
                assert!((x - x.round()).abs() < 1e-12);
            }
        }
        // A diagonal supercell gives the Γ-centred mesh.
        assert_eq!(
            commensurate_qpoints(&[[3, 0, 0], [0, 2, 0], [0, 0, 1]])
                .unwrap()
                .len(),
            6
        );
    }

    #[test]
    fn prefactors() {
        // ħ/(2 m ω) for m = 1 amu, f = 1 THz: 0.50538 Å² (hand-computed from CODATA).
        assert!(
            (quantum_prefactor() - 0.50538).abs() < 1e-5,
            "{}",
            quantum_prefactor()
        );
        // k_B T/(m ω²) at 1 K, m = 1 amu, f = 1 THz: 0.021061 Å².
        assert!(
            (classical_prefactor() - 0.021061).abs() < 1e-6,
            "{}",
            classical_prefactor()
        );
        // High-T limit of the quantum form is the classical one: ħ(1+2n)/(2mω) → k_B T/(m ω²).
        let (f, t) = (1.0, 1e5);
        let q = quantum_prefactor() * (1.0 + 2.0 * bose(f, t)) / f;
        let c = classical_prefactor() * t / (f * f);
        assert!((q / c - 1.0).abs() < 1e-6);
    }
}
