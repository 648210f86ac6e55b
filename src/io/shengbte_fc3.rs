//! ShengBTE FORCE_CONSTANTS_3RD (thirdorder, hiPhive, FourPhonon; formats.md §6.3): a list of
//! blocks (R_j, R_k Cartesian lattice vectors in Å, 1-based atoms i j k of the ShengBTE cell,
//! 27 lines "a b c Φ" with c fastest) read into the canonical triplet list. The list is used as
//! it is: it already names the lattice vectors, so no image sharing is involved.

use super::fc_list::{ListTerm, fc3_from_terms, fc3_terms};
use super::text::TextFile;
use crate::crystal::Cell;
use crate::error::{Error, Result};
use crate::fc::fc3::Fc3;
use crate::linalg;
use std::path::Path;

/// Reads the file for the ShengBTE cell `sheng` and expresses it on `prim` (the primitive cell
/// latdyn works with): atoms are matched by position, and lattice vectors shifted accordingly.
pub fn read_fc3_shengbte(path: &Path, sheng: &Cell, prim: &Cell) -> Result<Fc3> {
    Ok(fc3_from_terms(
        read_blocks(path, sheng, prim, 3)?,
        prim.n_atoms(),
    ))
}

/// The blocks of a FORCE_CONSTANTS_3RD (`order` 3) or FORCE_CONSTANTS_4TH (`order` 4) file:
/// count, then per block an index, order − 1 Cartesian lattice vectors (Å), `order` 1-based
/// atoms and 3^order lines "a b … value" (last index fastest; the labels are checked).
pub(crate) fn read_blocks(
    path: &Path,
    sheng: &Cell,
    prim: &Cell,
    order: usize,
) -> Result<Vec<ListTerm>> {
    let map =
        match_atoms(sheng, prim).map_err(|e| Error::input(format!("{}: {e}", path.display())))?;
    let mut f = TextFile::read(path)?;
    let n_blocks = f.next_count("the number of blocks")?;
    let inv = linalg::inverse(&sheng.lattice).expect("validated lattice");
    let inv_prim = linalg::inverse(&prim.lattice).expect("validated lattice");
    let n_values = 3usize.pow(order as u32);
    // The count comes from the file: do not trust it for an allocation.
    let mut terms = Vec::with_capacity(n_blocks.min(1 << 16));
    for b in 0..n_blocks {
        let what = format!("block {} of {n_blocks}", b + 1);
        f.next_count(&format!("the index of {what}"))?;
        let mut cells = vec![[0i32; 3]; order - 1];
        for c in cells.iter_mut() {
            let line = f.line_number();
            let r = f.next_f64s(3, &format!("a lattice vector (3 numbers, Å) of {what}"))?;
            let x = linalg::vec_mat(&[r[0], r[1], r[2]], &inv);
            for k in 0..3 {
                if (x[k] - x[k].round()).abs() > 1e-4 {
                    return Err(f.err(
                        line,
                        format!("{what}: {r:?} Å is not a lattice vector of the ShengBTE cell (fractional {x:?})"),
                    ));
                }
                c[k] = x[k].round() as i32;
            }
        }
        let line = f.line_number();
        let atoms = f.next_f64s(order, &format!("the {order} atom indices of {what}"))?;
        let mut idx = vec![0usize; order];
        for (k, a) in atoms.iter().enumerate() {
            if a.fract() != 0.0 || *a < 1.0 || *a as usize > sheng.n_atoms() {
                return Err(f.err(
                    line,
                    format!("{what}: atom index {a} is not in 1..{}", sheng.n_atoms()),
                ));
            }
            idx[k] = *a as usize - 1;
        }
        let mut phi = vec![0.0; n_values];
        for (n, p) in phi.iter_mut().enumerate() {
            let line = f.line_number();
            let v = f.next_f64s(
                order + 1,
                &format!("line {} of {n_values} (indices and value) of {what}", n + 1),
            )?;
            let expect: Vec<f64> = (0..order)
                .map(|slot| ((n / 3usize.pow((order - 1 - slot) as u32)) % 3 + 1) as f64)
                .collect();
            if v[..order] != expect[..] {
                return Err(f.err(
                    line,
                    format!(
                        "{what}: expected indices {expect:?}, found {:?}",
                        &v[..order]
                    ),
                ));
            }
            *p = v[order];
        }
        // Positions in the latdyn cell: ShengBTE atom a at cell R is latdyn atom map[a].0 at
        // cell R·(L_sheng → L_prim) + map[a].1.
        let to_prim = |a: usize, c: [i32; 3]| -> [i32; 3] {
            let x = linalg::vec_mat(&c.map(f64::from), &sheng.lattice);
            let y = linalg::vec_mat(&x, &inv_prim);
            std::array::from_fn(|k| y[k].round() as i32 + map[a].1[k])
        };
        let home = to_prim(idx[0], [0; 3]);
        terms.push(ListTerm {
            atoms: idx.iter().map(|&a| map[a].0).collect(),
            cells: idx[1..]
                .iter()
                .zip(&cells)
                .map(|(&a, &c)| {
                    let r = to_prim(a, c);
                    std::array::from_fn(|k| r[k] - home[k])
                })
                .collect(),
            phi,
        });
    }
    Ok(terms)
}

/// For each ShengBTE atom: (latdyn atom, lattice vector n) with r_sheng = r_prim(atom) + n·L_prim.
fn match_atoms(sheng: &Cell, prim: &Cell) -> std::result::Result<Vec<(usize, [i32; 3])>, String> {
    if sheng.n_atoms() != prim.n_atoms() {
        return Err(format!(
            "the ShengBTE cell has {} atoms, the primitive cell {}",
            sheng.n_atoms(),
            prim.n_atoms()
        ));
    }
    let inv = linalg::inverse(&prim.lattice).expect("validated");
    let same_lattice = linalg::mat_mul(&sheng.lattice, &inv);
    if linalg::to_integer(&same_lattice, 1e-4)
        .map(|m| linalg::det(&linalg::to_f64(&m)).abs().round() as i32)
        != Some(1)
    {
        return Err("the ShengBTE cell is not the same lattice as the primitive cell".into());
    }
    (0..sheng.n_atoms())
        .map(|a| {
            let x = linalg::vec_mat(&sheng.cartesian(a), &inv);
            (0..prim.n_atoms())
                .find_map(|k| {
                    let d = linalg::sub(&x, &prim.positions[k]);
                    let n = d.map(|v| v.round());
                    let resid = linalg::vec_mat(&linalg::sub(&d, &n), &prim.lattice);
                    (linalg::norm(&resid) < 1e-3 && sheng.symbols[a] == prim.symbols[k])
                        .then(|| (k, n.map(|v| v as i32)))
                })
                .ok_or_else(|| {
                    format!(
                        "ShengBTE atom {} ({}) matches no atom of the primitive cell",
                        a + 1,
                        sheng.symbols[a]
                    )
                })
        })
        .collect()
}

/// Writes a triplet list as FORCE_CONSTANTS_3RD for the cell `prim` (its atom order and
/// lattice): one block per term, lattice vectors in Cartesian Å, thirdorder's layout.
/// Exactly-zero terms are left out.
pub fn format_fc3_shengbte(fc3: &Fc3, prim: &Cell) -> String {
    format_blocks(&fc3_terms(fc3), prim)
}

/// Terms as blocks in thirdorder's/Fourthorder's layout; exactly-zero blocks are left out.
pub(crate) fn format_blocks(terms: &[ListTerm], prim: &Cell) -> String {
    use std::fmt::Write as _;
    let kept: Vec<&ListTerm> = terms
        .iter()
        .filter(|t| t.phi.iter().any(|x| *x != 0.0))
        .collect();
    let mut s = format!("{:>5}\n", kept.len());
    for (n, ListTerm { atoms, cells, phi }) in kept.iter().enumerate() {
        let order = atoms.len();
        let _ = writeln!(s, "\n{:>5}", n + 1);
        for c in cells {
            let r = linalg::vec_mat(&c.map(f64::from), &prim.lattice);
            let _ = writeln!(s, "{:>16.10e} {:>16.10e} {:>16.10e}", r[0], r[1], r[2]);
        }
        let labels: Vec<String> = atoms.iter().map(|a| format!("{:>6}", a + 1)).collect();
        let _ = writeln!(s, "{}", labels.join(" "));
        for (m, v) in phi.iter().enumerate() {
            for slot in 0..order {
                let digit = (m / 3usize.pow((order - 1 - slot) as u32)) % 3 + 1;
                let _ = write!(s, "{digit:>2} ");
            }
            let _ = writeln!(s, "{v:>20.10e}");
        }
    }
    s
}
