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
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

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
    /// Eigen-solve fallbacks and the dimension of the solved system, for the log.
    pub dimension: usize,
}

/// Inputs of one temperature's solve, all per irreducible point.
pub struct LbteInputs<'a> {
    /// Off-diagonal rows of this temperature, one per irreducible point (`collision_rows`).
    pub rows: Vec<&'a [f64]>,
    /// Total Γ (diagonal), THz, [q][s].
    pub gamma: &'a [Vec<f64>],
    pub frequencies: &'a [Vec<f64>],
    /// eV/K, [q][s].
    pub heat_capacity: &'a [Vec<f64>],
    /// Cartesian group velocities (THz·Å) at the irreducible q.
    pub velocities: &'a [Vec<Vec3>],
    pub weights: &'a [usize],
    pub cutoff_frequency: f64,
    pub unit: f64,
}

/// Solves Ω F = Y in the symmetry-adapted subspaces and returns κ.
pub fn solve(maps: &StarMaps, inp: &LbteInputs) -> Result<LbteSolution> {
    let n_ir = inp.weights.len();
    let nb = inp.frequencies.first().map_or(0, |f| f.len());
    let d = 3 * nb * n_ir;
    let n_points: usize = inp.weights.iter().sum();
    // Reduced unknowns: (i, s, a) for active modes, a over the invariant basis of q_i.
    let mut index = Vec::new();
    for i in 0..n_ir {
        for s in 0..nb {
            let active = inp.frequencies[i][s] > inp.cutoff_frequency && inp.gamma[i][s] > 0.0;
            if active {
                for a in 0..maps.invariant_basis[i].len() {
                    index.push((i, s, a));
                }
            }
        }
    }
    let m = index.len();
    let sqrt_w: Vec<f64> = inp.weights.iter().map(|&w| (w as f64).sqrt()).collect();
    let y = |i: usize, s: usize| -> Vec3 {
        let c = inp.heat_capacity[i][s].max(0.0).sqrt();
        inp.velocities[i][s].map(|v| c * v)
    };
    // Block (i,s,α; j,s',β) of the symmetrized full matrix, diagonal included.
    let entry = |i: usize, s: usize, al: usize, j: usize, s1: usize, be: usize| -> f64 {
        let mut v = inp.rows[i][(s * 3 + al) * d + (j * nb + s1) * 3 + be];
        if i == j && s == s1 && al == be {
            v += inp.gamma[i][s];
        }
        v * sqrt_w[i] / sqrt_w[j]
    };
    let mut a = Mat::<f64>::zeros(m, m);
    for (r, &(i, s, ka)) in index.iter().enumerate() {
        let bi = &maps.invariant_basis[i][ka];
        for (c, &(j, s1, kb)) in index.iter().enumerate() {
            let bj = &maps.invariant_basis[j][kb];
            let mut v = 0.0;
            for al in 0..3 {
                if bi[al] == 0.0 {
                    continue;
                }
                for be in 0..3 {
                    if bj[be] != 0.0 {
                        v += bi[al] * entry(i, s, al, j, s1, be) * bj[be];
                    }
                }
            }
            a[(r, c)] = v;
        }
    }
    // Symmetrize: the two halves differ only by degenerate-band bookkeeping and rounding.
    for r in 0..m {
        for c in r + 1..m {
            let v = 0.5 * (a[(r, c)] + a[(c, r)]);
            a[(r, c)] = v;
            a[(c, r)] = v;
        }
    }
    let rhs = Mat::<f64>::from_fn(m, 1, |r, _| {
        let (i, s, ka) = index[r];
        sqrt_w[i] * linalg::dot(&maps.invariant_basis[i][ka], &y(i, s))
    });
    let h = match a.llt(Side::Lower) {
        Ok(llt) => llt.solve(&rhs),
        Err(_) => pseudo_inverse_solve(&a, &rhs)?,
    };
    // F_{i,s} = (1/√w_i) Σ_a h_a b_a.
    let mut f = vec![vec![[0.0; 3]; nb]; n_ir];
    for (r, &(i, s, ka)) in index.iter().enumerate() {
        let b = &maps.invariant_basis[i][ka];
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
            for c in &maps.cartesian {
                let ry = linalg::mat_vec(c, &yv);
                let rf = linalg::mat_vec(c, &f[i][s]);
                for al in 0..3 {
                    for be in 0..3 {
                        t[al][be] += ry[al] * rf[be];
                    }
                }
            }
            let scale = 0.5 * inp.unit * inp.weights[i] as f64 / maps.n_rotations as f64;
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
    Ok(LbteSolution {
        kappa,
        mode_kappa,
        dimension: m,
    })
}

/// Least-squares solve through the eigenvectors of a symmetric matrix, dropping eigenvalues
/// below 1e-10 of the largest (phono3py's pseudo-inverse, used only if Cholesky fails).
fn pseudo_inverse_solve(a: &Mat<f64>, rhs: &Mat<f64>) -> Result<Mat<f64>> {
    let evd = a
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| Error::Numerical(format!("collision matrix eigen-solve failed: {e:?}")))?;
    let (s, u) = (evd.S(), evd.U());
    let m = a.nrows();
    let max = (0..m).map(|k| s[k].abs()).fold(0.0, f64::max);
    let mut out = Mat::<f64>::zeros(m, 1);
    for k in 0..m {
        if s[k] <= 1e-10 * max {
            continue;
        }
        let proj: f64 = (0..m).map(|r| u[(r, k)] * rhs[(r, 0)]).sum::<f64>() / s[k];
        for r in 0..m {
            out[(r, 0)] += proj * u[(r, k)];
        }
    }
    Ok(out)
}
