//! The reciprocal-space third-order force constants and the three-phonon interaction strength
//! |V_{λλ'λ''}|² of physics.md §6, in phonopy's position gauge:
//!
//!   V = Σ Φ_αβγ(0κ, R'κ', R''κ'') e_α(κ,λ) e_β(κ',λ') e_γ(κ'',λ'') / √(m_κ m_κ' m_κ'')
//!       · exp(2πi [q·x_κ + q'·(R' + x_κ') + q''·(R'' + x_κ'')])
//!
//! (eV/Å³/amu^{3/2}). Any representatives of q, q', q'' may be used as long as the eigenvectors
//! were computed at those same vectors: the gauge factors then cancel.

use crate::crystal::Cell;
use crate::fc::fc3::Fc3;
use crate::linalg::Vec3;
use num_complex::Complex64 as C64;
use std::f64::consts::TAU;

/// fc3 rearranged for repeated Fourier sums: unique (atom, lattice cell) sites, so that each
/// triplet needs one phase per site, and terms grouped by atom triple (κ, κ', κ'') so that each
/// group is summed into one contiguous 27-component accumulator (SIMD-friendly) and scattered
/// into the reciprocal array once.
pub struct Fc3Fourier {
    n_atoms: usize,
    /// Fractional position (cell + x) of each site, and its atom.
    sites: Vec<(usize, Vec3)>,
    /// (κ, site j, site k, Φ / √(m m m)), sorted by (κ, κ', κ'').
    terms: Vec<(usize, usize, usize, [f64; 27])>,
    /// Start of each atom-triple group in `terms` (plus the end).
    groups: Vec<usize>,
    positions: Vec<Vec3>,
}

impl Fc3Fourier {
    pub fn new(prim: &Cell, fc3: &Fc3) -> Fc3Fourier {
        let mut index: std::collections::HashMap<(usize, [i32; 3]), usize> = Default::default();
        let mut sites = Vec::new();
        let mut site_of = |atom: usize, cell: [i32; 3]| -> usize {
            *index.entry((atom, cell)).or_insert_with(|| {
                let x = prim.positions[atom];
                sites.push((
                    atom,
                    [
                        cell[0] as f64 + x[0],
                        cell[1] as f64 + x[1],
                        cell[2] as f64 + x[2],
                    ],
                ));
                sites.len() - 1
            })
        };
        let mut terms: Vec<(usize, usize, usize, [f64; 27])> = fc3
            .terms
            .iter()
            .map(|t| {
                let w = 1.0 / (prim.masses[t.i] * prim.masses[t.j] * prim.masses[t.k]).sqrt();
                (
                    t.i,
                    site_of(t.j, t.cell_j),
                    site_of(t.k, t.cell_k),
                    t.phi.map(|x| x * w),
                )
            })
            .collect();
        let atoms = |t: &(usize, usize, usize, [f64; 27])| (t.0, sites[t.1].0, sites[t.2].0);
        terms.sort_by_key(|t| (atoms(t), t.1, t.2));
        let mut groups = vec![0];
        for w in 1..terms.len() {
            if atoms(&terms[w]) != atoms(&terms[w - 1]) {
                groups.push(w);
            }
        }
        groups.push(terms.len());
        Fc3Fourier {
            n_atoms: prim.n_atoms(),
            sites,
            terms,
            groups,
            positions: prim.positions.clone(),
        }
    }

    pub fn n_bands(&self) -> usize {
        3 * self.n_atoms
    }

    /// Mass-weighted reciprocal fc3 at (q, q', q''), `out[(a·nb + b)·nb + c]` with a = 3κ + α.
    pub fn reciprocal(&self, q: &[Vec3; 3], out: &mut [C64]) {
        let nb = self.n_bands();
        out.iter_mut().for_each(|x| *x = C64::new(0.0, 0.0));
        let phase = |q: &Vec3, x: &Vec3| {
            let t = TAU * (q[0] * x[0] + q[1] * x[1] + q[2] * x[2]);
            C64::new(t.cos(), t.sin())
        };
        let p0: Vec<C64> = self.positions.iter().map(|x| phase(&q[0], x)).collect();
        let p1: Vec<C64> = self.sites.iter().map(|s| phase(&q[1], &s.1)).collect();
        let p2: Vec<C64> = self.sites.iter().map(|s| phase(&q[2], &s.1)).collect();
        for g in self.groups.windows(2) {
            let mut re = [0.0f64; 27];
            let mut im = [0.0f64; 27];
            for &(i, sj, sk, ref phi) in &self.terms[g[0]..g[1]] {
                let p = p0[i] * p1[sj] * p2[sk];
                for c in 0..27 {
                    re[c] += p.re * phi[c];
                    im[c] += p.im * phi[c];
                }
            }
            let (i, sj, sk, _) = self.terms[g[0]];
            let (j, k) = (self.sites[sj].0, self.sites[sk].0);
            for al in 0..3 {
                for be in 0..3 {
                    let base = ((3 * i + al) * nb + 3 * j + be) * nb + 3 * k;
                    for ga in 0..3 {
                        let c = 9 * al + 3 * be + ga;
                        out[base + ga] = C64::new(re[c], im[c]);
                    }
                }
            }
        }
    }

    /// |V|² for every band triple, `out[(s0·nb + s1)·nb + s2]`, from the reciprocal fc3 and the
    /// eigenvectors at the three q (`e[q][s·nb + component]`). `work` holds nb³ values.
    pub fn strength(&self, rec: &[C64], e: [&[C64]; 3], work: &mut [C64], out: &mut [f64]) {
        let nb = self.n_bands();
        // T1[a][b][s2] = Σ_c rec[a][b][c] e2[s2][c]
        for ab in 0..nb * nb {
            let row = &rec[ab * nb..(ab + 1) * nb];
            for s2 in 0..nb {
                let ev = &e[2][s2 * nb..(s2 + 1) * nb];
                work[ab * nb + s2] = row.iter().zip(ev).map(|(r, v)| r * v).sum();
            }
        }
        // T2[a][s1][s2] = Σ_b e1[s1][b] T1[a][b][s2]; then V = Σ_a e0[s0][a] T2[a][s1][s2].
        let mut t2 = vec![C64::new(0.0, 0.0); nb * nb * nb];
        for a in 0..nb {
            for s1 in 0..nb {
                let ev = &e[1][s1 * nb..(s1 + 1) * nb];
                let dst = &mut t2[(a * nb + s1) * nb..(a * nb + s1 + 1) * nb];
                for (b, eb) in ev.iter().enumerate() {
                    let src = &work[(a * nb + b) * nb..(a * nb + b + 1) * nb];
                    for (d, s) in dst.iter_mut().zip(src) {
                        *d += eb * s;
                    }
                }
            }
        }
        for s0 in 0..nb {
            let ev = &e[0][s0 * nb..(s0 + 1) * nb];
            for s12 in 0..nb * nb {
                let v: C64 = (0..nb).map(|a| ev[a] * t2[a * nb * nb + s12]).sum();
                out[s0 * nb * nb + s12] = v.norm_sqr();
            }
        }
    }
}
