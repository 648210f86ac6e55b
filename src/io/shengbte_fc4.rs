//! FourPhonon FORCE_CONSTANTS_4TH (Fourthorder; formats.md §6.4): the layout of
//! FORCE_CONSTANTS_3RD with a third lattice vector, four 1-based atoms and 81 lines
//! "a b c d Ψ" (eV/Å⁴, d fastest), read into the canonical quartet list.

use super::shengbte_fc3::{format_blocks, read_blocks};
use crate::crystal::Cell;
use crate::error::Result;
use crate::fc::fc4::{Fc4, Quartet};
use std::path::Path;

/// Reads the file for the ShengBTE cell `sheng` and expresses it on the primitive cell `prim`.
pub fn read_fc4_shengbte(path: &Path, sheng: &Cell, prim: &Cell) -> Result<Fc4> {
    let terms = read_blocks(path, sheng, prim, 4)?
        .into_iter()
        .map(|t| Quartet {
            i: t.atoms[0],
            j: t.atoms[1],
            k: t.atoms[2],
            l: t.atoms[3],
            cell_j: t.cells[0],
            cell_k: t.cells[1],
            cell_l: t.cells[2],
            phi: t.phi.try_into().expect("81 values"),
        })
        .collect();
    Ok(Fc4 {
        n_atoms: prim.n_atoms(),
        terms,
    })
}

/// Writes a quartet list as FORCE_CONSTANTS_4TH for the cell `prim` (exactly-zero terms left out).
pub fn format_fc4_shengbte(fc4: &Fc4, prim: &Cell) -> String {
    format_blocks(
        fc4.terms.iter().map(|t| {
            (
                vec![t.i, t.j, t.k, t.l],
                vec![t.cell_j, t.cell_k, t.cell_l],
                &t.phi[..],
            )
        }),
        prim,
    )
}
