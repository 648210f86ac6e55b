//! Debye + n-Einstein model fitted to a heat-capacity table (physics.md §3):
//!
//!   C/T = γ + β T² + Σ_n A_n Θ_n² T⁻³ e^{Θ_n/T} / (e^{Θ_n/T} − 1)²
//!
//! γ (electronic, J/K²/mol), β (Debye T³ term, J/K⁴/mol) and the amplitudes A_n (J/K/mol) enter
//! linearly; only the Einstein temperatures Θ_n do not. So the fit is a variable projection:
//! for given Θ the linear coefficients are the non-negative least-squares solution, and the Θ_n
//! are found by a log-spaced scan (one term at a time) polished with Nelder–Mead in ln Θ.
//! Θ_D follows from β = 12π⁴ r R / (5 Θ_D³), r = atoms per mole-unit of the data.

use crate::error::{Error, Result};

/// Molar gas constant, J/(mol K) (CODATA 2018, exact).
pub const GAS_CONSTANT: f64 = 8.314_462_618_153_24;

#[derive(Clone, Debug)]
pub struct FitOptions {
    pub einstein_terms: usize,
    /// Fit γ (true for measured data of metals/semiconductors; computed phonon data have γ = 0).
    pub fit_gamma: bool,
    /// Atoms per mole-unit of the data (1 for J/K per mole of atoms; the number of atoms in the
    /// primitive cell for latdyn's own per-mole-of-cells values).
    pub atoms_per_unit: f64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct EinsteinTerm {
    /// A_n, J/(K mol).
    pub amplitude: f64,
    /// Θ_n, K.
    pub temperature: f64,
    /// A_n / 3R: the number of oscillating atoms per mole-unit that the term represents.
    pub oscillators: f64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct DebyeEinsteinFit {
    /// γ, J/(K² mol).
    pub gamma: f64,
    /// β, J/(K⁴ mol).
    pub beta: f64,
    /// Θ_D from β (K); None when β = 0.
    pub debye_temperature: Option<f64>,
    pub einstein: Vec<EinsteinTerm>,
    /// Root-mean-square residual of C/T, J/(K² mol).
    pub rms_residual: f64,
    /// Largest |residual| / (C/T) over the table.
    pub max_relative_residual: f64,
    pub n_points: usize,
}

/// The Einstein basis function Θ² T⁻³ eˣ/(eˣ − 1)², x = Θ/T, written with e^{−x} so that large
/// x does not overflow.
fn einstein_basis(theta: f64, t: f64) -> f64 {
    let x = theta / t;
    let em = (-x).exp();
    theta * theta / (t * t * t) * em / ((1.0 - em) * (1.0 - em))
}

impl DebyeEinsteinFit {
    /// Model C/T at temperature t (K).
    pub fn c_over_t(&self, t: f64) -> f64 {
        self.gamma
            + self.beta * t * t
            + self
                .einstein
                .iter()
                .map(|e| e.amplitude * einstein_basis(e.temperature, t))
                .sum::<f64>()
    }
}

/// Fits the model to (T, C) pairs (K, J/(K mol)); points with T ≤ 0 are errors.
pub fn fit_debye_einstein(t: &[f64], c: &[f64], opts: &FitOptions) -> Result<DebyeEinsteinFit> {
    if t.len() != c.len() {
        return Err(Error::input(format!(
            "heat-capacity fit: {} temperatures but {} values",
            t.len(),
            c.len()
        )));
    }
    if let Some(i) = (0..t.len()).find(|&i| !(t[i] > 0.0 && t[i].is_finite() && c[i].is_finite())) {
        return Err(Error::input(format!(
            "heat-capacity fit: point {} has T = {} K, C = {}; T must be > 0 and both finite",
            i + 1,
            t[i],
            c[i]
        )));
    }
    let n_linear = opts.einstein_terms + 1 + usize::from(opts.fit_gamma);
    if t.len() < n_linear + opts.einstein_terms {
        return Err(Error::input(format!(
            "heat-capacity fit: {} points cannot determine {} parameters",
            t.len(),
            n_linear + opts.einstein_terms
        )));
    }
    let y: Vec<f64> = t.iter().zip(c).map(|(t, c)| c / t).collect();
    let problem = Problem { t, y: &y, opts };

    // Scan Θ for each new term with the earlier ones fixed, then polish all together.
    let t_min = t.iter().cloned().fold(f64::INFINITY, f64::min);
    let t_max = t.iter().cloned().fold(0.0, f64::max);
    let scan: Vec<f64> = (0..80)
        .map(|i| (0.5 * t_min).ln() + (40.0 * t_max / (0.5 * t_min)).ln() * i as f64 / 79.0)
        .collect();
    let mut ln_theta: Vec<f64> = Vec::new();
    for _ in 0..opts.einstein_terms {
        let best = scan
            .iter()
            .map(|&u| {
                let mut trial = ln_theta.clone();
                trial.push(u);
                (u, problem.residual(&trial).0)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("non-empty scan");
        ln_theta.push(best.0);
        ln_theta = nelder_mead(|u| problem.residual(u).0, &ln_theta, 0.2, 4000);
    }
    // Terms in ascending Θ: the reported order does not depend on the search path.
    ln_theta.sort_by(f64::total_cmp);
    let (ss, coef) = problem.residual(&ln_theta);
    let mut k = 0;
    let gamma = if opts.fit_gamma {
        k += 1;
        coef[0]
    } else {
        0.0
    };
    let beta = coef[k];
    let einstein: Vec<EinsteinTerm> = ln_theta
        .iter()
        .enumerate()
        .map(|(n, u)| EinsteinTerm {
            amplitude: coef[k + 1 + n],
            temperature: u.exp(),
            oscillators: coef[k + 1 + n] / (3.0 * GAS_CONSTANT),
        })
        .collect();
    let debye_temperature = (beta > 0.0).then(|| {
        (12.0 * std::f64::consts::PI.powi(4) * opts.atoms_per_unit * GAS_CONSTANT / (5.0 * beta))
            .cbrt()
    });
    let mut fit = DebyeEinsteinFit {
        gamma,
        beta,
        debye_temperature,
        einstein,
        rms_residual: (ss / t.len() as f64).sqrt(),
        max_relative_residual: 0.0,
        n_points: t.len(),
    };
    fit.max_relative_residual = t
        .iter()
        .zip(&y)
        .map(|(t, y)| ((fit.c_over_t(*t) - y) / y.abs().max(f64::MIN_POSITIVE)).abs())
        .fold(0.0, f64::max);
    Ok(fit)
}

struct Problem<'a> {
    t: &'a [f64],
    y: &'a [f64],
    opts: &'a FitOptions,
}

impl Problem<'_> {
    /// Sum of squared residuals and the non-negative linear coefficients [γ?, β, A_1..A_n] for
    /// the Einstein temperatures exp(ln_theta).
    fn residual(&self, ln_theta: &[f64]) -> (f64, Vec<f64>) {
        let mut columns: Vec<Vec<f64>> = Vec::new();
        if self.opts.fit_gamma {
            columns.push(vec![1.0; self.t.len()]);
        }
        columns.push(self.t.iter().map(|t| t * t).collect());
        for u in ln_theta {
            let theta = u.exp();
            columns.push(self.t.iter().map(|t| einstein_basis(theta, *t)).collect());
        }
        nnls_small(&columns, self.y)
    }
}

/// Non-negative least squares for a handful of columns: every subset of free columns is solved
/// without constraints (modified Gram–Schmidt QR) and the best feasible one is kept. With at
/// most ~8 columns this is exact and cheap.
fn nnls_small(columns: &[Vec<f64>], y: &[f64]) -> (f64, Vec<f64>) {
    let k = columns.len();
    let mut best = (y.iter().map(|v| v * v).sum::<f64>(), vec![0.0; k]);
    for mask in 1u32..(1 << k) {
        let free: Vec<usize> = (0..k).filter(|j| mask & (1 << j) != 0).collect();
        let Some(x) = least_squares(
            &free.iter().map(|&j| &columns[j][..]).collect::<Vec<_>>(),
            y,
        ) else {
            continue;
        };
        if x.iter().any(|v| *v < 0.0) {
            continue;
        }
        let ss: f64 = (0..y.len())
            .map(|i| {
                let m: f64 = free.iter().zip(&x).map(|(&j, c)| columns[j][i] * c).sum();
                (y[i] - m).powi(2)
            })
            .sum();
        if ss < best.0 {
            let mut coef = vec![0.0; k];
            for (&j, c) in free.iter().zip(&x) {
                coef[j] = *c;
            }
            best = (ss, coef);
        }
    }
    best
}

/// Unconstrained least squares by modified Gram–Schmidt; None when the columns are (nearly)
/// linearly dependent.
fn least_squares(cols: &[&[f64]], y: &[f64]) -> Option<Vec<f64>> {
    let k = cols.len();
    let mut q: Vec<Vec<f64>> = cols.iter().map(|c| c.to_vec()).collect();
    let mut r = vec![vec![0.0; k]; k];
    for j in 0..k {
        let norm0: f64 = cols[j].iter().map(|v| v * v).sum::<f64>().sqrt();
        for i in 0..j {
            let d: f64 = q[i].iter().zip(&q[j]).map(|(a, b)| a * b).sum();
            r[i][j] = d;
            let qi = q[i].clone();
            for (b, a) in q[j].iter_mut().zip(&qi) {
                *b -= d * a;
            }
        }
        let norm: f64 = q[j].iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm.is_nan() || norm <= 1e-10 * norm0 {
            return None;
        }
        r[j][j] = norm;
        for v in q[j].iter_mut() {
            *v /= norm;
        }
    }
    let qty: Vec<f64> = q
        .iter()
        .map(|qj| qj.iter().zip(y).map(|(a, b)| a * b).sum())
        .collect();
    let mut x = vec![0.0; k];
    for j in (0..k).rev() {
        let s: f64 = (j + 1..k).map(|l| r[j][l] * x[l]).sum();
        x[j] = (qty[j] - s) / r[j][j];
    }
    Some(x)
}

/// Nelder–Mead minimization from `start` with initial step `step` in every coordinate.
fn nelder_mead(f: impl Fn(&[f64]) -> f64, start: &[f64], step: f64, max_eval: usize) -> Vec<f64> {
    let n = start.len();
    let mut simplex: Vec<(Vec<f64>, f64)> = (0..=n)
        .map(|i| {
            let mut p = start.to_vec();
            if i > 0 {
                p[i - 1] += step;
            }
            let v = f(&p);
            (p, v)
        })
        .collect();
    let mut evals = n + 1;
    while evals < max_eval {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (lo, hi) = (simplex[0].1, simplex[n].1);
        if (hi - lo).abs() <= 1e-14 * lo.abs().max(1e-300) {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|d| simplex[..n].iter().map(|p| p.0[d]).sum::<f64>() / n as f64)
            .collect();
        let along = |t: f64| -> Vec<f64> {
            (0..n)
                .map(|d| centroid[d] + t * (simplex[n].0[d] - centroid[d]))
                .collect()
        };
        let reflected = along(-1.0);
        let fr = f(&reflected);
        evals += 1;
        if fr < simplex[0].1 {
            let expanded = along(-2.0);
            let fe = f(&expanded);
            evals += 1;
            simplex[n] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (reflected, fr);
        } else {
            let contracted = along(if fr < simplex[n].1 { -0.5 } else { 0.5 });
            let fc = f(&contracted);
            evals += 1;
            if fc < simplex[n].1.min(fr) {
                simplex[n] = (contracted, fc);
            } else {
                let best = simplex[0].0.clone();
                for p in simplex.iter_mut().skip(1) {
                    for d in 0..n {
                        p.0[d] = best[d] + 0.5 * (p.0[d] - best[d]);
                    }
                    p.1 = f(&p.0);
                    evals += 1;
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex.swap_remove(0).0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Debye heat capacity per mole-unit with r atoms: 9 r R (T/Θ)³ ∫₀^{Θ/T} x⁴eˣ/(eˣ−1)² dx,
    /// by Simpson's rule — an independent route to the T³ law the fit must recover.
    fn debye_c(theta: f64, t: f64, r: f64) -> f64 {
        let xd = theta / t;
        let n = 4000;
        let h = xd / n as f64;
        let g = |x: f64| {
            if x < 1e-8 {
                return x * x;
            }
            let em = (-x).exp();
            x.powi(4) * em / ((1.0 - em) * (1.0 - em))
        };
        let mut s = g(0.0) + g(xd);
        for i in 1..n {
            s += g(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        9.0 * r * GAS_CONSTANT * (t / theta).powi(3) * s * h / 3.0
    }

    #[test]
    fn recovers_debye_and_einstein_parameters() {
        // A rattler-like Einstein mode (Θ_E = 30 K, half an atom) on a Θ_D = 320 K Debye solid,
        // plus a small electronic term; data below Θ_D/32, where the Debye function follows the
        // T³ law to 1e-9 (the missing tail ∫_{Θ/T}^∞ x⁴e⁻ˣdx).
        let (theta_d, theta_e, a_e, gamma) = (320.0, 30.0, 1.5 * GAS_CONSTANT, 2e-4);
        let t: Vec<f64> = (1..=40).map(|i| 0.25 * i as f64).collect();
        let c: Vec<f64> = t
            .iter()
            .map(|&t| debye_c(theta_d, t, 2.0) + a_e * t * einstein_basis(theta_e, t) + gamma * t)
            .collect();
        let fit = fit_debye_einstein(
            &t,
            &c,
            &FitOptions {
                einstein_terms: 1,
                fit_gamma: true,
                atoms_per_unit: 2.0,
            },
        )
        .unwrap();
        let td = fit.debye_temperature.unwrap();
        assert!((td - theta_d).abs() < 1e-4 * theta_d, "Θ_D {td}");
        assert!((fit.einstein[0].temperature - theta_e).abs() < 1e-4 * theta_e);
        assert!((fit.einstein[0].oscillators - 0.5).abs() < 1e-4);
        assert!((fit.gamma - gamma).abs() < 1e-3 * gamma);
        assert!(fit.max_relative_residual < 1e-6);
    }

    #[test]
    fn two_einstein_terms_come_out_in_ascending_order() {
        let t: Vec<f64> = (1..=60).map(|i| i as f64).collect();
        let c: Vec<f64> = t
            .iter()
            .map(|&t| {
                1e-5 * t.powi(3)
                    + 3.0
                        * GAS_CONSTANT
                        * t
                        * (0.3 * einstein_basis(80.0, t) + einstein_basis(25.0, t))
            })
            .collect();
        let fit = fit_debye_einstein(
            &t,
            &c,
            &FitOptions {
                einstein_terms: 2,
                fit_gamma: false,
                atoms_per_unit: 1.0,
            },
        )
        .unwrap();
        let e = &fit.einstein;
        assert!((e[0].temperature - 25.0).abs() < 1e-3 && (e[1].temperature - 80.0).abs() < 1e-2);
        assert!((e[0].oscillators - 1.0).abs() < 1e-4 && (e[1].oscillators - 0.3).abs() < 1e-4);
        assert!((fit.beta - 1e-5).abs() < 1e-9);
    }

    #[test]
    fn rejects_bad_tables() {
        let opts = FitOptions {
            einstein_terms: 1,
            fit_gamma: false,
            atoms_per_unit: 1.0,
        };
        assert!(fit_debye_einstein(&[1.0, 2.0], &[1.0], &opts).is_err());
        assert!(fit_debye_einstein(&[0.0, 1.0, 2.0, 3.0], &[0.0, 1.0, 2.0, 3.0], &opts).is_err());
        assert!(fit_debye_einstein(&[1.0, 2.0], &[1.0, 2.0], &opts).is_err());
    }
}
