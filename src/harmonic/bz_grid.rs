//! Brillouin-zone representatives of the points of a regular Γ-centred grid (phono3py's BZ
//! grid). A grid point q stands for every q + G of smallest length; points on the zone
//! surface have several such representatives. Two things need them:
//!
//! - phono3py's `grid_point` numbering (its dense BZ grid, the default since phono3py 2): the
//!   BZ index of regular point g is the number of representatives of all regular points before
//!   it, so it equals g only while no earlier point lies on the zone surface;
//! - the normal/umklapp class of a triplet: q + q' + q'' = 0 with all three taken inside the
//!   zone is a normal process, anything else (a reciprocal lattice vector left over) umklapp.

use super::mesh::Mesh;
use crate::linalg::Mat3;

#[derive(Clone, Debug)]
pub struct BzGrid {
    /// Representatives of regular point g: `addresses[offsets[g]..offsets[g + 1]]`.
    offsets: Vec<usize>,
    /// Integer addresses a + n·G of the representatives (q = address / n).
    addresses: Vec<[i64; 3]>,
}

impl BzGrid {
    /// The representatives of every point of a Γ-centred `mesh` for a crystal with reciprocal
    /// lattice rows `reciprocal` (any scale: only length ratios matter).
    pub fn new(mesh: &Mesh, reciprocal: &Mat3) -> BzGrid {
        let n: [i64; 3] = std::array::from_fn(|k| mesh.n[k] as i64);
        let norm2 = |a: &[i64; 3]| -> f64 {
            let v: [f64; 3] = std::array::from_fn(|c| {
                (0..3)
                    .map(|i| a[i] as f64 / n[i] as f64 * reciprocal[i][c])
                    .sum()
            });
            v.iter().map(|x| x * x).sum()
        };
        // Ties are decided with 1 % of the smallest squared grid step (as phonopy does): exact
        // ties on the zone surface differ only by rounding, other candidates by far more.
        let tol = 0.01
            * (0..3)
                .map(|i| norm2(&std::array::from_fn(|k| if k == i { 1 } else { 0 })))
                .fold(f64::INFINITY, f64::min);
        // Shifts by −2…2 reciprocal vectors from the folded address reach the shortest image
        // for any lattice whose reciprocal basis is not far from reduced (as for primitive cells
        // from spglib/phonopy).
        let shifts: Vec<[i64; 3]> = (0..125)
            .map(|i| [i % 5 - 2, (i / 5) % 5 - 2, i / 25 - 2])
            .collect();
        let mut offsets = Vec::with_capacity(mesh.n_points() + 1);
        let mut addresses = Vec::with_capacity(mesh.n_points() * 9 / 8);
        for g in 0..mesh.n_points() {
            offsets.push(addresses.len());
            let a = mesh.folded_address(g);
            let candidates: Vec<([i64; 3], f64)> = shifts
                .iter()
                .map(|s| {
                    let b: [i64; 3] = std::array::from_fn(|k| a[k] + s[k] * n[k]);
                    (b, norm2(&b))
                })
                .collect();
            let shortest = candidates.iter().map(|c| c.1).fold(f64::INFINITY, f64::min);
            addresses.extend(
                candidates
                    .into_iter()
                    .filter(|c| c.1 < shortest + tol)
                    .map(|c| c.0),
            );
        }
        offsets.push(addresses.len());
        BzGrid { offsets, addresses }
    }

    /// phono3py's BZ grid index of regular point g (its `grid_point` and `-g{N}` file names).
    pub fn grid_point(&self, g: usize) -> usize {
        self.offsets[g]
    }

    /// Number of points of the BZ grid (regular points counted once per representative).
    pub fn n_points(&self) -> usize {
        self.addresses.len()
    }

    /// The shortest images of regular point g as integer addresses.
    pub fn representatives(&self, g: usize) -> &[[i64; 3]] {
        &self.addresses[self.offsets[g]..self.offsets[g + 1]]
    }

    /// Whether the triplet of regular points (g0, g1, g2), q0 + q1 + q2 ≡ 0, is a normal
    /// process: some choice of zone representatives adds up to exactly zero. Taking every
    /// representative of all three makes the answer the same for symmetry-equivalent triplets.
    pub fn is_normal(&self, g0: usize, g1: usize, g2: usize) -> bool {
        let r2 = self.representatives(g2);
        self.representatives(g0).iter().any(|a| {
            self.representatives(g1).iter().any(|b| {
                let c: [i64; 3] = std::array::from_fn(|k| -a[k] - b[k]);
                r2.contains(&c)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_simple_cubic_grid_has_no_surface_points_and_normal_sums() {
        let mesh = Mesh::gamma_centered([5, 5, 5]);
        let rec = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        let bz = BzGrid::new(&mesh, &rec);
        assert_eq!(bz.n_points(), 125);
        assert!((0..125).all(|g| bz.grid_point(g) == g));
        // (2,0,0)+(2,0,0) = (4,0,0) ≡ (−1,0,0): q'' = (1,0,0) closes it with a G left over.
        let idx = |a: [usize; 3]| mesh.index(&a);
        assert!(!bz.is_normal(idx([2, 0, 0]), idx([2, 0, 0]), idx([1, 0, 0])));
        assert!(bz.is_normal(idx([1, 0, 0]), idx([1, 0, 0]), idx([3, 0, 0])));
    }

    #[test]
    fn even_grid_zone_boundary_points_have_all_their_images() {
        let mesh = Mesh::gamma_centered([4, 4, 4]);
        let rec = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        let bz = BzGrid::new(&mesh, &rec);
        // Face centre ½: 2 images, edge: 4, corner: 8; each address 2 doubles the count, so
        // the grid has (1 + 1 + 2 + 1)³ points.
        assert_eq!(bz.representatives(mesh.index(&[2, 0, 0])).len(), 2);
        assert_eq!(bz.representatives(mesh.index(&[2, 2, 0])).len(), 4);
        assert_eq!(bz.representatives(mesh.index(&[2, 2, 2])).len(), 8);
        assert_eq!(bz.n_points(), 125);
        // ½ + ½ + 0 = 0 with the images −½ and ½: a normal process.
        let half = mesh.index(&[2, 0, 0]);
        assert!(bz.is_normal(half, half, 0));
    }
}
