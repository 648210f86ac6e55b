//! Fitting a constant-Q scan with damped-harmonic-oscillator peaks convolved with the energy
//! resolution, as IXS users extract mode energies E_c and dampings γ (half widths) from data.
//! Each peak is (E_c, γ, A) with A its integrated Stokes weight in the undamped limit; the
//! quantum form is `lineshape::dho`, the classical form (for classical MD spectra) replaces
//! E/(1 − e^{−E/kT}) by kT, which makes it even in E. An optional constant background.

use super::lineshape::{EnergyGrid, ModeLine, dho};
use super::resolution::Resolution;
use crate::error::{Error, Result};
use crate::fit::{levenberg_marquardt, parameter_errors};
use std::cell::RefCell;
use std::f64::consts::PI;

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DhoPeak {
    /// Mode energy E_c (same unit as the energy axis).
    pub energy: f64,
    /// Damping γ (half width in the underdamped limit).
    pub gamma: f64,
    /// Integrated Stokes weight.
    pub amplitude: f64,
}

impl DhoPeak {
    /// The same peak on an energy axis multiplied by `factor` (the weight A is an integral over
    /// energy of an intensity per energy, so it does not change).
    pub fn energy_scaled(self, factor: f64) -> DhoPeak {
        DhoPeak {
            energy: self.energy * factor,
            gamma: self.gamma * factor,
            amplitude: self.amplitude,
        }
    }
}

pub struct DhoFitOptions {
    pub temperature: f64,
    /// Classical detailed balance (MD spectra) instead of the quantum one (measured spectra).
    pub classical: bool,
    pub resolution: Option<Resolution>,
    pub background: bool,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct DhoFit {
    pub peaks: Vec<DhoPeak>,
    /// Standard errors of each peak's parameters (same layout as `peaks`); `None` when the
    /// data do not determine some parameter (singular normal matrix).
    pub errors: Option<Vec<DhoPeak>>,
    pub background: f64,
    pub background_error: Option<f64>,
    pub chi2_per_dof: f64,
    /// The fitted model at the data energies.
    pub model: Vec<f64>,
}

/// One peak at E (meV or any unit consistent with the grid and T in K via meV: kT in meV).
pub fn dho_peak(e: f64, p: &DhoPeak, temperature: f64, classical: bool) -> f64 {
    if classical {
        let den = (e * e - p.energy * p.energy).powi(2) + (2.0 * p.gamma * e).powi(2);
        if den <= 0.0 {
            return 0.0;
        }
        p.amplitude * p.energy * p.energy * 4.0 * p.gamma / (PI * den)
    } else {
        let line = ModeLine {
            energy: p.energy,
            stokes: p.amplitude,
            anti_stokes: 0.0,
            half_width: p.gamma,
        };
        dho(e, &line, temperature)
    }
}

/// The model on a uniform grid: Σ peaks (+ background), convolved with the resolution.
pub fn dho_model(
    grid: &EnergyGrid,
    peaks: &[DhoPeak],
    background: f64,
    o: &DhoFitOptions,
) -> Vec<f64> {
    let raw: Vec<f64> = (0..grid.n)
        .map(|i| {
            let e = grid.energy(i);
            peaks
                .iter()
                .map(|p| dho_peak(e, p, o.temperature, o.classical))
                .sum::<f64>()
        })
        .collect();
    let mut out = match &o.resolution {
        Some(r) => r.convolve(&raw, grid.step).0,
        None => raw,
    };
    out.iter_mut().for_each(|x| *x += background);
    out
}

fn unpack(p: &[f64], n: usize) -> (Vec<DhoPeak>, f64) {
    let peaks = (0..n)
        .map(|k| DhoPeak {
            energy: p[3 * k],
            gamma: p[3 * k + 1],
            amplitude: p[3 * k + 2],
        })
        .collect();
    (peaks, p.get(3 * n).copied().unwrap_or(0.0))
}

/// Where the model is evaluated for data at `energies`: a uniform grid reaching 5 resolution
/// widths past both ends (so the convolution at the first and last points sees the peaks
/// outside the scan), and for each data point its grid position (index and the weight of the
/// next node, 0 when the data sit on the nodes).
struct ModelGrid {
    grid: EnergyGrid,
    at: Vec<(usize, f64)>,
}

impl ModelGrid {
    fn new(energies: &[f64], resolution: Option<&Resolution>) -> Result<ModelGrid> {
        let spacing: Vec<f64> = energies.windows(2).map(|w| w[1] - w[0]).collect();
        let (lo, hi) = spacing
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &d| (a.min(d), b.max(d)));
        let fwhm = resolution.map_or(0.0, Resolution::fwhm);
        let uniform = hi - lo <= 1e-9 * hi.abs().max(1e-300);
        // On a uniform scan the data energies are grid nodes; otherwise a grid fine enough that
        // linear interpolation between nodes is far below any measured error bar.
        let step = if uniform && (fwhm == 0.0 || lo <= fwhm / 4.0) {
            lo
        } else {
            let s = lo / 4.0;
            if fwhm > 0.0 { s.min(fwhm / 10.0) } else { s }
        };
        let margin = (5.0 * fwhm / step).ceil() * step;
        let first = energies[0] - margin;
        let grid = EnergyGrid::new(
            first,
            energies[energies.len() - 1] + margin + 0.5 * step,
            step,
        )?;
        let at = energies
            .iter()
            .map(|&e| {
                let x = (e - first) / step;
                let i = (x.floor() as usize).min(grid.n - 2);
                let frac = x - i as f64;
                if frac.abs() < 1e-6 {
                    (i, 0.0)
                } else if (1.0 - frac).abs() < 1e-6 {
                    (i + 1, 0.0)
                } else {
                    (i, frac)
                }
            })
            .collect();
        Ok(ModelGrid { grid, at })
    }

    fn sample(&self, values: &[f64], i: usize) -> f64 {
        let (k, f) = self.at[i];
        if f == 0.0 {
            values[k]
        } else {
            values[k] * (1.0 - f) + values[k + 1] * f
        }
    }
}

/// The model (peaks + background, convolved) at arbitrary increasing `energies`, evaluated as
/// the fit evaluates it.
pub fn model_at(
    energies: &[f64],
    peaks: &[DhoPeak],
    background: f64,
    o: &DhoFitOptions,
) -> Result<Vec<f64>> {
    let mg = ModelGrid::new(energies, o.resolution.as_ref())?;
    let s = dho_model(&mg.grid, peaks, background, o);
    Ok((0..energies.len()).map(|i| mg.sample(&s, i)).collect())
}

/// Fits a scan (strictly increasing `energies`, any spacing, with its `values` and optional
/// standard deviations `sigmas`) by DHO peaks started at `initial`, convolved with the
/// resolution; reports standard errors (from the measured σ, or scaled by the residual scatter
/// when there are none).
pub fn fit_dho(
    energies: &[f64],
    values: &[f64],
    sigmas: Option<&[f64]>,
    initial: &[DhoPeak],
    o: &DhoFitOptions,
) -> Result<DhoFit> {
    let n_data = energies.len();
    if values.len() != n_data || sigmas.is_some_and(|s| s.len() != n_data) {
        return Err(Error::input(format!(
            "DHO fit: {} values (and σ) for {n_data} energies",
            values.len(),
        )));
    }
    if initial.is_empty() {
        return Err(Error::input("DHO fit: give at least one starting peak"));
    }
    let n = initial.len();
    let n_params = 3 * n + usize::from(o.background);
    if n_data <= n_params {
        return Err(Error::input(format!(
            "DHO fit: {n_data} data points cannot determine {n_params} parameters"
        )));
    }
    if let Some(k) = energies.windows(2).position(|w| w[1] <= w[0]) {
        return Err(Error::input(format!(
            "DHO fit: energies must increase, found {} then {} (points {} and {})",
            energies[k],
            energies[k + 1],
            k + 1,
            k + 2
        )));
    }
    let mg = ModelGrid::new(energies, o.resolution.as_ref())?;
    let mut p0: Vec<f64> = initial
        .iter()
        .flat_map(|p| [p.energy, p.gamma, p.amplitude])
        .collect();
    if o.background {
        p0.push(0.0);
    }
    let x: Vec<f64> = (0..n_data).map(|i| i as f64).collect();
    let w: Vec<f64> = match sigmas {
        Some(s) => s
            .iter()
            .map(|s| if *s > 0.0 { 1.0 / (s * s) } else { 0.0 })
            .collect(),
        None => vec![1.0; n_data],
    };
    // The model is a whole spectrum per parameter vector; cache the few vectors one Jacobian uses.
    let cache: RefCell<Vec<(Vec<f64>, Vec<f64>)>> = RefCell::new(Vec::new());
    let model = |p: &[f64], xi: f64| -> f64 {
        let i = xi as usize;
        if let Some((_, s)) = cache.borrow().iter().find(|(q, _)| q.as_slice() == p) {
            return mg.sample(s, i);
        }
        let (peaks, bg) = unpack(p, n);
        let s = dho_model(&mg.grid, &peaks, bg, o);
        let v = mg.sample(&s, i);
        let mut c = cache.borrow_mut();
        if c.len() > 4 * p.len() + 4 {
            c.clear();
        }
        c.push((p.to_vec(), s));
        v
    };
    let project = |p: &mut [f64]| {
        for k in 0..n {
            p[3 * k] = p[3 * k].abs().max(1e-9);
            p[3 * k + 1] = p[3 * k + 1].abs().max(1e-9);
        }
    };
    let (p, chi2) = levenberg_marquardt(&model, &x, values, &w, &p0, &project);
    let dof = (n_data - p.len()) as f64;
    let chi2_per_dof = chi2 / dof;
    let errors = parameter_errors(&model, &x, &w, &p, chi2_per_dof, sigmas.is_none());
    let (peaks, background) = unpack(&p, n);
    let fitted = x.iter().map(|&xi| model(&p, xi)).collect();
    Ok(DhoFit {
        peaks,
        errors: errors.as_ref().map(|e| unpack(e, n).0),
        background,
        background_error: errors.and_then(|e| o.background.then(|| e[3 * n])),
        chi2_per_dof,
        model: fitted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_known_dho_peaks_through_the_resolution() {
        let grid = EnergyGrid::new(-40.0, 40.0, 0.25).expect("grid");
        let o = DhoFitOptions {
            temperature: 300.0,
            classical: false,
            resolution: Some(Resolution::new(1.5, None).expect("valid")),
            background: true,
        };
        let truth = [
            DhoPeak {
                energy: 8.0,
                gamma: 0.6,
                amplitude: 3.0,
            },
            DhoPeak {
                energy: 21.0,
                gamma: 2.5,
                amplitude: 1.2,
            },
        ];
        // The scan is cut from a wider spectrum, as a measured one is: the convolution at its
        // ends sees the peaks outside it.
        let wide = EnergyGrid::new(-60.0, 60.0, 0.25).expect("grid");
        let cut = |v: Vec<f64>| v[80..80 + grid.n].to_vec();
        let data = cut(dho_model(&wide, &truth, 0.01, &o));
        let energies = cut(wide.energies());
        assert_eq!(energies[0], grid.start);
        let start = [
            DhoPeak {
                energy: 9.0,
                gamma: 1.0,
                amplitude: 2.0,
            },
            DhoPeak {
                energy: 19.0,
                gamma: 1.0,
                amplitude: 2.0,
            },
        ];
        let fit = fit_dho(&energies, &data, None, &start, &o).expect("fit");
        for (f, t) in fit.peaks.iter().zip(&truth) {
            assert!((f.energy - t.energy).abs() < 1e-4, "{f:?} vs {t:?}");
            assert!((f.gamma - t.gamma).abs() < 1e-3, "{f:?} vs {t:?}");
            assert!(
                (f.amplitude / t.amplitude - 1.0).abs() < 1e-3,
                "{f:?} vs {t:?}"
            );
        }
        assert!((fit.background - 0.01).abs() < 1e-5);
    }

    /// Noisy scans of known σ: the reported standard errors must describe the scatter of the
    /// fitted values over many realizations (≈ 68 % inside ±1σ, χ²/dof ≈ 1), on a non-uniform
    /// energy axis (the model is then interpolated from a finer grid).
    #[test]
    fn standard_errors_cover_the_truth_at_the_stated_rate() {
        use crate::anharmonic::four_phonon::SplitMix64;
        let o = DhoFitOptions {
            temperature: 300.0,
            classical: false,
            resolution: Some(Resolution::new(1.5, None).expect("valid")),
            background: false,
        };
        let truth = [DhoPeak {
            energy: 10.0,
            gamma: 1.0,
            amplitude: 2.0,
        }];
        // IXS-like scan: 0.5 meV steps with a slight stretch, −20…30 meV.
        let energies: Vec<f64> = (0..101)
            .map(|i| -20.0 + 0.5 * i as f64 + 1e-3 * (i * i) as f64 / 100.0)
            .collect();
        let clean: Vec<f64> = {
            let fine = EnergyGrid::new(-30.0, 45.0, 0.01).expect("grid");
            let s = dho_model(&fine, &truth, 0.0, &o);
            energies
                .iter()
                .map(|&e| {
                    let x = (e - fine.start) / fine.step;
                    let k = x.floor() as usize;
                    s[k] + (s[k + 1] - s[k]) * (x - k as f64)
                })
                .collect()
        };
        let peak = clean.iter().copied().fold(0.0, f64::max);
        let sigma: Vec<f64> = clean.iter().map(|c| 0.02 * peak + 0.05 * c).collect();
        let mut rng = SplitMix64::new(11);
        let mut gauss = || {
            let (u, v) = (rng.next_f64().max(1e-300), rng.next_f64());
            (-2.0 * u.ln()).sqrt() * (2.0 * PI * v).cos()
        };
        let runs = 60;
        let (mut inside, mut chi2) = ([0usize; 3], 0.0);
        for _ in 0..runs {
            let data: Vec<f64> = clean
                .iter()
                .zip(&sigma)
                .map(|(c, s)| c + s * gauss())
                .collect();
            let start = [DhoPeak {
                energy: 11.0,
                gamma: 0.7,
                amplitude: 1.5,
            }];
            let fit = fit_dho(&energies, &data, Some(&sigma), &start, &o).expect("fit");
            let (f, e) = (fit.peaks[0], fit.errors.expect("determined")[0]);
            let t = truth[0];
            inside[0] += usize::from((f.energy - t.energy).abs() <= e.energy);
            inside[1] += usize::from((f.gamma - t.gamma).abs() <= e.gamma);
            inside[2] += usize::from((f.amplitude - t.amplitude).abs() <= e.amplitude);
            chi2 += fit.chi2_per_dof / runs as f64;
        }
        eprintln!("inside ±1σ of {runs}: E_c, γ, A {inside:?}; mean χ²/dof {chi2:.3}");
        // 60 draws of a 68 % event: 41 ± 3.6 expected; the bounds are ±3.5 binomial σ.
        for (k, c) in inside.iter().enumerate() {
            assert!(
                (28..=54).contains(c),
                "parameter {k}: {c} of {runs} inside ±1σ"
            );
        }
        assert!((chi2 - 1.0).abs() < 0.1, "mean χ²/dof {chi2}");
    }
}
