//! Instrument resolution: convolution of a spectrum on a uniform energy grid with a Gaussian or
//! pseudo-Voigt of given FWHM (meV), and the Gauss–Hermite Q cloud for a momentum resolution.
//!
//! The discrete kernel is the continuous one averaged over each bin (so a FWHM below the grid step
//! still works) and normalized to unit sum: the convolution moves intensity, never creates or
//! destroys it; what it pushes beyond the ends of the grid is returned so callers can report it.

use crate::error::{Error, Result};
use std::f64::consts::PI;

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "shape", rename_all = "kebab-case")]
pub enum Resolution {
    /// Gaussian of full width at half maximum `fwhm` (meV).
    Gaussian { fwhm: f64 },
    /// η · Lorentzian + (1 − η) · Gaussian, both of full width `fwhm` (meV).
    PseudoVoigt { fwhm: f64, eta: f64 },
}

impl Resolution {
    pub fn new(fwhm: f64, eta: Option<f64>) -> Result<Resolution> {
        if !(fwhm.is_finite() && fwhm > 0.0) {
            return Err(Error::input(format!(
                "--resolution: expected a positive FWHM in meV, found {fwhm}"
            )));
        }
        match eta {
            None => Ok(Resolution::Gaussian { fwhm }),
            Some(eta) if (0.0..=1.0).contains(&eta) => Ok(Resolution::PseudoVoigt { fwhm, eta }),
            Some(eta) => Err(Error::input(format!(
                "--pseudo-voigt-eta: expected a Lorentzian fraction in [0, 1], found {eta}"
            ))),
        }
    }

    /// Full width at half maximum (meV).
    pub fn fwhm(&self) -> f64 {
        match *self {
            Resolution::Gaussian { fwhm } | Resolution::PseudoVoigt { fwhm, .. } => fwhm,
        }
    }

    /// The normalized continuous kernel at offset x (meV).
    pub fn kernel(&self, x: f64) -> f64 {
        let gauss = |w: f64| {
            let sigma = w / (8.0 * 2f64.ln()).sqrt();
            (-0.5 * (x / sigma).powi(2)).exp() / (sigma * (2.0 * PI).sqrt())
        };
        let lorentz = |w: f64| {
            let g = 0.5 * w;
            g / (PI * (x * x + g * g))
        };
        match *self {
            Resolution::Gaussian { fwhm } => gauss(fwhm),
            Resolution::PseudoVoigt { fwhm, eta } => {
                eta * lorentz(fwhm) + (1.0 - eta) * gauss(fwhm)
            }
        }
    }

    /// Half range of the discrete kernel (meV): 6 FWHM for a Gaussian (weight beyond: 1e-40);
    /// the Lorentzian tail is cut at 200 FWHM (weight beyond: 0.3 %, spread back by the normalization).
    fn reach(&self) -> f64 {
        match *self {
            Resolution::Gaussian { fwhm } => 6.0 * fwhm,
            Resolution::PseudoVoigt { fwhm, eta } => {
                if eta > 0.0 {
                    200.0 * fwhm
                } else {
                    6.0 * fwhm
                }
            }
        }
    }

    /// Discrete kernel k[j], j = −J..=J (index j + J), bin-averaged and normalized to unit sum.
    pub fn discrete(&self, step: f64) -> Vec<f64> {
        const SUB: usize = 16;
        let half = (self.reach() / step).ceil() as usize;
        let mut k: Vec<f64> = (0..=2 * half)
            .map(|i| {
                let centre = (i as f64 - half as f64) * step;
                (0..SUB)
                    .map(|s| self.kernel(centre + step * ((s as f64 + 0.5) / SUB as f64 - 0.5)))
                    .sum::<f64>()
                    / SUB as f64
            })
            .collect();
        let total: f64 = k.iter().sum();
        k.iter_mut().for_each(|x| *x /= total);
        k
    }

    /// The convolution of `values` (uniform grid of spacing `step`) and the fraction of the total
    /// pushed beyond the ends of the grid (0 when the total is 0).
    pub fn convolve(&self, values: &[f64], step: f64) -> (Vec<f64>, f64) {
        let k = self.discrete(step);
        let half = (k.len() / 2) as i64;
        let n = values.len() as i64;
        let mut out = vec![0.0; values.len()];
        for (i, &v) in values.iter().enumerate() {
            if v == 0.0 {
                continue;
            }
            let lo = (i as i64 - half).max(0);
            let hi = (i as i64 + half).min(n - 1);
            for j in lo..=hi {
                out[j as usize] += v * k[(j - i as i64 + half) as usize];
            }
        }
        let (before, after): (f64, f64) = (values.iter().sum(), out.iter().sum());
        let lost = if before != 0.0 {
            (before - after) / before
        } else {
            0.0
        };
        (out, lost)
    }
}

/// Gauss–Hermite nodes and weights for a Gaussian of unit σ, 3 points per direction:
/// offsets 0, ±√3 σ with weights 2/3, 1/6, 1/6 (exact for polynomials of degree ≤ 5).
pub const GAUSS_HERMITE_3: [(f64, f64); 3] = [
    (0.0, 2.0 / 3.0),
    (-1.732_050_807_568_877_2, 1.0 / 6.0),
    (1.732_050_807_568_877_2, 1.0 / 6.0),
];

/// The 27 Q offsets (Å⁻¹) and weights of an isotropic Gaussian momentum resolution of FWHM `fwhm`.
pub fn q_cloud(fwhm: f64) -> Vec<([f64; 3], f64)> {
    let sigma = fwhm / (8.0 * 2f64.ln()).sqrt();
    let mut out = Vec::with_capacity(27);
    for (x, wx) in GAUSS_HERMITE_3 {
        for (y, wy) in GAUSS_HERMITE_3 {
            for (z, wz) in GAUSS_HERMITE_3 {
                out.push(([x * sigma, y * sigma, z * sigma], wx * wy * wz));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn convolution_conserves_the_integral() {
        // A spectrum of sharp and broad features well inside a wide grid.
        let step = 0.05;
        let n = 20_001;
        let values: Vec<f64> = (0..n)
            .map(|i| {
                let e = -500.0 + step * i as f64;
                (if (e - 3.0).abs() < 0.03 { 40.0 } else { 0.0 })
                    + 2.0 * (-(e + 7.0).powi(2) / 4.0).exp()
                    + 1.0 / (1.0 + (e - 12.0).powi(2))
            })
            .collect();
        for r in [
            Resolution::new(1.5, None).expect("valid"),
            Resolution::new(0.02, None).expect("valid"),
            Resolution::new(1.5, Some(0.3)).expect("valid"),
        ] {
            let (out, lost) = r.convolve(&values, step);
            let (a, b): (f64, f64) = (values.iter().sum(), out.iter().sum());
            assert!(((a - b) / a).abs() < 1e-6, "{r:?}: {a} -> {b}");
            assert!(lost.abs() < 1e-6, "{r:?}: lost {lost}");
        }
        // A Gaussian kernel has the stated width: convolving a δ gives FWHM 1.5 meV.
        let r = Resolution::new(1.5, None).expect("valid");
        let mut delta = vec![0.0; 2001];
        delta[1000] = 1.0 / 0.01;
        let (out, _) = r.convolve(&delta, 0.01);
        let peak = out[1000];
        let above = out.iter().filter(|&&v| v >= 0.5 * peak).count() as f64 * 0.01;
        assert!((above - 1.5).abs() < 0.02, "FWHM {above}");
    }

    #[test]
    fn q_cloud_has_the_right_second_moment() {
        let fwhm = 0.05;
        let sigma = fwhm / (8.0 * 2f64.ln()).sqrt();
        let c = q_cloud(fwhm);
        let w: f64 = c.iter().map(|p| p.1).sum();
        let m2: f64 = c.iter().map(|p| p.1 * p.0[0] * p.0[0]).sum();
        assert!((w - 1.0).abs() < 1e-14 && (m2 / (sigma * sigma) - 1.0).abs() < 1e-12);
    }
}
