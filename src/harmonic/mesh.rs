//! Regular q-meshes and their reduction to the irreducible wedge (phonopy/spglib convention):
//! grid index g = a₀ + n₀(a₁ + n₁a₂) with addresses in [0, n); the representative of each orbit
//! is its lowest index, irreducible points are listed in increasing index order, and the weight
//! is the orbit size. Reported q use addresses folded into [−n/2, n/2).

use crate::linalg::Vec3;

#[derive(Clone, Debug)]
pub struct Mesh {
    pub n: [usize; 3],
    /// Half-grid shift per axis (phonopy's `is_shift`): q = (a + s/2)/n.
    pub shift: [bool; 3],
}

/// The irreducible part of a mesh.
#[derive(Clone, Debug)]
pub struct IrreducibleMesh {
    pub mesh: Mesh,
    /// Grid indices of the irreducible points, increasing.
    pub ir_grid_points: Vec<usize>,
    pub weights: Vec<usize>,
    /// For every grid point, the index (into ir_grid_points' grid numbering) of its representative.
    pub grid_mapping: Vec<usize>,
    /// Reduced q of each irreducible point.
    pub qpoints: Vec<Vec3>,
}

impl Mesh {
    pub fn new(n: [usize; 3], shift: [bool; 3]) -> Mesh {
        Mesh { n, shift }
    }

    pub fn gamma_centered(n: [usize; 3]) -> Mesh {
        Mesh {
            n,
            shift: [false; 3],
        }
    }

    pub fn n_points(&self) -> usize {
        self.n[0] * self.n[1] * self.n[2]
    }

    /// Address (each in [0, n)) of grid index g.
    pub fn address(&self, g: usize) -> [usize; 3] {
        [
            g % self.n[0],
            (g / self.n[0]) % self.n[1],
            g / (self.n[0] * self.n[1]),
        ]
    }

    pub fn index(&self, a: &[usize; 3]) -> usize {
        a[0] + self.n[0] * (a[1] + self.n[1] * a[2])
    }

    /// Address folded into [−n/2, n/2) (phonopy's reported grid addresses).
    pub fn folded_address(&self, g: usize) -> [i64; 3] {
        let a = self.address(g);
        std::array::from_fn(|k| {
            let n = self.n[k] as i64;
            let x = a[k] as i64;
            if 2 * x >= n { x - n } else { x }
        })
    }

    /// Reduced q of grid point g, from the folded address.
    pub fn qpoint(&self, g: usize) -> Vec3 {
        let a = self.folded_address(g);
        std::array::from_fn(|k| {
            (a[k] as f64 + if self.shift[k] { 0.5 } else { 0.0 }) / self.n[k] as f64
        })
    }

    /// All grid points' reduced q in index order.
    pub fn all_qpoints(&self) -> Vec<Vec3> {
        (0..self.n_points()).map(|g| self.qpoint(g)).collect()
    }

    /// Reduces the mesh with reciprocal rotations (acting on reduced q). Rotations that do not
    /// map the (shifted) grid onto itself are left out.
    pub fn irreducible(&self, rotations: &[[[i32; 3]; 3]]) -> IrreducibleMesh {
        let np = self.n_points();
        let s: [i64; 3] = std::array::from_fn(|k| self.shift[k] as i64);
        let nn: [i64; 3] = std::array::from_fn(|k| self.n[k] as i64);
        // Doubled addresses 2a + s keep the half-grid shift integral.
        let usable: Vec<&[[i32; 3]; 3]> = rotations
            .iter()
            .filter(|r| {
                (0..np).all(|g| {
                    let a = self.address(g);
                    let d: [i64; 3] = std::array::from_fn(|k| 2 * a[k] as i64 + s[k]);
                    (0..3).all(|i| {
                        let x: i64 = (0..3).map(|j| r[i][j] as i64 * d[j]).sum();
                        (x - s[i]).rem_euclid(2) == 0
                    })
                })
            })
            .collect();
        let mut map = vec![usize::MAX; np];
        for g in 0..np {
            if map[g] != usize::MAX {
                continue;
            }
            let a = self.address(g);
            let d: [i64; 3] = std::array::from_fn(|k| 2 * a[k] as i64 + s[k]);
            let mut orbit = Vec::with_capacity(usable.len());
            for r in &usable {
                let b: [usize; 3] = std::array::from_fn(|i| {
                    let x: i64 = (0..3).map(|j| r[i][j] as i64 * d[j]).sum();
                    ((x - s[i]) / 2).rem_euclid(nn[i]) as usize
                });
                orbit.push(self.index(&b));
            }
            let rep = *orbit.iter().min().expect("identity is always usable");
            for h in orbit {
                map[h] = rep;
            }
        }
        let mut ir_grid_points: Vec<usize> = map
            .iter()
            .enumerate()
            .filter(|(g, r)| *g == **r)
            .map(|(g, _)| g)
            .collect();
        ir_grid_points.sort_unstable();
        let mut weights = vec![0usize; ir_grid_points.len()];
        let pos = |g: usize| {
            ir_grid_points
                .binary_search(&g)
                .expect("representative is irreducible")
        };
        for &r in &map {
            weights[pos(r)] += 1;
        }
        let qpoints = ir_grid_points.iter().map(|&g| self.qpoint(g)).collect();
        IrreducibleMesh {
            mesh: self.clone(),
            ir_grid_points,
            weights,
            grid_mapping: map,
            qpoints,
        }
    }
}
