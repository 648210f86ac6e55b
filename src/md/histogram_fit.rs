//! Fits to a site's displacement histogram along one axis: one Gaussian (A, μ, σ) and the
//! split-site model of three Gaussians of one width — a central one and two at ±Δz carrying
//! a fraction p each:
//!   f(z) = A/(σ√(2π)) [(1−2p) e^{−z²/2σ²} + p e^{−(z−Δz)²/2σ²} + p e^{−(z+Δz)²/2σ²}].
//! Least squares on the density by Levenberg–Marquardt; goodness of fit as Pearson's χ² per
//! degree of freedom (≈ 1 for a model that describes the counts within Poisson noise).

use crate::fit::levenberg_marquardt;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct GaussianFit {
    /// Area (1 for a normalized density).
    pub a: f64,
    pub mu: f64,
    pub sigma: f64,
    /// χ² per degree of freedom.
    pub reduced_chi2: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct SplitSiteFit {
    pub a: f64,
    /// Weight of each side Gaussian (0 ≤ p ≤ ½).
    pub p: f64,
    pub sigma: f64,
    pub dz: f64,
    pub reduced_chi2: f64,
}

fn gauss(z: f64, mu: f64, sigma: f64) -> f64 {
    (-(z - mu).powi(2) / (2.0 * sigma * sigma)).exp()
        / (sigma * (2.0 * std::f64::consts::PI).sqrt())
}

pub fn one_gaussian(p: &[f64], z: f64) -> f64 {
    p[0] * gauss(z, p[1], p[2])
}

pub fn split_site(p: &[f64], z: f64) -> f64 {
    let (a, w, s, dz) = (p[0], p[1], p[2], p[3]);
    a * ((1.0 - 2.0 * w) * gauss(z, 0.0, s) + w * gauss(z, dz, s) + w * gauss(z, -dz, s))
}

/// Bin centres and the density (counts / (total · width)), fitted with equal weights: weights
/// from the data (Neyman's χ²) make empty bins between split peaks dominate and drive the fit
/// to zero; the goodness of fit is reported as Pearson's χ² (model variance) instead.
fn density(centres: &[f64], counts: &[u64], width: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let total: f64 = counts.iter().map(|&c| c as f64).sum();
    let norm = total * width;
    let y: Vec<f64> = counts.iter().map(|&c| c as f64 / norm).collect();
    (centres.to_vec(), y, vec![1.0; counts.len()])
}

/// Pearson χ² per degree of freedom of model `f` against the counts.
fn pearson(f: impl Fn(f64) -> f64, centres: &[f64], counts: &[u64], width: f64, dof: f64) -> f64 {
    let norm = counts.iter().map(|&c| c as f64).sum::<f64>() * width;
    centres
        .iter()
        .zip(counts)
        .map(|(z, &c)| {
            let expected = f(*z) * norm;
            (c as f64 - expected).powi(2) / expected.max(1.0)
        })
        .sum::<f64>()
        / dof
}

/// Both fits of a histogram (`counts` in bins of `width` centred at `centres`). None when the
/// histogram has fewer than 10 filled bins.
pub fn fit_histogram(
    centres: &[f64],
    counts: &[u64],
    width: f64,
) -> Option<(GaussianFit, SplitSiteFit)> {
    if counts.iter().filter(|&&c| c > 0).count() < 10 {
        return None;
    }
    let (x, y, w) = density(centres, counts, width);
    let total: f64 = y.iter().sum::<f64>() * width;
    let mean = x.iter().zip(&y).map(|(a, b)| a * b).sum::<f64>() * width / total;
    let var = x
        .iter()
        .zip(&y)
        .map(|(a, b)| (a - mean).powi(2) * b)
        .sum::<f64>()
        * width
        / total;
    let sd = var.sqrt().max(width);
    let dof1 = (x.len() as f64 - 3.0).max(1.0);
    let dof3 = (x.len() as f64 - 4.0).max(1.0);
    let (p1, _) = levenberg_marquardt(&one_gaussian, &x, &y, &w, &[total, mean, sd], &|p| {
        p[2] = p[2].abs().max(1e-6)
    });
    let project3 = |p: &mut [f64]| {
        p[1] = p[1].clamp(0.0, 0.5);
        p[2] = p[2].abs().max(1e-6);
        p[3] = p[3].abs();
    };
    let mut best: Option<(Vec<f64>, f64)> = None;
    for (s, d, w0) in [
        (0.7, 1.5, 0.2),
        (0.5, 2.5, 0.3),
        (0.9, 1.0, 0.1),
        (0.4, 3.5, 0.4),
    ] {
        let (p, c) = levenberg_marquardt(
            &split_site,
            &x,
            &y,
            &w,
            &[total, w0, s * sd, d * sd],
            &project3,
        );
        if best.as_ref().is_none_or(|b| c < b.1) {
            best = Some((p, c));
        }
    }
    let (p3, _) = best.expect("at least one start");
    let c1 = pearson(|z| one_gaussian(&p1, z), centres, counts, width, dof1);
    let c3 = pearson(|z| split_site(&p3, z), centres, counts, width, dof3);
    Some((
        GaussianFit {
            a: p1[0],
            mu: p1[1],
            sigma: p1[2],
            reduced_chi2: c1,
        },
        SplitSiteFit {
            a: p3[0],
            p: p3[1],
            sigma: p3[2],
            dz: p3[3],
            reduced_chi2: c3,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Noise-free histograms of each model are fitted back to their parameters.
    #[test]
    fn recovers_model_parameters() {
        let width = 0.01;
        let centres: Vec<f64> = (0..300).map(|i| -1.5 + (i as f64 + 0.5) * width).collect();
        let counts = |f: &dyn Fn(f64) -> f64| -> Vec<u64> {
            centres
                .iter()
                .map(|&z| (f(z) * width * 1e8).round() as u64)
                .collect()
        };
        let single = counts(&|z| one_gaussian(&[1.0, 0.05, 0.2], z));
        let (g, _) = fit_histogram(&centres, &single, width).unwrap();
        assert!(
            (g.mu - 0.05).abs() < 1e-4 && (g.sigma - 0.2).abs() < 1e-4,
            "{g:?}"
        );
        let split = counts(&|z| split_site(&[1.0, 0.3, 0.12, 0.45], z));
        let (_, s) = fit_histogram(&centres, &split, width).unwrap();
        assert!((s.p - 0.3).abs() < 1e-3, "{s:?}");
        assert!(
            (s.sigma - 0.12).abs() < 1e-3 && (s.dz - 0.45).abs() < 1e-3,
            "{s:?}"
        );
    }
}
