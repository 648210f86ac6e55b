//! FourPhonon FORCE_CONSTANTS_4TH (Fourthorder; formats.md §6.4): the layout of
//! FORCE_CONSTANTS_3RD with a third lattice vector, four 1-based atoms and 81 lines
//! "a b c d Ψ" (eV/Å⁴, d fastest), read into the canonical quartet list.

use super::fc_list::{fc4_from_terms, fc4_terms};
use super::shengbte_fc3::{format_blocks, read_blocks};
use crate::crystal::Cell;
use crate::error::Result;
use crate::fc::fc4::Fc4;
use std::path::Path;

/// Reads the file for the ShengBTE cell `sheng` and expresses it on the primitive cell `prim`.
pub fn read_fc4_shengbte(path: &Path, sheng: &Cell, prim: &Cell) -> Result<Fc4> {
    Ok(fc4_from_terms(
        read_blocks(path, sheng, prim, 4)?,
        prim.n_atoms(),
    ))
}

/// Writes a quartet list as FORCE_CONSTANTS_4TH for the cell `prim` (exactly-zero terms left out).
pub fn format_fc4_shengbte(fc4: &Fc4, prim: &Cell) -> String {
    format_blocks(&fc4_terms(fc4), prim)
}
