//! phonopy FORCE_CONSTANTS text files, full (n_s × n_s) and compact (n_p × n_s), formats.md §3.1.
//! Also ShengBTE's FORCE_CONSTANTS_2ND, which is the full text format in phonopy's atom order.

use super::text::{TextFile, parse_count, parse_f64s};
use crate::error::{Error, Result};
use crate::fc::Fc2Array;
use std::fmt::Write as _;
use std::path::Path;

pub fn read_force_constants(path: &Path) -> Result<Fc2Array> {
    parse_force_constants(&mut TextFile::read(path)?)
}

pub fn parse_force_constants(f: &mut TextFile) -> Result<Fc2Array> {
    let path = f.path.clone();
    let (l1, header) = f.next_nonblank("the array shape ('n_rows n_supercell_atoms')")?;
    let toks: Vec<&str> = header.split_whitespace().collect();
    if toks.is_empty() || toks.len() > 2 {
        return Err(Error::parse(
            &path,
            l1,
            format!(
                "expected 'n_rows n_atoms' or 'n_atoms', found '{}'",
                header.trim()
            ),
        ));
    }
    let n_rows = parse_count(&path, l1, toks[0], "number of rows")?;
    let n_super = if toks.len() == 2 {
        parse_count(&path, l1, toks[1], "number of supercell atoms")?
    } else {
        n_rows
    };
    if n_rows == 0 || n_super == 0 || n_rows > n_super {
        return Err(Error::parse(
            &path,
            l1,
            format!("invalid shape {n_rows} × {n_super}: need 0 < rows ≤ atoms"),
        ));
    }
    if n_super > 200_000 {
        return Err(Error::parse(
            &path,
            l1,
            format!("implausible supercell size {n_super}"),
        ));
    }
    let full = n_rows == n_super;
    let mut rows = Vec::with_capacity(n_rows.min(1 << 16));
    // Sizes come from the header: grow as lines are read rather than trusting them up front.
    let mut data = Vec::with_capacity((n_rows * n_super).min(1 << 20));
    for r in 0..n_rows {
        for t in 0..n_super {
            let what = format!("block header 'i j' for row {} column {}", r + 1, t + 1);
            let (ln, line) = f.next_nonblank(&what)?;
            let ij: Vec<&str> = line.split_whitespace().collect();
            if ij.len() < 2 {
                return Err(Error::parse(
                    &path,
                    ln,
                    format!("expected {what}, found '{}'", line.trim()),
                ));
            }
            let i = parse_count(&path, ln, ij[0], "row atom index")?;
            let j = parse_count(&path, ln, ij[1], "column atom index")?;
            if j != t + 1 {
                return Err(Error::parse(
                    &path,
                    ln,
                    format!("expected column index {}, found {j}", t + 1),
                ));
            }
            if i == 0 || i > n_super {
                return Err(Error::parse(
                    &path,
                    ln,
                    format!("row atom index {i} is outside 1..{n_super}"),
                ));
            }
            if t == 0 {
                if full && i != r + 1 {
                    return Err(Error::parse(
                        &path,
                        ln,
                        format!("full array: expected row index {}, found {i}", r + 1),
                    ));
                }
                rows.push(i - 1);
            } else if i - 1 != rows[r] {
                return Err(Error::parse(
                    &path,
                    ln,
                    format!(
                        "expected row index {} as in this row's first block, found {i}",
                        rows[r] + 1
                    ),
                ));
            }
            let mut m = [[0.0; 3]; 3];
            for (a, row) in m.iter_mut().enumerate() {
                let (ln, line) =
                    f.next_line(&format!("row {} of the 3×3 block ({}, {})", a + 1, i, j))?;
                let v = parse_f64s(&path, ln, line, 3, "force-constant row")?;
                row.copy_from_slice(&v);
            }
            data.push(m);
        }
    }
    if f.skip_blank() {
        return Err(Error::parse(
            &path,
            f.line_number(),
            format!("unexpected content after the last of {n_rows} × {n_super} blocks"),
        ));
    }
    Ok(Fc2Array {
        rows,
        n_super,
        data,
    })
}

/// phonopy's FORCE_CONSTANTS text (header "%4d %4d", values "%22.15f").
pub fn format_force_constants(fc: &Fc2Array) -> String {
    let mut out = String::with_capacity(fc.data.len() * 80);
    let _ = writeln!(out, "{:4} {:4}", fc.rows.len(), fc.n_super);
    for (r, &s) in fc.rows.iter().enumerate() {
        for t in 0..fc.n_super {
            let _ = writeln!(out, "{} {}", s + 1, t + 1);
            for row in fc.block(r, t) {
                let _ = writeln!(out, "{:22.15}{:22.15}{:22.15}", row[0], row[1], row[2]);
            }
        }
    }
    out
}
