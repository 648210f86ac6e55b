//! Primitive cells and supercells from a unit cell (phonopy's matrices), the map from supercell
//! atoms to (primitive atom, lattice vector), and phonopy's shortest periodic images.

use super::{Cell, wrap_fractional};
use crate::error::{Error, Result};
use crate::linalg::{self, Mat3, Vec3};

/// Position tolerance (Å) for matching atoms, phonopy's default symprec.
pub const SYMPREC: f64 = 1e-5;

/// Distance between two fractional positions of `lattice`, modulo lattice translations, in Å.
/// Exact for the nearest images of reasonably shaped cells (it checks the 27 neighbouring cells).
pub fn periodic_distance(lattice: &Mat3, a: &Vec3, b: &Vec3) -> f64 {
    let mut d = linalg::sub(a, b);
    for x in d.iter_mut() {
        *x -= x.round();
    }
    let mut best = f64::INFINITY;
    for i in -1..=1 {
        for j in -1..=1 {
            for k in -1..=1 {
                let v = [d[0] + i as f64, d[1] + j as f64, d[2] + k as f64];
                best = best.min(linalg::norm(&linalg::vec_mat(&v, lattice)));
            }
        }
    }
    best
}

/// The primitive cell L_p = M_pᵀ · L_u: unit-cell atoms expressed in the primitive basis,
/// wrapped into [0, 1), duplicates (lattice-translation images) removed, first appearance kept.
pub fn build_primitive(unit: &Cell, primitive_matrix: &Mat3) -> Result<Cell> {
    let det_p = linalg::det(primitive_matrix);
    if det_p.abs() < 1e-8 {
        return Err(Error::input(format!(
            "primitive matrix {primitive_matrix:?} is singular"
        )));
    }
    let lattice = linalg::mat_mul(&linalg::transpose(primitive_matrix), &unit.lattice);
    let inv =
        linalg::inverse(&lattice).ok_or_else(|| Error::input("primitive lattice is singular"))?;
    let mut positions: Vec<Vec3> = Vec::new();
    let mut symbols = Vec::new();
    let mut masses = Vec::new();
    for i in 0..unit.n_atoms() {
        let f = linalg::vec_mat(&unit.cartesian(i), &inv);
        let f = [
            wrap_fractional(f[0]),
            wrap_fractional(f[1]),
            wrap_fractional(f[2]),
        ];
        let dup = positions
            .iter()
            .position(|p| periodic_distance(&lattice, p, &f) < SYMPREC);
        match dup {
            Some(k) => {
                if symbols[k] != unit.symbols[i] {
                    return Err(Error::input(format!(
                        "unit-cell atoms {} ({}) and {} map onto the same primitive site: wrong primitive matrix?",
                        i + 1,
                        unit.symbols[i],
                        symbols[k]
                    )));
                }
            }
            None => {
                positions.push(f);
                symbols.push(unit.symbols[i].clone());
                masses.push(unit.masses[i]);
            }
        }
    }
    let expected = unit.n_atoms() as f64 * det_p.abs();
    if (positions.len() as f64 - expected).abs() > 1e-6 {
        return Err(Error::input(format!(
            "primitive matrix {primitive_matrix:?} should give {expected} atoms from the {}-atom unit cell, found {}: the matrix does not describe a primitive cell of this structure",
            unit.n_atoms(),
            positions.len()
        )));
    }
    Cell::new(lattice, positions, symbols, masses)
}

/// Supercell L_s = M_sᵀ · L_u in phonopy's atom order for diagonal M_s (atom-major, a-index
/// fastest, formats.md §2.2). For non-diagonal M_s the lattice points are enumerated in the same
/// spirit, but phonopy's order is not reproduced: map such supercells by position.
pub fn build_supercell(unit: &Cell, m: &[[i32; 3]; 3]) -> Result<Cell> {
    let mf = linalg::to_f64(m);
    let det = linalg::det(&mf);
    if det < 0.5 {
        return Err(Error::input(format!(
            "supercell matrix {m:?} must have a positive determinant, found {det}"
        )));
    }
    let lattice = linalg::mat_mul(&linalg::transpose(&mf), &unit.lattice);
    // Unit-cell lattice points inside the supercell: n · (M_sᵀ)⁻¹ in [0, 1).
    let to_super = linalg::inverse(&linalg::transpose(&mf)).expect("det checked");
    let mut points: Vec<[i32; 3]> = Vec::new();
    let bound: i32 = m.iter().flatten().map(|x| x.abs()).sum::<i32>().max(1);
    for c in -bound..=bound {
        for b in -bound..=bound {
            for a in -bound..=bound {
                let n = [a as f64, b as f64, c as f64];
                let s = linalg::vec_mat(&n, &to_super);
                if s.iter().all(|x| *x > -1e-9 && *x < 1.0 - 1e-9) {
                    points.push([a, b, c]);
                }
            }
        }
    }
    let n_cells = det.round() as usize;
    if points.len() != n_cells {
        return Err(Error::Numerical(format!(
            "found {} lattice points in supercell {m:?}, expected {n_cells}",
            points.len()
        )));
    }
    let mut positions = Vec::with_capacity(unit.n_atoms() * n_cells);
    let mut symbols = Vec::new();
    let mut masses = Vec::new();
    for k in 0..unit.n_atoms() {
        for p in &points {
            let n = [p[0] as f64, p[1] as f64, p[2] as f64];
            let s = linalg::vec_mat(&linalg::add(&n, &unit.positions[k]), &to_super);
            positions.push([
                wrap_fractional(s[0]),
                wrap_fractional(s[1]),
                wrap_fractional(s[2]),
            ]);
            symbols.push(unit.symbols[k].clone());
            masses.push(unit.masses[k]);
        }
    }
    Cell::new(lattice, positions, symbols, masses)
}

/// For every atom of a supercell: which primitive atom it is and in which primitive cell.
#[derive(Clone, Debug)]
pub struct AtomMap {
    /// Primitive atom of supercell atom s.
    pub atom: Vec<usize>,
    /// Lattice vector (primitive basis) of supercell atom s: r_s = (cell + f_atom) · L_p.
    pub cell: Vec<[i32; 3]>,
    /// Supercell lattice rows expressed in the primitive basis (integer matrix).
    pub super_in_prim: [[i32; 3]; 3],
}

impl AtomMap {
    /// Maps supercell atoms by position (formats.md §2.4). Fails when an atom has no or several
    /// primitive partners, or when the supercell is not a multiple of the primitive lattice.
    pub fn new(primitive: &Cell, supercell: &Cell) -> Result<AtomMap> {
        let inv_p = linalg::inverse(&primitive.lattice).expect("validated lattice");
        let sp = linalg::mat_mul(&supercell.lattice, &inv_p);
        let super_in_prim = linalg::to_integer(&sp, 1e-4).ok_or_else(|| {
            Error::input(format!(
                "the supercell lattice is not an integer multiple of the primitive lattice (rows in the primitive basis: {sp:?})"
            ))
        })?;
        let n_cells = linalg::det(&linalg::to_f64(&super_in_prim)).abs().round() as usize;
        if supercell.n_atoms() != n_cells * primitive.n_atoms() {
            return Err(Error::input(format!(
                "supercell has {} atoms, expected {} primitive cells × {} atoms",
                supercell.n_atoms(),
                n_cells,
                primitive.n_atoms()
            )));
        }
        let mut atom = Vec::with_capacity(supercell.n_atoms());
        let mut cell = Vec::with_capacity(supercell.n_atoms());
        let mut count = vec![0usize; primitive.n_atoms()];
        for s in 0..supercell.n_atoms() {
            let f = linalg::vec_mat(&supercell.cartesian(s), &inv_p);
            let mut found = None;
            for k in 0..primitive.n_atoms() {
                let g = linalg::sub(&f, &primitive.positions[k]);
                let n = [g[0].round(), g[1].round(), g[2].round()];
                let resid = linalg::vec_mat(&linalg::sub(&g, &n), &primitive.lattice);
                if linalg::norm(&resid) < 1e-3 {
                    if found.is_some() {
                        return Err(Error::input(format!(
                            "supercell atom {} matches two primitive atoms",
                            s + 1
                        )));
                    }
                    found = Some((k, [n[0] as i32, n[1] as i32, n[2] as i32]));
                }
            }
            let (k, n) = found.ok_or_else(|| {
                Error::input(format!(
                    "supercell atom {} ({}) at fractional {:?} is not a lattice translation of any primitive atom",
                    s + 1,
                    supercell.symbols[s],
                    supercell.positions[s]
                ))
            })?;
            if supercell.symbols[s] != primitive.symbols[k] {
                return Err(Error::input(format!(
                    "supercell atom {} is {} but sits on primitive site {} ({})",
                    s + 1,
                    supercell.symbols[s],
                    k + 1,
                    primitive.symbols[k]
                )));
            }
            count[k] += 1;
            atom.push(k);
            cell.push(n);
        }
        if count.iter().any(|c| *c != n_cells) {
            return Err(Error::input(format!(
                "supercell atoms per primitive site {count:?}, expected {n_cells} each"
            )));
        }
        Ok(AtomMap {
            atom,
            cell,
            super_in_prim,
        })
    }

    /// The supercell atom that is primitive atom `k` in lattice cell `n` (modulo the supercell).
    pub fn find(&self, k: usize, n: &[i32; 3]) -> Option<usize> {
        let sp = linalg::to_f64(&self.super_in_prim);
        let inv = linalg::inverse(&sp).expect("non-singular supercell");
        (0..self.atom.len()).find(|&s| {
            if self.atom[s] != k {
                return false;
            }
            let d = [
                (n[0] - self.cell[s][0]) as f64,
                (n[1] - self.cell[s][1]) as f64,
                (n[2] - self.cell[s][2]) as f64,
            ];
            let x = linalg::vec_mat(&d, &inv);
            x.iter().all(|v| (v - v.round()).abs() < 1e-6)
        })
    }

    /// First supercell atom of each primitive atom (phonopy's p2s_map for phonopy-ordered cells).
    pub fn p2s(&self, n_prim: usize) -> Vec<usize> {
        (0..n_prim)
            .map(|k| {
                self.atom
                    .iter()
                    .position(|&a| a == k)
                    .expect("every site mapped")
            })
            .collect()
    }
}

/// All shortest images of the supercell vector `d` (fractional in the supercell basis): the
/// vectors d + T over supercell translations T whose length is within `tol` Å of the minimum.
/// Returned as fractional supercell vectors (phonopy's "shortest vectors with multiplicity").
pub fn shortest_images(super_lattice: &Mat3, d: &Vec3, tol: f64) -> Vec<Vec3> {
    let base = [
        d[0] - d[0].round(),
        d[1] - d[1].round(),
        d[2] - d[2].round(),
    ];
    let mut cands: Vec<(f64, Vec3)> = Vec::with_capacity(125);
    for i in -2..=2 {
        for j in -2..=2 {
            for k in -2..=2 {
                let v = [base[0] + i as f64, base[1] + j as f64, base[2] + k as f64];
                cands.push((linalg::norm(&linalg::vec_mat(&v, super_lattice)), v));
            }
        }
    }
    let min = cands.iter().map(|c| c.0).fold(f64::INFINITY, f64::min);
    cands
        .into_iter()
        .filter(|c| c.0 - min < tol)
        .map(|c| c.1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    fn si_unit() -> Cell {
        let a = 5.43356003;
        let pos = vec![
            [0.875, 0.875, 0.875],
            [0.875, 0.375, 0.375],
            [0.375, 0.875, 0.375],
            [0.375, 0.375, 0.875],
            [0.125, 0.125, 0.125],
            [0.125, 0.625, 0.625],
            [0.625, 0.125, 0.625],
            [0.625, 0.625, 0.125],
        ];
        Cell::with_standard_masses(
            [[a, 0.0, 0.0], [0.0, a, 0.0], [0.0, 0.0, a]],
            pos,
            vec!["Si".into(); 8],
        )
        .unwrap()
    }

    #[test]
    fn fcc_primitive_of_diamond_has_two_atoms() {
        let f = [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]];
        let p = build_primitive(&si_unit(), &f).unwrap();
        assert_eq!(p.n_atoms(), 2);
        assert!((p.volume() - si_unit().volume() / 4.0).abs() < 1e-10);
        // phonopy's primitive: atom 1 at 7/8, atom 2 at 1/8.
        assert!(periodic_distance(&p.lattice, &p.positions[0], &[0.875; 3]) < 1e-10);
        assert!(periodic_distance(&p.lattice, &p.positions[1], &[0.125; 3]) < 1e-10);
        let bad = build_primitive(
            &si_unit(),
            &[[0.5, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        );
        assert!(bad.is_err());
    }

    #[test]
    fn supercell_order_and_map() {
        let unit = si_unit();
        let sc = build_supercell(&unit, &[[2, 0, 0], [0, 2, 0], [0, 0, 2]]).unwrap();
        assert_eq!(sc.n_atoms(), 64);
        // phonopy order: atom-major, a fastest: atom 1 is unit atom 0 shifted by one a.
        assert!((sc.positions[1][0] - (0.875 + 1.0) / 2.0).abs() < 1e-12);
        let f = [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]];
        let prim = build_primitive(&unit, &f).unwrap();
        let map = AtomMap::new(&prim, &sc).unwrap();
        assert_eq!(map.p2s(2), vec![0, 32]);
        for s in 0..64 {
            assert_eq!(map.find(map.atom[s], &map.cell[s]), Some(s));
        }
    }
}
