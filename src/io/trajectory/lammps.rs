//! LAMMPS dump files (`dump custom` / `dump atom`): ITEM blocks for the timestep, the atom
//! count, the box (orthogonal or triclinic with tilt factors) and the atoms. Position columns,
//! in order of preference: xu yu zu (unwrapped), x y z (+ ix iy iz image flags), xs ys zs
//! (scaled, + image flags), xsu ysu zsu (scaled unwrapped). Atoms are sorted by `id`.

use super::lines::LineStream;
use super::{Frame, FrameParser, count};
use crate::error::Result;
use crate::linalg::{Mat3, Vec3};

pub(super) struct LammpsParser {
    types: Option<Vec<String>>,
    /// Set from the first frame's columns: positions folded into the box, no image flags.
    wrapped: bool,
}

impl LammpsParser {
    pub(super) fn new(types: Option<Vec<String>>) -> LammpsParser {
        LammpsParser {
            types,
            wrapped: true,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Coords {
    Unwrapped,
    Wrapped,
    Scaled,
    ScaledUnwrapped,
}

struct AtomColumns {
    id: Option<usize>,
    species: usize,
    species_is_type: bool,
    pos: [usize; 3],
    images: Option<[usize; 3]>,
    coords: Coords,
    n_columns: usize,
}

impl FrameParser for LammpsParser {
    fn wrapped(&self) -> bool {
        self.wrapped
    }

    fn next_frame(&mut self, lines: &mut LineStream, index: usize) -> Result<Option<Frame>> {
        if !lines.skip_blank()? {
            return Ok(None);
        }
        let mut n_atoms = None;
        let mut cell = None;
        loop {
            let item = lines
                .expect_with(|| format!("an ITEM: line of frame {index}"))?
                .trim()
                .to_string();
            let Some(item) = item.strip_prefix("ITEM:").map(str::trim) else {
                return Err(lines.err(format!(
                    "frame {index}: expected an 'ITEM: ...' line of a LAMMPS dump, found '{item}'"
                )));
            };
            if item.starts_with("TIMESTEP") || item.starts_with("TIME") || item.starts_with("UNITS")
            {
                lines.expect("the value after an ITEM line")?;
            } else if item.starts_with("NUMBER OF ATOMS") {
                let t = lines.expect("the number of atoms")?.to_string();
                n_atoms = Some(count(lines, &t, "the number of atoms")?);
            } else if let Some(rest) = item.strip_prefix("BOX BOUNDS") {
                cell = Some(read_box(lines, rest.contains("xy"))?);
            } else if let Some(rest) = item.strip_prefix("ATOMS") {
                let n = n_atoms.ok_or_else(|| {
                    lines.err("expected ITEM: NUMBER OF ATOMS before ITEM: ATOMS")
                })?;
                let (lattice, origin) =
                    cell.ok_or_else(|| lines.err("expected ITEM: BOX BOUNDS before ITEM: ATOMS"))?;
                let cols = atom_columns(lines, rest)?;
                if index == 0 {
                    self.wrapped = cols.coords == Coords::Wrapped && cols.images.is_none()
                        || cols.coords == Coords::Scaled && cols.images.is_none();
                }
                return self
                    .read_atoms(lines, &cols, n, &lattice, &origin, index)
                    .map(Some);
            } else {
                return Err(lines.err(format!(
                    "frame {index}: unknown dump item 'ITEM: {item}' (expected TIMESTEP, NUMBER OF ATOMS, BOX BOUNDS or ATOMS)"
                )));
            }
        }
    }
}

impl LammpsParser {
    fn read_atoms(
        &self,
        lines: &mut LineStream,
        cols: &AtomColumns,
        n: usize,
        lattice: &Mat3,
        origin: &Vec3,
        index: usize,
    ) -> Result<Frame> {
        let mut atoms: Vec<(usize, String, Vec3)> = Vec::with_capacity(n);
        let inverse = crate::linalg::inverse(lattice).expect("box lengths checked positive");
        let mut buf = String::new();
        for k in 0..n {
            lines.expect_into(&mut buf, || {
                format!("atom line {} of {n} of frame {index}", k + 1)
            })?;
            let line = buf.as_str();
            let toks: Vec<&str> = line.split_whitespace().collect();
            if toks.len() < cols.n_columns {
                return Err(lines.err(format!(
                    "frame {index}, atom line {}: expected {} columns, found {} in '{}' (ITEM: NUMBER OF ATOMS says {n}: wrong count?)",
                    k + 1,
                    cols.n_columns,
                    toks.len(),
                    line.trim()
                )));
            }
            let mut r = [0.0; 3];
            for d in 0..3 {
                r[d] = super::real_token(lines, toks[cols.pos[d]], line, "a coordinate")?;
            }
            let mut image = [0.0; 3];
            if let Some(ic) = cols.images {
                for d in 0..3 {
                    image[d] = toks[ic[d]].parse::<i64>().map_err(|_| {
                        lines.err(format!(
                            "expected an integer image flag, found '{}'",
                            toks[ic[d]]
                        ))
                    })? as f64;
                }
            }
            // Cartesian relative to the box origin, then shifted by the image flags.
            let frac = match cols.coords {
                Coords::Scaled | Coords::ScaledUnwrapped => r,
                Coords::Wrapped | Coords::Unwrapped => {
                    crate::linalg::vec_mat(&crate::linalg::sub(&r, origin), &inverse)
                }
            };
            let frac = [frac[0] + image[0], frac[1] + image[1], frac[2] + image[2]];
            let id = match cols.id {
                Some(c) => toks[c].parse::<usize>().map_err(|_| {
                    lines.err(format!("expected an integer atom id, found '{}'", toks[c]))
                })?,
                None => k + 1,
            };
            let species = toks[cols.species];
            let symbol = match (&self.types, cols.species_is_type) {
                (Some(types), true) => {
                    let t: usize = species.parse().map_err(|_| {
                        lines.err(format!("expected an integer atom type, found '{species}'"))
                    })?;
                    types.get(t.wrapping_sub(1)).cloned().ok_or_else(|| {
                        lines.err(format!(
                            "atom type {t}, but only {} type names were given ({})",
                            types.len(),
                            types.join(" ")
                        ))
                    })?
                }
                _ => species.to_string(),
            };
            atoms.push((id, symbol, crate::linalg::vec_mat(&frac, lattice)));
        }
        atoms.sort_by_key(|a| a.0);
        if let Some(w) = atoms.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(lines.err(format!(
                "frame {index}: atom id {} appears twice: expected unique ids",
                w[0].0
            )));
        }
        let (symbols, positions) = atoms.into_iter().map(|(_, s, p)| (s, p)).unzip();
        Ok(Frame {
            index,
            lattice: *lattice,
            positions,
            symbols,
            time_fs: None,
        })
    }
}

/// The box from `ITEM: BOX BOUNDS`: lattice rows and the origin (xlo, ylo, zlo). A triclinic
/// box lists bounds of the enclosing orthogonal box plus tilts xy, xz, yz (LAMMPS Howto triclinic).
fn read_box(lines: &mut LineStream, triclinic: bool) -> Result<(Mat3, Vec3)> {
    let mut rows = [[0.0; 3]; 3];
    for (d, row) in rows.iter_mut().enumerate() {
        let line = lines.expect("a BOX BOUNDS line")?.to_string();
        let what = ["x bounds", "y bounds", "z bounds"][d];
        if triclinic {
            *row = super::reals::<3>(lines, &line, what)?;
        } else {
            let [lo, hi] = super::reals::<2>(lines, &line, what)?;
            *row = [lo, hi, 0.0];
        }
    }
    let [xy, xz, yz] = [rows[0][2], rows[1][2], rows[2][2]];
    let xlo = rows[0][0] - [0.0, xy, xz, xy + xz].into_iter().fold(0.0, f64::min);
    let xhi = rows[0][1] - [0.0, xy, xz, xy + xz].into_iter().fold(0.0, f64::max);
    let ylo = rows[1][0] - yz.min(0.0);
    let yhi = rows[1][1] - yz.max(0.0);
    let (zlo, zhi) = (rows[2][0], rows[2][1]);
    let lattice = [
        [xhi - xlo, 0.0, 0.0],
        [xy, yhi - ylo, 0.0],
        [xz, yz, zhi - zlo],
    ];
    if !(xhi > xlo && yhi > ylo && zhi > zlo) {
        return Err(lines.err(format!(
            "expected a box with positive lengths, found x {xlo}..{xhi}, y {ylo}..{yhi}, z {zlo}..{zhi}"
        )));
    }
    Ok((lattice, [xlo, ylo, zlo]))
}

/// Column layout from the `ITEM: ATOMS` header.
fn atom_columns(lines: &LineStream, header: &str) -> Result<AtomColumns> {
    let names: Vec<&str> = header.split_whitespace().collect();
    let find = |n: &str| names.iter().position(|c| *c == n);
    let triple = |a: &str, b: &str, c: &str| Some([find(a)?, find(b)?, find(c)?]);
    let (pos, coords) = if let Some(p) = triple("xu", "yu", "zu") {
        (p, Coords::Unwrapped)
    } else if let Some(p) = triple("x", "y", "z") {
        (p, Coords::Wrapped)
    } else if let Some(p) = triple("xsu", "ysu", "zsu") {
        (p, Coords::ScaledUnwrapped)
    } else if let Some(p) = triple("xs", "ys", "zs") {
        (p, Coords::Scaled)
    } else {
        return Err(lines.err(format!(
            "ITEM: ATOMS {header}: expected position columns xu yu zu, x y z, xs ys zs or xsu ysu zsu"
        )));
    };
    let images = match coords {
        Coords::Wrapped | Coords::Scaled => triple("ix", "iy", "iz"),
        _ => None,
    };
    let (species, species_is_type) = match (find("element"), find("type")) {
        (Some(e), _) => (e, false),
        (None, Some(t)) => (t, true),
        (None, None) => {
            return Err(lines.err(format!(
                "ITEM: ATOMS {header}: expected a 'type' or 'element' column"
            )));
        }
    };
    let id = find("id");
    let n_columns = pos
        .iter()
        .chain(images.iter().flatten())
        .chain([species].iter())
        .chain(id.iter())
        .max()
        .map_or(0, |m| m + 1);
    Ok(AtomColumns {
        id,
        species,
        species_is_type,
        pos,
        images,
        coords,
        n_columns,
    })
}
