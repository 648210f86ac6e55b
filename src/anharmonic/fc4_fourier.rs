//! The reciprocal fourth-order force constants and the four-phonon interaction strength
//! |V_{λλ'λ''λ'''}|² (physics.md §7), in the position gauge of the three-phonon vertex:
//!
//!   V = Σ Ψ_αβγδ(0κ, R'κ', R''κ'', R'''κ''') e_α(κ) e_β(κ') e_γ(κ'') e_δ(κ''') / √(m m' m'' m''')
//!       · exp(2πi [q₀·x_κ + q₁·(R' + x_κ') + q₂·(R'' + x_κ'') + q₃·(R''' + x_κ''')])
//!
//! (eV/Å⁴/amu²), with q₀ + q₁ + q₂ + q₃ a reciprocal lattice vector. A leg that carries a
//! phonon of momentum −q takes q with the eigenvector conjugated (e(−q) = e(q)* in this gauge),
//! which is how the three process classes (++, +−, −−) are built from one function.

use crate::crystal::Cell;
use crate::fc::fc4::Fc4;
use crate::linalg::Vec3;
use num_complex::Complex64 as C64;
use std::f64::consts::TAU;

/// (site j, site k, site l, Ψ/√(m m m m)) of one quartet term.
type Term = (u32, u32, u32, [f64; 81]);

/// fc4 rearranged for repeated Fourier sums: unique (atom, cell) sites (one phase per site per
/// q) and terms grouped by atom quartet, each group summed into one 81-component block.
pub struct Fc4Fourier {
    n_atoms: usize,
    /// Fractional position (cell + x) of each site.
    sites: Vec<Vec3>,
    /// (site j, site k, site l, Ψ/√(m m m m)), sorted by atom quartet.
    terms: Vec<Term>,
    /// Atom quartet of each group and where its terms start (plus the end).
    groups: Vec<([usize; 4], usize)>,
    positions: Vec<Vec3>,
}

/// Work arrays of one thread: the reciprocal tensor and the partial contractions (nb⁴ each).
pub struct Fc4Scratch {
    w: Vec<C64>,
    t: Vec<C64>,
    phases: [Vec<C64>; 3],
}

impl Fc4Scratch {
    pub fn new(fc4: &Fc4Fourier) -> Fc4Scratch {
        let nb = fc4.n_bands();
        let n4 = nb * nb * nb * nb;
        Fc4Scratch {
            w: vec![C64::new(0.0, 0.0); n4],
            t: vec![C64::new(0.0, 0.0); n4],
            phases: std::array::from_fn(|_| vec![C64::new(0.0, 0.0); fc4.sites.len()]),
        }
    }
}

impl Fc4Fourier {
    pub fn new(prim: &Cell, fc4: &Fc4) -> Fc4Fourier {
        let mut index: std::collections::HashMap<(usize, [i32; 3]), u32> = Default::default();
        let mut sites: Vec<Vec3> = Vec::new();
        let mut site_atoms: Vec<usize> = Vec::new();
        let mut site_of = |atom: usize, cell: [i32; 3]| -> u32 {
            *index.entry((atom, cell)).or_insert_with(|| {
                let x = prim.positions[atom];
                sites.push(std::array::from_fn(|c| cell[c] as f64 + x[c]));
                site_atoms.push(atom);
                (sites.len() - 1) as u32
            })
        };
        let mut terms: Vec<([usize; 4], Term)> = fc4
            .terms
            .iter()
            .filter(|t| t.phi.iter().any(|x| *x != 0.0))
            .map(|t| {
                let w = 1.0
                    / (prim.masses[t.i] * prim.masses[t.j] * prim.masses[t.k] * prim.masses[t.l])
                        .sqrt();
                (
                    [t.i, t.j, t.k, t.l],
                    (
                        site_of(t.j, t.cell_j),
                        site_of(t.k, t.cell_k),
                        site_of(t.l, t.cell_l),
                        t.phi.map(|x| x * w),
                    ),
                )
            })
            .collect();
        // Stable order: sums over terms do not depend on the file's block order within a group.
        terms.sort_by_key(|(atoms, t)| (*atoms, t.0, t.1, t.2));
        let mut groups = Vec::new();
        for (n, (atoms, _)) in terms.iter().enumerate() {
            if groups.last().is_none_or(|(a, _)| a != atoms) {
                groups.push((*atoms, n));
            }
        }
        groups.push(([0; 4], terms.len()));
        Fc4Fourier {
            n_atoms: prim.n_atoms(),
            sites,
            terms: terms.into_iter().map(|(_, t)| t).collect(),
            groups,
            positions: prim.positions.clone(),
        }
    }

    pub fn n_bands(&self) -> usize {
        3 * self.n_atoms
    }

    /// The reciprocal tensor W[A][B][C][D] (A = 3κ + α, row-major, nb⁴ values) for the phase
    /// momenta `q` (reduced; their sum a reciprocal lattice vector) into `scratch.w`.
    fn reciprocal(&self, q: &[Vec3; 4], scratch: &mut Fc4Scratch) {
        let nb = self.n_bands();
        let Fc4Scratch { w, phases, .. } = scratch;
        w.iter_mut().for_each(|x| *x = C64::new(0.0, 0.0));
        for (leg, table) in phases.iter_mut().enumerate() {
            for (p, x) in table.iter_mut().zip(&self.sites) {
                let t = TAU * (q[leg + 1][0] * x[0] + q[leg + 1][1] * x[1] + q[leg + 1][2] * x[2]);
                *p = C64::new(t.cos(), t.sin());
            }
        }
        let home: Vec<C64> = self
            .positions
            .iter()
            .map(|x| {
                let t = TAU * (q[0][0] * x[0] + q[0][1] * x[1] + q[0][2] * x[2]);
                C64::new(t.cos(), t.sin())
            })
            .collect();
        let (s1, s2, s3) = (nb * nb * nb, nb * nb, nb);
        for g in 0..self.groups.len() - 1 {
            let (atoms, start) = self.groups[g];
            let end = self.groups[g + 1].1;
            let mut re = [0.0f64; 81];
            let mut im = [0.0f64; 81];
            for (j, k, l, psi) in &self.terms[start..end] {
                let p = phases[0][*j as usize] * phases[1][*k as usize] * phases[2][*l as usize];
                for c in 0..81 {
                    re[c] += p.re * psi[c];
                    im[c] += p.im * psi[c];
                }
            }
            let h = home[atoms[0]];
            let base = 3 * atoms[0] * s1 + 3 * atoms[1] * s2 + 3 * atoms[2] * s3 + 3 * atoms[3];
            for c in 0..81 {
                let (a, b, cc, d) = (c / 27, c / 9 % 3, c / 3 % 3, c % 3);
                w[base + a * s1 + b * s2 + cc * s3 + d] += h * C64::new(re[c], im[c]);
            }
        }
    }

    /// |V|² for every band quartet, `out[((s0·nb + s1)·nb + s2)·nb + s3]`, for phase momenta
    /// `q` and the eigenvectors `e[leg][s·nb + component]` of each leg (already conjugated
    /// where the leg carries −q).
    pub fn strength(
        &self,
        q: &[Vec3; 4],
        e: [&[C64]; 4],
        scratch: &mut Fc4Scratch,
        out: &mut [f64],
    ) {
        let nb = self.n_bands();
        self.reciprocal(q, scratch);
        let Fc4Scratch { w, t, .. } = scratch;
        // Contract the last index with leg 3, then rotate the result so that the next leg's
        // index is last again: W[A][B][C][D] → T[s3][A][B][C] → W[s2][s3][A][B] → …; after four
        // steps the array is V[s0][s1][s2][s3].
        for leg in (0..4).rev() {
            let ev = e[leg];
            let rest = nb * nb * nb;
            for s in 0..nb {
                let v = &ev[s * nb..(s + 1) * nb];
                let dst = &mut t[s * rest..(s + 1) * rest];
                for (r, d) in dst.iter_mut().enumerate() {
                    let src = &w[r * nb..(r + 1) * nb];
                    *d = src.iter().zip(v).map(|(x, y)| x * y).sum();
                }
            }
            std::mem::swap(w, t);
        }
        for (o, v) in out.iter_mut().zip(w.iter()) {
            *o = v.norm_sqr();
        }
    }
}
