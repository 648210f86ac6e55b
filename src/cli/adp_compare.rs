//! `latdyn adp --compare`: harmonic ADPs (quantum and classical, on the same q-set as the run)
//! against MD ADPs from `latdyn md adp` runs and an experimental CIF — per atom, components,
//! ratios, U_iso differences and the Whitten–Spackman S12 — plus the temperature analysis of
//! the MD runs (U = kT fits, Einstein/Debye zero point) and plots.

use crate::adp::harmonic::HarmonicAdps;
use crate::adp::temperature::{einstein_u, fit_linear, zero_point};
use crate::adp::tensor::{cart_to_cif, cif_to_cart, ellipsoid, similarity_s12, u_iso};
use crate::crystal::Cell;
use crate::error::{Error, Result};
use crate::linalg::{self, Mat3};
use crate::output::plots::{XyPlot, plot_xy};
use crate::output::{write_csv, write_json};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// One `latdyn md adp` run, mapped onto the primitive atoms.
pub struct MdRun {
    pub path: PathBuf,
    pub temperature: f64,
    /// By-atom U_cart per primitive atom (None where every atom migrated).
    pub u_cart: Vec<Option<Mat3>>,
    pub u_iso_std_err: Vec<Option<f64>>,
}

fn field<'a>(v: &'a Value, key: &str, path: &Path) -> Result<&'a Value> {
    v.get(key).filter(|x| !x.is_null()).ok_or_else(|| {
        Error::dataset(
            path,
            key,
            "missing in md_adp.json (written by an older latdyn?)",
        )
    })
}

fn mat3(v: &Value) -> Option<Mat3> {
    let rows = v.as_array()?;
    let mut m = [[0.0; 3]; 3];
    for (i, r) in rows.iter().enumerate().take(3) {
        for (j, x) in r.as_array()?.iter().enumerate().take(3) {
            m[i][j] = x.as_f64()?;
        }
    }
    Some(m)
}

/// Reads md_adp.json and averages its per-reference-atom U onto the primitive atoms: every
/// reference atom must be a lattice translation of one primitive atom (same Cartesian frame).
pub fn read_md_run(path: &Path, prim: &Cell) -> Result<MdRun> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        Error::parse(
            path,
            e.line(),
            format!("expected md_adp.json, found invalid JSON: {e}"),
        )
    })?;
    let temperature = field(&v, "temperature", path)
        .map_err(|_| {
            Error::dataset(
                path,
                "temperature",
                "no temperature recorded: run `latdyn md adp` with --temperature T",
            )
        })?
        .as_f64()
        .ok_or_else(|| Error::dataset(path, "temperature", "expected a number"))?;
    let lattice = mat3(field(&v, "reference_lattice", path)?)
        .ok_or_else(|| Error::dataset(path, "reference_lattice", "expected a 3×3 matrix"))?;
    let atoms = field(&v, "atoms", path)?
        .as_array()
        .cloned()
        .unwrap_or_default();
    let u = field(&v, "u_cart_by_atom", path)?
        .as_array()
        .cloned()
        .unwrap_or_default();
    let se = field(&v, "blocks", path)?["u_iso_std_err"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if u.len() != atoms.len() {
        return Err(Error::dataset(
            path,
            "u_cart_by_atom",
            format!("{} tensors for {} atoms", u.len(), atoms.len()),
        ));
    }
    let inv_p = linalg::inverse(&prim.lattice).expect("validated lattice");
    let mut sums = vec![([[0.0; 3]; 3], 0usize, 0.0f64); prim.n_atoms()];
    for (k, atom) in atoms.iter().enumerate() {
        let f = [0, 1, 2].map(|d| atom["fractional"][d].as_f64().unwrap_or(f64::NAN));
        let symbol = atom["symbol"].as_str().unwrap_or("");
        let cart = linalg::vec_mat(&f, &lattice);
        let g = linalg::vec_mat(&cart, &inv_p);
        let p = (0..prim.n_atoms()).find(|&p| {
            let d = linalg::sub(&g, &prim.positions[p]);
            let r = linalg::sub(&d, &d.map(f64::round));
            linalg::norm(&linalg::vec_mat(&r, &prim.lattice)) < 0.01 && prim.symbols[p] == symbol
        });
        let p = p.ok_or_else(|| {
            Error::dataset(path, "atoms", format!(
                "reference atom {} ({symbol} at {f:?}) is not a lattice translation of any primitive atom of the force-constant cell: the MD reference and the fc cell must share origin and orientation",
                k + 1
            ))
        })?;
        if let Some(m) = mat3(&u[k]) {
            for i in 0..3 {
                for j in 0..3 {
                    sums[p].0[i][j] += m[i][j];
                }
            }
            sums[p].1 += 1;
            sums[p].2 = sums[p]
                .2
                .max(se.get(k).and_then(Value::as_f64).unwrap_or(0.0));
        }
    }
    Ok(MdRun {
        path: path.to_path_buf(),
        temperature,
        u_cart: sums
            .iter()
            .map(|(s, n, _)| (*n > 0).then(|| s.map(|r| r.map(|x| x / *n as f64))))
            .collect(),
        u_iso_std_err: sums
            .iter()
            .map(|(_, n, e)| (*n > 0).then_some(*e))
            .collect(),
    })
}

/// One tensor against another: components, U_iso, ratio, difference and S12.
fn pair(a: &Mat3, b: &Mat3, lattice: &Mat3) -> Value {
    json!({
        "u_cart": [a, b], "u_cif": [cart_to_cif(a, lattice), cart_to_cif(b, lattice)],
        "u_iso": [u_iso(a), u_iso(b)], "u_iso_ratio": u_iso(a) / u_iso(b),
        "u_iso_difference": u_iso(a) - u_iso(b),
        "principal_values": [ellipsoid(a).principal_values, ellipsoid(b).principal_values],
        "s12": similarity_s12(a, b),
    })
}

/// Everything `--compare` writes. `harmonic(T)` gives the harmonic ADPs at a list of
/// temperatures on the run's q-set.
#[allow(clippy::too_many_arguments)]
pub fn compare(
    out: &Path,
    prim: &Cell,
    unit: &Cell,
    labels: &[String],
    runs: &[MdRun],
    experiment: Option<(&Path, f64)>,
    harmonic: &dyn Fn(&[f64]) -> Result<HarmonicAdps>,
) -> Result<()> {
    let l = &prim.lattice;
    let temps: Vec<f64> = runs.iter().map(|r| r.temperature).collect();
    let h = harmonic(&temps)?;
    let mut rows = Vec::new();
    let mut per_run = Vec::new();
    for (ir, run) in runs.iter().enumerate() {
        let atoms: Vec<Value> = (0..prim.n_atoms())
            .map(|p| match run.u_cart[p] {
                Some(md) => {
                    let (c, q) = (h.u_cart_classical[ir][p], h.u_cart[ir][p]);
                    for (src, u) in [(0.0, md), (1.0, c), (2.0, q)] {
                        let mut row = vec![run.temperature, (p + 1) as f64, src];
                        row.extend([u[0][0], u[1][1], u[2][2], u[1][2], u[0][2], u[0][1], u_iso(&u)]);
                        rows.push(row);
                    }
                    json!({"atom": labels[p], "md_vs_harmonic_classical": pair(&md, &c, l),
                           "md_vs_harmonic_quantum": pair(&md, &q, l),
                           "md_u_iso_block_std_err": run.u_iso_std_err[p]})
                }
                None => json!({"atom": labels[p], "md": null, "note": "every MD atom on this site migrated"}),
            })
            .collect();
        for p in 0..prim.n_atoms() {
            if let Some(md) = run.u_cart[p] {
                let c = h.u_cart_classical[ir][p];
                println!(
                    "  compare T = {:.1} K {:>6}: U_iso MD {:.6} ± {:.6}, harmonic classical {:.6} (MD/harmonic {:.4}), quantum {:.6}; S12(MD, classical) = {:.3}",
                    run.temperature,
                    labels[p],
                    u_iso(&md),
                    run.u_iso_std_err[p].unwrap_or(0.0),
                    u_iso(&c),
                    u_iso(&md) / u_iso(&c),
                    u_iso(&h.u_cart[ir][p]),
                    similarity_s12(&md, &c).unwrap_or(f64::NAN)
                );
            }
        }
        per_run.push(json!({"md_adp": run.path, "temperature": run.temperature, "atoms": atoms}));
    }
    // Temperature analysis of the MD runs (T > 0): U_iso and principal values vs T, fits and
    // the Einstein/Debye zero-point numbers; U(T) corrected for zero-point motion.
    let analysis: Vec<Value> = (0..prim.n_atoms())
        .map(|p| {
            let pts: Vec<(f64, Mat3)> = runs
                .iter()
                .filter(|r| r.temperature > 0.0)
                .filter_map(|r| r.u_cart[p].map(|u| (r.temperature, u)))
                .collect();
            let t: Vec<f64> = pts.iter().map(|x| x.0).collect();
            let series =
                |f: &dyn Fn(&Mat3) -> f64| pts.iter().map(|x| f(&x.1)).collect::<Vec<f64>>();
            let iso = series(&|u| u_iso(u));
            let fit = fit_linear(&t, &iso);
            let zp = fit
                .as_ref()
                .and_then(|f| zero_point(f.slope_through_origin, prim.masses[p]));
            let corrected: Option<Vec<f64>> = zp
                .as_ref()
                .map(|z| t.iter().map(|&x| einstein_u(z.u_low_t, z.t_c, x)).collect());
            let comps: Vec<Value> = (0..3)
                .map(|e| {
                    let s = series(&|u| ellipsoid(u).principal_values[e]);
                    json!({"values": s, "fit": fit_linear(&t, &s)})
                })
                .collect();
            json!({"atom": labels[p], "temperatures": t, "u_iso": iso, "fit": fit, "zero_point": zp,
                   "u_iso_with_zero_point": corrected, "principal_values": comps})
        })
        .collect();
    let exp = match experiment {
        Some((path, t)) => Some(compare_experiment(
            path, t, prim, unit, labels, runs, harmonic, &mut rows,
        )?),
        None => None,
    };
    write_json(
        &out.join("compare.json"),
        &json!({
            "runs": per_run,
            "temperature_analysis": analysis,
            "experiment": exp,
            "units": {"u": "angstrom^2", "pairs": "[first, second] = [MD or experiment, harmonic]; ratio and difference are first/second and first − second",
                      "s12": "Whitten–Spackman similarity index (0 for identical tensors)"},
            "harmonic_q_points": h.n_qpoints,
        }),
    )?;
    let mut header: Vec<String> = vec!["temperature_K".into(), "atom".into(), "source".into()];
    header.extend(["U11", "U22", "U33", "U23", "U13", "U12", "U_iso"].map(String::from));
    write_csv(&out.join("compare.csv"), &header, &rows)?;
    plot_u_vs_t(out, prim, labels, runs, harmonic)?;
    plot_principal(out, labels, runs, &h)
}

/// The CIF's ADPs on every primitive atom (matched by position in the unit cell, which must be
/// the CIF's cell setting) against harmonic ADPs at the CIF's temperature and an MD run there.
#[allow(clippy::too_many_arguments)]
fn compare_experiment(
    path: &Path,
    t: f64,
    prim: &Cell,
    unit: &Cell,
    labels: &[String],
    runs: &[MdRun],
    harmonic: &dyn Fn(&[f64]) -> Result<HarmonicAdps>,
    rows: &mut Vec<Vec<f64>>,
) -> Result<Value> {
    let cif = crate::io::cif_adp::read_cif_adps(path)?;
    let h = harmonic(&[t])?;
    let inv_u = linalg::inverse(&unit.lattice).expect("validated lattice");
    let md = runs.iter().find(|r| (r.temperature - t).abs() < 0.5);
    let atoms = (0..prim.n_atoms())
        .map(|p| {
            let frac = linalg::vec_mat(&prim.cartesian(p), &inv_u);
            let (site, u_cif) = cif.u_cif_at(&prim.symbols[p], &frac, 0.1).ok_or_else(|| {
                Error::input(format!(
                    "{}: no site of the CIF (or its symmetry images) sits on {} at fractional {frac:.4?} of the unit cell; the CIF must use the same cell setting and origin",
                    path.display(),
                    labels[p]
                ))
            })?;
            let u = cif_to_cart(&u_cif, &unit.lattice);
            let mut row = vec![t, (p + 1) as f64, 3.0];
            row.extend([u[0][0], u[1][1], u[2][2], u[1][2], u[0][2], u[0][1], u_iso(&u)]);
            rows.push(row);
            Ok(json!({"atom": labels[p], "cif_site": cif.sites[site].label, "isotropic_only": cif.sites[site].isotropic,
                      "vs_harmonic_quantum": pair(&u, &h.u_cart[0][p], &prim.lattice),
                      "vs_harmonic_classical": pair(&u, &h.u_cart_classical[0][p], &prim.lattice),
                      "vs_md": md.and_then(|m| m.u_cart[p]).map(|m| pair(&u, &m, &prim.lattice))}))
        })
        .collect::<Result<Vec<Value>>>()?;
    Ok(
        json!({"cif": path, "temperature": t, "md_run_at_this_temperature": md.map(|m| &m.path), "atoms": atoms}),
    )
}

/// compare_u_vs_T.svg/png: U_iso(T) per atom — harmonic quantum and classical curves, MD points
/// and the MD fit through the origin with its Einstein zero-point curve.
fn plot_u_vs_t(
    out: &Path,
    prim: &Cell,
    labels: &[String],
    runs: &[MdRun],
    harmonic: &dyn Fn(&[f64]) -> Result<HarmonicAdps>,
) -> Result<()> {
    let tmax = runs.iter().map(|r| r.temperature).fold(100.0, f64::max) * 1.1;
    let grid: Vec<f64> = (0..=40).map(|i| tmax * i as f64 / 40.0).collect();
    let h = harmonic(&grid)?;
    let mut lines = Vec::new();
    let mut markers = Vec::new();
    for p in 0..prim.n_atoms() {
        for (name, u) in [
            ("harmonic quantum", &h.u_cart),
            ("harmonic classical", &h.u_cart_classical),
        ] {
            lines.push((
                format!("{} {name}", labels[p]),
                grid.iter()
                    .zip(u)
                    .map(|(t, r)| (*t, u_iso(&r[p])))
                    .collect(),
            ));
        }
        let pts: Vec<(f64, f64)> = runs
            .iter()
            .filter_map(|r| r.u_cart[p].map(|u| (r.temperature, u_iso(&u))))
            .collect();
        let (t, u): (Vec<f64>, Vec<f64>) = pts.iter().filter(|x| x.0 > 0.0).cloned().unzip();
        if let Some(f) = fit_linear(&t, &u) {
            lines.push((
                format!("{} MD fit U = kT", labels[p]),
                grid.iter()
                    .map(|&x| (x, f.slope_through_origin * x))
                    .collect(),
            ));
            if let Some(z) = zero_point(f.slope_through_origin, prim.masses[p]) {
                lines.push((
                    format!("{} MD + Einstein zero point", labels[p]),
                    grid.iter()
                        .map(|&x| (x, einstein_u(z.u_low_t, z.t_c, x)))
                        .collect(),
                ));
            }
        }
        markers.push((format!("{} MD", labels[p]), pts));
    }
    plot_xy(
        &out.join("compare_u_vs_T"),
        &XyPlot {
            x_label: "Temperature (K)".into(),
            y_label: "U_iso (Å²)".into(),
            markers,
            lines,
        },
    )
}

/// compare_ellipsoids.svg/png: principal values U1 ≤ U2 ≤ U3 per atom at the highest MD
/// temperature, MD against harmonic classical and quantum (x: atom number + principal index/4).
fn plot_principal(out: &Path, labels: &[String], runs: &[MdRun], h: &HarmonicAdps) -> Result<()> {
    let Some((ir, run)) = runs
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.temperature.total_cmp(&b.1.temperature))
    else {
        return Ok(());
    };
    let points = |u: &dyn Fn(usize) -> Option<Mat3>| -> Vec<(f64, f64)> {
        (0..labels.len())
            .filter_map(|p| u(p).map(|m| (p, ellipsoid(&m).principal_values)))
            .flat_map(|(p, v)| {
                (0..3).map(move |e| ((p + 1) as f64 + 0.25 * (e as f64 - 1.0), v[e]))
            })
            .collect()
    };
    plot_xy(
        &out.join("compare_ellipsoids"),
        &XyPlot {
            x_label: format!(
                "Atom (1 = {}), principal values U1 U2 U3 at {} K",
                labels[0], run.temperature
            ),
            y_label: "Principal mean-square displacement (Å²)".into(),
            markers: vec![
                ("MD".into(), points(&|p| run.u_cart[p])),
                (
                    "harmonic classical".into(),
                    points(&|p| Some(h.u_cart_classical[ir][p])),
                ),
                (
                    "harmonic quantum".into(),
                    points(&|p| Some(h.u_cart[ir][p])),
                ),
            ],
            lines: vec![],
        },
    )
}
