//! Writers of result files: JSON (the stable machine-readable face), CSV tables,
//! phonopy-style band.yaml / total_dos.dat, and plots (SVG and PNG).

pub mod cif;
pub mod kappa_hdf5;
pub mod phonopy_style;
pub mod plots;

use crate::error::{Error, Result};
use std::path::Path;

/// Writes a JSON document, refusing non-finite numbers (never a NaN in an output).
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    if has_non_finite(value) {
        return Err(Error::Numerical(format!(
            "refusing to write {}: it would contain a non-finite number",
            path.display()
        )));
    }
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Numerical(e.to_string()))?;
    std::fs::write(path, text + "\n").map_err(|e| Error::io(path, e))
}

fn has_non_finite(v: &serde_json::Value) -> bool {
    match v {
        // serde_json turns non-finite floats into null; a null where a number is expected is caught
        // at construction by `finite()` below, so here we only walk containers.
        serde_json::Value::Array(a) => a.iter().any(has_non_finite),
        serde_json::Value::Object(o) => o.values().any(has_non_finite),
        serde_json::Value::Number(n) => n.as_f64().map(|x| !x.is_finite()).unwrap_or(false),
        _ => false,
    }
}

/// Checks that every number of a slice is finite, naming the quantity otherwise.
pub fn finite(name: &str, xs: impl IntoIterator<Item = f64>) -> Result<()> {
    if xs.into_iter().any(|x| !x.is_finite()) {
        return Err(Error::Numerical(format!(
            "{name} contains non-finite values; not written"
        )));
    }
    Ok(())
}

/// Writes a CSV table with a header row.
pub fn write_csv(path: &Path, header: &[String], rows: &[Vec<f64>]) -> Result<()> {
    let mut s = header.join(",");
    s.push('\n');
    for r in rows {
        s.push_str(
            &r.iter()
                .map(|x| format!("{x:.10e}"))
                .collect::<Vec<_>>()
                .join(","),
        );
        s.push('\n');
    }
    std::fs::write(path, s).map_err(|e| Error::io(path, e))
}
