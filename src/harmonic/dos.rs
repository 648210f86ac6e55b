//! Phonon density of states on a full Γ-centred/shifted mesh: the linear tetrahedron method
//! (24 tetrahedra around each grid point, split along the shortest main diagonal, as
//! phonopy/spglib) and Gaussian smearing; total and projected (any per-mode weights, e.g. per
//! atom Σ_α|e_κα|² or per atom and direction |e_κα|²). Normalized to 3n states per cell.
//!
//! Determinism: contributions are accumulated in fixed-size chunks of grid points and the
//! chunks are added in order, so the result does not depend on the number of threads.

use super::mesh::Mesh;
use crate::linalg::{self, Mat3};
use rayon::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DosMethod {
    Tetrahedron,
    /// Gaussian of standard deviation σ (THz).
    Gaussian(f64),
}

const MAIN_DIAGONALS: [[i32; 3]; 4] = [[1, 1, 1], [-1, 1, 1], [1, -1, 1], [1, 1, -1]];

/// Relative grid addresses of the 24 tetrahedra sharing a grid point, the point itself first.
pub fn tetrahedra(mesh: &Mesh, reciprocal: &Mat3) -> [[[i32; 3]; 4]; 24] {
    // Shortest main diagonal of the grid parallelepiped (first one wins ties, as spglib).
    let mut best = 0;
    let mut best_len = f64::INFINITY;
    for (k, d) in MAIN_DIAGONALS.iter().enumerate() {
        let v: [f64; 3] = std::array::from_fn(|c| {
            (0..3)
                .map(|i| d[i] as f64 * reciprocal[i][c] / mesh.n[i] as f64)
                .sum()
        });
        let l = linalg::dot(&v, &v);
        if l < best_len {
            best_len = l;
            best = k;
        }
    }
    let sign = MAIN_DIAGONALS[best];
    let perms = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let mut out = [[[0i32; 3]; 4]; 24];
    let mut count = 0;
    // In coordinates flipped along the diagonal's negative axes the diagonal is (1,1,1); each cube
    // splits into the 6 tetrahedra {o, o+e_p0, o+e_p0+e_p1, o+(1,1,1)}.
    for ox in -1..=0 {
        for oy in -1..=0 {
            for oz in -1..=0 {
                for p in &perms {
                    let mut v = [[ox, oy, oz]; 4];
                    for k in 1..4 {
                        v[k] = v[k - 1];
                        v[k][p[(k - 1).min(2)]] += 1;
                    }
                    v[3] = [ox + 1, oy + 1, oz + 1];
                    if let Some(c) = v.iter().position(|x| *x == [0, 0, 0]) {
                        v.swap(0, c);
                        out[count] = v.map(|x| [x[0] * sign[0], x[1] * sign[1], x[2] * sign[2]]);
                        count += 1;
                    }
                }
            }
        }
    }
    debug_assert_eq!(count, 24);
    out
}

/// Delta-function (DOS) weight of the tetrahedron's vertex 0 at ω, summed over the 24
/// tetrahedra and divided by 6 (spglib's normalization: Σ over grid points gives the DOS × N).
#[inline]
pub fn vertex_weight(omega: f64, tet: &[[f64; 4]; 24]) -> f64 {
    SortedTetrahedra::new(tet).weight(omega)
}

/// The 24 tetrahedra around a grid point with their vertex values sorted once, for evaluating
/// the vertex weight at many ω (the three-phonon sums evaluate it at every band of q).
pub struct SortedTetrahedra {
    v: [[f64; 4]; 24],
    /// Position of the centre vertex after sorting.
    ci: [usize; 24],
    lo: f64,
    hi: f64,
}

impl SortedTetrahedra {
    pub fn new(tet: &[[f64; 4]; 24]) -> SortedTetrahedra {
        let mut s = SortedTetrahedra::empty();
        s.fill(|t, v| tet[t][v]);
        s
    }

    /// A placeholder to `fill` (its weights are all zero).
    pub fn empty() -> SortedTetrahedra {
        SortedTetrahedra {
            v: [[0.0; 4]; 24],
            ci: [0; 24],
            lo: f64::INFINITY,
            hi: f64::NEG_INFINITY,
        }
    }

    /// Refills in place from the vertex values `value(tetrahedron, vertex)`: the inner loops of
    /// the linewidths reuse one per thread instead of building and moving ~1 kB per call.
    pub fn fill(&mut self, value: impl Fn(usize, usize) -> f64) {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (it, (t, c)) in self.v.iter_mut().zip(self.ci.iter_mut()).enumerate() {
            *t = std::array::from_fn(|v| value(it, v));
            *c = sort4(t);
            lo = lo.min(t[0]);
            hi = hi.max(t[3]);
        }
        self.lo = lo;
        self.hi = hi;
    }

    /// Smallest and largest vertex value of unsorted tetrahedra (to skip sorting when no ω of
    /// interest falls inside).
    pub fn range(tet: &[[f64; 4]; 24]) -> (f64, f64) {
        tet.iter()
            .flatten()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            })
    }

    /// Vertex weight at ω. An ω equal to a vertex value belongs to the interval above it (as
    /// phonopy/phono3py): this matters when ω is itself a vertex value, e.g. the isotope δ(f − f')
    /// at q' = q or at a degenerate partner.
    pub fn weight(&self, omega: f64) -> f64 {
        if !(omega >= self.lo && omega < self.hi) {
            return 0.0;
        }
        let mut sum = 0.0;
        for (v, &ci) in self.v.iter().zip(&self.ci) {
            let f = |n: usize, m: usize| {
                let d = v[n] - v[m];
                if d.abs() < TETRA_EPS {
                    0.0
                } else {
                    (omega - v[m]) / d
                }
            };
            if omega < v[0] {
                continue;
            } else if omega < v[1] {
                let g = 3.0 * f(1, 0) * f(2, 0) / (v[3] - v[0]);
                let i = match ci {
                    0 => (f(0, 1) + f(0, 2) + f(0, 3)) / 3.0,
                    1 => f(1, 0) / 3.0,
                    2 => f(2, 0) / 3.0,
                    _ => f(3, 0) / 3.0,
                };
                sum += g * i;
            } else if omega < v[2] {
                let den = f(1, 2) * f(2, 0) + f(2, 1) * f(1, 3);
                if den < TETRA_EPS {
                    continue;
                }
                let g = 3.0 / (v[3] - v[0]) * den;
                let i = match ci {
                    0 => (f(0, 3) + f(0, 2) * f(2, 0) * f(1, 2) / den) / 3.0,
                    1 => (f(1, 2) + f(1, 3) * f(1, 3) * f(2, 1) / den) / 3.0,
                    2 => (f(2, 1) + f(2, 0) * f(2, 0) * f(1, 2) / den) / 3.0,
                    _ => (f(3, 0) + f(3, 1) * f(1, 3) * f(2, 1) / den) / 3.0,
                };
                sum += g * i;
            } else if omega < v[3] {
                let g = 3.0 * f(1, 3) * f(2, 3) / (v[3] - v[0]);
                let i = match ci {
                    0 => f(0, 3) / 3.0,
                    1 => f(1, 3) / 3.0,
                    2 => f(2, 3) / 3.0,
                    _ => (f(3, 0) + f(3, 1) + f(3, 2)) / 3.0,
                };
                sum += g * i;
            }
        }
        sum / 6.0
    }
}

/// Vertex values closer than this (THz) are treated as equal.
const TETRA_EPS: f64 = 1e-10;

/// Sorts four values ascending with a five-comparator network and returns the first position
/// holding the centre (first) value.
#[inline]
fn sort4(t: &mut [f64; 4]) -> usize {
    let c0 = t[0];
    let cs = |a: usize, b: usize, t: &mut [f64; 4]| {
        if t[b] < t[a] {
            t.swap(a, b);
        }
    };
    cs(0, 1, t);
    cs(2, 3, t);
    cs(0, 2, t);
    cs(1, 3, t);
    cs(1, 2, t);
    t.iter().position(|x| *x == c0).unwrap_or(0)
}

/// Grid points per accumulation chunk (fixed, so results are independent of the thread count).
const CHUNK: usize = 256;

/// DOS on `points` (THz). `freqs[g * nb + j]` are the frequencies at every grid point of `mesh`
/// (grid index order); `proj[(g * nb + j) * n_proj + p]` optional per-mode weights. Returns the
/// total DOS and the projected DOS `[p][point]`.
pub fn dos(
    mesh: &Mesh,
    reciprocal: &Mat3,
    freqs: &[f64],
    nb: usize,
    proj: Option<(&[f64], usize)>,
    points: &[f64],
    method: DosMethod,
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let np = mesh.n_points();
    let n_proj = proj.map(|p| p.1).unwrap_or(0);
    let width = 1 + n_proj;
    let tets = tetrahedra(mesh, reciprocal);
    let pitch_ok = points.len() > 1 && points.windows(2).all(|w| w[1] > w[0]);
    let chunks: Vec<Vec<f64>> = (0..np.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut acc = vec![0.0; width * points.len()];
            let mut tet = [[0.0; 4]; 24];
            for g in c * CHUNK..((c + 1) * CHUNK).min(np) {
                let a = mesh.address(g);
                for j in 0..nb {
                    let wp = proj.map(|(w, n)| &w[(g * nb + j) * n..(g * nb + j + 1) * n]);
                    let (lo, hi, weight): (f64, f64, Box<dyn Fn(f64) -> f64>) = match method {
                        DosMethod::Tetrahedron => {
                            let mut lo = f64::INFINITY;
                            let mut hi = f64::NEG_INFINITY;
                            for (t, rel) in tet.iter_mut().zip(&tets) {
                                for (k, r) in rel.iter().enumerate() {
                                    let b: [usize; 3] = std::array::from_fn(|i| {
                                        (a[i] as i32 + r[i]).rem_euclid(mesh.n[i] as i32) as usize
                                    });
                                    t[k] = freqs[mesh.index(&b) * nb + j];
                                    lo = lo.min(t[k]);
                                    hi = hi.max(t[k]);
                                }
                            }
                            let tcopy = tet;
                            (lo, hi, Box::new(move |w| vertex_weight(w, &tcopy)))
                        }
                        DosMethod::Gaussian(s) => {
                            let f = freqs[g * nb + j];
                            let norm = 1.0 / (s * (2.0 * std::f64::consts::PI).sqrt());
                            (
                                f - 8.0 * s,
                                f + 8.0 * s,
                                Box::new(move |w| {
                                    norm * (-(w - f) * (w - f) / (2.0 * s * s)).exp()
                                }),
                            )
                        }
                    };
                    let range = if pitch_ok {
                        let start = points.partition_point(|&x| x <= lo);
                        let end = points.partition_point(|&x| x < hi);
                        start..end
                    } else {
                        0..points.len()
                    };
                    for k in range {
                        let w = weight(points[k]);
                        if w == 0.0 {
                            continue;
                        }
                        acc[k * width] += w;
                        if let Some(wp) = wp {
                            for (p, x) in wp.iter().enumerate() {
                                acc[k * width + 1 + p] += w * x;
                            }
                        }
                    }
                }
            }
            acc
        })
        .collect();
    let mut total = vec![0.0; points.len()];
    let mut projected = vec![vec![0.0; points.len()]; n_proj];
    for acc in &chunks {
        for k in 0..points.len() {
            total[k] += acc[k * width];
            for (p, pr) in projected.iter_mut().enumerate() {
                pr[k] += acc[k * width + 1 + p];
            }
        }
    }
    let inv = 1.0 / np as f64;
    total.iter_mut().for_each(|x| *x *= inv);
    projected.iter_mut().flatten().for_each(|x| *x *= inv);
    (total, projected)
}

/// DOS of a solved full mesh: total, per atom and per atom and Cartesian direction (states/THz
/// per primitive cell).
#[derive(Clone, Debug, serde::Serialize)]
pub struct DosResult {
    pub frequency_points: Vec<f64>,
    pub total_dos: Vec<f64>,
    /// [atom][point]
    pub projected_dos: Vec<Vec<f64>>,
    /// [atom][direction x,y,z][point]
    pub projected_dos_xyz: Vec<[Vec<f64>; 3]>,
}

/// `points` must be every grid point of `mesh` in index order, solved with eigenvectors.
pub fn mesh_dos<P: std::borrow::Borrow<super::phonons::PhononPoint>>(
    solved: &[P],
    mesh: &Mesh,
    reciprocal: &Mat3,
    frequency_points: &[f64],
    method: DosMethod,
) -> DosResult {
    let nb = solved
        .first()
        .map(|p| p.borrow().frequencies.len())
        .unwrap_or(0);
    let n_atoms = nb / 3;
    let freqs: Vec<f64> = solved
        .iter()
        .flat_map(|p| p.borrow().frequencies.iter().copied())
        .collect();
    let mut weights = Vec::with_capacity(freqs.len() * nb);
    for p in solved {
        let e = p
            .borrow()
            .eigenvectors
            .as_ref()
            .expect("mesh DOS needs eigenvectors");
        for j in 0..nb {
            weights.extend(e[j * nb..(j + 1) * nb].iter().map(|c| c.norm_sqr()));
        }
    }
    let (total, proj) = dos(
        mesh,
        reciprocal,
        &freqs,
        nb,
        Some((&weights, nb)),
        frequency_points,
        method,
    );
    let projected_dos_xyz: Vec<[Vec<f64>; 3]> = (0..n_atoms)
        .map(|k| std::array::from_fn(|a| proj[3 * k + a].clone()))
        .collect();
    let projected_dos = projected_dos_xyz
        .iter()
        .map(|xyz| {
            (0..frequency_points.len())
                .map(|i| xyz[0][i] + xyz[1][i] + xyz[2][i])
                .collect()
        })
        .collect();
    DosResult {
        frequency_points: frequency_points.to_vec(),
        total_dos: total,
        projected_dos,
        projected_dos_xyz,
    }
}
