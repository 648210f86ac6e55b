//! Atomic displacement parameter tensors and their crystallographic forms (physics.md §4;
//! Trueblood et al., Acta Cryst. A52, 770 (1996)):
//!
//! - U_cart (Cartesian, Å²) ↔ U_cif (CIF `_atom_site_aniso_U_ij`, basis a·a*, b·b*, c·c*):
//!   U_cart = D U_cif Dᵀ with D = A N, A the matrix with columns a, b, c (Cartesian) and
//!   N = diag(|a*|, |b*|, |c*|) (reciprocal lengths without 2π), as phonopy;
//! - U_iso = tr(U_cart)/3, B = 8π² U (per component), β^{jl} = 2π² a*_j a*_l U_cif^{jl};
//! - the thermal ellipsoid: eigenvalues U1 ≤ U2 ≤ U3 of U_cart and their axes;
//! - the Whitten–Spackman similarity S12 = 100 (1 − R12) of two tensors.

use crate::linalg::{self, Mat3};

/// D = A N: Cartesian columns of a, b, c scaled by the reciprocal lengths.
fn d_matrix(lattice: &Mat3) -> Mat3 {
    let rec = linalg::transpose(&linalg::inverse(lattice).expect("validated lattice"));
    let n: [f64; 3] = std::array::from_fn(|i| linalg::norm(&rec[i]));
    // lattice rows are a, b, c: A = latticeᵀ.
    std::array::from_fn(|r| std::array::from_fn(|c| lattice[c][r] * n[c]))
}

/// U_cif from U_cart for a cell with lattice rows `lattice` (Å).
pub fn cart_to_cif(u: &Mat3, lattice: &Mat3) -> Mat3 {
    let d_inv = linalg::inverse(&d_matrix(lattice)).expect("validated lattice");
    linalg::congruence(&d_inv, u)
}

/// U_cart from U_cif.
pub fn cif_to_cart(u: &Mat3, lattice: &Mat3) -> Mat3 {
    let d = d_matrix(lattice);
    linalg::congruence(&d, u)
}

/// U_iso = tr(U_cart)/3 (Å²).
pub fn u_iso(u_cart: &Mat3) -> f64 {
    (u_cart[0][0] + u_cart[1][1] + u_cart[2][2]) / 3.0
}

/// B = 8π² U (Å²), component by component (of U_cif for CIF's `_atom_site_aniso_B`).
pub fn u_to_b(u: &Mat3) -> Mat3 {
    u.map(|r| r.map(|x| 8.0 * std::f64::consts::PI.powi(2) * x))
}

pub fn b_to_u(b: &Mat3) -> Mat3 {
    b.map(|r| r.map(|x| x / (8.0 * std::f64::consts::PI.powi(2))))
}

/// The dimensionless β^{jl} = 2π² a*_j a*_l U_cif^{jl} (the exponent of the Debye–Waller factor
/// exp(−Σ β^{jl} h_j h_l) for Miller indices h).
pub fn cif_to_beta(u_cif: &Mat3, lattice: &Mat3) -> Mat3 {
    let rec = linalg::transpose(&linalg::inverse(lattice).expect("validated lattice"));
    let n: [f64; 3] = std::array::from_fn(|i| linalg::norm(&rec[i]));
    let tp2 = 2.0 * std::f64::consts::PI.powi(2);
    std::array::from_fn(|j| std::array::from_fn(|l| tp2 * n[j] * n[l] * u_cif[j][l]))
}

pub fn beta_to_cif(beta: &Mat3, lattice: &Mat3) -> Mat3 {
    let rec = linalg::transpose(&linalg::inverse(lattice).expect("validated lattice"));
    let n: [f64; 3] = std::array::from_fn(|i| linalg::norm(&rec[i]));
    let tp2 = 2.0 * std::f64::consts::PI.powi(2);
    std::array::from_fn(|j| std::array::from_fn(|l| beta[j][l] / (tp2 * n[j] * n[l])))
}

/// Eigenvalues (ascending) and unit eigenvectors (`axes[i]` belongs to `values[i]`) of a
/// symmetric 3×3 matrix, by cyclic Jacobi rotations (converges to machine precision in a few
/// sweeps for 3×3).
pub fn symmetric_eigen(m: &Mat3) -> ([f64; 3], [[f64; 3]; 3]) {
    let mut a = *m;
    let mut v = linalg::IDENTITY;
    for _ in 0..50 {
        let off = a[0][1].powi(2) + a[0][2].powi(2) + a[1][2].powi(2);
        let scale = a.iter().flatten().map(|x| x * x).sum::<f64>();
        if off <= 1e-30 * scale || off == 0.0 {
            break;
        }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if a[p][q] == 0.0 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let t = if theta == 0.0 { 1.0 } else { t };
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            // A ← Jᵀ A J with the rotation J in the (p, q) plane.
            for k in 0..3 {
                let (akp, akq) = (a[k][p], a[k][q]);
                a[k][p] = c * akp - s * akq;
                a[k][q] = s * akp + c * akq;
            }
            for k in 0..3 {
                let (apk, aqk) = (a[p][k], a[q][k]);
                a[p][k] = c * apk - s * aqk;
                a[q][k] = s * apk + c * aqk;
            }
            for k in 0..3 {
                let (vkp, vkq) = (v[k][p], v[k][q]);
                v[k][p] = c * vkp - s * vkq;
                v[k][q] = s * vkp + c * vkq;
            }
        }
    }
    let mut order = [0, 1, 2];
    order.sort_by(|&i, &j| a[i][i].total_cmp(&a[j][j]));
    let values = order.map(|i| a[i][i]);
    let axes = order.map(|i| [v[0][i], v[1][i], v[2][i]]);
    (values, axes)
}

/// The thermal ellipsoid of one atom: principal mean-square displacements U1 ≤ U2 ≤ U3 (Å²),
/// their Cartesian axes, and the anisotropy U3/U1.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Ellipsoid {
    pub principal_values: [f64; 3],
    pub principal_axes: [[f64; 3]; 3],
    pub anisotropy: f64,
}

pub fn ellipsoid(u_cart: &Mat3) -> Ellipsoid {
    let (values, axes) = symmetric_eigen(u_cart);
    Ellipsoid {
        principal_values: values,
        principal_axes: axes,
        anisotropy: if values[0] > 0.0 {
            values[2] / values[0]
        } else {
            f64::INFINITY
        },
    }
}

/// Whitten–Spackman similarity index S12 = 100 (1 − R12) of two positive-definite U_cart, with
/// R12 = 2^{3/2} det(U1⁻¹ U2⁻¹)^{1/4} / det(U1⁻¹ + U2⁻¹)^{1/2} (the overlap of the two Gaussian
/// densities): 0 for identical tensors. None when a tensor is not positive definite.
pub fn similarity_s12(u1: &Mat3, u2: &Mat3) -> Option<f64> {
    if symmetric_eigen(u1).0[0] <= 0.0 || symmetric_eigen(u2).0[0] <= 0.0 {
        return None;
    }
    let (i1, i2) = (linalg::inverse(u1)?, linalg::inverse(u2)?);
    let sum: Mat3 = std::array::from_fn(|r| std::array::from_fn(|c| i1[r][c] + i2[r][c]));
    let r12 = 2f64.powf(1.5) * (linalg::det(&i1) * linalg::det(&i2)).powf(0.25)
        / linalg::det(&sum).sqrt();
    Some(100.0 * (1.0 - r12))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &Mat3, b: &Mat3, tol: f64) -> bool {
        a.iter()
            .flatten()
            .zip(b.iter().flatten())
            .all(|(x, y)| (x - y).abs() <= tol)
    }

    /// A triclinic cell and a general positive-definite tensor.
    fn triclinic() -> (Mat3, Mat3) {
        let lattice = [[5.1, 0.0, 0.0], [1.3, 6.2, 0.0], [-0.8, 1.1, 7.3]];
        let u = [
            [0.012, 0.002, -0.001],
            [0.002, 0.018, 0.003],
            [-0.001, 0.003, 0.025],
        ];
        (lattice, u)
    }

    #[test]
    fn conversions_round_trip_on_a_triclinic_cell() {
        let (lattice, u) = triclinic();
        let cif = cart_to_cif(&u, &lattice);
        assert!(close(&cif_to_cart(&cif, &lattice), &u, 1e-15));
        let beta = cif_to_beta(&cif, &lattice);
        assert!(close(&beta_to_cif(&beta, &lattice), &cif, 1e-15));
        assert!(close(&b_to_u(&u_to_b(&cif)), &cif, 1e-15));
        // The trace is invariant only in Cartesian form; U_iso from U_cart.
        assert!(
            (u_iso(&cif_to_cart(&cif, &lattice)) - (0.012 + 0.018 + 0.025) / 3.0).abs() < 1e-15
        );
    }

    #[test]
    fn isotropic_tensor_is_the_same_in_cif_form_for_orthogonal_and_cubic_cells() {
        // MgO-like cubic cell: U_cif = U_cart for an isotropic tensor; also for orthorhombic.
        for lattice in [
            [[4.21, 0.0, 0.0], [0.0, 4.21, 0.0], [0.0, 0.0, 4.21]],
            [[3.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 5.0]],
        ] {
            let u = [[0.005, 0.0, 0.0], [0.0, 0.005, 0.0], [0.0, 0.0, 0.005]];
            assert!(close(&cart_to_cif(&u, &lattice), &u, 1e-16));
        }
        // Hexagonal: an isotropic U has U_cif,12 = U_11/2 (cos 60° between a and b).
        let hex = [
            [3.1, 0.0, 0.0],
            [-1.55, 1.55 * 3f64.sqrt(), 0.0],
            [0.0, 0.0, 5.0],
        ];
        let u = [[0.004, 0.0, 0.0], [0.0, 0.004, 0.0], [0.0, 0.0, 0.004]];
        let cif = cart_to_cif(&u, &hex);
        assert!((cif[0][1] - 0.002).abs() < 1e-15 && (cif[0][0] - 0.004).abs() < 1e-15);
    }

    #[test]
    fn eigen_decomposition_reconstructs_the_tensor() {
        let (_, u) = triclinic();
        let (vals, axes) = symmetric_eigen(&u);
        assert!(vals[0] <= vals[1] && vals[1] <= vals[2]);
        let rebuilt: Mat3 = std::array::from_fn(|r| {
            std::array::from_fn(|c| (0..3).map(|k| vals[k] * axes[k][r] * axes[k][c]).sum())
        });
        assert!(close(&rebuilt, &u, 1e-16));
        let e = ellipsoid(&[[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 4.0]]);
        assert_eq!(e.principal_values, [1.0, 2.0, 4.0]);
        assert_eq!(e.anisotropy, 4.0);
    }

    #[test]
    fn similarity_index() {
        let (_, u) = triclinic();
        assert!(similarity_s12(&u, &u).unwrap().abs() < 1e-12);
        // Isotropic closed form: U1 = a I, U2 = b I gives R12 = (2√(ab)/(a + b))^{3/2}.
        let (a, b): (f64, f64) = (0.01, 0.02);
        let iso = |x: f64| [[x, 0.0, 0.0], [0.0, x, 0.0], [0.0, 0.0, x]];
        let r12 = (2.0 * (a * b).sqrt() / (a + b)).powf(1.5);
        let s = similarity_s12(&iso(a), &iso(b)).unwrap();
        assert!((s - 100.0 * (1.0 - r12)).abs() < 1e-12, "{s}");
        assert!(similarity_s12(&iso(a), &iso(-b)).is_none());
    }
}
