//! VASP POSCAR/CONTCAR (VASP 5 with species line; VASP 4 with symbols on the comment line),
//! formats.md §1. Also the writer (scale 1, Direct coordinates).

use super::text::TextFile;
use crate::crystal::{Cell, elements};
use crate::error::{Error, Result};
use crate::linalg::{self, Mat3};
use std::fmt::Write as _;
use std::path::Path;

pub struct Poscar {
    pub cell: Cell,
    /// True when the file had Cartesian coordinates with a scale factor ≠ 1 (VASP's reading used).
    pub scaled_cartesian: bool,
}

pub fn read_poscar(path: &Path) -> Result<Cell> {
    Ok(parse_poscar(&mut TextFile::read(path)?)?.cell)
}

pub fn parse_poscar(f: &mut TextFile) -> Result<Poscar> {
    let path = f.path.clone();
    let (_, comment) = f.next_line("the comment line")?;
    let comment = comment.to_string();
    let (sl, scale_line) = f.next_line("the scale factor")?;
    let scale_toks: Vec<&str> = scale_line.split_whitespace().collect();
    if scale_toks.len() >= 3
        && scale_toks[..3]
            .iter()
            .all(|t| super::text::parse_real(t).is_some())
    {
        return Err(Error::parse(
            &path,
            sl,
            "three scale factors (one per axis) are not supported; write one scale factor",
        ));
    }
    let scale = super::text::parse_f64s(&path, sl, scale_line, 1, "scale factor")?[0];
    if scale == 0.0 {
        return Err(Error::parse(&path, sl, "scale factor must not be 0"));
    }
    let mut lattice: Mat3 = [[0.0; 3]; 3];
    for row in lattice.iter_mut() {
        let v = f.next_f64s(3, "a lattice vector (3 numbers)")?;
        row.copy_from_slice(&v);
    }
    let det = linalg::det(&lattice);
    // `inverse` also refuses non-finite numbers and cells singular relative to their own size.
    if det.abs() < 1e-10 || linalg::inverse(&lattice).is_none() {
        return Err(Error::parse(
            &path,
            3,
            format!("the lattice vectors are linearly dependent (volume {det:.3e})"),
        ));
    }
    let factor = if scale > 0.0 {
        scale
    } else {
        (scale.abs() / det.abs()).cbrt()
    };
    for row in lattice.iter_mut() {
        for x in row.iter_mut() {
            *x *= factor;
        }
    }
    // Species line (VASP 5) or counts line directly (VASP 4).
    let (l6, line6) = f.next_line("species symbols or atom counts")?;
    let line6 = line6.to_string();
    let first_is_int = line6
        .split_whitespace()
        .next()
        .map(|t| t.parse::<i64>().is_ok())
        .unwrap_or(false);
    let (species_labels, counts_line, counts_no): (Vec<String>, String, usize) = if first_is_int {
        let labels: Vec<String> = comment.split_whitespace().map(|s| s.to_string()).collect();
        (labels, line6.clone(), l6)
    } else {
        let labels = line6.split_whitespace().map(|s| s.to_string()).collect();
        let (lc, counts) = f.next_line("atom counts per species")?;
        (labels, counts.to_string(), lc)
    };
    let counts: Vec<usize> = counts_line
        .split_whitespace()
        .map(|t| {
            t.parse::<usize>().map_err(|_| {
                Error::parse(
                    &path,
                    counts_no,
                    format!("expected atom counts (integers), found '{t}'"),
                )
            })
        })
        .collect::<Result<_>>()?;
    if counts.is_empty() || counts.iter().sum::<usize>() == 0 {
        return Err(Error::parse(&path, counts_no, "expected at least one atom"));
    }
    if species_labels.len() < counts.len() {
        return Err(Error::parse(
            &path,
            counts_no,
            format!(
                "{} species counts but {} species symbols: the file needs a species line (VASP 5) or symbols on the comment line",
                counts.len(),
                species_labels.len()
            ),
        ));
    }
    let mut symbols = Vec::new();
    for (label, n) in species_labels.iter().zip(&counts) {
        let sym = elements::element_symbol(label).ok_or_else(|| {
            Error::parse(
                &path,
                counts_no - 1,
                format!("expected an element symbol, found '{label}'"),
            )
        })?;
        symbols.extend(std::iter::repeat_n(sym.to_string(), *n));
    }
    let (mut ml, mut mode) = f.next_line("the coordinate mode (Direct or Cartesian)")?;
    if mode.trim_start().starts_with(['s', 'S']) {
        (ml, mode) = f.next_line("the coordinate mode (Direct or Cartesian)")?;
    }
    let cartesian = match mode.trim_start().chars().next() {
        Some('c' | 'C' | 'k' | 'K') => true,
        Some('d' | 'D') => false,
        _ => {
            return Err(Error::parse(
                &path,
                ml,
                format!("expected 'Direct' or 'Cartesian', found '{}'", mode.trim()),
            ));
        }
    };
    // The scale factor can still make the cell overflow (e.g. a scale of 1e300).
    let inv = linalg::inverse(&lattice).ok_or_else(|| {
        Error::parse(
            &path,
            sl,
            format!("the lattice vectors times the scale factor {factor:e} are not finite"),
        )
    })?;
    let n: usize = counts.iter().sum();
    let mut positions = Vec::with_capacity(n.min(1 << 16));
    for i in 0..n {
        let v = f.next_f64s(3, &format!("coordinates of atom {} of {n}", i + 1))?;
        let p = [v[0], v[1], v[2]];
        positions.push(if cartesian {
            linalg::vec_mat(&linalg::scale(&p, factor), &inv)
        } else {
            p
        });
    }
    let cell = Cell::with_standard_masses(lattice, positions, symbols)
        .map_err(|e| Error::parse(&path, 0, e.to_string()))?;
    Ok(Poscar {
        cell,
        scaled_cartesian: cartesian && factor != 1.0,
    })
}

/// POSCAR text (VASP 5, scale 1.0, Direct). Atom order is kept: consecutive atoms of one
/// species form a group, and a species may appear in several groups (VASP allows `O Mg O`).
pub fn format_poscar(cell: &Cell, comment: &str) -> String {
    let mut groups: Vec<(&str, usize)> = Vec::new();
    for s in &cell.symbols {
        match groups.last_mut() {
            Some((t, n)) if *t == s.as_str() => *n += 1,
            _ => groups.push((s, 1)),
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "{comment}\n   1.0");
    for r in &cell.lattice {
        let _ = writeln!(out, "  {:21.16} {:21.16} {:21.16}", r[0], r[1], r[2]);
    }
    let _ = writeln!(
        out,
        "{}",
        groups
            .iter()
            .map(|(s, _)| format!("{s:>4}"))
            .collect::<String>()
    );
    let _ = writeln!(
        out,
        "{}\nDirect",
        groups
            .iter()
            .map(|(_, c)| format!("{c:>4}"))
            .collect::<String>()
    );
    for p in &cell.positions {
        let _ = writeln!(out, " {:19.16} {:19.16} {:19.16}", p[0], p[1], p[2]);
    }
    out
}
