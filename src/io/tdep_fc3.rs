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
