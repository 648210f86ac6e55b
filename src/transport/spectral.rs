//! Decompositions of a κ result: spectral and cumulative κ_P(f) and κ_C(f) (κ_C pairs placed at
//! their mean frequency), cumulative κ_P against the mean free path, and the particle /
//! wave-like / overdamped regime of every mode (physics.md §5): with τ = 1/(4πΓ) (ps),
//! τ_W = 3n / (2π f_max) (Wigner limit, 1/Δω_avg) and τ_IR = 1/(2π f) (Ioffe–Regel), a mode is
//! particle-like if τ > τ_W, wave-like if τ_IR < τ ≤ τ_W, overdamped if τ ≤ τ_IR.
//! Scalars are the isotropic average (xx + yy + zz)/3, and every spectral and cumulative curve
//! is also given as the full tensor (Voigt xx yy zz yz xz xy) for anisotropic crystals; every
//! sum includes the star weights. κ_P per mode is the LBTE one when the run solved the LBTE.
//! Lifetimes include every scattering channel of the run (three-phonon, isotope, boundary).

use super::job::KappaResult;

#[derive(Clone, Debug, serde::Serialize)]
pub struct Regimes {
    /// Number of modes of the full mesh (star weights included) in each regime.
    pub count: [usize; 3],
    /// Share of κ_TOT (κ_P + κ_C, isotropic) carried by each regime; κ_C pairs are split
    /// half to each partner's regime.
    pub kappa_share: [f64; 3],
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Spectral {
    pub temperature: f64,
    /// Bin centres (THz) and spectral densities (W/(m·K·THz)).
    pub frequency: Vec<f64>,
    pub kappa_p_spectral: Vec<f64>,
    pub kappa_c_spectral: Vec<f64>,
    /// Cumulative κ up to each bin's upper edge (W/(m·K)).
    pub kappa_p_cumulative: Vec<f64>,
    pub kappa_c_cumulative: Vec<f64>,
    /// The same four curves per tensor component, [bin][6] (Voigt xx yy zz yz xz xy).
    pub kappa_p_spectral_tensor: Vec<[f64; 6]>,
    pub kappa_c_spectral_tensor: Vec<[f64; 6]>,
    pub kappa_p_cumulative_tensor: Vec<[f64; 6]>,
    pub kappa_c_cumulative_tensor: Vec<[f64; 6]>,
    /// Mean free paths (Å, ascending) and κ_P accumulated up to each (isotropic, and [6]).
    pub mean_free_path: Vec<f64>,
    pub kappa_p_cumulative_mfp: Vec<f64>,
    pub kappa_p_cumulative_mfp_tensor: Vec<[f64; 6]>,
    /// Per irreducible mode: lifetime τ (ps; 0 when Γ = 0) and regime (0 particle, 1 wave-like,
    /// 2 overdamped, 3 not classified: f ≤ cutoff or Γ = 0).
    pub lifetime: Vec<Vec<f64>>,
    pub regime: Vec<Vec<u8>>,
    pub wigner_limit_ps: f64,
    pub regimes: Regimes,
}

fn iso(t: &[f64; 6]) -> f64 {
    (t[0] + t[1] + t[2]) / 3.0
}

fn add_scaled(acc: &mut [f64; 6], t: &[f64; 6], w: f64) {
    for (a, x) in acc.iter_mut().zip(t) {
        *a += w * x;
    }
}

/// Running sums of a spectral density (× bin width).
fn cumulative(d: &[[f64; 6]], df: f64) -> Vec<[f64; 6]> {
    let mut acc = [0.0; 6];
    d.iter()
        .map(|x| {
            add_scaled(&mut acc, x, df);
            acc
        })
        .collect()
}

/// Decomposes temperature index `it` of `r` on bins of width `df` THz.
pub fn decompose(r: &KappaResult, it: usize, df: f64, cutoff: f64) -> Spectral {
    let n_points: f64 = r.weights.iter().sum::<usize>() as f64;
    let nb = r.frequencies.first().map(|f| f.len()).unwrap_or(0);
    let fmax = r
        .frequencies
        .iter()
        .flatten()
        .copied()
        .fold(0.0f64, f64::max);
    let nbins = ((fmax / df).ceil() as usize).max(1) + 1;
    let mut sp = vec![[0.0; 6]; nbins];
    let mut sc = vec![[0.0; 6]; nbins];
    let bin = |f: f64| ((f.max(0.0) / df) as usize).min(nbins - 1);
    let tau_w = 3.0 * (nb / 3) as f64 / (2.0 * std::f64::consts::PI * fmax);
    let mut mfp: Vec<(f64, [f64; 6])> = Vec::new();
    let mut lifetime = Vec::with_capacity(r.qpoints.len());
    let mut regime = Vec::with_capacity(r.qpoints.len());
    let mut count = [0usize; 3];
    let mut share = [0.0f64; 3];
    let (kp_modes, kc_pairs) = match &r.wigner {
        Some(w) => (&w.mode_kappa_p[it], Some(&w.mode_kappa_c[it])),
        None => (&r.mode_kappa[it], None),
    };
    let kp_modes = r.lbte.as_ref().map_or(kp_modes, |l| &l.mode_kappa[it]);
    for (iq, freqs) in r.frequencies.iter().enumerate() {
        let mut taus = vec![0.0; nb];
        let mut regs = vec![3u8; nb];
        for s in 0..nb {
            let v = r.group_velocities[iq][s];
            let g = r.gamma[it][iq][s]
                + r.gamma_isotope.as_ref().map(|x| x[iq][s]).unwrap_or(0.0)
                + r.boundary_mfp
                    .map_or(0.0, |l| super::job::boundary_gamma(&v, l));
            if freqs[s] > cutoff && g > 0.0 {
                let tau = 1.0 / (4.0 * std::f64::consts::PI * g);
                let tau_ir = 1.0 / (2.0 * std::f64::consts::PI * freqs[s]);
                taus[s] = tau;
                regs[s] = if tau > tau_w {
                    0
                } else if tau > tau_ir {
                    1
                } else {
                    2
                };
                count[regs[s] as usize] += r.weights[iq];
            }
            let kt = kp_modes[iq][s].map(|x| x / n_points);
            add_scaled(&mut sp[bin(freqs[s])], &kt, 1.0 / df);
            if regs[s] < 3 {
                share[regs[s] as usize] += iso(&kt);
            }
            let speed = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            if taus[s] > 0.0 {
                mfp.push((speed * taus[s], kt));
            }
        }
        if let Some(kc) = kc_pairs {
            for s in 0..nb {
                for t in 0..nb {
                    let kt = kc[iq][s][t].map(|x| x / n_points);
                    if kt == [0.0; 6] {
                        continue;
                    }
                    add_scaled(&mut sc[bin(0.5 * (freqs[s] + freqs[t]))], &kt, 1.0 / df);
                    let k = iso(&kt);
                    for m in [s, t] {
                        if regs[m] < 3 {
                            share[regs[m] as usize] += 0.5 * k;
                        }
                    }
                }
            }
        }
        lifetime.push(taus);
        regime.push(regs);
    }
    let total: f64 = share.iter().sum();
    mfp.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mean_free_path = mfp.iter().map(|m| m.0).collect();
    let mut acc = [0.0; 6];
    let kappa_p_cumulative_mfp_tensor: Vec<[f64; 6]> = mfp
        .iter()
        .map(|(_, k)| {
            add_scaled(&mut acc, k, 1.0);
            acc
        })
        .collect();
    let isotropic = |v: &[[f64; 6]]| -> Vec<f64> { v.iter().map(iso).collect() };
    let (cp, cc) = (cumulative(&sp, df), cumulative(&sc, df));
    Spectral {
        temperature: r.temperatures[it],
        frequency: (0..nbins).map(|i| (i as f64 + 0.5) * df).collect(),
        kappa_p_cumulative: isotropic(&cp),
        kappa_c_cumulative: isotropic(&cc),
        kappa_p_spectral: isotropic(&sp),
        kappa_c_spectral: isotropic(&sc),
        kappa_p_spectral_tensor: sp,
        kappa_c_spectral_tensor: sc,
        kappa_p_cumulative_tensor: cp,
        kappa_c_cumulative_tensor: cc,
        mean_free_path,
        kappa_p_cumulative_mfp: isotropic(&kappa_p_cumulative_mfp_tensor),
        kappa_p_cumulative_mfp_tensor,
        lifetime,
        regime,
        wigner_limit_ps: tau_w,
        regimes: Regimes {
            count,
            kappa_share: share.map(|x| if total > 0.0 { x / total } else { 0.0 }),
        },
    }
}
