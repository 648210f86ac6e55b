//! Mode half widths for the Lorentzian and DHO lineshapes: a constant, or the computed
//! three-(+four-)phonon Γ_λ of a `latdyn kappa` run (its kappa.json), looked up at the mesh point
//! nearest to each q = Q − G through the mesh's symmetry map.

use crate::crystal::Cell;
use crate::crystal::symmetry::Symmetry;
use crate::error::{Error, Result};
use crate::harmonic::mesh::Mesh;
use crate::linalg::Vec3;
use crate::units::THZ_TO_MEV;
use std::path::{Path, PathBuf};

pub enum Linewidths {
    /// The same half width (meV) for every mode.
    Constant(f64),
    /// Γ (THz, half width) on the irreducible points of a Γ-centred mesh at one temperature.
    Computed(ComputedLinewidths),
}

pub struct ComputedLinewidths {
    pub path: PathBuf,
    pub mesh: Mesh,
    /// Full grid point → row of `gamma`.
    row_of_grid_point: Vec<usize>,
    /// [irreducible q][band] Γ (THz) at the chosen temperature, 4ph added when the file has it.
    gamma: Vec<Vec<f64>>,
    /// Largest distance (reduced units) between a q asked for and its mesh point.
    pub worst_offset: std::sync::Mutex<f64>,
}

impl Linewidths {
    /// Half widths (meV) of the modes at q (reduced, primitive) with `nb` bands.
    pub fn half_widths(&self, q: &Vec3, nb: usize) -> Result<Vec<f64>> {
        match self {
            Linewidths::Constant(g) => Ok(vec![*g; nb]),
            Linewidths::Computed(c) => c.at(q, nb),
        }
    }
}

/// The entry `key` of a kappa.json, with an error naming the file and the entry.
fn field<T: serde::de::DeserializeOwned>(
    v: &serde_json::Value,
    key: &str,
    path: &Path,
) -> Result<T> {
    let x = v.get(key).ok_or_else(|| {
        Error::input(format!(
            "{}: no '{key}' (expected a kappa.json written by `latdyn kappa`)",
            path.display()
        ))
    })?;
    serde_json::from_value(x.clone())
        .map_err(|e| Error::input(format!("{}: '{key}': {e}", path.display())))
}

impl ComputedLinewidths {
    /// Reads kappa.json and keeps Γ at `temperature` (which the file must contain).
    pub fn read(path: &Path, prim: &Cell, temperature: f64) -> Result<ComputedLinewidths> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::input(format!("{}: not JSON: {e}", path.display())))?;
        let mesh: [usize; 3] = field(&v, "mesh", path)?;
        let temps: Vec<f64> = field(&v, "temperatures", path)?;
        let it = temps
            .iter()
            .position(|t| (t - temperature).abs() < 1e-6)
            .ok_or_else(|| {
                Error::input(format!(
                    "{}: no linewidths at {temperature} K (the file has {temps:?} K)",
                    path.display()
                ))
            })?;
        let qpoints: Vec<Vec3> = field(&v, "qpoints", path)?;
        let all: Vec<Vec<Vec<f64>>> = field(&v, "gamma", path)?;
        let missing = |what: &str| {
            Error::input(format!(
                "{}: '{what}' has no row for temperature {temperature} K",
                path.display()
            ))
        };
        let mut gamma = all.get(it).cloned().ok_or_else(|| missing("gamma"))?;
        if v.get("gamma_4ph").is_some() {
            let g4: Vec<Vec<Vec<f64>>> = field(&v, "gamma_4ph", path)?;
            let g4 = g4.get(it).ok_or_else(|| missing("gamma_4ph"))?;
            // Matthiessen needs Γ_4ph for every mode Γ has: a shorter table is an error, not
            // a silent three-phonon-only tail.
            let rows = |t: &Vec<Vec<f64>>| t.iter().map(Vec::len).collect::<Vec<_>>();
            if rows(g4) != rows(&gamma) {
                return Err(Error::input(format!(
                    "{}: gamma_4ph at {temperature} K has {} q rows of {:?} bands, gamma {} of {:?}; expected the same shape",
                    path.display(),
                    g4.len(),
                    g4.first().map(Vec::len),
                    gamma.len(),
                    gamma.first().map(Vec::len)
                )));
            }
            for (row, extra) in gamma.iter_mut().zip(g4) {
                row.iter_mut().zip(extra).for_each(|(a, b)| *a += b);
            }
        }
        if gamma.len() != qpoints.len() || gamma.iter().any(|r| r.len() != 3 * prim.n_atoms()) {
            return Err(Error::input(format!(
                "{}: gamma has {} rows for {} q-points; expected {} bands each (the cell given here has {} atoms)",
                path.display(),
                gamma.len(),
                qpoints.len(),
                3 * prim.n_atoms(),
                prim.n_atoms()
            )));
        }
        let mesh = Mesh::gamma_centered(mesh);
        let sym = Symmetry::new(prim, 1e-5)?;
        let ir = mesh.irreducible(&mesh.compatible_rotations(&sym.reciprocal_rotations()));
        let mut row_of_ir = std::collections::HashMap::new();
        for (row, q) in qpoints.iter().enumerate() {
            row_of_ir.insert(grid_index(&mesh, q), row);
        }
        let row_of_grid_point = ir
            .grid_mapping
            .iter()
            .map(|g| {
                row_of_ir.get(g).copied().ok_or_else(|| {
                    Error::input(format!(
                        "{}: its irreducible q-points do not match the symmetry of this cell (grid point {g} missing)",
                        path.display()
                    ))
                })
            })
            .collect::<Result<_>>()?;
        Ok(ComputedLinewidths {
            path: path.to_path_buf(),
            mesh,
            row_of_grid_point,
            gamma,
            worst_offset: std::sync::Mutex::new(0.0),
        })
    }

    fn at(&self, q: &Vec3, nb: usize) -> Result<Vec<f64>> {
        let g = grid_index(&self.mesh, q);
        let off = (0..3)
            .map(|c| {
                let n = self.mesh.n[c] as f64;
                (q[c] * n - (q[c] * n).round()).abs() / n
            })
            .fold(0.0, f64::max);
        if let Ok(mut w) = self.worst_offset.lock() {
            *w = w.max(off);
        }
        let row = &self.gamma[self.row_of_grid_point[g]];
        if row.len() != nb {
            return Err(Error::input(format!(
                "{}: {} bands, the phonons here have {nb}",
                self.path.display(),
                row.len()
            )));
        }
        Ok(row.iter().map(|g| g * THZ_TO_MEV).collect())
    }
}

/// The grid point of a Γ-centred mesh nearest to q (reduced).
fn grid_index(mesh: &Mesh, q: &Vec3) -> usize {
    let a: [usize; 3] = std::array::from_fn(|c| {
        let n = mesh.n[c] as i64;
        ((q[c] * n as f64).round() as i64).rem_euclid(n) as usize
    });
    mesh.index(&a)
}
