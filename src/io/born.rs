//! phonopy BORN files (formats.md §3.4): NAC factor, ε∞ and Born charges of the
//! symmetry-independent atoms, expanded to every primitive atom with the space group.

use super::text::{TextFile, parse_f64s, parse_real};
use crate::crystal::Cell;
use crate::crystal::symmetry::Symmetry;
use crate::error::{Error, Result};
use crate::harmonic::nac::Born;
use crate::linalg::{self, Mat3};
use crate::units::NAC_FACTOR_EV_ANGSTROM;
use std::path::Path;

fn mat_from9(v: &[f64]) -> Mat3 {
    [[v[0], v[1], v[2]], [v[3], v[4], v[5]], [v[6], v[7], v[8]]]
}

pub fn read_born(path: &Path, primitive: &Cell) -> Result<Born> {
    let mut f = TextFile::read(path)?;
    let (l1, first) = f.next_nonblank("the unit-conversion factor line")?;
    let factor = first
        .split_whitespace()
        .next()
        .and_then(parse_real)
        .filter(|_| !first.trim_start().starts_with('#'))
        .unwrap_or(NAC_FACTOR_EV_ANGSTROM);
    if factor.is_nan() || factor <= 0.0 {
        return Err(Error::parse(
            path,
            l1,
            format!("NAC unit-conversion factor must be positive, found {factor}"),
        ));
    }
    let mut rows: Vec<(usize, Vec<f64>)> = Vec::new();
    while f.skip_blank() {
        let (ln, line) = f.next_line("a line of 9 numbers")?;
        if line.trim_start().starts_with('#') {
            continue;
        }
        rows.push((
            ln,
            parse_f64s(
                path,
                ln,
                line,
                9,
                "9 tensor components xx xy xz yx yy yz zx zy zz",
            )?,
        ));
    }
    if rows.is_empty() {
        return Err(Error::parse(
            path,
            l1 + 1,
            "expected the dielectric tensor (9 numbers), found end of file",
        ));
    }
    let epsilon = mat_from9(&rows[0].1);
    let given: Vec<Mat3> = rows[1..].iter().map(|(_, v)| mat_from9(v)).collect();
    let sym = Symmetry::new(primitive, 1e-5)?;
    let perms = sym.atom_permutations(primitive, 1e-4)?;
    // Independent atoms: the lowest index of each orbit, in increasing order.
    let n = primitive.n_atoms();
    let independent: Vec<usize> = (0..n)
        .filter(|&i| perms.iter().all(|p| p[i] >= i))
        .collect();
    let charges = if given.len() == n && independent.len() != n {
        given
    } else if given.len() == independent.len() {
        let mut z = vec![[[0.0; 3]; 3]; n];
        for j in 0..n {
            // The first operation that maps an independent atom onto j.
            let (op, src) = perms
                .iter()
                .enumerate()
                .find_map(|(o, p)| independent.iter().position(|&i| p[i] == j).map(|k| (o, k)))
                .ok_or_else(|| {
                    Error::Numerical(format!("no symmetry operation reaches atom {}", j + 1))
                })?;
            let r = Symmetry::cartesian_rotation(primitive, &sym.rotations[op]);
            z[j] = linalg::congruence(&r, &given[src]);
        }
        z
    } else if given.len() > independent.len() {
        return Err(Error::parse(
            path,
            rows[independent.len() + 1].0,
            format!(
                "too many atoms: expected Born charges of the {} symmetry-independent atoms {:?} (or of all {n}), found {}",
                independent.len(),
                independent.iter().map(|i| i + 1).collect::<Vec<_>>(),
                given.len()
            ),
        ));
    } else {
        return Err(Error::parse(
            path,
            rows.last().map(|r| r.0 + 1).unwrap_or(0),
            format!(
                "expected Born charges of the {} symmetry-independent atoms {:?}, found {}",
                independent.len(),
                independent.iter().map(|i| i + 1).collect::<Vec<_>>(),
                given.len()
            ),
        ));
    };
    Ok(Born {
        epsilon,
        charges,
        factor,
    })
}
