//! TDEP infile.forceconstant_thirdorder (formats.md §5.3): per atom of the unit cell, a list of
//! triplets (three 1-based atoms, three lattice vectors in fractional units of the unit cell —
//! the first always 0 — and 9 lines of Φ_αβγ with α slowest, β next, γ along the line, eV/Å³).
//! The list is used as it is (every ordered triplet listed, no multiplicity weights). Lattice
//! vectors refer to TDEP's wrapped positions, which latdyn's TDEP cell reader reproduces.

use super::text::TextFile;
use crate::crystal::Cell;
use crate::error::Result;
use crate::fc::fc3::{Fc3, Triplet};

pub fn read_tdep_fc3(path: &std::path::Path, uc: &Cell) -> Result<Fc3> {
    let mut f = TextFile::read(path)?;
    let n_atoms = super::tdep::read_header(&mut f, uc)?;
    let mut terms = Vec::new();
    for a in 0..n_atoms {
        let n = f.next_count(&format!("the number of triplets of atom {}", a + 1))?;
        if n > 10_000_000 {
            return Err(f.err(
                f.line_number() - 1,
                format!("implausible number of triplets {n}"),
            ));
        }
        for t in 0..n {
            let what = format!("triplet {} of atom {}", t + 1, a + 1);
            let mut idx = [0usize; 3];
            for (m, x) in idx.iter_mut().enumerate() {
                let (_, v) = super::tdep::next_atom_index(
                    &mut f,
                    &format!("atom {} of {what}", m + 1),
                    &format!("{what}: atom index"),
                    n_atoms,
                )?;
                *x = v - 1;
            }
            if idx[0] != a {
                return Err(f.err(
                    f.line_number() - 3,
                    format!(
                        "{what}: the first atom must be atom {}, found {}",
                        a + 1,
                        idx[0] + 1
                    ),
                ));
            }
            let mut cells = [[0i32; 3]; 3];
            for (m, c) in cells.iter_mut().enumerate() {
                let ln = f.line_number();
                let v = f.next_f64s(3, &format!("lattice vector {} of {what}", m + 1))?;
                for k in 0..3 {
                    if (v[k] - v[k].round()).abs() > 1e-6 {
                        return Err(
                            f.err(ln, format!("{what}: lattice vector {v:?} is not integer"))
                        );
                    }
                    c[k] = v[k].round() as i32;
                }
            }
            let mut phi = [0.0; 27];
            for row in 0..9 {
                let v = f.next_f64s(3, &format!("row {} of 9 of the tensor of {what}", row + 1))?;
                phi[3 * row..3 * row + 3].copy_from_slice(&v);
            }
            let rel = |c: &[i32; 3]| std::array::from_fn(|k| c[k] - cells[0][k]);
            terms.push(Triplet {
                i: idx[0],
                j: idx[1],
                k: idx[2],
                cell_j: rel(&cells[1]),
                cell_k: rel(&cells[2]),
                phi,
            });
        }
    }
    Ok(Fc3 { n_atoms, terms })
}

/// Writes a triplet list as infile.forceconstant_thirdorder for the (wrapped) unit cell `uc`:
/// per atom its terms in list order, first lattice vector 0, 9 tensor rows (α slowest, then β,
/// γ along the line). The cutoff line holds the longest leg of any term (TDEP ignores it).
pub fn format_tdep_fc3(fc3: &Fc3, uc: &Cell) -> String {
    use std::fmt::Write as _;
    let leg = |i: usize, ci: [i32; 3], j: usize, cj: &[i32; 3]| -> f64 {
        let r = |k: usize, c: [i32; 3]| {
            crate::linalg::vec_mat(
                &std::array::from_fn(|x| c[x] as f64 + uc.positions[k][x]),
                &uc.lattice,
            )
        };
        crate::linalg::norm(&crate::linalg::sub(&r(j, *cj), &r(i, ci)))
    };
    let cutoff = fc3
        .terms
        .iter()
        .map(|t| {
            let z = [0; 3];
            leg(t.i, z, t.j, &t.cell_j)
                .max(leg(t.i, z, t.k, &t.cell_k))
                .max(leg(t.j, t.cell_j, t.k, &t.cell_k))
        })
        .fold(0.0, f64::max);
    let mut s = String::new();
    let _ = writeln!(
        s,
        " {:>10}{:15}How many atoms per unit cell",
        fc3.n_atoms, ""
    );
    let _ = writeln!(s, " {cutoff:20.15}     Realspace cutoff (A)");
    for a in 0..fc3.n_atoms {
        let mine: Vec<&Triplet> = fc3.terms.iter().filter(|t| t.i == a).collect();
        let _ = writeln!(
            s,
            " {:>10}{:15}How many triplets are atom {:>3} part of",
            mine.len(),
            "",
            a + 1
        );
        for (n, t) in mine.iter().enumerate() {
            for (m, x) in [t.i, t.j, t.k].iter().enumerate() {
                let _ = writeln!(
                    s,
                    " {:>10}{:15}atom {} in triplet {}",
                    x + 1,
                    "",
                    m + 1,
                    n + 1
                );
            }
            for c in [[0; 3], t.cell_j, t.cell_k] {
                let _ = writeln!(
                    s,
                    "   {:.16e}   {:.16e}   {:.16e}",
                    c[0] as f64, c[1] as f64, c[2] as f64
                );
            }
            for row in t.phi.chunks(3) {
                let _ = writeln!(s, "   {:.16e}   {:.16e}   {:.16e}", row[0], row[1], row[2]);
            }
        }
    }
    s
}
