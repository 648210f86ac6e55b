//! Direct solution of the linearized phonon Boltzmann equation (phono3py's `--lbte`, Chaput,
//! PRL 110, 265506 (2013)) for κ_P.
//!
//! Linearize n_λ = n⁰_λ + n⁰_λ(n⁰_λ+1)Ψ_λ. With x = hf/2kT, n(n+1) = 1/(4 sinh²x) and, on the
//! energy shell, n n'(n''+1) = n(n'+1)(n''+1) = 1/(8 sinh x sinh x' sinh x''). Writing the
//! three-phonon collision integral with these identities and rescaling Ψ_λ = 2 sinh x_λ · φ_λ
//! gives a symmetric operator. The deviation is odd in q (it is driven by v·∇T), so a column
//! at −q' folds onto q' with a sign; with the triplet convention q + q' + q'' = G all three
//! energy-conserving terms then enter with the same sign. In linewidth units (the diagonal is
//! the RTA Γ_λ, THz):
//!
//!   Ω_{λλ'} = δ_{λλ'} Γ_λ + Σ_{s''} K_{λλ'λ''} / sinh x'' · [δ(f−f'−f'') + δ(f+f'−f'') + δ(f−f'+f'')]
//!
//! with K as in `anharmonic::linewidth` (Γ_λ = Σ K (sinh x / 2 sinh x' sinh x'') [same three δ]).
//! The heat current then gives κ^{αβ} = U/(2N) Σ_{λλ'} Y^α_λ (Ω⁻¹)_{λλ'} Y^β_λ' with
//! Y_λ = √C_λ v_λ and U = `kappa_unit_conversion`; with Ω diagonal this is the RTA κ exactly.
//! Isotope and boundary scattering enter the diagonal only, as in phono3py.
//!
//! Symmetry: the solution F_λ ∈ ℝ³ (one component per gradient direction) obeys F_{Rq,s} = R F_{q,s},
//! so only irreducible q are unknowns. Block (i, s; j, s') = Σ_{p in star of q_j} Ω(q_i s; p s') R̄_p,
//! where R̄_p averages the Cartesian rotations taking q_j to p. Scaled by √(w_i/w_j) the system is
//! symmetric; F at q_i lies in the subspace its little group leaves invariant, so the system is
//! solved in those subspaces (where it is positive definite) by Cholesky. phono3py reaches the
//! same solution with a pseudo-inverse of the whole matrix.

use crate::anharmonic::linewidth::TripletColumns;
use crate::anharmonic::triplets::Triplets;
use crate::error::{Error, Result};
use crate::harmonic::mesh::IrreducibleMesh;
use crate::linalg::{self, Mat3, Vec3};
use faer::Mat;

/// How the grid points relate to the irreducible ones.
pub struct StarMaps {
    /// Irreducible index of each grid point's representative.
    pub ir_of: Vec<usize>,
    /// Average of the Cartesian rotations that take the representative to this grid point.
    pub rotation_to: Vec<Mat3>,
    /// Per irreducible point: orthonormal basis (columns) of the vectors its little group fixes.
    pub invariant_basis: Vec<Vec<Vec3>>,
    /// Number of reciprocal rotations (|G|, time reversal included).
    pub n_rotations: usize,
    /// Cartesian form of every reciprocal rotation.
    pub cartesian: Vec<Mat3>,
}

impl StarMaps {
    /// `rotations` act on reduced q (the κ mesh's reciprocal rotations); `cartesian` holds
    /// their Cartesian forms (`Symmetry::cartesian_reciprocal_rotation`).
    pub fn new(ir: &IrreducibleMesh, rotations: &[[[i32; 3]; 3]], cartesian: &[Mat3]) -> StarMaps {
        let mesh = &ir.mesh;
        let np = mesh.n_points();
        let mut ir_of = vec![usize::MAX; np];
        let mut sum = vec![[[0.0; 3]; 3]; np];
        let mut count = vec![0usize; np];
        let mut invariant_basis = Vec::with_capacity(ir.ir_grid_points.len());
        for (j, &gj) in ir.ir_grid_points.iter().enumerate() {
            let mut fixed = [[0.0; 3]; 3];
            let mut n_fixed = 0;
            for (r, c) in rotations.iter().zip(cartesian) {
                let p = mesh.rotate_point(r, gj);
                ir_of[p] = j;
                count[p] += 1;
                add_into(&mut sum[p], c);
                if p == gj {
                    add_into(&mut fixed, c);
                    n_fixed += 1;
                }
            }
            let projector = fixed.map(|row| row.map(|x| x / n_fixed as f64));
            invariant_basis.push(column_basis(&projector));
        }
        let rotation_to = sum
            .iter()
            .zip(&count)
            .map(|(s, &c)| s.map(|row| row.map(|x| x / c.max(1) as f64)))
            .collect();
        StarMaps {
            ir_of,
            rotation_to,
            invariant_basis,
            n_rotations: rotations.len(),
            cartesian: cartesian.to_vec(),
        }
    }
}

fn add_into(a: &mut Mat3, b: &Mat3) {
    for i in 0..3 {
        for j in 0..3 {
            a[i][j] += b[i][j];
        }
    }
}

/// Orthonormal basis of the range of a projector (Gram–Schmidt on its columns).
fn column_basis(p: &Mat3) -> Vec<Vec3> {
    let mut basis: Vec<Vec3> = Vec::new();
    for c in 0..3 {
        let mut v: Vec3 = std::array::from_fn(|r| p[r][c]);
        for b in &basis {
            let d = linalg::dot(&v, b);
            v = linalg::sub(&v, &linalg::scale(b, d));
        }
        let n = linalg::norm(&v);
        if n > 1e-6 {
            basis.push(linalg::scale(&v, 1.0 / n));
        }
    }
    basis
}

/// Off-diagonal collision rows of one irreducible point, `[T][(s·3+α)·D + (j·nb+s')·3+β]` with
/// D = 3·nb·N_ir, from the columns of its triplets.
pub fn collision_rows(
    triplets: &Triplets,
    columns: &[TripletColumns],
    maps: &StarMaps,
    nb: usize,
    nt: usize,
) -> Vec<Vec<f64>> {
    let n_ir = maps.invariant_basis.len();
    let d = 3 * nb * n_ir;
    let mut rows = vec![vec![0.0; 3 * nb * d]; nt];
    let mut value = vec![0.0; nb * nb];
    for (p, &(t, side)) in triplets.members.iter().enumerate() {
        let c = &columns[t as usize];
        let (j, rot) = (maps.ir_of[p], &maps.rotation_to[p]);
        for (it, row) in rows.iter_mut().enumerate() {
            let (a, b) = (
                &c.first[it * nb * nb..(it + 1) * nb * nb],
                &c.second[it * nb * nb..(it + 1) * nb * nb],
            );
            // q' and q'' views agree up to degenerate-band bookkeeping when p is in both orbits.
            for k in 0..nb * nb {
                value[k] = match side {
                    1 => a[k],
                    2 => b[k],
                    _ => 0.5 * (a[k] + b[k]),
                };
            }
            for s in 0..nb {
                for s1 in 0..nb {
                    let v = value[s * nb + s1];
                    if v == 0.0 {
                        continue;
                    }
                    for al in 0..3 {
                        let base = (s * 3 + al) * d + (j * nb + s1) * 3;
                        for be in 0..3 {
                            row[base + be] += v * rot[al][be];
                        }
                    }
                }
            }
        }
    }
    rows
}

/// κ from the direct solution at one temperature.
pub struct LbteSolution {
    /// W/(m·K), Voigt.
    pub kappa: [f64; 6],
    /// [q][s] Voigt, star included (sums to N·κ).
    pub mode_kappa: Vec<Vec<[f64; 6]>>,
}

/// Per-temperature inputs of the solve, all per irreducible point.
pub struct LbteInputs<'a> {
    /// Total Γ (diagonal), THz, [q][s].
    pub gamma: &'a [Vec<f64>],
    /// eV/K, [q][s].
    pub heat_capacity: &'a [Vec<f64>],
    /// Cartesian group velocities (THz·Å) at the irreducible q.
    pub velocities: &'a [Vec<Vec3>],
    pub unit: f64,
}

/// The symmetry-reduced linear system, filled row block by row block as irreducible points
/// finish (their full rows are not kept): unknowns (i, s, a) for the modes above the cutoff,
/// a over the invariant basis of q_i; one m×m matrix per temperature holding
/// √(w_i/w_j) B_iᵀ Ω_offdiag B_j. Peak memory is that matrix, factorized in place.
pub struct LbteSystem {
    maps: StarMaps,
    nb: usize,
    weights: Vec<usize>,
    /// √w_i, for the symmetrizing scale √(w_i/w_j).
    sqrt_w: Vec<f64>,
    index: Vec<(usize, usize, usize)>,
    /// First reduced unknown of mode (i, s), or usize::MAX when the mode is left out.
    first: Vec<usize>,
    matrices: Vec<std::sync::Mutex<Mat<f64>>>,
}

impl LbteSystem {
    /// `frequencies[i][s]` at the irreducible points (modes at or below `cutoff` are left out).
    pub fn new(
        maps: StarMaps,
        weights: &[usize],
        frequencies: &[&[f64]],
        cutoff: f64,
        n_temperatures: usize,
    ) -> LbteSystem {
        let nb = frequencies.first().map_or(0, |f| f.len());
        let mut index = Vec::new();
        let mut first = vec![usize::MAX; weights.len() * nb];
        for (i, f) in frequencies.iter().enumerate() {
            for s in 0..nb {
                if f[s] > cutoff {
                    first[i * nb + s] = index.len();
                    for a in 0..maps.invariant_basis[i].len() {
                        index.push((i, s, a));
                    }
                }
            }
        }
        let m = index.len();
        LbteSystem {
            maps,
            nb,
            weights: weights.to_vec(),
            sqrt_w: weights.iter().map(|&w| (w as f64).sqrt()).collect(),
            index,
            first,
            matrices: (0..n_temperatures)
                .map(|_| std::sync::Mutex::new(Mat::zeros(m, m)))
                .collect(),
        }
    }

    pub fn maps(&self) -> &StarMaps {
        &self.maps
    }

    /// Number of unknowns.
    pub fn dimension(&self) -> usize {
        self.index.len()
    }

    /// Adds the off-diagonal rows of irreducible point `i` (`collision_rows`, [T][…]).
    pub fn add_rows(&self, i: usize, rows: &[Vec<f64>]) {
        let nb = self.nb;
        let n_ir = self.weights.len();
        let d = 3 * nb * n_ir;
        let basis = &self.maps.invariant_basis;
        let mut projected = vec![0.0; d];
        for (row, matrix) in rows.iter().zip(&self.matrices) {
            let mut a = matrix.lock().expect("no panics while holding the lock");
            for s in 0..nb {
                let r0 = self.first[i * nb + s];
                if r0 == usize::MAX {
                    continue;
                }
                for (ka, bi) in basis[i].iter().enumerate() {
                    // Row (s, b_i) of the block row: Σ_α b_α row[(s,α)][…].
                    projected.fill(0.0);
                    for (al, &b) in bi.iter().enumerate() {
                        if b != 0.0 {
                            let src = &row[(s * 3 + al) * d..(s * 3 + al + 1) * d];
                            for (p, x) in projected.iter_mut().zip(src) {
                                *p += b * x;
                            }
                        }
                    }
                    for (c, &(j, s1, kb)) in self.index.iter().enumerate() {
                        let bj = &basis[j][kb];
                        let base = (j * nb + s1) * 3;
                        let v = bj[0] * projected[base]
                            + bj[1] * projected[base + 1]
                            + bj[2] * projected[base + 2];
                        a[(r0 + ka, c)] += v * self.sqrt_w[i] / self.sqrt_w[j];
                    }
                }
            }
        }
    }

    /// Solves temperature `it` and returns κ. The collision part of the matrix is consumed
    /// unless `keep` (then it is copied: one more matrix in memory while this one is solved),
    /// for a second solve with other diagonal Γ (three- then three-plus-four-phonon).
    pub fn solve(&self, it: usize, inp: &LbteInputs, keep: bool) -> Result<LbteSolution> {
        let mut a = {
            let mut stored = self.matrices[it]
                .lock()
                .expect("no panics while holding the lock");
            if keep {
                stored.clone()
            } else {
                std::mem::replace(&mut *stored, Mat::zeros(0, 0))
            }
        };
        let (nb, n_ir, m) = (self.nb, self.weights.len(), self.index.len());
        let basis = &self.maps.invariant_basis;
        let n_points: usize = self.weights.iter().sum();
        let sqrt_w = &self.sqrt_w;
        let y = |i: usize, s: usize| -> Vec3 {
            let c = inp.heat_capacity[i][s].max(0.0).sqrt();
            inp.velocities[i][s].map(|v| c * v)
        };
        // Diagonal Γ (B orthonormal: B_iᵀ Γ B_i = Γ), then the lower triangle symmetrized: the
        // halves differ only by degenerate-band bookkeeping and rounding.
        // A mode without any scattering has no off-diagonal entries either (they are built
        // from the same processes): give it a unit diagonal and no drive, so F = 0 (as the RTA).
        let unscattered = |i: usize, s: usize| inp.gamma[i][s] <= 0.0;
        for (r, &(i, s, _)) in self.index.iter().enumerate() {
            a[(r, r)] += if unscattered(i, s) {
                1.0
            } else {
                inp.gamma[i][s]
            };
        }
        for c in 0..m {
            for r in c + 1..m {
                a[(r, c)] = 0.5 * (a[(r, c)] + a[(c, r)]);
            }
        }
        let rhs = Mat::<f64>::from_fn(m, 1, |r, _| {
            let (i, s, ka) = self.index[r];
            if unscattered(i, s) {
                return 0.0;
            }
            sqrt_w[i] * linalg::dot(&basis[i][ka], &y(i, s))
        });
        let h = cholesky_solve(a, rhs)?;
        // F_{i,s} = (1/√w_i) Σ_a h_a b_a.
        let mut f = vec![vec![[0.0; 3]; nb]; n_ir];
        for (r, &(i, s, ka)) in self.index.iter().enumerate() {
            let b = &basis[i][ka];
            for al in 0..3 {
                f[i][s][al] += h[(r, 0)] * b[al] / sqrt_w[i];
            }
        }
        let mut mode_kappa = vec![vec![[0.0; 6]; nb]; n_ir];
        let mut kappa = [0.0; 6];
        for i in 0..n_ir {
            for s in 0..nb {
                let yv = y(i, s);
                let mut t = [[0.0; 3]; 3];
                // Σ over the star: (w_i/|G|) Σ_R R (Y Fᵀ) Rᵀ.
                for c in &self.maps.cartesian {
                    let ry = linalg::mat_vec(c, &yv);
                    let rf = linalg::mat_vec(c, &f[i][s]);
                    for al in 0..3 {
                        for be in 0..3 {
                            t[al][be] += ry[al] * rf[be];
                        }
                    }
                }
                let scale = 0.5 * inp.unit * self.weights[i] as f64 / self.maps.n_rotations as f64;
                let sym = |a: usize, b: usize| 0.5 * scale * (t[a][b] + t[b][a]);
                let mk = [
                    sym(0, 0),
                    sym(1, 1),
                    sym(2, 2),
                    sym(1, 2),
                    sym(0, 2),
                    sym(0, 1),
                ];
                for k in 0..6 {
                    kappa[k] += mk[k] / n_points as f64;
                }
                mode_kappa[i][s] = mk;
            }
        }
        if kappa.iter().any(|x| !x.is_finite()) {
            return Err(Error::Numerical(
                "the collision-matrix solution is not finite".into(),
            ));
        }
        Ok(LbteSolution { kappa, mode_kappa })
    }
}

/// Solves the symmetric positive-definite system whose lower triangle is in `a` (Cholesky in
/// place: no second copy of the matrix).
fn cholesky_solve(mut a: Mat<f64>, mut rhs: Mat<f64>) -> Result<Mat<f64>> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::cholesky::llt::{factor, solve};
    let m = a.nrows();
    let par = faer::get_global_parallelism();
    let mut mem = MemBuffer::new(factor::cholesky_in_place_scratch::<f64>(
        m,
        par,
        Default::default(),
    ));
    let ok = factor::cholesky_in_place(
        a.as_mut(),
        Default::default(),
        par,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .is_ok();
    if !ok {
        return Err(Error::Numerical(
            "the collision matrix is not positive definite (imaginary or unstable modes in the mesh?)".into(),
        ));
    }
    let mut mem = MemBuffer::new(solve::solve_in_place_scratch::<f64>(m, 1, par));
    solve::solve_in_place_with_conj(
        a.as_ref(),
        faer::Conj::No,
        rhs.as_mut(),
        par,
        MemStack::new(&mut mem),
    );
    Ok(rhs)
}
