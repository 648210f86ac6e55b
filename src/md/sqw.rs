//! Correlation functions from an MD trajectory, streamed over frames with memory independent of
//! the trajectory length (physics.md §8, the CsCu2I3 seed's Eq. 6):
//!
//! * coherent intermediate scattering function F(Q,τ) = ⟨ρ_Q(t+τ) ρ_Q*(t)⟩_t / N with
//!   ρ_Q(t) = Σ_j b_j e^{iQ·r_j(t)} at Q commensurate with the MD cell, and S(Q,f) its windowed
//!   Fourier transform;
//! * the velocity-autocorrelation DOS, Σ_j m_j ⟨v_j(t+τ)·v_j(t)⟩ transformed, per species and per
//!   Cartesian direction.
//!
//! Both keep a ring buffer of the last `max_lag` + 1 frames of their signal (n_Q complex numbers,
//! or 3 N_atoms velocities) and add every product of the newest frame with the buffered ones.
//! Velocities are forward differences of consecutive positions, v(t + ½Δt) = (r(t + Δt) − r(t))/Δt,
//! whose spectrum is the true one times sinc²(πfΔt); the DOS is divided by that factor.

use crate::error::{Error, Result};
use crate::linalg::Vec3;
use num_complex::Complex64 as C64;
use rustfft::FftPlanner;

/// Accumulates C_g(τ) = Σ_t Σ_{i ∈ g} x_i(t + τ) x_i*(t) for τ = 0..=max_lag over a stream of
/// samples x(t) ∈ ℂ^m, with components grouped by `group[i]`.
pub struct StreamingCorrelator {
    max_lag: usize,
    group: Vec<usize>,
    n_groups: usize,
    ring: Vec<Vec<C64>>,
    /// Samples pushed so far.
    pushed: usize,
    /// [group][τ] sums.
    sums: Vec<Vec<C64>>,
    /// Number of (t, t + τ) pairs added at each τ.
    counts: Vec<u64>,
    /// Σ_t x_i(t), for the mean (elastic) part.
    total: Vec<C64>,
}

impl StreamingCorrelator {
    pub fn new(group: Vec<usize>, max_lag: usize) -> StreamingCorrelator {
        let n_groups = group.iter().copied().max().map_or(0, |g| g + 1);
        let m = group.len();
        StreamingCorrelator {
            max_lag,
            group,
            n_groups,
            ring: vec![vec![C64::new(0.0, 0.0); m]; max_lag + 1],
            pushed: 0,
            sums: vec![vec![C64::new(0.0, 0.0); max_lag + 1]; n_groups],
            counts: vec![0; max_lag + 1],
            total: vec![C64::new(0.0, 0.0); m],
        }
    }

    /// Bytes held, independent of the number of samples pushed.
    pub fn memory_bytes(&self) -> usize {
        16 * (self.ring.len() * self.group.len()
            + self.sums.len() * (self.max_lag + 1)
            + self.group.len())
    }

    pub fn push(&mut self, x: &[C64]) {
        let slot = self.pushed % (self.max_lag + 1);
        self.ring[slot].copy_from_slice(x);
        for (t, v) in self.total.iter_mut().zip(x) {
            *t += v;
        }
        let lags = self.max_lag.min(self.pushed);
        for tau in 0..=lags {
            let old = &self.ring[(self.pushed - tau) % (self.max_lag + 1)];
            for (i, (a, b)) in x.iter().zip(old).enumerate() {
                self.sums[self.group[i]][tau] += a * b.conj();
            }
            self.counts[tau] += 1;
        }
        self.pushed += 1;
    }

    /// C_g(τ)/pairs(τ) for τ with at least one pair.
    pub fn averages(&self) -> Vec<Vec<C64>> {
        (0..self.n_groups)
            .map(|g| {
                self.sums[g]
                    .iter()
                    .zip(&self.counts)
                    .take_while(|(_, c)| **c > 0)
                    .map(|(s, c)| s / *c as f64)
                    .collect()
            })
            .collect()
    }

    /// The time average of each component.
    pub fn means(&self) -> Vec<C64> {
        self.total
            .iter()
            .map(|t| t / self.pushed.max(1) as f64)
            .collect()
    }
}

/// Hann window w(τ) = cos²(πτ/2L) on τ = 0..L (1 at τ = 0, 0 at L), or none.
pub fn window(kind: Window, n: usize) -> Vec<f64> {
    match kind {
        Window::None => vec![1.0; n],
        Window::Hann => (0..n)
            .map(|t| {
                let x = std::f64::consts::FRAC_PI_2 * t as f64 / n.max(1) as f64;
                x.cos().powi(2)
            })
            .collect(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    None,
    Hann,
}

impl Window {
    pub fn parse(s: &str) -> Result<Window> {
        match s.to_lowercase().as_str() {
            "none" => Ok(Window::None),
            "hann" | "hanning" => Ok(Window::Hann),
            other => Err(Error::input(format!(
                "--window: expected hann or none, found '{other}'"
            ))),
        }
    }
}

/// The spectrum S(f) = Δt Σ_{τ=−L}^{L} w(|τ|) C(τ) e^{−2πifτΔt} (the ends τ = ±L at half weight) of a
/// correlation with C(−τ) = C(τ)*,
/// on f_k = k/(2LΔt), k = −L..L−1 (THz for Δt in ps). ∫ S df = C(0) up to the window.
pub fn spectrum(c: &[C64], w: &[f64], dt_ps: f64) -> (Vec<f64>, Vec<f64>) {
    let l = c.len().saturating_sub(1).max(1);
    let n = 2 * l;
    let mut buf = vec![C64::new(0.0, 0.0); n];
    for tau in 0..c.len().min(l + 1) {
        let v = c[tau] * w[tau];
        if tau == 0 {
            buf[0] = v;
        } else if tau == l {
            // τ = ±L share one FFT slot: each counts half (the window is 0 there for Hann).
            buf[l] = 0.5 * (v + v.conj());
        } else {
            buf[tau] = v;
            buf[n - tau] = v.conj();
        }
    }
    FftPlanner::new().plan_fft_forward(n).process(&mut buf);
    let df = 1.0 / (n as f64 * dt_ps);
    let mut f = Vec::with_capacity(n);
    let mut s = Vec::with_capacity(n);
    // Order k = −L..L−1: slots L..2L−1 hold negative frequencies.
    for k in (l..n).chain(0..l) {
        let kf = if k >= l {
            k as f64 - n as f64
        } else {
            k as f64
        };
        f.push(kf * df);
        // Σ_τ C(τ) e^{−2πi kτ/n}; C Hermitian in τ makes it real.
        s.push(buf[k].re * dt_ps);
    }
    (f, s)
}

/// Per-frame ρ_Q = Σ_j b_j e^{iQ·r_j} for each Q (Cartesian Å⁻¹, 2π included).
/// `b[iq][j]` is atom j's amplitude at that Q (X-ray form factors depend on |Q|).
pub fn densities(qs: &[Vec3], b: &[Vec<f64>], positions: &[Vec3], out: &mut [C64]) {
    for ((o, q), b) in out.iter_mut().zip(qs).zip(b) {
        *o = positions
            .iter()
            .zip(b)
            .map(|(r, bj)| C64::from_polar(*bj, q[0] * r[0] + q[1] * r[1] + q[2] * r[2]))
            .sum();
    }
}

/// sinc²(πfΔt): the transfer function of the forward-difference velocity.
pub fn difference_filter(f_thz: f64, dt_ps: f64) -> f64 {
    let x = std::f64::consts::PI * f_thz * dt_ps;
    if x.abs() < 1e-12 {
        1.0
    } else {
        (x.sin() / x).powi(2)
    }
}

/// What `md_correlations` computes.
pub struct CorrelationOptions {
    /// Q points (Cartesian Å⁻¹, 2π included), commensurate with the MD cell.
    pub qs: Vec<Vec3>,
    /// Scattering amplitude of each MD atom at each Q, [Q][atom] (fm or electrons).
    pub b: Vec<Vec<f64>>,
    /// Mass (amu) and species index of each MD atom.
    pub masses: Vec<f64>,
    pub species: Vec<usize>,
    /// Longest lag (frames).
    pub max_lag: usize,
    /// Time between used frames (fs).
    pub frame_fs: f64,
    pub window: Window,
}

/// Correlations and spectra of one trajectory.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MdCorrelations {
    pub n_frames: usize,
    pub n_atoms: usize,
    /// Lag times (ps).
    pub times: Vec<f64>,
    /// F(Q,τ) [Q][τ] (real and imaginary parts), per atom.
    pub f_real: Vec<Vec<f64>>,
    pub f_imag: Vec<Vec<f64>>,
    /// |⟨ρ_Q⟩|²/N: the elastic (Bragg) part, removed before the transform.
    pub elastic: Vec<f64>,
    /// Frequencies (THz) of the spectra, k/(2LΔt) for k = −L..L−1.
    pub frequencies: Vec<f64>,
    /// Inelastic S(Q,f) [Q][f] per atom (per THz).
    pub sqw: Vec<Vec<f64>>,
    /// VACF DOS [species][direction][f ≥ 0], normalized so that the total integrates to 3 per atom.
    pub dos_frequencies: Vec<f64>,
    pub dos_by_species_direction: Vec<[Vec<f64>; 3]>,
    pub dos_total: Vec<f64>,
    /// Memory of the two correlators (bytes), independent of the number of frames.
    pub correlator_bytes: usize,
}

/// One frame for `md_correlations`: Cartesian positions (Å) and the lattice rows.
pub type PositionsFrame = (Vec<Vec3>, [[f64; 3]; 3]);

/// Streams `next_frame` to its end (each call returns the Cartesian positions of one frame and
/// the frame's lattice rows) and returns the correlations.
pub fn md_correlations(
    mut next_frame: impl FnMut() -> Result<Option<PositionsFrame>>,
    o: &CorrelationOptions,
    mut on_frame: impl FnMut(usize),
) -> Result<MdCorrelations> {
    let n_atoms = o.masses.len();
    if o.b.len() != o.qs.len()
        || o.b.iter().any(|b| b.len() != n_atoms)
        || o.species.len() != n_atoms
    {
        return Err(Error::input(
            "md sqw: one amplitude, mass and species per atom are needed",
        ));
    }
    if o.max_lag < 2 {
        return Err(Error::input(
            "md sqw: the longest lag must be at least 2 frames",
        ));
    }
    let n_species = o.species.iter().copied().max().map_or(0, |s| s + 1);
    let mut rho = StreamingCorrelator::new((0..o.qs.len()).collect(), o.max_lag);
    // √m v per atom and direction, grouped by (species, direction).
    let groups: Vec<usize> = (0..3 * n_atoms)
        .map(|i| 3 * o.species[i / 3] + i % 3)
        .collect();
    let mut vel = StreamingCorrelator::new(groups, o.max_lag);
    let mut x = vec![C64::new(0.0, 0.0); o.qs.len()];
    let mut v = vec![C64::new(0.0, 0.0); 3 * n_atoms];
    let mut previous: Option<Vec<Vec3>> = None;
    let dt_ps = o.frame_fs * 1e-3;
    let mut n = 0;
    while let Some((pos, lattice)) = next_frame()? {
        if pos.len() != n_atoms {
            return Err(Error::input(format!(
                "md sqw: frame {n} has {} atoms, the first had {n_atoms}",
                pos.len()
            )));
        }
        densities(&o.qs, &o.b, &pos, &mut x);
        rho.push(&x);
        if let Some(prev) = &previous {
            let inv = crate::linalg::inverse(&lattice)
                .ok_or_else(|| Error::input(format!("md sqw: frame {n} has a singular lattice")))?;
            for (j, (r1, r0)) in pos.iter().zip(prev).enumerate() {
                // Minimum image, so wrapped trajectories work too.
                let d = crate::linalg::sub(r1, r0);
                let mut f = crate::linalg::vec_mat(&d, &inv);
                f.iter_mut().for_each(|c| *c -= c.round());
                let d = crate::linalg::vec_mat(&f, &lattice);
                let sm = o.masses[j].sqrt();
                for c in 0..3 {
                    v[3 * j + c] = C64::new(sm * d[c] / dt_ps, 0.0);
                }
            }
            vel.push(&v);
        }
        previous = Some(pos);
        n += 1;
        on_frame(n);
    }
    if n < o.max_lag + 2 {
        return Err(Error::input(format!(
            "md sqw: {n} frames used, fewer than the longest lag + 2 ({}); lower --max-lag",
            o.max_lag + 2
        )));
    }
    let w = window(o.window, o.max_lag + 1);
    let means = rho.means();
    let f = rho.averages();
    let na = n_atoms as f64;
    let elastic: Vec<f64> = means.iter().map(|m| m.norm_sqr() / na).collect();
    let mut frequencies = Vec::new();
    let sqw: Vec<Vec<f64>> = f
        .iter()
        .zip(&elastic)
        .map(|(c, e)| {
            let inel: Vec<C64> = c.iter().map(|z| z / na - e).collect();
            let (fr, s) = spectrum(&inel, &w, dt_ps);
            frequencies = fr;
            s
        })
        .collect();
    // VACF DOS: transform each (species, direction) correlation; keep f ≥ 0, fold the negative side.
    let vc = vel.averages();
    let mut dos_frequencies = Vec::new();
    let mut per: Vec<[Vec<f64>; 3]> = vec![Default::default(); n_species];
    for (g, c) in vc.iter().enumerate() {
        let (fr, s) = spectrum(c, &w, dt_ps);
        let l = fr.len() / 2;
        // Positive frequencies f_k (k = 0..L−1) with the negative side added (the VACF is real and even).
        let folded: Vec<f64> = (0..l)
            .map(|k| {
                let pos = s[l + k];
                let neg = if k == 0 { 0.0 } else { s[l - k] };
                let fk = fr[l + k];
                (pos + neg) / difference_filter(fk, dt_ps)
            })
            .collect();
        dos_frequencies = (0..l).map(|k| fr[l + k]).collect();
        per[g / 3][g % 3] = folded;
    }
    let nf = dos_frequencies.len();
    let mut dos_total: Vec<f64> = (0..nf)
        .map(|k| {
            per.iter()
                .map(|d| d.iter().map(|x| x[k]).sum::<f64>())
                .sum()
        })
        .collect();
    // 3N modes share the kinetic energy equally (classical equipartition): ∫ DOS df = 3 N_atoms.
    let df = dos_frequencies.get(1).copied().unwrap_or(1.0);
    let integral: f64 = dos_total.iter().sum::<f64>() * df;
    if integral > 0.0 {
        let k = 3.0 * na / integral;
        dos_total.iter_mut().for_each(|x| *x *= k);
        per.iter_mut().flatten().flatten().for_each(|x| *x *= k);
    }
    let correlator_bytes = rho.memory_bytes() + vel.memory_bytes();
    Ok(MdCorrelations {
        n_frames: n,
        n_atoms,
        times: (0..f.first().map_or(0, |c| c.len()))
            .map(|t| t as f64 * dt_ps)
            .collect(),
        f_real: f
            .iter()
            .map(|c| c.iter().map(|z| z.re / na).collect())
            .collect(),
        f_imag: f
            .iter()
            .map(|c| c.iter().map(|z| z.im / na).collect())
            .collect(),
        elastic,
        frequencies,
        sqw,
        dos_frequencies,
        dos_by_species_direction: per,
        dos_total,
        correlator_bytes,
    })
}
