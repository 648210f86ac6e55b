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
//! the sampled estimator draws pairs with probability proportional to their number of allowed
//! processes and reports a standard error per mode.

use super::fc4_fourier::{Fc4Fourier, Fc4Scratch};
use super::linewidth::{MeshPhonons, adaptive_sigma};
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

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FourPhononMode {
    Exact,
    /// Importance sampling of `pairs` (q', q'') pairs per irreducible q and process class.
    Sampled {
        pairs: usize,
        seed: u64,
    },
}

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
    /// screening of every set, also when the rates are sampled).
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

/// The (q', q'', q''') of every unordered set of a class at q = g0 (grid order, so the
/// enumeration and its sums do not depend on threads).
fn class_pairs(mesh: &Mesh, g0: usize, class: usize) -> Vec<[usize; 3]> {
    let n = mesh.n_points();
    let mut out = Vec::new();
    for g1 in 0..n {
        for g2 in 0..n {
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
    out
}

/// One process inside the energy window: bands of the four legs and its δ weight (1/THz).
#[derive(Clone, Copy)]
struct Allowed {
    s: [u8; 4],
    delta: f64,
}

/// What the rates of one q share.
struct Kernel<'a> {
    g0: usize,
    ph: &'a MeshPhonons,
    fc4: &'a Fc4Fourier,
    opts: &'a FourPhononOptions,
    /// Bose occupations [g][T·nb + s], per grid point.
    occupations: Vec<Vec<f64>>,
}

impl Kernel<'_> {
    /// The processes of one unordered set inside the energy window (no fourth-order work).
    fn screen(&self, class: usize, g: [usize; 3], out: &mut Vec<Allowed>) {
        out.clear();
        let ph = self.ph;
        let nb = ph.nb;
        let f0 = ph.freqs(self.g0);
        let f: [&[f64]; 3] = std::array::from_fn(|i| ph.freqs(g[i]));
        let sg = SIGNS[class];
        let partner_min = PARTNER_MIN_THZ.max(self.opts.cutoff_frequency);
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
                let sigma = match self.opts.delta {
                    FourDelta::Adaptive(scale) => {
                        let (a, b) = (ph.velocities[g[1] * nb + s2], ph.velocities[g[2] * nb + s3]);
                        let dv: Vec3 = std::array::from_fn(|c| a[c] - b[c]);
                        adaptive_sigma(&dv, &ph.reciprocal_2pi, ph.mesh.n, scale)
                    }
                    FourDelta::Gaussian(s) => s,
                };
                for s1 in 0..nb {
                    if f[0][s1] <= partner_min {
                        continue;
                    }
                    if g[0] == g[1] && s2 < s1 && class != 1 {
                        continue;
                    }
                    if class == 1 && g[0] == g[1] && s1 == s2
                        || class == 1 && g[0] == g[2] && s1 == s3
                    {
                        continue;
                    }
                    let partial = sg[0] * f[0][s1] + sg[1] * f[1][s2] + sg[2] * f[2][s3];
                    for (s0, &w) in f0.iter().enumerate() {
                        if w <= self.opts.cutoff_frequency {
                            continue;
                        }
                        if class == 1
                            && (g[1] == self.g0 && s2 == s0 || g[2] == self.g0 && s3 == s0)
                        {
                            continue;
                        }
                        let x = w + partial;
                        let delta = match self.opts.delta {
                            FourDelta::Adaptive(_) => fourphonon_delta_4(x, sigma),
                            FourDelta::Gaussian(s) => {
                                if x.abs() > 5.0 * s {
                                    0.0
                                } else {
                                    (-(x * x) / (2.0 * s * s)).exp() / (s * (TAU).sqrt())
                                }
                            }
                        };
                        if delta > 0.0 {
                            out.push(Allowed {
                                s: [s0 as u8, s1 as u8, s2 as u8, s3 as u8],
                                delta,
                            });
                        }
                    }
                }
            }
        }
    }

    /// The screening weight of an allowed process: δ/(f' f'' f''') times a positive bound of
    /// the occupation factors at the first temperature — its contribution without |V|² (any
    /// positive weight keeps the sampled estimate unbiased; a close one keeps its variance low).
    fn weight(&self, g: &[usize; 3], a: &Allowed) -> f64 {
        let [_, s1, s2, s3] = a.s.map(usize::from);
        let f = |i: usize, s: usize| self.ph.freqs(g[i])[s];
        let n = |i: usize, s: usize| self.occupations[g[i]][s];
        let (n1, n2, n3) = (n(0, s1), n(1, s2), n(2, s3));
        let w = (1.0 + n1) * (1.0 + n2) * (1.0 + n3) + n1 * n2 * n3;
        a.delta * w / (f(0, s1) * f(1, s2) * f(2, s3))
    }

    /// Adds the contribution of one unordered set to `acc` ([T][s], THz, scaled by `scale`).
    fn contribution(
        &self,
        class: usize,
        g: [usize; 3],
        allowed: &[Allowed],
        scratch: &mut Scratch,
        scale: f64,
        acc: &mut [f64],
    ) {
        let ph = self.ph;
        let nb = ph.nb;
        let (fs, v2, conj) = scratch;
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
        self.fc4.strength(
            &q,
            [ph.vectors(self.g0), &conj[0], &conj[1], &conj[2]],
            fs,
            v2,
        );
        let n = ph.mesh.n_points() as f64;
        let pre = scale * FOUR_PHONON_GAMMA / (n * n);
        let nt = self.opts.temperatures.len();
        let f0 = ph.freqs(self.g0);
        let occ: [&[f64]; 3] = std::array::from_fn(|i| &self.occupations[g[i]][..]);
        let f: [&[f64]; 3] = std::array::from_fn(|i| ph.freqs(g[i]));
        for a in allowed {
            let [s0, s1, s2, s3] = a.s.map(usize::from);
            let v = v2[((s0 * nb + s1) * nb + s2) * nb + s3];
            let amp = pre * v * a.delta / (f0[s0] * f[0][s1] * f[1][s2] * f[2][s3]);
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

/// FourPhonon's four-phonon δ (1/THz) for a mismatch `df` (THz) and adaptive σ (rad/ps):
/// kept within one σ; a σ at or below 0.001 rad/ps is replaced by 1/√π after the window test.
pub fn fourphonon_delta_4(df: f64, sigma_w: f64) -> f64 {
    let x = TAU * df;
    if x.abs() > sigma_w {
        return 0.0;
    }
    let s = if sigma_w <= 0.001 {
        1.0 / PI.sqrt()
    } else {
        sigma_w
    };
    TAU * (-(x * x) / (s * s)).exp() / (s * PI.sqrt())
}

/// Pairs per parallel work item; chunk sums are added in order, so the result does not depend
/// on the number of threads.
const CHUNK: usize = 16;

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
    let kernel = Kernel {
        g0,
        ph,
        fc4,
        opts,
        occupations,
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
        let sets = class_pairs(&ph.mesh, g0, class);
        let FourPhononMode::Sampled { pairs: m, seed } = opts.mode else {
            // Exact: one pass, each set screened once and summed when anything is allowed.
            let (acc, processes, built) = kernel.exact_sum(class, &sets);
            out.gamma[class] = to_table(&acc);
            out.processes[class] = processes;
            out.pairs_built[class] = built;
            continue;
        };
        // Screening of every set first: the allowed processes per band s of q and their
        // screening weights (cheap: frequencies and velocities only).
        let screened: Vec<(u64, Vec<f64>)> = sets
            .par_iter()
            .map_init(Vec::new, |buf, g| {
                kernel.screen(class, *g, buf);
                let mut w = vec![0.0; nb];
                for a in buf.iter() {
                    w[a.s[0] as usize] += kernel.weight(g, a);
                }
                (buf.len() as u64, w)
            })
            .collect();
        out.processes[class] = screened.iter().map(|(c, _)| c).sum();
        let (active, weights): (Vec<[usize; 3]>, Vec<&Vec<f64>>) = sets
            .iter()
            .zip(&screened)
            .filter(|(_, (c, _))| *c > 0)
            .map(|(g, (_, w))| (*g, w))
            .unzip();
        if m >= active.len() {
            // No more active sets than draws: enumerate them.
            let (acc, _, built) = kernel.exact_sum(class, &active);
            out.gamma[class] = to_table(&acc);
            out.pairs_built[class] = built;
            continue;
        }
        let (mean, se) = kernel.sampled_sum(class, &active, &weights, m, seed);
        out.gamma[class] = to_table(&mean);
        out.std_error[class] = to_table(&se);
        out.pairs_built[class] = m as u64;
    }
    out
}

/// Per-thread work arrays of the fourth-order sums.
type Scratch = (Fc4Scratch, Vec<f64>, [Vec<C64>; 3]);

impl Kernel<'_> {
    fn scratch(&self) -> Scratch {
        let nb = self.ph.nb;
        (
            Fc4Scratch::new(self.fc4),
            vec![0.0; nb * nb * nb * nb],
            std::array::from_fn(|_| Vec::with_capacity(nb * nb)),
        )
    }

    /// Σ over `sets` of a class ([T·nb], chunk sums added in order: independent of threads),
    /// with the number of processes inside the window and of sets whose fourth-order sum was
    /// built.
    fn exact_sum(&self, class: usize, sets: &[[usize; 3]]) -> (Vec<f64>, u64, u64) {
        let width = self.opts.temperatures.len() * self.ph.nb;
        let chunks: Vec<(Vec<f64>, u64, u64)> = sets
            .par_chunks(CHUNK)
            .map_init(
                || (self.scratch(), Vec::new()),
                |(scratch, buf), chunk| {
                    let (mut acc, mut processes, mut built) = (vec![0.0; width], 0, 0);
                    for g in chunk {
                        self.screen(class, *g, buf);
                        if buf.is_empty() {
                            continue;
                        }
                        processes += buf.len() as u64;
                        built += 1;
                        self.contribution(class, *g, buf, scratch, 1.0, &mut acc);
                    }
                    (acc, processes, built)
                },
            )
            .collect();
        let mut total = (vec![0.0; width], 0, 0);
        for (acc, p, b) in chunks {
            for (a, x) in total.0.iter_mut().zip(acc) {
                *a += x;
            }
            total.1 += p;
            total.2 += b;
        }
        total
    }

    /// The sampled estimate of a class sum over the `active` sets and its standard error
    /// ([T·nb] each), from `m` draws; `weights[i]` are set i's screening weights per band.
    fn sampled_sum(
        &self,
        class: usize,
        active: &[[usize; 3]],
        weights: &[&Vec<f64>],
        m: usize,
        seed: u64,
    ) -> (Vec<f64>, Vec<f64>) {
        let nb = self.ph.nb;
        let width = self.opts.temperatures.len() * nb;
        // Defensive mixture importance sampling: the draw probability of a set is the average,
        // over the bands s of q that scatter at all, of its share of s's screening weight
        // (Σ δ W/(f' f'' f''') over its allowed processes, W bounding the occupation factor).
        // Every band thus gets draws in proportion to its own support, and each draw gives the
        // unbiased estimate F/p of every band's class sum.
        let per_band: Vec<f64> = (0..nb)
            .map(|b| weights.iter().map(|w| w[b]).sum())
            .collect();
        let bands = per_band.iter().filter(|&&t| t > 0.0).count() as f64;
        let prob: Vec<f64> = weights
            .iter()
            .map(|w| {
                (0..nb)
                    .filter(|&b| per_band[b] > 0.0)
                    .map(|b| w[b] / per_band[b])
                    .sum::<f64>()
                    / bands
            })
            .collect();
        let mut cdf = Vec::with_capacity(active.len());
        let mut run = 0.0;
        for p in &prob {
            run += p;
            cdf.push(run);
        }
        // Stratified draws: the cumulative probability is cut into m equal strata and one set
        // is drawn in each (a random point inside the stratum), which spreads the draws over
        // the whole list instead of leaving gaps by chance.
        let mut rng = SplitMix64::new(seed ^ ((self.g0 as u64) << 8) ^ class as u64);
        let draws: Vec<usize> = (0..m)
            .map(|k| {
                let u = (k as f64 + rng.next_f64()) / m as f64 * run;
                cdf.partition_point(|&c| c <= u).min(active.len() - 1)
            })
            .collect();
        let estimates: Vec<Vec<f64>> = draws
            .par_chunks(CHUNK)
            .map_init(
                || (self.scratch(), Vec::new()),
                |(scratch, buf), chunk| {
                    chunk
                        .iter()
                        .map(|&a| {
                            let mut acc = vec![0.0; width];
                            self.screen(class, active[a], buf);
                            let scale = run / prob[a];
                            self.contribution(class, active[a], buf, scratch, scale, &mut acc);
                            acc
                        })
                        .collect::<Vec<_>>()
                },
            )
            .flatten()
            .collect();
        let mf = m as f64;
        let mut mean = vec![0.0; width];
        for e in &estimates {
            for (a, b) in mean.iter_mut().zip(e) {
                *a += b / mf;
            }
        }
        // Variance of the mean by collapsed strata: neighbouring strata paired, each pair's
        // squared difference estimates the sum of their variances (conservative: a trend
        // between the two adds to it).
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
}

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
