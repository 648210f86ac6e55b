//! One-phonon coherent dynamical structure factor (physics.md §8), per mode, before any broadening:
//!
//!   F_s(Q) = Σ_κ A_κ(|Q|) e^{−W_κ(Q)} e^{2πi G·x_κ} (Q · e*_{κs}(q)) / √(2 m_κ),   Q = G + q
//!   Stokes weight       I_s = (n_s + 1) |F_s|² / f_s · C     (at E = +h f_s, phonon created)
//!   anti-Stokes weight  I_s = n_s |F_s|² / f_s · C           (at E = −h f_s, phonon absorbed)
//!
//! A_κ is the X-ray form factor (electrons) or the neutron coherent length (fm); W_κ = ½ Qᵀ U_κ Q
//! with U the harmonic ADP at the same temperature; C = `units::SQE_SCALE`. The eigenvector enters
//! conjugated: phonopy's eigenvectors carry the e^{iq·r} of its atom-position phase convention, and
//! the emission amplitude ⟨n+1| Q·u |n⟩ picks a†_q, whose coefficient is e*. (physics.md §8 writes
//! e, which is the same number only for centrosymmetric sites; phonopy's dynamic structure factor,
//! the acceptance reference, uses e*.) Any G with Q − G = q gives the same weights: D(q + G) is
//! D(q) conjugated by diag(e^{2πi G·x_κ}), which the phase e^{2πi G·x_κ} undoes.

use super::factors::Amplitude;
use crate::error::{Error, Result};
use crate::harmonic::dynmat::DynamicalMatrix;
use crate::harmonic::eigen::solve_hermitian;
use crate::harmonic::phonons::progress_bar;
use crate::harmonic::thermo::bose;
use crate::linalg::{self, Mat3, Vec3};
use crate::units::SQE_SCALE;
use num_complex::Complex64 as C64;
use rayon::prelude::*;
use std::f64::consts::TAU;

/// Everything the one-phonon weights depend on besides Q.
pub struct SqeModel<'a> {
    pub dm: &'a DynamicalMatrix,
    /// One amplitude per atom of the primitive cell.
    pub amplitudes: Vec<Amplitude>,
    /// Cartesian U (Å²) per atom of the primitive cell at `temperature`; None: no Debye–Waller factor.
    pub u_cart: Option<Vec<Mat3>>,
    pub temperature: f64,
    /// Modes at or below this frequency (THz) get zero weight (acoustic modes at a Bragg point,
    /// imaginary modes).
    pub freq_min: f64,
}

/// The one-phonon weights at one Q.
#[derive(Clone, Debug, serde::Serialize)]
pub struct OnePhonon {
    /// Q in Cartesian Å⁻¹, 2π included.
    pub q_cartesian: Vec3,
    /// Q in reduced coordinates of the primitive reciprocal basis.
    pub q_reduced: Vec3,
    /// The reciprocal lattice vector G (primitive basis) with q = Q − G in the first cell.
    pub g: [i32; 3],
    pub frequencies: Vec<f64>,
    /// Stokes weights (E = +h f_s).
    pub stokes: Vec<f64>,
    /// anti-Stokes weights (E = −h f_s).
    pub anti_stokes: Vec<f64>,
}

impl SqeModel<'_> {
    /// Weights at Q (reduced, primitive reciprocal basis), with q = Q − round(Q).
    pub fn at(&self, q_reduced: &Vec3) -> Result<OnePhonon> {
        let g = q_reduced.map(|x| x.round() as i32);
        self.at_with_g(q_reduced, g)
    }

    /// Weights at Q with an explicit choice of G (every choice gives the same weights).
    pub fn at_with_g(&self, q_reduced: &Vec3, g: [i32; 3]) -> Result<OnePhonon> {
        if q_reduced.iter().any(|x| !x.is_finite()) {
            return Err(Error::input(format!("Q {q_reduced:?} is not finite")));
        }
        let prim = self.dm.primitive();
        let (na, nb) = (prim.n_atoms(), self.dm.n_bands());
        let gf = g.map(f64::from);
        let q = linalg::sub(q_reduced, &gf);
        let qc = linalg::scale(&prim.q_cartesian(q_reduced), TAU);
        let q_len = linalg::norm(&qc);
        let mut d = vec![C64::new(0.0, 0.0); nb * nb];
        // At q = 0 of a polar crystal the LO/TO splitting follows the direction of Q.
        let at_gamma = q.iter().all(|x| x.abs() < 1e-12);
        let dir = (at_gamma && q_len > 0.0).then_some(*q_reduced);
        self.dm.compute(&q, dir.as_ref(), &mut d);
        let modes = solve_hermitian(&d, nb)?;
        // Per-atom complex prefactor A_κ e^{−W} e^{2πi G·x} / √(2 m).
        let pre: Vec<C64> = (0..na)
            .map(|k| {
                let w = self
                    .u_cart
                    .as_ref()
                    .map(|u| 0.5 * linalg::dot(&qc, &linalg::mat_vec(&u[k], &qc)))
                    .unwrap_or(0.0);
                let ph = TAU * linalg::dot(&gf, &prim.positions[k]);
                C64::from_polar(
                    self.amplitudes[k].at(q_len) * (-w).exp() / (2.0 * prim.masses[k]).sqrt(),
                    ph,
                )
            })
            .collect();
        let (mut stokes, mut anti) = (vec![0.0; nb], vec![0.0; nb]);
        for (s, &f) in modes.frequencies.iter().enumerate() {
            if f <= self.freq_min {
                continue;
            }
            let e = modes.vector(s);
            let amp: C64 = (0..na)
                .map(|k| {
                    let qe: C64 = (0..3).map(|a| qc[a] * e[3 * k + a].conj()).sum();
                    pre[k] * qe
                })
                .sum();
            let n = bose(f, self.temperature);
            let base = amp.norm_sqr() / f * SQE_SCALE;
            stokes[s] = (n + 1.0) * base;
            anti[s] = n * base;
        }
        Ok(OnePhonon {
            q_cartesian: qc,
            q_reduced: *q_reduced,
            g,
            frequencies: modes.frequencies,
            stokes,
            anti_stokes: anti,
        })
    }

    /// Weights at many Q in parallel, in input order (independent of the thread count).
    pub fn at_all(&self, qs: &[Vec3], progress: bool) -> Result<Vec<OnePhonon>> {
        let pb = progress_bar(qs.len() as u64, "S(Q,E) Q", progress && qs.len() > 200);
        let out = qs
            .par_iter()
            .map(|q| {
                let r = self.at(q);
                pb.inc(1);
                r
            })
            .collect();
        pb.finish_and_clear();
        out
    }
}

/// Conversion of user Q to reduced coordinates of the primitive reciprocal basis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QBasis {
    /// Reciprocal-lattice units of the unit cell as given (the conventional cell, usually).
    Conventional,
    /// Reciprocal-lattice units of the primitive cell.
    Primitive,
    /// Cartesian Å⁻¹ with the 2π included.
    Cartesian,
}

impl QBasis {
    pub fn parse(s: &str) -> Result<QBasis> {
        match s.to_lowercase().as_str() {
            "conventional" | "unit" => Ok(QBasis::Conventional),
            "primitive" => Ok(QBasis::Primitive),
            "cartesian" => Ok(QBasis::Cartesian),
            other => Err(Error::input(format!(
                "--q-basis: expected conventional, primitive or cartesian, found '{other}'"
            ))),
        }
    }

    /// Q in reduced coordinates of the primitive reciprocal basis: q_i = a_i · Q/2π.
    pub fn to_primitive(self, q: &Vec3, unit_lattice: &Mat3, prim_lattice: &Mat3) -> Vec3 {
        let cart_no_2pi = match self {
            QBasis::Primitive => return *q,
            QBasis::Conventional => linalg::vec_mat(
                q,
                &linalg::transpose(&linalg::inverse(unit_lattice).expect("validated lattice")),
            ),
            QBasis::Cartesian => linalg::scale(q, 1.0 / TAU),
        };
        linalg::mat_vec(prim_lattice, &cart_no_2pi)
    }
}
