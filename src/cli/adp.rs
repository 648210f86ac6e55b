//! `latdyn adp`: harmonic atomic displacement parameters on a Γ-centred mesh (quantum and
//! classical), their CIF forms, ellipsoids and temperature analysis, a mesh-convergence series,
//! a CIF per temperature and adp.json (the stable machine-readable face).

use super::InputArgs;
use crate::adp::harmonic::{HarmonicAdps, harmonic_adps};
use crate::adp::temperature::{fit_linear, zero_point};
use crate::adp::tensor::{cart_to_cif, cif_to_beta, ellipsoid, u_iso, u_to_b};
use crate::crystal::Cell;
use crate::error::{Error, Result};
use crate::harmonic::mesh::Mesh;
use crate::linalg::Mat3;
use crate::output::plots::{XyPlot, plot_xy};
use crate::output::{write_csv, write_json};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;

/// An integer 3×3 supercell matrix.
type Supercell = [[i32; 3]; 3];

#[derive(Args, Debug)]
pub struct AdpArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Temperatures "0 300" (K).
    #[arg(long, default_value = "0 300")]
    pub temperatures: String,
    /// Modes at or below this frequency (THz) are left out (the acoustic modes at Γ).
    #[arg(long, default_value_t = 1e-3)]
    pub cutoff_frequency: f64,
    /// Switch the non-analytic correction off.
    #[arg(long)]
    pub no_nac: bool,
    /// Sum over the q-points commensurate with this supercell of the unit cell ("4 4 4" or 9
    /// integers) instead of a mesh: the modes an MD run in that supercell holds (compare with
    /// MD ADPs this way; Γ acoustic modes are left out, as a fixed centre of mass does).
    #[arg(long, conflicts_with = "mesh")]
    pub commensurate: Option<String>,
    /// Compare with MD ADPs: md_adp.json files of `latdyn md adp --temperature T` runs
    /// (comma-separated); harmonic ADPs are computed at their temperatures on this run's q-set.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub compare: Vec<PathBuf>,
    /// An experimental CIF (aniso U_ij or B_ij, or U_iso/B_iso) in the unit cell's setting.
    #[arg(long)]
    pub experiment: Option<PathBuf>,
    /// Temperature (K) of the experimental ADPs.
    #[arg(long, default_value_t = 300.0)]
    pub experiment_temperature: f64,
    /// No convergence series (meshes ½ and ¾ of --mesh) and no plots.
    #[arg(long)]
    pub quick: bool,
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
}

/// Every crystallographic form of one set of tensors [T][atom].
fn forms(cell: &Cell, u: &[Vec<Mat3>]) -> serde_json::Value {
    let per = |f: &dyn Fn(&Mat3) -> serde_json::Value| -> Vec<Vec<serde_json::Value>> {
        u.iter().map(|row| row.iter().map(f).collect()).collect()
    };
    let l = &cell.lattice;
    json!({
        "u_cif": per(&|x| json!(cart_to_cif(x, l))),
        "u_iso": per(&|x| json!(u_iso(x))),
        "b_cif": per(&|x| json!(u_to_b(&cart_to_cif(x, l)))),
        "beta": per(&|x| json!(cif_to_beta(&cart_to_cif(x, l), l))),
        "ellipsoids": per(&|x| json!(ellipsoid(x))),
    })
}

/// Per atom, the U_iso(T) fits and Einstein/Debye zero-point numbers of the classical tensors
/// (which are exactly ∝ T) — and of the quantum ones over T > 0 for comparison.
fn temperature_analysis(cell: &Cell, r: &HarmonicAdps) -> serde_json::Value {
    let pts: Vec<usize> = (0..r.temperatures.len())
        .filter(|&i| r.temperatures[i] > 0.0)
        .collect();
    let t: Vec<f64> = pts.iter().map(|&i| r.temperatures[i]).collect();
    let atoms: Vec<serde_json::Value> = (0..cell.n_atoms())
        .map(|k| {
            let series =
                |u: &[Vec<Mat3>]| -> Vec<f64> { pts.iter().map(|&i| u_iso(&u[i][k])).collect() };
            let fit = |u: &[Vec<Mat3>]| {
                fit_linear(&t, &series(u)).map(|f| {
                    let z = zero_point(f.slope_through_origin, cell.masses[k]);
                    json!({"fit": f, "zero_point": z})
                })
            };
            json!({"atom": k, "quantum": fit(&r.u_cart), "classical": fit(&r.u_cart_classical)})
        })
        .collect();
    json!(atoms)
}

pub fn run(a: &AdpArgs, progress: bool) -> Result<()> {
    let t0 = std::time::Instant::now();
    let deck = a.input.deck()?;
    let temperatures = super::kappa::parse_temperatures(&a.temperatures)?;
    if !(a.cutoff_frequency >= 0.0 && a.cutoff_frequency.is_finite()) {
        return Err(Error::input(format!(
            "--cutoff-frequency: expected a non-negative number of THz, found {}",
            a.cutoff_frequency
        )));
    }
    let input = crate::workflow::load(&deck)?;
    let dm = input.dynamical_matrix(!a.no_nac)?;
    let cell = input.primitive().clone();
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
    let run_mesh = |n: [usize; 3], temps: &[f64], bar: bool| {
        harmonic_adps(
            &dm,
            &Mesh::gamma_centered(n).all_qpoints(),
            temps,
            a.cutoff_frequency,
            bar,
        )
    };
    // The q-set: a Γ-centred mesh, or the points commensurate with an MD supercell.
    let commensurate = match &a.commensurate {
        Some(text) => {
            let m = crate::config::parse_supercell(&super::numbers(text, "--commensurate")?)?;
            let unit = &input.structure.unit_cell.lattice;
            let rows: Mat3 = std::array::from_fn(|r| {
                std::array::from_fn(|c| (0..3).map(|k| m[r][k] as f64 * unit[k][c]).sum())
            });
            let inv_p = crate::linalg::inverse(&cell.lattice).expect("validated lattice");
            let sp = crate::linalg::mat_mul(&rows, &inv_p);
            let sp = crate::linalg::to_integer(&sp, 1e-6).ok_or_else(|| {
                Error::input(format!(
                    "--commensurate {text}: that supercell is not a whole number of primitive cells"
                ))
            })?;
            Some((m, sp))
        }
        None => None,
    };
    let mesh = match (&commensurate, deck.mesh) {
        (Some(_), _) => None,
        (None, Some(m)) => Some(m),
        (None, None) => {
            return Err(Error::input(
                "latdyn adp needs --mesh \"n1 n2 n3\" or --commensurate \"s1 s2 s3\"",
            ));
        }
    };
    let res = match (&commensurate, mesh) {
        (Some((_, sp)), _) => harmonic_adps(
            &dm,
            &crate::adp::harmonic::commensurate_qpoints(sp)?,
            &temperatures,
            a.cutoff_frequency,
            progress,
        )?,
        (None, Some(m)) => run_mesh(m, &temperatures, progress)?,
        (None, None) => unreachable!("checked above"),
    };
    crate::output::finite(
        "U",
        res.u_cart
            .iter()
            .chain(&res.u_cart_classical)
            .flatten()
            .flatten()
            .flatten()
            .copied(),
    )?;
    // Convergence: the same ADPs on ½ and ¾ of the mesh (the acoustic modes near Γ make ADPs
    // converge slowly; the change between the last two meshes is the error estimate).
    // The U_iso(T) plot takes a dense temperature grid on the ¾ mesh, solved once together
    // with that mesh's convergence point.
    let tmax = temperatures.iter().copied().fold(300.0, f64::max);
    let plot_grid: Vec<f64> = (0..=40).map(|i| tmax * i as f64 / 40.0).collect();
    let mut plot_run = None;
    let mut convergence = Vec::new();
    if let (false, Some(mesh)) = (a.quick, mesh) {
        for frac in [0.5, 0.75] {
            let n = mesh.map(|x| ((x as f64 * frac).round() as usize).max(1));
            if n == mesh || convergence.iter().any(|(m, _)| *m == n) {
                continue;
            }
            if frac == 0.75 {
                let both = run_mesh(
                    n,
                    &[temperatures.clone(), plot_grid.clone()].concat(),
                    false,
                )?;
                let (conv, plot) = both.split_temperatures(temperatures.len());
                convergence.push((n, conv));
                plot_run = Some((n, plot));
            } else {
                convergence.push((n, run_mesh(n, &temperatures, false)?));
            }
        }
        if plot_run.is_none() {
            // Meshes too small for a ¾ step: plot the full mesh.
            plot_run = Some((mesh, run_mesh(mesh, &plot_grid, false)?));
        }
    }
    let iso_table = |u: &[Vec<Mat3>]| -> Vec<Vec<f64>> {
        u.iter()
            .map(|row| row.iter().map(u_iso).collect())
            .collect()
    };
    let conv_json: Vec<serde_json::Value> = convergence
        .iter()
        .map(|(n, r)| (Some(*n), r))
        .chain(std::iter::once((mesh, &res)))
        .map(|(n, r)| {
            json!({"mesh": n, "n_qpoints": r.n_qpoints, "u_iso": iso_table(&r.u_cart),
                   "u_iso_classical": iso_table(&r.u_cart_classical)})
        })
        .collect();
    // Largest relative change of U_iso between the two finest meshes, over atoms and T > 0.
    let change = convergence.last().map(|(n, r)| {
        let (x, y) = (iso_table(&r.u_cart), iso_table(&res.u_cart));
        let largest = x
            .iter()
            .flatten()
            .zip(y.iter().flatten())
            .map(|(p, q)| ((q - p) / q).abs())
            .fold(0.0, f64::max);
        (*n, largest)
    });
    let labels = crate::output::cif::site_labels(&cell);
    let atoms: Vec<serde_json::Value> = (0..cell.n_atoms())
        .map(|k| {
            json!({"symbol": cell.symbols[k], "label": labels[k],
                        "fractional": cell.positions[k], "mass": cell.masses[k]})
        })
        .collect();
    write_json(
        &a.out.join("adp.json"),
        &json!({
            "temperatures": temperatures,
            "mesh": mesh,
            "commensurate_supercell": commensurate.as_ref().map(|c| c.0),
            "n_qpoints": res.n_qpoints,
            "atoms": atoms,
            "lattice": cell.lattice,
            "u_cart": res.u_cart,
            "u_cart_classical": res.u_cart_classical,
            "u_cif": res.u_cart.iter().map(|row| row.iter().map(|u| cart_to_cif(u, &cell.lattice)).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "quantum": forms(&cell, &res.u_cart),
            "classical": forms(&cell, &res.u_cart_classical),
            "temperature_analysis": temperature_analysis(&cell, &res),
            "convergence": conv_json,
            "convergence_largest_change": change.map(|c| c.1),
            "cutoff_frequency": a.cutoff_frequency,
            "modes_skipped": res.modes_skipped,
            "lowest_frequency_used": res.lowest_frequency_used,
            "nac": dm.has_nac(),
            "units": {"u": "angstrom^2", "b": "angstrom^2", "beta": "dimensionless", "temperatures": "K",
                      "u_cif": "CIF basis (a·a*, b·b*, c·c*), as _atom_site_aniso_U_ij",
                      "ellipsoids": "principal mean-square displacements U1 ≤ U2 ≤ U3 (Å²), Cartesian unit axes, anisotropy U3/U1"},
            "wall_time_s": t0.elapsed().as_secs_f64(),
        }),
    )?;
    // One CIF per temperature (quantum ADPs).
    for (it, t) in temperatures.iter().enumerate() {
        let p = a.out.join(format!("adp_{t}K.cif"));
        let title = format!(
            "harmonic ADPs (quantum) at {t} K, {}",
            describe(mesh, &commensurate)
        );
        std::fs::write(
            &p,
            crate::output::cif::format_cif(&cell, &res.u_cart[it], &title),
        )
        .map_err(|e| Error::io(&p, e))?;
    }
    write_table(a, &cell, &res)?;
    if let Some((n, r)) = &plot_run {
        plot_vs_temperature(a, &labels, *n, r)?;
    }
    println!(
        "latdyn adp: {}, {} ({} q-points, {} modes at or below {} THz left out)",
        cell.formula(),
        describe(mesh, &commensurate),
        res.n_qpoints,
        res.modes_skipped,
        a.cutoff_frequency
    );
    for (it, t) in temperatures.iter().enumerate() {
        for (k, label) in labels.iter().enumerate() {
            let e = ellipsoid(&res.u_cart[it][k]);
            println!(
                "  T = {t:7.1} K  {label:>6}  U_iso = {:.6} Å² (classical {:.6})  U1 U2 U3 = {:.6} {:.6} {:.6}",
                u_iso(&res.u_cart[it][k]),
                u_iso(&res.u_cart_classical[it][k]),
                e.principal_values[0],
                e.principal_values[1],
                e.principal_values[2]
            );
        }
    }
    if let (Some((coarse, c)), Some(mesh)) = (change, mesh) {
        println!(
            "  mesh convergence: U_iso changes by {:.2} % from mesh {coarse:?} to {mesh:?}",
            100.0 * c
        );
    }
    if !a.compare.is_empty() || a.experiment.is_some() {
        let qpoints = match (&commensurate, mesh) {
            (Some((_, sp)), _) => crate::adp::harmonic::commensurate_qpoints(sp)?,
            (None, Some(m)) => Mesh::gamma_centered(m).all_qpoints(),
            (None, None) => unreachable!("checked above"),
        };
        let harmonic = |t: &[f64]| harmonic_adps(&dm, &qpoints, t, a.cutoff_frequency, false);
        let runs = a
            .compare
            .iter()
            .map(|p| super::adp_compare::read_md_run(p, &cell))
            .collect::<Result<Vec<_>>>()?;
        super::adp_compare::compare(
            &a.out,
            &cell,
            &input.structure.unit_cell,
            &labels,
            &runs,
            a.experiment
                .as_deref()
                .map(|p| (p, a.experiment_temperature)),
            &harmonic,
        )?;
    }
    println!(
        "  wrote {} in {:.2} s",
        a.out.join("adp.json").display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// "mesh 20×20×20" or "q-points commensurate with the [[4, 0, 0], …] supercell".
fn describe(mesh: Option<[usize; 3]>, commensurate: &Option<(Supercell, Supercell)>) -> String {
    match (mesh, commensurate) {
        (Some(m), _) => format!("mesh {}×{}×{}", m[0], m[1], m[2]),
        (None, Some((m, _))) => format!("q-points commensurate with the {m:?} supercell"),
        (None, None) => String::new(),
    }
}

/// adp.csv: one row per temperature and atom, Cartesian and CIF components, U_iso, ellipsoid.
fn write_table(a: &AdpArgs, cell: &Cell, r: &HarmonicAdps) -> Result<()> {
    let mut header: Vec<String> = vec!["temperature_K".into(), "atom".into(), "classical".into()];
    for form in ["cart", "cif"] {
        for c in ["11", "22", "33", "23", "13", "12"] {
            header.push(format!("U{c}_{form}"));
        }
    }
    header.extend(["U_iso", "U1", "U2", "U3", "anisotropy"].map(String::from));
    let mut rows = Vec::new();
    for (classical, u) in [(0.0, &r.u_cart), (1.0, &r.u_cart_classical)] {
        for (it, t) in r.temperatures.iter().enumerate() {
            for k in 0..cell.n_atoms() {
                let (x, y) = (u[it][k], cart_to_cif(&u[it][k], &cell.lattice));
                let e = ellipsoid(&x);
                let mut row = vec![*t, (k + 1) as f64, classical];
                for m in [x, y] {
                    row.extend([m[0][0], m[1][1], m[2][2], m[1][2], m[0][2], m[0][1]]);
                }
                row.push(u_iso(&x));
                row.extend(e.principal_values);
                row.push(if e.anisotropy.is_finite() {
                    e.anisotropy
                } else {
                    0.0
                });
                rows.push(row);
            }
        }
    }
    write_csv(&a.out.join("adp.csv"), &header, &rows)
}

/// adp_vs_T.svg/png: U_iso(T) of every atom, quantum and classical, from the ADPs `r` on mesh
/// `n` at a dense temperature grid (0 K to the highest requested temperature, at least 300 K).
fn plot_vs_temperature(
    a: &AdpArgs,
    labels: &[String],
    n: [usize; 3],
    r: &HarmonicAdps,
) -> Result<()> {
    let grid = &r.temperatures;
    let mut lines = Vec::new();
    for (k, label) in labels.iter().enumerate() {
        for (name, u) in [("quantum", &r.u_cart), ("classical", &r.u_cart_classical)] {
            lines.push((
                format!("{label} {name}"),
                grid.iter()
                    .zip(u.iter())
                    .map(|(t, row)| (*t, u_iso(&row[k])))
                    .collect(),
            ));
        }
    }
    plot_xy(
        &a.out.join("adp_vs_T"),
        &XyPlot {
            x_label: "Temperature (K)".into(),
            y_label: format!("U_iso (Å²), mesh {}×{}×{}", n[0], n[1], n[2]),
            markers: vec![],
            lines,
        },
    )
}
