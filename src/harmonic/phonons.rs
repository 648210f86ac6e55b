//! Solving D(q) on lists of q-points in parallel: frequencies, eigenvectors and velocities.
//! Each q is independent; rayon splits the list and the order of the results is the order of
//! the input, so results do not depend on the number of threads.

use super::dynmat::DynamicalMatrix;
use super::eigen::{Modes, solve_hermitian};
use super::velocity;
use crate::error::Result;
use crate::linalg::{Mat3, Vec3};
use indicatif::{ProgressBar, ProgressStyle};
use num_complex::Complex64 as C64;
use rayon::prelude::*;

/// What to compute at each q.
#[derive(Clone, Debug, Default)]
pub struct SolveOptions {
    pub eigenvectors: bool,
    pub group_velocities: bool,
    /// Reciprocal rotations for velocity symmetrization (empty = none).
    pub rotations: Vec<[[i32; 3]; 3]>,
    /// Direction of approach for the non-analytic term at q = 0 (reduced).
    pub q_direction: Option<Vec3>,
    pub progress: bool,
}

#[derive(Clone, Debug)]
pub struct PhononPoint {
    pub q: Vec3,
    pub frequencies: Vec<f64>,
    pub eigenvectors: Option<Vec<C64>>,
    pub group_velocities: Option<Vec<Vec3>>,
}

pub fn progress_bar(len: u64, msg: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message(msg.to_string());
    pb
}

/// Solves one q-point.
pub fn solve_point(
    dm: &DynamicalMatrix,
    q: &Vec3,
    opts: &SolveOptions,
    reciprocal: &Mat3,
) -> Result<PhononPoint> {
    let nb = dm.n_bands();
    let mut d = vec![C64::new(0.0, 0.0); nb * nb];
    let at_gamma = q.iter().all(|x| x.abs() < 1e-12);
    dm.compute(
        q,
        if at_gamma {
            opts.q_direction.as_ref()
        } else {
            None
        },
        &mut d,
    );
    let modes: Modes = solve_hermitian(&d, nb)?;
    let group_velocities = if opts.group_velocities {
        let v = velocity::group_velocities_unsymmetrized(dm, q, &modes)?;
        Some(if opts.rotations.is_empty() {
            v
        } else {
            velocity::symmetrize_velocities(&v, q, &opts.rotations, reciprocal)
        })
    } else {
        None
    };
    Ok(PhononPoint {
        q: *q,
        frequencies: modes.frequencies,
        eigenvectors: opts.eigenvectors.then_some(modes.eigenvectors),
        group_velocities,
    })
}

/// Solves many q-points in parallel, results in input order.
pub fn solve_points(
    dm: &DynamicalMatrix,
    qs: &[Vec3],
    opts: &SolveOptions,
) -> Result<Vec<PhononPoint>> {
    let rec = dm.primitive().reciprocal();
    let pb = progress_bar(qs.len() as u64, "phonons", opts.progress && qs.len() > 2000);
    let out: Result<Vec<PhononPoint>> = qs
        .par_iter()
        .map(|q| {
            let r = solve_point(dm, q, opts, &rec);
            pb.inc(1);
            r
        })
        .collect();
    pb.finish_and_clear();
    out
}
