//! The dynamical matrix in phonopy's phase convention (physics.md §3):
//! D_{κα,κ'β}(q) = Σ Φ_αβ(0κ; Rκ') / √(m_κ m_κ') · exp(2πi q·(R + f_κ' − f_κ)),
//! its analytic q-derivative, and the non-analytic correction for polar crystals.

use super::nac::GonzeNac;
use crate::crystal::Cell;
use crate::fc::Fc2;
use crate::linalg::{self, Vec3};
use num_complex::Complex64 as C64;
use std::f64::consts::PI;

/// One mass-weighted pair term, with its phase vector in reduced and Cartesian coordinates.
#[derive(Clone, Debug)]
struct Term {
    /// Row offset 3κ and column offset 3κ'.
    row: usize,
    col: usize,
    /// R + f_κ' − f_κ (primitive fractional coordinates).
    d_frac: Vec3,
    /// The same vector in Å.
    d_cart: Vec3,
    /// Φ / √(m m'), eV/(Å²·amu), row-major.
    phi: [f64; 9],
}

#[derive(Clone, Debug)]
pub struct DynamicalMatrix {
    n_atoms: usize,
    terms: Vec<Term>,
    nac: Option<GonzeNac>,
    primitive: Cell,
}

impl DynamicalMatrix {
    /// `fc` must already be the short-range part when `nac` is given (see nac.rs).
    pub fn new(primitive: &Cell, fc: &Fc2, nac: Option<GonzeNac>) -> DynamicalMatrix {
        let merged = fc.merged();
        let terms = merged
            .pairs
            .iter()
            .map(|p| {
                let c = [p.cell[0] as f64, p.cell[1] as f64, p.cell[2] as f64];
                let d_frac = linalg::sub(
                    &linalg::add(&c, &primitive.positions[p.j]),
                    &primitive.positions[p.i],
                );
                let w = 1.0 / (primitive.masses[p.i] * primitive.masses[p.j]).sqrt();
                let mut phi = [0.0; 9];
                for a in 0..3 {
                    for b in 0..3 {
                        phi[3 * a + b] = p.phi[a][b] * w;
                    }
                }
                Term {
                    row: 3 * p.i,
                    col: 3 * p.j,
                    d_frac,
                    d_cart: linalg::vec_mat(&d_frac, &primitive.lattice),
                    phi,
                }
            })
            .collect();
        DynamicalMatrix {
            n_atoms: primitive.n_atoms(),
            terms,
            nac,
            primitive: primitive.clone(),
        }
    }

    pub fn n_bands(&self) -> usize {
        3 * self.n_atoms
    }

    pub fn has_nac(&self) -> bool {
        self.nac.is_some()
    }

    pub fn primitive(&self) -> &Cell {
        &self.primitive
    }

    /// D(q) at reduced q, row-major 3n×3n, Hermitianized. `q_dir` (reduced) is the direction of
    /// approach used by the non-analytic term at q = 0; ignored elsewhere.
    pub fn compute(&self, q: &Vec3, q_dir: Option<&Vec3>, out: &mut [C64]) {
        let nb = self.n_bands();
        out.iter_mut().for_each(|x| *x = C64::new(0.0, 0.0));
        for t in &self.terms {
            let ph = 2.0 * PI * linalg::dot(q, &t.d_frac);
            let z = C64::new(ph.cos(), ph.sin());
            for a in 0..3 {
                let base = (t.row + a) * nb + t.col;
                for b in 0..3 {
                    out[base + b] += z * t.phi[3 * a + b];
                }
            }
        }
        if let Some(nac) = &self.nac {
            let qc = self.primitive.q_cartesian(q);
            let dir = q_dir.map(|d| self.primitive.q_cartesian(d));
            let dd = nac.dynamical_matrix(&qc, dir.as_ref());
            for (o, d) in out.iter_mut().zip(dd) {
                *o += d;
            }
        }
        hermitianize(out, nb);
    }

    /// ∂D/∂q_c along Cartesian c (q in Å⁻¹ without 2π), for c = 0, 1, 2.
    pub fn derivative(&self, q: &Vec3, out: &mut [Vec<C64>; 3]) {
        let nb = self.n_bands();
        for o in out.iter_mut() {
            o.clear();
            o.resize(nb * nb, C64::new(0.0, 0.0));
        }
        for t in &self.terms {
            let ph = 2.0 * PI * linalg::dot(q, &t.d_frac);
            let z = C64::new(ph.cos(), ph.sin());
            for (c, o) in out.iter_mut().enumerate() {
                let zc = z * C64::new(0.0, 2.0 * PI * t.d_cart[c]);
                for a in 0..3 {
                    let base = (t.row + a) * nb + t.col;
                    for b in 0..3 {
                        o[base + b] += zc * t.phi[3 * a + b];
                    }
                }
            }
        }
        if let Some(nac) = &self.nac {
            let qc = self.primitive.q_cartesian(q);
            if linalg::norm(&qc) > 1e-12 {
                let dd = nac.derivative(&qc);
                for (o, d) in out.iter_mut().zip(dd) {
                    for (x, y) in o.iter_mut().zip(d) {
                        *x += y;
                    }
                }
            }
        }
        for o in out.iter_mut() {
            hermitianize(o, nb);
        }
    }
}

/// D ← (D + D†)/2.
pub fn hermitianize(m: &mut [C64], n: usize) {
    for i in 0..n {
        m[i * n + i] = C64::new(m[i * n + i].re, 0.0);
        for j in i + 1..n {
            let a = (m[i * n + j] + m[j * n + i].conj()) * 0.5;
            m[i * n + j] = a;
            m[j * n + i] = a.conj();
        }
    }
}
