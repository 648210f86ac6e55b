//! `latdyn converge`: a q-mesh convergence study of κ, ADPs, the DOS or the thermodynamics —
//! a list of meshes or an automatic ladder, extrapolated to the infinite mesh with an
//! uncertainty, a table, plots and a one-line verdict.

use super::InputArgs;
use super::kappa::{Fc3Layout, FourPhononArgs, TransportArgs, parse_temperatures};
use crate::anharmonic::linewidth::DeltaMethod;
use crate::converge::meshes::{auto_ladder, parse_meshes};
use crate::converge::series::{KappaSeries, MeshStep, Quantity, SeriesContext, delta_json};
use crate::converge::{
    BudgetCheck, ScalarReport, SeriesOutcome, Verdict, analyse, analyse_dos, fmt_mesh, run_series,
};
use crate::error::{Error, Result};
use crate::harmonic::dos::DosMethod;
use crate::output::plots::{XyPlot, plot_xy};
use crate::output::write_json;
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ConvergeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// What to converge: kappa (needs --fc3), adp, dos or thermal.
    #[arg(long, value_enum)]
    pub quantity: Quantity,
    /// The meshes, coarse to fine: "8 8 8; 12 12 12; 16 16 16".
    #[arg(long, conflicts_with = "auto", required_unless_present = "auto")]
    pub meshes: Option<String>,
    /// Grow the mesh (equal q-spacing along each reciprocal axis) until the tolerance holds or
    /// a budget is reached.
    #[arg(long)]
    pub auto: bool,
    /// --auto: q-points of the first mesh (about).
    #[arg(long, default_value_t = 300)]
    pub start_q_points: usize,
    /// --auto: each mesh has at least this many times the points of the previous one.
    #[arg(long, default_value_t = 1.5)]
    pub growth: f64,
    /// --auto: largest mesh (q-points) to try (default 8000 for kappa, 125000 otherwise).
    #[arg(long)]
    pub max_q_points: Option<usize>,
    /// --auto, kappa: stop before a mesh that would take the series past this many estimated
    /// core-seconds (`latdyn info`'s estimate).
    #[arg(long, default_value_t = 3600.0)]
    pub max_core_seconds: f64,
    /// Relative tolerance: "1%" or "0.01".
    #[arg(long, default_value = "1%")]
    pub tolerance: String,
    /// Power p of the mesh error y(N) − y∞ ∝ N^(−p) for every value (default: 1 for κ and
    /// thermodynamics, 1/3 for ADPs at T > 0 and 2/3 at T = 0).
    #[arg(long)]
    pub exponent: Option<f64>,
    /// Fit only the finest K meshes (default: all).
    #[arg(long)]
    pub fit_last: Option<usize>,
    /// Temperatures "300 600" (K).
    #[arg(long, default_value = "300")]
    pub temperatures: String,
    /// fc3 (kappa): the formats of `latdyn kappa --fc3`.
    #[arg(long)]
    pub fc3: Option<PathBuf>,
    /// Four-phonon scattering on every mesh (kappa): the flags of `latdyn kappa --fc4`.
    #[command(flatten)]
    pub four_phonon: FourPhononArgs,
    #[command(flatten)]
    pub fc3_layout: Fc3Layout,
    #[command(flatten)]
    pub transport: TransportArgs,
    /// Smearing series (kappa): also κ with these Gaussian σ (THz) on every mesh, "0.05 0.1 0.2";
    /// the interaction strengths are computed once for all of them.
    #[arg(long)]
    pub smearing_series: Option<String>,
    /// Smearing series (kappa): also κ with these adaptive scalebroad values, "0.5 1 2".
    #[arg(long)]
    pub adaptive_series: Option<String>,
    /// Modes at or below this frequency (THz) are left out (default 0.01 for kappa and thermal,
    /// 0.001 for adp, as the single-mesh commands).
    #[arg(long)]
    pub cutoff_frequency: Option<f64>,
    /// DOS method (dos): tetrahedron or gaussian.
    #[arg(long, default_value = "tetrahedron")]
    pub dos_method: String,
    /// Gaussian σ of the DOS (THz).
    #[arg(long, default_value_t = 0.1)]
    pub sigma: f64,
    /// DOS frequency step (THz).
    #[arg(long, default_value_t = 0.05)]
    pub dos_step: f64,
    /// Switch the non-analytic correction off.
    #[arg(long)]
    pub no_nac: bool,
    /// No SVG/PNG plots.
    #[arg(long)]
    pub no_plots: bool,
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
}

/// "1%" → 0.01, "0.01" → 0.01.
pub fn parse_tolerance(text: &str) -> Result<f64> {
    let t = text.trim();
    let (number, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 0.01),
        None => (t, 1.0),
    };
    number
        .parse::<f64>()
        .ok()
        .map(|x| x * scale)
        .filter(|x| *x > 0.0 && *x < 1.0)
        .ok_or_else(|| {
            Error::input(format!(
                "--tolerance: expected a relative tolerance such as 1% or 0.01, found '{text}'"
            ))
        })
}

fn series_values(text: &str, what: &str) -> Result<Vec<f64>> {
    let v: Vec<f64> = super::numbers(text, what)?;
    if v.is_empty() || v.iter().any(|x| !(*x > 0.0 && x.is_finite())) {
        return Err(Error::input(format!(
            "{what}: expected positive numbers, found '{text}'"
        )));
    }
    Ok(v)
}

pub fn run(a: &ConvergeArgs, progress: bool) -> Result<()> {
    let t0 = std::time::Instant::now();
    if let Some(f) = &a.four_phonon.fc4
        && a.quantity != Quantity::Kappa
    {
        return Err(Error::input(format!(
            "--fc4 {}: four-phonon scattering changes κ only; use it with --quantity kappa",
            f.display()
        )));
    }
    let quantity = a.quantity;
    if quantity == Quantity::Kappa && a.fc3.is_none() {
        return Err(Error::input("latdyn converge --quantity kappa needs --fc3"));
    }
    let tolerance = parse_tolerance(&a.tolerance)?;
    let temperatures = parse_temperatures(&a.temperatures)?;
    let deck = a.input.deck()?;
    let input = crate::workflow::load(&deck)?;
    let dm = input.dynamical_matrix(!a.no_nac)?;
    let prim = input.primitive().clone();
    let cutoff = a.cutoff_frequency.unwrap_or(match quantity {
        Quantity::Adp => 1e-3,
        _ => 0.01,
    });
    let meshes = match (&a.meshes, a.auto) {
        (Some(m), _) => parse_meshes(m)?,
        (None, _) => auto_ladder(
            &prim.reciprocal(),
            a.start_q_points,
            a.growth,
            a.max_q_points.unwrap_or(match quantity {
                Quantity::Kappa => 8000,
                _ => 125_000,
            }),
        )?,
    };
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
    // Mesh-independent work, done once: the fc3 read and rearranged for Fourier sums.
    let fc3 = match (&a.fc3, quantity) {
        (Some(p), Quantity::Kappa) => Some(a.fc3_layout.load(&input, p)?),
        _ => None,
    };
    let fourier = fc3
        .as_ref()
        .map(|(f, _)| crate::anharmonic::interaction::Fc3Fourier::new(&prim, f));
    let kappa = match quantity {
        Quantity::Kappa => Some(kappa_series(a, &deck, &input, &temperatures, cutoff)?),
        _ => None,
    };
    let dos_method = match a.dos_method.as_str() {
        "tetrahedron" => DosMethod::Tetrahedron,
        "gaussian" if a.sigma > 0.0 && a.sigma.is_finite() => DosMethod::Gaussian(a.sigma),
        other => {
            return Err(Error::input(format!(
                "--dos-method: expected tetrahedron or gaussian (with --sigma > 0), found '{other}'"
            )));
        }
    };
    let dos_points = if quantity == Quantity::Dos {
        dos_grid(&dm, meshes[0], a.dos_step)?
    } else {
        vec![]
    };
    let ctx = SeriesContext {
        dm: &dm,
        symmetry: crate::crystal::symmetry::Symmetry::new(&prim, 1e-5)?,
        quantity,
        temperatures: temperatures.clone(),
        cutoff_frequency: cutoff,
        fc3: fourier.as_ref(),
        kappa,
        dos_method,
        dos_points,
        cache: crate::harmonic::phonon_cache::PhononCache::new(),
        exponent: match a.exponent {
            Some(p) if p > 0.0 && p.is_finite() => {
                Some(crate::converge::extrapolate::Exponent::power(p))
            }
            Some(p) => {
                return Err(Error::input(format!(
                    "--exponent: expected a positive power, found {p}"
                )));
            }
            None => None,
        },
        out: a.out.clone(),
        progress,
    };
    eprintln!(
        "latdyn converge: {} of {}, {} meshes {}{}",
        quantity.name(),
        prim.formula(),
        if a.auto { "up to" } else { "" },
        meshes
            .iter()
            .map(|n| fmt_mesh(*n))
            .collect::<Vec<_>>()
            .join(", "),
        if a.auto {
            format!(" (--auto, tolerance {})", a.tolerance)
        } else {
            String::new()
        }
    );
    let budget = |n: &[usize; 3], done: &[MeshStep]| -> Result<Option<String>> {
        budget_check(a, &ctx, fc3.as_ref().map(|f| &f.0), n, done)
    };
    let mut write_partial = |steps: &[MeshStep]| -> Result<()> {
        let s = steps.last().expect("a finished mesh");
        eprintln!(
            "  {:>12}  {:>8} q  {:>7.2} s  {}",
            fmt_mesh(s.mesh),
            s.mesh.iter().product::<usize>(),
            s.seconds,
            headline(quantity, s)
        );
        // Results as they come: a killed series keeps the meshes it finished (the κ
        // linewidths also resume per mesh).
        let outcome = SeriesOutcome {
            steps_done: steps.len(),
            stopped_by: "running".into(),
        };
        write_outputs(a, &ctx, steps, &outcome, tolerance, t0, false).map(|_| ())
    };
    let (steps, outcome) = run_series(
        &ctx,
        &meshes,
        a.auto.then_some(&budget as &BudgetCheck),
        tolerance,
        a.fit_last,
        &mut write_partial,
    )?;
    let verdict = write_outputs(a, &ctx, &steps, &outcome, tolerance, t0, !a.no_plots)?;
    println!(
        "latdyn converge: {} of {}, {} meshes in {:.1} s ({} phonon points reused from earlier meshes, {} solved)",
        quantity.name(),
        prim.formula(),
        steps.len(),
        t0.elapsed().as_secs_f64(),
        ctx.cache.counts().0,
        ctx.cache.counts().1
    );
    if a.auto {
        println!("  --auto stopped: {}", outcome.stopped_by);
    }
    println!("  {}", verdict.message);
    println!("  wrote {}", a.out.join("converge.json").display());
    Ok(())
}

/// The κ settings of the series: the main δ method, then the smearing series.
fn kappa_series(
    a: &ConvergeArgs,
    deck: &crate::config::Deck,
    input: &crate::io::HarmonicInput,
    temperatures: &[f64],
    cutoff: f64,
) -> Result<KappaSeries> {
    let mut options = a.transport.kappa_options(
        input.primitive(),
        [1, 1, 1],
        temperatures.to_vec(),
        cutoff,
        false,
    )?;
    // The three-phonon resume key leaves the fc4 out (adding --fc4 to a finished series reuses
    // its linewidths); the four-phonon files carry the fc4's identity in their own key.
    options.four_phonon = a
        .four_phonon
        .settings(input, &a.transport, a.fc3_layout.fc3_cell.as_deref())?
        .map(|(s, _)| s);
    let mut deltas = vec![options.delta];
    if let Some(s) = &a.smearing_series {
        deltas.extend(
            series_values(s, "--smearing-series")?
                .into_iter()
                .map(DeltaMethod::Gaussian),
        );
    }
    if let Some(s) = &a.adaptive_series {
        deltas.extend(
            series_values(s, "--adaptive-series")?
                .into_iter()
                .map(DeltaMethod::Adaptive),
        );
    }
    let mut seen = Vec::new();
    deltas.retain(|d| {
        let new = !seen.contains(d);
        seen.push(*d);
        new
    });
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let key = json!({
        "temperatures": temperatures, "cutoff_frequency": cutoff, "nac": !a.no_nac,
        "cell": abs(&deck.cell), "fc2": abs(&deck.fc2), "fc2_bytes": size(&deck.fc2),
        "fc3": a.fc3.as_deref().map(abs), "fc3_bytes": a.fc3.as_deref().map(size),
        "masses": deck.masses, "isotope": options.isotope, "boundary_mfp": options.boundary_mfp,
        "lbte": options.lbte,
    });
    Ok(KappaSeries {
        options,
        deltas,
        key,
    })
}

/// The common DOS grid: from min(0, f_min) to 1.1 f_max of the first mesh (finer meshes stay
/// within it unless they find lower or higher modes, which a coarse mesh rarely misses by 10 %).
fn dos_grid(
    dm: &crate::harmonic::dynmat::DynamicalMatrix,
    first: [usize; 3],
    step: f64,
) -> Result<Vec<f64>> {
    if !(step > 0.0 && step.is_finite()) {
        return Err(Error::input(format!(
            "--dos-step: expected a positive width in THz, found {step}"
        )));
    }
    let pts = crate::harmonic::phonons::solve_points(
        dm,
        &crate::harmonic::mesh::Mesh::gamma_centered(first).all_qpoints(),
        &Default::default(),
    )?;
    let f = pts.iter().flat_map(|p| p.frequencies.iter().copied());
    let (lo, hi) = f.fold((0.0f64, 0.0f64), |(a, b), x| (a.min(x), b.max(x)));
    let hi = 1.1 * hi + step;
    let n = ((hi - lo) / step).floor() as usize + 1;
    Ok((0..n).map(|i| lo + step * i as f64).collect())
}

/// Before each --auto mesh: stop when the estimated cost or memory would exceed the budget.
fn budget_check(
    a: &ConvergeArgs,
    ctx: &SeriesContext,
    fc3: Option<&crate::fc::fc3::Fc3>,
    n: &[usize; 3],
    done: &[MeshStep],
) -> Result<Option<String>> {
    let avail = crate::transport::plan::available_memory();
    let nb = ctx.dm.n_bands() as f64;
    let points = (n[0] * n[1] * n[2]) as f64;
    let (memory, core_seconds) = match (ctx.quantity, fc3, &ctx.kappa) {
        (Quantity::Kappa, Some(fc3), Some(k)) => {
            let km = crate::transport::job::kappa_mesh_with(ctx.dm.primitive(), &ctx.symmetry, *n)?;
            let opts = crate::transport::job::KappaOptions {
                mesh: *n,
                ..k.options.clone()
            };
            let p = crate::transport::plan::plan(
                &km,
                ctx.dm.n_bands(),
                fc3,
                &opts,
                rayon::current_num_threads(),
            );
            // Each extra δ method of a smearing series adds its accumulators, not its |V|².
            (
                p.memory_bytes,
                p.core_seconds * (1.0 + 0.25 * (k.deltas.len() - 1) as f64),
            )
        }
        // Harmonic quantities hold at most every point of the mesh with its eigenvectors.
        _ => (20e6 + points * nb * (16.0 * nb + 8.0), 0.0),
    };
    if avail.is_some_and(|m| memory > m) {
        return Ok(Some(format!(
            "memory: mesh {} needs ≈ {:.1} GB, {:.1} GB available",
            fmt_mesh(*n),
            memory / 1e9,
            avail.unwrap_or(0.0) / 1e9
        )));
    }
    if ctx.quantity == Quantity::Kappa {
        let spent: f64 =
            done.iter().map(|s| s.seconds).sum::<f64>() * rayon::current_num_threads() as f64;
        if spent + core_seconds > a.max_core_seconds {
            return Ok(Some(format!(
                "cost: mesh {} would take the series to ≈ {:.0} core-seconds (--max-core-seconds {})",
                fmt_mesh(*n),
                spent + core_seconds,
                a.max_core_seconds
            )));
        }
    }
    Ok(None)
}

/// The few numbers printed per mesh.
fn headline(quantity: Quantity, s: &MeshStep) -> String {
    let pick = |prefixes: &[&str]| -> String {
        s.scalars
            .iter()
            .filter(|x| prefixes.iter().any(|p| x.name.starts_with(p)))
            .take(6)
            .map(|x| format!("{} = {:.6}", x.name, x.value))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match quantity {
        Quantity::Kappa => pick(&["kappa_total xx", "kappa_total zz", "kappa_c xx"]),
        Quantity::Adp => pick(&["U_iso"]),
        Quantity::Thermal => pick(&["Cv", "S "]),
        Quantity::Dos => pick(&["mean frequency", "rms frequency"]),
    }
}

/// converge.json, converge.csv, converge_limits.csv and (when `plots`) the plots; returns the
/// verdict.
fn write_outputs(
    a: &ConvergeArgs,
    ctx: &SeriesContext,
    steps: &[MeshStep],
    outcome: &SeriesOutcome,
    tolerance: f64,
    t0: std::time::Instant,
    plots: bool,
) -> Result<Verdict> {
    let (reports, verdict) = analyse(steps, tolerance, a.fit_last);
    let (dos_changes, verdict) = match ctx.quantity {
        Quantity::Dos => {
            let (c, v) = analyse_dos(steps, tolerance);
            (Some(c), v)
        }
        _ => (None, verdict),
    };
    let smearing = smearing_series(ctx, steps, tolerance, a.fit_last);
    let meshes: Vec<serde_json::Value> = steps
        .iter()
        .map(|s| {
            let values: serde_json::Map<String, serde_json::Value> = s
                .scalars
                .iter()
                .map(|x| (x.name.clone(), json!(x.value)))
                .collect();
            json!({"mesh": s.mesh, "n_q": s.mesh.iter().product::<usize>(), "n_irreducible": s.n_irreducible,
                   "seconds": s.seconds, "values": values, "detail": s.detail})
        })
        .collect();
    let (reused, solved) = ctx.cache.counts();
    write_json(
        &a.out.join("converge.json"),
        &json!({
            "quantity": ctx.quantity, "tolerance": tolerance, "temperatures": ctx.temperatures,
            "cutoff_frequency": ctx.cutoff_frequency, "nac": ctx.dm.has_nac(),
            "meshes": meshes,
            "scalars": reports,
            "verdict": verdict,
            "outcome": outcome,
            "smearing_series": smearing,
            "dos": dos_changes.as_ref().map(|c| json!({
                "frequency_points": ctx.dos_points,
                "total_dos": steps.iter().map(|s| s.dos.clone()).collect::<Vec<_>>(),
                "change_from_previous_mesh": c,
                "method": format!("{:?}", ctx.dos_method)})),
            "phonon_points": {"reused": reused, "solved": solved},
            "wall_time_s": t0.elapsed().as_secs_f64(),
            "units": {"kappa": "W/(m K)", "U": "angstrom^2 (Cartesian)", "Cv": "J/K/mol", "S": "J/K/mol",
                      "F": "kJ/mol", "zero-point energy": "kJ/mol", "frequency": "THz",
                      "extrapolation": "y(N) = limit + slope N^(-exponent), N = q-points of the mesh"},
        }),
    )?;
    write_tables(&a.out, steps, &reports)?;
    if plots && !steps.is_empty() {
        write_plots(&a.out, ctx, steps, &reports, dos_changes.is_some())?;
    }
    Ok(verdict)
}

/// κ_TOT of every extra δ method of a κ series, per mesh, with its own extrapolation.
fn smearing_series(
    ctx: &SeriesContext,
    steps: &[MeshStep],
    tolerance: f64,
    fit_last: Option<usize>,
) -> serde_json::Value {
    let Some(k) = &ctx.kappa else {
        return serde_json::Value::Null;
    };
    if k.deltas.len() < 2 {
        return serde_json::Value::Null;
    }
    let methods: Vec<serde_json::Value> = k
        .deltas
        .iter()
        .enumerate()
        .map(|(d, delta)| {
            // The series of this δ method: each mesh with its scalars in place of the main ones.
            let as_steps: Vec<MeshStep> = steps
                .iter()
                .map(|s| MeshStep {
                    scalars: match d {
                        0 => s.scalars.clone(),
                        d => s.smearing_scalars[d - 1].clone(),
                    },
                    ..s.clone()
                })
                .collect();
            let (reports, verdict) = analyse(&as_steps, tolerance, fit_last);
            let limits: Vec<&ScalarReport> = reports
                .iter()
                .filter(|r| r.name.starts_with("kappa_total") && r.judged)
                .collect();
            json!({"delta": delta_json(*delta), "kappa_total_limits": limits, "verdict": verdict})
        })
        .collect();
    json!(methods)
}

/// converge.csv (one row per mesh: n1 n2 n3 N_q irreducible seconds, then every scalar) and
/// converge_limits.csv (one row per scalar: limit, uncertainty, first mesh within tolerance).
fn write_tables(out: &Path, steps: &[MeshStep], reports: &[ScalarReport]) -> Result<()> {
    let mut header: Vec<String> = ["n1", "n2", "n3", "n_q", "n_irreducible", "seconds"]
        .map(String::from)
        .to_vec();
    header.extend(reports.iter().map(|r| r.name.replace(' ', "_")));
    let rows: Vec<Vec<f64>> = steps
        .iter()
        .map(|s| {
            let mut r: Vec<f64> = s.mesh.iter().map(|&x| x as f64).collect();
            r.extend([
                s.mesh.iter().product::<usize>() as f64,
                s.n_irreducible as f64,
                s.seconds,
            ]);
            r.extend(s.scalars.iter().map(|x| x.value));
            r
        })
        .collect();
    crate::output::write_csv(&out.join("converge.csv"), &header, &rows)?;
    let mut text = String::from(
        "name,limit,uncertainty,fit_error,model_spread,exponent,tolerance,first_mesh_within,converged,judged\n",
    );
    for r in reports {
        let e = r.extrapolation.as_ref();
        let num = |f: &dyn Fn(&crate::converge::extrapolate::Extrapolation) -> f64| {
            e.map_or(String::new(), |e| format!("{:.10e}", f(e)))
        };
        text.push_str(&format!(
            "{},{},{},{},{},{},{:.4e},{},{},{}\n",
            r.name.replace(' ', "_"),
            num(&|e| e.limit),
            num(&|e| e.uncertainty),
            num(&|e| e.fit_error),
            num(&|e| e.model_spread),
            num(&|e| e.exponent),
            r.tolerance,
            r.first_mesh_within
                .map_or(String::new(), |n| format!("{}x{}x{}", n[0], n[1], n[2])),
            r.converged,
            r.judged
        ));
    }
    let path = out.join("converge_limits.csv");
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
}

/// The value of each named scalar against N^(−p) with its fit line and the limit's band.
fn series_plot(
    steps: &[MeshStep],
    reports: &[ScalarReport],
    names: &[(String, String)],
    y_label: &str,
) -> XyPlot {
    let mut plot = XyPlot {
        x_label:
            "N_q^(−p)  (N_q = q-points of the mesh; p = 1 for κ and C_v, 1/3 for ADPs at T > 0)"
                .into(),
        y_label: y_label.into(),
        ..Default::default()
    };
    for (name, legend) in names {
        let Some(r) = reports.iter().find(|r| r.name == *name) else {
            continue;
        };
        let law = r.extrapolation.as_ref().map_or(
            crate::converge::extrapolate::Exponent::INVERSE_N,
            |e| crate::converge::extrapolate::Exponent {
                power: e.exponent,
                log: e.log,
            },
        );
        let x: Vec<f64> = steps
            .iter()
            .map(|s| law.x(s.mesh.iter().product::<usize>() as f64))
            .collect();
        plot.markers.push((
            legend.clone(),
            x.iter().copied().zip(r.values.iter().copied()).collect(),
        ));
        if let Some(e) = &r.extrapolation {
            let xmax = x.iter().copied().fold(0.0, f64::max);
            plot.lines.push((
                format!("{legend}: fit, limit {:.5} ± {:.5}", e.limit, e.uncertainty),
                vec![(0.0, e.limit), (xmax, e.limit + e.slope * xmax)],
            ));
            let w = 0.15 * xmax;
            plot.lines.push((
                format!("{legend}: limit ± uncertainty"),
                vec![
                    (0.0, e.limit + e.uncertainty),
                    (w, e.limit + e.uncertainty),
                    (w, e.limit - e.uncertainty),
                    (0.0, e.limit - e.uncertainty),
                ],
            ));
        }
    }
    plot
}

fn write_plots(
    out: &Path,
    ctx: &SeriesContext,
    steps: &[MeshStep],
    reports: &[ScalarReport],
    dos: bool,
) -> Result<()> {
    if dos {
        let lines = steps
            .iter()
            .filter_map(|s| {
                s.dos.as_ref().map(|g| {
                    (
                        fmt_mesh(s.mesh),
                        ctx.dos_points
                            .iter()
                            .copied()
                            .zip(g.iter().copied())
                            .collect(),
                    )
                })
            })
            .collect();
        return plot_xy(
            &out.join("converge_dos"),
            &XyPlot {
                x_label: "Frequency (THz)".into(),
                y_label: "DOS (states/THz per primitive cell)".into(),
                markers: vec![],
                lines,
            },
        );
    }
    for t in &ctx.temperatures {
        let (names, y_label): (Vec<(String, String)>, &str) = match ctx.quantity {
            Quantity::Kappa => {
                let anisotropic = reports
                    .iter()
                    .find(|r| r.name == format!("kappa_total zz {t}K"))
                    .zip(
                        reports
                            .iter()
                            .find(|r| r.name == format!("kappa_total xx {t}K")),
                    )
                    .is_some_and(|(z, x)| {
                        let (z, x) = (
                            z.values.last().unwrap_or(&0.0),
                            x.values.last().unwrap_or(&0.0),
                        );
                        (z - x).abs() > 1e-3 * x.abs()
                    });
                let comps: &[&str] = if anisotropic { &["xx", "zz"] } else { &["xx"] };
                let mut v = Vec::new();
                for c in comps {
                    for (l, legend) in [
                        ("kappa_p", "κ_P"),
                        ("kappa_c", "κ_C"),
                        ("kappa_total", "κ_TOT"),
                    ] {
                        if l == "kappa_c" && !ctx.kappa.as_ref().is_some_and(|k| k.options.wigner) {
                            continue;
                        }
                        v.push((format!("{l} {c} {t}K"), format!("{legend} {c}")));
                    }
                }
                (v, "κ (W/m·K)")
            }
            Quantity::Adp => {
                let v = reports
                    .iter()
                    .filter(|r| r.name.starts_with("U_iso") && r.name.ends_with(&format!(" {t}K")))
                    .map(|r| (r.name.clone(), r.name.replace(&format!(" {t}K"), "")))
                    .collect();
                (v, "U_iso (Å²)")
            }
            Quantity::Thermal => {
                let v = reports
                    .iter()
                    .filter(|r| r.name == format!("Cv {t}K"))
                    .map(|r| (r.name.clone(), "C_v".to_string()))
                    .collect();
                (v, "C_v (J/K/mol)")
            }
            Quantity::Dos => unreachable!("handled above"),
        };
        if names.is_empty() {
            continue;
        }
        plot_xy(
            &out.join(format!("converge_{t}K")),
            &series_plot(steps, reports, &names, y_label),
        )?;
        if let Some(k) = ctx.kappa.as_ref().filter(|k| k.deltas.len() > 1) {
            // κ_TOT xx against σ (Gaussian members of the series), one curve per mesh.
            let it = ctx.temperatures.iter().position(|x| x == t).unwrap_or(0);
            let lines = steps
                .iter()
                .map(|s| {
                    let pts = k
                        .deltas
                        .iter()
                        .enumerate()
                        .filter_map(|(d, delta)| match delta {
                            DeltaMethod::Gaussian(sigma) | DeltaMethod::Adaptive(sigma) => Some((
                                *sigma,
                                s.detail["by_delta"][d]["kappa_total"][it][0]
                                    .as_f64()
                                    .unwrap_or(0.0),
                            )),
                            DeltaMethod::Tetrahedron => None,
                        })
                        .collect();
                    (fmt_mesh(s.mesh), pts)
                })
                .collect();
            plot_xy(
                &out.join(format!("converge_smearing_{t}K")),
                &XyPlot {
                    x_label: "σ (THz) or adaptive scalebroad".into(),
                    y_label: "κ_TOT xx (W/m·K)".into(),
                    markers: vec![],
                    lines,
                },
            )?;
        }
    }
    Ok(())
}
