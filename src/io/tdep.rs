//! TDEP infile.ucposcar / infile.ssposcar / infile.forceconstant (formats.md §5.1, §5.2, §5.6).
//! Lattice vectors in the file are fractional in the infile.ucposcar basis and refer to the
//! positions wrapped into [0, 1) (TDEP's rule), which is how `read_tdep_cell` returns them.

use super::text::{TextFile, parse_count, parse_lattice_int};
use crate::crystal::{Cell, wrap_fractional};
use crate::error::{Error, Result};
use crate::fc::{Fc2, Pair};
use crate::harmonic::nac::Born;
use crate::units::NAC_FACTOR_EV_ANGSTROM;
use std::fmt::Write as _;
use std::path::Path;

/// A POSCAR as TDEP reads it: fractional positions wrapped into [0, 1).
pub fn read_tdep_cell(path: &Path) -> Result<Cell> {
    let mut cell = super::poscar::read_poscar(path)?;
    for p in cell.positions.iter_mut() {
        *p = p.map(wrap_fractional);
    }
    Ok(cell)
}

/// The polar trailer: ε∞, Ewald parameter and Born charges (rebuilt as coeff_Z · x_Z).
#[derive(Clone, Debug)]
pub struct TdepPolar {
    pub born: Born,
    pub ewald_lambda: f64,
}

/// The header shared by TDEP force-constant files: the number of atoms (checked against the
/// unit cell) and the real-space cutoff (informational, skipped).
pub(crate) fn read_header(f: &mut TextFile, uc: &Cell) -> Result<usize> {
    let n_atoms = f.next_count("the number of atoms per unit cell")?;
    if n_atoms != uc.n_atoms() {
        return Err(f.err(
            1,
            format!(
                "expected {} atoms (as in infile.ucposcar), found {n_atoms}",
                uc.n_atoms()
            ),
        ));
    }
    f.next_f64s(1, "the real-space cutoff")?;
    Ok(n_atoms)
}

/// A line holding a 1-based unit-cell atom index (first token); returns (line, index) with the
/// index checked to lie in 1..=n_atoms. `what` names the expected line, `label` the index in
/// the error.
pub(crate) fn next_atom_index(
    f: &mut TextFile,
    what: &str,
    label: &str,
    n_atoms: usize,
) -> Result<(usize, usize)> {
    let path = f.path.clone();
    let (ln, line) = f.next_line(what)?;
    let j = parse_count(
        &path,
        ln,
        line.split_whitespace().next().unwrap_or(""),
        what,
    )?;
    if j == 0 || j > n_atoms {
        return Err(f.err(ln, format!("{label} {j} is outside 1..{n_atoms}")));
    }
    Ok((ln, j))
}

pub fn read_tdep_fc2(path: &Path, uc: &Cell) -> Result<(Fc2, Option<TdepPolar>)> {
    let mut f = TextFile::read(path)?;
    let n_atoms = read_header(&mut f, uc)?;
    let mut pairs = Vec::new();
    for i in 0..n_atoms {
        let n_pairs = f.next_count(&format!("the number of neighbours of atom {}", i + 1))?;
        if n_pairs > 1_000_000 {
            return Err(f.err(
                f.line_number() - 1,
                format!("implausible number of neighbours {n_pairs}"),
            ));
        }
        for p in 0..n_pairs {
            let what = format!(
                "the unit-cell index of neighbour {} of atom {}",
                p + 1,
                i + 1
            );
            let (_, j) = next_atom_index(&mut f, &what, "neighbour index", n_atoms)?;
            let ln = f.line_number();
            let v = f.next_f64s(3, "a lattice vector (3 numbers)")?;
            let mut cell = [0i32; 3];
            for k in 0..3 {
                cell[k] = parse_lattice_int(&f.path, ln, v[k], "lattice vector")?;
            }
            let mut phi = [[0.0; 3]; 3];
            for (a, row) in phi.iter_mut().enumerate() {
                let v = f.next_f64s(3, &format!("row {} of the force-constant block", a + 1))?;
                row.copy_from_slice(&v);
            }
            pairs.push(Pair {
                i,
                j: j - 1,
                cell,
                phi,
            });
        }
    }
    let fc = Fc2 { n_atoms, pairs };
    // Polar flag: 0 (or absent) = non-polar, 3 = polar trailer; 1 and 2 are deprecated.
    if !f.skip_blank() {
        return Ok((fc, None));
    }
    let ln = f.line_number();
    let flag = f.next_count("the polar flag (0 or 3)")?;
    match flag {
        0 => Ok((fc, None)),
        3 => {
            let mut eps = [[0.0; 3]; 3];
            for (a, row) in eps.iter_mut().enumerate() {
                let v = f.next_f64s(3, &format!("row {} of the dielectric tensor", a + 1))?;
                row.copy_from_slice(&v);
            }
            let lambda = f.next_f64s(1, "the Ewald coupling parameter")?[0];
            let nx = f.next_count("the number of irreducible Born-charge components")?;
            if nx == 0 || nx > 9 * n_atoms {
                return Err(f.err(
                    f.line_number() - 1,
                    format!(
                        "expected 1..{} irreducible components, found {nx}",
                        9 * n_atoms
                    ),
                ));
            }
            let mut x = Vec::with_capacity(nx);
            for _ in 0..nx {
                x.push(f.next_f64s(1, "an irreducible Born-charge component")?[0]);
            }
            let mut charges = vec![[[0.0; 3]; 3]; n_atoms];
            for r in 0..9 * n_atoms {
                let coeff = f.next_f64s(nx, &format!("{nx} Born-charge coefficients"))?;
                let z: f64 = coeff.iter().zip(&x).map(|(c, v)| c * v).sum();
                charges[r / 9][(r % 9) / 3][r % 3] = z;
            }
            let born = Born {
                epsilon: eps,
                charges,
                factor: NAC_FACTOR_EV_ANGSTROM,
            };
            Ok((
                fc,
                Some(TdepPolar {
                    born,
                    ewald_lambda: lambda,
                }),
            ))
        }
        other => Err(f.err(
            ln,
            format!(
                "expected polar flag 0 or 3, found {other} (flags 1 and 2 are deprecated in TDEP)"
            ),
        )),
    }
}

/// Writes infile.forceconstant from a canonical list (merged: one entry per lattice vector),
/// non-polar flag at the end. The list must refer to TDEP-wrapped primitive positions.
pub fn format_tdep_fc2(fc: &Fc2, prim: &Cell) -> String {
    let fc = fc.merged();
    let mut out = String::new();
    let _ = writeln!(
        out,
        " {:>10}{:15}How many atoms per unit cell",
        fc.n_atoms, ""
    );
    let _ = writeln!(out, " {:20.15}     Realspace cutoff (A)", fc.range(prim));
    for i in 0..fc.n_atoms {
        let mine: Vec<&Pair> = fc.pairs.iter().filter(|p| p.i == i).collect();
        let _ = writeln!(
            out,
            " {:>10}{:15}How many neighbours does atom {:>3} have",
            mine.len(),
            "",
            i + 1
        );
        for (k, p) in mine.iter().enumerate() {
            let _ = writeln!(
                out,
                " {:>10}{:15}In the unit cell, what is the index of neighbour {} of atom {}",
                p.j + 1,
                "",
                k + 1,
                i + 1
            );
            let _ = writeln!(
                out,
                "   {:.16e}   {:.16e}   {:.16e}",
                p.cell[0] as f64, p.cell[1] as f64, p.cell[2] as f64
            );
            for row in &p.phi {
                let _ = writeln!(
                    out,
                    "   {:.16e}   {:.16e}   {:.16e}",
                    row[0], row[1], row[2]
                );
            }
        }
    }
    let _ = writeln!(
        out,
        " 0   # This contains no information about Born charges or dielectric tensors"
    );
    out
}

/// Checks that a canonical list refers to wrapped positions (TDEP's convention).
pub fn check_wrapped(prim: &Cell) -> Result<()> {
    if prim
        .positions
        .iter()
        .flatten()
        .any(|x| *x < 0.0 || *x >= 1.0)
    {
        return Err(Error::input(
            "TDEP output needs primitive positions wrapped into [0, 1)",
        ));
    }
    Ok(())
}
