//! `latdyn convert --fc3`: third-order force constants between phono3py fc3.hdf5 (compact, with
//! p2s_map), ShengBTE FORCE_CONSTANTS_3RD and TDEP infile.forceconstant_thirdorder. Every
//! conversion reads its output back and compares the reciprocal fc3 with the input's at
//! q-points commensurate with the fc3 supercell (where a supercell array and a triplet list
//! must agree whatever images they use), and reports the largest difference.

use super::convert::poscar_beside;
use super::kappa::Fc3Layout;
use crate::anharmonic::interaction::Fc3Fourier;
use crate::crystal::Cell;
use crate::crystal::supercell::AtomMap;
use crate::error::{Error, Result};
use crate::fc::fc3::Fc3;
use crate::io::{HarmonicInput, hdf5_fc3, shengbte_fc3, tdep, tdep_fc3};
use crate::linalg::{self, Vec3};
use num_complex::Complex64 as C64;
use std::path::Path;

/// Converts `fc3_path` to `to` (hdf5, shengbte or tdep) at `out`; prints what was written
/// and the round-trip check.
pub fn convert_fc3(
    input: &HarmonicInput,
    fc3_path: &Path,
    layout: &Fc3Layout,
    to: &str,
    out: &Path,
) -> Result<()> {
    let prim = input.primitive();
    let (fc3, asr) = layout.load(input, fc3_path)?;
    let (supercell, _) = crate::io::fc3_supercell(input, layout.matrix()?)?;
    let back = match to {
        "hdf5" => {
            let array = fc3.to_compact_array(prim, &supercell)?;
            hdf5_fc3::write_fc3_hdf5(out, &array)?;
            let (read, _) = hdf5_fc3::read_fc3_hdf5(out)?;
            println!(
                "wrote {} (compact fc3 of the {}-atom supercell, p2s_map {:?})",
                out.display(),
                array.n_super,
                array.rows
            );
            Fc3::from_array(prim, &supercell, &read)?
        }
        "shengbte" => {
            write(out, &shengbte_fc3::format_fc3_shengbte(&fc3, prim))?;
            poscar_beside(
                out,
                "POSCAR",
                prim,
                "latdyn primitive cell (atom indices of FORCE_CONSTANTS_3RD)",
            )?;
            println!(
                "wrote {} ({} blocks) and POSCAR beside it (the cell its atom indices refer to)",
                out.display(),
                fc3.terms.len()
            );
            shengbte_fc3::read_fc3_shengbte(out, prim, prim)?
        }
        "tdep" => {
            tdep::check_wrapped(prim)?;
            write(out, &tdep_fc3::format_tdep_fc3(&fc3, prim))?;
            poscar_beside(out, "infile.ucposcar", prim, "latdyn primitive cell")?;
            println!(
                "wrote {} ({} triplets) and infile.ucposcar beside it",
                out.display(),
                fc3.terms.len()
            );
            tdep_fc3::read_tdep_fc3(out, prim)?
        }
        other => {
            return Err(Error::input(format!(
                "--to with --fc3: expected hdf5, shengbte or tdep, found '{other}'"
            )));
        }
    };
    let (diff, scale) = commensurate_difference(prim, &supercell, &fc3, &back)?;
    println!(
        "  input: {} terms, ASR violation {asr:.1e} eV/Å³; read back: {} terms",
        fc3.terms.len(),
        back.terms.len()
    );
    println!(
        "  reciprocal fc3 at q-points commensurate with the fc3 supercell: largest difference {:.1e} of the largest element",
        diff / scale
    );
    if diff > 1e-6 * scale {
        eprintln!(
            "warning: the written fc3 differs from the input by {:.1e} (relative): the input reaches beyond what the {}-atom supercell can hold; give a larger --fc3-supercell",
            diff / scale,
            supercell.n_atoms()
        );
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// Largest |ΔΦ(q, q', q'')| between two fc3 and the largest |Φ| of the first, over triplets of
/// q-points commensurate with the supercell (q = P⁻¹ z for the supercell rows P in the primitive
/// basis and integer z) with q + q' + q'' = 0.
fn commensurate_difference(prim: &Cell, supercell: &Cell, a: &Fc3, b: &Fc3) -> Result<(f64, f64)> {
    let map = AtomMap::new(prim, supercell)?;
    let p_inv =
        linalg::inverse(&linalg::to_f64(&map.super_in_prim)).expect("non-singular supercell");
    // A few fixed integer vectors: Γ and general points of the supercell's reciprocal grid.
    let zs: [[f64; 3]; 4] = [
        [0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 1.0],
        [1.0, -1.0, 1.0],
    ];
    let qs: Vec<Vec3> = zs.iter().map(|z| linalg::mat_vec(&p_inv, z)).collect();
    let (fa, fb) = (Fc3Fourier::new(prim, a), Fc3Fourier::new(prim, b));
    let nb = fa.n_bands();
    let (mut x, mut y) = (
        vec![C64::new(0.0, 0.0); nb * nb * nb],
        vec![C64::new(0.0, 0.0); nb * nb * nb],
    );
    let (mut diff, mut scale) = (0.0f64, 0.0f64);
    for q1 in &qs {
        for q2 in &qs {
            let q0: Vec3 = std::array::from_fn(|c| -q1[c] - q2[c]);
            fa.reciprocal(&[q0, *q1, *q2], &mut x);
            fb.reciprocal(&[q0, *q1, *q2], &mut y);
            for (u, v) in x.iter().zip(&y) {
                diff = diff.max((u - v).norm());
                scale = scale.max(u.norm());
            }
        }
    }
    Ok((diff, scale.max(f64::MIN_POSITIVE)))
}
