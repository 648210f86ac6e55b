//! The TOML run deck of `latdyn run`, also built from the flags of `latdyn phonons`.
//! Every key is documented in the README; unknown keys are errors (a typo must not be ignored).

use crate::error::{Error, Result};
use crate::linalg::Mat3;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Deck {
    /// Structure: phonopy/phono3py yaml, POSCAR (needs `supercell`), or TDEP infile.ucposcar.
    pub cell: PathBuf,
    /// fc2 in any supported format.
    pub fc2: PathBuf,
    pub born: Option<PathBuf>,
    /// fc2 supercell matrix: 3 (diagonal) or 9 (row-major) integers. Overrides the yaml.
    pub supercell: Option<Vec<i32>>,
    /// Primitive matrix: "F", "I", "A", "C", "R", "P", or 9 numbers (row-major).
    pub primitive: Option<toml::Value>,
    /// Per-species masses (amu), e.g. { Si = 28.0855 }.
    #[serde(default)]
    pub masses: BTreeMap<String, f64>,
    /// Apply the non-analytic correction when Born charges are present (default true).
    pub nac: Option<bool>,
    /// Enforce the fc2 acoustic sum rule: true, false, or absent = only if violated by > 1e-8.
    pub enforce_asr: Option<bool>,
    /// Explicit q-points (reduced coordinates of the primitive reciprocal basis).
    pub qpoints: Option<Vec<[f64; 3]>>,
    /// Direction of approach to Γ for the non-analytic term at q = 0 (reduced).
    pub q_direction: Option<[f64; 3]>,
    /// Sampling mesh.
    pub mesh: Option<[usize; 3]>,
    /// Half-grid shift of the mesh per axis.
    pub mesh_shift: Option<[bool; 3]>,
    /// Band path: "auto" or "G 0 0 0 X 0.5 0 0.5 | ..." (label + reduced q).
    pub band: Option<String>,
    pub band_points: Option<usize>,
    /// DOS method: "tetrahedron" (default) or "gaussian".
    pub dos_method: Option<String>,
    /// Gaussian σ in THz (default 0.1).
    pub sigma: Option<f64>,
    /// DOS frequency grid step (THz, default 0.05) and range (default 0 to max·1.05).
    pub dos_step: Option<f64>,
    pub dos_range: Option<[f64; 2]>,
    /// Temperatures for thermodynamics (K); default 0..1000 step 10.
    pub temperatures: Option<Vec<f64>>,
    /// Modes at or below this frequency are left out of thermodynamics (THz, default 0.01).
    pub cutoff_frequency: Option<f64>,
    /// Output folder (default "out"), relative to the deck.
    pub output: Option<PathBuf>,
    /// Write SVG/PNG plots (default true).
    pub plots: Option<bool>,
    /// Experimental C/T vs T² data for the Debye + Einstein fit: file with columns T(K) C(J/K/mol).
    pub heat_capacity_data: Option<PathBuf>,
    /// Number of Einstein terms in the Debye + Einstein fit (default 1). Setting it without
    /// `heat_capacity_data` fits latdyn's own C_v.
    pub einstein_terms: Option<usize>,
    /// Temperature window of that fit (K): default the whole table, or [2, 40] for computed C_v.
    pub heat_capacity_fit_range: Option<[f64; 2]>,
    /// Atoms per mole-unit of the table, for Θ_D (default 1 = per mole of atoms; computed C_v
    /// is per mole of primitive cells, so the primitive cell's atom count is used there).
    pub heat_capacity_atoms: Option<f64>,
    /// Fit the electronic γ term (default true for measured data, false for computed C_v).
    pub heat_capacity_gamma: Option<bool>,
}

impl Deck {
    pub fn from_file(path: &Path) -> Result<Deck> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut deck: Deck = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start].lines().count().max(1))
                .unwrap_or(0);
            Error::parse(path, line, e.message().to_string())
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rel = |p: &PathBuf| {
            if p.is_absolute() {
                p.clone()
            } else {
                base.join(p)
            }
        };
        deck.cell = rel(&deck.cell);
        deck.fc2 = rel(&deck.fc2);
        deck.born = deck.born.as_ref().map(rel);
        deck.heat_capacity_data = deck.heat_capacity_data.as_ref().map(rel);
        deck.output = Some(rel(deck.output.as_ref().unwrap_or(&PathBuf::from("out"))));
        Ok(deck)
    }

    pub fn supercell_matrix(&self) -> Result<Option<[[i32; 3]; 3]>> {
        self.supercell
            .as_ref()
            .map(|v| parse_supercell(v))
            .transpose()
    }

    pub fn primitive_matrix(&self) -> Result<Option<Mat3>> {
        match &self.primitive {
            None => Ok(None),
            Some(toml::Value::String(s)) => named_primitive(s).map(Some),
            Some(toml::Value::Array(a)) => {
                let v: Vec<f64> = a
                    .iter()
                    .map(|x| {
                        x.as_float()
                            .or(x.as_integer().map(|i| i as f64))
                            .ok_or_else(|| Error::input("primitive: expected numbers"))
                    })
                    .collect::<Result<_>>()?;
                parse_primitive_numbers(&v).map(Some)
            }
            Some(other) => Err(Error::input(format!(
                "primitive: expected a name (F, I, ...) or 9 numbers, found {other}"
            ))),
        }
    }
}

/// 3 integers (diagonal) or 9 (row-major).
pub fn parse_supercell(v: &[i32]) -> Result<[[i32; 3]; 3]> {
    match v.len() {
        3 => Ok([[v[0], 0, 0], [0, v[1], 0], [0, 0, v[2]]]),
        9 => Ok([[v[0], v[1], v[2]], [v[3], v[4], v[5]], [v[6], v[7], v[8]]]),
        n => Err(Error::input(format!(
            "supercell: expected 3 or 9 integers, found {n}"
        ))),
    }
}

pub fn parse_primitive_numbers(v: &[f64]) -> Result<Mat3> {
    if v.len() != 9 {
        return Err(Error::input(format!(
            "primitive matrix: expected 9 numbers, found {}",
            v.len()
        )));
    }
    Ok([[v[0], v[1], v[2]], [v[3], v[4], v[5]], [v[6], v[7], v[8]]])
}

/// phonopy's named primitive matrices (--pa).
pub fn named_primitive(name: &str) -> Result<Mat3> {
    let h = 0.5;
    let t = 1.0 / 3.0;
    Ok(match name.to_uppercase().as_str() {
        "P" => crate::linalg::IDENTITY,
        "F" => [[0.0, h, h], [h, 0.0, h], [h, h, 0.0]],
        "I" => [[-h, h, h], [h, -h, h], [h, h, -h]],
        "A" => [[1.0, 0.0, 0.0], [0.0, h, -h], [0.0, h, h]],
        "C" => [[h, h, 0.0], [-h, h, 0.0], [0.0, 0.0, 1.0]],
        "R" => [[2.0 * t, -t, -t], [t, t, -2.0 * t], [t, t, t]],
        other => {
            return Err(Error::input(format!(
                "primitive: unknown name '{other}' (use F, I, A, C, R, P or 9 numbers)"
            )));
        }
    })
}
