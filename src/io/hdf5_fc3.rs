//! phono3py fc3.hdf5 (also hiPhive's `write_to_phono3py`), formats.md §4.1: dataset `fc3` with
//! shape (n_s, n_s, n_s, 3, 3, 3) (full) or (n_p, n_s, n_s, 3, 3, 3) (compact) in eV/Å³, and
//! the optional `p2s_map`.

use crate::error::{Error, Result};
use crate::fc::fc3::Fc3Array;
use hdf5_pure::FileBuilder;
use std::path::Path;

/// Reads the array; the flag says whether the rows' supercell indices are known (full array or
/// `p2s_map` present). Without it a compact array's rows are the first atom of each primitive
/// site, which the caller fills in.
pub fn read_fc3_hdf5(path: &Path) -> Result<(Fc3Array, bool)> {
    let file = super::hdf5_fc::open(path)?;
    let ds = file
        .dataset("fc3")
        .map_err(|e| Error::dataset(path, "fc3", format!("not found or unreadable: {e}")))?;
    let shape = ds
        .shape()
        .map_err(|e| Error::dataset(path, "fc3", e.to_string()))?;
    if shape.len() != 6
        || shape[3..] != [3, 3, 3]
        || shape[0] == 0
        || shape[1] != shape[2]
        || shape[0] > shape[1]
    {
        return Err(Error::dataset(
            path,
            "fc3",
            format!(
                "expected shape (n_rows ≤ n_atoms, n_atoms, n_atoms, 3, 3, 3), found {shape:?}"
            ),
        ));
    }
    let (n_rows, n_super) = (shape[0] as usize, shape[1] as usize);
    let expected = n_rows * n_super * n_super * 27;
    let data = ds
        .read_f64()
        .map_err(|e| Error::dataset(path, "fc3", format!("cannot read as float64: {e}")))?;
    if data.len() != expected {
        return Err(Error::dataset(
            path,
            "fc3",
            format!("expected {expected} values, found {}", data.len()),
        ));
    }
    if let Some(bad) = data.iter().position(|x| !x.is_finite()) {
        return Err(Error::dataset(
            path,
            "fc3",
            format!("non-finite value at flat index {bad}"),
        ));
    }
    let full = n_rows == n_super;
    let p2s = super::hdf5_fc::read_p2s_map(&file, path, n_super)?;
    let (rows, known) = match (p2s, full) {
        (_, true) => ((0..n_super).collect(), true),
        (Some(p), false) if p.len() == n_rows => (p, true),
        (Some(p), false) => {
            return Err(Error::dataset(
                path,
                "p2s_map",
                format!("has {} entries but fc3 has {n_rows} rows", p.len()),
            ));
        }
        (None, false) => ((0..n_rows).collect(), false),
    };
    Ok((
        Fc3Array {
            rows,
            n_super,
            data,
        },
        known,
    ))
}

/// Writes a compact array as phono3py's fc3.hdf5: `fc3` (n_rows, n_s, n_s, 3, 3, 3) in eV/Å³,
/// compressed, with `p2s_map`.
pub fn write_fc3_hdf5(path: &Path, fc: &Fc3Array) -> Result<()> {
    let (r, n) = (fc.rows.len() as u64, fc.n_super as u64);
    let mut b = FileBuilder::new();
    b.create_dataset("fc3")
        .with_f64_data(&fc.data)
        .with_shape(&[r, n, n, 3, 3, 3])
        .with_chunks(&[1, n, n, 3, 3, 3])
        .with_deflate(4);
    let p2s: Vec<i64> = fc.rows.iter().map(|&x| x as i64).collect();
    b.create_dataset("p2s_map")
        .with_i64_data(&p2s)
        .with_shape(&[r]);
    b.write(path)
        .map_err(|e| Error::dataset(path, "/", format!("cannot write: {e}")))
}
