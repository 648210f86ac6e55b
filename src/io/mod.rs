//! Readers and writers of external formats, one file per format, and the loader that turns a
//! (cell file, fc2 file, BORN file) triple into canonical inputs.

pub mod born;
pub mod cif_adp;
mod fc_list;
pub mod hdf5_fc;
pub mod hdf5_fc3;
pub mod phonopy_fc;
pub mod phonopy_yaml;
pub mod poscar;
pub mod shengbte_control;
pub mod shengbte_fc3;
pub mod shengbte_fc4;
pub mod tdep;
pub mod tdep_fc3;
pub mod text;
pub mod trajectory;

use crate::crystal::supercell::AtomMap;
use crate::crystal::{Cell, Structure};
use crate::error::{Error, Result};
use crate::fc::{Fc2, Fc2Array, asr};
use crate::harmonic::dynmat::DynamicalMatrix;
use crate::harmonic::nac::{Born, GonzeNac};
use crate::linalg::{IDENTITY, Mat3};
use std::path::{Path, PathBuf};

/// The fc2 file formats latdyn reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Fc2Format {
    /// phonopy/phono3py/hiPhive HDF5 (`force_constants` or `fc2`).
    Hdf5,
    /// phonopy FORCE_CONSTANTS text (full or compact); also ShengBTE FORCE_CONSTANTS_2ND.
    PhonopyText,
    /// TDEP infile.forceconstant.
    Tdep,
}

impl Fc2Format {
    /// Detects the format from the file's first bytes and name.
    pub fn detect(path: &Path) -> Result<Fc2Format> {
        let mut head = [0u8; 8];
        let n = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
            .map_err(|e| Error::io(path, e))?;
        if n >= 8 && &head == b"\x89HDF\r\n\x1a\n" {
            return Ok(Fc2Format::Hdf5);
        }
        let name = path
            .file_name()
            .map(|s| s.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if name.contains("forceconstant") && !name.contains("force_constants") {
            return Ok(Fc2Format::Tdep);
        }
        Ok(Fc2Format::PhonopyText)
    }
}

/// How the fc2 supercell and primitive cell are given when the cell file is a POSCAR.
#[derive(Clone, Debug, Default)]
pub struct CellOptions {
    pub supercell_matrix: Option<[[i32; 3]; 3]>,
    pub primitive_matrix: Option<Mat3>,
    /// Per-species mass overrides (amu).
    pub masses: Vec<(String, f64)>,
    /// Enforce the fc2 acoustic sum rule: None = only when the violation exceeds 1e-8 eV/Å².
    pub enforce_asr: Option<bool>,
}

/// Everything read for a harmonic calculation, in canonical form.
#[derive(Clone, Debug)]
pub struct HarmonicInput {
    pub structure: Structure,
    /// fc2 as read (full range), canonical pair list.
    pub fc2: Fc2,
    /// The supercell array the fc2 came from (phonopy formats), compact rows at the p2s atoms.
    pub fc2_array: Option<Fc2Array>,
    pub fc2_format: Fc2Format,
    pub fc2_path: PathBuf,
    pub cell_path: PathBuf,
    pub born: Option<Born>,
    /// True when `fc2` is already short-range (TDEP polar files).
    pub fc2_is_short_range: bool,
    /// ASR violation of the fc2 as read (eV/Å²), and whether it was enforced.
    pub asr_violation: f64,
    pub asr_enforced: bool,
}

const VASP_LIKE: &[&str] = &["vasp", "aims", "lammps", "pwmat", "crystal", "castep"];

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .map(|e| e == "yaml" || e == "yml")
        .unwrap_or(false)
}

/// TDEP structure files beside an fc file: infile.ucposcar and infile.ssposcar.
fn tdep_neighbour(fc2: &Path, cell: &Path, name: &str) -> PathBuf {
    let dir = cell.parent().filter(|_| {
        cell.file_name()
            .map(|n| n.to_string_lossy().contains("ucposcar"))
            .unwrap_or(false)
    });
    dir.or(fc2.parent()).unwrap_or(Path::new(".")).join(name)
}

/// Reads a structure + fc2 (+ BORN) triple. `cell` is a phonopy/phono3py yaml (which carries the
/// supercell matrices), a POSCAR (then `opts.supercell_matrix` is needed), or TDEP's
/// infile.ucposcar for TDEP force constants.
pub fn load_harmonic(
    cell: &Path,
    fc2_path: &Path,
    born_path: Option<&Path>,
    opts: &CellOptions,
) -> Result<HarmonicInput> {
    let format = Fc2Format::detect(fc2_path)?;
    let mut yaml_born = None;
    let (mut structure, fc2, fc2_array, tdep_born) = if format == Fc2Format::Tdep {
        let uc_path = tdep_neighbour(fc2_path, cell, "infile.ucposcar");
        let uc_path = if cell
            .file_name()
            .map(|n| n.to_string_lossy().contains("ucposcar"))
            .unwrap_or(false)
        {
            cell.to_path_buf()
        } else {
            uc_path
        };
        let uc = tdep::read_tdep_cell(&uc_path)?;
        let ss_path = tdep_neighbour(fc2_path, &uc_path, "infile.ssposcar");
        let ss = tdep::read_tdep_cell(&ss_path)?;
        let (fc, polar) = tdep::read_tdep_fc2(fc2_path, &uc)?;
        let sm = crate::linalg::mat_mul(
            &ss.lattice,
            &crate::linalg::inverse(&uc.lattice).expect("validated"),
        );
        let m = crate::linalg::to_integer(&sm, 1e-4).ok_or_else(|| {
            Error::input(format!(
                "{}: the supercell is not an integer multiple of {}",
                ss_path.display(),
                uc_path.display()
            ))
        })?;
        let smat = crate::linalg::transpose(&crate::linalg::to_f64(&m));
        let smat = crate::linalg::to_integer(&smat, 1e-9).expect("integer");
        let structure = Structure::new(uc, IDENTITY, smat, Some(ss))?;
        (structure, fc, None, polar.map(|p| p.born))
    } else {
        let (structure, calculator) = if shengbte_control::is_control(cell) {
            let control = shengbte_control::read_control(cell)?;
            let [a, b, c] = control.supercell;
            let m = opts
                .supercell_matrix
                .unwrap_or([[a, 0, 0], [0, b, 0], [0, 0, c]]);
            yaml_born = control.born;
            let pm = opts.primitive_matrix.unwrap_or(IDENTITY);
            (Structure::new(control.cell, pm, m, None)?, None)
        } else if is_yaml(cell) {
            let y = phonopy_yaml::read_phonopy_yaml(cell)?;
            let (m, sc) = y.fc2_supercell();
            let m = opts.supercell_matrix.unwrap_or(m);
            let sc = if opts.supercell_matrix.is_some() {
                None
            } else {
                sc
            };
            let pm = opts.primitive_matrix.unwrap_or(y.primitive_matrix);
            yaml_born = y.born.clone();
            (Structure::new(y.unit_cell, pm, m, sc)?, y.calculator)
        } else {
            let unit = poscar::read_poscar(cell)?;
            let m = opts.supercell_matrix.ok_or_else(|| {
                Error::input(format!(
                    "{} is a POSCAR: give the fc2 supercell matrix (--supercell \"2 2 2\"), or use a phonopy/phono3py yaml",
                    cell.display()
                ))
            })?;
            (
                Structure::new(unit, opts.primitive_matrix.unwrap_or(IDENTITY), m, None)?,
                None,
            )
        };
        if let Some(c) = calculator.filter(|c| !VASP_LIKE.contains(&c.to_lowercase().as_str()))
            && format == Fc2Format::PhonopyText
        {
            return Err(Error::input(format!(
                "{}: the yaml says calculator '{c}', whose FORCE_CONSTANTS are not in eV/Å²; convert them to eV/Å² (e.g. write fc2.hdf5 with phono3py) first",
                cell.display()
            )));
        }
        let map = AtomMap::new(&structure.primitive, &structure.fc2_supercell)?;
        let array = match format {
            Fc2Format::Hdf5 => {
                let (mut a, rows_known) = hdf5_fc::read_fc2_hdf5(fc2_path)?;
                if !rows_known {
                    // Old phono3py files without p2s_map: rows are the first atom of each primitive site.
                    if a.rows.len() != structure.primitive.n_atoms() {
                        return Err(Error::dataset(
                            fc2_path,
                            "force_constants",
                            format!(
                                "compact array with {} rows for {} primitive atoms",
                                a.rows.len(),
                                structure.primitive.n_atoms()
                            ),
                        ));
                    }
                    a.rows = map.p2s(structure.primitive.n_atoms());
                }
                a
            }
            _ => phonopy_fc::read_force_constants(fc2_path)?,
        };
        let fc = Fc2::from_array(&structure, &array)
            .map_err(|e| Error::input(format!("{}: {e}", fc2_path.display())))?;
        let compact = array.to_compact(&map, structure.primitive.n_atoms())?;
        (structure, fc, Some(compact), None)
    };
    for (s, m) in &opts.masses {
        structure.set_species_mass(s, *m)?;
    }
    let fc2_is_short_range = tdep_born.is_some();
    let born = match born_path {
        Some(p) => Some(born::read_born(p, &structure.primitive)?),
        None => yaml_born.or(tdep_born),
    };
    if let Some(b) = &born
        && b.charges.len() != structure.primitive.n_atoms()
    {
        return Err(Error::input(format!(
            "{} Born charges for a {}-atom primitive cell",
            b.charges.len(),
            structure.primitive.n_atoms()
        )));
    }
    let mut input = HarmonicInput {
        structure,
        fc2,
        fc2_array,
        fc2_format: format,
        fc2_path: fc2_path.to_path_buf(),
        cell_path: cell.to_path_buf(),
        born,
        fc2_is_short_range,
        asr_violation: 0.0,
        asr_enforced: false,
    };
    input.asr_violation = asr::asr_violation(&input.fc2);
    let enforce = opts.enforce_asr.unwrap_or(input.asr_violation > 1e-8);
    if enforce {
        asr::enforce_asr(&mut input.fc2);
        input.asr_enforced = true;
    }
    Ok(input)
}

impl HarmonicInput {
    pub fn primitive(&self) -> &Cell {
        &self.structure.primitive
    }

    /// The dynamical matrix, with the non-analytic correction when `with_nac` and Born charges
    /// are present.
    pub fn dynamical_matrix(&self, with_nac: bool) -> Result<DynamicalMatrix> {
        let prim = &self.structure.primitive;
        let born = match (&self.born, with_nac) {
            (Some(b), true) => b.clone(),
            _ => return Ok(DynamicalMatrix::new(prim, &self.fc2, None)),
        };
        let nac = GonzeNac::new(prim, born)?;
        if self.fc2_is_short_range {
            return Ok(DynamicalMatrix::new(prim, &self.fc2, Some(nac)));
        }
        let sc = &self.structure.fc2_supercell;
        let map = AtomMap::new(prim, sc)?;
        let array = match &self.fc2_array {
            Some(a) => a.clone(),
            None => self.fc2.to_compact_array(prim, sc)?,
        };
        let dd = nac.supercell_force_constants(prim, &map, sc.n_atoms())?;
        let mut short = array;
        for (a, d) in short.data.iter_mut().zip(&dd.data) {
            for i in 0..3 {
                for j in 0..3 {
                    a[i][j] -= d[i][j];
                }
            }
        }
        let mut fc = Fc2::from_array(&self.structure, &short)?;
        if self.asr_enforced {
            asr::enforce_asr(&mut fc);
        }
        Ok(DynamicalMatrix::new(prim, &fc, Some(nac)))
    }
}

/// Reads third-order force constants for an already loaded harmonic input into the canonical
/// triplet list: phono3py/hiPhive fc3.hdf5, ShengBTE FORCE_CONSTANTS_3RD or TDEP
/// infile.forceconstant_thirdorder (detected from the content and name). For HDF5 the fc3 supercell is the yaml's `supercell_matrix` (phono3py keeps fc2 in
/// `phonon_supercell_matrix` when it differs), else `supercell_matrix`, else the fc2 supercell.
/// For ShengBTE, `sheng_cell` is the cell its atom indices refer to (CONTROL or POSCAR; default:
/// the primitive cell). Returns the list and the ASR violation (eV/Å³).
pub fn load_fc3(
    input: &HarmonicInput,
    fc3_path: &Path,
    supercell_matrix: Option<[[i32; 3]; 3]>,
    sheng_cell: Option<&Path>,
) -> Result<(crate::fc::fc3::Fc3, f64)> {
    let structure = &input.structure;
    if Fc2Format::detect(fc3_path)? == Fc2Format::Tdep {
        if input.fc2_format != Fc2Format::Tdep {
            return Err(Error::input(format!(
                "{}: TDEP third-order constants need the TDEP cell (infile.ucposcar and a TDEP fc2)",
                fc3_path.display()
            )));
        }
        let fc3 = tdep_fc3::read_tdep_fc3(fc3_path, &structure.primitive)?;
        let asr = fc3_list_asr(&fc3);
        return Ok((fc3, asr));
    }
    if Fc2Format::detect(fc3_path)? != Fc2Format::Hdf5 {
        let prim = &structure.primitive;
        let cell = match sheng_cell {
            Some(p) if shengbte_control::is_control(p) => shengbte_control::read_control(p)?.cell,
            Some(p) => poscar::read_poscar(p)?,
            None if shengbte_control::is_control(&input.cell_path) => {
                shengbte_control::read_control(&input.cell_path)?.cell
            }
            None => prim.clone(),
        };
        let fc3 = shengbte_fc3::read_fc3_shengbte(fc3_path, &cell, prim)?;
        let asr = fc3_list_asr(&fc3);
        return Ok((fc3, asr));
    }
    let (supercell, m) = fc3_supercell(input, supercell_matrix)?;
    let (mut array, rows_known) = hdf5_fc3::read_fc3_hdf5(fc3_path)?;
    let prim = &structure.primitive;
    if array.n_super != supercell.n_atoms() {
        return Err(Error::dataset(
            fc3_path,
            "fc3",
            format!(
                "{} supercell atoms, but the fc3 supercell (matrix {m:?}) has {}",
                array.n_super,
                supercell.n_atoms()
            ),
        ));
    }
    if !rows_known {
        let map = AtomMap::new(prim, &supercell)?;
        if array.rows.len() != prim.n_atoms() {
            return Err(Error::dataset(
                fc3_path,
                "fc3",
                format!(
                    "compact array with {} rows for {} primitive atoms and no p2s_map",
                    array.rows.len(),
                    prim.n_atoms()
                ),
            ));
        }
        array.rows = map.p2s(prim.n_atoms());
    }
    let asr = array.asr_violation();
    let fc3 = crate::fc::fc3::Fc3::from_array(prim, &supercell, &array)
        .map_err(|e| Error::input(format!("{}: {e}", fc3_path.display())))?;
    Ok((fc3, asr))
}

/// The supercell an fc3.hdf5 array refers to, with its matrix: `supercell_matrix` when given,
/// else the yaml's `supercell_matrix` (and its explicit supercell), else the fc2 supercell's.
/// Masses are set to 1 (only positions matter for the array's atom order).
pub fn fc3_supercell(
    input: &HarmonicInput,
    supercell_matrix: Option<[[i32; 3]; 3]>,
) -> Result<(Cell, [[i32; 3]; 3])> {
    let structure = &input.structure;
    let (m, explicit) = match supercell_matrix {
        Some(m) => (m, None),
        None if is_yaml(&input.cell_path) => {
            let y = phonopy_yaml::read_phonopy_yaml(&input.cell_path)?;
            (y.supercell_matrix, y.supercell)
        }
        None => (structure.fc2_supercell_matrix, None),
    };
    let mut supercell = match explicit {
        Some(c) => c,
        None => crate::crystal::supercell::build_supercell(&structure.unit_cell, &m)?,
    };
    supercell.masses = vec![1.0; supercell.n_atoms()];
    Ok((supercell, m))
}

/// Largest |Σ_{κ'', R''} Φ_αβγ(0κ, R'κ', R''κ'')| over (κ, κ', R') (eV/Å³) of a triplet list.
fn fc3_list_asr(fc3: &crate::fc::fc3::Fc3) -> f64 {
    let mut sums: std::collections::BTreeMap<(usize, usize, [i32; 3]), [f64; 27]> =
        Default::default();
    for t in &fc3.terms {
        let s = sums.entry((t.i, t.j, t.cell_j)).or_insert([0.0; 27]);
        for (a, b) in s.iter_mut().zip(&t.phi) {
            *a += b;
        }
    }
    sums.values().flatten().fold(0.0, |w, x| w.max(x.abs()))
}

/// Reads fourth-order force constants: TDEP infile.forceconstant_fourthorder (with a TDEP
/// cell) or FourPhonon FORCE_CONSTANTS_4TH (atom indices of `sheng_cell`, else of the CONTROL
/// given as the cell, else of the primitive cell). Returns the quartet list and its acoustic
/// sum rule violation (eV/Å⁴).
pub fn load_fc4(
    input: &HarmonicInput,
    fc4_path: &Path,
    sheng_cell: Option<&Path>,
) -> Result<(crate::fc::fc4::Fc4, f64)> {
    let prim = &input.structure.primitive;
    let fc4 = match Fc2Format::detect(fc4_path)? {
        Fc2Format::Tdep => {
            if input.fc2_format != Fc2Format::Tdep {
                return Err(Error::input(format!(
                    "{}: TDEP fourth-order constants need the TDEP cell (infile.ucposcar and a TDEP fc2)",
                    fc4_path.display()
                )));
            }
            tdep_fc3::read_tdep_fc4(fc4_path, prim)?
        }
        Fc2Format::Hdf5 => {
            return Err(Error::input(format!(
                "{}: fourth-order constants in HDF5 are not read; convert them to FORCE_CONSTANTS_4TH (FourPhonon) or infile.forceconstant_fourthorder (TDEP)",
                fc4_path.display()
            )));
        }
        Fc2Format::PhonopyText => {
            let cell = match sheng_cell {
                Some(p) if shengbte_control::is_control(p) => {
                    shengbte_control::read_control(p)?.cell
                }
                Some(p) => poscar::read_poscar(p)?,
                None if shengbte_control::is_control(&input.cell_path) => {
                    shengbte_control::read_control(&input.cell_path)?.cell
                }
                None => prim.clone(),
            };
            shengbte_fc4::read_fc4_shengbte(fc4_path, &cell, prim)?
        }
    };
    let asr = fc4.asr_violation();
    Ok((fc4, asr))
}
