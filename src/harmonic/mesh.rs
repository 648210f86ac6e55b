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

    /// The rotations (acting on reduced q) that map the grid onto itself: q = (a + s/2)/n must
    /// go to a grid point. A mesh that breaks the crystal symmetry (4×4×3 for a cubic crystal)
    /// keeps only the operations it respects.
    pub fn compatible_rotations(&self, rotations: &[[[i32; 3]; 3]]) -> Vec<[[i32; 3]; 3]> {
        let s: [i64; 3] = std::array::from_fn(|k| self.shift[k] as i64);
        let nn: [i64; 3] = std::array::from_fn(|k| self.n[k] as i64);
        // In doubled units d = 2a + s, R q lands on the grid when (R q)_i n_i = Σ_j R_ij d_j n_i/n_j
        // is an integer of the parity s_i for every grid point; checking the basis steps and
        // the origin is enough because the map is linear.
        let on_grid = |r: &[[i32; 3]; 3], d: [i64; 3]| {
            (0..3).all(|i| {
                let num: i64 = (0..3)
                    .map(|j| r[i][j] as i64 * d[j] * nn[i] * (nn[0] * nn[1] * nn[2] / nn[j]))
                    .sum();
                let den = nn[0] * nn[1] * nn[2];
                num % den == 0 && ((num / den) - s[i]).rem_euclid(2) == 0
            })
        };
        rotations
            .iter()
            .filter(|r| {
                on_grid(r, s)
                    && (0..3).all(|k| {
                        let mut d = s;
                        d[k] += 2;
                        on_grid(r, d)
                    })
            })
            .copied()
            .collect()
    }

    /// Grid index of R q for grid point g and a rotation R of reduced q that maps the grid onto
    /// itself (`compatible_rotations`). In doubled units d = 2a + s: 2 n_i (R q)_i = Σ_j R_ij d_j n_i/n_j.
    pub fn rotate_point(&self, r: &[[i32; 3]; 3], g: usize) -> usize {
        let a = self.address(g);
        let nn: [i64; 3] = std::array::from_fn(|k| self.n[k] as i64);
        let s: [i64; 3] = std::array::from_fn(|k| self.shift[k] as i64);
        let d: [i64; 3] = std::array::from_fn(|k| 2 * a[k] as i64 + s[k]);
        let b: [usize; 3] = std::array::from_fn(|i| {
            let den = nn[0] * nn[1] * nn[2];
            let x: i64 = (0..3)
                .map(|j| r[i][j] as i64 * d[j] * nn[i] * (den / nn[j]))
                .sum::<i64>()
                / den;
            ((x - s[i]) / 2).rem_euclid(nn[i]) as usize
        });
        self.index(&b)
    }

    /// Reduces the mesh with reciprocal rotations (acting on reduced q). Rotations that do not
    /// map the (shifted) grid onto itself are left out.
    pub fn irreducible(&self, rotations: &[[[i32; 3]; 3]]) -> IrreducibleMesh {
        let np = self.n_points();
        let usable = self.compatible_rotations(rotations);
        let mut map = vec![usize::MAX; np];
        for g in 0..np {
            if map[g] != usize::MAX {
                continue;
            }
            let orbit: Vec<usize> = usable.iter().map(|r| self.rotate_point(r, g)).collect();
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
