//! `latdyn kappa`: three-phonon linewidths and the lattice thermal conductivity (RTA κ_P and,
//! with --wigner, the coherence term κ_C), written as kappa.json (the stable machine-readable
//! face) and phono3py's kappa-m{mesh}.hdf5.

use super::{InputArgs, numbers};
use crate::anharmonic::linewidth::DeltaMethod;
use crate::error::{Error, Result};
use crate::output::kappa_hdf5::{
    gamma_file_name, kappa_file_name, write_gamma_files, write_kappa_hdf5,
};
use crate::output::{finite, write_json};
use crate::transport::job::{
    KappaOptions, KappaRun, kappa_from_gamma_file_with, kappa_mesh, run_kappa_with,
};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct KappaArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// fc3: phono3py/hiPhive fc3.hdf5 (full or compact) or ShengBTE FORCE_CONSTANTS_3RD.
    #[arg(long, required_unless_present = "read_gamma")]
    pub fc3: Option<PathBuf>,
    /// Take the three-phonon Γ from this kappa HDF5 of the same mesh (phono3py's or latdyn's),
    /// or from a folder of per-grid-point kappa-m{mesh}-g{N}.hdf5 files (--write-gamma),
    /// instead of computing it; its temperatures are used.
    #[arg(long)]
    pub read_gamma: Option<PathBuf>,
    #[command(flatten)]
    pub fc3_layout: Fc3Layout,
    #[command(flatten)]
    pub transport: TransportArgs,
    #[command(flatten)]
    pub four_phonon: FourPhononArgs,
    /// Temperatures "300 600" (K).
    #[arg(long, default_value = "300")]
    pub temperatures: String,
    /// Also write Γ per irreducible q as phono3py's kappa-m{mesh}-g{grid point}.hdf5 files.
    #[arg(long)]
    pub write_gamma: bool,
    /// Modes at or below this frequency (THz) are left out.
    #[arg(long, default_value_t = 0.01)]
    pub cutoff_frequency: f64,
    /// Switch the non-analytic correction off.
    #[arg(long)]
    pub no_nac: bool,
    /// Run even when the memory estimate exceeds the available memory.
    #[arg(long)]
    pub force: bool,
    /// No SVG/PNG plots.
    #[arg(long)]
    pub no_plots: bool,
    /// Bin width (THz) of the spectral κ.
    #[arg(long, default_value_t = 0.1)]
    pub spectral_bin: f64,
    /// Compute only irreducible q-points START:END (0-based, END excluded) and stop; run again
    /// without it (same --out) to merge. For cluster job arrays.
    #[arg(long)]
    pub q_range: Option<String>,
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
}

/// Four-phonon scattering: the fc4 file and how the rates are evaluated.
#[derive(Args, Debug, Clone)]
pub struct FourPhononArgs {
    /// Fourth-order force constants (FourPhonon FORCE_CONSTANTS_4TH or TDEP
    /// infile.forceconstant_fourthorder): adds four-phonon scattering to every mode (to the
    /// computed three-phonon Γ, or to the Γ of --read-gamma at its temperatures; with --lbte as
    /// a diagonal term of the three-phonon collision matrix).
    #[arg(long)]
    pub fc4: Option<PathBuf>,
    /// The cell FORCE_CONSTANTS_4TH's atom indices refer to, when it is not --cell's primitive
    /// cell (CONTROL or POSCAR; default: --fc3-cell).
    #[arg(long)]
    pub fc4_cell: Option<PathBuf>,
    /// exact (every (q', q'') pair) or sampled (importance sampling with a standard error).
    #[arg(long, value_parser = ["exact", "sampled"], default_value = "exact")]
    pub four_phonon: String,
    /// Sampled: (q', q'') pairs drawn per irreducible q and process class.
    #[arg(long, default_value_t = 256)]
    pub four_phonon_samples: usize,
    /// Sampled: seed of the draws (same seed, same result on any machine and thread count).
    #[arg(long, default_value_t = 1)]
    pub four_phonon_seed: u64,
    /// Sampled: first partners q' whose sets are screened per irreducible q and class: "all",
    /// a number (drawn rows: the screening then costs O(rows·N) instead of O(N²) per q), or
    /// "auto" (one row per 4 draws, or all rows when that is at least half of them).
    #[arg(long, default_value = "auto")]
    pub four_phonon_rows: String,
    /// Sampled: the relative standard error of κ_P (largest over xx, yy, zz and temperatures)
    /// the run checks it reached; when not, it says how many samples would reach it (`kappa`;
    /// `converge` writes each mesh's κ_P standard error in its detail).
    #[arg(long, default_value_t = 0.01)]
    pub four_phonon_tolerance: f64,
}

/// The four-phonon settings of a run and what kappa.json records of its fc4; None without --fc4.
type FourPhononSetup = Option<(
    crate::transport::four_phonon_job::FourPhononSettings,
    serde_json::Value,
)>;

impl FourPhononArgs {
    /// The four-phonon settings for `input`, or None without --fc4. The δ follows the
    /// three-phonon flags: --adaptive-smearing S and --smearing σ carry over; with the
    /// tetrahedron method four-phonon δ use FourPhonon's adaptive smearing with scalebroad 1.
    pub fn settings(
        &self,
        input: &crate::io::HarmonicInput,
        transport: &TransportArgs,
        fc3_cell: Option<&std::path::Path>,
    ) -> Result<FourPhononSetup> {
        use crate::anharmonic::four_phonon::FourDelta;
        let delta = match transport.delta()? {
            DeltaMethod::Adaptive(s) => FourDelta::Adaptive(s),
            DeltaMethod::Gaussian(s) => FourDelta::Gaussian(s),
            DeltaMethod::Tetrahedron => FourDelta::Adaptive(1.0),
        };
        self.settings_with(input, delta, fc3_cell)
    }

    /// As `settings`, with the four-phonon δ given (`latdyn info` plans without δ flags).
    pub fn settings_with(
        &self,
        input: &crate::io::HarmonicInput,
        delta: crate::anharmonic::four_phonon::FourDelta,
        fc3_cell: Option<&std::path::Path>,
    ) -> Result<FourPhononSetup> {
        use crate::anharmonic::four_phonon::FourPhononMode;
        let Some(path) = &self.fc4 else {
            return Ok(None);
        };
        if !(self.four_phonon_tolerance > 0.0 && self.four_phonon_tolerance.is_finite()) {
            return Err(Error::input(format!(
                "--four-phonon-tolerance: expected a positive relative error (0.01 = 1 %), found {}",
                self.four_phonon_tolerance
            )));
        }
        let mode = match self.four_phonon.as_str() {
            "sampled" if self.four_phonon_samples < 2 => {
                return Err(Error::input(format!(
                    "--four-phonon-samples: need at least 2 draws for a standard error, found {}",
                    self.four_phonon_samples
                )));
            }
            "sampled" => FourPhononMode::Sampled {
                pairs: self.four_phonon_samples,
                seed: self.four_phonon_seed,
                rows: match self.four_phonon_rows.as_str() {
                    "auto" => None,
                    "all" => Some(usize::MAX),
                    text => match text.parse::<usize>() {
                        Ok(r) if r >= 2 => Some(r),
                        _ => {
                            return Err(Error::input(format!(
                                "--four-phonon-rows: expected \"auto\", \"all\" or a number of rows of at least 2 (for a standard error), found \"{text}\""
                            )));
                        }
                    },
                },
            },
            _ => FourPhononMode::Exact,
        };
        let cell = self.fc4_cell.as_deref().or(fc3_cell);
        let (fc4, asr) = crate::io::load_fc4(input, path, cell)?;
        let scale = fc4.largest();
        if asr > 1e-4 * scale.max(1e-12) {
            eprintln!(
                "warning: {}: the acoustic sum rule is violated by {asr:.1e} eV/Å⁴ ({:.1e} of the largest element)",
                path.display(),
                asr / scale
            );
        }
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        let info = json!({"file": path, "terms": fc4.terms.len(), "asr_violation_eV_per_A4": asr,
                          "largest_eV_per_A4": scale});
        let fourier = crate::anharmonic::fc4_fourier::Fc4Fourier::new(input.primitive(), &fc4);
        Ok(Some((
            crate::transport::four_phonon_job::FourPhononSettings {
                fc4: std::sync::Arc::new(fourier),
                delta,
                mode,
                identity: json!({"fc4": abs, "fc4_bytes": size}),
            },
            info,
        )))
    }
}

/// How phonons scatter and what κ includes: flags shared by `kappa` and `converge`.
#[derive(Args, Debug, Clone)]
pub struct TransportArgs {
    /// Add the Wigner coherence term κ_C (and κ_P from the velocity operator).
    #[arg(long)]
    pub wigner: bool,
    /// Isotope scattering with the natural isotopic composition of each element.
    #[arg(long)]
    pub isotope: bool,
    /// Isotope scattering with these mass variances g instead, e.g. "Si=2.01e-4" (implies --isotope).
    #[arg(long)]
    pub mass_variances: Option<String>,
    /// Boundary scattering with this mean free path in µm (phono3py's --bmfp): Γ_b = |v|/(4πL).
    #[arg(long, alias = "bmfp")]
    pub boundary_mfp: Option<f64>,
    /// Also solve the linearized BTE directly (full collision matrix, phono3py's --lbte) for κ_P.
    #[arg(long)]
    pub lbte: bool,
    /// Gaussian smearing σ (THz) instead of the tetrahedron method.
    #[arg(long)]
    pub smearing: Option<f64>,
    /// ShengBTE/FourPhonon adaptive smearing with this scalebroad (e.g. 1.0).
    #[arg(long, conflicts_with = "smearing")]
    pub adaptive_smearing: Option<f64>,
}

impl TransportArgs {
    /// Mass variance per primitive atom: user values per species, else the natural composition.
    pub fn mass_variances(&self, prim: &crate::crystal::Cell) -> Result<Option<Vec<f64>>> {
        if !self.isotope && self.mass_variances.is_none() {
            return Ok(None);
        }
        let mut given = std::collections::BTreeMap::new();
        for item in self
            .mass_variances
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
        {
            let (k, v) = item.split_once('=').ok_or_else(|| {
                Error::input(format!(
                    "--mass-variances: expected SYMBOL=VALUE, found '{item}'"
                ))
            })?;
            let v: f64 = v
                .parse()
                .ok()
                .filter(|x: &f64| *x >= 0.0 && x.is_finite())
                .ok_or_else(|| {
                    Error::input(format!(
                        "--mass-variances: '{v}' is not a non-negative number"
                    ))
                })?;
            given.insert(k.to_string(), v);
        }
        prim.symbols
            .iter()
            .map(|s| match given.get(s) {
                Some(v) => Ok(*v),
                None => crate::crystal::isotopes::mass_variance(s).ok_or_else(|| {
                    Error::input(format!(
                        "no natural isotopic composition for {s} (no stable isotope); give --mass-variances \"{s}=...\""
                    ))
                }),
            })
            .collect::<Result<Vec<f64>>>()
            .map(Some)
    }

    /// The δ method: tetrahedron unless --smearing or --adaptive-smearing.
    pub fn delta(&self) -> Result<DeltaMethod> {
        match (self.smearing, self.adaptive_smearing) {
            (_, Some(s)) if s > 0.0 && s.is_finite() => Ok(DeltaMethod::Adaptive(s)),
            (_, Some(s)) => Err(Error::input(format!(
                "--adaptive-smearing: scalebroad must be positive, found {s}"
            ))),
            (None, None) => Ok(DeltaMethod::Tetrahedron),
            (Some(s), None) if s > 0.0 && s.is_finite() => Ok(DeltaMethod::Gaussian(s)),
            (Some(s), None) => Err(Error::input(format!(
                "--smearing: σ must be a positive number of THz, found {s}"
            ))),
        }
    }

    /// The --boundary-mfp length, checked.
    pub fn boundary_mfp(&self) -> Result<Option<f64>> {
        match self.boundary_mfp {
            Some(l) if !(l > 0.0 && l.is_finite()) => Err(Error::input(format!(
                "--boundary-mfp: expected a positive length in µm, found {l}"
            ))),
            l => Ok(l),
        }
    }

    /// κ options on `mesh` at `temperatures` with these flags (no checkpoint, no q-range).
    pub fn kappa_options(
        &self,
        prim: &crate::crystal::Cell,
        mesh: [usize; 3],
        temperatures: Vec<f64>,
        cutoff_frequency: f64,
        progress: bool,
    ) -> Result<KappaOptions> {
        Ok(KappaOptions {
            mesh,
            temperatures,
            delta: self.delta()?,
            cutoff_frequency,
            wigner: self.wigner,
            progress,
            checkpoint: None,
            q_range: None,
            isotope: self.mass_variances(prim)?,
            boundary_mfp: self.boundary_mfp()?,
            lbte: self.lbte,
            four_phonon: None,
        })
    }
}

/// How to read an fc3 file's atoms and supercell: flags shared by `kappa` and `info`.
#[derive(Args, Debug)]
pub struct Fc3Layout {
    /// The cell FORCE_CONSTANTS_3RD's atom indices refer to (CONTROL or POSCAR), when it is not
    /// --cell's primitive cell.
    #[arg(long)]
    pub fc3_cell: Option<PathBuf>,
    /// fc3 supercell "2 2 2" or 9 integers, when --cell is not a phono3py yaml (default: the fc2 one).
    #[arg(long)]
    pub fc3_supercell: Option<String>,
}

impl Fc3Layout {
    /// The --fc3-supercell matrix, when given.
    pub fn matrix(&self) -> Result<Option<[[i32; 3]; 3]>> {
        self.fc3_supercell
            .as_deref()
            .map(|s| crate::config::parse_supercell(&numbers(s, "--fc3-supercell")?))
            .transpose()
    }

    /// fc3 from `path` read with these flags, with its ASR violation.
    pub fn load(
        &self,
        input: &crate::io::HarmonicInput,
        path: &std::path::Path,
    ) -> Result<(crate::fc::fc3::Fc3, f64)> {
        crate::io::load_fc3(input, path, self.matrix()?, self.fc3_cell.as_deref())
    }
}

/// The --temperatures list: non-negative, finite.
pub fn parse_temperatures(text: &str) -> Result<Vec<f64>> {
    let t: Vec<f64> = numbers(text, "--temperatures")?;
    if t.is_empty() || t.iter().any(|t| !(*t >= 0.0 && t.is_finite())) {
        return Err(Error::input(format!(
            "--temperatures: expected non-negative numbers, found '{text}'"
        )));
    }
    Ok(t)
}

fn parse_range(s: &str) -> Result<(usize, usize)> {
    let bad = || {
        Error::input(format!(
            "--q-range: expected START:END (e.g. 0:20), found '{s}'"
        ))
    };
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    Ok((
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    ))
}

/// What identifies the linewidths of a run: every setting that changes Γ.
fn run_key(
    a: &KappaArgs,
    deck: &crate::config::Deck,
    mesh: [usize; 3],
    temperatures: &[f64],
) -> serde_json::Value {
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    // Absolute paths: the same files reached from another working directory are the same run.
    let abs = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    json!({
        "mesh": mesh, "temperatures": temperatures, "smearing": a.transport.smearing,
        "cutoff_frequency": a.cutoff_frequency, "nac": !a.no_nac, "adaptive": a.transport.adaptive_smearing,
        "cell": abs(&deck.cell), "fc2": abs(&deck.fc2), "fc2_bytes": size(&deck.fc2),
        "fc3": a.fc3.as_deref().map(abs), "fc3_bytes": a.fc3.as_deref().map(size), "masses": deck.masses,
    })
}

pub fn run(a: &KappaArgs, progress: bool) -> Result<()> {
    let t0 = std::time::Instant::now();
    let deck = a.input.deck()?;
    let mesh = deck
        .mesh
        .ok_or_else(|| Error::input("latdyn kappa needs --mesh \"n1 n2 n3\""))?;
    let temperatures = parse_temperatures(&a.temperatures)?;
    let delta = a.transport.delta()?;
    let input = crate::workflow::load(&deck)?;
    let dm = input.dynamical_matrix(!a.no_nac)?;
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
    let mut opts = a.transport.kappa_options(
        input.primitive(),
        mesh,
        temperatures.clone(),
        a.cutoff_frequency,
        progress,
    )?;
    opts.checkpoint = Some((a.out.clone(), run_key(a, &deck, mesh, &temperatures)));
    opts.q_range = a.q_range.as_deref().map(parse_range).transpose()?;
    let fc4_info =
        match a
            .four_phonon
            .settings(&input, &a.transport, a.fc3_layout.fc3_cell.as_deref())?
        {
            Some((settings, info)) => {
                opts.four_phonon = Some(settings);
                Some(info)
            }
            None => None,
        };
    let isotope = opts.isotope.clone();
    let threads = rayon::current_num_threads();
    let (run, fc3_info) = match (&a.read_gamma, &a.fc3) {
        (Some(g), _) => {
            if opts.q_range.is_some() && opts.four_phonon.is_none() {
                return Err(Error::input(
                    "--q-range splits the computed linewidths; with --read-gamma only four-phonon Γ (--fc4) is computed, so it needs --fc4",
                ));
            }
            let km = kappa_mesh(dm.primitive(), opts.mesh)?;
            if let Some(settings) = &opts.four_phonon {
                // The temperatures come from the file; they change only the small
                // occupation tables of the estimate.
                let nt = opts.temperatures.len();
                let p = crate::transport::plan::four_phonon_only_plan(
                    &km,
                    dm.n_bands(),
                    settings,
                    nt,
                    threads,
                );
                check_plan(a, &p)?;
            }
            (
                kappa_from_gamma_file_with(&dm, &km, g, &opts)?,
                json!({"read_gamma": g}),
            )
        }
        (None, Some(fc3_path)) => {
            let (fc3, fc3_asr) = a.fc3_layout.load(&input, fc3_path)?;
            let info = json!({"file": fc3_path, "asr_violation_eV_per_A3": fc3_asr, "terms": fc3.terms.len()});
            let km = kappa_mesh(dm.primitive(), opts.mesh)?;
            check_plan(
                a,
                &crate::transport::plan::plan(&km, dm.n_bands(), &fc3, &opts, threads),
            )?;
            let fourier = crate::anharmonic::interaction::Fc3Fourier::new(dm.primitive(), &fc3);
            drop(fc3);
            (run_kappa_with(&dm, &fourier, &km, &opts)?, info)
        }
        (None, None) => return Err(Error::input("latdyn kappa needs --fc3 or --read-gamma")),
    };
    let res = match run {
        KappaRun::Complete(r) => *r,
        KappaRun::Partial { done, total } => {
            let folder = if a.read_gamma.is_some() {
                "fourphonon"
            } else {
                "linewidths"
            };
            println!(
                "latdyn kappa: linewidths at {done} of {total} irreducible q-points are in {}; run again without --q-range (same --out) to finish and merge",
                a.out.join(folder).display()
            );
            return Ok(());
        }
    };
    let temperatures = res.temperatures.clone();
    finite("gamma", res.gamma.iter().flatten().flatten().copied())?;
    finite("kappa", res.kappa.iter().flatten().copied())?;
    let (kappa_p, kappa_c) = res.particle_and_coherence();
    let kappa_total = res.total();
    let h5 = kappa_file_name(&a.out, mesh);
    write_kappa_hdf5(&h5, &res)?;
    if a.write_gamma {
        let n = write_gamma_files(&a.out, &res)?;
        eprintln!(
            "latdyn kappa: wrote {n} per-grid-point files {}",
            gamma_file_name(&a.out, mesh, 0)
                .display()
                .to_string()
                .replace("-g0.", "-g*.")
        );
    }
    let mut doc = json!({
            "temperatures": temperatures,
            "kappa_p": kappa_p, "kappa_c": kappa_c, "kappa_total": kappa_total,
            "kappa_rta": res.kappa,
            "kappa_p_lbte": res.lbte.as_ref().map(|l| &l.kappa),
            "wigner": a.transport.wigner, "lbte": a.transport.lbte, "boundary_mfp_um": a.transport.boundary_mfp,
            "mesh": mesh, "n_irreducible_q": res.qpoints.len(),
            "qpoints": res.qpoints, "weights": res.weights, "frequencies": res.frequencies,
            "gamma": res.gamma,
            "gamma_isotope": res.gamma_isotope,
            "scattering_shares": scattering_shares(&res),
            "mass_variances": isotope,
            "delta": match delta { DeltaMethod::Tetrahedron => json!("tetrahedron"), DeltaMethod::Gaussian(s) => json!({"gaussian_sigma_THz": s}), DeltaMethod::Adaptive(s) => json!({"adaptive_scalebroad": s}) },
            "cutoff_frequency": a.cutoff_frequency,
            "fc3": fc3_info,
            "fc4": fc4_info,
            "nac": dm.has_nac(),
            "units": {"temperatures": "K", "kappa": "W/(m K), Voigt xx yy zz yz xz xy", "frequencies": "THz",
                      "gamma": "THz (imaginary part of the self energy = half linewidth, phono3py's convention)",
                      "qpoints": "reduced coordinates of the primitive reciprocal basis"},
            "wall_time_s": t0.elapsed().as_secs_f64(),
    });
    if let Some(f) = &res.four_phonon {
        add_four_phonon(&mut doc, f, &res)?;
        let n_points = res.mesh.iter().product();
        let tolerance = a.four_phonon.four_phonon_tolerance;
        if let Some(check) = sampling_check(f, &kappa_p, tolerance, n_points) {
            doc["four_phonon"]["convergence"] = check;
        }
    }
    write_json(&a.out.join("kappa.json"), &doc)?;
    write_decompositions(a, &res)?;
    println!(
        "latdyn kappa: {}, mesh {:?} ({} irreducible q), {}",
        input.primitive().formula(),
        mesh,
        res.qpoints.len(),
        match (&a.read_gamma, fc3_info["terms"].as_u64()) {
            (Some(g), _) => format!("Γ read from {}", g.display()),
            (None, Some(n)) => format!(
                "fc3 {n} terms (ASR violation {:.1e} eV/Å³)",
                fc3_info["asr_violation_eV_per_A3"].as_f64().unwrap_or(0.0)
            ),
            _ => String::new(),
        }
    );
    for (it, t) in temperatures.iter().enumerate() {
        println!(
            "  T = {t:7.1} K  κ_P = {:10.4} {:10.4} {:10.4}  κ_C = {:8.4} {:8.4} {:8.4}  (xx yy zz, W/m·K)",
            kappa_p[it][0],
            kappa_p[it][1],
            kappa_p[it][2],
            kappa_c[it][0],
            kappa_c[it][1],
            kappa_c[it][2]
        );
    }
    println!(
        "  wrote {} and {} in {:.2} s",
        a.out.join("kappa.json").display(),
        h5.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The four-phonon fields of kappa.json: Γ_4ph (total, per class, standard errors when
/// sampled) and the three-phonon-only κ_P, κ_C (`kappa_p`, `kappa_c` then hold 3+4-phonon κ).
fn add_four_phonon(
    doc: &mut serde_json::Value,
    f: &crate::transport::four_phonon_job::FourPhononResult,
    res: &crate::transport::job::KappaResult,
) -> Result<()> {
    use crate::anharmonic::four_phonon::{CLASS_NAMES, FourDelta, FourPhononMode};
    let total = f.total();
    finite("gamma_4ph", total.iter().flatten().flatten().copied())?;
    doc["gamma_4ph"] = json!(total);
    for (c, name) in CLASS_NAMES.iter().enumerate() {
        doc[format!("gamma_4ph_{name}")] = json!(f.gamma[c]);
    }
    doc["kappa_p_3ph"] = json!(f.kappa_p_3ph);
    doc["kappa_c_3ph"] = json!(f.kappa_c_3ph);
    let sampled = f.mode.is_sampled();
    if sampled {
        doc["gamma_4ph_std_error"] = json!(f.total_error());
    }
    let sum = |c: usize, x: &[[u64; 3]]| x.iter().map(|p| p[c]).sum::<u64>();
    doc["four_phonon"] = json!({
        "mode": match f.mode { FourPhononMode::Exact => json!("exact"),
            FourPhononMode::Sampled { pairs, seed, .. } => json!({"sampled_pairs_per_q_and_class": pairs, "seed": seed,
                "screened_rows_per_q_and_class": f.mode.screened_rows(res.mesh.iter().product())}) },
        "delta": match f.delta { FourDelta::Adaptive(s) => json!({"adaptive_scalebroad": s}),
            FourDelta::Gaussian(s) => json!({"gaussian_sigma_THz": s}) },
        "processes": CLASS_NAMES.iter().enumerate().map(|(c, n)| (n.to_string(), json!(sum(c, &f.processes)))).collect::<serde_json::Map<_, _>>(),
        "pairs_built": CLASS_NAMES.iter().enumerate().map(|(c, n)| (n.to_string(), json!(sum(c, &f.pairs_built)))).collect::<serde_json::Map<_, _>>(),
        "partner_min_THz": crate::anharmonic::four_phonon::PARTNER_MIN_THZ,
        "rate_shares": rate_shares(f, res),
    });
    doc["units"]["gamma_4ph"] = json!(
        "THz, same convention as gamma (1/(4π τ)); per class: plusplus λ+λ'+λ''→λ''', plusminus λ+λ'→λ''+λ''', minusminus λ→λ'+λ''+λ'''"
    );
    Ok(())
}

/// The convergence check of a sampled four-phonon run: κ_P's sampling standard error against
/// `tolerance` (relative, largest over the diagonal and temperatures), reported on stderr and
/// returned for kappa.json, with the samples that would reach it (the error falls as 1/√N;
/// with a given number of drawn rows, the rows must grow with the draws). None for exact runs.
fn sampling_check(
    f: &crate::transport::four_phonon_job::FourPhononResult,
    kappa_p: &[[f64; 6]],
    tolerance: f64,
    n_points: usize,
) -> Option<serde_json::Value> {
    let crate::anharmonic::four_phonon::FourPhononMode::Sampled { pairs, rows, .. } = f.mode else {
        return None;
    };
    let relative = kappa_p
        .iter()
        .zip(&f.kappa_p_std_error)
        .flat_map(|(k, e)| (0..3).map(move |c| e[c] / k[c].abs().max(1e-300)))
        .fold(0.0, f64::max);
    let converged = relative <= tolerance;
    let factor = (relative / tolerance).powi(2);
    let needed = (pairs as f64 * factor).ceil() as u64;
    let rows_advice = match rows {
        Some(r) if r < n_points => format!(
            " --four-phonon-rows {}",
            ((r as f64 * factor).ceil() as usize).min(n_points)
        ),
        _ => String::new(),
    };
    if converged {
        eprintln!(
            "latdyn kappa: four-phonon sampling error of κ_P {:.2} % (tolerance {:.2} %)",
            100.0 * relative,
            100.0 * tolerance
        );
    } else {
        eprintln!(
            "warning: four-phonon sampling error of κ_P {:.2} % is above the tolerance {:.2} %: run again with --four-phonon-samples {needed}{rows_advice} (or a larger --four-phonon-tolerance)",
            100.0 * relative,
            100.0 * tolerance
        );
    }
    Some(
        json!({"kappa_p_std_error": f.kappa_p_std_error, "largest_relative_error": relative,
                "tolerance": tolerance, "converged": converged, "samples_for_tolerance": needed}),
    )
}

/// Per temperature, the share of the mode-summed anharmonic Γ (all q of the mesh: irreducible
/// points weighted by their stars) from three-phonon scattering and from each four-phonon class.
fn rate_shares(
    f: &crate::transport::four_phonon_job::FourPhononResult,
    res: &crate::transport::job::KappaResult,
) -> serde_json::Value {
    use crate::anharmonic::four_phonon::CLASS_NAMES;
    let sum = |table: &Vec<Vec<f64>>| -> f64 {
        table
            .iter()
            .zip(&res.weights)
            .map(|(g, &w)| w as f64 * g.iter().sum::<f64>())
            .sum()
    };
    let shares: Vec<serde_json::Value> = (0..res.temperatures.len())
        .map(|it| {
            let parts: Vec<(&str, f64)> = std::iter::once(("three_phonon", sum(&res.gamma[it])))
                .chain((0..3).map(|c| (CLASS_NAMES[c], sum(&f.gamma[c][it]))))
                .collect();
            let total: f64 = parts.iter().map(|p| p.1).sum();
            let mut row = serde_json::Map::new();
            row.insert("temperature".into(), json!(res.temperatures[it]));
            for (name, x) in parts {
                row.insert(
                    name.into(),
                    json!(if total > 0.0 { x / total } else { 0.0 }),
                );
            }
            serde_json::Value::Object(row)
        })
        .collect();
    json!(shares)
}

/// Per temperature, the share of the mode-summed three-phonon Γ (all q of the mesh) that is
/// umklapp and that is decay (the rest is normal and coalescence); null without the split.
fn scattering_shares(res: &crate::transport::job::KappaResult) -> serde_json::Value {
    let Some(parts) = &res.gamma_parts else {
        return serde_json::Value::Null;
    };
    let shares: Vec<serde_json::Value> = (0..res.temperatures.len())
        .map(|it| {
            let sum = |pick: &dyn Fn(&crate::anharmonic::linewidth::GammaParts) -> &Vec<Vec<f64>>| -> f64 {
                parts
                    .iter()
                    .zip(&res.weights)
                    .map(|(p, &w)| w as f64 * pick(p)[it].iter().sum::<f64>())
                    .sum()
            };
            let (u, n, d, c) = (
                sum(&|p| &p.umklapp),
                sum(&|p| &p.normal),
                sum(&|p| &p.decay),
                sum(&|p| &p.coalescence),
            );
            let share = |x: f64, total: f64| if total > 0.0 { x / total } else { 0.0 };
            json!({"temperature": res.temperatures[it], "umklapp": share(u, u + n), "decay": share(d, d + c)})
        })
        .collect();
    json!(shares)
}

/// kappa_spectral.json (spectral and cumulative κ, κ vs mean free path, lifetimes and regimes
/// per temperature) and, unless --no-plots, the cumulative-κ and lifetime plots.
fn write_decompositions(a: &KappaArgs, res: &crate::transport::job::KappaResult) -> Result<()> {
    use crate::output::plots::{XyPlot, plot_xy};
    use crate::transport::spectral::decompose;
    if !(a.spectral_bin > 0.0 && a.spectral_bin.is_finite()) {
        return Err(Error::input(format!(
            "--spectral-bin: expected a positive width in THz, found {}",
            a.spectral_bin
        )));
    }
    let parts: Vec<_> = (0..res.temperatures.len())
        .map(|it| decompose(res, it, a.spectral_bin, a.cutoff_frequency))
        .collect();
    write_json(
        &a.out.join("kappa_spectral.json"),
        &json!({"temperatures": parts, "units": {"frequency": "THz", "kappa_spectral": "W/(m K THz)",
                "kappa_cumulative": "W/(m K)", "mean_free_path": "angstrom", "lifetime": "ps",
                "regime": "0 particle-like, 1 wave-like, 2 overdamped, 3 not classified"},
                "note": "scalars are isotropic averages (xx+yy+zz)/3, *_tensor the Voigt components xx yy zz yz xz xy; κ_C pairs at their mean frequency"}),
    )?;
    if a.no_plots {
        return Ok(());
    }
    for p in &parts {
        let t = p.temperature;
        let f = &p.frequency;
        let curve = |name: &str, y: Vec<f64>| -> (String, Vec<(f64, f64)>) {
            (name.to_string(), f.iter().copied().zip(y).collect())
        };
        // Anisotropic crystals (diagonal components differing by more than 1 %) get one curve
        // per direction; cubic ones the isotropic average.
        let last = p
            .kappa_p_cumulative_tensor
            .last()
            .copied()
            .unwrap_or([0.0; 6]);
        let anisotropic = (0..3).any(|c| (last[c] - last[0]).abs() > 0.01 * last[0].abs());
        let component = |v: &[[f64; 6]], c: usize| v.iter().map(|x| x[c]).collect::<Vec<f64>>();
        let mut lines = Vec::new();
        for (label, tensor, iso) in [
            ("κ_P", &p.kappa_p_cumulative_tensor, &p.kappa_p_cumulative),
            ("κ_C", &p.kappa_c_cumulative_tensor, &p.kappa_c_cumulative),
        ] {
            if label == "κ_C" && res.wigner.is_none() {
                continue;
            }
            if anisotropic {
                // One curve per distinct direction; equal ones (xx = yy in hexagonal and
                // tetragonal crystals) share a curve and a label.
                let same = |a: usize, b: usize| (last[a] - last[b]).abs() <= 0.01 * last[a].abs();
                let mut done = [false; 3];
                for c in 0..3 {
                    if done[c] {
                        continue;
                    }
                    let group: Vec<usize> = (c..3).filter(|&d| !done[d] && same(c, d)).collect();
                    let axes: Vec<&str> = group.iter().map(|&d| ["xx", "yy", "zz"][d]).collect();
                    group.iter().for_each(|&d| done[d] = true);
                    let name = format!("{label} {} cumulative", axes.join(" = "));
                    lines.push(curve(&name, component(tensor, c)));
                }
            } else {
                lines.push(curve(&format!("{label} cumulative"), iso.clone()));
            }
        }
        plot_xy(
            &a.out.join(format!("kappa_cumulative_{t}K")),
            &XyPlot {
                x_label: "Frequency (THz)".into(),
                y_label: "Cumulative κ (W/m·K)".into(),
                markers: vec![],
                lines,
            },
        )?;
        let markers: Vec<(f64, f64)> = res
            .frequencies
            .iter()
            .zip(&p.lifetime)
            .flat_map(|(fs, ts)| {
                fs.iter()
                    .zip(ts)
                    .filter(|(_, t)| **t > 0.0)
                    .map(|(f, t)| (*f, t.log10()))
            })
            .collect();
        let fmax = f.last().copied().unwrap_or(1.0);
        let ir: Vec<(f64, f64)> = (1..=200)
            .map(|i| fmax * i as f64 / 200.0)
            .map(|x| (x, (1.0 / (2.0 * std::f64::consts::PI * x)).log10()))
            .collect();
        plot_xy(
            &a.out.join(format!("lifetimes_{t}K")),
            &XyPlot {
                x_label: "Frequency (THz)".into(),
                y_label: "log10 lifetime (ps)".into(),
                markers: vec![("τ = 1/(4πΓ)".into(), markers)],
                lines: vec![
                    (
                        "Wigner limit".into(),
                        vec![
                            (0.0, p.wigner_limit_ps.log10()),
                            (fmax, p.wigner_limit_ps.log10()),
                        ],
                    ),
                    ("Ioffe–Regel limit".into(), ir),
                ],
            },
        )?;
    }
    Ok(())
}

/// Prints the cost estimate and refuses a run whose memory estimate exceeds what is available
/// (unless --force).
fn check_plan(a: &KappaArgs, p: &crate::transport::plan::KappaPlan) -> Result<()> {
    eprintln!("latdyn kappa: {}", describe_plan(p));
    if let Some(avail) = crate::transport::plan::available_memory()
        && p.memory_bytes > avail
        && !a.force
    {
        return Err(Error::input(format!(
            "the run needs ≈ {:.1} GB but {:.1} GB are available; use a smaller mesh, fewer temperatures, no --wigner/--lbte, or --force",
            p.memory_bytes / 1e9,
            avail / 1e9
        )));
    }
    Ok(())
}

/// One line: irreducible q, triplets, memory and time estimates.
pub fn describe_plan(p: &crate::transport::plan::KappaPlan) -> String {
    let threads = rayon::current_num_threads();
    let four = if p.four_phonon_core_seconds > 0.0 {
        format!(" ({:.0} of them four-phonon)", p.four_phonon_core_seconds)
    } else {
        String::new()
    };
    // A run that reads its three-phonon Γ has no triplets to compute.
    let triplets = if p.n_triplets > 0 {
        format!("{} triplets", p.n_triplets)
    } else {
        "three-phonon Γ read".to_string()
    };
    format!(
        "{} irreducible q, {triplets}; estimated memory {:.0} MB, ≈ {:.0} core-seconds{four} (≈ {:.0} s on {threads} threads)",
        p.n_irreducible_q,
        p.memory_bytes / 1e6,
        p.core_seconds,
        p.core_seconds / threads as f64
    )
}
