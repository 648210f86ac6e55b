//! Non-analytic term correction for polar crystals: the Gonze–Lee dipole–dipole form as phonopy
//! implements it by default (reciprocal-space Ewald sum only, `with_full_terms = False`).
//!
//! The dipole–dipole dynamical matrix D_dd(q) is evaluated at the q-points commensurate with the
//! fc2 supercell and transformed back to real space; that part is removed from the supercell
//! force constants once at load time (giving short-range fc), and D(q) = D_sr(q) + D_dd(q) at any q.
//! At q = 0 the G = 0 term is included only when a direction of approach is given.

use crate::crystal::Cell;
use crate::crystal::supercell::AtomMap;
use crate::error::{Error, Result};
use crate::fc::Fc2Array;
use crate::linalg::{self, Mat3, Vec3};
use num_complex::Complex64 as C64;
use std::f64::consts::PI;

/// Dielectric tensor ε∞ and Born effective charges Z*[field α][displacement β], one per
/// primitive atom, with the unit-conversion factor e²/(4πε₀) in eV·Å.
#[derive(Clone, Debug, PartialEq)]
pub struct Born {
    pub epsilon: Mat3,
    pub charges: Vec<Mat3>,
    pub factor: f64,
}

impl Born {
    /// Largest |Σ_κ Z*_κ| component: charge neutrality check.
    pub fn neutrality_violation(&self) -> f64 {
        let mut s = [[0.0; 3]; 3];
        for z in &self.charges {
            for a in 0..3 {
                for b in 0..3 {
                    s[a][b] += z[a][b];
                }
            }
        }
        s.iter().flatten().map(|x| x.abs()).fold(0.0, f64::max)
    }
}

/// Number of G points phonopy aims for inside the cutoff sphere.
pub const NUM_G_POINTS: f64 = 300.0;

#[derive(Clone, Debug)]
pub struct GonzeNac {
    born: Born,
    n: usize,
    masses: Vec<f64>,
    pos_cart: Vec<Vec3>,
    g_list: Vec<Vec3>,
    pub lambda: f64,
    pub g_cutoff: f64,
    /// factor · 4π / V (eV/Å²).
    prefactor: f64,
    /// Σ_j of the G-sum at q = 0 for each atom (removed from the diagonal blocks: ASR).
    dd_q0: Vec<[[C64; 3]; 3]>,
    tolerance: f64,
}

fn dielectric_part(k: &Vec3, eps: &Mat3) -> f64 {
    linalg::dot(k, &linalg::mat_vec(eps, k))
}

impl GonzeNac {
    pub fn new(prim: &Cell, born: Born) -> Result<GonzeNac> {
        let n = prim.n_atoms();
        if born.charges.len() != n {
            return Err(Error::input(format!(
                "{} Born charges for a {n}-atom primitive cell",
                born.charges.len()
            )));
        }
        if linalg::inverse(&born.epsilon).is_none()
            || born.epsilon.iter().flatten().any(|x| !x.is_finite())
        {
            return Err(Error::input(format!(
                "dielectric tensor is singular or not finite: {:?}",
                born.epsilon
            )));
        }
        let volume = prim.volume();
        let g_cutoff = (3.0 * NUM_G_POINTS / (4.0 * PI) / volume).cbrt();
        let tr_eps = (born.epsilon[0][0] + born.epsilon[1][1] + born.epsilon[2][2]) / 3.0;
        if tr_eps.is_nan() || tr_eps <= 0.0 {
            return Err(Error::input(format!(
                "dielectric tensor must be positive definite, trace/3 = {tr_eps}"
            )));
        }
        // exp(−G_cut² tr(ε)/3 / (4Λ²)) = 1e-10 fixes the Ewald parameter.
        let lambda = (g_cutoff * g_cutoff * tr_eps / (4.0 * (1e10f64).ln())).sqrt();
        let rec = prim.reciprocal();
        let mut g_list = Vec::new();
        let lens: Vec<f64> = prim.lattice.iter().map(linalg::norm).collect();
        let nmax: Vec<i32> = lens
            .iter()
            .map(|l| (g_cutoff * l).ceil() as i32 + 1)
            .collect();
        for i in -nmax[0]..=nmax[0] {
            for j in -nmax[1]..=nmax[1] {
                for k in -nmax[2]..=nmax[2] {
                    let g = linalg::vec_mat(&[i as f64, j as f64, k as f64], &rec);
                    if linalg::dot(&g, &g) < g_cutoff * g_cutoff {
                        g_list.push(g);
                    }
                }
            }
        }
        let pos_cart = (0..n).map(|i| prim.cartesian(i)).collect();
        let mut nac = GonzeNac {
            born,
            n,
            masses: prim.masses.clone(),
            pos_cart,
            g_list,
            lambda,
            g_cutoff,
            prefactor: 0.0,
            dd_q0: vec![[[C64::new(0.0, 0.0); 3]; 3]; n],
            tolerance: 1e-5,
        };
        nac.prefactor = nac.born.factor * 4.0 * PI / volume;
        let zz = nac.charge_weighted_sum(&[0.0; 3], None, None);
        for i in 0..n {
            for a in 0..3 {
                for b in 0..3 {
                    let s: C64 = (0..n).map(|j| zz[idx(n, i, a, j, b)]).sum();
                    nac.dd_q0[i][a][b] = s;
                }
            }
            // Hermitian part of each 3×3 block.
            let m = nac.dd_q0[i];
            for a in 0..3 {
                for b in 0..3 {
                    nac.dd_q0[i][a][b] = (m[a][b] + m[b][a].conj()) * 0.5;
                }
            }
        }
        Ok(nac)
    }

    pub fn n_g_vectors(&self) -> usize {
        self.g_list.len()
    }

    /// Σ_G Z_iᵀ K K ᵀ Z_j / (KεK) · e^{−KεK/4Λ²} · e^{2πi G·(r_i − r_j)}, K = q + G, and, when
    /// `dk` is given, its derivative with respect to q along Cartesian axis `dk`.
    fn charge_weighted_sum(&self, q: &Vec3, q_dir: Option<&Vec3>, dk: Option<usize>) -> Vec<C64> {
        let n = self.n;
        let eps = &self.born.epsilon;
        let l2 = 4.0 * self.lambda * self.lambda;
        let mut kk_sum = vec![C64::new(0.0, 0.0); 9 * n * n];
        for g in &self.g_list {
            let k = linalg::add(g, q);
            let mut kk = [[0.0; 3]; 3];
            if linalg::norm(&k) < self.tolerance {
                match (q_dir, dk) {
                    (Some(d), None) => {
                        let dp = dielectric_part(d, eps);
                        for a in 0..3 {
                            for b in 0..3 {
                                kk[a][b] = d[a] * d[b] / dp;
                            }
                        }
                    }
                    _ => continue,
                }
            } else {
                let dp = dielectric_part(&k, eps);
                let e = (-dp / l2).exp();
                match dk {
                    None => {
                        for a in 0..3 {
                            for b in 0..3 {
                                kk[a][b] = k[a] * k[b] / dp * e;
                            }
                        }
                    }
                    Some(c) => {
                        // d(KεK)/dK_c = ((ε + εᵀ) K)_c
                        let ddp: f64 = (0..3).map(|m| (eps[c][m] + eps[m][c]) * k[m]).sum();
                        for a in 0..3 {
                            for b in 0..3 {
                                let dnum = if a == c { k[b] } else { 0.0 }
                                    + if b == c { k[a] } else { 0.0 };
                                let num = k[a] * k[b];
                                kk[a][b] =
                                    e * (dnum / dp - num * ddp / (dp * dp) - num * ddp / (dp * l2));
                            }
                        }
                    }
                }
            }
            for i in 0..n {
                for j in 0..n {
                    let ph = 2.0
                        * PI
                        * linalg::dot(&linalg::sub(&self.pos_cart[i], &self.pos_cart[j]), g);
                    let z = C64::new(ph.cos(), ph.sin());
                    for a in 0..3 {
                        for b in 0..3 {
                            kk_sum[idx(n, i, a, j, b)] += z * kk[a][b];
                        }
                    }
                }
            }
        }
        // Contract with the Born charges: Σ_mn Z_i[m][a] Z_j[n][b] kk[i m j n].
        let mut out = vec![C64::new(0.0, 0.0); 9 * n * n];
        for i in 0..n {
            let zi = &self.born.charges[i];
            for j in 0..n {
                let zj = &self.born.charges[j];
                for a in 0..3 {
                    for b in 0..3 {
                        let mut s = C64::new(0.0, 0.0);
                        for m in 0..3 {
                            for nn in 0..3 {
                                s += kk_sum[idx(n, i, m, j, nn)] * (zi[m][a] * zj[nn][b]);
                            }
                        }
                        out[idx(n, i, a, j, b)] = s;
                    }
                }
            }
        }
        out
    }

    /// Mass-weighted dipole–dipole dynamical matrix at Cartesian q (Å⁻¹, no 2π), phonopy's
    /// position gauge, row-major 3n × 3n. `q_dir` (Cartesian) matters only at q = 0.
    pub fn dynamical_matrix(&self, q: &Vec3, q_dir: Option<&Vec3>) -> Vec<C64> {
        let mut dd = self.charge_weighted_sum(q, q_dir, None);
        let n = self.n;
        for i in 0..n {
            for a in 0..3 {
                for b in 0..3 {
                    dd[idx(n, i, a, i, b)] -= self.dd_q0[i][a][b];
                }
            }
        }
        self.finish(&mut dd);
        dd
    }

    /// ∂D_dd/∂q_c (Cartesian, per Å⁻¹ without 2π) for c = 0, 1, 2, at q ≠ 0.
    pub fn derivative(&self, q: &Vec3) -> [Vec<C64>; 3] {
        std::array::from_fn(|c| {
            let mut d = self.charge_weighted_sum(q, None, Some(c));
            self.finish(&mut d);
            d
        })
    }

    /// Applies the prefactor and the mass weighting. No q-dependent phase is needed: in the
    /// position gauge the sum over K = q + G carries only e^{2πi G·(r_κ − r_κ')}.
    fn finish(&self, m: &mut [C64]) {
        let n = self.n;
        for i in 0..n {
            for j in 0..n {
                let f = self.prefactor / (self.masses[i] * self.masses[j]).sqrt();
                for a in 0..3 {
                    for b in 0..3 {
                        m[idx(n, i, a, j, b)] *= f;
                    }
                }
            }
        }
    }

    /// Real-space force constants of the dipole–dipole term on the fc2 supercell (compact rows at
    /// the p2s atoms): the inverse transform of D_dd over the commensurate q-points.
    pub fn supercell_force_constants(
        &self,
        prim: &Cell,
        map: &AtomMap,
        n_super: usize,
    ) -> Result<Fc2Array> {
        // The truncated G sum is not invariant under q → q + G: evaluate at the shortest
        // representative of each commensurate point (first Brillouin zone), as phonopy does.
        let qs: Vec<Vec3> = commensurate_points(&map.super_in_prim)?
            .iter()
            .map(|q| to_first_bz(prim, q))
            .collect();
        let n = self.n;
        let p2s = map.p2s(n);
        let mut data = vec![[[0.0; 3]; 3]; n * n_super];
        let dms: Vec<Vec<C64>> = qs
            .iter()
            .map(|q| self.dynamical_matrix(&prim.q_cartesian(q), None))
            .collect();
        let nq = qs.len() as f64;
        for (i, &s0) in p2s.iter().enumerate() {
            for t in 0..n_super {
                let j = map.atom[t];
                let c = linalg::sub(
                    &[
                        map.cell[t][0] as f64,
                        map.cell[t][1] as f64,
                        map.cell[t][2] as f64,
                    ],
                    &[
                        map.cell[s0][0] as f64,
                        map.cell[s0][1] as f64,
                        map.cell[s0][2] as f64,
                    ],
                );
                let x = linalg::sub(&linalg::add(&c, &prim.positions[j]), &prim.positions[i]);
                let w = (self.masses[i] * self.masses[j]).sqrt() / nq;
                let block = &mut data[i * n_super + t];
                for (q, dm) in qs.iter().zip(&dms) {
                    let ph = -2.0 * PI * linalg::dot(q, &x);
                    let e = C64::new(ph.cos(), ph.sin());
                    for a in 0..3 {
                        for b in 0..3 {
                            block[a][b] += (dm[idx(n, i, a, j, b)] * e).re * w;
                        }
                    }
                }
            }
        }
        Ok(Fc2Array {
            rows: p2s,
            n_super,
            data,
        })
    }
}

#[inline]
fn idx(n: usize, i: usize, a: usize, j: usize, b: usize) -> usize {
    (3 * i + a) * 3 * n + 3 * j + b
}

/// The q + G (reduced) of smallest Cartesian length; the first one found wins ties.
pub fn to_first_bz(prim: &Cell, q: &Vec3) -> Vec3 {
    let mut best = *q;
    let mut best_len = f64::INFINITY;
    for i in -2..=2 {
        for j in -2..=2 {
            for k in -2..=2 {
                let c = [q[0] + i as f64, q[1] + j as f64, q[2] + k as f64];
                let l = linalg::norm(&prim.q_cartesian(&c));
                if l < best_len - 1e-12 {
                    best_len = l;
                    best = c;
                }
            }
        }
    }
    best
}

/// q-points (reduced, primitive basis, in [0,1)) commensurate with a supercell whose rows in the
/// primitive basis are `s`: those with s · q integer.
pub fn commensurate_points(s: &[[i32; 3]; 3]) -> Result<Vec<Vec3>> {
    let sf = linalg::to_f64(s);
    let n = linalg::det(&sf).abs().round() as usize;
    let inv = linalg::inverse(&sf).ok_or_else(|| Error::input("singular supercell matrix"))?;
    let bound: i32 = s.iter().flatten().map(|x| x.abs()).max().unwrap_or(1);
    let mut out: Vec<Vec3> = Vec::new();
    for a in -bound * 3..=bound * 3 {
        for b in -bound * 3..=bound * 3 {
            for c in -bound * 3..=bound * 3 {
                let q = linalg::mat_vec(&inv, &[a as f64, b as f64, c as f64]);
                let q = q.map(|x| {
                    let y = x - x.floor();
                    if (1.0 - y).abs() < 1e-9 { 0.0 } else { y }
                });
                if !out
                    .iter()
                    .any(|p| (0..3).all(|k| (p[k] - q[k]).abs() < 1e-9))
                {
                    out.push(q);
                }
            }
        }
    }
    if out.len() != n {
        return Err(Error::Numerical(format!(
            "found {} commensurate q-points, expected {n}",
            out.len()
        )));
    }
    Ok(out)
}
