//! Built-in element table: symbol, atomic number and standard atomic weight (amu).
//!
//! The weights are those of phonopy's own table (IUPAC standard atomic weights of the
//! 2009-era tables), so that masses agree with phonopy/phono3py when a file carries none.
//! Users override them per species in the run deck or with `--masses`.

const TABLE: &[(&str, f64)] = &[
    ("H", 1.00794),
    ("He", 4.002602),
    ("Li", 6.941),
    ("Be", 9.012182),
    ("B", 10.811),
    ("C", 12.0107),
    ("N", 14.0067),
    ("O", 15.9994),
    ("F", 18.9984032),
    ("Ne", 20.1797),
    ("Na", 22.98976928),
    ("Mg", 24.3050),
    ("Al", 26.9815386),
    ("Si", 28.0855),
    ("P", 30.973762),
    ("S", 32.065),
    ("Cl", 35.453),
    ("Ar", 39.948),
    ("K", 39.0983),
    ("Ca", 40.078),
    ("Sc", 44.955912),
    ("Ti", 47.867),
    ("V", 50.9415),
    ("Cr", 51.9961),
    ("Mn", 54.938045),
    ("Fe", 55.845),
    ("Co", 58.933195),
    ("Ni", 58.6934),
    ("Cu", 63.546),
    ("Zn", 65.38),
    ("Ga", 69.723),
    ("Ge", 72.64),
    ("As", 74.92160),
    ("Se", 78.96),
    ("Br", 79.904),
    ("Kr", 83.798),
    ("Rb", 85.4678),
    ("Sr", 87.62),
    ("Y", 88.90585),
    ("Zr", 91.224),
    ("Nb", 92.90638),
    ("Mo", 95.96),
    ("Tc", 98.0),
    ("Ru", 101.07),
    ("Rh", 102.90550),
    ("Pd", 106.42),
    ("Ag", 107.8682),
    ("Cd", 112.411),
    ("In", 114.818),
    ("Sn", 118.710),
    ("Sb", 121.760),
    ("Te", 127.60),
    ("I", 126.90447),
    ("Xe", 131.293),
    ("Cs", 132.9054519),
    ("Ba", 137.327),
    ("La", 138.90547),
    ("Ce", 140.116),
    ("Pr", 140.90765),
    ("Nd", 144.242),
    ("Pm", 145.0),
    ("Sm", 150.36),
    ("Eu", 151.964),
    ("Gd", 157.25),
    ("Tb", 158.92535),
    ("Dy", 162.500),
    ("Ho", 164.93032),
    ("Er", 167.259),
    ("Tm", 168.93421),
    ("Yb", 173.054),
    ("Lu", 174.9668),
    ("Hf", 178.49),
    ("Ta", 180.94788),
    ("W", 183.84),
    ("Re", 186.207),
    ("Os", 190.23),
    ("Ir", 192.217),
    ("Pt", 195.084),
    ("Au", 196.966569),
    ("Hg", 200.59),
    ("Tl", 204.3833),
    ("Pb", 207.2),
    ("Bi", 208.98040),
    ("Po", 209.0),
    ("At", 210.0),
    ("Rn", 222.0),
    ("Fr", 223.0),
    ("Ra", 226.0),
    ("Ac", 227.0),
    ("Th", 232.03806),
    ("Pa", 231.03588),
    ("U", 238.02891),
    ("Np", 237.0),
    ("Pu", 244.0),
    ("Am", 243.0),
    ("Cm", 247.0),
    ("Bk", 247.0),
    ("Cf", 251.0),
    ("Es", 252.0),
    ("Fm", 257.0),
    ("Md", 258.0),
    ("No", 259.0),
    ("Lr", 262.0),
];

/// Canonical element symbol from a label such as `Si`, `si`, `Si1`, `Si_GW`, `Si/abc`.
pub fn element_symbol(label: &str) -> Option<&'static str> {
    let head: String = label
        .split(['/', '_'])
        .next()
        .unwrap_or("")
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    if head.is_empty() || head.len() > 2 {
        return None;
    }
    TABLE
        .iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(&head))
        .map(|(s, _)| *s)
}

/// Atomic number (1-based) of a canonical symbol.
pub fn atomic_number(symbol: &str) -> Option<usize> {
    TABLE.iter().position(|(s, _)| *s == symbol).map(|i| i + 1)
}

/// Standard atomic weight in amu.
pub fn standard_mass(symbol: &str) -> Option<f64> {
    TABLE.iter().find(|(s, _)| *s == symbol).map(|(_, m)| *m)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn labels_map_to_elements() {
        assert_eq!(element_symbol("Si"), Some("Si"));
        assert_eq!(element_symbol("Cu1"), Some("Cu"));
        assert_eq!(element_symbol("Si_GW"), Some("Si"));
        assert_eq!(element_symbol("Xx"), None);
        assert_eq!(element_symbol("Carbon"), None);
        assert_eq!(atomic_number("Si"), Some(14));
        // phonopy's defaults used throughout shared/data.
        assert_eq!(standard_mass("Si"), Some(28.0855));
        assert_eq!(standard_mass("Al"), Some(26.9815386));
        assert_eq!(standard_mass("N"), Some(14.0067));
    }
}
