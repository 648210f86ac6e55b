//! Small fixed-size linear algebra (3-vectors and 3×3 matrices) used by the structure code.
//! Matrices are row-major `[[f64; 3]; 3]`; lattices store their vectors as rows.

pub type Vec3 = [f64; 3];
pub type Mat3 = [[f64; 3]; 3];

pub const IDENTITY: Mat3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

pub fn dot(a: &Vec3, b: &Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub fn norm(a: &Vec3) -> f64 {
    dot(a, a).sqrt()
}

pub fn sub(a: &Vec3, b: &Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub fn add(a: &Vec3, b: &Vec3) -> Vec3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

pub fn scale(a: &Vec3, s: f64) -> Vec3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

pub fn cross(a: &Vec3, b: &Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// Row vector times matrix: `v · M`.
pub fn vec_mat(v: &Vec3, m: &Mat3) -> Vec3 {
    let mut r = [0.0; 3];
    for (j, rj) in r.iter_mut().enumerate() {
        *rj = v[0] * m[0][j] + v[1] * m[1][j] + v[2] * m[2][j];
    }
    r
}

/// Matrix times column vector: `M · v`.
pub fn mat_vec(m: &Mat3, v: &Vec3) -> Vec3 {
    [dot(&m[0], v), dot(&m[1], v), dot(&m[2], v)]
}

pub fn mat_mul(a: &Mat3, b: &Mat3) -> Mat3 {
    let mut r = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            r[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    r
}

/// v ⊗ v in Voigt order (xx, yy, zz, yz, xz, xy).
pub fn voigt_outer(v: &Vec3) -> [f64; 6] {
    [
        v[0] * v[0],
        v[1] * v[1],
        v[2] * v[2],
        v[1] * v[2],
        v[0] * v[2],
        v[0] * v[1],
    ]
}

/// A · M · Aᵀ: a second-rank tensor M under the linear map A (rotations of ADPs and Born
/// charges, basis changes of U).
pub fn congruence(a: &Mat3, m: &Mat3) -> Mat3 {
    mat_mul(&mat_mul(a, m), &transpose(a))
}

pub fn transpose(a: &Mat3) -> Mat3 {
    let mut r = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            r[i][j] = a[j][i];
        }
    }
    r
}

pub fn det(a: &Mat3) -> f64 {
    dot(&a[0], &cross(&a[1], &a[2]))
}

/// Inverse of a 3×3 matrix, `None` when it is singular relative to its own scale.
pub fn inverse(a: &Mat3) -> Option<Mat3> {
    let d = det(a);
    let scale: f64 = a.iter().flatten().map(|x| x.abs()).fold(0.0, f64::max);
    if !d.is_finite() || scale == 0.0 || d.abs() < 1e-12 * scale.powi(3) {
        return None;
    }
    let c0 = cross(&a[1], &a[2]);
    let c1 = cross(&a[2], &a[0]);
    let c2 = cross(&a[0], &a[1]);
    // Columns of the inverse are the cross products divided by the determinant.
    Some([
        [c0[0] / d, c1[0] / d, c2[0] / d],
        [c0[1] / d, c1[1] / d, c2[1] / d],
        [c0[2] / d, c1[2] / d, c2[2] / d],
    ])
}

pub fn to_f64(m: &[[i32; 3]; 3]) -> Mat3 {
    let mut r = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            r[i][j] = m[i][j] as f64;
        }
    }
    r
}

/// Rounds a real matrix to integers when every entry is within `tol` of one.
pub fn to_integer(m: &Mat3, tol: f64) -> Option<[[i32; 3]; 3]> {
    let mut r = [[0i32; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            let x = m[i][j].round();
            if (m[i][j] - x).abs() > tol {
                return None;
            }
            r[i][j] = x as i32;
        }
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn inverse_times_matrix_is_identity() {
        let a = [[0.0, 2.7, 2.7], [2.7, 0.0, 2.7], [2.7, 2.7, 0.0]];
        let b = mat_mul(&a, &inverse(&a).unwrap());
        for i in 0..3 {
            for j in 0..3 {
                assert!((b[i][j] - IDENTITY[i][j]).abs() < 1e-14);
            }
        }
        assert!(inverse(&[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]]).is_none());
    }
}
