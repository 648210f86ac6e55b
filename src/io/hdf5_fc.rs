//! fc2.hdf5 / force_constants.hdf5 (phonopy, phono3py, hiPhive), formats.md §3.2.

use crate::error::{Error, Result};
use crate::fc::Fc2Array;
use hdf5_pure::{File, FileBuilder};
use std::path::Path;

pub(crate) fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::dataset(path, "/", format!("cannot open as HDF5: {e}")))
}

/// Dataset `name` of `file` (read from `path`) as float64 values, with an error naming both.
pub(crate) fn read_f64(file: &File, path: &Path, name: &str) -> Result<Vec<f64>> {
    file.dataset(name)
        .map_err(|e| Error::dataset(path, name, format!("not found: {e}")))?
        .read_f64()
        .map_err(|e| Error::dataset(path, name, format!("cannot read as float64: {e}")))
}

/// Dataset `name` as integers, with an error naming file and dataset.
pub(crate) fn read_i64(file: &File, path: &Path, name: &str) -> Result<Vec<i64>> {
    file.dataset(name)
        .map_err(|e| Error::dataset(path, name, format!("not found: {e}")))?
        .read_i64()
        .map_err(|e| Error::dataset(path, name, format!("cannot read as integers: {e}")))
}

/// The optional `p2s_map` dataset of phono3py's fc2/fc3 files, checked to point inside the
/// `n_super`-atom supercell.
pub(crate) fn read_p2s_map(file: &File, path: &Path, n_super: usize) -> Result<Option<Vec<usize>>> {
    let Ok(p) = file.dataset("p2s_map") else {
        return Ok(None);
    };
    let v = p
        .read_i64()
        .map_err(|e| Error::dataset(path, "p2s_map", format!("cannot read as integers: {e}")))?;
    if let Some(bad) = v.iter().find(|&&x| x < 0 || x as usize >= n_super) {
        return Err(Error::dataset(
            path,
            "p2s_map",
            format!("entry {bad} points outside the {n_super}-atom supercell"),
        ));
    }
    Ok(Some(v.into_iter().map(|x| x as usize).collect()))
}

/// Reads `force_constants` (or hiPhive's `fc2`) with shape (n_rows, n_s, 3, 3) and the optional
/// `p2s_map`. Without p2s_map a compact array's rows are left for the caller to place:
/// `rows` is then None.
pub fn read_fc2_hdf5(path: &Path) -> Result<(Fc2Array, bool)> {
    let file = open(path)?;
    let names = file
        .root()
        .datasets()
        .map_err(|e| Error::dataset(path, "/", e.to_string()))?;
    let name = ["fc2", "force_constants"]
        .into_iter()
        .find(|n| names.iter().any(|m| m == n))
        .ok_or_else(|| {
            Error::dataset(
                path,
                "force_constants",
                format!("not found; datasets present: {names:?}"),
            )
        })?;
    let ds = file
        .dataset(name)
        .map_err(|e| Error::dataset(path, name, e.to_string()))?;
    let shape = ds
        .shape()
        .map_err(|e| Error::dataset(path, name, e.to_string()))?;
    if shape.len() != 4 || shape[2] != 3 || shape[3] != 3 || shape[0] == 0 || shape[0] > shape[1] {
        return Err(Error::dataset(
            path,
            name,
            format!("expected shape (n_rows ≤ n_atoms, n_atoms, 3, 3), found {shape:?}"),
        ));
    }
    let (n_rows, n_super) = (shape[0] as usize, shape[1] as usize);
    let flat = ds
        .read_f64()
        .map_err(|e| Error::dataset(path, name, format!("cannot read as float64: {e}")))?;
    if flat.len() != n_rows * n_super * 9 {
        return Err(Error::dataset(
            path,
            name,
            format!(
                "expected {} values, found {}",
                n_rows * n_super * 9,
                flat.len()
            ),
        ));
    }
    if let Some(bad) = flat.iter().position(|x| !x.is_finite()) {
        return Err(Error::dataset(
            path,
            name,
            format!("non-finite value at flat index {bad}"),
        ));
    }
    let unit = file
        .dataset("physical_unit")
        .ok()
        .and_then(|d| d.read_string().ok())
        .and_then(|u| u.into_iter().next());
    if let Some(u) = unit {
        let u = u.trim_matches(char::from(0)).trim();
        if !u.is_empty() && u != "eV/angstrom^2" && u != "eV/Angstrom^2" {
            return Err(Error::dataset(
                path,
                "physical_unit",
                format!(
                    "expected 'eV/angstrom^2', found '{u}' (convert the force constants to eV/Å² first)"
                ),
            ));
        }
    }
    let data: Vec<_> = flat
        .chunks_exact(9)
        .map(|c| [[c[0], c[1], c[2]], [c[3], c[4], c[5]], [c[6], c[7], c[8]]])
        .collect();
    let p2s = read_p2s_map(&file, path, n_super)?;
    let full = n_rows == n_super;
    let (rows, known) = match (&p2s, full) {
        (_, true) => ((0..n_super).collect(), true),
        (Some(p), false) => {
            if p.len() != n_rows {
                return Err(Error::dataset(
                    path,
                    "p2s_map",
                    format!(
                        "has {} entries but force_constants has {n_rows} rows",
                        p.len()
                    ),
                ));
            }
            (p.clone(), true)
        }
        (None, false) => ((0..n_rows).collect(), false),
    };
    Ok((
        Fc2Array {
            rows,
            n_super,
            data,
        },
        known,
    ))
}

/// Writes phono3py's fc2.hdf5 layout: `force_constants` (gzip), `p2s_map`, `physical_unit`.
pub fn write_fc2_hdf5(path: &Path, fc: &Fc2Array) -> Result<()> {
    let mut b = FileBuilder::new();
    let flat: Vec<f64> = fc
        .data
        .iter()
        .flat_map(|m| m.iter().flatten().copied())
        .collect();
    b.create_dataset("force_constants")
        .with_f64_data(&flat)
        .with_shape(&[fc.rows.len() as u64, fc.n_super as u64, 3, 3])
        .with_chunks(&[fc.rows.len() as u64, fc.n_super as u64, 3, 3])
        .with_deflate(4);
    let p2s: Vec<i64> = fc.rows.iter().map(|&r| r as i64).collect();
    b.create_dataset("p2s_map")
        .with_i64_data(&p2s)
        .with_shape(&[p2s.len() as u64]);
    b.create_dataset("physical_unit")
        .with_ascii_strings(&["eV/angstrom^2"])
        .map_err(|e| Error::dataset(path, "physical_unit", e.to_string()))?;
    b.write(path)
        .map_err(|e| Error::dataset(path, "/", format!("cannot write: {e}")))
}
