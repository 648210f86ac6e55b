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
///
/// Within a group the terms are sorted into buckets of equal R'' + x_κ'' − (R''' + x_κ''') = d.
/// With q₃ = G − q₀ − q₁ − q₂ (G integer) a term's phase is
/// q₀·(x_κ − r''') + q₁·(r' − r''') + q₂·d + G·x_κ''', so for all the (q', q'') pairs of one
/// row (fixed q₀, q₁) each bucket's terms sum once into an 81-component block B, and each pair
/// then only adds up its buckets' B with the phase of q₂·d (`Fc4Row`): on SW Si 658 terms fall
/// into 136 buckets.
pub struct Fc4Fourier {
    n_atoms: usize,
    /// Fractional position (cell + x) of each site.
    sites: Vec<Vec3>,
    /// (site j, site k, site l, Ψ/√(m m m m)), sorted by atom quartet, then bucket.
    terms: Vec<Term>,
    /// Per term, x_κ − r''' and r' − r''' (fractional): the row phase's coefficients of q₀, q₁.
    row_vectors: Vec<[Vec3; 2]>,
    /// Atom quartet of each group and where its terms start (plus the end).
    groups: Vec<([usize; 4], usize)>,
    /// d of each bucket and where its terms start (plus the end); `group_buckets[g]` is the
    /// first bucket of group g (plus the end).
    buckets: Vec<(Vec3, usize)>,
    group_buckets: Vec<usize>,
    /// The distinct d of the buckets (one phase each per pair) and each bucket's index into it.
    distinct_d: Vec<Vec3>,
    bucket_d: Vec<usize>,
    /// Offset of component (α, β, γ, δ) = c inside an atom quartet's block of W.
    block_offsets: [usize; 81],
    /// Every atom quartet has a group, so W needs no zeroing between pairs.
    complete: bool,
    positions: Vec<Vec3>,
}

/// The bucket sums B of one row (fixed q₀, q₁), [bucket][81] each part, and its work array.
pub struct Fc4Row {
    re: Vec<[f64; 81]>,
    im: Vec<[f64; 81]>,
    phases: Vec<C64>,
}

impl Fc4Row {
    pub fn new(fc4: &Fc4Fourier) -> Fc4Row {
        let n = fc4.buckets.len() - 1;
        Fc4Row {
            re: vec![[0.0; 81]; n],
            im: vec![[0.0; 81]; n],
            phases: Vec::with_capacity(fc4.terms.len()),
        }
    }
}

/// A complex array stored as its real and imaginary parts, so that the contractions are plain
/// vector arithmetic.
#[derive(Clone)]
struct Split {
    re: Vec<f64>,
    im: Vec<f64>,
}

impl Split {
    fn zeros(n: usize) -> Split {
        Split {
            re: vec![0.0; n],
            im: vec![0.0; n],
        }
    }
}

/// Work arrays of one thread: the reciprocal tensor W (nb⁴), the partial contractions (nb³,
/// nb², nb), the phases of each site per leg and of each term of a group, and the order in
/// which the asked-for band quartets are visited.
pub struct Fc4Scratch {
    w: Split,
    t: [Split; 3],
    phases: [Vec<C64>; 3],
    term_phases: Vec<C64>,
    d_phases: Vec<C64>,
    atom_phases: Vec<C64>,
    order: Vec<usize>,
}

impl Fc4Scratch {
    pub fn new(fc4: &Fc4Fourier) -> Fc4Scratch {
        let nb = fc4.n_bands();
        let n4 = nb * nb * nb * nb;
        let zero = C64::new(0.0, 0.0);
        Fc4Scratch {
            w: Split::zeros(n4),
            t: [nb * nb * nb, nb * nb, nb].map(Split::zeros),
            phases: std::array::from_fn(|_| vec![zero; fc4.sites.len()]),
            term_phases: Vec::new(),
            d_phases: Vec::new(),
            atom_phases: Vec::new(),
            order: Vec::new(),
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
        let mut terms: Vec<([usize; 4], [i32; 3], Term)> = fc4
            .terms
            .iter()
            .filter(|t| t.phi.iter().any(|x| *x != 0.0))
            .map(|t| {
                let w = 1.0
                    / (prim.masses[t.i] * prim.masses[t.j] * prim.masses[t.k] * prim.masses[t.l])
                        .sqrt();
                (
                    [t.i, t.j, t.k, t.l],
                    std::array::from_fn(|c| t.cell_k[c] - t.cell_l[c]),
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
        terms.sort_by_key(|(atoms, dkl, t)| (*atoms, *dkl, t.0, t.1, t.2));
        let (mut groups, mut buckets, mut group_buckets) = (Vec::new(), Vec::new(), Vec::new());
        let mut d_index: std::collections::HashMap<(usize, usize, [i32; 3]), usize> =
            Default::default();
        let (mut distinct_d, mut bucket_d) = (Vec::new(), Vec::new());
        for (n, (atoms, dkl, t)) in terms.iter().enumerate() {
            let new_group = groups.last().is_none_or(|(a, _)| a != atoms);
            if new_group {
                groups.push((*atoms, n));
                group_buckets.push(buckets.len());
            }
            if new_group || terms[n - 1].1 != *dkl {
                let (k, l) = (sites[t.1 as usize], sites[t.2 as usize]);
                let d: Vec3 = std::array::from_fn(|c| k[c] - l[c]);
                buckets.push((d, n));
                let next = distinct_d.len();
                let at = *d_index.entry((atoms[2], atoms[3], *dkl)).or_insert(next);
                if at == next {
                    distinct_d.push(d);
                }
                bucket_d.push(at);
            }
        }
        groups.push(([0; 4], terms.len()));
        buckets.push(([0.0; 3], terms.len()));
        group_buckets.push(buckets.len() - 1);
        let row_vectors = terms
            .iter()
            .map(|(atoms, _, t)| {
                let (x, j, l) = (
                    prim.positions[atoms[0]],
                    sites[t.0 as usize],
                    sites[t.2 as usize],
                );
                [
                    std::array::from_fn(|c| x[c] - l[c]),
                    std::array::from_fn(|c| j[c] - l[c]),
                ]
            })
            .collect();
        let nb = 3 * prim.n_atoms();
        let block_offsets = std::array::from_fn(|c| {
            let (a, b, cc, d) = (c / 27, c / 9 % 3, c / 3 % 3, c % 3);
            ((a * nb + b) * nb + cc) * nb + d
        });
        Fc4Fourier {
            n_atoms: prim.n_atoms(),
            sites,
            terms: terms.into_iter().map(|(_, _, t)| t).collect(),
            row_vectors,
            complete: groups.len() - 1 == prim.n_atoms().pow(4),
            groups,
            buckets,
            group_buckets,
            distinct_d,
            bucket_d,
            block_offsets,
            positions: prim.positions.clone(),
        }
    }

    /// The bucket sums of the row of phase momenta q₀ (the mode's) and q₁ (the first partner's).
    pub fn row(&self, q0: &Vec3, q1: &Vec3, row: &mut Fc4Row) {
        row.phases.clear();
        row.phases.extend(self.row_vectors.iter().map(|[h, a]| {
            let t = TAU * (0..3).map(|c| q0[c] * h[c] + q1[c] * a[c]).sum::<f64>();
            C64::new(t.cos(), t.sin())
        }));
        for b in 0..self.buckets.len() - 1 {
            let (start, end) = (self.buckets[b].1, self.buckets[b + 1].1);
            let (re, im) = (&mut row.re[b], &mut row.im[b]);
            accumulate(&self.terms[start..end], &row.phases[start..end], re, im);
        }
    }

    pub fn n_bands(&self) -> usize {
        3 * self.n_atoms
    }

    /// Nonzero fc4 blocks (each 81 components) summed per (q', q'') pair.
    pub fn n_terms(&self) -> usize {
        self.terms.len()
    }

    /// Distinct (atom, cell) sites, each needing one phase per leg and pair.
    pub fn n_sites(&self) -> usize {
        self.sites.len()
    }

    /// Buckets of terms with equal d (see the type's note), summed per pair within a row.
    pub fn n_buckets(&self) -> usize {
        self.buckets.len() - 1
    }

    /// The reciprocal tensor W[A][B][C][D] (A = 3κ + α, row-major, nb⁴ values) for the phase
    /// momenta `q` (reduced; their sum a reciprocal lattice vector) into `scratch.w`.
    fn reciprocal(&self, q: &[Vec3; 4], scratch: &mut Fc4Scratch) {
        let Fc4Scratch {
            w,
            phases,
            term_phases,
            atom_phases,
            ..
        } = scratch;
        self.clear_missing_blocks(w);
        for (leg, table) in phases.iter_mut().enumerate() {
            for (p, x) in table.iter_mut().zip(&self.sites) {
                *p = unit_phase(&q[leg + 1], x);
            }
        }
        atom_phases.clear();
        atom_phases.extend(self.positions.iter().map(|x| unit_phase(&q[0], x)));
        for g in 0..self.groups.len() - 1 {
            let (atoms, start) = self.groups[g];
            let end = self.groups[g + 1].1;
            let terms = &self.terms[start..end];
            term_phases.clear();
            term_phases.extend(terms.iter().map(|(j, k, l, _)| {
                phases[0][*j as usize] * phases[1][*k as usize] * phases[2][*l as usize]
            }));
            let (mut re, mut im) = ([0.0f64; 81], [0.0f64; 81]);
            accumulate(terms, term_phases, &mut re, &mut im);
            self.write_block(w, atoms, atom_phases[atoms[0]], &re, &im);
        }
    }

    /// Zeros the blocks of W that no atom quartet writes (none when every quartet has terms):
    /// each group writes its own block whole, so nothing else needs clearing between pairs.
    fn clear_missing_blocks(&self, w: &mut Split) {
        if !self.complete {
            w.re.fill(0.0);
            w.im.fill(0.0);
        }
    }

    /// W's block of atom quartet `atoms` = h · (re + i im).
    fn write_block(
        &self,
        w: &mut Split,
        atoms: [usize; 4],
        h: C64,
        re: &[f64; 81],
        im: &[f64; 81],
    ) {
        let nb = self.n_bands();
        let base = ((3 * atoms[0] * nb + 3 * atoms[1]) * nb + 3 * atoms[2]) * nb + 3 * atoms[3];
        for (c, &offset) in self.block_offsets.iter().enumerate() {
            let n = base + offset;
            w.re[n] = h.re * re[c] - h.im * im[c];
            w.im[n] = h.re * im[c] + h.im * re[c];
        }
    }

    /// W for the phase momenta `q` of a pair in `row` (built for q[0], q[1]) into `scratch.w`:
    /// the same tensor as `reciprocal`, from the row's bucket sums.
    fn reciprocal_in_row(&self, row: &Fc4Row, q: &[Vec3; 4], scratch: &mut Fc4Scratch) {
        let Fc4Scratch {
            w,
            term_phases,
            d_phases,
            atom_phases,
            ..
        } = scratch;
        self.clear_missing_blocks(w);
        let g: Vec3 = std::array::from_fn(|c| (q[0][c] + q[1][c] + q[2][c] + q[3][c]).round());
        atom_phases.clear();
        atom_phases.extend(self.positions.iter().map(|x| unit_phase(&g, x)));
        d_phases.clear();
        d_phases.extend(self.distinct_d.iter().map(|d| unit_phase(&q[2], d)));
        term_phases.clear();
        term_phases.extend(self.bucket_d.iter().map(|&i| d_phases[i]));
        for (gi, &(atoms, _)) in self.groups[..self.groups.len() - 1].iter().enumerate() {
            let (first, last) = (self.group_buckets[gi], self.group_buckets[gi + 1]);
            let (mut re, mut im) = ([0.0f64; 81], [0.0f64; 81]);
            accumulate_complex(
                &row.re[first..last],
                &row.im[first..last],
                &term_phases[first..last],
                &mut re,
                &mut im,
            );
            self.write_block(w, atoms, atom_phases[atoms[3]], &re, &im);
        }
    }

    /// As `strength`, for a pair of the row `row` was built for (q[0], q[1]).
    pub fn strength_in_row(
        &self,
        row: &Fc4Row,
        q: &[Vec3; 4],
        e: [&[C64]; 4],
        bands: &[[u8; 4]],
        scratch: &mut Fc4Scratch,
        out: &mut Vec<f64>,
    ) {
        self.reciprocal_in_row(row, q, scratch);
        contract_bands(e, bands, scratch, out);
    }

    /// |V|² of the band quartets `bands` (`out[i]` for `bands[i]`) for phase momenta `q` and
    /// the eigenvectors `e[leg][s·nb + component]` of each leg (already conjugated where the
    /// leg carries −q).
    pub fn strength(
        &self,
        q: &[Vec3; 4],
        e: [&[C64]; 4],
        bands: &[[u8; 4]],
        scratch: &mut Fc4Scratch,
        out: &mut Vec<f64>,
    ) {
        self.reciprocal(q, scratch);
        contract_bands(e, bands, scratch, out);
    }
}

/// |V|² of `bands` from the W in `scratch`. One leg at a time, leg 0 first, and only for the
/// band prefixes some asked-for quartet has: visiting the quartets in sorted order,
/// W[A][B][C][D] → T1[B][C][D] at each new s0, → T2[C][D] at each new (s0, s1), → T3[D] at
/// each new (s0, s1, s2), → V. A set's few processes inside the energy window then cost a
/// fraction of the nb⁵ per leg of a full contraction.
fn contract_bands(e: [&[C64]; 4], bands: &[[u8; 4]], scratch: &mut Fc4Scratch, out: &mut Vec<f64>) {
    out.clear();
    out.resize(bands.len(), 0.0);
    let Fc4Scratch { w, t, order, .. } = scratch;
    order.clear();
    order.extend(0..bands.len());
    // The quartets of one set are distinct: an unstable sort gives the one order.
    order.sort_unstable_by_key(|&i| bands[i]);
    contract(w, t, e, bands, order, out);
}

crate::simd::avx2_dispatch!(
    /// |V|² of `bands[i]` into `out[i]` from W, visiting the quartets in `order` (sorted), with
    /// AVX2 where the CPU has it (bit-identical to the baseline form).
    fn contract(
        w: &Split,
        t: &mut [Split; 3],
        e: [&[C64]; 4],
        bands: &[[u8; 4]],
        order: &[usize],
        out: &mut [f64],
    ) {
        let nb = t[2].re.len();
        let [t1, t2, t3] = t;
        let mut prefix: Option<[u8; 4]> = None;
        for &i in order {
            let b = bands[i];
            let vec = |leg: usize| -> &[C64] {
                let s = usize::from(b[leg]);
                &e[leg][s * nb..(s + 1) * nb]
            };
            let same = |n: usize| prefix.is_some_and(|p| p[..n] == b[..n]);
            if !same(1) {
                combine_rows(t1, w, vec(0));
            }
            if !same(2) {
                combine_rows(t2, t1, vec(1));
            }
            if !same(3) {
                combine_rows(t3, t2, vec(2));
            }
            let (mut re, mut im) = (0.0, 0.0);
            for ((x_re, x_im), c) in t3.re.iter().zip(&t3.im).zip(vec(3)) {
                re += x_re * c.re - x_im * c.im;
                im += x_re * c.im + x_im * c.re;
            }
            out[i] = re * re + im * im;
            prefix = Some(b);
        }
    }
);

/// dst = Σ_k ev[k] · src[k·len..(k+1)·len], len = dst's length (the contraction of src's
/// leading index with one eigenvector).
#[inline(always)]
fn combine_rows(dst: &mut Split, src: &Split, ev: &[C64]) {
    let len = dst.re.len();
    dst.re.fill(0.0);
    dst.im.fill(0.0);
    for (k, c) in ev.iter().enumerate() {
        let (s_re, s_im) = (
            &src.re[k * len..(k + 1) * len],
            &src.im[k * len..(k + 1) * len],
        );
        for (((d_re, d_im), x_re), x_im) in
            dst.re.iter_mut().zip(dst.im.iter_mut()).zip(s_re).zip(s_im)
        {
            *d_re += c.re * x_re - c.im * x_im;
            *d_im += c.re * x_im + c.im * x_re;
        }
    }
}

/// exp(2πi q·x).
fn unit_phase(q: &Vec3, x: &Vec3) -> C64 {
    let t = TAU * (q[0] * x[0] + q[1] * x[1] + q[2] * x[2]);
    C64::new(t.cos(), t.sin())
}

crate::simd::avx2_dispatch!(
    /// Σ_t p_t Ψ_t over the terms of one atom quartet (the hot loop of the four-phonon rates),
    /// with AVX2 where the CPU has it (bit-identical to the baseline form). Nine components at
    /// a time over all terms: the partial sums stay in registers instead of being loaded and
    /// stored for every term (each component is still summed over the terms in order).
    fn accumulate(terms: &[Term], phases: &[C64], re: &mut [f64; 81], im: &mut [f64; 81]) {
        for c0 in (0..81).step_by(9) {
            let mut r = [0.0f64; 9];
            let mut i = [0.0f64; 9];
            for ((_, _, _, psi), p) in terms.iter().zip(phases) {
                let psi = &psi[c0..c0 + 9];
                for n in 0..9 {
                    r[n] += p.re * psi[n];
                    i[n] += p.im * psi[n];
                }
            }
            re[c0..c0 + 9].copy_from_slice(&r);
            im[c0..c0 + 9].copy_from_slice(&i);
        }
    }
);

crate::simd::avx2_dispatch!(
    /// Σ_b p_b B_b over the buckets of one group (complex B and p), as `accumulate` for the
    /// pairs of a row.
    fn accumulate_complex(
        b_re: &[[f64; 81]],
        b_im: &[[f64; 81]],
        phases: &[C64],
        re: &mut [f64; 81],
        im: &mut [f64; 81],
    ) {
        for c0 in (0..81).step_by(9) {
            let mut r = [0.0f64; 9];
            let mut i = [0.0f64; 9];
            for ((br, bi), p) in b_re.iter().zip(b_im).zip(phases) {
                let (br, bi) = (&br[c0..c0 + 9], &bi[c0..c0 + 9]);
                for n in 0..9 {
                    r[n] += p.re * br[n] - p.im * bi[n];
                    i[n] += p.re * bi[n] + p.im * br[n];
                }
            }
            re[c0..c0 + 9].copy_from_slice(&r);
            im[c0..c0 + 9].copy_from_slice(&i);
        }
    }
);
