//! Fourth-order force constants in canonical quartet-list form, referring to the primitive
//! cell: (κ, κ', R', κ'', R'', κ''', R''') → Ψ_αβγδ (eV/Å⁴), the form FourPhonon's
//! FORCE_CONSTANTS_4TH and TDEP's infile.forceconstant_fourthorder both are (physics.md §7).

/// One quartet term Ψ_αβγδ(0κ, R'κ', R''κ'', R'''κ''') (eV/Å⁴), `phi[27α + 9β + 3γ + δ]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Quartet {
    pub i: usize,
    pub j: usize,
    pub k: usize,
    pub l: usize,
    /// Lattice vectors (primitive basis) of the cells of atoms j, k and l.
    pub cell_j: [i32; 3],
    pub cell_k: [i32; 3],
    pub cell_l: [i32; 3],
    pub phi: [f64; 81],
}

#[derive(Clone, Debug, PartialEq)]
pub struct Fc4 {
    pub n_atoms: usize,
    pub terms: Vec<Quartet>,
}

impl Fc4 {
    /// Largest |Σ_{κ''' R'''} Ψ_αβγδ(0κ, R'κ', R''κ'', R'''κ''')| over (κ, κ', R', κ'', R'') and
    /// components (eV/Å⁴): the acoustic sum rule on the last index, which a list holding every
    /// ordered quartet satisfies when the force constants are translation invariant.
    pub fn asr_violation(&self) -> f64 {
        type Key = (usize, usize, [i32; 3], usize, [i32; 3]);
        let mut sums: std::collections::BTreeMap<Key, [f64; 81]> = Default::default();
        for t in &self.terms {
            let s = sums
                .entry((t.i, t.j, t.cell_j, t.k, t.cell_k))
                .or_insert([0.0; 81]);
            for (a, b) in s.iter_mut().zip(&t.phi) {
                *a += b;
            }
        }
        sums.values().flatten().fold(0.0, |w, x| w.max(x.abs()))
    }

    /// Largest |Ψ| of any component (eV/Å⁴), the scale the ASR violation is judged against.
    pub fn largest(&self) -> f64 {
        self.terms
            .iter()
            .flat_map(|t| t.phi.iter())
            .fold(0.0, |w, x| w.max(x.abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asr_sums_over_the_last_atom() {
        let term = |l: usize, cell_l: [i32; 3], v: f64| Quartet {
            i: 0,
            j: 1,
            k: 0,
            l,
            cell_j: [0; 3],
            cell_k: [1, 0, 0],
            cell_l,
            phi: [v; 81],
        };
        let fc = Fc4 {
            n_atoms: 2,
            terms: vec![term(0, [0; 3], 2.0), term(1, [0, 1, 0], -1.5)],
        };
        assert!((fc.asr_violation() - 0.5).abs() < 1e-15);
        assert_eq!(fc.largest(), 2.0);
    }
}
