//! A CIF of a structure with anisotropic ADPs (`_atom_site_aniso_U_11…U_23`, U_cif in Å²), in
//! space group P1 with every atom of the cell listed, so that VESTA, Mercury, Olex2 and
//! pymatgen/ASE readers open it without symmetry expansion.

use crate::adp::tensor::{cart_to_cif, u_iso};
use crate::crystal::Cell;
use crate::linalg::{self, Mat3};
use std::fmt::Write as _;

/// Site labels "Si1", "Si2", "O3", … (symbol and 1-based atom index, unique in the file).
pub fn site_labels(cell: &Cell) -> Vec<String> {
    cell.symbols
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{s}{}", i + 1))
        .collect()
}

/// CIF text for `cell` with Cartesian ADPs `u_cart` (one per atom); `title` goes into a comment
/// and the data block's audit line.
pub fn format_cif(cell: &Cell, u_cart: &[Mat3], title: &str) -> String {
    let l = &cell.lattice;
    let len: [f64; 3] = std::array::from_fn(|i| linalg::norm(&l[i]));
    let angle = |i: usize, j: usize| {
        (linalg::dot(&l[i], &l[j]) / (len[i] * len[j]))
            .clamp(-1.0, 1.0)
            .acos()
            .to_degrees()
    };
    let mut s = String::new();
    let _ = writeln!(s, "# {title}");
    let _ = writeln!(s, "data_latdyn");
    let _ = writeln!(
        s,
        "_audit_creation_method 'latdyn {}: {title}'",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(s, "_chemical_formula_sum '{}'", cell.formula());
    for (name, v) in ["a", "b", "c"].iter().zip(len) {
        let _ = writeln!(s, "_cell_length_{name} {v:.6}");
    }
    for (name, v) in [
        ("alpha", angle(1, 2)),
        ("beta", angle(0, 2)),
        ("gamma", angle(0, 1)),
    ] {
        let _ = writeln!(s, "_cell_angle_{name} {v:.6}");
    }
    let _ = writeln!(s, "_cell_volume {:.6}", linalg::det(l).abs());
    let _ = writeln!(s, "_symmetry_space_group_name_H-M 'P 1'");
    let _ = writeln!(s, "_symmetry_Int_Tables_number 1");
    let _ = writeln!(s, "loop_\n_symmetry_equiv_pos_as_xyz\n'x, y, z'");
    let labels = site_labels(cell);
    let _ = writeln!(
        s,
        "loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n_atom_site_U_iso_or_equiv\n_atom_site_adp_type\n_atom_site_occupancy"
    );
    for (i, label) in labels.iter().enumerate() {
        let p = cell.positions[i];
        let _ = writeln!(
            s,
            "{label} {} {:.8} {:.8} {:.8} {:.6} Uani 1.0",
            cell.symbols[i],
            p[0],
            p[1],
            p[2],
            u_iso(&u_cart[i])
        );
    }
    let _ = writeln!(
        s,
        "loop_\n_atom_site_aniso_label\n_atom_site_aniso_U_11\n_atom_site_aniso_U_22\n_atom_site_aniso_U_33\n_atom_site_aniso_U_23\n_atom_site_aniso_U_13\n_atom_site_aniso_U_12"
    );
    for (i, label) in labels.iter().enumerate() {
        let u = cart_to_cif(&u_cart[i], l);
        let _ = writeln!(
            s,
            "{label} {:.6} {:.6} {:.6} {:.6} {:.6} {:.6}",
            u[0][0], u[1][1], u[2][2], u[1][2], u[0][2], u[0][1]
        );
    }
    s
}
