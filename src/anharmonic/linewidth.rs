//! Three-phonon linewidths Γ_λ (phono3py's `gamma`: imaginary part of the self energy, half
//! width, THz) at a grid point of a Γ-centred mesh, for a list of temperatures (physics.md §6):
//!
//!   Γ_λ = C/N Σ_{q'} w Σ_{s's''} |V|²/(f f' f'') {(n'+n''+1) δ(f−f'−f'') + (n'−n'')[δ(f+f'−f'') − δ(f−f'+f'')]}
//!
//! δ by the linear tetrahedron method on the q' mesh (the q'' vertices move opposite to q') or
//! by a Gaussian. Triplets are reduced by the little group of q and q' ↔ q''.

use super::interaction::Fc3Fourier;
use super::triplets::{Triplets, triplets_at_q};
use crate::harmonic::bz_grid::BzGrid;
use crate::harmonic::dos::SortedTetrahedra;
use crate::harmonic::mesh::Mesh;
use crate::harmonic::thermo::bose;
use crate::linalg::Vec3;
use crate::units::THREE_PHONON_GAMMA;
use num_complex::Complex64 as C64;
use rayon::prelude::*;

/// Phonons at every point of a Γ-centred mesh (grid order), computed at `qpoints[g]`.
pub struct MeshPhonons {
    pub mesh: Mesh,
    pub qpoints: Vec<Vec3>,
    pub nb: usize,
    /// `frequencies[g * nb + s]` (THz).
    pub frequencies: Vec<f64>,
    /// `eigenvectors[(g * nb + s) * nb + component]`.
    pub eigenvectors: Vec<C64>,
    /// Group velocities `[g * nb + s]` (THz·Å), needed by adaptive smearing (else empty).
    pub velocities: Vec<Vec3>,
    /// Reciprocal lattice rows with the 2π (rad/Å), for adaptive smearing.
    pub reciprocal_2pi: crate::linalg::Mat3,
    /// Zone representatives of the grid points (normal/umklapp classes).
    pub bz: BzGrid,
}

impl MeshPhonons {
    pub fn freqs(&self, g: usize) -> &[f64] {
        &self.frequencies[g * self.nb..(g + 1) * self.nb]
    }
    pub fn vectors(&self, g: usize) -> &[C64] {
        &self.eigenvectors[g * self.nb * self.nb..(g + 1) * self.nb * self.nb]
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DeltaMethod {
    Tetrahedron,
    /// Gaussian of standard deviation σ (THz).
    Gaussian(f64),
    /// ShengBTE/FourPhonon adaptive Gaussian with this `scalebroad`: for each pair of phonons
    /// σ_ω = scale · √(max_i ((b_i·Δv)/N_i)² / 2) (rad/ps; b_i with 2π, Δv = v' ∓ v'' of the two
    /// partners), δ_ω(x) = exp(−x²/σ²)/(σ√π), and processes with |x| > 2σ dropped, following
    /// FourPhonon's definitions (reference-n4/README.md).
    Adaptive(f64),
}

impl DeltaMethod {
    pub fn needs_velocities(&self) -> bool {
        matches!(self, DeltaMethod::Adaptive(_))
    }
}

/// FourPhonon's adaptive broadening (rad/ps) for a velocity difference `dv` (THz·Å = Å/ps).
pub fn adaptive_sigma(
    dv: &Vec3,
    rec_2pi: &crate::linalg::Mat3,
    mesh: [usize; 3],
    scale: f64,
) -> f64 {
    let m = (0..3)
        .map(|i| {
            let b = (0..3).map(|c| rec_2pi[i][c] * dv[c]).sum::<f64>() / mesh[i] as f64;
            b * b
        })
        .fold(0.0, f64::max);
    scale * (m / 2.0).sqrt()
}

/// δ(f − x) in 1/THz from FourPhonon's Gaussian in angular units with the cut at 2σ.
pub fn fourphonon_delta(df: f64, sigma_w: f64) -> f64 {
    let x = std::f64::consts::TAU * df;
    if sigma_w <= 0.0 || x.abs() > 2.0 * sigma_w {
        return 0.0;
    }
    std::f64::consts::TAU * (-(x * x) / (sigma_w * sigma_w)).exp()
        / (sigma_w * std::f64::consts::PI.sqrt())
}

#[derive(Clone, Debug)]
pub struct LinewidthOptions {
    pub temperatures: Vec<f64>,
    /// Modes at or below this frequency (THz) neither scatter nor are scattered.
    pub cutoff_frequency: f64,
    pub delta: DeltaMethod,
    /// Also build the collision-matrix columns of every triplet (for the direct LBTE solution).
    pub collisions: bool,
}

/// The off-diagonal collision-matrix entries one triplet (q, q', q'') gives to row (q, s), in
/// linewidth units (THz), for the two partners as column: `first[(T·nb + s)·nb + s']` for
/// column (q', s') and `second[(T·nb + s)·nb + s'']` for column (q'', s''). With the notation
/// of `linewidths_at`, K = C|V|²/(N f f' f''):
///
///   first  = Σ_{s''} K / sinh(hf''/2kT) · [δ(f−f'−f'') + δ(f+f'−f'') + δ(f−f'+f'')]
///
/// (and `second` with the roles of q' and q'' exchanged). This is the symmetrized collision
/// operator of the linearized BTE acting on odd (∝ v) deviations, with q + q' + q'' = G (see
/// transport::lbte for the derivation).
#[derive(Clone, Debug)]
pub struct TripletColumns {
    pub first: Vec<f64>,
    pub second: Vec<f64>,
}

/// Γ split by process class and the weighted phase space at one grid point, [T][s] each.
///
/// The two classes are the two terms of Γ (physics.md §6): decay λ → λ' + λ'' (the
/// (n'+n''+1)δ(ω−ω'−ω'') term, phono3py's "class 2") and coalescence λ + λ' → λ'' (the
/// (n'−n'')[δ(ω+ω'−ω'') − δ(ω−ω'+ω'')] term, "class 1"); decay + coalescence = Γ. Independently,
/// normal + umklapp = Γ, where a triplet is normal when its three zone representatives add up to
/// zero (phono3py's `gamma_N`, `gamma_U`). The weighted phase space is the same sum with the
/// interaction strength replaced by one: N₂(q, ω_λ) = 1/N Σ_{q's's''} {(n'+n''+1)δ(ω−ω'−ω'') +
/// (n'−n'')[δ(ω+ω'−ω'') − δ(ω−ω'+ω'')]} (1/THz, phono3py's weighted joint DOS at ω = ω_λ),
/// split into the same two classes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GammaParts {
    pub decay: Vec<Vec<f64>>,
    pub coalescence: Vec<Vec<f64>>,
    pub normal: Vec<Vec<f64>>,
    pub umklapp: Vec<Vec<f64>>,
    pub phase_space_decay: Vec<Vec<f64>>,
    pub phase_space_coalescence: Vec<Vec<f64>>,
}

/// The channels of `GammaParts`, in the order of the per-chunk accumulators.
const CHANNELS: usize = 6;
const DECAY: usize = 0;
const COALESCENCE: usize = 1;
const NORMAL: usize = 2;
const UMKLAPP: usize = 3;
const PS_DECAY: usize = 4;
const PS_COALESCENCE: usize = 5;

impl GammaParts {
    fn from_channels(acc: &[f64], nt: usize, nb: usize) -> GammaParts {
        let ch = |c: usize| -> Vec<Vec<f64>> {
            (0..nt)
                .map(|it| acc[(c * nt + it) * nb..(c * nt + it + 1) * nb].to_vec())
                .collect()
        };
        GammaParts {
            decay: ch(DECAY),
            coalescence: ch(COALESCENCE),
            normal: ch(NORMAL),
            umklapp: ch(UMKLAPP),
            phase_space_decay: ch(PS_DECAY),
            phase_space_coalescence: ch(PS_COALESCENCE),
        }
    }

    /// Γ[T][s] = decay + coalescence.
    pub fn total(&self) -> Vec<Vec<f64>> {
        self.decay
            .iter()
            .zip(&self.coalescence)
            .map(|(d, c)| d.iter().zip(c).map(|(a, b)| a + b).collect())
            .collect()
    }

    /// Names of the tables, in the order of `tables` and `tables_mut` (the checkpoint keys).
    pub const NAMES: [&'static str; CHANNELS] = [
        "decay",
        "coalescence",
        "normal",
        "umklapp",
        "phase_space_decay",
        "phase_space_coalescence",
    ];

    /// Every [T][s] table, for averaging or storing them alike.
    pub fn tables_mut(&mut self) -> [&mut Vec<Vec<f64>>; CHANNELS] {
        [
            &mut self.decay,
            &mut self.coalescence,
            &mut self.normal,
            &mut self.umklapp,
            &mut self.phase_space_decay,
            &mut self.phase_space_coalescence,
        ]
    }

    pub fn tables(&self) -> [&Vec<Vec<f64>>; CHANNELS] {
        [
            &self.decay,
            &self.coalescence,
            &self.normal,
            &self.umklapp,
            &self.phase_space_decay,
            &self.phase_space_coalescence,
        ]
    }
}

/// Γ at one grid point, split by process, and, when asked for, the collision-matrix columns
/// of each kept triplet.
pub struct ScatteringAtQ {
    /// Γ[T][s] (THz) = parts.decay + parts.coalescence.
    pub gamma: Vec<Vec<f64>>,
    pub parts: GammaParts,
    /// The triplets of this point and one column entry per triplet, in their order.
    pub columns: Option<(Triplets, Vec<TripletColumns>)>,
}

/// 1/sinh(hf/2kT), 0 for f ≤ cutoff or T ≤ 0 (those modes carry no heat).
fn inv_sinh(f: f64, t: f64, cutoff: f64) -> f64 {
    if f <= cutoff || t <= 0.0 {
        return 0.0;
    }
    let x = f * crate::units::THZ_TO_EV / (2.0 * crate::units::KB_EV * t);
    if x > 700.0 { 0.0 } else { 1.0 / x.sinh() }
}

/// One band's values at the 4 vertices of the 24 tetrahedra around a grid point.
type TetValues = [[f64; 4]; 24];

/// The 24 tetrahedra around q' as grid offsets (centre first), from harmonic::dos.
pub type Tetrahedra = [[[i32; 3]; 4]; 24];

fn shifted(mesh: &Mesh, g: usize, r: &[i32; 3], sign: i32) -> usize {
    let a = mesh.address(g);
    let b: [usize; 3] =
        std::array::from_fn(|k| (a[k] as i32 + sign * r[k]).rem_euclid(mesh.n[k] as i32) as usize);
    mesh.index(&b)
}

/// Γ[T][s] at grid point `g0`.
pub fn linewidths_at(
    g0: usize,
    ph: &MeshPhonons,
    fc3: &Fc3Fourier,
    rotations: &[[[i32; 3]; 3]],
    tets: &Tetrahedra,
    opts: &LinewidthOptions,
) -> Vec<Vec<f64>> {
    scattering_at(g0, ph, fc3, rotations, tets, opts).gamma
}

/// Triplets per work item: each chunk adds its triplets in order and the chunks are added in
/// order, so the sums do not depend on the number of threads; one accumulator per chunk keeps
/// the memory at (triplets / CHUNK) × 6 × T × bands values.
const CHUNK: usize = 8;

/// Γ[T][s] at grid point `g0`, split by process, with the collision-matrix columns when
/// `opts.collisions`.
pub fn scattering_at(
    g0: usize,
    ph: &MeshPhonons,
    fc3: &Fc3Fourier,
    rotations: &[[[i32; 3]; 3]],
    tets: &Tetrahedra,
    opts: &LinewidthOptions,
) -> ScatteringAtQ {
    scattering_for_deltas(g0, ph, fc3, rotations, tets, opts, &[opts.delta])
        .pop()
        .expect("one δ method in, one result out")
}

/// As `scattering_at` for several δ methods at once (`opts.delta` is not used): the triplets,
/// the fc3 Fourier sums and |V|² — most of the cost — are computed once and shared, and each
/// method's sums run in the same order as a run with that method alone, so every result is
/// bit-for-bit what `scattering_at` gives for it (a smearing series costs little more than one
/// run).
pub fn scattering_for_deltas(
    g0: usize,
    ph: &MeshPhonons,
    fc3: &Fc3Fourier,
    rotations: &[[[i32; 3]; 3]],
    tets: &Tetrahedra,
    opts: &LinewidthOptions,
    deltas: &[DeltaMethod],
) -> Vec<ScatteringAtQ> {
    let (nb, nt, nd) = (ph.nb, opts.temperatures.len(), deltas.len());
    let triplets = triplets_at_q(&ph.mesh, g0, rotations);
    let kernel = TripletKernel {
        g0,
        ph,
        fc3,
        fc3_q: fc3.at_q(&ph.qpoints[g0]),
        tets,
        opts,
        deltas,
    };
    let width = CHANNELS * nt * nb;
    // Per chunk: the accumulators of every δ method one after the other, and per method the
    // collision columns of each triplet.
    type ChunkSums = (Vec<f64>, Vec<Vec<TripletColumns>>);
    let chunks: Vec<ChunkSums> = triplets
        .list
        .par_chunks(CHUNK)
        .map_init(
            || Scratch::new(nb),
            |scratch, chunk| {
                let mut acc = vec![0.0; nd * width];
                let mut cols = vec![Vec::new(); nd];
                for &(g1, g2, w) in chunk {
                    let class = if ph.bz.is_normal(g0, g1, g2) {
                        NORMAL
                    } else {
                        UMKLAPP
                    };
                    let c = kernel.add_contribution(scratch, (g1, g2, w), class, &mut acc);
                    for (all, one) in cols.iter_mut().zip(c) {
                        all.extend(one);
                    }
                }
                (acc, cols)
            },
        )
        .collect();
    let mut acc = vec![0.0; nd * width];
    let mut all_cols = vec![Vec::new(); nd];
    for (a, c) in chunks {
        for (x, y) in acc.iter_mut().zip(&a) {
            *x += y;
        }
        for (all, one) in all_cols.iter_mut().zip(c) {
            all.extend(one);
        }
    }
    acc.chunks(width)
        .zip(all_cols)
        .map(|(a, cols)| {
            let parts = GammaParts::from_channels(a, nt, nb);
            ScatteringAtQ {
                gamma: parts.total(),
                parts,
                columns: opts.collisions.then(|| (triplets.clone(), cols)),
            }
        })
        .collect()
}

/// Per-thread work arrays of the interaction strength.
struct Scratch {
    rec: Vec<C64>,
    work: Vec<C64>,
    v2: Vec<f64>,
    sorted: Box<[SortedTetrahedra; 3]>,
}

impl Scratch {
    fn new(nb: usize) -> Scratch {
        Scratch {
            rec: vec![C64::new(0.0, 0.0); nb * nb * nb],
            work: vec![C64::new(0.0, 0.0); nb * nb * nb],
            v2: vec![0.0; nb * nb * nb],
            sorted: Box::new([(); 3].map(|_| SortedTetrahedra::empty())),
        }
    }
}

/// What every triplet of one grid point q shares.
struct TripletKernel<'a> {
    g0: usize,
    ph: &'a MeshPhonons,
    fc3: &'a Fc3Fourier,
    fc3_q: super::interaction::Fc3AtQ,
    tets: &'a Tetrahedra,
    opts: &'a LinewidthOptions,
    /// The δ methods evaluated side by side; `acc` holds one block of channels per method.
    deltas: &'a [DeltaMethod],
}

impl TripletKernel<'_> {
    /// Adds the contribution of triplet (q, q'=g1, q''=g2) of orbit weight `w` to `acc`
    /// ([δ method][channel][T][s]): decay and coalescence parts, their sum to `class` (NORMAL or
    /// UMKLAPP), and the weighted phase space; returns, per δ method, its collision-matrix
    /// columns when asked for.
    fn add_contribution(
        &self,
        scratch: &mut Scratch,
        (g1, g2, w): (usize, usize, usize),
        class: usize,
        acc: &mut [f64],
    ) -> Vec<Option<TripletColumns>> {
        let (ph, opts, g0) = (self.ph, self.opts, self.g0);
        let (nb, nt) = (ph.nb, opts.temperatures.len());
        let mesh = &ph.mesh;
        let n = mesh.n_points() as f64;
        let cut = opts.cutoff_frequency;
        let f0 = ph.freqs(g0);
        let m = nt * nb;
        let width = CHANNELS * m;
        let orbit = w as f64 / n;
        let mut cols: Vec<Option<TripletColumns>> = self
            .deltas
            .iter()
            .map(|_| {
                opts.collisions.then(|| TripletColumns {
                    first: vec![0.0; nt * nb * nb],
                    second: vec![0.0; nt * nb * nb],
                })
            })
            .collect();
        let Scratch {
            rec,
            work,
            v2,
            sorted,
        } = scratch;
        self.fc3_q.reciprocal(&ph.qpoints[g1], &ph.qpoints[g2], rec);
        self.fc3.strength(
            rec,
            [ph.vectors(g0), ph.vectors(g1), ph.vectors(g2)],
            work,
            v2,
        );
        let (f1, f2) = (ph.freqs(g1), ph.freqs(g2));
        // Bose occupations of q' and q'' bands, once per triplet.
        let occ = |f: &[f64]| -> Vec<f64> {
            opts.temperatures
                .iter()
                .flat_map(|&t| f.iter().map(move |&x| bose(x, t)))
                .collect()
        };
        let (occ1, occ2) = (occ(f1), occ(f2));
        let ish = |f: &[f64]| -> Vec<f64> {
            if !opts.collisions {
                return vec![];
            }
            opts.temperatures
                .iter()
                .flat_map(|&t| f.iter().map(move |&x| inv_sinh(x, t, cut)))
                .collect()
        };
        let (ish1, ish2) = (ish(f1), ish(f2));
        average_degenerate(v2, nb, [f0, f1, f2]);
        let tetra = self.deltas.contains(&DeltaMethod::Tetrahedron);
        // Only the tetrahedron method may skip a band pair whose δ ranges miss every f of q.
        let only_tetra = self.deltas.iter().all(|d| *d == DeltaMethod::Tetrahedron);
        // Band frequencies at the tetrahedron vertices around q' (and opposite around q''),
        // gathered once per triplet.
        let (xv, yv): (Vec<TetValues>, Vec<TetValues>) = if tetra {
            let (v1, v2f): (Vec<[usize; 4]>, Vec<[usize; 4]>) = self
                .tets
                .iter()
                .map(|t| {
                    (
                        t.map(|r| shifted(mesh, g1, &r, 1)),
                        t.map(|r| shifted(mesh, g2, &r, -1)),
                    )
                })
                .unzip();
            let gather = |verts: &[[usize; 4]], band: usize| -> TetValues {
                let mut out = [[0.0; 4]; 24];
                for (o, a) in out.iter_mut().zip(verts) {
                    for v in 0..4 {
                        o[v] = ph.frequencies[a[v] * nb + band];
                    }
                }
                out
            };
            (
                (0..nb).map(|j| gather(&v1, j)).collect(),
                (0..nb).map(|k| gather(&v2f, k)).collect(),
            )
        } else {
            (vec![], vec![])
        };
        // Smallest and largest vertex frequency of each band around q' and q''.
        let xr: Vec<(f64, f64)> = xv.iter().map(SortedTetrahedra::range).collect();
        let yr: Vec<(f64, f64)> = yv.iter().map(SortedTetrahedra::range).collect();
        for j in 0..nb {
            if f1[j] <= cut {
                continue;
            }
            for k in 0..nb {
                if f2[k] <= cut {
                    continue;
                }
                // δ(f − F) by tetrahedra for F = f'+f'', −f'+f'', f'−f''. A function is needed
                // only if some frequency of q can fall inside its range; bounds from the
                // per-band extremes decide that before any vertex is touched.
                let mut need = [false; 3];
                if tetra {
                    let ((x0, x1), (y0, y1)) = (xr[j], yr[k]);
                    let ranges = [(x0 + y0, x1 + y1), (y0 - x1, y1 - x0), (x0 - y1, x1 - y0)];
                    for (fi, (lo, hi)) in ranges.into_iter().enumerate() {
                        need[fi] = f0.iter().any(|&w| w > cut && w >= lo && w < hi);
                    }
                    if only_tetra && need == [false; 3] {
                        continue;
                    }
                    let (xj, yk) = (&xv[j], &yv[k]);
                    let signs = [(1.0, 1.0), (-1.0, 1.0), (1.0, -1.0)];
                    for fi in 0..3 {
                        if need[fi] {
                            let (a, b) = signs[fi];
                            sorted[fi].fill(|t, v| a * xj[t][v] + b * yk[t][v]);
                        }
                    }
                }
                for (di, delta) in self.deltas.iter().enumerate() {
                    if *delta == DeltaMethod::Tetrahedron && need == [false; 3] {
                        continue;
                    }
                    // Adaptive σ for the decay (v' − v'') and the absorption (v' + v'') terms.
                    let adaptive = match delta {
                        DeltaMethod::Adaptive(scale) => {
                            let (v1, v2) = (ph.velocities[g1 * nb + j], ph.velocities[g2 * nb + k]);
                            let dm: Vec3 = std::array::from_fn(|c| v1[c] - v2[c]);
                            let dp: Vec3 = std::array::from_fn(|c| v1[c] + v2[c]);
                            Some((
                                adaptive_sigma(&dm, &ph.reciprocal_2pi, mesh.n, *scale),
                                adaptive_sigma(&dp, &ph.reciprocal_2pi, mesh.n, *scale),
                            ))
                        }
                        _ => None,
                    };
                    // δ weights for f = f'+f'', f = −f'+f'', f = f'−f'' at band s0 of q.
                    let weights = |s0: usize| -> [f64; 3] {
                        match delta {
                            DeltaMethod::Gaussian(sigma) => {
                                let g = |x: f64| {
                                    (-(x * x) / (2.0 * sigma * sigma)).exp()
                                        / (sigma * (2.0 * std::f64::consts::PI).sqrt())
                                };
                                [
                                    g(f0[s0] - f1[j] - f2[k]),
                                    g(f0[s0] + f1[j] - f2[k]),
                                    g(f0[s0] - f1[j] + f2[k]),
                                ]
                            }
                            DeltaMethod::Tetrahedron => std::array::from_fn(|fi| {
                                if need[fi] {
                                    sorted[fi].weight(f0[s0])
                                } else {
                                    0.0
                                }
                            }),
                            DeltaMethod::Adaptive(_) => {
                                let (sm, sp) = adaptive.expect("adaptive sigmas");
                                [
                                    fourphonon_delta(f0[s0] - f1[j] - f2[k], sm),
                                    fourphonon_delta(f0[s0] + f1[j] - f2[k], sp),
                                    fourphonon_delta(f0[s0] - f1[j] + f2[k], sp),
                                ]
                            }
                        }
                    };
                    let acc = &mut acc[di * width..(di + 1) * width];
                    for s0 in 0..nb {
                        if f0[s0] <= cut {
                            continue;
                        }
                        let g = weights(s0);
                        if g == [0.0; 3] {
                            continue;
                        }
                        let amp = orbit * THREE_PHONON_GAMMA * v2[(s0 * nb + j) * nb + k]
                            / (f0[s0] * f1[j] * f2[k]);
                        for it in 0..nt {
                            let (n1, n2) = (occ1[it * nb + j], occ2[it * nb + k]);
                            let decay = (n1 + n2 + 1.0) * g[0];
                            let coalescence = (n1 - n2) * (g[1] - g[2]);
                            let i = it * nb + s0;
                            acc[DECAY * m + i] += amp * decay;
                            acc[COALESCENCE * m + i] += amp * coalescence;
                            acc[class * m + i] += amp * (decay + coalescence);
                            acc[PS_DECAY * m + i] += orbit * decay;
                            acc[PS_COALESCENCE * m + i] += orbit * coalescence;
                        }
                        if let Some(c) = cols[di].as_mut() {
                            // The same K without the orbit weight: each column is one q'.
                            let k_all = amp / w as f64 * (g[0] + g[1] + g[2]);
                            for it in 0..nt {
                                c.first[(it * nb + s0) * nb + j] += k_all * ish2[it * nb + k];
                                c.second[(it * nb + s0) * nb + k] += k_all * ish1[it * nb + j];
                            }
                        }
                    }
                }
            }
        }
        cols
    }
}

/// Averages |V|² over degenerate bands at each of the three q (|Δf| < 1e-4 THz). Inside a
/// degenerate subspace the eigenvectors are an arbitrary basis; the tetrahedron weights of the
/// partners differ, so without this the result would depend on that basis (phono3py does the same).
pub fn average_degenerate(v2: &mut [f64], nb: usize, freqs: [&[f64]; 3]) {
    let idx = |a: usize, b: usize, c: usize| (a * nb + b) * nb + c;
    for (axis, f) in freqs.iter().enumerate() {
        for set in crate::harmonic::eigen::degenerate_sets(f, crate::units::DEGENERACY_TOL_THZ) {
            if set.len() < 2 {
                continue;
            }
            for x in 0..nb {
                for y in 0..nb {
                    let at = |s: usize| match axis {
                        0 => idx(s, x, y),
                        1 => idx(x, s, y),
                        _ => idx(x, y, s),
                    };
                    let avg = set.iter().map(|&s| v2[at(s)]).sum::<f64>() / set.len() as f64;
                    for &s in &set {
                        v2[at(s)] = avg;
                    }
                }
            }
        }
    }
}
