//! Space-group symmetry from moyo: operations in the fractional basis of a cell, the crystal
//! point group, and the reciprocal-space rotations phonopy uses for meshes and velocities.

use super::{Cell, elements};
use crate::error::{Error, Result};
use crate::linalg::{self, Mat3, Vec3};

/// Space group of a cell. Rotations act on fractional coordinates: x' = R x + t.
#[derive(Clone, Debug)]
pub struct Symmetry {
    pub number: i32,
    pub symbol: String,
    pub rotations: Vec<[[i32; 3]; 3]>,
    pub translations: Vec<Vec3>,
}

impl Symmetry {
    pub fn new(cell: &Cell, symprec: f64) -> Result<Symmetry> {
        let lattice =
            moyo::base::Lattice::new(nalgebra::Matrix3::from_fn(|i, j| cell.lattice[i][j]));
        let positions = cell
            .positions
            .iter()
            .map(|p| nalgebra::Vector3::new(p[0], p[1], p[2]))
            .collect();
        let numbers = cell
            .symbols
            .iter()
            .map(|s| elements::atomic_number(s).unwrap_or(0) as i32)
            .collect();
        let mcell = moyo::base::Cell::new(lattice, positions, numbers);
        let ds = moyo::MoyoDataset::with_default(&mcell, symprec)
            .map_err(|e| Error::Numerical(format!("symmetry search (moyo) failed: {e:?}")))?;
        let mut rotations = Vec::new();
        let mut translations = Vec::new();
        for op in ds.operations.iter() {
            let mut r = [[0i32; 3]; 3];
            for (i, row) in r.iter_mut().enumerate() {
                for (j, x) in row.iter_mut().enumerate() {
                    *x = op.rotation[(i, j)];
                }
            }
            rotations.push(r);
            translations.push([op.translation[0], op.translation[1], op.translation[2]]);
        }
        Ok(Symmetry {
            number: ds.number,
            symbol: ds.hm_symbol.clone(),
            rotations,
            translations,
        })
    }

    /// Distinct rotations (the crystal point group in the cell's fractional basis).
    pub fn point_group(&self) -> Vec<[[i32; 3]; 3]> {
        let mut out: Vec<[[i32; 3]; 3]> = Vec::new();
        for r in &self.rotations {
            if !out.contains(r) {
                out.push(*r);
            }
        }
        out
    }

    /// Rotations acting on reduced q (Rᵀ of each point operation), with −Rᵀ added when the
    /// point group lacks inversion (time-reversal symmetry), as phonopy's reciprocal operations.
    pub fn reciprocal_rotations(&self) -> Vec<[[i32; 3]; 3]> {
        let pg = self.point_group();
        let tr = |r: &[[i32; 3]; 3]| {
            let mut t = [[0; 3]; 3];
            for i in 0..3 {
                for j in 0..3 {
                    t[i][j] = r[j][i];
                }
            }
            t
        };
        let mut out: Vec<[[i32; 3]; 3]> = pg.iter().map(tr).collect();
        let inversion = [[-1, 0, 0], [0, -1, 0], [0, 0, -1]];
        if !pg.contains(&inversion) {
            let neg: Vec<_> = out.iter().map(|r| r.map(|row| row.map(|x| -x))).collect();
            out.extend(neg);
        }
        out
    }

    /// For each operation, the atom each atom is sent to: atom_map[op][i] = j with R x_i + t ≡ x_j.
    pub fn atom_permutations(&self, cell: &Cell, tol: f64) -> Result<Vec<Vec<usize>>> {
        let mut out = Vec::with_capacity(self.rotations.len());
        for (r, t) in self.rotations.iter().zip(&self.translations) {
            let rf = linalg::to_f64(r);
            let mut perm = Vec::with_capacity(cell.n_atoms());
            for i in 0..cell.n_atoms() {
                let x = linalg::add(&linalg::mat_vec(&rf, &cell.positions[i]), t);
                let j = (0..cell.n_atoms())
                    .find(|&j| {
                        super::supercell::periodic_distance(&cell.lattice, &x, &cell.positions[j])
                            < tol
                    })
                    .ok_or_else(|| {
                        Error::Numerical(format!(
                            "symmetry operation does not map atom {} onto an atom",
                            i + 1
                        ))
                    })?;
                perm.push(j);
            }
            out.push(perm);
        }
        Ok(out)
    }

    /// Cartesian form of a rotation acting on reduced q: q_cart = Bᵀ q_red with the reciprocal
    /// vectors as the rows of B, so R_cart = Bᵀ r B⁻ᵀ. Vectors odd or even in q that follow the
    /// star (group velocities, the LBTE deviations) rotate with it.
    pub fn cartesian_reciprocal_rotation(cell: &Cell, r: &[[i32; 3]; 3]) -> Mat3 {
        let bt = linalg::transpose(&cell.reciprocal());
        let bt_inv = linalg::inverse(&bt).expect("validated lattice");
        linalg::mat_mul(&linalg::mat_mul(&bt, &linalg::to_f64(r)), &bt_inv)
    }

    /// Cartesian form of a fractional rotation: R_cart = Lᵀ R L⁻ᵀ (lattice vectors as rows).
    pub fn cartesian_rotation(cell: &Cell, r: &[[i32; 3]; 3]) -> Mat3 {
        let lt = linalg::transpose(&cell.lattice);
        let lit = linalg::inverse(&lt).expect("validated lattice");
        linalg::mat_mul(&linalg::mat_mul(&lt, &linalg::to_f64(r)), &lit)
    }
}
