//! The harmonic job behind `latdyn run` and `latdyn phonons`: reads the inputs named by a deck,
//! runs every stage it asks for, and writes the output folder.

use crate::config::Deck;
use crate::crystal::symmetry::Symmetry;
use crate::error::{Error, Result};
use crate::harmonic::bands::{BandPath, band_structure};
use crate::harmonic::dos::{DosMethod, mesh_dos};
use crate::harmonic::heat_capacity_fit::{FitOptions, fit_debye_einstein};
use crate::harmonic::mesh::Mesh;
use crate::harmonic::phonons::{PhononPoint, SolveOptions, solve_points};
use crate::harmonic::thermo::{heat_capacity_from_dos, thermal_properties};
use crate::io::{CellOptions, HarmonicInput, load_harmonic};
use crate::output::{self, phonopy_style, plots, write_json};
use serde_json::json;
use std::path::Path;
use std::time::Instant;

pub fn cell_options(deck: &Deck) -> Result<CellOptions> {
    Ok(CellOptions {
        supercell_matrix: deck.supercell_matrix()?,
        primitive_matrix: deck.primitive_matrix()?,
        masses: deck.masses.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        enforce_asr: deck.enforce_asr,
    })
}

pub fn load(deck: &Deck) -> Result<HarmonicInput> {
    load_harmonic(
        &deck.cell,
        &deck.fc2,
        deck.born.as_deref(),
        &cell_options(deck)?,
    )
}

fn phonons_json(points: &[PhononPoint], weights: Option<&[usize]>) -> Result<serde_json::Value> {
    for p in points {
        output::finite("frequencies", p.frequencies.iter().copied())?;
        if let Some(v) = &p.group_velocities {
            output::finite("group velocities", v.iter().flatten().copied())?;
        }
    }
    let mut v = json!({
        "qpoints": points.iter().map(|p| p.q).collect::<Vec<_>>(),
        "frequencies": points.iter().map(|p| &p.frequencies).collect::<Vec<_>>(),
        "group_velocities": points.iter().map(|p| p.group_velocities.clone().unwrap_or_default()).collect::<Vec<_>>(),
        "units": {"qpoints": "reduced coordinates of the primitive reciprocal basis", "frequencies": "THz", "group_velocities": "THz*angstrom"},
    });
    if let Some(w) = weights {
        v["weights"] = json!(w);
    }
    Ok(v)
}

fn phonons_csv(path: &Path, points: &[PhononPoint]) -> Result<()> {
    let nb = points.first().map(|p| p.frequencies.len()).unwrap_or(0);
    let mut header = vec![
        "qx".to_string(),
        "qy".into(),
        "qz".into(),
        "band".into(),
        "frequency_THz".into(),
    ];
    header.extend(["vx", "vy", "vz"].iter().map(|s| format!("{s}_THzA")));
    let rows: Vec<Vec<f64>> = points
        .iter()
        .flat_map(|p| {
            (0..nb).map(move |b| {
                let v = p
                    .group_velocities
                    .as_ref()
                    .map(|v| v[b])
                    .unwrap_or([0.0; 3]);
                vec![
                    p.q[0],
                    p.q[1],
                    p.q[2],
                    (b + 1) as f64,
                    p.frequencies[b],
                    v[0],
                    v[1],
                    v[2],
                ]
            })
        })
        .collect();
    output::write_csv(path, &header, &rows)
}

/// Runs the harmonic job and writes DIR (= deck.output). Returns the summary also written to
/// DIR/summary.json.
pub fn run_harmonic(deck: &Deck, progress: bool) -> Result<serde_json::Value> {
    let t0 = Instant::now();
    let out = deck.output.clone().unwrap_or_else(|| "out".into());
    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    let input = load(deck)?;
    let prim = input.primitive().clone();
    let with_nac = deck.nac.unwrap_or(true) && input.born.is_some();
    let dm = input.dynamical_matrix(with_nac)?;
    let sym = Symmetry::new(&prim, 1e-5)?;
    let rotations = sym.reciprocal_rotations();
    let mut summary = json!({
        "structure": {"formula": prim.formula(), "n_atoms_primitive": prim.n_atoms(), "space_group": format!("{} ({})", sym.symbol.trim(), sym.number),
                       "volume_primitive_A3": prim.volume()},
        "fc2": {"file": input.fc2_path, "format": input.fc2_format, "supercell_atoms": input.structure.fc2_supercell.n_atoms(),
                "asr_violation_eV_per_A2": input.asr_violation, "asr_enforced": input.asr_enforced, "range_A": input.fc2.range(&prim)},
        "nac": with_nac,
        "outputs": [],
    });
    let mut outputs: Vec<String> = Vec::new();
    // The mesh and its full-grid frequencies, kept for the heat-capacity fit.
    let mut mesh_modes: Option<(Mesh, Vec<f64>)> = None;
    let base_opts = SolveOptions {
        group_velocities: true,
        rotations: rotations.clone(),
        q_direction: deck.q_direction,
        progress,
        ..Default::default()
    };
    if let Some(qs) = &deck.qpoints {
        let pts = solve_points(&dm, qs, &base_opts)?;
        write_json(&out.join("phonons.json"), &phonons_json(&pts, None)?)?;
        phonons_csv(&out.join("phonons.csv"), &pts)?;
        outputs.extend(["phonons.json".into(), "phonons.csv".into()]);
        let lowest = pts
            .iter()
            .flat_map(|p| p.frequencies.iter().copied())
            .fold(f64::INFINITY, f64::min);
        summary["qpoints"] = json!({"count": pts.len(), "lowest_frequency_THz": lowest});
    }
    if let Some(n) = deck.mesh {
        if n.contains(&0) {
            return Err(Error::input(format!(
                "mesh {n:?}: every division must be at least 1"
            )));
        }
        let mesh = Mesh::new(n, deck.mesh_shift.unwrap_or([false; 3]));
        let ir = mesh.irreducible(&rotations);
        let pts = solve_points(&dm, &ir.qpoints, &base_opts)?;
        if deck.qpoints.is_none() {
            write_json(
                &out.join("phonons.json"),
                &phonons_json(&pts, Some(&ir.weights))?,
            )?;
            phonons_csv(&out.join("phonons.csv"), &pts)?;
            outputs.extend(["phonons.json".into(), "phonons.csv".into()]);
        }
        let n_imag = pts
            .iter()
            .flat_map(|p| p.frequencies.iter())
            .filter(|f| **f < -1e-3)
            .count();
        // Thermodynamics on the irreducible points.
        let temps = deck
            .temperatures
            .clone()
            .unwrap_or_else(|| (0..=100).map(|i| 10.0 * i as f64).collect());
        let freqs: Vec<Vec<f64>> = pts.iter().map(|p| p.frequencies.clone()).collect();
        let w: Vec<f64> = ir.weights.iter().map(|&x| x as f64).collect();
        let tp = thermal_properties(&freqs, &w, &temps, deck.cutoff_frequency.unwrap_or(0.01));
        output::finite(
            "thermal properties",
            tp.free_energy
                .iter()
                .chain(&tp.entropy)
                .chain(&tp.heat_capacity)
                .copied(),
        )?;
        write_json(
            &out.join("thermal.json"),
            &json!({"temperatures": tp.temperatures, "heat_capacity": tp.heat_capacity, "free_energy": tp.free_energy, "entropy": tp.entropy,
                    "zero_point_energy": tp.zero_point_energy, "cutoff_frequency": tp.cutoff_frequency,
                    "units": {"temperatures": "K", "heat_capacity": "J/K/mol", "free_energy": "kJ/mol", "entropy": "J/K/mol", "per": "mole of primitive cells"}}),
        )?;
        let rows: Vec<Vec<f64>> = (0..temps.len())
            .map(|i| {
                vec![
                    temps[i],
                    tp.free_energy[i],
                    tp.entropy[i],
                    tp.heat_capacity[i],
                ]
            })
            .collect();
        output::write_csv(
            &out.join("thermal.csv"),
            &[
                "T_K".into(),
                "F_kJ_per_mol".into(),
                "S_J_per_K_mol".into(),
                "Cv_J_per_K_mol".into(),
            ],
            &rows,
        )?;
        outputs.extend(["thermal.json".into(), "thermal.csv".into()]);
        // DOS on the full mesh (projections change under rotations, so no symmetry here).
        let full = solve_points(
            &dm,
            &mesh.all_qpoints(),
            &SolveOptions {
                eigenvectors: true,
                progress,
                ..Default::default()
            },
        )?;
        let fmax = full
            .iter()
            .flat_map(|p| p.frequencies.iter().copied())
            .fold(0.0, f64::max);
        let fmin = full
            .iter()
            .flat_map(|p| p.frequencies.iter().copied())
            .fold(0.0, f64::min);
        let step = deck.dos_step.unwrap_or(0.05);
        let [lo, hi] = deck
            .dos_range
            .unwrap_or([fmin.min(0.0), fmax * 1.05 + step]);
        if !(step > 0.0 && hi > lo) {
            return Err(Error::input(format!(
                "DOS grid: need dos_step > 0 and a non-empty range, found step {step}, range [{lo}, {hi}]"
            )));
        }
        let npts = ((hi - lo) / step).floor() as usize + 1;
        let fpts: Vec<f64> = (0..npts).map(|i| lo + step * i as f64).collect();
        let method = match deck.dos_method.as_deref().unwrap_or("tetrahedron") {
            "tetrahedron" => DosMethod::Tetrahedron,
            "gaussian" => DosMethod::Gaussian(deck.sigma.unwrap_or(0.1)),
            other => {
                return Err(Error::input(format!(
                    "dos_method: expected 'tetrahedron' or 'gaussian', found '{other}'"
                )));
            }
        };
        let dos = mesh_dos(&full, &mesh, &prim.reciprocal(), &fpts, method);
        output::finite("DOS", dos.total_dos.iter().copied())?;
        write_json(
            &out.join("dos.json"),
            &json!({"frequency_points": dos.frequency_points, "total_dos": dos.total_dos, "projected_dos": dos.projected_dos,
                    "projected_dos_xyz": dos.projected_dos_xyz, "method": format!("{method:?}"), "mesh": n,
                    "units": {"frequency_points": "THz", "total_dos": "states/THz per primitive cell"}}),
        )?;
        phonopy_style::write_dos_dat(&out, &dos)?;
        outputs.extend([
            "dos.json".into(),
            "total_dos.dat".into(),
            "projected_dos.dat".into(),
        ]);
        if deck.plots.unwrap_or(true) {
            let names: Vec<String> = prim
                .symbols
                .iter()
                .enumerate()
                .map(|(i, s)| format!("{s}{}", i + 1))
                .collect();
            plots::plot_dos(&out.join("dos"), &dos, &names)?;
            outputs.extend(["dos.svg".into(), "dos.png".into()]);
        }
        let cv300 = thermal_properties(&freqs, &w, &[300.0], deck.cutoff_frequency.unwrap_or(0.01))
            .heat_capacity[0];
        summary["mesh"] = json!({"mesh": n, "n_irreducible_q": ir.qpoints.len(), "n_imaginary_modes": n_imag,
                                 "max_frequency_THz": fmax, "heat_capacity_300K_J_per_K_mol": cv300});
        mesh_modes = Some((
            mesh.clone(),
            full.iter()
                .flat_map(|p| p.frequencies.iter().copied())
                .collect(),
        ));
    }
    if let Some(b) = &deck.band {
        let path = if b.trim() == "auto" {
            BandPath::default_for(&prim)
        } else {
            BandPath::parse(b)?
        };
        let bs = band_structure(&dm, &path, deck.band_points.unwrap_or(51))?;
        output::finite(
            "band frequencies",
            bs.frequencies.iter().flatten().flatten().copied(),
        )?;
        phonopy_style::write_band_yaml(&out.join("band.yaml"), &prim, &bs)?;
        write_json(
            &out.join("bands.json"),
            &serde_json::to_value(&bs).map_err(|e| Error::Numerical(e.to_string()))?,
        )?;
        outputs.extend(["band.yaml".into(), "bands.json".into()]);
        if deck.plots.unwrap_or(true) {
            plots::plot_bands(&out.join("band"), &bs)?;
            outputs.extend(["band.svg".into(), "band.png".into()]);
        }
    }
    if let Some(fit) = heat_capacity_stage(deck, &out, mesh_modes.as_ref(), &prim, &mut outputs)? {
        summary["heat_capacity_fit"] = fit;
    }
    summary["outputs"] = json!(outputs);
    summary["wall_time_s"] = json!(t0.elapsed().as_secs_f64());
    write_json(&out.join("summary.json"), &summary)?;
    Ok(summary)
}

/// The Debye + Einstein fit of C/T vs T² (physics.md §3), to a measured table
/// (`heat_capacity_data`) or, when only `einstein_terms` is set, to latdyn's own C_v on the
/// mesh. Writes heat_capacity_fit.json/.csv and a C/T vs T² plot; returns the summary entry.
fn heat_capacity_stage(
    deck: &Deck,
    out: &Path,
    mesh_modes: Option<&(Mesh, Vec<f64>)>,
    prim: &crate::crystal::Cell,
    outputs: &mut Vec<String>,
) -> Result<Option<serde_json::Value>> {
    if deck.heat_capacity_data.is_none() && deck.einstein_terms.is_none() {
        return Ok(None);
    }
    let range = deck.heat_capacity_fit_range;
    let (source, t, c, atoms, gamma) = match &deck.heat_capacity_data {
        Some(path) => {
            let rows = crate::io::text::read_columns(path, 2, "T (K) and C (J/K/mol)")?;
            let [lo, hi] = range.unwrap_or([f64::NEG_INFINITY, f64::INFINITY]);
            let (t, c): (Vec<f64>, Vec<f64>) = rows
                .iter()
                .map(|r| (r[0], r[1]))
                .filter(|(t, _)| *t >= lo && *t <= hi)
                .unzip();
            (
                path.display().to_string(),
                t,
                c,
                deck.heat_capacity_atoms.unwrap_or(1.0),
                deck.heat_capacity_gamma.unwrap_or(true),
            )
        }
        None => {
            let (mesh, freqs) = mesh_modes.ok_or_else(|| {
                Error::input(
                    "einstein_terms without heat_capacity_data fits the computed C_v: set `mesh` too",
                )
            })?;
            let [lo, hi] = range.unwrap_or([2.0, 40.0]);
            if !(lo > 0.0 && hi > lo) {
                return Err(Error::input(format!(
                    "heat_capacity_fit_range: need 0 < low < high, found [{lo}, {hi}]"
                )));
            }
            let n = ((hi - lo).floor() as usize).max(1);
            let t: Vec<f64> = (0..=n)
                .map(|i| lo + (hi - lo) * i as f64 / n as f64)
                .collect();
            // C_v from the tetrahedron DOS on a grid fine enough for k_BT/h at the lowest T
            // (a plain mesh sum misses the T³ law at a few kelvin).
            let nb = 3 * prim.n_atoms();
            let fmax = freqs.iter().copied().fold(0.0, f64::max);
            let fine = (crate::units::KB_EV * lo / crate::units::THZ_TO_EV / 20.0).min(0.01);
            let mut points: Vec<f64> = (0..)
                .map(|i| i as f64 * fine)
                .take_while(|f| *f < 1.0)
                .collect();
            points.extend(
                (0..)
                    .map(|i| 1.0 + i as f64 * 0.01)
                    .take_while(|f| *f <= fmax + 0.02),
            );
            let (g, _) = crate::harmonic::dos::dos(
                mesh,
                &prim.reciprocal(),
                freqs,
                nb,
                None,
                &points,
                DosMethod::Tetrahedron,
            );
            (
                "computed C_v (tetrahedron DOS)".to_string(),
                t.clone(),
                heat_capacity_from_dos(&points, &g, &t),
                deck.heat_capacity_atoms.unwrap_or(prim.n_atoms() as f64),
                deck.heat_capacity_gamma.unwrap_or(false),
            )
        }
    };
    let opts = FitOptions {
        einstein_terms: deck.einstein_terms.unwrap_or(1),
        fit_gamma: gamma,
        atoms_per_unit: atoms,
    };
    let fit = fit_debye_einstein(&t, &c, &opts)?;
    let model: Vec<f64> = t.iter().map(|t| fit.c_over_t(*t)).collect();
    let fit_json = serde_json::to_value(&fit).map_err(|e| Error::Numerical(e.to_string()))?;
    write_json(
        &out.join("heat_capacity_fit.json"),
        &json!({"source": source, "atoms_per_mole_unit": atoms, "fit": fit_json,
                "temperatures": t, "heat_capacity": c, "c_over_t": t.iter().zip(&c).map(|(t, c)| c / t).collect::<Vec<_>>(),
                "model_c_over_t": model,
                "units": {"temperatures": "K", "heat_capacity": "J/K/mol", "c_over_t": "J/K^2/mol", "gamma": "J/K^2/mol",
                          "beta": "J/K^4/mol", "amplitude": "J/K/mol", "debye_temperature": "K", "temperature": "K"}}),
    )?;
    let rows: Vec<Vec<f64>> = (0..t.len())
        .map(|i| vec![t[i], t[i] * t[i], c[i] / t[i], model[i]])
        .collect();
    output::write_csv(
        &out.join("heat_capacity_fit.csv"),
        &[
            "T_K".into(),
            "T2_K2".into(),
            "C_over_T_J_per_K2_mol".into(),
            "model_C_over_T".into(),
        ],
        &rows,
    )?;
    outputs.extend([
        "heat_capacity_fit.json".into(),
        "heat_capacity_fit.csv".into(),
    ]);
    if deck.plots.unwrap_or(true) {
        let t_max = t.iter().copied().fold(0.0, f64::max);
        let t_min = t.iter().copied().fold(f64::INFINITY, f64::min);
        let curve: Vec<(f64, f64)> = (0..=200)
            .map(|i| t_min + (t_max - t_min) * i as f64 / 200.0)
            .map(|t| (t * t, fit.c_over_t(t)))
            .collect();
        let plot = plots::XyPlot {
            x_label: "T² (K²)".into(),
            y_label: "C/T (J/K²/mol)".into(),
            markers: vec![("data".into(), rows.iter().map(|r| (r[1], r[2])).collect())],
            lines: vec![(format!("Debye + {} Einstein", opts.einstein_terms), curve)],
        };
        plots::plot_xy(&out.join("heat_capacity_fit"), &plot)?;
        outputs.extend([
            "heat_capacity_fit.svg".into(),
            "heat_capacity_fit.png".into(),
        ]);
    }
    Ok(Some(
        json!({"source": source, "debye_temperature_K": fit.debye_temperature,
                   "einstein": fit.einstein, "gamma": fit.gamma, "rms_residual": fit.rms_residual}),
    ))
}
