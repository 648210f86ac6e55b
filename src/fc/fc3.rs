//! Third-order force constants: phono3py's supercell arrays (full or compact) and the canonical
//! triplet list (κ, κ', R', κ'', R'') → Φ_αβγ (eV/Å³) of physics.md §2.
//!
//! Images and reference atom follow phono3py (its default `make_r0_average`): the supercell
//! element Φ(s₀, a, b) is shared equally among the m_a shortest images of r_a − r_s₀ and,
//! independently, the m_b shortest images of r_b − r_s₀ (weight 1/(m_a m_b) per image pair); and
//! the list is the average of the three lists obtained with the home atom s₀ in each of the
//! three index slots (using the permutation symmetry of Φ). In a small supercell the three
//! choices differ by a few percent in the linewidths; averaging them is what phono3py does.

use crate::crystal::Cell;
use crate::crystal::supercell::{AtomMap, SYMPREC, shortest_images};
use crate::error::{Error, Result};
use crate::linalg;

/// phono3py's fc3 array: `data[((r * n_super + j) * n_super + k) * 27 + 9α + 3β + γ]` is
/// Φ_αβγ(rows[r], j, k).
#[derive(Clone, Debug, PartialEq)]
pub struct Fc3Array {
    pub rows: Vec<usize>,
    pub n_super: usize,
    pub data: Vec<f64>,
}

impl Fc3Array {
    pub fn block(&self, r: usize, j: usize, k: usize) -> &[f64] {
        let o = ((r * self.n_super + j) * self.n_super + k) * 27;
        &self.data[o..o + 27]
    }

    /// Largest |Σ_k Φ_αβγ(i, j, k)| over stored rows i, all j and components (eV/Å³): the
    /// acoustic sum rule on the last index.
    pub fn asr_violation(&self) -> f64 {
        let n = self.n_super;
        let mut worst = 0.0f64;
        for r in 0..self.rows.len() {
            for j in 0..n {
                let mut s = [0.0; 27];
                for k in 0..n {
                    for (a, b) in s.iter_mut().zip(self.block(r, j, k)) {
                        *a += b;
                    }
                }
                worst = s.iter().fold(worst, |w, x| w.max(x.abs()));
            }
        }
        worst
    }
}

/// One triplet term Φ_αβγ(0κ, R'κ', R''κ'') (eV/Å³), `phi[9α + 3β + γ]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Triplet {
    pub i: usize,
    pub j: usize,
    pub k: usize,
    /// Lattice vectors (primitive basis) of the cells of atoms j and k.
    pub cell_j: [i32; 3],
    pub cell_k: [i32; 3],
    pub phi: [f64; 27],
}

/// Third-order force constants in canonical triplet-list form, referring to the primitive cell.
#[derive(Clone, Debug, PartialEq)]
pub struct Fc3 {
    pub n_atoms: usize,
    pub terms: Vec<Triplet>,
}

impl Fc3 {
    /// Unfolds a supercell array (see the module comment). Exactly-zero blocks are skipped and
    /// terms with the same atoms and cells are merged.
    pub fn from_array(prim: &Cell, supercell: &Cell, fc: &Fc3Array) -> Result<Fc3> {
        let map = AtomMap::new(prim, supercell)?;
        let n = supercell.n_atoms();
        if fc.n_super != n {
            return Err(Error::input(format!(
                "fc3 has {} supercell atoms, but the fc3 supercell of the structure has {n}",
                fc.n_super
            )));
        }
        let n_prim = prim.n_atoms();
        // The stored row that represents each primitive atom.
        let mut reps = vec![usize::MAX; n_prim];
        for (r, &s) in fc.rows.iter().enumerate() {
            if s >= n {
                return Err(Error::input(format!(
                    "fc3 row index {} is outside the {n}-atom supercell",
                    s + 1
                )));
            }
            if reps[map.atom[s]] == usize::MAX {
                reps[map.atom[s]] = r;
            }
        }
        if let Some(k) = reps.iter().position(|r| *r == usize::MAX) {
            return Err(Error::input(format!(
                "fc3: no stored row belongs to primitive atom {}",
                k + 1
            )));
        }
        let inv_p = linalg::inverse(&prim.lattice).expect("validated lattice");
        let mut merged: std::collections::HashMap<TermKey, [f64; 27]> = Default::default();
        for (home, &r) in reps.iter().enumerate() {
            let s0 = fc.rows[r];
            // Lattice vectors of the shortest images of every supercell atom seen from s₀.
            let images: Vec<Vec<[i32; 3]>> = (0..n)
                .map(|t| {
                    let d = linalg::sub(&supercell.positions[t], &supercell.positions[s0]);
                    shortest_images(&supercell.lattice, &d, SYMPREC)
                        .into_iter()
                        .map(|img| {
                            let v =
                                linalg::vec_mat(&linalg::vec_mat(&img, &supercell.lattice), &inv_p);
                            let c = linalg::sub(
                                &linalg::add(&v, &prim.positions[home]),
                                &prim.positions[map.atom[t]],
                            );
                            [
                                c[0].round() as i32,
                                c[1].round() as i32,
                                c[2].round() as i32,
                            ]
                        })
                        .collect()
                })
                .collect();
            for a in 0..n {
                for b in 0..n {
                    let block = fc.block(r, a, b);
                    if block.iter().all(|x| *x == 0.0) {
                        continue;
                    }
                    let w = 1.0 / (3 * images[a].len() * images[b].len()) as f64;
                    let (ka, kb) = (map.atom[a], map.atom[b]);
                    for ra in &images[a] {
                        for rb in &images[b] {
                            for leg in 0..3 {
                                // (i, j, k), the cells of j and k relative to i, and the
                                // component order of the block: Φ(s₀,a,b)_{xyz} with the home
                                // atom s₀ in slot `leg`.
                                let (key, perm): (TermKey, [usize; 3]) = match leg {
                                    0 => ((home, ka, kb, *ra, *rb), [0, 1, 2]),
                                    1 => ((ka, home, kb, neg(ra), sub3(rb, ra)), [1, 0, 2]),
                                    _ => ((kb, ka, home, sub3(ra, rb), neg(rb)), [2, 1, 0]),
                                };
                                let acc = merged.entry(key).or_insert([0.0; 27]);
                                for x in 0..3 {
                                    for y in 0..3 {
                                        for z in 0..3 {
                                            // Slot `perm[0]` of (x, y, z) indexes the home atom, etc.
                                            let idx = [x, y, z];
                                            let src =
                                                9 * idx[perm[0]] + 3 * idx[perm[1]] + idx[perm[2]];
                                            acc[9 * x + 3 * y + z] += w * block[src];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let mut terms: Vec<Triplet> = merged
            .into_iter()
            .map(|((i, j, k, cell_j, cell_k), phi)| Triplet {
                i,
                j,
                k,
                cell_j,
                cell_k,
                phi,
            })
            .collect();
        // HashMap order is arbitrary: sort so that sums over terms are reproducible.
        terms.sort_by_key(|t| (t.i, t.j, t.k, t.cell_j, t.cell_k));
        Ok(Fc3 {
            n_atoms: n_prim,
            terms,
        })
    }
}

impl Fc3 {
    /// Folds the list onto `supercell` as phono3py's compact array: rows are the first
    /// supercell atom of each primitive atom (phonopy's p2s map) and Φ(s₀, a, b) is the sum of
    /// every term whose atoms land on a and b (periodic images add up, as in any supercell
    /// array). For a list that came from an array of the same supercell this gives the array back.
    pub fn to_compact_array(&self, prim: &Cell, supercell: &Cell) -> Result<Fc3Array> {
        let map = AtomMap::new(prim, supercell)?;
        let n = supercell.n_atoms();
        let rows = map.p2s(self.n_atoms);
        let mut data = vec![0.0; rows.len() * n * n * 27];
        let mut found: std::collections::HashMap<(usize, [i32; 3]), usize> = Default::default();
        let mut locate = |k: usize, c: [i32; 3]| -> Result<usize> {
            if let Some(&s) = found.get(&(k, c)) {
                return Ok(s);
            }
            let s = map.find(k, &c).ok_or_else(|| {
                Error::input(format!(
                    "fc3: atom {} in cell {c:?} has no partner in the supercell",
                    k + 1
                ))
            })?;
            found.insert((k, c), s);
            Ok(s)
        };
        for t in &self.terms {
            let base = map.cell[rows[t.i]];
            let a = locate(t.j, std::array::from_fn(|x| base[x] + t.cell_j[x]))?;
            let b = locate(t.k, std::array::from_fn(|x| base[x] + t.cell_k[x]))?;
            let o = ((t.i * n + a) * n + b) * 27;
            for (d, v) in data[o..o + 27].iter_mut().zip(&t.phi) {
                *d += v;
            }
        }
        Ok(Fc3Array {
            rows,
            n_super: n,
            data,
        })
    }
}

/// (κ, κ', κ'', cell of κ', cell of κ'') of a triplet term.
type TermKey = (usize, usize, usize, [i32; 3], [i32; 3]);

fn neg(a: &[i32; 3]) -> [i32; 3] {
    [-a[0], -a[1], -a[2]]
}

fn sub3(a: &[i32; 3], b: &[i32; 3]) -> [i32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
