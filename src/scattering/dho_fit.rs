//! Fitting a constant-Q scan with damped-harmonic-oscillator peaks convolved with the energy
//! resolution, as IXS users extract mode energies E_c and dampings γ (half widths) from data.
//! Each peak is (E_c, γ, A) with A its integrated Stokes weight in the undamped limit; the
//! quantum form is `lineshape::dho`, the classical form (for classical MD spectra) replaces
//! E/(1 − e^{−E/kT}) by kT, which makes it even in E. An optional constant background.

use super::lineshape::{EnergyGrid, ModeLine, dho};
use super::resolution::Resolution;
use crate::error::{Error, Result};
use crate::fit::levenberg_marquardt;
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
    pub background: f64,
    pub chi2_per_dof: f64,
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

/// Fits `values` on `grid` (weights 1/σ², or equal weights) starting from `initial` peaks.
pub fn fit_dho(
    grid: &EnergyGrid,
    values: &[f64],
    sigmas: Option<&[f64]>,
    initial: &[DhoPeak],
    o: &DhoFitOptions,
) -> Result<DhoFit> {
    if values.len() != grid.n || sigmas.is_some_and(|s| s.len() != grid.n) {
        return Err(Error::input(format!(
            "DHO fit: {} values (and σ) for an energy grid of {} points",
            values.len(),
            grid.n
        )));
    }
    if initial.is_empty() {
        return Err(Error::input("DHO fit: give at least one starting peak"));
    }
    let n = initial.len();
    let mut p0: Vec<f64> = initial
        .iter()
        .flat_map(|p| [p.energy, p.gamma, p.amplitude])
        .collect();
    if o.background {
        p0.push(0.0);
    }
    let x: Vec<f64> = (0..grid.n).map(|i| i as f64).collect();
    let w: Vec<f64> = match sigmas {
        Some(s) => s
            .iter()
            .map(|s| if *s > 0.0 { 1.0 / (s * s) } else { 0.0 })
            .collect(),
        None => vec![1.0; grid.n],
    };
    // The model is a whole spectrum per parameter vector; cache the few vectors one Jacobian uses.
    let cache: RefCell<Vec<(Vec<f64>, Vec<f64>)>> = RefCell::new(Vec::new());
    let model = |p: &[f64], xi: f64| -> f64 {
        let i = xi as usize;
        if let Some((_, s)) = cache.borrow().iter().find(|(q, _)| q.as_slice() == p) {
            return s[i];
        }
        let (peaks, bg) = unpack(p, n);
        let s = dho_model(grid, &peaks, bg, o);
        let v = s[i];
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
    let (peaks, background) = unpack(&p, n);
    let dof = (grid.n as f64 - p.len() as f64).max(1.0);
    Ok(DhoFit {
        peaks,
        background,
        chi2_per_dof: chi2 / dof,
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
        let data = dho_model(&grid, &truth, 0.01, &o);
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
        let fit = fit_dho(&grid, &data, None, &start, &o).expect("fit");
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
}
