//! Four-phonon scattering rates (physics.md §7) at one grid point q of a Γ-centred mesh, for
//! the three process classes, following FourPhonon's definitions so that the rates compare
//! mode by mode (shared/data/fourphonon-si-inputs/reference-n4/README.md):
//!
//! * ++  λ + λ' + λ'' → λ''',  q''' = q + q' + q'',  {λ', λ''} unordered;
//! * +−  λ + λ' → λ'' + λ''',  q''' = q + q' − q'',  {λ'', λ'''} unordered, and the trivial
//!   processes (λ'' or λ''' equal to λ, or λ' equal to λ'' or λ''') left out;
//! * −−  λ → λ' + λ'' + λ''',  q''' = q − q' − q'',  {λ', λ'', λ'''} unordered.
//!
//! Γ_λ = C₄/N² Σ W |V|² δ(mismatch)/(f f' f'' f''') with the occupation factors W
//! [n'n''(1+n''') − (1+n')(1+n'')n'''], [n'(1+n'')(1+n''') − (1+n')n''n'''] and
//! [(1+n')(1+n'')(1+n''') − n'n''n'''], each unordered set counted once (this replaces the
//! 1/2, 1/2, 1/6 of the textbook sums). Partners at or below 1.25 rad/ps (0.199 THz) are left
//! out, as FourPhonon does. Energy conservation: FourPhonon's adaptive Gaussian with the
//! velocities of the third and fourth phonon, processes kept within one σ, or a fixed Gaussian.
//!
//! Before any fourth-order sum a (q', q'') pair is screened: unless some band quartet lies
//! inside the energy window, the pair costs nothing more. Exact enumeration visits every pair;
//! the sampled estimator draws pairs with probability proportional to their screening weight
//! (their contribution without |V|²) and reports a standard error per mode. On large meshes it
//! draws the first partners q' (rows) too and screens only those rows, so its cost grows as
//! O(rows·N) per q instead of O(N²).

use super::fc4_fourier::{Fc4Fourier, Fc4Row, Fc4Scratch};
use super::linewidth::MeshPhonons;
use crate::harmonic::mesh::Mesh;
use crate::harmonic::thermo::bose;
use crate::linalg::Vec3;
use crate::units::FOUR_PHONON_GAMMA;
use num_complex::Complex64 as C64;
use rayon::prelude::*;
use std::f64::consts::{PI, TAU};

/// FourPhonon's lower bound on partner frequencies: 1.25 rad/ps, in THz.
pub const PARTNER_MIN_THZ: f64 = 1.25 / TAU;

/// The three process classes, in the order of every per-class array.
pub const CLASS_NAMES: [&str; 3] = ["plusplus", "plusminus", "minusminus"];

/// Energy conservation for four-phonon processes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FourDelta {
    /// FourPhonon's adaptive Gaussian with this `scalebroad`, processes within one σ.
    Adaptive(f64),
    /// Gaussian of standard deviation σ (THz), cut at 5σ.
    Gaussian(f64),
}

/// Where a fixed-σ Gaussian δ is cut, in σ.
const GAUSSIAN_CUT: f64 = 5.0;

impl FourDelta {
    /// Half width (THz) of the window of a process whose δ has width `sigma` (the adaptive σ
    /// in rad/ps, or the Gaussian's σ in THz).
    fn half_width(self, sigma: f64) -> f64 {
        match self {
            FourDelta::Adaptive(_) => sigma / TAU,
            FourDelta::Gaussian(s) => GAUSSIAN_CUT * s,
        }
    }

    /// Whether the mismatch f + Σ ±f' (THz) is inside the window: within one adaptive σ, as
    /// FourPhonon keeps processes, or within the Gaussian's cut.
    fn inside(self, mismatch: f64, sigma: f64) -> bool {
        match self {
            FourDelta::Adaptive(_) => (TAU * mismatch).abs() <= sigma,
            FourDelta::Gaussian(s) => mismatch.abs() <= GAUSSIAN_CUT * s,
        }
    }

    /// δ (1/THz) of a process inside the window.
    fn value(self, mismatch: f64, sigma: f64) -> f64 {
        match self {
            FourDelta::Adaptive(_) => {
                let (x, s) = (TAU * mismatch, fourphonon_width(sigma));
                TAU * (-(x * x) / (s * s)).exp() / (s * PI.sqrt())
            }
            FourDelta::Gaussian(s) => {
                (-(mismatch * mismatch) / (2.0 * s * s)).exp() / (s * (TAU).sqrt())
            }
        }
    }

    /// δ's largest value, at zero mismatch: a bound that needs no exponential, for the
    /// sampling weights (inside the window δ is within a factor e of it for the adaptive
    /// Gaussian).
    fn peak(self, sigma: f64) -> f64 {
        match self {
            FourDelta::Adaptive(_) => TAU / (fourphonon_width(sigma) * PI.sqrt()),
            FourDelta::Gaussian(s) => 1.0 / (s * TAU.sqrt()),
        }
    }
}

/// The width FourPhonon puts in its four-phonon Gaussian: the adaptive σ (rad/ps), or 1/√π
/// when σ is at or below 0.001 rad/ps (applied after the window test, which uses σ itself).
fn fourphonon_width(sigma_w: f64) -> f64 {
    if sigma_w <= 0.001 {
        1.0 / PI.sqrt()
    } else {
        sigma_w
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FourPhononMode {
    Exact,
    /// Importance sampling of `pairs` (q', q'') pairs per irreducible q and process class,
    /// among the sets of `rows` drawn first partners q' (all of them when `rows` is at least
    /// the number of grid points; None: `auto_rows`).
    Sampled {
        pairs: usize,
        seed: u64,
        rows: Option<usize>,
    },
}

impl FourPhononMode {
    pub fn is_sampled(&self) -> bool {
        matches!(self, FourPhononMode::Sampled { .. })
    }

    /// The first partners (rows) a sampled run screens per irreducible q and class on a mesh
    /// of `n_points` (the given number or `auto_rows`, at most every row); None when exact.
    pub fn screened_rows(&self, n_points: usize) -> Option<usize> {
        match *self {
            FourPhononMode::Exact => None,
            FourPhononMode::Sampled { pairs, rows, .. } => Some(
                rows.unwrap_or_else(|| auto_rows(n_points, pairs))
                    .min(n_points),
            ),
        }
    }
}

/// The first partners (rows) screened per irreducible q and class when the user gives no
/// number: one row per `DRAWS_PER_ROW` draws, or every row once that is at least half of them.
/// Screening a row costs O(N) set screenings, so screening every row costs O(N²) per q and
/// dominates sampled runs on large meshes; drawing rows makes it O(rows·N). Measured on SW Si
/// 8³ (256 draws): 64 drawn rows give the κ_P standard error of screening all 512 (0.09 %)
/// at a sixth of the time.
pub fn auto_rows(n_points: usize, pairs: usize) -> usize {
    let rows = pairs.div_ceil(DRAWS_PER_ROW).max(2);
    if 2 * rows >= n_points { n_points } else { rows }
}

/// Draws per screened row when the rows are chosen by `auto_rows`: screening a row costs as much
/// as a hundred draws or more (8³ and up), so a few draws in each add little time and cut the
/// within-row variance.
pub const DRAWS_PER_ROW: usize = 4;

#[derive(Clone, Debug)]
pub struct FourPhononOptions {
    pub temperatures: Vec<f64>,
    /// Modes at or below this frequency (THz) get no four-phonon rate.
    pub cutoff_frequency: f64,
    pub delta: FourDelta,
    pub mode: FourPhononMode,
}

/// Four-phonon Γ at one grid point (THz, phono3py's convention: Γ = 1/(4πτ)), per class.
#[derive(Clone, Debug, PartialEq)]
pub struct FourPhononAtQ {
    /// [class][T][s].
    pub gamma: [Vec<Vec<f64>>; 3],
    /// Standard error of the sampled estimate, [class][T][s]; zeros when exact.
    pub std_error: [Vec<Vec<f64>>; 3],
    /// Processes inside the energy window (band quartets, all s), per class (counted by the
    /// screening of every set, also when the pairs are sampled; estimated from the drawn rows
    /// when the rows are sampled too).
    pub processes: [u64; 3],
    /// (q', q'') pairs whose fourth-order sum was built, per class.
    pub pairs_built: [u64; 3],
}

impl FourPhononAtQ {
    /// Γ_4ph[T][s] summed over classes.
    pub fn total(&self) -> Vec<Vec<f64>> {
        let mut t = self.gamma[0].clone();
        for c in 1..3 {
            for (a, b) in t.iter_mut().zip(&self.gamma[c]) {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
            }
        }
        t
    }
}

/// Grid index of Σ sign·address (mod mesh).
fn combine(mesh: &Mesh, terms: &[(usize, i64)]) -> usize {
    let a: [usize; 3] = std::array::from_fn(|k| {
        let n = mesh.n[k] as i64;
        terms
            .iter()
            .map(|&(g, s)| s * mesh.address(g)[k] as i64)
            .sum::<i64>()
            .rem_euclid(n) as usize
    });
    mesh.index(&a)
}

/// Phase sign of legs 1–3 per class (leg 0, the mode itself, is +): a − leg enters with −q and
/// the conjugated eigenvector, and with −f in the energy mismatch.
const SIGNS: [[f64; 3]; 3] = [[1.0, 1.0, -1.0], [1.0, -1.0, -1.0], [-1.0, -1.0, -1.0]];

/// The (q', q'', q''') of the unordered sets of a class at q = g0 whose first partner is g1,
/// in grid order of q''. Rows visited in grid order make the enumeration, and so its sums,
/// independent of threads; streaming them row by row keeps memory at O(N) instead of O(N²).
fn row_sets(mesh: &Mesh, g0: usize, class: usize, g1: usize, out: &mut Vec<[usize; 3]>) {
    out.clear();
    for g2 in 0..mesh.n_points() {
        let g3 = match class {
            0 => combine(mesh, &[(g0, 1), (g1, 1), (g2, 1)]),
            1 => combine(mesh, &[(g0, 1), (g1, 1), (g2, -1)]),
            _ => combine(mesh, &[(g0, 1), (g1, -1), (g2, -1)]),
        };
        let keep = match class {
            0 => g2 >= g1,
            1 => g3 >= g2,
            _ => g2 >= g1 && g3 >= g2,
        };
        if keep {
            out.push([g1, g2, g3]);
        }
    }
}

/// One process inside the energy window: bands of the four legs, the energy mismatch
/// f + Σ ±f' (THz) and the width of its δ (adaptive σ in rad/ps, or the Gaussian's σ in THz).
#[derive(Clone, Copy)]
struct Allowed {
    s: [u8; 4],
    mismatch: f64,
    sigma: f64,
}

/// The (mode of q, first partner) band pairs of one row (fixed q'), sorted by f + (±f'): a set's
/// processes for given third and fourth bands are then one bisection of this table, so the
/// screening costs O(nb² log nb) per set instead of O(nb⁴).
struct RowPairs {
    sums: Vec<f64>,
    bands: Vec<[u8; 2]>,
}

/// What the rates of one q share.
struct Kernel<'a> {
    g0: usize,
    ph: &'a MeshPhonons,
    fc4: &'a Fc4Fourier,
    opts: &'a FourPhononOptions,
    /// Bose occupations [g][T·nb + s], per grid point.
    occupations: Vec<Vec<f64>>,
    /// Each mode's velocity projected on the mesh steps, (b_i·v)/n_i [g·nb + s]: the adaptive
    /// σ of a pair of modes (linewidth::adaptive_sigma) is then a difference and a maximum.
    projected: Vec<Vec3>,
    /// ((1 + n)/f, n/f) of each mode at the first temperature [g·nb + s], for the sampling
    /// weights.
    per_frequency: Vec<[f64; 2]>,
}

impl Kernel<'_> {
    /// The screening table of the row of first partner `g1`.
    fn row_pairs(&self, class: usize, g1: usize) -> RowPairs {
        let (f0, f1) = (self.ph.freqs(self.g0), self.ph.freqs(g1));
        let partner_min = PARTNER_MIN_THZ.max(self.opts.cutoff_frequency);
        let mut pairs: Vec<(f64, [u8; 2])> = Vec::with_capacity(f0.len() * f1.len());
        for (s0, &w) in f0.iter().enumerate() {
            if w <= self.opts.cutoff_frequency {
                continue;
            }
            for (s1, &w1) in f1.iter().enumerate() {
                if w1 > partner_min {
                    pairs.push((w + SIGNS[class][0] * w1, [s0 as u8, s1 as u8]));
                }
            }
        }
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        RowPairs {
            sums: pairs.iter().map(|p| p.0).collect(),
            bands: pairs.iter().map(|p| p.1).collect(),
        }
    }

    /// Calls `visit` for each process of one unordered set inside the energy window, in a fixed
    /// order (no fourth-order work and no δ evaluated). `row` is the table of the set's q'.
    fn screen(&self, class: usize, g: [usize; 3], row: &RowPairs, mut visit: impl FnMut(Allowed)) {
        let ph = self.ph;
        let nb = ph.nb;
        let f: [&[f64]; 3] = std::array::from_fn(|i| ph.freqs(g[i]));
        let sg = SIGNS[class];
        let partner_min = PARTNER_MIN_THZ.max(self.opts.cutoff_frequency);
        let delta = self.opts.delta;
        for s2 in 0..nb {
            if f[1][s2] <= partner_min {
                continue;
            }
            for s3 in 0..nb {
                if f[2][s3] <= partner_min {
                    continue;
                }
                // Ordering inside an unordered set at equal q.
                if g[1] == g[2] && s3 < s2 && class != 0 {
                    continue;
                }
                let sigma = match delta {
                    FourDelta::Adaptive(scale) => {
                        let (a, b) = (
                            self.projected[g[1] * nb + s2],
                            self.projected[g[2] * nb + s3],
                        );
                        let m = (0..3)
                            .map(|i| (a[i] - b[i]) * (a[i] - b[i]))
                            .fold(0.0, f64::max);
                        scale * (m / 2.0).sqrt()
                    }
                    FourDelta::Gaussian(s) => s,
                };
                // The table finds the candidates; the test below, on the mismatch summed as
                // everywhere else, decides. The window is widened by far more than the rounding
                // of either sum, so it never drops a process.
                let h = delta.half_width(sigma) * (1.0 + 1e-9) + 1e-12;
                let target = -(sg[1] * f[1][s2] + sg[2] * f[2][s3]);
                let (Some(&lowest), Some(&highest)) = (row.sums.first(), row.sums.last()) else {
                    return;
                };
                if target + h < lowest || target - h > highest {
                    continue;
                }
                let first = row.sums.partition_point(|&x| x < target - h);
                for (&sum, &[s0, s1]) in row.sums[first..].iter().zip(&row.bands[first..]) {
                    if sum > target + h {
                        break;
                    }
                    let (s0, s1) = (usize::from(s0), usize::from(s1));
                    let excluded = if class == 1 {
                        g[0] == g[1] && s1 == s2
                            || g[0] == g[2] && s1 == s3
                            || g[1] == self.g0 && s2 == s0
                            || g[2] == self.g0 && s3 == s0
                    } else {
                        g[0] == g[1] && s2 < s1
                    };
                    if excluded {
                        continue;
                    }
                    let partial = sg[0] * f[0][s1] + sg[1] * f[1][s2] + sg[2] * f[2][s3];
                    let mismatch = ph.freqs(self.g0)[s0] + partial;
                    if delta.inside(mismatch, sigma) {
                        visit(Allowed {
                            s: [s0 as u8, s1 as u8, s2 as u8, s3 as u8],
                            mismatch,
                            sigma,
                        });
                    }
                }
            }
        }
    }

    /// The screening weight of an allowed process: the peak of its δ over f' f'' f''', times a
    /// positive bound of the occupation factors at the first temperature — a bound of its
    /// contribution without |V|² (any positive weight keeps the sampled estimate unbiased; a
    /// close one keeps its variance low).
    fn weight(&self, g: &[usize; 3], a: &Allowed) -> f64 {
        let nb = self.ph.nb;
        let [_, s1, s2, s3] = a.s.map(usize::from);
        let [p1, p2, p3] =
            [(0, s1), (1, s2), (2, s3)].map(|(i, s)| self.per_frequency[g[i] * nb + s]);
        // (1+n')(1+n'')(1+n''')/(f' f'' f''') + n' n'' n'''/(f' f'' f''').
        let w = p1[0] * p2[0] * p3[0] + p1[1] * p2[1] * p3[1];
        self.opts.delta.peak(a.sigma) * w
    }

    /// Adds the contribution of one unordered set, whose processes inside the window are in
    /// `scratch.allowed`, to `acc` ([T][s], THz, scaled by `scale`). With `in_row`, |V|² comes
    /// from the bucket sums of the set's row (built at the row's first set), as when a whole
    /// row is enumerated; else from the fc4 terms directly, as for a single drawn set.
    fn contribution(
        &self,
        class: usize,
        g: [usize; 3],
        scratch: &mut Scratch,
        scale: f64,
        acc: &mut [f64],
        in_row: bool,
    ) {
        let ph = self.ph;
        let nb = ph.nb;
        let Scratch {
            fc4,
            strengths,
            conj,
            allowed,
            bands,
            row,
            row_of,
        } = scratch;
        let sg = SIGNS[class];
        for (i, c) in conj.iter_mut().enumerate() {
            c.clear();
            let e = ph.vectors(g[i]);
            if sg[i] < 0.0 {
                c.extend(e.iter().map(|z| z.conj()));
            } else {
                c.extend_from_slice(e);
            }
        }
        let q0 = ph.qpoints[self.g0];
        let q: [Vec3; 4] = [
            q0,
            ph.qpoints[g[0]].map(|x| sg[0] * x),
            ph.qpoints[g[1]].map(|x| sg[1] * x),
            ph.qpoints[g[2]].map(|x| sg[2] * x),
        ];
        bands.clear();
        bands.extend(allowed.iter().map(|a| a.s));
        let e = [
            ph.vectors(self.g0),
            &conj[0][..],
            &conj[1][..],
            &conj[2][..],
        ];
        if in_row {
            if *row_of != Some((class, g[0])) {
                self.fc4.row(&q[0], &q[1], row);
                *row_of = Some((class, g[0]));
            }
            self.fc4.strength_in_row(row, &q, e, bands, fc4, strengths);
        } else {
            self.fc4.strength(&q, e, bands, fc4, strengths);
        }
        let n = ph.mesh.n_points() as f64;
        let pre = scale * FOUR_PHONON_GAMMA / (n * n);
        let nt = self.opts.temperatures.len();
        let f0 = ph.freqs(self.g0);
        let occ: [&[f64]; 3] = std::array::from_fn(|i| &self.occupations[g[i]][..]);
        let f: [&[f64]; 3] = std::array::from_fn(|i| ph.freqs(g[i]));
        for (a, &v) in allowed.iter().zip(strengths.iter()) {
            let [s0, s1, s2, s3] = a.s.map(usize::from);
            let delta = self.opts.delta.value(a.mismatch, a.sigma);
            let amp = pre * v * delta / (f0[s0] * f[0][s1] * f[1][s2] * f[2][s3]);
            for it in 0..nt {
                let (n1, n2, n3) = (
                    occ[0][it * nb + s1],
                    occ[1][it * nb + s2],
                    occ[2][it * nb + s3],
                );
                let w = match class {
                    0 => n1 * n2 * (1.0 + n3) - (1.0 + n1) * (1.0 + n2) * n3,
                    1 => n1 * (1.0 + n2) * (1.0 + n3) - (1.0 + n1) * n2 * n3,
                    _ => (1.0 + n1) * (1.0 + n2) * (1.0 + n3) - n1 * n2 * n3,
                };
                acc[it * nb + s0] += amp * w;
            }
        }
    }
}

/// Four-phonon Γ at grid point `g0` (not averaged over degenerate modes).
pub fn four_phonon_at(
    g0: usize,
    ph: &MeshPhonons,
    fc4: &Fc4Fourier,
    opts: &FourPhononOptions,
) -> FourPhononAtQ {
    let (nb, nt) = (ph.nb, opts.temperatures.len());
    let occupations: Vec<Vec<f64>> = (0..ph.mesh.n_points())
        .map(|g| {
            opts.temperatures
                .iter()
                .flat_map(|&t| ph.freqs(g).iter().map(move |&f| bose(f, t)))
                .collect()
        })
        .collect();
    let projected = ph
        .velocities
        .iter()
        .map(|v| {
            std::array::from_fn(|i| {
                (0..3).map(|c| ph.reciprocal_2pi[i][c] * v[c]).sum::<f64>() / ph.mesh.n[i] as f64
            })
        })
        .collect();
    // Modes that are never partners (at or below PARTNER_MIN_THZ, such as the acoustic modes
    // at Γ) get zeros instead of the infinities of 1/f.
    let per_frequency = (0..ph.mesh.n_points() * nb)
        .map(|m| {
            let (f, n) = (ph.frequencies[m], occupations[m / nb][m % nb]);
            if f > PARTNER_MIN_THZ {
                [(1.0 + n) / f, n / f]
            } else {
                [0.0, 0.0]
            }
        })
        .collect();
    let kernel = Kernel {
        g0,
        ph,
        fc4,
        opts,
        occupations,
        projected,
        per_frequency,
    };
    let zeros = || vec![vec![0.0; nb]; nt];
    let mut out = FourPhononAtQ {
        gamma: std::array::from_fn(|_| zeros()),
        std_error: std::array::from_fn(|_| zeros()),
        processes: [0; 3],
        pairs_built: [0; 3],
    };
    let to_table =
        |flat: &[f64]| -> Vec<Vec<f64>> { flat.chunks(nb).map(|c| c.to_vec()).collect() };
    for class in 0..3 {
        let FourPhononMode::Sampled { pairs: m, seed, .. } = opts.mode else {
            // Exact: every set screened once and summed when anything is allowed.
            let (acc, processes, built) = kernel.exact_sum(class);
            out.gamma[class] = to_table(&acc);
            out.processes[class] = processes;
            out.pairs_built[class] = built;
            continue;
        };
        let n_points = ph.mesh.n_points();
        let rows = opts.mode.screened_rows(n_points).expect("sampled");
        if rows < n_points {
            let r = kernel.row_sampled_sum(class, rows, m, seed);
            out.gamma[class] = to_table(&r.mean);
            out.std_error[class] = to_table(&r.std_error);
            out.processes[class] = r.processes.round() as u64;
            out.pairs_built[class] = r.built;
            continue;
        }
        let proposal = kernel.proposal(class);
        out.processes[class] = proposal.processes;
        if m >= proposal.sets.len() {
            // No more active sets than draws: enumerate them.
            let sets: Vec<[usize; 3]> = proposal
                .sets
                .iter()
                .map(|g| g.map(|x| x as usize))
                .collect();
            let mut scratch = kernel.scratch();
            let mut acc = vec![0.0; nt * nb];
            let (_, built) = kernel.add_sets(class, &sets, &mut scratch, &mut acc);
            out.gamma[class] = to_table(&acc);
            out.pairs_built[class] = built;
            continue;
        }
        let (mean, se) = kernel.sampled_sum(class, &proposal, m, seed);
        out.gamma[class] = to_table(&mean);
        out.std_error[class] = to_table(&se);
        out.pairs_built[class] = m as u64;
    }
    out
}

/// Per-thread work arrays of the fourth-order sums of one set.
struct Scratch {
    fc4: Fc4Scratch,
    /// |V|² of each allowed process.
    strengths: Vec<f64>,
    /// The partners' eigenvectors, conjugated on − legs.
    conj: [Vec<C64>; 3],
    /// The processes inside the energy window, and their band quartets.
    allowed: Vec<Allowed>,
    bands: Vec<[u8; 4]>,
    /// The bucket sums of the row (class, first partner) in `row_of`.
    row: Fc4Row,
    row_of: Option<(usize, usize)>,
}

/// The screening of one row for the proposal: its active sets, the number of nonzero band
/// weights of each, those (band, weight) entries, and the processes inside the window.
#[derive(Default)]
struct ScreenedRow {
    sets: Vec<[u32; 3]>,
    entries: Vec<u16>,
    bands: Vec<u16>,
    weights: Vec<f64>,
    processes: u64,
}

/// The sampled estimator's proposal over the sets of one class: the active sets (some process
/// inside the window) and the running sum of their draw weights.
struct Proposal {
    sets: Vec<[u32; 3]>,
    cdf: Vec<f64>,
    /// Processes inside the window over all sets.
    processes: u64,
}

impl Proposal {
    /// Folds screened rows into one draw weight per active set: the average, over the bands
    /// of q that scatter in these rows, of the set's share of the band's weight.
    fn from_rows(rows: &[ScreenedRow], nb: usize) -> Proposal {
        let mut totals = vec![0.0; nb];
        for row in rows {
            for (&b, &x) in row.bands.iter().zip(&row.weights) {
                totals[usize::from(b)] += x;
            }
        }
        let scattering = totals.iter().filter(|&&t| t > 0.0).count() as f64;
        let size = rows.iter().map(|r| r.sets.len()).sum();
        let mut proposal = Proposal {
            sets: Vec::with_capacity(size),
            cdf: Vec::with_capacity(size),
            processes: 0,
        };
        let mut run = 0.0;
        for row in rows {
            proposal.processes += row.processes;
            let mut at = 0;
            for (g, &n) in row.sets.iter().zip(&row.entries) {
                let end = at + usize::from(n);
                let share: f64 = row.bands[at..end]
                    .iter()
                    .zip(&row.weights[at..end])
                    .map(|(&b, &x)| x / totals[usize::from(b)])
                    .sum();
                at = end;
                run += share / scattering;
                proposal.sets.push(*g);
                proposal.cdf.push(run);
            }
        }
        proposal
    }

    /// Set `a`'s draw weight (the cdf's step).
    fn weight(&self, a: usize) -> f64 {
        self.cdf[a] - if a == 0 { 0.0 } else { self.cdf[a - 1] }
    }

    /// `m` stratified draws (indices into `sets`): the cumulative weight is cut into m equal
    /// strata and one set is drawn in each (a random point inside the stratum), which spreads
    /// the draws over the whole list instead of leaving gaps by chance.
    fn draw(&self, m: usize, rng: &mut SplitMix64) -> Vec<usize> {
        stratified_draws(&self.cdf, m, rng)
    }
}

/// `m` stratified draws from the running sum `cdf` of positive weights (see Proposal::draw).
fn stratified_draws(cdf: &[f64], m: usize, rng: &mut SplitMix64) -> Vec<usize> {
    let total = *cdf.last().expect("draws from a nonempty proposal");
    let last = cdf.len() - 1;
    (0..m)
        .map(|k| {
            let u = (k as f64 + rng.next_f64()) / m as f64 * total;
            cdf.partition_point(|&c| c <= u).min(last)
        })
        .collect()
}

/// The mean of per-draw estimates (each [T·nb]) and its standard error, by collapsed strata:
/// neighbouring strata paired, each pair's squared difference estimates the sum of their
/// variances (conservative: a trend between the two adds to it).
fn mean_and_error(estimates: &[Vec<f64>], width: usize) -> (Vec<f64>, Vec<f64>) {
    let m = estimates.len();
    let mf = m as f64;
    let mut mean = vec![0.0; width];
    for e in estimates {
        for (a, b) in mean.iter_mut().zip(e) {
            *a += b / mf;
        }
    }
    let pairs = m / 2;
    let mut var = vec![0.0; width];
    for k in 0..pairs {
        for ((v, x), y) in var
            .iter_mut()
            .zip(&estimates[2 * k])
            .zip(&estimates[2 * k + 1])
        {
            *v += (x - y) * (x - y) * mf / (2.0 * pairs as f64);
        }
    }
    let se = var.iter().map(|v| v.sqrt() / mf).collect();
    (mean, se)
}

/// A two-stage sampled class sum: mean and standard error ([T·nb]), the estimated number of
/// processes inside the window, and the sets whose fourth-order sum was built.
struct RowSampled {
    mean: Vec<f64>,
    std_error: Vec<f64>,
    processes: f64,
    built: u64,
}

impl Kernel<'_> {
    fn scratch(&self) -> Scratch {
        let nb = self.ph.nb;
        Scratch {
            fc4: Fc4Scratch::new(self.fc4),
            strengths: Vec::new(),
            conj: std::array::from_fn(|_| Vec::with_capacity(nb * nb)),
            allowed: Vec::new(),
            bands: Vec::new(),
            row: Fc4Row::new(self.fc4),
            row_of: None,
        }
    }

    /// Adds the class sum over `sets` to `acc` ([T·nb]); returns the processes inside the
    /// window and the number of sets whose fourth-order sum was built.
    fn add_sets(
        &self,
        class: usize,
        sets: &[[usize; 3]],
        scratch: &mut Scratch,
        acc: &mut [f64],
    ) -> (u64, u64) {
        let (mut processes, mut built) = (0, 0);
        let mut row: Option<(usize, RowPairs)> = None;
        for g in sets {
            if row.as_ref().is_none_or(|(g1, _)| *g1 != g[0]) {
                row = Some((g[0], self.row_pairs(class, g[0])));
            }
            let table = &row.as_ref().expect("set above").1;
            let allowed = &mut scratch.allowed;
            allowed.clear();
            self.screen(class, *g, table, |a| allowed.push(a));
            if !allowed.is_empty() {
                processes += allowed.len() as u64;
                built += 1;
                self.contribution(class, *g, scratch, 1.0, acc, true);
            }
        }
        (processes, built)
    }

    /// Σ over all sets of a class ([T·nb]), row by row (row sums added in grid order: the
    /// result does not depend on threads), with the number of processes inside the window and
    /// of sets whose fourth-order sum was built.
    fn exact_sum(&self, class: usize) -> (Vec<f64>, u64, u64) {
        let width = self.opts.temperatures.len() * self.ph.nb;
        let rows: Vec<(Vec<f64>, u64, u64)> = (0..self.ph.mesh.n_points())
            .into_par_iter()
            .map_init(
                || (self.scratch(), Vec::new()),
                |(scratch, sets), g1| {
                    row_sets(&self.ph.mesh, self.g0, class, g1, sets);
                    let mut acc = vec![0.0; width];
                    let (processes, built) = self.add_sets(class, sets, scratch, &mut acc);
                    (acc, processes, built)
                },
            )
            .collect();
        let mut total = (vec![0.0; width], 0, 0);
        for (acc, p, b) in rows {
            for (a, x) in total.0.iter_mut().zip(acc) {
                *a += x;
            }
            total.1 += p;
            total.2 += b;
        }
        total
    }

    /// The proposal of the sampled estimator. Defensive mixture importance sampling: a set's
    /// draw weight is the average, over the bands s of q that scatter at all, of its share of
    /// band s's screening weight (w_s = Σ δ_peak W/(f' f'' f''') over the set's allowed
    /// processes of band s, W bounding the occupation factor). Every band thus gets draws in
    /// proportion to its own support, also a band with a handful of sets, and each draw gives
    /// an unbiased estimate F/p of every band's class sum. One streamed screening keeps the
    /// nonzero w_s of the active sets; they are folded into one weight per set at the end.
    fn proposal(&self, class: usize) -> Proposal {
        let nb = self.ph.nb;
        let rows: Vec<ScreenedRow> = (0..self.ph.mesh.n_points())
            .into_par_iter()
            .map_init(
                || (Vec::new(), vec![0.0; nb]),
                |(sets, w), g1| {
                    let table = self.row_pairs(class, g1);
                    self.screen_row(class, g1, &table, sets, w)
                },
            )
            .collect();
        Proposal::from_rows(&rows, nb)
    }

    /// Screens the sets of the row of first partner `g1` (its table `table`): each active set
    /// with its nonzero per-band screening weights. `sets` and `w` are work arrays.
    fn screen_row(
        &self,
        class: usize,
        g1: usize,
        table: &RowPairs,
        sets: &mut Vec<[usize; 3]>,
        w: &mut [f64],
    ) -> ScreenedRow {
        row_sets(&self.ph.mesh, self.g0, class, g1, sets);
        let mut row = ScreenedRow::default();
        for g in sets.iter() {
            w.fill(0.0);
            let mut count = 0;
            self.screen(class, *g, table, |a| {
                count += 1;
                w[a.s[0] as usize] += self.weight(g, &a);
            });
            if count == 0 {
                continue;
            }
            row.processes += count;
            row.sets.push(g.map(|x| x as u32));
            let before = row.bands.len();
            for (b, &x) in w.iter().enumerate().filter(|(_, x)| **x > 0.0) {
                row.bands.push(b as u16);
                row.weights.push(x);
            }
            row.entries.push((row.bands.len() - before) as u16);
        }
        row
    }

    /// The sampled estimate of a class sum and its standard error ([T·nb] each), from `m`
    /// draws of the proposal.
    fn sampled_sum(
        &self,
        class: usize,
        proposal: &Proposal,
        m: usize,
        seed: u64,
    ) -> (Vec<f64>, Vec<f64>) {
        let width = self.opts.temperatures.len() * self.ph.nb;
        let total = *proposal.cdf.last().expect("a proposal with active sets");
        let mut rng = SplitMix64::new(seed ^ ((self.g0 as u64) << 8) ^ class as u64);
        let draws = proposal.draw(m, &mut rng);
        let estimates: Vec<Vec<f64>> = draws
            .par_chunks(CHUNK)
            .map_init(
                || self.scratch(),
                |scratch, chunk| {
                    chunk
                        .iter()
                        .map(|&a| {
                            let g = proposal.sets[a].map(|x| x as usize);
                            let table = self.row_pairs(class, g[0]);
                            let scale = total / proposal.weight(a);
                            let mut acc = vec![0.0; width];
                            self.add_draw(class, g, &table, scale, scratch, false, &mut acc);
                            acc
                        })
                        .collect::<Vec<_>>()
                },
            )
            .flatten()
            .collect();
        mean_and_error(&estimates, width)
    }

    /// Adds one drawn set's contribution, scaled by `scale` (1/its draw probability), to
    /// `acc` ([T·nb]); `table` is the screening table of the set's row.
    #[allow(clippy::too_many_arguments)]
    fn add_draw(
        &self,
        class: usize,
        g: [usize; 3],
        table: &RowPairs,
        scale: f64,
        scratch: &mut Scratch,
        in_row: bool,
        acc: &mut [f64],
    ) {
        let allowed = &mut scratch.allowed;
        allowed.clear();
        self.screen(class, g, table, |x| allowed.push(x));
        self.contribution(class, g, scratch, scale, acc, in_row);
    }

    /// The draw weights of the first partners q' (rows) of a class: a defensive mixture, half
    /// uniform and half a proxy of the row's share of the sum — its number of unordered sets
    /// times Σ_s' (1 + 2n')/f' over its modes (the partner factor the rates carry), so rows near
    /// Γ, where 1/f' is large, get more draws. Any positive weight keeps the estimate unbiased.
    fn row_weights(&self, class: usize) -> Vec<f64> {
        let (n, nb) = (self.ph.mesh.n_points(), self.ph.nb);
        let proxy: Vec<f64> = (0..n)
            .map(|g1| {
                let sets = match class {
                    0 => (n - g1) as f64,
                    1 => n as f64 / 2.0,
                    _ => (n - g1) as f64 / 2.0,
                };
                let partner: f64 = self.per_frequency[g1 * nb..(g1 + 1) * nb]
                    .iter()
                    .map(|p| p[0] + p[1])
                    .sum();
                sets * partner
            })
            .collect();
        let total: f64 = proxy.iter().sum();
        proxy
            .iter()
            .map(|&x| {
                0.5 / n as f64
                    + if total > 0.0 {
                        0.5 * x / total
                    } else {
                        0.5 / n as f64
                    }
            })
            .collect()
    }

    /// The two-stage sampled estimate of a class sum, for meshes where screening every row
    /// costs too much: `rows` first partners q' drawn (stratified over `row_weights`, draw
    /// probability p_r), each screened in full, and ⌈draws/rows⌉ sets drawn inside each with
    /// the row's own proposal — or all its active sets when there are no more. Each row gives
    /// an unbiased estimate of the class sum, Ŷ_r = (estimate of the row's sum)/p_r; the result
    /// is their mean, with the collapsed-strata error over rows (which holds the within-row
    /// error too). The processes inside the window are estimated the same way.
    fn row_sampled_sum(&self, class: usize, rows: usize, draws: usize, seed: u64) -> RowSampled {
        let (nb, width) = (self.ph.nb, self.opts.temperatures.len() * self.ph.nb);
        let weights = self.row_weights(class);
        let cdf: Vec<f64> = weights
            .iter()
            .scan(0.0, |run, &w| {
                *run += w;
                Some(*run)
            })
            .collect();
        let total = *cdf.last().expect("a mesh with points");
        let mut rng = SplitMix64::new(seed ^ ((self.g0 as u64) << 8) ^ class as u64);
        let drawn = stratified_draws(&cdf, rows, &mut rng);
        let per_row = draws.div_ceil(rows);
        let results: Vec<(Vec<f64>, f64, u64)> = drawn
            .par_iter()
            .enumerate()
            .map_init(
                || (self.scratch(), Vec::new(), vec![0.0; nb]),
                |(scratch, sets, w), (k, &g1)| {
                    let p_row = weights[g1] / total;
                    let table = self.row_pairs(class, g1);
                    let screened = self.screen_row(class, g1, &table, sets, w);
                    let processes = screened.processes as f64 / p_row;
                    let mut sum = vec![0.0; width];
                    let inside = Proposal::from_rows(std::slice::from_ref(&screened), nb);
                    if inside.sets.len() <= per_row {
                        // No more active sets than draws: the row's sum, exactly.
                        for g in &inside.sets {
                            let g = g.map(|x| x as usize);
                            self.add_draw(class, g, &table, 1.0 / p_row, scratch, true, &mut sum);
                        }
                        return (sum, processes, inside.sets.len() as u64);
                    }
                    // Each row stratum draws with its own stream: results do not depend on
                    // the order the threads take the rows in.
                    let mut rng = SplitMix64::new(
                        seed ^ ((self.g0 as u64) << 8) ^ class as u64 ^ ((k as u64 + 1) << 32),
                    );
                    let row_total = *inside.cdf.last().expect("active sets");
                    for a in inside.draw(per_row, &mut rng) {
                        let g = inside.sets[a].map(|x| x as usize);
                        let scale = row_total / inside.weight(a) / (per_row as f64 * p_row);
                        self.add_draw(class, g, &table, scale, scratch, true, &mut sum);
                    }
                    (sum, processes, per_row as u64)
                },
            )
            .collect();
        let processes = results.iter().map(|r| r.1).sum::<f64>() / rows as f64;
        let built = results.iter().map(|r| r.2).sum();
        let estimates: Vec<Vec<f64>> = results.into_iter().map(|r| r.0).collect();
        let (mean, std_error) = mean_and_error(&estimates, width);
        RowSampled {
            mean,
            std_error,
            processes,
            built,
        }
    }
}

/// Draws per parallel work item of the sampled estimator (results collected in draw order).
const CHUNK: usize = 16;

/// A small deterministic generator (SplitMix64) for the sampled estimator: the same seed gives
/// the same draws on every machine and thread count.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
