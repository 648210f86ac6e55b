//! Force constants in canonical form (physics.md §2): a list of pair terms
//! (κ, κ', lattice vector R, Φ 3×3) between primitive atoms, the TDEP form.
//! Supercell arrays (phonopy/phono3py) are unfolded into it once, at load time, with phonopy's
//! shortest-image multiplicities; lists (TDEP, ShengBTE) are used as they are.

pub mod asr;
pub mod fc3;
pub mod fc4;

use crate::crystal::supercell::{AtomMap, SYMPREC, shortest_images};
use crate::crystal::{Cell, Structure};
use crate::error::{Error, Result};
use crate::linalg::{self, Mat3};

/// Force constants between supercell atoms, as phonopy stores them: `data[r * n_super + t]`
/// is Φ(rows[r], t), with `rows` the supercell indices of the stored rows (all atoms for a
/// full array, the p2s_map for a compact one).
#[derive(Clone, Debug, PartialEq)]
pub struct Fc2Array {
    pub rows: Vec<usize>,
    pub n_super: usize,
    pub data: Vec<Mat3>,
}

impl Fc2Array {
    pub fn is_full(&self) -> bool {
        self.rows.len() == self.n_super
    }

    pub fn block(&self, row: usize, t: usize) -> &Mat3 {
        &self.data[row * self.n_super + t]
    }

    /// Checks the array against the fc2 supercell and returns, for each primitive atom, the index
    /// of a stored row that represents it.
    fn representative_rows(&self, map: &AtomMap, n_prim: usize, what: &str) -> Result<Vec<usize>> {
        if self.n_super != map.atom.len() {
            return Err(Error::input(format!(
                "{what}: fc2 has {} supercell atoms, but the fc2 supercell of the structure has {}",
                self.n_super,
                map.atom.len()
            )));
        }
        if let Some(r) = self.rows.iter().find(|r| **r >= self.n_super) {
            return Err(Error::input(format!(
                "{what}: row index {} is outside the {}-atom supercell",
                r + 1,
                self.n_super
            )));
        }
        let mut reps = vec![usize::MAX; n_prim];
        for (r, &s) in self.rows.iter().enumerate() {
            if reps[map.atom[s]] == usize::MAX {
                reps[map.atom[s]] = r;
            }
        }
        if let Some(k) = reps.iter().position(|r| *r == usize::MAX) {
            return Err(Error::input(format!(
                "{what}: no stored row belongs to primitive atom {}",
                k + 1
            )));
        }
        Ok(reps)
    }

    /// Compact (p2s rows) copy of this array.
    pub fn to_compact(&self, map: &AtomMap, n_prim: usize) -> Result<Fc2Array> {
        let reps = self.representative_rows(map, n_prim, "fc2")?;
        let p2s = map.p2s(n_prim);
        // A row for atom κ at any lattice cell equals the row at the p2s atom after translating
        // the column index; rebuild rows at p2s exactly by that translation.
        let mut data = vec![[[0.0; 3]; 3]; n_prim * self.n_super];
        for k in 0..n_prim {
            let r = reps[k];
            let s0 = self.rows[r];
            let shift = sub_cells(&map.cell[p2s[k]], &map.cell[s0]);
            for t in 0..self.n_super {
                let n = add_cells(&map.cell[t], &shift);
                let t2 = map
                    .find(map.atom[t], &n)
                    .ok_or_else(|| Error::Numerical("supercell translation failed".into()))?;
                data[k * self.n_super + t2] = *self.block(r, t);
            }
        }
        Ok(Fc2Array {
            rows: p2s,
            n_super: self.n_super,
            data,
        })
    }
}

fn add_cells(a: &[i32; 3], b: &[i32; 3]) -> [i32; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
fn sub_cells(a: &[i32; 3], b: &[i32; 3]) -> [i32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// One pair term Φ_αβ(0κ, Rκ') (eV/Å²).
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    pub i: usize,
    pub j: usize,
    /// Lattice vector of atom j's cell, primitive basis: r_j = (cell + f_j) · L_p.
    pub cell: [i32; 3],
    pub phi: Mat3,
}

/// Second-order force constants in canonical pair-list form, referring to `Structure::primitive`.
#[derive(Clone, Debug, PartialEq)]
pub struct Fc2 {
    pub n_atoms: usize,
    pub pairs: Vec<Pair>,
}

impl Fc2 {
    /// Unfolds a supercell array with phonopy's shortest-image rule: Φ(s₀, t) is shared equally
    /// among the m shortest images of r_t − r_s₀ (formats.md §2.5).
    pub fn from_array(structure: &Structure, fc: &Fc2Array) -> Result<Fc2> {
        let prim = &structure.primitive;
        let sc = &structure.fc2_supercell;
        let map = AtomMap::new(prim, sc)?;
        let reps = fc.representative_rows(&map, prim.n_atoms(), "fc2")?;
        let inv_p = linalg::inverse(&prim.lattice).expect("validated lattice");
        let mut pairs = Vec::new();
        for (k, &r) in reps.iter().enumerate() {
            let s0 = fc.rows[r];
            for t in 0..sc.n_atoms() {
                let phi = fc.block(r, t);
                let d = linalg::sub(&sc.positions[t], &sc.positions[s0]);
                let images = shortest_images(&sc.lattice, &d, SYMPREC);
                let w = 1.0 / images.len() as f64;
                let kp = map.atom[t];
                for img in images {
                    // Image vector in the primitive basis minus the basis-atom offset = lattice vector.
                    let v = linalg::vec_mat(&linalg::vec_mat(&img, &sc.lattice), &inv_p);
                    let c = linalg::sub(&linalg::add(&v, &prim.positions[k]), &prim.positions[kp]);
                    let cell = [
                        c[0].round() as i32,
                        c[1].round() as i32,
                        c[2].round() as i32,
                    ];
                    pairs.push(Pair {
                        i: k,
                        j: kp,
                        cell,
                        phi: phi.map(|row| row.map(|x| x * w)),
                    });
                }
            }
        }
        Ok(Fc2 {
            n_atoms: prim.n_atoms(),
            pairs,
        })
    }

    /// Folds the list onto a supercell (formats.md §2.5, list → supercell): every term lands on
    /// the supercell atom at its lattice vector modulo the supercell, and terms that land on the
    /// same pair are summed. Returns the compact (p2s rows) array.
    pub fn to_compact_array(&self, prim: &Cell, supercell: &Cell) -> Result<Fc2Array> {
        let map = AtomMap::new(prim, supercell)?;
        let p2s = map.p2s(prim.n_atoms());
        let n = supercell.n_atoms();
        let mut data = vec![[[0.0; 3]; 3]; prim.n_atoms() * n];
        for p in &self.pairs {
            let target = add_cells(&map.cell[p2s[p.i]], &p.cell);
            let t = map.find(p.j, &target).ok_or_else(|| {
                Error::Numerical(format!(
                    "pair term of atom {} not found in the supercell",
                    p.j + 1
                ))
            })?;
            let b = &mut data[p.i * n + t];
            for a in 0..3 {
                for c in 0..3 {
                    b[a][c] += p.phi[a][c];
                }
            }
        }
        Ok(Fc2Array {
            rows: p2s,
            n_super: n,
            data,
        })
    }

    /// Merges terms with the same (i, j, cell) and drops exact zeros; sorted by (i, j, cell).
    pub fn merged(&self) -> Fc2 {
        let mut pairs = self.pairs.clone();
        pairs.sort_by_key(|p| (p.i, p.j, p.cell));
        let mut out: Vec<Pair> = Vec::with_capacity(pairs.len());
        for p in pairs {
            match out.last_mut() {
                Some(q) if q.i == p.i && q.j == p.j && q.cell == p.cell => {
                    for a in 0..3 {
                        for c in 0..3 {
                            q.phi[a][c] += p.phi[a][c];
                        }
                    }
                }
                _ => out.push(p),
            }
        }
        out.retain(|p| p.phi.iter().flatten().any(|x| *x != 0.0));
        Fc2 {
            n_atoms: self.n_atoms,
            pairs: out,
        }
    }

    /// Longest pair distance (Å) with a non-zero term.
    pub fn range(&self, prim: &Cell) -> f64 {
        self.pairs
            .iter()
            .filter(|p| p.phi.iter().flatten().any(|x| x.abs() > 1e-12))
            .map(|p| {
                let c = [p.cell[0] as f64, p.cell[1] as f64, p.cell[2] as f64];
                let d = linalg::sub(&linalg::add(&c, &prim.positions[p.j]), &prim.positions[p.i]);
                linalg::norm(&linalg::vec_mat(&d, &prim.lattice))
            })
            .fold(0.0, f64::max)
    }
}

/// Full (n_s × n_s) array from a compact one, by lattice translation of the rows
/// (phonopy's distribute_force_constants_by_translations, formats.md §2.3).
pub fn full_array(compact: &Fc2Array, prim: &Cell, supercell: &Cell) -> Result<Fc2Array> {
    let map = AtomMap::new(prim, supercell)?;
    let n = supercell.n_atoms();
    let reps = compact.representative_rows(&map, prim.n_atoms(), "fc2")?;
    let mut data = vec![[[0.0; 3]; 3]; n * n];
    for s in 0..n {
        let r = reps[map.atom[s]];
        let s0 = compact.rows[r];
        let shift = sub_cells(&map.cell[s], &map.cell[s0]);
        for t in 0..n {
            let target = add_cells(&map.cell[t], &shift);
            let t2 = map
                .find(map.atom[t], &target)
                .ok_or_else(|| Error::Numerical("supercell translation failed".into()))?;
            data[s * n + t2] = *compact.block(r, t);
        }
    }
    Ok(Fc2Array {
        rows: (0..n).collect(),
        n_super: n,
        data,
    })
}
