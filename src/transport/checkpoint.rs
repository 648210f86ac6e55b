//! Per-q linewidth files of a κ run, written as each irreducible q finishes, so that a killed run
//! resumes where it stopped and a cluster job array can split the q-points (`--q-range`): every
//! job writes its files into the same folder and a final run without `--q-range` finds them all
//! and only assembles κ.
//!
//! Layout: `DIR/linewidths/q{index}.json` = {"key", "grid_point", "gamma": [T][band], "parts":
//! {decay, coalescence, normal, umklapp, phase_space_decay, phase_space_coalescence}}. The key
//! records every setting that changes Γ; a file with another key is an error, not silently reused.
//! With `--lbte` the point's collision-matrix rows go to `q{index}.collisions.bin` (little-endian
//! f64, [T][row]), written before the JSON file so a JSON file always has its rows.

use super::job::PointScattering;
use crate::anharmonic::linewidth::GammaParts;
use crate::error::{Error, Result};
use serde_json::json;
use std::path::{Path, PathBuf};

/// One JSON file per irreducible point, `DIR/{folder}/q{index}.json`, each carrying the key of
/// the settings that wrote it: the resume mechanism shared by the three- and four-phonon
/// linewidths.
pub struct KeyedFiles {
    dir: PathBuf,
    key: serde_json::Value,
}

impl KeyedFiles {
    pub fn new(out: &Path, folder: &str, key: serde_json::Value) -> Result<KeyedFiles> {
        let dir = out.join(folder);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(KeyedFiles { dir, key })
    }

    pub fn path(&self, iq: usize) -> PathBuf {
        self.dir.join(format!("q{iq:06}.json"))
    }

    /// The file of point `iq` (its path and content), None when there is none; a file that
    /// is not JSON (`what` names what it should be) or has another key is an error.
    pub fn read(&self, iq: usize, what: &str) -> Result<Option<(PathBuf, serde_json::Value)>> {
        let p = self.path(iq);
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&p, e)),
        };
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::parse(&p, e.line(), format!("not a {what}: {e}")))?;
        if v["key"] != self.key {
            return Err(Error::input(format!(
                "{} was written by a run with other settings ({}); this run has {}. Use another --out or remove {}",
                p.display(),
                v["key"],
                self.key,
                self.dir.display()
            )));
        }
        Ok(Some((p, v)))
    }

    /// Writes `fields` plus the key as the file of point `iq`, atomically (temporary file,
    /// then rename), so a kill never leaves a half-written file behind.
    pub fn write(
        &self,
        iq: usize,
        mut fields: serde_json::Map<String, serde_json::Value>,
    ) -> Result<()> {
        fields.insert("key".into(), self.key.clone());
        let text = serde_json::to_string(&fields).map_err(|e| Error::Numerical(e.to_string()))?;
        let p = self.path(iq);
        let tmp = p.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &p).map_err(|e| Error::io(&p, e))
    }
}

/// A JSON [nt][nb] array of numbers, None unless it has exactly that shape.
pub fn json_table(x: &serde_json::Value, nt: usize, nb: usize) -> Option<Vec<Vec<f64>>> {
    let rows: Vec<Vec<f64>> = x
        .as_array()?
        .iter()
        .map(|r| r.as_array()?.iter().map(|y| y.as_f64()).collect())
        .collect::<Option<_>>()?;
    (rows.len() == nt && rows.iter().all(|r| r.len() == nb)).then_some(rows)
}

pub struct Checkpoint {
    files: KeyedFiles,
}

impl Checkpoint {
    pub fn new(out: &Path, key: serde_json::Value) -> Result<Checkpoint> {
        Ok(Checkpoint {
            files: KeyedFiles::new(out, "linewidths", key)?,
        })
    }

    fn rows_path(&self, iq: usize) -> PathBuf {
        self.files.dir.join(format!("q{iq:06}.collisions.bin"))
    }

    /// Γ[T][s] of irreducible point `iq` (and its collision rows of `row_len` values per
    /// temperature, when given) if its files exist.
    pub fn load(
        &self,
        iq: usize,
        grid_point: usize,
        nt: usize,
        nb: usize,
        row_len: Option<usize>,
    ) -> Result<Option<PointScattering>> {
        let Some((gamma, parts)) = self.load_gamma(iq, grid_point, nt, nb)? else {
            return Ok(None);
        };
        let rows = match row_len {
            // A point done by a run without --lbte has no rows: compute it again.
            Some(len) => match self.load_rows(iq, nt, len)? {
                Some(r) => Some(r),
                None => return Ok(None),
            },
            None => None,
        };
        Ok(Some(PointScattering { gamma, parts, rows }))
    }

    fn load_rows(&self, iq: usize, nt: usize, len: usize) -> Result<Option<Vec<Vec<f64>>>> {
        let p = self.rows_path(iq);
        let bytes = match std::fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&p, e)),
        };
        if bytes.len() != nt * len * 8 {
            return Err(Error::dataset(
                &p,
                "collision rows",
                format!(
                    "expected {} bytes ({nt} temperatures × {len} values), found {}",
                    nt * len * 8,
                    bytes.len()
                ),
            ));
        }
        let values: Vec<f64> = bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        if values.iter().any(|x| !x.is_finite()) {
            return Err(Error::dataset(&p, "collision rows", "non-finite value"));
        }
        Ok(Some(values.chunks(len).map(|c| c.to_vec()).collect()))
    }

    fn load_gamma(
        &self,
        iq: usize,
        grid_point: usize,
        nt: usize,
        nb: usize,
    ) -> Result<Option<(Vec<Vec<f64>>, GammaParts)>> {
        let Some((p, v)) = self.files.read(iq, "linewidth file")? else {
            return Ok(None);
        };
        let table = |x: &serde_json::Value| json_table(x, nt, nb);
        let bad = || {
            Error::dataset(
                &p,
                "gamma",
                format!("expected grid point {grid_point} and [{nt}][{nb}] finite values"),
            )
        };
        if v["grid_point"].as_u64() != Some(grid_point as u64) {
            return Err(bad());
        }
        let gamma = table(&v["gamma"]).ok_or_else(bad)?;
        // A file from a version without the process split: compute the point again.
        if v.get("parts").is_none() {
            return Ok(None);
        }
        let mut parts = GammaParts::default();
        for (name, t) in GammaParts::NAMES.iter().zip(parts.tables_mut()) {
            *t = table(&v["parts"][name])
                .ok_or_else(|| Error::dataset(&p, name, format!("expected [{nt}][{nb}] values")))?;
        }
        Ok(Some((gamma, parts)))
    }

    /// Writes Γ of irreducible point `iq` atomically (temporary file, then rename), so a kill
    /// never leaves a half-written file behind.
    pub fn save(&self, iq: usize, grid_point: usize, point: &PointScattering) -> Result<()> {
        let gamma = &point.gamma;
        crate::output::finite("gamma", gamma.iter().flatten().copied())?;
        if let Some(rows) = &point.rows {
            crate::output::finite("collision rows", rows.iter().flatten().copied())?;
            let p = self.rows_path(iq);
            let tmp = p.with_extension("bin.tmp");
            let bytes: Vec<u8> = rows
                .iter()
                .flatten()
                .flat_map(|x| x.to_le_bytes())
                .collect();
            std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
            std::fs::rename(&tmp, &p).map_err(|e| Error::io(&p, e))?;
        }
        let parts: serde_json::Map<String, serde_json::Value> = GammaParts::NAMES
            .iter()
            .zip(point.parts.tables())
            .map(|(n, t)| (n.to_string(), json!(t)))
            .collect();
        let fields = json!({"grid_point": grid_point, "gamma": gamma, "parts": parts});
        self.files
            .write(iq, fields.as_object().expect("an object").clone())
    }
}
