//! Which site of a reference cell every MD atom vibrates about. The MD cell must be a supercell
//! of the reference cell (primitive or conventional); each atom goes to the nearest reference
//! site image, and the assignment must be clear: an atom at least twice as close to its site as
//! to any other, and every supercell site taken by exactly one atom. Wyckoff orbits come from
//! the reference cell's space group.

use crate::crystal::Cell;
use crate::crystal::symmetry::Symmetry;
use crate::error::{Error, Result};
use crate::linalg::{self, Mat3, Vec3};

/// The mapping of MD atoms onto reference sites.
#[derive(Clone, Debug)]
pub struct SiteMap {
    /// Reference site of every MD atom.
    pub site: Vec<usize>,
    /// Ideal position of every MD atom, fractional in the MD cell (the image of its reference
    /// site nearest to where the atom started, shifted by the common origin offset).
    pub ideal_fractional: Vec<Vec3>,
    /// MD cell rows in the reference basis (integer supercell matrix).
    pub supercell_matrix: [[i32; 3]; 3],
    /// Distance (Å) from each atom's start to its site, the largest over atoms.
    pub largest_distance: f64,
    /// Common shift (Å) between the reference origin and the MD atoms.
    pub origin_shift: Vec3,
    /// Number of MD atoms on each reference site.
    pub atoms_per_site: Vec<usize>,
}

/// Wyckoff orbits of the reference cell and the operation taking each orbit's representative
/// to each member.
#[derive(Clone, Debug)]
pub struct Orbits {
    /// Orbit index of every reference atom.
    pub orbit_of: Vec<usize>,
    /// Representative (lowest index) of every orbit.
    pub representatives: Vec<usize>,
    /// For each reference atom j: the Cartesian rotations of all operations g with g(rep) = j.
    pub rotations_to: Vec<Vec<Mat3>>,
    pub space_group: String,
    pub space_group_number: i32,
}

/// Maps MD atoms (positions `cart`, Å, in the cell `lattice`) onto `reference` sites.
pub fn map_sites(
    lattice: &Mat3,
    cart: &[Vec3],
    symbols: &[String],
    reference: &Cell,
) -> Result<SiteMap> {
    let inv_ref = linalg::inverse(&reference.lattice).expect("validated lattice");
    let m_real = linalg::mat_mul(lattice, &inv_ref);
    let m = linalg::to_integer(&m_real, 0.1).ok_or_else(|| {
        Error::input(format!(
            "the MD cell is not a supercell of the reference cell: its rows in the reference basis are {m_real:.3?}, expected integers (within 10 % strain)"
        ))
    })?;
    let n_cells = linalg::det(&linalg::to_f64(&m)).abs().round() as usize;
    let n_ref = reference.n_atoms();
    if cart.len() != n_cells * n_ref {
        return Err(Error::input(format!(
            "the MD cell has {} atoms, but it is {n_cells} reference cells of {n_ref} atoms ({}): expected {} (vacancies and interstitials cannot be mapped onto sites)",
            cart.len(),
            reference.formula(),
            n_cells * n_ref
        )));
    }
    // Fractional coordinates in the reference basis (the MD cell scaled to the reference
    // lattice, so that thermal expansion in NPT does not shift the mapping).
    let inv_md = linalg::inverse(lattice).expect("validated lattice");
    let mf = linalg::to_f64(&m);
    let t: Vec<Vec3> = cart
        .iter()
        .map(|x| linalg::vec_mat(&linalg::vec_mat(x, &inv_md), &mf))
        .collect();
    let shift = best_shift(&t, symbols, reference);
    let inv_m = linalg::inverse(&mf).expect("non-singular supercell");
    let mut site = Vec::with_capacity(cart.len());
    let mut ideal = Vec::with_capacity(cart.len());
    let mut taken = std::collections::HashMap::new();
    let mut largest: f64 = 0.0;
    for (a, ta) in t.iter().enumerate() {
        let shifted = linalg::sub(ta, &shift);
        let mut best: Vec<(f64, usize, Vec3)> = Vec::with_capacity(27 * n_ref);
        for (k, pk) in reference.positions.iter().enumerate() {
            let g = linalg::sub(&shifted, pk);
            let n0 = g.map(f64::round);
            for dn in neighbours() {
                let n = linalg::add(&n0, &dn);
                let d = linalg::norm(&linalg::vec_mat(&linalg::sub(&g, &n), &reference.lattice));
                best.push((d, k, n));
            }
        }
        best.sort_by(|x, y| x.0.total_cmp(&y.0));
        let (d1, k, n) = best[0];
        let d2 = best[1].0;
        if d1 > 0.5 * d2 {
            return Err(Error::input(format!(
                "MD atom {} ({}) cannot be assigned to a reference site: it is {d1:.3} Å from site {} ({}) and {d2:.3} Å from site {} ({}); expected it at least twice as close to one site (is the reference the right structure, or did the atom start mid-hop?)",
                a + 1,
                symbols[a],
                k + 1,
                reference.symbols[k],
                best[1].1 + 1,
                reference.symbols[best[1].1]
            )));
        }
        largest = largest.max(d1);
        let ideal_t = linalg::add(&linalg::add(&reference.positions[k], &n), &shift);
        let s = linalg::vec_mat(&ideal_t, &inv_m);
        let key = (
            k,
            s.map(|x| (((x - x.floor()) * 1e6).round() as i64) % 1_000_000),
        );
        if let Some(other) = taken.insert(key, a) {
            return Err(Error::input(format!(
                "MD atoms {} and {} both sit on the same image of reference site {} ({}): expected one atom per site",
                other + 1,
                a + 1,
                k + 1,
                reference.symbols[k]
            )));
        }
        site.push(k);
        ideal.push(s);
    }
    let mut atoms_per_site = vec![0; n_ref];
    for &k in &site {
        atoms_per_site[k] += 1;
    }
    Ok(SiteMap {
        site,
        ideal_fractional: ideal,
        supercell_matrix: m,
        largest_distance: largest,
        origin_shift: linalg::vec_mat(&shift, &reference.lattice),
        atoms_per_site,
    })
}

fn neighbours() -> impl Iterator<Item = Vec3> {
    (0..27).map(|i| {
        [
            (i / 9) as f64 - 1.0,
            ((i / 3) % 3) as f64 - 1.0,
            (i % 3) as f64 - 1.0,
        ]
    })
}

/// The origin shift (reference fractional) that brings the MD atoms closest to reference
/// sites: tried from the first atom onto every reference site of its species (all sites when
/// none matches), scored by the summed squared mismatch. Zero when zero is as good.
fn best_shift(t: &[Vec3], symbols: &[String], reference: &Cell) -> Vec3 {
    let same: Vec<usize> = (0..reference.n_atoms())
        .filter(|&k| reference.symbols[k] == symbols[0])
        .collect();
    let candidates: Vec<usize> = if same.is_empty() {
        (0..reference.n_atoms()).collect()
    } else {
        same
    };
    let score = |shift: &Vec3| -> f64 {
        t.iter()
            .map(|ta| {
                let x = linalg::sub(ta, shift);
                reference
                    .positions
                    .iter()
                    .map(|p| {
                        let g = linalg::sub(&x, p);
                        let r = linalg::sub(&g, &g.map(f64::round));
                        let c = linalg::vec_mat(&r, &reference.lattice);
                        linalg::dot(&c, &c)
                    })
                    .fold(f64::INFINITY, f64::min)
            })
            .sum()
    };
    let mut best = ([0.0; 3], score(&[0.0; 3]));
    for k in candidates {
        let g = linalg::sub(&t[0], &reference.positions[k]);
        let shift = linalg::sub(&g, &g.map(f64::round));
        let s = score(&shift);
        if s < best.1 * (1.0 - 1e-9) {
            best = (shift, s);
        }
    }
    // Refine: the mean residual over all atoms (the first atom's own thermal displacement
    // should not set the origin).
    let mut mean = [0.0; 3];
    for ta in t {
        let x = linalg::sub(ta, &best.0);
        let r = reference
            .positions
            .iter()
            .map(|p| {
                let g = linalg::sub(&x, p);
                linalg::sub(&g, &g.map(f64::round))
            })
            .min_by(|a, b| {
                let n = |v: &Vec3| linalg::norm(&linalg::vec_mat(v, &reference.lattice));
                n(a).total_cmp(&n(b))
            })
            .expect("reference has atoms");
        mean = linalg::add(&mean, &linalg::scale(&r, 1.0 / t.len() as f64));
    }
    linalg::add(&best.0, &mean)
}

/// Wyckoff orbits of `reference` and, for every atom, the rotations that bring the orbit
/// representative onto it.
pub fn orbits(reference: &Cell, symprec: f64) -> Result<Orbits> {
    let sym = Symmetry::new(reference, symprec)?;
    let perms = sym.atom_permutations(reference, symprec.max(1e-3))?;
    let n = reference.n_atoms();
    let mut orbit_of = vec![usize::MAX; n];
    let mut representatives = Vec::new();
    for i in 0..n {
        if orbit_of[i] != usize::MAX {
            continue;
        }
        let o = representatives.len();
        representatives.push(i);
        for p in &perms {
            orbit_of[p[i]] = o;
        }
    }
    let mut rotations_to = vec![Vec::new(); n];
    for (g, p) in perms.iter().enumerate() {
        let r = Symmetry::cartesian_rotation(reference, &sym.rotations[g]);
        for &rep in &representatives {
            rotations_to[p[rep]].push(r);
        }
    }
    Ok(Orbits {
        orbit_of,
        representatives,
        rotations_to,
        space_group: sym.symbol.clone(),
        space_group_number: sym.number,
    })
}
