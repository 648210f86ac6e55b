//! Extrapolation of a mesh series to the infinite mesh: y(N) = y∞ + a·N^(−p), fitted by least
//! squares in x = N^(−p) (N = q-points of the mesh), with an uncertainty that a user can defend:
//! the standard error of the intercept from the fit's residuals, and the change of y∞ when the
//! coarsest mesh is left out (how much the answer leans on meshes outside the asymptotic regime),
//! added in quadrature.
//!
//! The power p depends on what is summed (see `Exponent`): κ, C_v and the zero-point energy have
//! integrands whose mesh error falls like 1/N (p = 1), entropy and free energy like ln N/N; an ADP sum at T > 0 has the 1/ω² ∝ 1/q²
//! singularity of the acoustic branches at Γ, and leaving the Γ cell out of a 3D sum of a
//! degree −2 function costs ∝ h = N^(−1/3) (p = 1/3); at T = 0 the integrand is 1/ω (degree −1),
//! error ∝ h² (p = 2/3).

/// The law of the mesh error, y(N) − y∞ ∝ N^(−p), times ln N when `log` (x = N^(−p) ln N).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Exponent {
    pub power: f64,
    pub log: bool,
}

impl Exponent {
    /// κ, heat capacity, zero-point energy: 1/N_q.
    pub const INVERSE_N: Exponent = Exponent {
        power: 1.0,
        log: false,
    };

    /// Entropy and free energy: ln N/N. Their mode terms grow like −ln ω at Γ; the acoustic
    /// modes of the Γ cell, left out of the sum, would add (1/N)(a + b ln N).
    pub const LOG_N_OVER_N: Exponent = Exponent {
        power: 1.0,
        log: true,
    };

    /// A plain power N^(−p).
    pub fn power(p: f64) -> Exponent {
        Exponent {
            power: p,
            log: false,
        }
    }

    /// Harmonic ADPs at temperature `t`: N^(−1/3) for T > 0 (1/ω² at Γ), N^(−2/3) at T = 0.
    pub fn adp(t: f64) -> Exponent {
        Exponent::power(if t > 0.0 { 1.0 / 3.0 } else { 2.0 / 3.0 })
    }

    /// The abscissa of the fit for a mesh of `n` points.
    pub fn x(&self, n: f64) -> f64 {
        n.powf(-self.power) * if self.log { n.ln() } else { 1.0 }
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Extrapolation {
    /// y∞, the value at N → ∞.
    pub limit: f64,
    /// Standard error of y∞ from the residuals (needs three meshes; with two, the whole
    /// extrapolation step |y∞ − y(finest)| stands in for it).
    pub fit_error: f64,
    /// The largest change of y∞ when the coarsest mesh is left out or (six meshes or more) only
    /// the finest half is fitted (0 with fewer than three meshes).
    pub model_spread: f64,
    /// √(fit_error² + model_spread²): the stated uncertainty of y∞.
    pub uncertainty: f64,
    /// a in y = y∞ + a·x(N).
    pub slope: f64,
    /// p (x = N^(−p)).
    pub exponent: f64,
    /// x = N^(−p) ln N instead.
    pub log: bool,
    pub meshes_used: usize,
    /// The finest values still move steadily towards a side y∞ is not on: the meshes are not
    /// in the power law's regime yet, whatever the uncertainty says.
    pub trend_conflict: bool,
}

/// Least-squares line y = c + a x: (c, a, standard error of c). Needs two distinct x.
fn line_fit(x: &[f64], y: &[f64]) -> Option<(f64, f64, f64)> {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxx: f64 = x.iter().map(|v| (v - mx) * (v - mx)).sum();
    if sxx <= 0.0 || sxx.is_nan() {
        return None;
    }
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let slope = sxy / sxx;
    let c = my - slope * mx;
    let se = if x.len() > 2 {
        let rss: f64 = x
            .iter()
            .zip(y)
            .map(|(a, b)| (b - c - slope * a).powi(2))
            .sum();
        let s2 = rss / (n - 2.0);
        (s2 * x.iter().map(|v| v * v).sum::<f64>() / (n * sxx)).sqrt()
    } else {
        0.0
    };
    Some((c, slope, se))
}

/// y∞ from values `y` on meshes of `n_q` points (any order; at least two distinct meshes).
pub fn extrapolate(n_q: &[usize], y: &[f64], p: Exponent) -> Option<Extrapolation> {
    if n_q.len() != y.len() || n_q.len() < 2 {
        return None;
    }
    // Sorted from coarse to fine, so "the coarsest" is well defined.
    let mut order: Vec<usize> = (0..n_q.len()).collect();
    order.sort_by_key(|&i| n_q[i]);
    let x: Vec<f64> = order.iter().map(|&i| p.x(n_q[i] as f64)).collect();
    let v: Vec<f64> = order.iter().map(|&i| y[i]).collect();
    let (limit, slope, se) = line_fit(&x, &v)?;
    let finest = *v.last().expect("two or more");
    let (fit_error, model_spread) = if x.len() > 2 {
        // How far y∞ moves when the fit leans on the finer meshes only: without the coarsest,
        // and (with six or more meshes) on the finest half. A series still outside the
        // asymptotic regime moves a lot, and its uncertainty says so.
        let moved = |from: usize| {
            line_fit(&x[from..], &v[from..]).map_or(0.0, |(c, _, _)| (c - limit).abs())
        };
        let half = if x.len() >= 6 {
            moved(x.len() / 2)
        } else {
            0.0
        };
        (se, moved(1).max(half))
    } else {
        ((limit - finest).abs(), 0.0)
    };
    // The last three values move steadily one way but y∞ lies behind the finest value: the
    // power law does not describe these meshes yet.
    let n = v.len();
    let trend_conflict = n >= 3 && {
        let (a, b) = (v[n - 2] - v[n - 3], v[n - 1] - v[n - 2]);
        a * b > 0.0 && (limit - finest) * b < 0.0
    };
    Some(Extrapolation {
        limit,
        fit_error,
        model_spread,
        uncertainty: fit_error.hypot(model_spread),
        slope,
        exponent: p.power,
        log: p.log,
        meshes_used: x.len(),
        trend_conflict,
    })
}

/// The first mesh (index into `y`, meshes in series order from coarse to fine) from which every
/// later value stays within `tolerance` (absolute) of `limit`.
pub fn first_within(y: &[f64], limit: f64, tolerance: f64) -> Option<usize> {
    let bad = y.iter().rposition(|v| (v - limit).abs() > tolerance);
    match bad {
        None if !y.is_empty() => Some(0),
        None => None,
        Some(i) if i + 1 < y.len() => Some(i + 1),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_power_law_is_recovered() {
        let n = [512, 1000, 1728, 2744, 4096];
        for p in [
            Exponent::INVERSE_N,
            Exponent::LOG_N_OVER_N,
            Exponent::adp(300.0),
            Exponent::adp(0.0),
        ] {
            let y: Vec<f64> = n.iter().map(|&n| 2.5 - 3.0 * p.x(n as f64)).collect();
            let e = extrapolate(&n, &y, p).unwrap();
            assert!((e.limit - 2.5).abs() < 1e-12, "{e:?}");
            assert!((e.slope + 3.0).abs() < 1e-10);
            assert!(e.uncertainty < 1e-12);
        }
    }

    #[test]
    fn noise_is_covered_by_the_stated_uncertainty() {
        // A 1/N law plus ±1e-3 alternating noise (the even/odd mesh wobble of tetrahedron κ):
        // the limit is off by about the noise, and the uncertainty says so.
        let n = [512, 729, 1000, 1331, 1728, 2197, 2744];
        let y: Vec<f64> = n
            .iter()
            .enumerate()
            .map(|(i, &n)| 100.0 + 500.0 / n as f64 + if i % 2 == 0 { 0.1 } else { -0.1 })
            .collect();
        let e = extrapolate(&n, &y, Exponent::INVERSE_N).unwrap();
        assert!((e.limit - 100.0).abs() < 2.0 * e.uncertainty, "{e:?}");
        assert!(e.uncertainty > 0.01 && e.uncertainty < 0.5, "{e:?}");
    }

    #[test]
    fn two_meshes_state_the_whole_step() {
        let e = extrapolate(&[1000, 8000], &[1.1, 1.0125], Exponent::INVERSE_N).unwrap();
        assert!((e.limit - 1.0).abs() < 1e-12);
        assert!((e.uncertainty - 0.0125).abs() < 1e-12);
        assert!(extrapolate(&[1000], &[1.0], Exponent::INVERSE_N).is_none());
        assert!(extrapolate(&[1000, 1000], &[1.0, 2.0], Exponent::INVERSE_N).is_none());
    }

    #[test]
    fn first_mesh_that_stays_within() {
        let y = [1.3, 1.05, 1.2, 1.04, 1.01];
        assert_eq!(first_within(&y, 1.0, 0.05), Some(3));
        assert_eq!(first_within(&y, 1.0, 0.5), Some(0));
        assert_eq!(first_within(&y, 1.0, 0.001), None);
    }
}
