//! phonopy.yaml / phonopy_disp.yaml / phonopy_params.yaml and the phono3py equivalents
//! (formats.md §3.3, §4.2): unit cell, primitive matrix, supercell matrices (with the separate
//! fc2 supercell of phono3py), explicit supercell atom order, masses and NAC parameters.

use crate::crystal::{Cell, elements};
use crate::error::{Error, Result};
use crate::harmonic::nac::Born;
use crate::linalg::{IDENTITY, Mat3};
use crate::units::{BOHR_ANGSTROM, NAC_FACTOR_EV_ANGSTROM};
use serde_yaml::Value;
use std::path::Path;

#[derive(Clone, Debug)]
pub struct PhonopyYaml {
    pub unit_cell: Cell,
    pub primitive_matrix: Mat3,
    pub supercell_matrix: [[i32; 3]; 3],
    /// phono3py's separate fc2 supercell (`phonon_supercell_matrix`), when present.
    pub phonon_supercell_matrix: Option<[[i32; 3]; 3]>,
    pub supercell: Option<Cell>,
    pub phonon_supercell: Option<Cell>,
    pub born: Option<Born>,
    pub calculator: Option<String>,
}

impl PhonopyYaml {
    /// Supercell matrix and explicit supercell of the fc2 (phonon supercell when there is one).
    pub fn fc2_supercell(&self) -> ([[i32; 3]; 3], Option<Cell>) {
        match self.phonon_supercell_matrix {
            Some(m) => (m, self.phonon_supercell.clone()),
            None => (self.supercell_matrix, self.supercell.clone()),
        }
    }
}

fn err(path: &Path, key: &str, msg: impl Into<String>) -> Error {
    Error::parse(path, 0, format!("key '{key}': {}", msg.into()))
}

fn f64_of(path: &Path, key: &str, v: &Value) -> Result<f64> {
    v.as_f64().filter(|x| x.is_finite()).ok_or_else(|| {
        err(
            path,
            key,
            format!("expected a finite number, found {}", short(v)),
        )
    })
}

fn short(v: &Value) -> String {
    let s = serde_yaml::to_string(v).unwrap_or_default();
    let s = s.trim().replace('\n', " ");
    if s.len() > 60 {
        format!("{}…", &s[..60])
    } else {
        s
    }
}

fn mat3(path: &Path, key: &str, v: &Value) -> Result<Mat3> {
    let rows = v.as_sequence().filter(|r| r.len() == 3).ok_or_else(|| {
        err(
            path,
            key,
            format!("expected 3 rows of 3 numbers, found {}", short(v)),
        )
    })?;
    let mut m = [[0.0; 3]; 3];
    for (i, r) in rows.iter().enumerate() {
        m[i] = vec3(path, key, r)?;
    }
    Ok(m)
}

fn vec3(path: &Path, key: &str, v: &Value) -> Result<[f64; 3]> {
    let s = v
        .as_sequence()
        .filter(|r| r.len() == 3)
        .ok_or_else(|| err(path, key, format!("expected 3 numbers, found {}", short(v))))?;
    Ok([
        f64_of(path, key, &s[0])?,
        f64_of(path, key, &s[1])?,
        f64_of(path, key, &s[2])?,
    ])
}

fn int_mat3(path: &Path, key: &str, v: &Value) -> Result<[[i32; 3]; 3]> {
    let m = mat3(path, key, v)?;
    crate::linalg::to_integer(&m, 1e-8)
        .ok_or_else(|| err(path, key, format!("expected integers, found {m:?}")))
}

fn cell_block(path: &Path, key: &str, v: &Value, length_scale: f64) -> Result<Cell> {
    let mut lattice = mat3(
        path,
        &format!("{key}.lattice"),
        v.get("lattice").unwrap_or(&Value::Null),
    )?;
    for r in lattice.iter_mut() {
        for x in r.iter_mut() {
            *x *= length_scale;
        }
    }
    let points = v
        .get("points")
        .or_else(|| v.get("atoms"))
        .and_then(|p| p.as_sequence())
        .ok_or_else(|| err(path, &format!("{key}.points"), "missing list of atoms"))?;
    let mut positions = Vec::new();
    let mut symbols = Vec::new();
    let mut masses = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let k = format!("{key}.points[{}]", i + 1);
        if p.get("mixture").is_some() {
            return Err(err(path, &k, "site mixtures are not supported"));
        }
        let sym_raw = p
            .get("symbol")
            .and_then(|s| s.as_str())
            .ok_or_else(|| err(path, &k, "missing 'symbol'"))?;
        let sym = elements::element_symbol(sym_raw)
            .ok_or_else(|| err(path, &k, format!("unknown element '{sym_raw}'")))?;
        positions.push(vec3(
            path,
            &format!("{k}.coordinates"),
            p.get("coordinates").unwrap_or(&Value::Null),
        )?);
        let m = match p.get("mass") {
            Some(m) => f64_of(path, &format!("{k}.mass"), m)?,
            None => elements::standard_mass(sym).expect("symbol from table"),
        };
        symbols.push(sym.to_string());
        masses.push(m);
    }
    Cell::new(lattice, positions, symbols, masses).map_err(|e| err(path, key, e.to_string()))
}

pub fn read_phonopy_yaml(path: &Path) -> Result<PhonopyYaml> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let doc: Value = serde_yaml::from_str(&text).map_err(|e| {
        let line = e.location().map(|l| l.line()).unwrap_or(0);
        Error::parse(path, line, format!("not valid YAML: {e}"))
    })?;
    if !doc.is_mapping() {
        return Err(Error::parse(
            path,
            1,
            "expected a YAML mapping (phonopy.yaml layout)",
        ));
    }
    let header = doc.get("phonopy").or_else(|| doc.get("phono3py"));
    let calculator = header
        .and_then(|h| h.get("calculator"))
        .and_then(|c| c.as_str())
        .map(|s| s.to_string());
    let length = doc
        .get("physical_unit")
        .and_then(|u| u.get("length"))
        .and_then(|l| l.as_str())
        .unwrap_or("angstrom");
    let scale = match length {
        "angstrom" | "Angstrom" | "AA" => 1.0,
        "au" | "bohr" | "Bohr" => BOHR_ANGSTROM,
        other => {
            return Err(err(
                path,
                "physical_unit.length",
                format!("expected 'angstrom' or 'au', found '{other}'"),
            ));
        }
    };
    let unit_cell = match doc.get("unit_cell") {
        Some(u) => cell_block(path, "unit_cell", u, scale)?,
        None if doc.get("lattice").is_some() => cell_block(path, "(top level)", &doc, scale)?,
        None => {
            return Err(err(
                path,
                "unit_cell",
                "missing: not a phonopy/phono3py yaml with a structure",
            ));
        }
    };
    let primitive_matrix = match doc.get("primitive_matrix") {
        Some(v) => mat3(path, "primitive_matrix", v)?,
        None => IDENTITY,
    };
    let supercell_matrix = match doc.get("supercell_matrix") {
        Some(v) => int_mat3(path, "supercell_matrix", v)?,
        None => return Err(err(path, "supercell_matrix", "missing")),
    };
    let phonon_supercell_matrix = doc
        .get("phonon_supercell_matrix")
        .map(|v| int_mat3(path, "phonon_supercell_matrix", v))
        .transpose()?;
    let supercell = doc
        .get("supercell")
        .map(|v| cell_block(path, "supercell", v, scale))
        .transpose()?;
    let phonon_supercell = doc
        .get("phonon_supercell")
        .map(|v| cell_block(path, "phonon_supercell", v, scale))
        .transpose()?;
    let nac = doc.get("nac").cloned().or_else(|| {
        // Very old files: top-level born_effective_charge / dielectric_constant.
        doc.get("born_effective_charge").map(|_| doc.clone())
    });
    let born = match nac {
        Some(n) => {
            let z = n
                .get("born_effective_charge")
                .and_then(|b| b.as_sequence())
                .ok_or_else(|| err(path, "nac.born_effective_charge", "missing"))?
                .iter()
                .enumerate()
                .map(|(i, m)| mat3(path, &format!("nac.born_effective_charge[{}]", i + 1), m))
                .collect::<Result<Vec<_>>>()?;
            let eps = mat3(
                path,
                "nac.dielectric_constant",
                n.get("dielectric_constant").unwrap_or(&Value::Null),
            )?;
            let factor = n
                .get("unit_conversion_factor")
                .or_else(|| header.and_then(|h| h.get("nac_unit_conversion_factor")))
                .map(|v| f64_of(path, "nac.unit_conversion_factor", v))
                .transpose()?
                .unwrap_or(NAC_FACTOR_EV_ANGSTROM);
            Some(Born {
                epsilon: eps,
                charges: z,
                factor,
            })
        }
        None => None,
    };
    Ok(PhonopyYaml {
        unit_cell,
        primitive_matrix,
        supercell_matrix,
        phonon_supercell_matrix,
        supercell,
        phonon_supercell,
        born,
        calculator,
    })
}
