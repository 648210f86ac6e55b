//! q-mesh convergence studies (`latdyn converge`): a quantity (κ, ADPs, DOS, thermodynamics) on
//! a series of meshes sharing everything that does not depend on the mesh, extrapolated to the
//! infinite mesh with an uncertainty, and a verdict: which mesh first stays within the
//! tolerance of the extrapolated value, or why the series is not converged.

pub mod extrapolate;
pub mod meshes;
pub mod series;

use extrapolate::{Extrapolation, extrapolate, first_within};
use series::{MeshStep, SeriesContext};

/// One scalar over the series and its extrapolation.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ScalarReport {
    pub name: String,
    /// One value per mesh, in series order.
    pub values: Vec<f64>,
    pub extrapolation: Option<Extrapolation>,
    /// The absolute tolerance it was judged with (tolerance × the size of its group).
    pub tolerance: f64,
    /// The first mesh from which every value stays within `tolerance` of the limit.
    pub first_mesh_within: Option<[usize; 3]>,
    pub judged: bool,
    /// Within tolerance on the finest mesh, with an uncertainty of y∞ below the tolerance.
    pub converged: bool,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Verdict {
    pub converged: bool,
    /// The first mesh from which every judged number stays within tolerance (when converged).
    pub first_mesh: Option<[usize; 3]>,
    /// One line for the terminal.
    pub message: String,
}

/// How the series ended.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SeriesOutcome {
    pub steps_done: usize,
    /// "list" (every mesh given was run), "converged" (--auto reached the tolerance) or the
    /// budget that stopped --auto.
    pub stopped_by: String,
}

/// Extrapolates every scalar of `steps` (meshes in series order) and judges them with the
/// relative `tolerance`. `fit_last` limits the fits to the finest meshes.
pub fn analyse(
    steps: &[MeshStep],
    tolerance: f64,
    fit_last: Option<usize>,
) -> (Vec<ScalarReport>, Verdict) {
    let Some(first) = steps.first() else {
        return (
            vec![],
            Verdict {
                converged: false,
                first_mesh: None,
                message: "no mesh was computed".into(),
            },
        );
    };
    let n_q: Vec<usize> = steps.iter().map(|s| s.mesh.iter().product()).collect();
    let from = fit_last.map_or(0, |k| steps.len().saturating_sub(k.max(2)));
    let mut reports: Vec<ScalarReport> = first
        .scalars
        .iter()
        .enumerate()
        .map(|(i, sc)| {
            let values: Vec<f64> = steps.iter().map(|s| s.scalars[i].value).collect();
            ScalarReport {
                name: sc.name.clone(),
                extrapolation: extrapolate(&n_q[from..], &values[from..], sc.exponent),
                values,
                tolerance: 0.0,
                first_mesh_within: None,
                judged: sc.judged,
                converged: false,
            }
        })
        .collect();
    // The size each scalar is judged against: the largest |limit| (or |value|) of its group.
    let mut scale: std::collections::HashMap<&str, f64> = Default::default();
    for (r, sc) in reports.iter().zip(&first.scalars) {
        let size = r
            .extrapolation
            .as_ref()
            .map_or(r.values.last().copied().unwrap_or(0.0), |e| e.limit)
            .abs();
        let e = scale.entry(sc.scale_group.as_str()).or_insert(0.0);
        *e = e.max(size);
    }
    let mut worst: Option<(f64, String)> = None;
    let mut first_all = 0usize;
    let mut all = true;
    let mut asymptotic = true;
    for (r, sc) in reports.iter_mut().zip(&first.scalars) {
        let size = scale[sc.scale_group.as_str()];
        r.tolerance = tolerance * size;
        let Some(e) = &r.extrapolation else {
            all &= !r.judged;
            continue;
        };
        if size == 0.0 {
            // Zero by symmetry on every mesh (an off-diagonal κ of a cubic crystal).
            r.converged = true;
            r.first_mesh_within = Some(steps[0].mesh);
            continue;
        }
        let within = first_within(&r.values, e.limit, r.tolerance);
        r.first_mesh_within = within.map(|i| steps[i].mesh);
        let finest = *r.values.last().expect("one value per mesh");
        r.converged = within.is_some() && e.uncertainty <= r.tolerance && !e.trend_conflict;
        if r.judged {
            let miss = ((finest - e.limit).abs().max(e.uncertainty)) / size;
            if e.trend_conflict {
                asymptotic = false;
            }
            if worst.as_ref().is_none_or(|(m, _)| miss > *m) {
                worst = Some((miss, r.name.clone()));
            }
            all &= r.converged;
            first_all = first_all.max(within.unwrap_or(steps.len()));
        }
    }
    let verdict = if all && first_all < steps.len() {
        Verdict {
            converged: true,
            first_mesh: Some(steps[first_all].mesh),
            message: format!(
                "converged: every judged value stays within {:.3} % of its extrapolated limit from mesh {} on",
                100.0 * tolerance,
                fmt_mesh(steps[first_all].mesh)
            ),
        }
    } else {
        let why = match &worst {
            Some((m, name)) => format!(
                "{name} is {:.3} % from its limit (or that uncertain){}",
                100.0 * m,
                if asymptotic {
                    ""
                } else {
                    "; the finest values still climb past the extrapolated limit, so these meshes are not in the power law's regime yet"
                }
            ),
            None => "fewer than two meshes to extrapolate from".into(),
        };
        Verdict {
            converged: false,
            first_mesh: None,
            message: format!(
                "not converged to {:.3} %: {why}; add finer meshes",
                100.0 * tolerance
            ),
        }
    };
    (reports, verdict)
}

/// For the DOS: the relative L1 change ∫|g_k − g_{k−1}| / ∫ g_k between consecutive meshes (the
/// first is 0) and the verdict on it.
pub fn analyse_dos(steps: &[MeshStep], tolerance: f64) -> (Vec<f64>, Verdict) {
    let dos: Vec<&Vec<f64>> = steps.iter().filter_map(|s| s.dos.as_ref()).collect();
    let mut changes = vec![0.0];
    for w in dos.windows(2) {
        let diff: f64 = w[1].iter().zip(w[0]).map(|(a, b)| (a - b).abs()).sum();
        let norm: f64 = w[1].iter().sum();
        changes.push(if norm > 0.0 { diff / norm } else { 0.0 });
    }
    let bad = changes.iter().rposition(|c| *c > tolerance);
    let first = match bad {
        None if changes.len() >= 2 => Some(1),
        Some(i) if i + 1 < changes.len() => Some(i + 1),
        _ => None,
    };
    let verdict = match first {
        Some(i) => Verdict {
            converged: true,
            first_mesh: Some(steps[i - 1].mesh),
            message: format!(
                "converged: the total DOS changes by at most {:.3} % (L1) after mesh {}",
                100.0 * tolerance,
                fmt_mesh(steps[i - 1].mesh)
            ),
        },
        None => Verdict {
            converged: false,
            first_mesh: None,
            message: format!(
                "not converged to {:.3} %: the last refinement changed the total DOS by {:.3} % (L1); add finer meshes",
                100.0 * tolerance,
                100.0 * changes.last().copied().unwrap_or(0.0)
            ),
        },
    };
    (changes, verdict)
}

pub fn fmt_mesh(n: [usize; 3]) -> String {
    format!("{}×{}×{}", n[0], n[1], n[2])
}

/// A check made before each mesh of an `--auto` series: the reason to stop, if any.
pub type BudgetCheck<'a> =
    dyn Fn(&[usize; 3], &[MeshStep]) -> crate::error::Result<Option<String>> + 'a;

/// Runs `meshes` in order (all of them for a list; with `auto`, until the tolerance holds or the
/// budget check says stop). `on_step` sees each finished mesh (for writing results as they come).
pub fn run_series(
    ctx: &SeriesContext,
    meshes: &[[usize; 3]],
    auto: Option<&BudgetCheck>,
    tolerance: f64,
    fit_last: Option<usize>,
    on_step: &mut dyn FnMut(&[MeshStep]) -> crate::error::Result<()>,
) -> crate::error::Result<(Vec<MeshStep>, SeriesOutcome)> {
    let mut steps: Vec<MeshStep> = Vec::new();
    let mut stopped_by = "list".to_string();
    for (i, &n) in meshes.iter().enumerate() {
        if let Some(check) = auto
            && let Some(reason) = check(&n, &steps)?
        {
            stopped_by = reason;
            break;
        }
        steps.push(ctx.step(n, &meshes[i + 1..])?);
        on_step(&steps)?;
        if auto.is_some() && steps.len() >= 3 {
            let converged = match ctx.quantity {
                series::Quantity::Dos => analyse_dos(&steps, tolerance).1.converged,
                _ => analyse(&steps, tolerance, fit_last).1.converged,
            };
            if converged {
                stopped_by = "converged".into();
                break;
            }
        }
    }
    if auto.is_some() && stopped_by == "list" {
        stopped_by = "end of the mesh ladder (--max-q-points)".into();
    }
    let outcome = SeriesOutcome {
        steps_done: steps.len(),
        stopped_by,
    };
    Ok((steps, outcome))
}
