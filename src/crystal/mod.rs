//! Crystal structures: cells with species and masses, the primitive cell and supercells built
//! from a unit cell with phonopy's transformation matrices, atom maps between them, and symmetry.

pub mod elements;
pub mod isotopes;
pub mod supercell;
pub mod symmetry;

use crate::error::{Error, Result};
use crate::linalg::{self, Mat3, Vec3};

/// A periodic cell. Lattice vectors are the ROWS of `lattice` (Å); positions are fractional.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub lattice: Mat3,
    pub positions: Vec<Vec3>,
    /// Element symbols (canonical, e.g. "Si").
    pub symbols: Vec<String>,
    /// Masses in amu.
    pub masses: Vec<f64>,
}

impl Cell {
    /// Builds a cell after checking that it is usable: non-singular lattice, finite positions,
    /// one symbol and one positive mass per atom.
    pub fn new(
        lattice: Mat3,
        positions: Vec<Vec3>,
        symbols: Vec<String>,
        masses: Vec<f64>,
    ) -> Result<Cell> {
        if lattice.iter().flatten().any(|x| !x.is_finite()) {
            return Err(Error::input(format!(
                "lattice has non-finite entries: {lattice:?}"
            )));
        }
        if linalg::inverse(&lattice).is_none() || linalg::det(&lattice).abs() < 1e-6 {
            return Err(Error::input(format!(
                "singular lattice (volume {:.3e} Å³): {lattice:?}",
                linalg::det(&lattice)
            )));
        }
        if positions.is_empty() {
            return Err(Error::input("cell has no atoms"));
        }
        if symbols.len() != positions.len() || masses.len() != positions.len() {
            return Err(Error::input(format!(
                "cell has {} positions but {} symbols and {} masses",
                positions.len(),
                symbols.len(),
                masses.len()
            )));
        }
        if let Some(p) = positions.iter().find(|p| p.iter().any(|x| !x.is_finite())) {
            return Err(Error::input(format!("non-finite atomic position {p:?}")));
        }
        if let Some((i, m)) = masses
            .iter()
            .enumerate()
            .find(|(_, m)| !(**m > 0.0 && m.is_finite()))
        {
            return Err(Error::input(format!(
                "mass of atom {} ({}) must be positive, found {m}",
                i + 1,
                symbols[i]
            )));
        }
        Ok(Cell {
            lattice,
            positions,
            symbols,
            masses,
        })
    }

    /// Cell with standard masses looked up from the symbols.
    pub fn with_standard_masses(
        lattice: Mat3,
        positions: Vec<Vec3>,
        symbols: Vec<String>,
    ) -> Result<Cell> {
        let masses = symbols
            .iter()
            .map(|s| {
                elements::standard_mass(s)
                    .ok_or_else(|| Error::input(format!("unknown element '{s}'")))
            })
            .collect::<Result<Vec<_>>>()?;
        Cell::new(lattice, positions, symbols, masses)
    }

    pub fn n_atoms(&self) -> usize {
        self.positions.len()
    }

    pub fn volume(&self) -> f64 {
        linalg::det(&self.lattice).abs()
    }

    /// Cartesian position of atom `i` (Å).
    pub fn cartesian(&self, i: usize) -> Vec3 {
        linalg::vec_mat(&self.positions[i], &self.lattice)
    }

    /// Reciprocal lattice vectors as rows, without 2π (b_i · a_j = δ_ij).
    pub fn reciprocal(&self) -> Mat3 {
        linalg::transpose(&linalg::inverse(&self.lattice).expect("validated non-singular lattice"))
    }

    /// Cartesian q (Å⁻¹, no 2π) from reduced coordinates of the reciprocal basis.
    pub fn q_cartesian(&self, q_reduced: &Vec3) -> Vec3 {
        linalg::vec_mat(q_reduced, &self.reciprocal())
    }

    /// Fractional coordinates of a Cartesian position.
    pub fn fractional(&self, cart: &Vec3) -> Vec3 {
        linalg::vec_mat(
            cart,
            &linalg::inverse(&self.lattice).expect("validated non-singular lattice"),
        )
    }

    /// Chemical formula-like summary, e.g. "Al2N2".
    pub fn formula(&self) -> String {
        let mut out: Vec<(String, usize)> = Vec::new();
        for s in &self.symbols {
            match out.iter_mut().find(|(t, _)| t == s) {
                Some((_, n)) => *n += 1,
                None => out.push((s.clone(), 1)),
            }
        }
        out.iter()
            .map(|(s, n)| {
                if *n == 1 {
                    s.clone()
                } else {
                    format!("{s}{n}")
                }
            })
            .collect()
    }
}

/// Wraps a fractional coordinate into [0, 1), mapping values within 1e-10 of an integer to 0
/// (TDEP's rule, formats.md §1.3; harmless for the other formats).
pub fn wrap_fractional(x: f64) -> f64 {
    let mut y = x - x.floor();
    if y.abs() < 1e-10 || (y - 1.0).abs() < 1e-10 {
        y = 0.0;
    }
    y
}

/// Everything the harmonic calculation needs to know about the structure: the unit cell as the
/// user gave it, the primitive cell derived from it, and the supercell the fc2 refers to.
#[derive(Clone, Debug)]
pub struct Structure {
    pub unit_cell: Cell,
    /// phonopy's primitive matrix M_p (L_prim = M_pᵀ · L_unit).
    pub primitive_matrix: Mat3,
    pub primitive: Cell,
    /// phonopy's supercell matrix M_s of the fc2 supercell (L_super = M_sᵀ · L_unit).
    pub fc2_supercell_matrix: [[i32; 3]; 3],
    /// The fc2 supercell in the atom order of the force-constant arrays.
    pub fc2_supercell: Cell,
}

impl Structure {
    /// Builds the primitive cell and (unless given explicitly) the fc2 supercell in phonopy's order.
    pub fn new(
        unit_cell: Cell,
        primitive_matrix: Mat3,
        fc2_supercell_matrix: [[i32; 3]; 3],
        fc2_supercell: Option<Cell>,
    ) -> Result<Structure> {
        let primitive = supercell::build_primitive(&unit_cell, &primitive_matrix)?;
        let fc2_supercell = match fc2_supercell {
            Some(c) => c,
            None => supercell::build_supercell(&unit_cell, &fc2_supercell_matrix)?,
        };
        let n_expected =
            unit_cell.n_atoms() as f64 * linalg::det(&linalg::to_f64(&fc2_supercell_matrix)).abs();
        if (fc2_supercell.n_atoms() as f64 - n_expected).abs() > 0.5 {
            return Err(Error::input(format!(
                "fc2 supercell has {} atoms, but the supercell matrix {:?} of a {}-atom unit cell gives {}",
                fc2_supercell.n_atoms(),
                fc2_supercell_matrix,
                unit_cell.n_atoms(),
                n_expected
            )));
        }
        Ok(Structure {
            unit_cell,
            primitive_matrix,
            primitive,
            fc2_supercell_matrix,
            fc2_supercell,
        })
    }

    /// Replaces the masses of every atom of a species (in all three cells).
    pub fn set_species_mass(&mut self, symbol: &str, mass: f64) -> Result<()> {
        if !(mass > 0.0 && mass.is_finite()) {
            return Err(Error::input(format!(
                "mass of {symbol} must be positive, found {mass}"
            )));
        }
        let mut found = false;
        for cell in [
            &mut self.unit_cell,
            &mut self.primitive,
            &mut self.fc2_supercell,
        ] {
            for (s, m) in cell.symbols.iter().zip(cell.masses.iter_mut()) {
                if s == symbol {
                    *m = mass;
                    found = true;
                }
            }
        }
        if !found {
            return Err(Error::input(format!(
                "mass override for '{symbol}', which is not in the structure"
            )));
        }
        Ok(())
    }
}
