//! Small nonlinear least-squares fits (Levenberg–Marquardt with a numerical Jacobian), shared by
//! the displacement-histogram fits and the DHO fits of constant-Q scans.

/// Weighted least squares of `model` to (x, y) with weights w = 1/variance, from `p0`;
/// `project` keeps parameters in their domain. Returns (parameters, χ²).
pub fn levenberg_marquardt(
    model: &dyn Fn(&[f64], f64) -> f64,
    x: &[f64],
    y: &[f64],
    w: &[f64],
    p0: &[f64],
    project: &dyn Fn(&mut [f64]),
) -> (Vec<f64>, f64) {
    let np = p0.len();
    let chi2 = |p: &[f64]| -> f64 {
        x.iter()
            .zip(y)
            .zip(w)
            .map(|((xi, yi), wi)| wi * (yi - model(p, *xi)).powi(2))
            .sum()
    };
    let mut p = p0.to_vec();
    project(&mut p);
    let mut c = chi2(&p);
    let mut lambda = 1e-3;
    for _ in 0..200 {
        // Jacobian by central differences.
        let mut jtj = vec![vec![0.0; np]; np];
        let mut jtr = vec![0.0; np];
        let steps: Vec<f64> = p.iter().map(|v| 1e-6 * v.abs().max(1e-4)).collect();
        for (i, xi) in x.iter().enumerate() {
            let r = y[i] - model(&p, *xi);
            let grad = gradient(model, &p, &steps, *xi);
            for a in 0..np {
                jtr[a] += w[i] * grad[a] * r;
                for b in 0..np {
                    jtj[a][b] += w[i] * grad[a] * grad[b];
                }
            }
        }
        let mut improved = false;
        for _ in 0..20 {
            let mut m = jtj.clone();
            for (k, row) in m.iter_mut().enumerate() {
                row[k] *= 1.0 + lambda;
                row[k] += 1e-300;
            }
            let Some(delta) = solve(m, jtr.clone()) else {
                lambda *= 10.0;
                continue;
            };
            let mut trial: Vec<f64> = p.iter().zip(&delta).map(|(a, b)| a + b).collect();
            project(&mut trial);
            let ct = chi2(&trial);
            if ct.is_finite() && ct < c {
                let converged = (c - ct) <= 1e-12 * c.max(1e-300);
                p = trial;
                c = ct;
                lambda = (lambda / 10.0).max(1e-12);
                improved = !converged;
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            break;
        }
    }
    (p, c)
}

/// ∂model/∂p at x by central differences of the given steps.
fn gradient(model: &dyn Fn(&[f64], f64) -> f64, p: &[f64], steps: &[f64], x: f64) -> Vec<f64> {
    (0..p.len())
        .map(|k| {
            let (mut hi, mut lo) = (p.to_vec(), p.to_vec());
            hi[k] += steps[k];
            lo[k] -= steps[k];
            (model(&hi, x) - model(&lo, x)) / (2.0 * steps[k])
        })
        .collect()
}

/// Standard errors of the parameters at `p` from the curvature of χ²: the square roots of the
/// diagonal of (JᵀWJ)⁻¹, multiplied by √(χ²/dof) when `scale_by_chi2` (no measured σ: the
/// residual scatter stands in for them). `None` when the normal matrix is singular (a parameter
/// the data do not determine).
pub fn parameter_errors(
    model: &dyn Fn(&[f64], f64) -> f64,
    x: &[f64],
    w: &[f64],
    p: &[f64],
    chi2_per_dof: f64,
    scale_by_chi2: bool,
) -> Option<Vec<f64>> {
    let np = p.len();
    let steps: Vec<f64> = p.iter().map(|v| 1e-6 * v.abs().max(1e-4)).collect();
    let mut jtj = vec![vec![0.0; np]; np];
    for (i, xi) in x.iter().enumerate() {
        let grad = gradient(model, p, &steps, *xi);
        for a in 0..np {
            for b in 0..np {
                jtj[a][b] += w[i] * grad[a] * grad[b];
            }
        }
    }
    let scale = if scale_by_chi2 { chi2_per_dof } else { 1.0 };
    (0..np)
        .map(|k| {
            let mut unit = vec![0.0; np];
            unit[k] = 1.0;
            let column = solve(jtj.clone(), unit)?;
            let var = column[k] * scale;
            (var >= 0.0).then(|| var.sqrt())
        })
        .collect()
}

/// Gaussian elimination with partial pivoting for the small normal equations.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-300 || !a[piv][col].is_finite() {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        for r in col + 1..n {
            let f = a[r][col] / a[col][col];
            for k in col..n {
                a[r][k] -= f * a[col][k];
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}
