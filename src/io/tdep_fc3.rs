//! TDEP infile.forceconstant_thirdorder and infile.forceconstant_fourthorder (formats.md §5.3,
//! §5.4): per atom of the unit cell, a list of terms (order 1-based atoms, order lattice vectors
//! in fractional units of the unit cell — the first always 0 — and 3^(order−1) lines of three
//! values with the first Cartesian index slowest and the last along the line). The list is used
//! as it is (every ordered term listed, no multiplicity weights). Lattice vectors refer to
//! TDEP's wrapped positions, which latdyn's TDEP cell reader reproduces.

use super::fc_list::{ListTerm, fc3_from_terms, fc3_terms, fc4_from_terms, fc4_terms};
use super::text::TextFile;
use crate::crystal::Cell;
use crate::error::Result;
use crate::fc::fc3::Fc3;
use crate::fc::fc4::Fc4;

pub fn read_tdep_fc3(path: &std::path::Path, uc: &Cell) -> Result<Fc3> {
    Ok(fc3_from_terms(read_tdep_list(path, uc, 3)?, uc.n_atoms()))
}

pub fn read_tdep_fc4(path: &std::path::Path, uc: &Cell) -> Result<Fc4> {
    Ok(fc4_from_terms(read_tdep_list(path, uc, 4)?, uc.n_atoms()))
}

fn read_tdep_list(path: &std::path::Path, uc: &Cell, order: usize) -> Result<Vec<ListTerm>> {
    let noun = if order == 3 { "triplet" } else { "quartet" };
    let mut f = TextFile::read(path)?;
    let n_atoms = super::tdep::read_header(&mut f, uc)?;
    let mut terms = Vec::new();
    for a in 0..n_atoms {
        let n = f.next_count(&format!("the number of {noun}s of atom {}", a + 1))?;
        if n > 10_000_000 {
            return Err(f.err(
                f.line_number() - 1,
                format!("implausible number of {noun}s {n}"),
            ));
        }
        for t in 0..n {
            let what = format!("{noun} {} of atom {}", t + 1, a + 1);
            let mut idx = vec![0usize; order];
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
                    f.line_number() - order,
                    format!(
                        "{what}: the first atom must be atom {}, found {}",
                        a + 1,
                        idx[0] + 1
                    ),
                ));
            }
            let mut cells = vec![[0i32; 3]; order];
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
            let rows = 3usize.pow(order as u32 - 1);
            let mut phi = Vec::with_capacity(3 * rows);
            for row in 0..rows {
                let v = f.next_f64s(
                    3,
                    &format!("row {} of {rows} of the tensor of {what}", row + 1),
                )?;
                phi.extend_from_slice(&v);
            }
            let first = cells[0];
            terms.push(ListTerm {
                atoms: idx,
                cells: cells[1..]
                    .iter()
                    .map(|c| std::array::from_fn(|k| c[k] - first[k]))
                    .collect(),
                phi,
            });
        }
    }
    Ok(terms)
}

/// Writes a triplet list as infile.forceconstant_thirdorder for the (wrapped) unit cell `uc`:
/// per atom its terms in list order, first lattice vector 0, 9 tensor rows (α slowest, then β,
/// γ along the line). The cutoff line holds the longest leg of any term (TDEP ignores it).
pub fn format_tdep_fc3(fc3: &Fc3, uc: &Cell) -> String {
    format_tdep_list(&fc3_terms(fc3), 3, fc3.n_atoms, uc)
}

/// Writes a quartet list as infile.forceconstant_fourthorder (TDEP writes this one without
/// comment text; 27 tensor rows per quartet).
pub fn format_tdep_fc4(fc4: &Fc4, uc: &Cell) -> String {
    format_tdep_list(&fc4_terms(fc4), 4, fc4.n_atoms, uc)
}

fn format_tdep_list(terms: &[ListTerm], order: usize, n_atoms: usize, uc: &Cell) -> String {
    use std::fmt::Write as _;
    let third = order == 3;
    // Comment texts only in the third-order file, as TDEP writes them.
    let note = |text: String| if third { text } else { String::new() };
    let position = |k: usize, c: [i32; 3]| {
        crate::linalg::vec_mat(
            &std::array::from_fn(|x| c[x] as f64 + uc.positions[k][x]),
            &uc.lattice,
        )
    };
    let cutoff = terms
        .iter()
        .map(|ListTerm { atoms, cells, .. }| {
            let all: Vec<[f64; 3]> = std::iter::once(position(atoms[0], [0; 3]))
                .chain(atoms[1..].iter().zip(cells).map(|(&a, &c)| position(a, c)))
                .collect();
            let mut longest = 0.0f64;
            for x in 0..all.len() {
                for y in x + 1..all.len() {
                    longest =
                        longest.max(crate::linalg::norm(&crate::linalg::sub(&all[x], &all[y])));
                }
            }
            longest
        })
        .fold(0.0, f64::max);
    let mut s = String::new();
    let _ = writeln!(
        s,
        " {:>10}{:15}{}",
        n_atoms,
        "",
        note("How many atoms per unit cell".into())
    );
    let _ = writeln!(
        s,
        " {cutoff:20.15}     {}",
        note("Realspace cutoff (A)".into())
    );
    let noun = if third { "triplet" } else { "quartet" };
    for a in 0..n_atoms {
        let mine: Vec<&ListTerm> = terms.iter().filter(|t| t.atoms[0] == a).collect();
        let _ = writeln!(
            s,
            " {:>10}{:15}{}",
            mine.len(),
            "",
            note(format!("How many {noun}s are atom {:>3} part of", a + 1))
        );
        for (n, ListTerm { atoms, cells, phi }) in mine.iter().enumerate() {
            for (m, x) in atoms.iter().enumerate() {
                let _ = writeln!(
                    s,
                    " {:>10}{:15}{}",
                    x + 1,
                    "",
                    note(format!("atom {} in {noun} {}", m + 1, n + 1))
                );
            }
            for c in std::iter::once(&[0; 3]).chain(cells.iter()) {
                let _ = writeln!(
                    s,
                    "   {:.16e}   {:.16e}   {:.16e}",
                    c[0] as f64, c[1] as f64, c[2] as f64
                );
            }
            for row in phi.chunks(3) {
                let _ = writeln!(s, "   {:.16e}   {:.16e}   {:.16e}", row[0], row[1], row[2]);
            }
        }
    }
    s.lines().map(|l| l.trim_end().to_string() + "\n").collect()
}
