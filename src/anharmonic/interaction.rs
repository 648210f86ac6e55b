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

    /// The fc3 partially transformed for a fixed q (the first leg). With q'' = −q − q' + G,
    /// the phase of a term factorizes as e^{2πi q·(x_κ − r_κ'')} · e^{2πi G·x_κ''} ·
    /// e^{2πi q'·(r_κ' − r_κ'')}, so terms sharing (κ, κ', κ'', R' − R'') collapse into one
    /// complex tensor: for Si 11³ that is 2096 entries instead of 38954 terms, and the sum per
    /// triplet costs ~5× less.
    pub fn at_q(&self, q: &Vec3) -> Fc3AtQ {
        let mut index: std::collections::HashMap<(usize, usize, usize, [i64; 3]), usize> =
            Default::default();
        let mut keys: Vec<(usize, usize, usize, [i64; 3])> = Vec::new();
        let mut acc: Vec<[C64; 27]> = Vec::new();
        for &(i, sj, sk, ref phi) in &self.terms {
            let (j, rj) = self.sites[sj];
            let (k, rk) = self.sites[sk];
            // R' − R'' as an integer vector (positions minus basis offsets are integral).
            let d: [i64; 3] = std::array::from_fn(|c| {
                ((rj[c] - self.positions[j][c]) - (rk[c] - self.positions[k][c])).round() as i64
            });
            let key = (i, j, k, d);
            let slot = *index.entry(key).or_insert_with(|| {
                keys.push(key);
                acc.push([C64::new(0.0, 0.0); 27]);
                keys.len() - 1
            });
            let x = &self.positions[i];
            let t = TAU * (q[0] * (x[0] - rk[0]) + q[1] * (x[1] - rk[1]) + q[2] * (x[2] - rk[2]));
            let p = C64::new(t.cos(), t.sin());
            for (a, f) in acc[slot].iter_mut().zip(phi) {
                *a += p * f;
            }
        }
        // Group by atom triple (entries were created in term order, which is grouped already,
        // but sort to be independent of that).
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by_key(|&e| keys[e]);
        let mut out = Fc3AtQ {
            nb: self.n_bands(),
            q: *q,
            triples: vec![],
            starts: vec![],
            cells: vec![],
            cell_min: [0; 3],
            cell_max: [0; 3],
            a_re: vec![],
            a_im: vec![],
            positions: self.positions.clone(),
        };
        for (n, &e) in order.iter().enumerate() {
            let (i, j, k, d) = keys[e];
            if n == 0 || out.triples.last() != Some(&(i, j, k)) {
                out.triples.push((i, j, k));
                out.starts.push(n);
            }
            out.cells.push(d.map(|x| x as i32));
            for c in 0..3 {
                out.cell_min[c] = out.cell_min[c].min(d[c] as i32);
                out.cell_max[c] = out.cell_max[c].max(d[c] as i32);
            }
            out.a_re
                .push(std::array::from_fn(|c| acc[e].get(c).map_or(0.0, |z| z.re)));
            out.a_im
                .push(std::array::from_fn(|c| acc[e].get(c).map_or(0.0, |z| z.im)));
        }
        out.starts.push(order.len());
        out
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

/// fc3 with the first leg transformed at a fixed q (see `Fc3Fourier::at_q`).
pub struct Fc3AtQ {
    nb: usize,
    q: Vec3,
    /// Atom triples and where their entries start in the arrays below (plus the end).
    triples: Vec<(usize, usize, usize)>,
    starts: Vec<usize>,
    /// R' − R'' of each entry, and the range of its components.
    cells: Vec<[i32; 3]>,
    cell_min: [i32; 3],
    cell_max: [i32; 3],
    /// Real and imaginary parts, padded to 28 lanes (a whole number of SIMD vectors).
    a_re: Vec<[f64; 28]>,
    a_im: Vec<[f64; 28]>,
    positions: Vec<Vec3>,
}

impl Fc3AtQ {
    /// The same array as `Fc3Fourier::reciprocal(&[q, q1, q2])` for this q.
    pub fn reciprocal(&self, q1: &Vec3, q2: &Vec3, out: &mut [C64]) {
        let nb = self.nb;
        out.iter_mut().for_each(|x| *x = C64::new(0.0, 0.0));
        let g: Vec3 = std::array::from_fn(|c| self.q[c] + q1[c] + q2[c]);
        // e^{2πi q'_c n} for the integer range of each component of R' − R'': three short
        // tables replace a sin/cos per entry.
        let tables: [Vec<C64>; 3] = std::array::from_fn(|c| {
            (self.cell_min[c]..=self.cell_max[c])
                .map(|n| {
                    let t = TAU * q1[c] * n as f64;
                    C64::new(t.cos(), t.sin())
                })
                .collect()
        });
        let mut phases: Vec<(f64, f64)> = Vec::new();
        for (t, &(i, j, k)) in self.triples.iter().enumerate() {
            let range = self.starts[t]..self.starts[t + 1];
            phases.clear();
            phases.extend(self.cells[range.clone()].iter().map(|d| {
                let z = tables[0][(d[0] - self.cell_min[0]) as usize]
                    * tables[1][(d[1] - self.cell_min[1]) as usize]
                    * tables[2][(d[2] - self.cell_min[2]) as usize];
                (z.re, z.im)
            }));
            let (mut re, mut im) = ([0.0f64; 28], [0.0f64; 28]);
            accumulate(
                &self.a_re[range.clone()],
                &self.a_im[range],
                &phases,
                &mut re,
                &mut im,
            );
            // The basis offsets: e^{2πi q'·(x_κ' − x_κ'')} e^{2πi G·x_κ''}.
            let (xj, xk) = (&self.positions[j], &self.positions[k]);
            let ph = TAU
                * (0..3)
                    .map(|c| q1[c] * (xj[c] - xk[c]) + g[c] * xk[c])
                    .sum::<f64>();
            let f = C64::new(ph.cos(), ph.sin());
            for al in 0..3 {
                for be in 0..3 {
                    let base = ((3 * i + al) * nb + 3 * j + be) * nb + 3 * k;
                    for ga in 0..3 {
                        let n = 9 * al + 3 * be + ga;
                        out[base + ga] = f * C64::new(re[n], im[n]);
                    }
                }
            }
        }
    }
}

crate::simd::avx2_dispatch!(
    /// Σ_e a_e z_e over the entries of one atom triple (28 lanes; the hot loop of the
    /// linewidths), with AVX2 where the CPU has it (bit-identical to the baseline form).
    fn accumulate(
        a_re: &[[f64; 28]],
        a_im: &[[f64; 28]],
        phases: &[(f64, f64)],
        re: &mut [f64; 28],
        im: &mut [f64; 28],
    ) {
        for ((ar, ai), &(c, s)) in a_re.iter().zip(a_im).zip(phases) {
            for n in 0..28 {
                re[n] += ar[n] * c - ai[n] * s;
                im[n] += ar[n] * s + ai[n] * c;
            }
        }
    }
);
