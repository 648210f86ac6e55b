//! `latdyn convert`: fc2 between phonopy FORCE_CONSTANTS text, fc2.hdf5 and TDEP; with --fc3
//! the third-order constants (cli::convert_fc3).

use super::InputArgs;
use crate::error::{Error, Result};
use crate::io::{hdf5_fc, phonopy_fc, poscar, tdep};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ConvertArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Target format: phonopy (FORCE_CONSTANTS text), hdf5 (fc2.hdf5), tdep (infile.forceconstant + ucposcar/ssposcar).
    #[arg(long)]
    pub to: String,
    /// Output file (phonopy, hdf5) or folder (tdep).
    #[arg(long)]
    pub out: PathBuf,
    /// Write full (n_s × n_s) instead of compact phonopy arrays.
    #[arg(long)]
    pub full: bool,
    /// Convert this fc3 (fc3.hdf5, FORCE_CONSTANTS_3RD or TDEP thirdorder) instead of the fc2:
    /// `--to hdf5` writes a compact phono3py fc3.hdf5 of the fc3 supercell, `--to shengbte`
    /// FORCE_CONSTANTS_3RD and `--to tdep` infile.forceconstant_thirdorder for the primitive
    /// cell (with that cell written beside).
    #[arg(long)]
    pub fc3: Option<PathBuf>,
    #[command(flatten)]
    pub fc3_layout: super::kappa::Fc3Layout,
    /// Convert this fc4 (FourPhonon FORCE_CONSTANTS_4TH or TDEP fourthorder) instead:
    /// `--to shengbte` writes FORCE_CONSTANTS_4TH, `--to tdep` infile.forceconstant_fourthorder
    /// for the primitive cell (with that cell written beside); the file is read back and compared.
    #[arg(long, conflicts_with = "fc3")]
    pub fc4: Option<PathBuf>,
    /// The cell FORCE_CONSTANTS_4TH's atom indices refer to, when it is not --cell's primitive cell.
    #[arg(long)]
    pub fc4_cell: Option<PathBuf>,
}

const SUPERCELL_COMMENT: &str = "latdyn fc2 supercell (atom order of the fc2 array)";

pub fn run(a: &ConvertArgs) -> Result<()> {
    let deck = a.input.deck()?;
    let input = crate::workflow::load(&deck)?;
    if let Some(fc4_path) = &a.fc4 {
        return convert_fc4(&input, fc4_path, a);
    }
    if let Some(fc3_path) = &a.fc3 {
        return super::convert_fc3::convert_fc3(&input, fc3_path, &a.fc3_layout, &a.to, &a.out);
    }
    let prim = input.primitive();
    // Phonopy arrays are written for the supercell in phonopy's atom order, so that the unit cell
    // plus the supercell matrix (yaml, or POSCAR with --supercell) reads them back.
    let phonopy_sc = crate::crystal::supercell::build_supercell(
        &input.structure.unit_cell,
        &input.structure.fc2_supercell_matrix,
    )?;
    let sc = if a.to == "tdep" {
        &input.structure.fc2_supercell
    } else {
        &phonopy_sc
    };
    let array = || -> Result<crate::fc::Fc2Array> {
        let compact = input.fc2.to_compact_array(prim, sc)?;
        if !a.full {
            return Ok(compact);
        }
        crate::fc::full_array(&compact, prim, sc)
    };
    match a.to.as_str() {
        "phonopy" => {
            std::fs::write(&a.out, phonopy_fc::format_force_constants(&array()?))
                .map_err(|e| Error::io(&a.out, e))?;
            poscar_beside(&a.out, "SPOSCAR", sc, SUPERCELL_COMMENT)?;
        }
        "hdf5" => {
            hdf5_fc::write_fc2_hdf5(&a.out, &array()?)?;
            poscar_beside(&a.out, "SPOSCAR", sc, SUPERCELL_COMMENT)?;
        }
        "tdep" => {
            std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
            tdep::check_wrapped(prim)?;
            let f = a.out.join("infile.forceconstant");
            std::fs::write(&f, tdep::format_tdep_fc2(&input.fc2, prim))
                .map_err(|e| Error::io(&f, e))?;
            let u = a.out.join("infile.ucposcar");
            std::fs::write(&u, poscar::format_poscar(prim, "latdyn primitive cell"))
                .map_err(|e| Error::io(&u, e))?;
            let s = a.out.join("infile.ssposcar");
            std::fs::write(&s, poscar::format_poscar(sc, "latdyn fc2 supercell"))
                .map_err(|e| Error::io(&s, e))?;
        }
        other => {
            return Err(Error::input(format!(
                "--to: expected phonopy, hdf5 or tdep, found '{other}'"
            )));
        }
    }
    println!("wrote {} ({})", a.out.display(), a.to);
    Ok(())
}

/// `latdyn convert --fc4`: FORCE_CONSTANTS_4TH ↔ infile.forceconstant_fourthorder. Both are
/// lists of the same quartets, so the written file read back must give the input's terms.
fn convert_fc4(
    input: &crate::io::HarmonicInput,
    path: &std::path::Path,
    a: &ConvertArgs,
) -> Result<()> {
    use crate::io::{shengbte_fc4, tdep_fc3};
    let prim = input.primitive();
    let cell = a.fc4_cell.as_deref().or(a.fc3_layout.fc3_cell.as_deref());
    let (fc4, asr) = crate::io::load_fc4(input, path, cell)?;
    let back = match a.to.as_str() {
        "shengbte" => {
            std::fs::write(&a.out, shengbte_fc4::format_fc4_shengbte(&fc4, prim))
                .map_err(|e| Error::io(&a.out, e))?;
            poscar_beside(
                &a.out,
                "POSCAR",
                prim,
                "latdyn primitive cell (atom indices of FORCE_CONSTANTS_4TH)",
            )?;
            shengbte_fc4::read_fc4_shengbte(&a.out, prim, prim)?
        }
        "tdep" => {
            tdep::check_wrapped(prim)?;
            std::fs::write(&a.out, tdep_fc3::format_tdep_fc4(&fc4, prim))
                .map_err(|e| Error::io(&a.out, e))?;
            poscar_beside(&a.out, "infile.ucposcar", prim, "latdyn primitive cell")?;
            tdep_fc3::read_tdep_fc4(&a.out, prim)?
        }
        other => {
            return Err(Error::input(format!(
                "--to with --fc4: expected shengbte or tdep, found '{other}'"
            )));
        }
    };
    // Exactly-zero blocks are not written; compare the non-zero terms in a canonical order.
    let key = |t: &crate::fc::fc4::Quartet| (t.i, t.j, t.k, t.l, t.cell_j, t.cell_k, t.cell_l);
    let sorted = |f: &crate::fc::fc4::Fc4| {
        let mut v: Vec<_> = f
            .terms
            .iter()
            .filter(|t| t.phi.iter().any(|x| *x != 0.0))
            .cloned()
            .collect();
        v.sort_by_key(key);
        v
    };
    let (x, y) = (sorted(&fc4), sorted(&back));
    let same_terms = x.len() == y.len() && x.iter().zip(&y).all(|(p, q)| key(p) == key(q));
    let diff = x
        .iter()
        .zip(&y)
        .flat_map(|(p, q)| p.phi.iter().zip(&q.phi).map(|(u, v)| (u - v).abs()))
        .fold(0.0, f64::max);
    println!(
        "wrote {} ({} quartets); input ASR violation {asr:.1e} eV/Å⁴; read back: {} quartets, largest difference {diff:.1e} eV/Å⁴ of {:.1e}",
        a.out.display(),
        x.len(),
        y.len(),
        fc4.largest()
    );
    if !same_terms || diff > 1e-8 * fc4.largest() {
        return Err(Error::Numerical(format!(
            "{}: the written fc4 does not read back as the input (same quartets: {same_terms}, largest difference {diff:.1e})",
            a.out.display()
        )));
    }
    Ok(())
}

/// Writes `cell` as POSCAR `name` next to `out` (unless one is already there): the cell a
/// written file's atom indices refer to, so the pair can be read back (`--cell SPOSCAR
/// --supercell "1 1 1"` is not enough for a compact array: keep the yaml or POSCAR).
pub(super) fn poscar_beside(
    out: &std::path::Path,
    name: &str,
    cell: &crate::crystal::Cell,
    comment: &str,
) -> Result<()> {
    let p = out.parent().unwrap_or(std::path::Path::new(".")).join(name);
    if p.exists() {
        return Ok(());
    }
    std::fs::write(&p, poscar::format_poscar(cell, comment)).map_err(|e| Error::io(&p, e))
}
