//! Temperature models of ADPs (physics.md §4, the ADP seed paper): a harmonic solid has U ∝ T
//! at high T. From the slope k = U/T of a fit through the origin (Å²/K) and the atom's mass m
//! (amu), the Einstein model gives the low-temperature (zero-point) value and the crossover
//! temperature
//!
//!   U_lowT = ħ/(2 m ω) = 3.4824 √(k/m),   T_c = ħω/(2 k_B) = 3.4824 / √(m k),
//!   with ω = √(k_B/(m k)), and U(T) = U_lowT coth(T_c/T);
//!
//! the zero-point correction of a classical value at T is U_q/U_cl − 1 = f(T/T_c) with
//! f(x) = coth(1/x)/x − 1. The Debye variant (one T_D): U_D,lowT = 3.0159 √(k/m),
//! T_D,c = T_D/4 = (√3/2) T_c.

use crate::units::{AMU_KG, EV_J, HBAR_EV_S, KB_J};

/// ħ √(1/(k_B · amu)) / 2 in Å² · √(amu · K / Å²): the 3.4824 of the Einstein formulas.
pub fn einstein_constant() -> f64 {
    let hbar = HBAR_EV_S * EV_J;
    // √(k/m) with k in Å²/K = 1e-20 m²/K and m in amu.
    0.5 * hbar * (1e-20 / (KB_J * AMU_KG)).sqrt() * 1e20
}

/// Least-squares fits of U(T): the slope through the origin, and slope + intercept.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LinearFit {
    /// U = k T (Å²/K).
    pub slope_through_origin: f64,
    /// U = a + b T.
    pub intercept: f64,
    pub slope: f64,
    /// Root-mean-square residual of the fit through the origin (Å²).
    pub rms_residual_origin: f64,
}

/// Fits U(T) through the origin and with a free intercept. Needs at least two distinct T > 0.
pub fn fit_linear(t: &[f64], u: &[f64]) -> Option<LinearFit> {
    let n = t.len() as f64;
    if t.len() < 2 || t.len() != u.len() {
        return None;
    }
    let stt: f64 = t.iter().map(|x| x * x).sum();
    let stu: f64 = t.iter().zip(u).map(|(x, y)| x * y).sum();
    if stt <= 0.0 {
        return None;
    }
    let k = stu / stt;
    let (mt, mu) = (t.iter().sum::<f64>() / n, u.iter().sum::<f64>() / n);
    let var: f64 = t.iter().map(|x| (x - mt).powi(2)).sum();
    if var <= 0.0 {
        return None;
    }
    let slope = t
        .iter()
        .zip(u)
        .map(|(x, y)| (x - mt) * (y - mu))
        .sum::<f64>()
        / var;
    let rms = (t
        .iter()
        .zip(u)
        .map(|(x, y)| (y - k * x).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    Some(LinearFit {
        slope_through_origin: k,
        intercept: mu - slope * mt,
        slope,
        rms_residual_origin: rms,
    })
}

/// Einstein and Debye zero-point numbers from the slope k (Å²/K) and the mass (amu).
#[derive(Clone, Debug, serde::Serialize)]
pub struct ZeroPoint {
    pub u_low_t: f64,
    pub t_c: f64,
    pub debye_u_low_t: f64,
    /// T_D/4, the Debye crossover.
    pub debye_t_c: f64,
}

pub fn zero_point(k: f64, mass: f64) -> Option<ZeroPoint> {
    if !(k > 0.0 && mass > 0.0) {
        return None;
    }
    let c = einstein_constant();
    let (u_low_t, t_c) = (c * (k / mass).sqrt(), c / (mass * k).sqrt());
    // Debye: the same slope from a Debye spectrum gives U_lowT smaller by 3.0159/3.4824 = √3/2
    // and T_D/4 = (√3/2) T_c.
    let r = 3f64.sqrt() / 2.0;
    Some(ZeroPoint {
        u_low_t,
        t_c,
        debye_u_low_t: r * u_low_t,
        debye_t_c: r * t_c,
    })
}

/// Einstein U(T) = U_lowT coth(T_c/T) (U_lowT at T = 0).
pub fn einstein_u(u_low_t: f64, t_c: f64, t: f64) -> f64 {
    if t <= 0.0 {
        return u_low_t;
    }
    u_low_t / (t_c / t).tanh()
}

/// The zero-point correction factor f(x) = coth(1/x)/x − 1 at x = T/T_c: a classical U(T)
/// times (1 + f) is the quantum one.
pub fn zero_point_correction(x: f64) -> f64 {
    1.0 / ((1.0 / x).tanh() * x) - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_paper_worked_example() {
        assert!(
            (einstein_constant() - 3.4824).abs() < 5e-4,
            "{}",
            einstein_constant()
        );
        // U3 = 0.15 Å² at 250 K for In (114.82 amu): U_lowT ≈ 0.008 Å², T_c ≈ 13 K.
        let z = zero_point(0.15 / 250.0, 114.82).unwrap();
        assert!((z.u_low_t - 0.008).abs() < 0.0005, "{}", z.u_low_t);
        assert!((z.t_c - 13.0).abs() < 0.5, "{}", z.t_c);
        assert!((z.debye_u_low_t / z.u_low_t * 3.4824 - 3.0159).abs() < 1e-3);
        for (x, f) in [(1.0, 0.313), (2.0, 0.082), (3.0, 0.037)] {
            assert!((zero_point_correction(x) - f).abs() < 5e-4, "f({x})");
        }
        // coth(T_c/T) → T/T_c at high T: U → k T.
        let t = 1e4;
        assert!((einstein_u(z.u_low_t, z.t_c, t) / (0.15 / 250.0 * t) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn linear_fits() {
        let t = [100.0, 200.0, 300.0];
        let u = [0.011, 0.021, 0.031];
        let f = fit_linear(&t, &u).unwrap();
        assert!((f.slope - 1e-4).abs() < 1e-15 && (f.intercept - 0.001).abs() < 1e-15);
        assert!(f.slope_through_origin > 1e-4 && f.rms_residual_origin > 0.0);
        assert!(fit_linear(&[300.0], &[0.01]).is_none());
    }
}
