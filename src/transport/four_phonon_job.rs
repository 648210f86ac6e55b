//! Four-phonon linewidths of a κ run: Γ_4ph at every irreducible q of the mesh, per process
//! class, written as each point finishes (`DIR/fourphonon/q{index}.json`, so a killed run
//! resumes and `--q-range` jobs split the work like the three-phonon linewidths), averaged over
//! degenerate modes, then added to the three-phonon Γ (Matthiessen) by the κ job.

use super::checkpoint::{KeyedFiles, json_table};
use crate::anharmonic::fc4_fourier::Fc4Fourier;
use crate::anharmonic::four_phonon::{
    CLASS_NAMES, FourDelta, FourPhononAtQ, FourPhononMode, FourPhononOptions, four_phonon_at,
};
use crate::anharmonic::linewidth::MeshPhonons;
use crate::error::{Error, Result};
use crate::harmonic::eigen::{average_over_sets, degenerate_sets};
use crate::units::DEGENERACY_TOL_THZ;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a κ run needs to add four-phonon scattering.
#[derive(Clone)]
pub struct FourPhononSettings {
    pub fc4: Arc<Fc4Fourier>,
    pub delta: FourDelta,
    pub mode: FourPhononMode,
    /// What identifies the fc4 (file and size) in the resume files' key.
    pub identity: serde_json::Value,
}

impl std::fmt::Debug for FourPhononSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FourPhononSettings")
            .field("delta", &self.delta)
            .field("mode", &self.mode)
            .finish()
    }
}

/// Γ_4ph of a complete run, degenerate modes averaged.
#[derive(Clone, Debug)]
pub struct FourPhononResult {
    /// [class][T][q][s] (THz), classes in `CLASS_NAMES` order.
    pub gamma: [Vec<Vec<Vec<f64>>>; 3],
    /// Standard errors of the sampled estimates, same layout (zeros when exact).
    pub std_error: [Vec<Vec<Vec<f64>>>; 3],
    /// Per irreducible q: processes in the energy window and pairs built, per class.
    pub processes: Vec<[u64; 3]>,
    pub pairs_built: Vec<[u64; 3]>,
    pub delta: FourDelta,
    pub mode: FourPhononMode,
    /// κ_P and κ_C [T][6] with three-phonon (and isotope/boundary) scattering only.
    pub kappa_p_3ph: Vec<[f64; 6]>,
    pub kappa_c_3ph: Vec<[f64; 6]>,
    /// Sampling standard error of κ_P [T][6] (zeros when exact).
    pub kappa_p_std_error: Vec<[f64; 6]>,
}

impl FourPhononResult {
    /// Γ_4ph [T][q][s] summed over the classes.
    pub fn total(&self) -> Vec<Vec<Vec<f64>>> {
        sum_tables(&self.gamma, |x| x)
    }

    /// Standard error of the total [T][q][s] (classes sampled independently).
    pub fn total_error(&self) -> Vec<Vec<Vec<f64>>> {
        let sq = sum_tables(&self.std_error, |x| x * x);
        sq.into_iter()
            .map(|t| {
                t.into_iter()
                    .map(|r| r.into_iter().map(f64::sqrt).collect())
                    .collect()
            })
            .collect()
    }
}

fn sum_tables(t: &[Vec<Vec<Vec<f64>>>; 3], f: impl Fn(f64) -> f64) -> Vec<Vec<Vec<f64>>> {
    let mut out = t[0].clone();
    for (it, a) in out.iter_mut().enumerate() {
        for (iq, b) in a.iter_mut().enumerate() {
            for (s, x) in b.iter_mut().enumerate() {
                *x = (0..3).map(|c| f(t[c][it][iq][s])).sum();
            }
        }
    }
    out
}

/// Γ_4ph at the irreducible grid points `points` (those in `range` computed, the others read
/// from `checkpoint` when there); None for a point neither done nor in range.
#[allow(clippy::too_many_arguments)]
pub fn four_phonon_points(
    ph: &MeshPhonons,
    points: &[usize],
    settings: &FourPhononSettings,
    temperatures: &[f64],
    cutoff_frequency: f64,
    range: (usize, usize),
    checkpoint: Option<&(PathBuf, serde_json::Value)>,
    progress: bool,
) -> Result<Vec<Option<FourPhononAtQ>>> {
    let opts = FourPhononOptions {
        temperatures: temperatures.to_vec(),
        cutoff_frequency,
        delta: settings.delta,
        mode: settings.mode,
    };
    let store = checkpoint
        .map(|(dir, key)| Store::new(dir, four_phonon_key(key, settings, temperatures)))
        .transpose()?;
    let (nt, nb) = (temperatures.len(), ph.nb);
    let todo = (range.0..range.1).count() as u64;
    let pb = crate::harmonic::phonons::progress_bar(todo, "four-phonon", progress);
    let mut out = Vec::with_capacity(points.len());
    // One point at a time: each spreads its (q', q'') pairs over the threads.
    for (iq, &g0) in points.iter().enumerate() {
        if let Some(s) = &store
            && let Some(p) = s.load(iq, g0, nt, nb)?
        {
            out.push(Some(p));
            continue;
        }
        if iq < range.0 || iq >= range.1 {
            out.push(None);
            continue;
        }
        let mut p = four_phonon_at(g0, ph, &settings.fc4, &opts);
        average_degenerate(&mut p, ph.freqs(g0));
        if let Some(s) = &store {
            s.save(iq, g0, &p)?;
        }
        pb.inc(1);
        out.push(Some(p));
    }
    pb.finish_and_clear();
    Ok(out)
}

/// The settings that change Γ_4ph, added to the run's key (with the temperatures computed:
/// with --read-gamma they are the file's, not the command line's).
fn four_phonon_key(
    key: &serde_json::Value,
    s: &FourPhononSettings,
    temperatures: &[f64],
) -> serde_json::Value {
    json!({"run": key, "fc4": s.identity, "four_phonon": format!("{:?} {:?}", s.delta, s.mode),
           "temperatures": temperatures})
}

/// Averages every table over the degenerate modes of q (FourPhonon does not; its rates differ
/// between partners of a degenerate set, while their sum is what compares).
fn average_degenerate(p: &mut FourPhononAtQ, freqs: &[f64]) {
    let sets = degenerate_sets(freqs, DEGENERACY_TOL_THZ);
    for table in p.gamma.iter_mut().chain(p.std_error.iter_mut()) {
        for row in table.iter_mut() {
            average_over_sets(row, &sets);
        }
    }
}

/// Per-point files of Γ_4ph (`DIR/fourphonon/q{index}.json`).
struct Store(KeyedFiles);

impl Store {
    fn new(out: &Path, key: serde_json::Value) -> Result<Store> {
        Ok(Store(KeyedFiles::new(out, "fourphonon", key)?))
    }

    fn load(&self, iq: usize, g0: usize, nt: usize, nb: usize) -> Result<Option<FourPhononAtQ>> {
        let Some((p, v)) = self.0.read(iq, "four-phonon file")? else {
            return Ok(None);
        };
        let bad = |what: &str| {
            Error::dataset(
                &p,
                what,
                format!("expected grid point {g0} and [{nt}][{nb}] finite values per class"),
            )
        };
        if v["grid_point"].as_u64() != Some(g0 as u64) {
            return Err(bad("grid_point"));
        }
        let table = |x: &serde_json::Value, what: &str| -> Result<Vec<Vec<f64>>> {
            json_table(x, nt, nb).ok_or_else(|| bad(what))
        };
        let counts = |name: &str| -> Result<[u64; 3]> {
            let c: Option<Vec<u64>> = v[name]
                .as_array()
                .and_then(|a| a.iter().map(|x| x.as_u64()).collect());
            c.and_then(|c| c.try_into().ok()).ok_or_else(|| bad(name))
        };
        let mut gamma: [Vec<Vec<f64>>; 3] = Default::default();
        let mut std_error: [Vec<Vec<f64>>; 3] = Default::default();
        for (c, name) in CLASS_NAMES.iter().enumerate() {
            gamma[c] = table(&v["gamma"][name], name)?;
            std_error[c] = table(&v["std_error"][name], name)?;
        }
        Ok(Some(FourPhononAtQ {
            gamma,
            std_error,
            processes: counts("processes")?,
            pairs_built: counts("pairs_built")?,
        }))
    }

    fn save(&self, iq: usize, g0: usize, p: &FourPhononAtQ) -> Result<()> {
        for t in p.gamma.iter().chain(&p.std_error) {
            crate::output::finite("gamma_4ph", t.iter().flatten().copied())?;
        }
        let by_class = |t: &[Vec<Vec<f64>>; 3]| -> serde_json::Value {
            CLASS_NAMES
                .iter()
                .zip(t)
                .map(|(n, x)| (n.to_string(), json!(x)))
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let fields = json!({
            "grid_point": g0,
            "gamma": by_class(&p.gamma), "std_error": by_class(&p.std_error),
            "processes": p.processes, "pairs_built": p.pairs_built,
        });
        self.0
            .write(iq, fields.as_object().expect("an object").clone())
    }
}
