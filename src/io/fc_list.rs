//! The one shape every anharmonic list file has (ShengBTE/FourPhonon blocks, TDEP
//! triplets/quartets): a term names its atoms, the cells of the atoms after the first relative
//! to the first, and 3^order values with the last Cartesian index fastest. Readers produce
//! these terms and writers consume them, whatever the order; here they meet the canonical
//! `Fc3`/`Fc4` lists.

use crate::fc::fc3::{Fc3, Triplet};
use crate::fc::fc4::{Fc4, Quartet};

pub(crate) struct ListTerm {
    pub atoms: Vec<usize>,
    pub cells: Vec<[i32; 3]>,
    pub phi: Vec<f64>,
}

/// Third-order terms (from a reader of order 3) as the canonical triplet list.
pub(crate) fn fc3_from_terms(terms: Vec<ListTerm>, n_atoms: usize) -> Fc3 {
    let terms = terms
        .into_iter()
        .map(|t| Triplet {
            i: t.atoms[0],
            j: t.atoms[1],
            k: t.atoms[2],
            cell_j: t.cells[0],
            cell_k: t.cells[1],
            phi: t.phi.try_into().expect("27 values"),
        })
        .collect();
    Fc3 { n_atoms, terms }
}

/// Fourth-order terms (from a reader of order 4) as the canonical quartet list.
pub(crate) fn fc4_from_terms(terms: Vec<ListTerm>, n_atoms: usize) -> Fc4 {
    let terms = terms
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
    Fc4 { n_atoms, terms }
}

/// The triplets of `fc3` as terms to write.
pub(crate) fn fc3_terms(fc3: &Fc3) -> Vec<ListTerm> {
    fc3.terms
        .iter()
        .map(|t| ListTerm {
            atoms: vec![t.i, t.j, t.k],
            cells: vec![t.cell_j, t.cell_k],
            phi: t.phi.to_vec(),
        })
        .collect()
}

/// The quartets of `fc4` as terms to write.
pub(crate) fn fc4_terms(fc4: &Fc4) -> Vec<ListTerm> {
    fc4.terms
        .iter()
        .map(|t| ListTerm {
            atoms: vec![t.i, t.j, t.k, t.l],
            cells: vec![t.cell_j, t.cell_k, t.cell_l],
            phi: t.phi.to_vec(),
        })
        .collect()
}
