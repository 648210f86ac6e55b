//! `latdyn md sqw`: coherent F(Q,t) and S(Q,f) at Q commensurate with the MD cell, and the
//! velocity-autocorrelation DOS (total, per species, per direction), streamed over the frames.
//! Writes md_sqw.json, md_vacf_dos.csv and plots.

use super::md::{TrajectoryArgs, read_reference};
use super::vec3;
use crate::crystal::elements::standard_mass;
use crate::error::{Error, Result};
use crate::linalg::{self, Vec3};
use crate::md::sqw::{CorrelationOptions, Window, md_correlations};
use crate::output::plots::{XyPlot, plot_xy};
use crate::output::{finite, write_csv, write_json};
use crate::scattering::factors::{Probe, amplitudes, parse_overrides};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct MdSqwArgs {
    #[command(flatten)]
    pub traj: TrajectoryArgs,
    /// The reference cell (POSCAR or phonopy yaml unit cell) in whose reciprocal-lattice units Q is given.
    #[arg(long)]
    pub reference: PathBuf,
    /// Q points "h k l; ..." in reciprocal-lattice units of the reference cell; each must be
    /// commensurate with the MD cell.
    #[arg(long, allow_hyphen_values = true)]
    pub q: String,
    /// xray or neutron.
    #[arg(long, default_value = "neutron")]
    pub probe: String,
    /// Per-species X-ray form factor entry or neutron b_c (fm), e.g. "Ar=1.909".
    #[arg(long)]
    pub scattering: Option<String>,
    /// Longest correlation lag (frames); the frequency resolution is 1/(2 · lag · Δt).
    #[arg(long, default_value_t = 200)]
    pub max_lag: usize,
    /// hann or none.
    #[arg(long, default_value = "hann")]
    pub window: String,
    /// No plots.
    #[arg(long)]
    pub quick: bool,
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
}

pub fn run(a: &MdSqwArgs, progress: bool) -> Result<()> {
    let t0 = std::time::Instant::now();
    let reference = read_reference(&a.reference)?;
    let probe = Probe::parse(&a.probe)?;
    let window = Window::parse(&a.window)?;
    let overrides = match &a.scattering {
        Some(s) => parse_overrides(s)?,
        None => Vec::new(),
    };
    let mut traj = a.traj.open()?;
    let first = traj.next_frame()?.ok_or_else(|| {
        Error::input(format!(
            "{}: no frames after --discard {}",
            a.traj.trajectory.display(),
            a.traj.discard
        ))
    })?;
    let second = traj.next_frame()?;
    let frame_fs = match (
        a.traj.frame_time_fs,
        first.time_fs,
        second.as_ref().and_then(|f| f.time_fs),
    ) {
        (Some(t), _, _) if t.is_finite() && t > 0.0 => t * a.traj.stride as f64,
        (Some(t), _, _) => {
            return Err(Error::input(format!(
                "--frame-time-fs: expected a positive time, found {t}"
            )));
        }
        (None, Some(t0), Some(t1)) if t1 > t0 => t1 - t0,
        _ => {
            return Err(Error::input(format!(
                "{}: no time stamps to tell the frame interval; give --frame-time-fs",
                a.traj.trajectory.display()
            )));
        }
    };
    // Q: reference reciprocal-lattice units → Cartesian (2π included); commensurate with the MD cell.
    let rec = reference.reciprocal();
    let qs: Vec<Vec3> = a
        .q
        .split(';')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            vec3(s, "--q").map(|h| linalg::scale(&linalg::vec_mat(&h, &rec), std::f64::consts::TAU))
        })
        .collect::<Result<_>>()?;
    if qs.is_empty() {
        return Err(Error::input("--q: expected at least one 'h k l'"));
    }
    for (i, q) in qs.iter().enumerate() {
        let m: Vec3 =
            std::array::from_fn(|r| linalg::dot(&first.lattice[r], q) / std::f64::consts::TAU);
        if m.iter().any(|x| (x - x.round()).abs() > 1e-4) {
            return Err(Error::input(format!(
                "--q point {}: Q·a_MD/2π = {m:?} is not integer; Q must be commensurate with the MD cell",
                i + 1
            )));
        }
    }
    // Species, masses and amplitudes of the MD atoms.
    let mut names: Vec<String> = Vec::new();
    let species: Vec<usize> = first
        .symbols
        .iter()
        .map(|s| {
            names.iter().position(|n| n == s).unwrap_or_else(|| {
                names.push(s.clone());
                names.len() - 1
            })
        })
        .collect();
    let masses: Vec<f64> = first
        .symbols
        .iter()
        .map(|s| {
            standard_mass(s).ok_or_else(|| {
                Error::input(format!(
                    "{}: unknown element '{s}' (give --lammps-types for LAMMPS type numbers)",
                    a.traj.trajectory.display()
                ))
            })
        })
        .collect::<Result<_>>()?;
    let amps = amplitudes(&names, probe, &overrides)?;
    let b: Vec<Vec<f64>> = qs
        .iter()
        .map(|q| {
            species
                .iter()
                .map(|&s| amps[s].at(linalg::norm(q)))
                .collect()
        })
        .collect();
    let opts = CorrelationOptions {
        qs: qs.clone(),
        b,
        masses,
        species,
        max_lag: a.max_lag,
        frame_fs,
        window,
    };
    let bar = if progress {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message("md sqw frames");
        pb
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut pending = vec![first]
        .into_iter()
        .chain(second)
        .collect::<Vec<_>>()
        .into_iter();
    let r = md_correlations(
        || {
            let f = match pending.next() {
                Some(f) => Some(f),
                None => traj.next_frame()?,
            };
            Ok(f.map(|f| (f.positions, f.lattice)))
        },
        &opts,
        |n| {
            if n % 50 == 0 {
                bar.set_position(n as u64);
            }
        },
    )?;
    bar.finish_and_clear();
    finite("S(Q,f)", r.sqw.iter().flatten().copied())?;
    finite("VACF DOS", r.dos_total.iter().copied())?;
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
    write_json(
        &a.out.join("md_sqw.json"),
        &json!({
            "trajectory": a.traj.trajectory, "reference": a.reference, "q": a.q, "q_cartesian": qs,
            "probe": probe, "window": window, "max_lag": a.max_lag, "frame_interval_fs": frame_fs,
            "species": names, "result": r,
            "units": {"times": "ps", "f": "F(Q,t) per atom (amplitude² units: fm² or electrons²)",
                      "frequencies": "THz", "sqw": "per atom per THz, elastic part |<rho_Q>|^2/N removed",
                      "dos": "states per THz, total integrates to 3 N_atoms"},
            "wall_time_s": t0.elapsed().as_secs_f64(),
        }),
    )?;
    let mut header = vec!["frequency_THz".to_string(), "total".to_string()];
    for n in &names {
        header.extend(["x", "y", "z"].iter().map(|d| format!("{n}_{d}")));
    }
    let rows: Vec<Vec<f64>> = (0..r.dos_frequencies.len())
        .map(|k| {
            let mut row = vec![r.dos_frequencies[k], r.dos_total[k]];
            for d in &r.dos_by_species_direction {
                row.extend(d.iter().map(|x| x[k]));
            }
            row
        })
        .collect();
    write_csv(&a.out.join("md_vacf_dos.csv"), &header, &rows)?;
    if !a.quick {
        let positive = |s: &[f64]| -> Vec<(f64, f64)> {
            r.frequencies
                .iter()
                .zip(s)
                .filter(|(f, _)| **f >= 0.0)
                .map(|(f, v)| (*f, *v))
                .collect()
        };
        plot_xy(
            &a.out.join("md_sqw"),
            &XyPlot {
                x_label: "f (THz)".into(),
                y_label: "S(Q,f) per atom".into(),
                lines: r
                    .sqw
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (format!("Q{}", i + 1), positive(s)))
                    .collect(),
                ..Default::default()
            },
        )?;
        plot_xy(
            &a.out.join("md_vacf_dos"),
            &XyPlot {
                x_label: "f (THz)".into(),
                y_label: "DOS (1/THz)".into(),
                lines: vec![(
                    "total".into(),
                    r.dos_frequencies
                        .iter()
                        .copied()
                        .zip(r.dos_total.iter().copied())
                        .collect(),
                )],
                ..Default::default()
            },
        )?;
    }
    eprintln!(
        "md sqw: {} frames, {} Q, lag {} × {frame_fs} fs (resolution {:.4} THz), correlators {:.1} MB → {} ({:.1} s)",
        r.n_frames,
        qs.len(),
        a.max_lag,
        1.0 / (2.0 * a.max_lag as f64 * frame_fs * 1e-3),
        r.correlator_bytes as f64 / 1e6,
        a.out.join("md_sqw.json").display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
