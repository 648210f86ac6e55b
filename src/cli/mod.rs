//! Command-line interface: parses arguments, builds a deck, calls the library, prints a summary.

mod adp;
mod adp_compare;
mod converge;
mod convert;
mod convert_fc3;
mod info;
mod kappa;
mod md;
mod md_sqw;
mod sqe;
mod sqe_fit;

use crate::config::{self, Deck};
use crate::error::{Error, Result};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "latdyn",
    version,
    about = "Lattice dynamics and thermal transport from force constants (phonopy, phono3py, TDEP, hiPhive, ShengBTE)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Number of threads (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// No progress bars.
    #[arg(long, global = true)]
    pub quiet: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run every stage a TOML deck names and write its output folder.
    Run {
        deck: PathBuf,
        /// Output folder (overrides the deck's `output`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Harmonic phonons from flags: frequencies, velocities, DOS, thermodynamics, bands.
    Phonons(PhononArgs),
    /// What was read: atoms, masses, space group, fc range, ASR violation, cost estimates
    /// (with --fc3: of a `latdyn kappa` run on --mesh).
    Info(info::InfoArgs),
    /// Convert fc2 between formats (phonopy text / HDF5 / TDEP).
    Convert(convert::ConvertArgs),
    /// Three-phonon linewidths and thermal conductivity (RTA κ_P, Wigner κ_C).
    Kappa(kappa::KappaArgs),
    /// Harmonic atomic displacement parameters (quantum and classical), CIF with Uij.
    Adp(adp::AdpArgs),
    /// q-mesh convergence series of κ, ADPs, DOS or thermodynamics, extrapolated to the
    /// infinite mesh, with a verdict.
    Converge(converge::ConvergeArgs),
    /// One-phonon S(Q,E) for inelastic X-ray and neutron scattering: Q lists, paths, planes,
    /// powder averages; lineshapes and resolution.
    Sqe(sqe::SqeArgs),
    /// Fit a constant-Q scan (measured, or a spectrum of `latdyn sqe` / `md sqw`) with damped
    /// harmonic oscillators convolved with the resolution: E_c, γ, A with standard errors.
    SqeFit(sqe_fit::SqeFitArgs),
    /// Analyses of MD trajectories: `latdyn md adp` (ADPs by atom and by site, migration guard).
    Md(md::MdArgs),
}

#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// phonopy/phono3py yaml, POSCAR (needs --supercell), TDEP infile.ucposcar or ShengBTE CONTROL.
    #[arg(long)]
    pub cell: PathBuf,
    /// fc2: FORCE_CONSTANTS, fc2.hdf5, force_constants.hdf5, infile.forceconstant, FORCE_CONSTANTS_2ND.
    #[arg(long)]
    pub fc2: PathBuf,
    #[arg(long)]
    pub born: Option<PathBuf>,
    /// fc2 supercell: "2 2 2" or 9 integers (row-major).
    #[arg(long)]
    pub supercell: Option<String>,
    /// Primitive matrix: F, I, A, C, R, P or 9 numbers.
    #[arg(long)]
    pub primitive: Option<String>,
    /// Mass overrides, e.g. "Si=28.0855 O=15.999".
    #[arg(long)]
    pub masses: Option<String>,
    /// Sampling mesh "n1 n2 n3" (info: used for the cost estimate).
    #[arg(long)]
    pub mesh: Option<String>,
}

#[derive(Args, Debug)]
pub struct PhononArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// q-points "qx qy qz; qx qy qz; ..." (reduced).
    #[arg(long)]
    pub qpoints: Option<String>,
    /// Band path: "auto" or "G 0 0 0 X 0.5 0 0.5 | ...".
    #[arg(long)]
    pub band: Option<String>,
    /// Temperatures "0 100 300" (K).
    #[arg(long)]
    pub temperatures: Option<String>,
    /// DOS method: tetrahedron or gaussian.
    #[arg(long)]
    pub dos_method: Option<String>,
    /// Gaussian σ (THz).
    #[arg(long)]
    pub sigma: Option<f64>,
    /// Switch the non-analytic correction off.
    #[arg(long)]
    pub no_nac: bool,
    /// Direction of approach to Γ for NAC at q = 0 ("qx qy qz", reduced).
    #[arg(long)]
    pub q_direction: Option<String>,
    /// No plots.
    #[arg(long)]
    pub no_plots: bool,
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
}

fn numbers<T: std::str::FromStr>(s: &str, what: &str) -> Result<Vec<T>> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<T>()
                .map_err(|_| Error::input(format!("{what}: expected a number, found '{t}'")))
        })
        .collect()
}

fn vec3(s: &str, what: &str) -> Result<[f64; 3]> {
    let v: Vec<f64> = numbers(s, what)?;
    if v.len() != 3 {
        return Err(Error::input(format!(
            "{what}: expected 3 numbers, found {} in '{s}'",
            v.len()
        )));
    }
    Ok([v[0], v[1], v[2]])
}

impl InputArgs {
    pub fn deck(&self) -> Result<Deck> {
        let mut d = Deck {
            cell: self.cell.clone(),
            fc2: self.fc2.clone(),
            born: self.born.clone(),
            ..Default::default()
        };
        if let Some(s) = &self.supercell {
            d.supercell = Some(numbers(s, "--supercell")?);
            config::parse_supercell(d.supercell.as_ref().expect("set"))?;
        }
        if let Some(p) = &self.primitive {
            d.primitive = Some(if p.trim().len() == 1 {
                toml::Value::String(p.trim().to_string())
            } else {
                toml::Value::Array(
                    numbers::<f64>(p, "--primitive")?
                        .into_iter()
                        .map(toml::Value::Float)
                        .collect(),
                )
            });
        }
        if let Some(m) = &self.masses {
            for item in m.split_whitespace() {
                let (k, v) = item.split_once('=').ok_or_else(|| {
                    Error::input(format!("--masses: expected SYMBOL=MASS, found '{item}'"))
                })?;
                let v: f64 = v.parse().map_err(|_| {
                    Error::input(format!("--masses: expected a number, found '{v}'"))
                })?;
                d.masses.insert(k.to_string(), v);
            }
        }
        if let Some(m) = &self.mesh {
            let v: Vec<usize> = numbers(m, "--mesh")?;
            if v.len() != 3 {
                return Err(Error::input(format!(
                    "--mesh: expected 3 integers, found {}",
                    v.len()
                )));
            }
            d.mesh = Some([v[0], v[1], v[2]]);
        }
        Ok(d)
    }
}

impl PhononArgs {
    pub fn deck(&self) -> Result<Deck> {
        let mut d = self.input.deck()?;
        if let Some(q) = &self.qpoints {
            d.qpoints = Some(
                q.split(';')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| vec3(s, "--qpoints"))
                    .collect::<Result<_>>()?,
            );
        }
        d.band = self.band.clone();
        if let Some(t) = &self.temperatures {
            d.temperatures = Some(numbers(t, "--temperatures")?);
        }
        d.dos_method = self.dos_method.clone();
        d.sigma = self.sigma;
        d.nac = Some(!self.no_nac);
        d.q_direction = self
            .q_direction
            .as_deref()
            .map(|s| vec3(s, "--q-direction"))
            .transpose()?;
        d.plots = Some(!self.no_plots);
        d.output = Some(self.out.clone());
        if d.qpoints.is_none() && d.mesh.is_none() && d.band.is_none() {
            return Err(Error::input(
                "nothing to compute: give --qpoints, --mesh and/or --band",
            ));
        }
        Ok(d)
    }
}

fn print_summary(s: &serde_json::Value, out: &std::path::Path) {
    println!(
        "latdyn: {} ({}), {} atoms in the primitive cell",
        s["structure"]["formula"].as_str().unwrap_or("?"),
        s["structure"]["space_group"].as_str().unwrap_or("?"),
        s["structure"]["n_atoms_primitive"]
    );
    println!(
        "  fc2: {} ({}), {} supercell atoms, range {:.2} Å, ASR violation {:.2e} eV/Å²{}",
        s["fc2"]["file"].as_str().unwrap_or("?"),
        s["fc2"]["format"].as_str().unwrap_or("?"),
        s["fc2"]["supercell_atoms"],
        s["fc2"]["range_A"].as_f64().unwrap_or(0.0),
        s["fc2"]["asr_violation_eV_per_A2"].as_f64().unwrap_or(0.0),
        if s["fc2"]["asr_enforced"].as_bool() == Some(true) {
            " (enforced)"
        } else {
            ""
        }
    );
    println!(
        "  non-analytic correction: {}",
        if s["nac"].as_bool() == Some(true) {
            "on"
        } else {
            "off"
        }
    );
    if let Some(m) = s.get("mesh") {
        println!(
            "  mesh {}: {} irreducible q, max frequency {:.4} THz, {} imaginary modes, C_v(300 K) = {:.4} J/K/mol",
            m["mesh"],
            m["n_irreducible_q"],
            m["max_frequency_THz"].as_f64().unwrap_or(0.0),
            m["n_imaginary_modes"],
            m["heat_capacity_300K_J_per_K_mol"].as_f64().unwrap_or(0.0)
        );
    }
    if let Some(q) = s.get("qpoints") {
        println!(
            "  {} q-points, lowest frequency {:.4} THz",
            q["count"],
            q["lowest_frequency_THz"].as_f64().unwrap_or(0.0)
        );
    }
    println!(
        "  wrote {} in {:.2} s: {}",
        out.display(),
        s["wall_time_s"].as_f64().unwrap_or(0.0),
        s["outputs"]
            .as_array()
            .map(|a| a
                .iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(", "))
            .unwrap_or_default()
    );
}

pub fn run(cli: Cli) -> Result<()> {
    if let Some(n) = cli.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| Error::input(format!("--threads: {e}")))?;
    }
    let progress = !cli.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
    match cli.command {
        Command::Run { deck, out } => {
            let mut d = Deck::from_file(&deck)?;
            if let Some(o) = out {
                d.output = Some(o);
            }
            let s = crate::workflow::run_harmonic(&d, progress)?;
            print_summary(
                &s,
                d.output.as_deref().unwrap_or(std::path::Path::new("out")),
            );
        }
        Command::Phonons(a) => {
            let d = a.deck()?;
            let s = crate::workflow::run_harmonic(&d, progress)?;
            print_summary(&s, &a.out);
        }
        Command::Info(a) => info::run(&a)?,
        Command::Convert(a) => convert::run(&a)?,
        Command::Kappa(a) => kappa::run(&a, progress)?,
        Command::Adp(a) => adp::run(&a, progress)?,
        Command::Md(a) => md::run(&a, progress)?,
        Command::Sqe(a) => sqe::run(&a, progress)?,
        Command::SqeFit(a) => sqe_fit::run(&a)?,
        Command::Converge(a) => converge::run(&a, progress)?,
    }
    Ok(())
}
