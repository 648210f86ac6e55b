//! The meshes of a series: a user's list ("8 8 8; 12 12 12"), or the ladder `--auto` climbs —
//! meshes of equal q-spacing along every reciprocal axis (n_i = ⌈|b_i|/Δq⌉, so a hexagonal cell
//! with c/a = 1.6 gets 16×16×10, not 16×16×16), the spacing shrinking so that the number of
//! points grows by a fixed factor per step.

use crate::error::{Error, Result};
use crate::linalg::Mat3;

/// "8 8 8; 12 12 12; 16 16 16" → meshes, checked (three positive divisions each, no repeats).
pub fn parse_meshes(text: &str) -> Result<Vec<[usize; 3]>> {
    let mut out: Vec<[usize; 3]> = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let n: Vec<usize> = part
            .split(|c: char| c.is_whitespace() || c == ',' || c == 'x')
            .filter(|t| !t.is_empty())
            .map(|t| t.parse::<usize>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| {
                Error::input(format!(
                    "--meshes: expected three positive integers per mesh, found '{part}'"
                ))
            })?;
        let n: [usize; 3] = match n.as_slice() {
            [a, b, c] if *a > 0 && *b > 0 && *c > 0 => [*a, *b, *c],
            _ => {
                return Err(Error::input(format!(
                    "--meshes: expected three positive integers per mesh, found '{part}'"
                )));
            }
        };
        if out.contains(&n) {
            return Err(Error::input(format!("--meshes: {n:?} is listed twice")));
        }
        out.push(n);
    }
    if out.len() < 2 {
        return Err(Error::input(format!(
            "--meshes: a series needs at least two meshes, found {} in '{text}'",
            out.len()
        )));
    }
    Ok(out)
}

/// Lengths |b_i| (1/Å, no 2π) of the reciprocal basis vectors (rows of `reciprocal`).
fn reciprocal_lengths(reciprocal: &Mat3) -> [f64; 3] {
    std::array::from_fn(|i| crate::linalg::norm(&reciprocal[i]))
}

/// The mesh of q-spacing `dq` (1/Å): n_i = max(1, ⌈|b_i|/dq − 1e-9⌉).
pub fn mesh_for_spacing(reciprocal: &Mat3, dq: f64) -> [usize; 3] {
    reciprocal_lengths(reciprocal).map(|b| ((b / dq - 1e-9).ceil() as usize).max(1))
}

/// The `--auto` ladder: equal-spacing meshes from about `start_points` q-points, each with at
/// least `growth` times the points of the previous one, up to `max_points`.
pub fn auto_ladder(
    reciprocal: &Mat3,
    start_points: usize,
    growth: f64,
    max_points: usize,
) -> Result<Vec<[usize; 3]>> {
    if !(growth > 1.0 && growth.is_finite()) {
        return Err(Error::input(format!(
            "--growth: expected a factor above 1, found {growth}"
        )));
    }
    let b = reciprocal_lengths(reciprocal);
    let volume = b[0] * b[1] * b[2];
    // Spacing that puts `start_points` points on an orthogonal cell of these lengths.
    let mut dq = (volume / start_points.max(1) as f64).cbrt();
    let mut out: Vec<[usize; 3]> = Vec::new();
    let points = |n: &[usize; 3]| n[0] * n[1] * n[2];
    while out.len() < 200 {
        let n = mesh_for_spacing(reciprocal, dq);
        if points(&n) > max_points {
            break;
        }
        let enough = out
            .last()
            .is_none_or(|last| points(&n) as f64 >= growth * points(last) as f64);
        if enough
            && n.iter()
                .zip(out.last().unwrap_or(&[0; 3]))
                .all(|(a, b)| a >= b)
        {
            out.push(n);
        }
        dq /= 1.01;
    }
    if out.len() < 2 {
        return Err(Error::input(format!(
            "--auto: fewer than two meshes between {start_points} and {max_points} q-points; raise --max-q-points"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(
            parse_meshes("8 8 8; 12x12x12;").unwrap(),
            vec![[8, 8, 8], [12, 12, 12]]
        );
        assert!(parse_meshes("8 8 8").is_err());
        assert!(parse_meshes("8 8; 9 9 9").is_err());
        assert!(parse_meshes("8 8 8; 8 8 8").is_err());
        assert!(parse_meshes("0 8 8; 9 9 9").is_err());
    }

    #[test]
    fn ladder_keeps_equal_spacing_and_grows() {
        // Hexagonal a = 3.11, c = 4.98 Å: |b1| = |b2| = 2/(√3 a), |b3| = 1/c.
        let a = 3.11;
        let c = 4.98;
        let b12 = 2.0 / (3f64.sqrt() * a);
        let rec = [[b12, 0.0, 0.0], [0.0, b12, 0.0], [0.0, 0.0, 1.0 / c]];
        let ladder = auto_ladder(&rec, 200, 1.5, 20000).unwrap();
        assert!(ladder.len() >= 5, "{ladder:?}");
        for w in ladder.windows(2) {
            let p = |n: &[usize; 3]| (n[0] * n[1] * n[2]) as f64;
            assert!(p(&w[1]) >= 1.5 * p(&w[0]));
        }
        for n in &ladder {
            assert_eq!(n[0], n[1]);
            // Spacings along a* and c* agree to within one division.
            let ratio = b12 * c;
            assert!((n[0] as f64 / n[2] as f64 - ratio).abs() < ratio / n[2] as f64 + 0.05);
        }
    }
}
