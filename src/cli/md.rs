//! `latdyn md adp`: ADPs straight from an MD trajectory (by atom, by site), block averages,
//! displacement histograms with split-site fits and the migration guard; writes md_adp.json
//! (the stable machine-readable face), md_adp.csv, a CIF with the by-atom U and plots.

use crate::adp::tensor::{cart_to_cif, ellipsoid, u_iso};
use crate::crystal::Cell;
use crate::error::{Error, Result};
use crate::io::trajectory::{FrameSelection, ReaderOptions, Trajectory, TrajectoryFormat};
use crate::linalg::{self, Mat3};
use crate::md::accumulate::HistogramSpec;
use crate::md::adp::{MdAdpOptions, MdAdps, md_adps};
use crate::output::plots::{XyPlot, plot_xy};
use crate::output::{write_csv, write_json};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct MdArgs {
    #[command(subcommand)]
    pub command: MdCommand,
}

#[derive(Subcommand, Debug)]
pub enum MdCommand {
    /// ADPs from the covariance of atom positions over an MD trajectory.
    Adp(MdAdpArgs),
    /// Coherent F(Q,t), S(Q,f) and the velocity-autocorrelation DOS.
    Sqw(super::md_sqw::MdSqwArgs),
}

/// The trajectory and which of its frames to use: shared by every `latdyn md` analysis.
#[derive(Args, Debug)]
pub struct TrajectoryArgs {
    /// Extended XYZ, LAMMPS dump or XDATCAR (plain, .xz or .gz).
    #[arg(long)]
    pub trajectory: PathBuf,
    /// extxyz, lammps or xdatcar (default: from the file name).
    #[arg(long)]
    pub format: Option<String>,
    /// Equilibration frames to discard at the start.
    #[arg(long, default_value_t = 0)]
    pub discard: usize,
    /// Use every n-th frame after the discarded ones.
    #[arg(long, default_value_t = 1)]
    pub stride: usize,
    /// Stop after this many used frames.
    #[arg(long)]
    pub max_frames: Option<usize>,
    /// LAMMPS: element of each atom type in type order, e.g. "Ag Sn Se".
    #[arg(long)]
    pub lammps_types: Option<String>,
    /// Time between frames in the file (fs); default: from the file's time stamps.
    #[arg(long)]
    pub frame_time_fs: Option<f64>,
}

impl TrajectoryArgs {
    /// Opens the trajectory for streaming with the chosen format, LAMMPS types and frame selection.
    pub fn open(&self) -> Result<Trajectory> {
        let format = self
            .format
            .as_deref()
            .map(TrajectoryFormat::parse)
            .transpose()?;
        let reader = ReaderOptions {
            lammps_types: self
                .lammps_types
                .as_ref()
                .map(|s| s.split_whitespace().map(str::to_string).collect()),
        };
        let selection = FrameSelection {
            discard: self.discard,
            stride: self.stride,
            max_frames: self.max_frames,
        };
        Trajectory::open(&self.trajectory, format, &reader, selection)
    }
}

#[derive(Args, Debug)]
pub struct MdAdpArgs {
    #[command(flatten)]
    pub traj: TrajectoryArgs,
    /// The reference cell (POSCAR or phonopy yaml unit cell) the MD cell is a supercell of.
    #[arg(long)]
    pub reference: PathBuf,
    /// Temperature of the run (K), recorded for `latdyn adp --compare` temperature analysis.
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Consecutive blocks for the convergence check.
    #[arg(long, default_value_t = 10)]
    pub blocks: usize,
    /// An atom whose segment-mean position drifts further than this (Å) is migrating.
    #[arg(long, default_value_t = 1.0)]
    pub migration_threshold: f64,
    /// Histogram axis (Cartesian, in each orbit representative's frame), e.g. "0 0 1".
    #[arg(long, default_value = "0 0 1")]
    pub histogram_axis: String,
    /// Histogram half range (Å) and number of bins.
    #[arg(long, default_value_t = 1.5)]
    pub histogram_range: f64,
    #[arg(long, default_value_t = 300)]
    pub histogram_bins: usize,
    /// No plots.
    #[arg(long)]
    pub quick: bool,
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
}

pub fn run(a: &MdArgs, progress: bool) -> Result<()> {
    match &a.command {
        MdCommand::Adp(x) => run_adp(x, progress),
        MdCommand::Sqw(x) => super::md_sqw::run(x, progress),
    }
}

/// A reference cell from a POSCAR or a phonopy/phono3py yaml (its unit cell).
pub(super) fn read_reference(path: &Path) -> Result<Cell> {
    let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
    if yaml {
        Ok(crate::io::phonopy_yaml::read_phonopy_yaml(path)?.unit_cell)
    } else {
        crate::io::poscar::read_poscar(path)
    }
}

fn options(a: &MdAdpArgs) -> Result<MdAdpOptions> {
    let axis = super::vec3(&a.histogram_axis, "--histogram-axis")?;
    let norm = linalg::norm(&axis);
    if norm.is_nan() || norm <= 0.0 {
        return Err(Error::input("--histogram-axis: expected a non-zero vector"));
    }
    if a.histogram_range.is_nan() || a.histogram_range <= 0.0 || a.histogram_bins < 10 {
        return Err(Error::input(
            "--histogram-range must be positive and --histogram-bins at least 10",
        ));
    }
    if a.migration_threshold.is_nan() || a.migration_threshold <= 0.0 {
        return Err(Error::input("--migration-threshold must be positive (Å)"));
    }
    if a.traj.frame_time_fs.is_some_and(|t| t.is_nan() || t <= 0.0) {
        return Err(Error::input("--frame-time-fs must be positive"));
    }
    Ok(MdAdpOptions {
        n_blocks: a.blocks.max(1),
        migration_threshold: a.migration_threshold,
        histogram: HistogramSpec {
            axis: linalg::scale(&axis, 1.0 / norm),
            half_width: a.histogram_range,
            bins: a.histogram_bins,
        },
        frame_fs: a.traj.frame_time_fs.map(|t| t * a.traj.stride as f64),
        symprec: 1e-3,
    })
}

pub fn run_adp(a: &MdAdpArgs, progress: bool) -> Result<()> {
    let t0 = std::time::Instant::now();
    let reference = read_reference(&a.reference)?;
    let mut traj = a.traj.open()?;
    let opts = options(a)?;
    let bar = if progress {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(
            indicatif::ProgressStyle::with_template("{msg} {pos} frames ({per_sec}, {elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        pb.set_message("md adp");
        pb
    } else {
        indicatif::ProgressBar::hidden()
    };
    let r = md_adps(&mut traj, &reference, &opts, |n| {
        if n % 50 == 0 {
            bar.set_position(n as u64);
        }
    })?;
    bar.finish_and_clear();
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
    let labels = crate::output::cif::site_labels(&reference);
    write_outputs(
        a,
        &reference,
        &labels,
        &r,
        traj.format(),
        traj.wrapped(),
        t0,
    )?;
    print_summary(a, &reference, &labels, &r, t0);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_outputs(
    a: &MdAdpArgs,
    reference: &Cell,
    labels: &[String],
    r: &MdAdps,
    format: TrajectoryFormat,
    wrapped: bool,
    t0: std::time::Instant,
) -> Result<()> {
    let l = &reference.lattice;
    let cif = |u: &[Option<Mat3>]| -> Vec<Option<Mat3>> {
        u.iter().map(|x| x.map(|x| cart_to_cif(&x, l))).collect()
    };
    let iso = |u: &[Option<Mat3>]| -> Vec<Option<f64>> {
        u.iter().map(|x| x.map(|x| u_iso(&x))).collect()
    };
    let atoms: Vec<serde_json::Value> = (0..reference.n_atoms())
        .map(|k| {
            json!({"symbol": reference.symbols[k], "label": labels[k],
                   "fractional": reference.positions[k], "md_atoms": r.md_atom_site.iter().filter(|&&s| s == k).count()})
        })
        .collect();
    let migrating: Vec<usize> = r.migration.migrating.iter().map(|m| m.md_atom).collect();
    write_json(
        &a.out.join("md_adp.json"),
        &json!({
            "trajectory": a.traj.trajectory,
            "format": format,
            "positions_wrapped_in_file": wrapped,
            "reference": a.reference,
            "reference_lattice": reference.lattice,
            "temperature": a.temperature,
            "discard": a.traj.discard,
            "stride": a.traj.stride,
            "n_frames_used": r.n_frames_used,
            "frames_read": r.frames_read,
            "n_md_atoms": r.n_md_atoms,
            "supercell_matrix": r.supercell_matrix,
            "mean_lattice": r.mean_lattice,
            "space_group": r.space_group,
            "space_group_number": r.space_group_number,
            "atoms": atoms,
            "md_atom_site": r.md_atom_site,
            "u_cart_by_atom": r.u_cart_by_atom,
            "u_cart_by_atom_translation_average": r.u_cart_by_atom_translation_average,
            "u_cif_by_atom": cif(&r.u_cart_by_atom),
            "u_iso_by_atom": iso(&r.u_cart_by_atom),
            "u_cart_by_site": r.u_cart_by_site,
            "u_cif_by_site": cif(&r.u_cart_by_site),
            "u_iso_by_site": iso(&r.u_cart_by_site),
            "mean_offset_by_site": r.mean_offset_by_site,
            "ellipsoids_by_atom": r.u_cart_by_atom.iter().map(|u| u.map(|u| ellipsoid(&u))).collect::<Vec<_>>(),
            "u_cart_per_md_atom": r.u_cart_per_md_atom,
            "orbits": r.orbits,
            "blocks": r.blocks,
            "migrating_atoms": migrating,
            "migration": r.migration,
            "histograms": r.histograms,
            "mapping": {"largest_start_distance": r.largest_start_distance, "origin_shift": r.origin_shift},
            "frame_interval_fs": r.frame_fs,
            "frames_per_miniblock": r.frames_per_miniblock,
            "units": {"u": "angstrom^2", "u_cif": "CIF basis (a·a*, b·b*, c·c*), as _atom_site_aniso_U_ij",
                      "by_atom": "population covariance (1/N) of each atom's unwrapped position after removing the cell's centre-of-mass drift, averaged over the atoms of a site, then over its Wyckoff orbit (U'' = R⁻¹U'R⁻ᵀ)",
                      "by_site": "covariance of all displacements from the ideal site folded onto the site (includes static disorder)",
                      "diffusion": "D in cm^2/s when the frame interval is known"},
            "wall_time_s": t0.elapsed().as_secs_f64(),
        }),
    )?;
    write_table(a, reference, r)?;
    let u_for_cif: Option<Vec<Mat3>> = r.u_cart_by_atom.iter().copied().collect();
    if let Some(u) = u_for_cif {
        let p = a.out.join("md_adp.cif");
        let title = format!(
            "MD ADPs by atom from {} ({} frames)",
            a.traj.trajectory.display(),
            r.n_frames_used
        );
        std::fs::write(&p, crate::output::cif::format_cif(reference, &u, &title))
            .map_err(|e| Error::io(&p, e))?;
    }
    if !a.quick {
        plot_blocks(a, labels, r)?;
        plot_histograms(a, labels, r)?;
        plot_msd(a, r)?;
    }
    Ok(())
}

/// md_adp.csv: per reference atom, by-atom and by-site components, U_iso and block error.
fn write_table(a: &MdAdpArgs, reference: &Cell, r: &MdAdps) -> Result<()> {
    let mut header: Vec<String> = vec!["atom".into(), "md_atoms".into()];
    for form in ["by_atom", "by_site"] {
        for c in ["11", "22", "33", "23", "13", "12"] {
            header.push(format!("U{c}_{form}"));
        }
        header.push(format!("U_iso_{form}"));
    }
    header.push("U_iso_block_std_err".into());
    let mut rows = Vec::new();
    for k in 0..reference.n_atoms() {
        let (Some(x), Some(y)) = (r.u_cart_by_atom[k], r.u_cart_by_site[k]) else {
            continue;
        };
        let mut row = vec![
            (k + 1) as f64,
            r.md_atom_site.iter().filter(|&&s| s == k).count() as f64,
        ];
        for m in [x, y] {
            row.extend([
                m[0][0],
                m[1][1],
                m[2][2],
                m[1][2],
                m[0][2],
                m[0][1],
                u_iso(&m),
            ]);
        }
        row.push(r.blocks.u_iso_std_err[k].unwrap_or(0.0));
        rows.push(row);
    }
    write_csv(&a.out.join("md_adp.csv"), &header, &rows)
}

/// md_adp_blocks.svg/png: U_iso of each orbit representative per block, and the run mean.
fn plot_blocks(a: &MdAdpArgs, labels: &[String], r: &MdAdps) -> Result<()> {
    let mut markers = Vec::new();
    let mut lines = Vec::new();
    for o in &r.orbits {
        let k = o.representative;
        let pts: Vec<(f64, f64)> = r
            .blocks
            .u_iso_by_site
            .iter()
            .enumerate()
            .filter_map(|(b, row)| row[k].map(|u| ((b + 1) as f64, u)))
            .collect();
        if pts.is_empty() {
            continue;
        }
        if let Some(u) = r.u_cart_by_atom_translation_average[k] {
            lines.push((
                format!("{} whole run", labels[k]),
                vec![
                    (0.5, u_iso(&u)),
                    (r.blocks.n_blocks as f64 + 0.5, u_iso(&u)),
                ],
            ));
        }
        markers.push((format!("{} block", labels[k]), pts));
    }
    plot_xy(
        &a.out.join("md_adp_blocks"),
        &XyPlot {
            x_label: "Block of the run".into(),
            y_label: "U_iso (Å²)".into(),
            markers,
            lines,
        },
    )
}

/// md_histograms.svg/png: displacement density along the axis with both fits, per orbit.
fn plot_histograms(a: &MdAdpArgs, labels: &[String], r: &MdAdps) -> Result<()> {
    use crate::md::histogram_fit::{one_gaussian, split_site};
    let mut markers = Vec::new();
    let mut lines = Vec::new();
    for h in r.histograms.iter().filter(|h| h.samples > 0) {
        let label = &labels[h.site];
        markers.push((
            format!("{label} MD"),
            h.bin_centres
                .iter()
                .zip(&h.density)
                .filter(|(_, d)| **d > 0.0)
                .map(|(x, d)| (*x, *d))
                .collect(),
        ));
        if let Some(g) = &h.one_gaussian {
            let p = [g.a, g.mu, g.sigma];
            lines.push((
                format!("{label} 1 Gaussian"),
                h.bin_centres
                    .iter()
                    .map(|&z| (z, one_gaussian(&p, z)))
                    .collect(),
            ));
        }
        if let Some(s) = &h.split_site {
            let p = [s.a, s.p, s.sigma, s.dz];
            lines.push((
                format!("{label} split site"),
                h.bin_centres
                    .iter()
                    .map(|&z| (z, split_site(&p, z)))
                    .collect(),
            ));
        }
    }
    if markers.is_empty() {
        return Ok(());
    }
    let axis = r.histograms[0].axis;
    plot_xy(
        &a.out.join("md_histograms"),
        &XyPlot {
            x_label: format!(
                "Displacement along [{:.2} {:.2} {:.2}] (Å)",
                axis[0], axis[1], axis[2]
            ),
            y_label: "Probability density (1/Å)".into(),
            markers,
            lines,
        },
    )
}

/// md_msd.svg/png: MSD(t) of segment-mean positions per species.
fn plot_msd(a: &MdAdpArgs, r: &MdAdps) -> Result<()> {
    let lines: Vec<(String, Vec<(f64, f64)>)> = r
        .migration
        .diffusion
        .iter()
        .map(|d| {
            let t = d.lag_fs.as_ref().unwrap_or(&d.lag_frames);
            (
                d.symbol.clone(),
                t.iter()
                    .zip(&d.msd)
                    .map(|(x, y)| (*x / 1000.0, *y))
                    .collect(),
            )
        })
        .collect();
    if lines.is_empty() {
        return Ok(());
    }
    let timed = r.migration.diffusion[0].lag_fs.is_some();
    plot_xy(
        &a.out.join("md_msd"),
        &XyPlot {
            x_label: if timed {
                "Lag time (ps)".into()
            } else {
                "Lag (1000 frames)".into()
            },
            y_label: "MSD of segment-mean positions (Å²)".into(),
            markers: vec![],
            lines,
        },
    )
}

fn print_summary(
    a: &MdAdpArgs,
    reference: &Cell,
    labels: &[String],
    r: &MdAdps,
    t0: std::time::Instant,
) {
    println!(
        "latdyn md adp: {} frames used of {} read, {} MD atoms on {} ({}, supercell {:?})",
        r.n_frames_used,
        r.frames_read,
        r.n_md_atoms,
        reference.formula(),
        r.space_group,
        r.supercell_matrix
    );
    for o in &r.orbits {
        let k = o.representative;
        match (o.u_iso, o.u_iso_by_site) {
            (Some(u), Some(s)) => println!(
                "  {:>6} ({} atoms)  U_iso by atom = {u:.6} Å² ± {:.6} (block s.e.)  by site = {s:.6} Å²",
                labels[k],
                o.md_atoms,
                r.blocks.u_iso_std_err[k].unwrap_or(0.0)
            ),
            _ => println!("  {:>6}: every atom migrates; no ADP", labels[k]),
        }
    }
    if !r.migration.migrating.is_empty() {
        println!(
            "  {} migrating atoms (left out of the ADPs): {}",
            r.migration.migrating.len(),
            r.migration
                .migrating
                .iter()
                .take(10)
                .map(|m| format!(
                    "{}{} ({:.2} Å)",
                    m.symbol,
                    m.md_atom + 1,
                    m.max_displacement
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for d in &r.migration.diffusion {
            if let Some(dc) = d.d_cm2_per_s {
                println!("    D({}) = {dc:.3e} cm²/s", d.symbol);
            }
        }
    }
    println!(
        "  wrote {} in {:.2} s",
        a.out.join("md_adp.json").display(),
        t0.elapsed().as_secs_f64()
    );
}
