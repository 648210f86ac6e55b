//! `latdyn sqe`: one-phonon coherent S(Q,E) for IXS and INS at a list of Q, along a Q path, on a
//! plane of Q, or powder-averaged; optional lineshapes (δ, Lorentzian, DHO with constant or
//! computed linewidths), energy and momentum resolution. Writes sqe.json (the stable
//! machine-readable face), sqe.csv, sqe.hdf5 and log-scale heat maps.

use super::{InputArgs, numbers, vec3};
use crate::adp::harmonic::harmonic_adps;
use crate::error::{Error, Result};
use crate::harmonic::mesh::Mesh;
use crate::linalg::{self, Vec3};
use crate::output::plots::{HeatMap, plot_heatmap};
use crate::output::{finite, write_csv, write_json};
use crate::scattering::factors::{Probe, amplitudes, parse_overrides};
use crate::scattering::lineshape::{EnergyGrid, Lineshape};
use crate::scattering::linewidths::{ComputedLinewidths, Linewidths};
use crate::scattering::powder::{fibonacci_directions, powder_spectrum, relative_difference};
use crate::scattering::resolution::Resolution;
use crate::scattering::spectra::{SpectrumSettings, spectrum_at_point};
use crate::scattering::sqe::{OnePhonon, QBasis, SqeModel};
use clap::Args;
use hdf5_pure::FileBuilder;
use rayon::prelude::*;
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct SqeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Q points "h k l; h k l; ..." (constant-Q scans).
    #[arg(long, allow_hyphen_values = true)]
    pub q: Option<String>,
    /// A Q path "h k l; h k l; ..." (corners joined by straight segments), e.g. "7 7 0; 7 6 0".
    #[arg(long, allow_hyphen_values = true)]
    pub path: Option<String>,
    /// Points per path segment.
    #[arg(long, default_value_t = 50)]
    pub path_steps: usize,
    /// A plane of Q "origin; u; v" (each h k l): the map covers origin + s·u + t·v, s, t ∈ [0, 1].
    #[arg(long, allow_hyphen_values = true)]
    pub plane: Option<String>,
    /// Grid of the plane map "ns nt".
    #[arg(long, default_value = "41 41")]
    pub plane_steps: String,
    /// Energy window "min max" (meV) integrated over in the plane map (both signs allowed).
    #[arg(long, allow_hyphen_values = true)]
    pub plane_energy: Option<String>,
    /// Powder average S(|Q|, E) on |Q| = "min max n" (Å⁻¹, 2π included); needs --energy.
    #[arg(long)]
    pub powder: Option<String>,
    /// Directions per |Q| in the powder average (the error estimate compares with half as many).
    #[arg(long, default_value_t = 400)]
    pub powder_samples: usize,
    /// Basis of the Q given: conventional (reciprocal-lattice units of --cell's unit cell),
    /// primitive, or cartesian (Å⁻¹, 2π included).
    #[arg(long, default_value = "conventional")]
    pub q_basis: String,
    /// Temperature (K) of the Bose factors and Debye–Waller factors.
    #[arg(long, default_value_t = 300.0)]
    pub temperature: f64,
    /// xray or neutron.
    #[arg(long, default_value = "xray")]
    pub probe: String,
    /// Per-species choice: X-ray form factor entry ("Cs=Cs1+ I=I1-") or neutron b_c in fm ("Si=4.1491").
    #[arg(long)]
    pub scattering: Option<String>,
    /// Leave out the Debye–Waller factors.
    #[arg(long)]
    pub no_debye_waller: bool,
    /// Modes at or below this frequency (THz) are left out of the weights and of the Debye–Waller sum.
    #[arg(long, default_value_t = 1e-3)]
    pub freq_min: f64,
    /// Switch the non-analytic correction off.
    #[arg(long)]
    pub no_nac: bool,
    /// Energy grid "min max step" (meV): write broadened spectra.
    #[arg(long, allow_hyphen_values = true)]
    pub energy: Option<String>,
    /// delta, lorentzian or dho.
    #[arg(long, default_value = "delta")]
    pub lineshape: String,
    /// Constant half width (HWHM, meV) of every mode for lorentzian/dho.
    #[arg(long, conflicts_with = "linewidths_from")]
    pub linewidth: Option<f64>,
    /// Computed linewidths: a kappa.json of `latdyn kappa` at --temperature (3ph, plus 4ph if present).
    #[arg(long)]
    pub linewidths_from: Option<PathBuf>,
    /// Energy resolution FWHM (meV): one value, or one per Q of --q (per analyzer).
    #[arg(long)]
    pub resolution: Option<String>,
    /// Lorentzian fraction η of a pseudo-Voigt resolution (default: Gaussian).
    #[arg(long)]
    pub pseudo_voigt_eta: Option<f64>,
    /// Gaussian momentum resolution FWHM (Å⁻¹).
    #[arg(long)]
    pub q_resolution: Option<f64>,
    /// Colour scale depth of the heat maps (decades below the maximum).
    #[arg(long, default_value_t = 4.0)]
    pub decades: f64,
    /// No plots.
    #[arg(long)]
    pub no_plots: bool,
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
}

fn q_list(text: &str, what: &str) -> Result<Vec<Vec3>> {
    let v: Vec<Vec3> = text
        .split(';')
        .filter(|s| !s.trim().is_empty())
        .map(|s| vec3(s, what))
        .collect::<Result<_>>()?;
    if v.is_empty() {
        return Err(Error::input(format!(
            "{what}: expected at least one 'h k l'"
        )));
    }
    Ok(v)
}

fn positive(x: f64, what: &str) -> Result<f64> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(Error::input(format!(
            "{what}: expected a positive number, found {x}"
        )))
    }
}

/// The Q points of a path and their cumulative distance (Å⁻¹).
fn path_points(
    corners: &[Vec3],
    steps: usize,
    to_cart: impl Fn(&Vec3) -> Vec3,
) -> Result<(Vec<Vec3>, Vec<f64>)> {
    if corners.len() < 2 || steps == 0 {
        return Err(Error::input(
            "--path: expected at least two 'h k l' corners and --path-steps ≥ 1",
        ));
    }
    let (mut pts, mut dist) = (vec![corners[0]], vec![0.0]);
    for w in corners.windows(2) {
        for i in 1..=steps {
            let t = i as f64 / steps as f64;
            let p: Vec3 = std::array::from_fn(|c| w[0][c] + t * (w[1][c] - w[0][c]));
            let d = linalg::norm(&linalg::sub(
                &to_cart(&p),
                &to_cart(pts.last().expect("non-empty")),
            ));
            dist.push(dist.last().expect("non-empty") + d);
            pts.push(p);
        }
    }
    Ok((pts, dist))
}

pub fn run(a: &SqeArgs, progress: bool) -> Result<()> {
    let t0 = std::time::Instant::now();
    let modes = [
        a.q.is_some(),
        a.path.is_some(),
        a.plane.is_some(),
        a.powder.is_some(),
    ];
    if modes.iter().filter(|m| **m).count() != 1 {
        return Err(Error::input(
            "latdyn sqe: give exactly one of --q, --path, --plane, --powder",
        ));
    }
    if !(a.temperature >= 0.0 && a.temperature.is_finite()) {
        return Err(Error::input(format!(
            "--temperature: expected T ≥ 0 K, found {}",
            a.temperature
        )));
    }
    if !(a.freq_min.is_finite() && a.freq_min >= 0.0) {
        return Err(Error::input(format!(
            "--freq-min: expected ≥ 0 THz, found {}",
            a.freq_min
        )));
    }
    let probe = Probe::parse(&a.probe)?;
    let basis = QBasis::parse(&a.q_basis)?;
    let shape = Lineshape::parse(&a.lineshape)?;
    let overrides = match &a.scattering {
        Some(s) => parse_overrides(s)?,
        None => Vec::new(),
    };
    let deck = a.input.deck()?;
    let dw_mesh = deck.mesh.unwrap_or([20, 20, 20]);
    let input = crate::workflow::load(&deck)?;
    let dm = input.dynamical_matrix(!a.no_nac && input.born.is_some())?;
    let prim = input.primitive().clone();
    let unit = input.structure.unit_cell.lattice;
    let to_prim = |q: &Vec3| basis.to_primitive(q, &unit, &prim.lattice);
    let to_cart = |q: &Vec3| linalg::scale(&prim.q_cartesian(&to_prim(q)), std::f64::consts::TAU);
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;

    // Debye–Waller: the harmonic U at the same temperature on a Γ-centred mesh.
    let u_cart = if a.no_debye_waller {
        None
    } else {
        let u = harmonic_adps(
            &dm,
            &Mesh::gamma_centered(dw_mesh).all_qpoints(),
            &[a.temperature],
            a.freq_min,
            progress,
        )?;
        Some(u.u_cart[0].clone())
    };
    let model = SqeModel {
        dm: &dm,
        amplitudes: amplitudes(&prim.symbols, probe, &overrides)?,
        u_cart: u_cart.clone(),
        temperature: a.temperature,
        freq_min: a.freq_min,
    };
    let grid = match &a.energy {
        Some(e) => {
            let v: Vec<f64> = numbers(e, "--energy")?;
            if v.len() != 3 {
                return Err(Error::input(format!(
                    "--energy: expected 'min max step' (meV), found '{e}'"
                )));
            }
            Some(EnergyGrid::new(v[0], v[1], v[2])?)
        }
        None => None,
    };
    let linewidths = match (&a.linewidth, &a.linewidths_from) {
        (Some(g), _) => Some(Linewidths::Constant(positive(*g, "--linewidth")?)),
        (None, Some(p)) => Some(Linewidths::Computed(ComputedLinewidths::read(
            p,
            &prim,
            a.temperature,
        )?)),
        (None, None) => None,
    };
    if shape != Lineshape::Delta && linewidths.is_none() {
        return Err(Error::input(format!(
            "--lineshape {}: give --linewidth HWHM_MEV or --linewidths-from kappa.json",
            a.lineshape
        )));
    }
    if let Some(q) = a.q_resolution {
        positive(q, "--q-resolution")?;
    }
    let resolutions: Vec<Resolution> = match &a.resolution {
        Some(r) => numbers::<f64>(r, "--resolution")?
            .into_iter()
            .map(|f| Resolution::new(f, a.pseudo_voigt_eta))
            .collect::<Result<_>>()?,
        None => Vec::new(),
    };
    let settings = grid.clone().map(|grid| SpectrumSettings {
        grid,
        shape,
        linewidths,
        q_resolution: a.q_resolution,
    });
    let common = json!({
        "temperature": a.temperature, "probe": probe, "q_basis": basis,
        "scattering": model.amplitudes.iter().map(|x| x.name().to_string()).collect::<Vec<_>>(),
        "debye_waller": u_cart.as_ref().map(|u| json!({"mesh": dw_mesh, "u_cart": u})),
        "freq_min": a.freq_min, "lineshape": shape, "resolution": resolutions,
        "q_resolution_fwhm": a.q_resolution,
    });

    if let Some(text) = &a.powder {
        return run_powder(
            a,
            text,
            &model,
            settings.as_ref(),
            resolutions.first(),
            common,
            progress,
            t0,
        );
    }
    if let Some(text) = &a.plane {
        return run_plane(a, text, &model, &to_prim, &to_cart, common, progress, t0);
    }
    let (qs, distance) = match (&a.q, &a.path) {
        (Some(t), _) => (q_list(t, "--q")?, None),
        (_, Some(t)) => {
            let (p, d) = path_points(&q_list(t, "--path")?, a.path_steps, to_cart)?;
            (p, Some(d))
        }
        _ => unreachable!("one mode checked above"),
    };
    if resolutions.len() > 1 && resolutions.len() != qs.len() {
        return Err(Error::input(format!(
            "--resolution: {} values for {} Q points (give one, or one per Q)",
            resolutions.len(),
            qs.len()
        )));
    }
    let reduced: Vec<Vec3> = qs.iter().map(&to_prim).collect();
    let points = model.at_all(&reduced, progress)?;
    let mut doc = one_phonon_json(&points, &qs, common)?;
    if let Some(d) = &distance {
        doc["path_distance"] = json!(d);
    }
    let mut spectra = None;
    if let Some(s) = &settings {
        let pb = crate::harmonic::phonons::progress_bar(qs.len() as u64, "spectra", progress);
        let sp: Vec<(Vec<f64>, f64)> = points
            .par_iter()
            .enumerate()
            .map(|(i, point)| {
                let r = resolutions.get(if resolutions.len() > 1 { i } else { 0 });
                let out = spectrum_at_point(&model, point, s, r);
                pb.inc(1);
                out
            })
            .collect::<Result<_>>()?;
        pb.finish_and_clear();
        let lost = sp.iter().map(|x| x.1).fold(0.0, f64::max);
        let values: Vec<Vec<f64>> = sp.into_iter().map(|x| x.0).collect();
        finite("spectra", values.iter().flatten().copied())?;
        doc["energies"] = json!(s.grid.energies());
        doc["spectra"] = json!(values);
        doc["resolution_lost_fraction"] = json!(lost);
        if let Some(Linewidths::Computed(c)) = &s.linewidths {
            doc["linewidths"] = json!({"from": c.path, "mesh": c.mesh.n,
                "largest_q_offset": *c.worst_offset.lock().map_err(|_| Error::Numerical("poisoned lock".into()))?});
        }
        spectra = Some(values);
    }
    doc["units"]["energies"] = json!("meV");
    doc["units"]["spectra"] =
        json!("intensity per meV (weights of `intensities` spread over energy)");
    write_json(&a.out.join("sqe.json"), &doc)?;
    write_mode_csv(&a.out.join("sqe.csv"), &points)?;
    write_hdf5(
        &a.out.join("sqe.hdf5"),
        &points,
        settings.as_ref().zip(spectra.as_ref()),
    )?;
    if let (Some(s), Some(values), false) = (&settings, &spectra, a.no_plots) {
        let x = distance
            .clone()
            .unwrap_or_else(|| (0..qs.len()).map(|i| i as f64).collect());
        plot_heatmap(
            &a.out.join("sqe_map"),
            &HeatMap {
                title: format!("S(Q,E), {} K, {}", a.temperature, a.probe),
                x_label: if distance.is_some() {
                    "path length (1/Å)".into()
                } else {
                    "Q index".into()
                },
                y_label: "E (meV)".into(),
                x,
                y: s.grid.energies(),
                z: values.clone(),
                decades: a.decades,
            },
        )?;
    }
    eprintln!(
        "sqe: {} Q points, {} bands, {} → {} ({:.1} s)",
        qs.len(),
        dm.n_bands(),
        a.probe,
        a.out.join("sqe.json").display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

fn one_phonon_json(
    points: &[OnePhonon],
    qs: &[Vec3],
    common: serde_json::Value,
) -> Result<serde_json::Value> {
    for p in points {
        finite(
            "intensities",
            p.stokes.iter().chain(&p.anti_stokes).copied(),
        )?;
        finite("frequencies", p.frequencies.iter().copied())?;
    }
    Ok(json!({
        "q": qs,
        "q_cartesian": points.iter().map(|p| p.q_cartesian).collect::<Vec<_>>(),
        "q_reduced_primitive": points.iter().map(|p| p.q_reduced).collect::<Vec<_>>(),
        "g_primitive": points.iter().map(|p| p.g).collect::<Vec<_>>(),
        "frequencies": points.iter().map(|p| &p.frequencies).collect::<Vec<_>>(),
        "intensities": points.iter().map(|p| &p.stokes).collect::<Vec<_>>(),
        "intensities_anti_stokes": points.iter().map(|p| &p.anti_stokes).collect::<Vec<_>>(),
        "settings": common,
        "units": {
            "q_cartesian": "1/angstrom (2 pi included)", "frequencies": "THz",
            "intensities": "one-phonon Stokes weight (n+1)/f |F|^2 on phonopy's DynamicStructureFactor scale (latdyn::units::SQE_SCALE); X-ray f in electrons, neutron b in fm",
            "intensities_anti_stokes": "weight at E = -h f, n/f |F|^2, same scale"
        }
    }))
}

fn write_mode_csv(path: &Path, points: &[OnePhonon]) -> Result<()> {
    let header: Vec<String> = [
        "iq",
        "Qx",
        "Qy",
        "Qz",
        "band",
        "frequency_THz",
        "energy_meV",
        "stokes",
        "anti_stokes",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<f64>> = points
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            (0..p.frequencies.len()).map(move |s| {
                vec![
                    i as f64,
                    p.q_cartesian[0],
                    p.q_cartesian[1],
                    p.q_cartesian[2],
                    (s + 1) as f64,
                    p.frequencies[s],
                    p.frequencies[s] * crate::units::THZ_TO_MEV,
                    p.stokes[s],
                    p.anti_stokes[s],
                ]
            })
        })
        .collect();
    write_csv(path, &header, &rows)
}

fn write_hdf5(
    path: &Path,
    points: &[OnePhonon],
    spectra: Option<(&SpectrumSettings, &Vec<Vec<f64>>)>,
) -> Result<()> {
    let nq = points.len() as u64;
    let nb = points.first().map(|p| p.frequencies.len()).unwrap_or(0) as u64;
    let mut b = FileBuilder::new();
    let mut put = |name: &str, data: Vec<f64>, shape: &[u64]| {
        b.create_dataset(name)
            .with_f64_data(&data)
            .with_shape(shape);
    };
    put(
        "q_cartesian",
        points.iter().flat_map(|p| p.q_cartesian).collect(),
        &[nq, 3],
    );
    put(
        "frequencies",
        points.iter().flat_map(|p| p.frequencies.clone()).collect(),
        &[nq, nb],
    );
    put(
        "intensities",
        points.iter().flat_map(|p| p.stokes.clone()).collect(),
        &[nq, nb],
    );
    put(
        "intensities_anti_stokes",
        points.iter().flat_map(|p| p.anti_stokes.clone()).collect(),
        &[nq, nb],
    );
    if let Some((s, v)) = spectra {
        put("energies", s.grid.energies(), &[s.grid.n as u64]);
        put(
            "spectra",
            v.iter().flatten().copied().collect(),
            &[nq, s.grid.n as u64],
        );
    }
    b.write(path)
        .map_err(|e| Error::dataset(path, "/", format!("cannot write: {e}")))
}

#[allow(clippy::too_many_arguments)]
fn run_plane(
    a: &SqeArgs,
    text: &str,
    model: &SqeModel,
    to_prim: &(dyn Fn(&Vec3) -> Vec3 + Sync),
    to_cart: &(dyn Fn(&Vec3) -> Vec3 + Sync),
    common: serde_json::Value,
    progress: bool,
    t0: std::time::Instant,
) -> Result<()> {
    let v = q_list(text, "--plane")?;
    if v.len() != 3 {
        return Err(Error::input(
            "--plane: expected 'origin; u; v' (three h k l)",
        ));
    }
    let steps: Vec<usize> = numbers(&a.plane_steps, "--plane-steps")?;
    if steps.len() != 2 || steps.iter().any(|&n| n < 2) {
        return Err(Error::input(
            "--plane-steps: expected 'ns nt', each at least 2",
        ));
    }
    let window: Vec<f64> = match &a.plane_energy {
        Some(w) => numbers(w, "--plane-energy")?,
        None => return Err(Error::input("--plane needs --plane-energy 'min max' (meV)")),
    };
    if window.len() != 2 || window[0].partial_cmp(&window[1]) != Some(std::cmp::Ordering::Less) {
        return Err(Error::input(
            "--plane-energy: expected 'min max' with min < max (meV)",
        ));
    }
    let (ns, nt) = (steps[0], steps[1]);
    let st: Vec<(f64, f64)> = (0..ns)
        .flat_map(|i| {
            (0..nt).map(move |j| (i as f64 / (ns - 1) as f64, j as f64 / (nt - 1) as f64))
        })
        .collect();
    let qs: Vec<Vec3> = st
        .iter()
        .map(|(s, t)| std::array::from_fn(|c| v[0][c] + s * v[1][c] + t * v[2][c]))
        .collect();
    let reduced: Vec<Vec3> = qs.iter().map(to_prim).collect();
    let points = model.at_all(&reduced, progress)?;
    // Intensity in the window: Stokes lines at +E_s, anti-Stokes at −E_s.
    let e = |f: f64| f * crate::units::THZ_TO_MEV;
    let inside = |x: f64| x >= window[0] && x <= window[1];
    let z: Vec<f64> = points
        .iter()
        .map(|p| {
            p.frequencies
                .iter()
                .enumerate()
                .map(|(s, &f)| {
                    (if inside(e(f)) { p.stokes[s] } else { 0.0 })
                        + (if inside(-e(f)) { p.anti_stokes[s] } else { 0.0 })
                })
                .sum()
        })
        .collect();
    finite("plane map", z.iter().copied())?;
    let (lu, lv) = (linalg::norm(&to_cart(&v[1])), linalg::norm(&to_cart(&v[2])));
    let s_axis: Vec<f64> = (0..ns).map(|i| i as f64 / (ns - 1) as f64).collect();
    let t_axis: Vec<f64> = (0..nt).map(|j| j as f64 / (nt - 1) as f64).collect();
    let grid: Vec<Vec<f64>> = (0..ns).map(|i| z[i * nt..(i + 1) * nt].to_vec()).collect();
    write_json(
        &a.out.join("sqe_plane.json"),
        &json!({"origin": v[0], "u": v[1], "v": v[2], "s": s_axis, "t": t_axis,
            "energy_window_meV": window, "intensity": grid,
            "q_cartesian": points.iter().map(|p| p.q_cartesian).collect::<Vec<_>>(),
            "settings": common,
            "units": {"intensity": "sum of one-phonon weights in the window (sqe.json scale); [s][t]",
                      "s": "fraction of u", "t": "fraction of v"}}),
    )?;
    if !a.no_plots {
        plot_heatmap(
            &a.out.join("sqe_plane"),
            &HeatMap {
                title: format!("S(Q), {}–{} meV, {} K", window[0], window[1], a.temperature),
                x_label: format!("s along u ({lu:.3} 1/Å)"),
                y_label: format!("t along v ({lv:.3} 1/Å)"),
                x: s_axis,
                y: t_axis,
                z: grid,
                decades: a.decades,
            },
        )?;
    }
    eprintln!(
        "sqe: plane map {ns}×{nt} → {} ({:.1} s)",
        a.out.join("sqe_plane.json").display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn run_powder(
    a: &SqeArgs,
    text: &str,
    model: &SqeModel,
    settings: Option<&SpectrumSettings>,
    resolution: Option<&Resolution>,
    common: serde_json::Value,
    progress: bool,
    t0: std::time::Instant,
) -> Result<()> {
    let s = settings.ok_or_else(|| Error::input("--powder needs --energy 'min max step' (meV)"))?;
    let v: Vec<f64> = numbers(text, "--powder")?;
    if v.len() != 3 || !(v[0] > 0.0 && v[1] >= v[0]) || v[2] < 1.0 || v[2].fract() != 0.0 {
        return Err(Error::input(
            "--powder: expected 'qmin qmax n' with 0 < qmin ≤ qmax (1/Å) and n ≥ 1",
        ));
    }
    let n = v[2] as usize;
    if a.powder_samples < 20 {
        return Err(Error::input("--powder-samples: at least 20 directions"));
    }
    let lengths: Vec<f64> = (0..n)
        .map(|i| {
            if n == 1 {
                v[0]
            } else {
                v[0] + (v[1] - v[0]) * i as f64 / (n - 1) as f64
            }
        })
        .collect();
    let (full, half) = (
        fibonacci_directions(a.powder_samples),
        fibonacci_directions(a.powder_samples / 2),
    );
    let pb = crate::harmonic::phonons::progress_bar(n as u64, "powder |Q|", progress);
    let rows: Vec<(Vec<f64>, f64)> = lengths
        .par_iter()
        .map(|&len| {
            let f = powder_spectrum(model, len, &full, s)?;
            let h = powder_spectrum(model, len, &half, s)?;
            let err = relative_difference(&f, &h);
            let f = match resolution {
                Some(r) => r.convolve(&f, s.grid.step).0,
                None => f,
            };
            pb.inc(1);
            Ok((f, err))
        })
        .collect::<Result<_>>()?;
    pb.finish_and_clear();
    let spectra: Vec<Vec<f64>> = rows.iter().map(|r| r.0.clone()).collect();
    let errors: Vec<f64> = rows.iter().map(|r| r.1).collect();
    finite("powder spectra", spectra.iter().flatten().copied())?;
    write_json(
        &a.out.join("sqe_powder.json"),
        &json!({"q_lengths": lengths, "energies": s.grid.energies(), "spectra": spectra,
            "directions": a.powder_samples,
            "convergence": {"relative_l1_difference_vs_half_directions": errors,
                            "largest": errors.iter().copied().fold(0.0, f64::max)},
            "settings": common,
            "units": {"q_lengths": "1/angstrom (2 pi included)", "energies": "meV",
                      "spectra": "orientation-averaged intensity per meV, [|Q|][E]"}}),
    )?;
    if !a.no_plots {
        plot_heatmap(
            &a.out.join("sqe_powder"),
            &HeatMap {
                title: format!(
                    "powder S(|Q|,E), {} K, {} directions",
                    a.temperature, a.powder_samples
                ),
                x_label: "|Q| (1/Å)".into(),
                y_label: "E (meV)".into(),
                x: lengths.clone(),
                y: s.grid.energies(),
                z: spectra,
                decades: a.decades,
            },
        )?;
    }
    eprintln!(
        "sqe: powder average on {n} |Q| × {} directions (largest N vs N/2 difference {:.2e}) → {} ({:.1} s)",
        a.powder_samples,
        errors.iter().copied().fold(0.0, f64::max),
        a.out.join("sqe_powder.json").display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
