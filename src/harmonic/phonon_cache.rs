//! Phonons kept between the meshes of a convergence series: a point of a Γ-centred mesh is the
//! exact rational q = a/n, and every mesh whose divisions are multiples of the reduced
//! denominators holds it too (the 8×8×8 points are all on 16×16×16 and 24×24×24). Such points are
//! solved once. The reduced q is computed as a/n in floating point on every mesh, and IEEE
//! division of equal rationals gives the same number, so a cached solution is bit-for-bit the
//! one the later mesh would compute.

use super::dynmat::DynamicalMatrix;
use super::mesh::Mesh;
use super::phonons::{PhononPoint, SolveOptions, progress_bar, solve_point};
use crate::error::Result;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// q = (num/den) per axis, fraction reduced, of a point of a Γ-centred mesh folded into [−½, ½).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct QKey([(i64, i64); 3]);

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a.abs() } else { gcd(b, a % b) }
}

impl QKey {
    /// The key of grid point `g` of a Γ-centred mesh.
    pub fn of(mesh: &Mesh, g: usize) -> QKey {
        let a = mesh.folded_address(g);
        QKey(std::array::from_fn(|k| {
            let n = mesh.n[k] as i64;
            let d = gcd(a[k], n).max(1);
            (a[k] / d, n / d)
        }))
    }

    /// Whether this q is a point of the Γ-centred mesh `n`.
    pub fn on_mesh(&self, n: [usize; 3]) -> bool {
        (0..3).all(|k| n[k] as i64 % self.0[k].1 == 0)
    }
}

/// What a cached point was solved with; points are reused only for the same request.
#[derive(Clone, Debug, PartialEq)]
struct Request {
    eigenvectors: bool,
    group_velocities: bool,
    rotations: Vec<[[i32; 3]; 3]>,
}

/// Solved points of earlier meshes that later meshes of the series will need.
#[derive(Default)]
pub struct PhononCache {
    points: Mutex<HashMap<QKey, Arc<PhononPoint>>>,
    request: Mutex<Option<Request>>,
    /// Points taken from the cache and points solved, over the cache's life.
    reused: AtomicUsize,
    solved: AtomicUsize,
}

impl PhononCache {
    pub fn new() -> PhononCache {
        PhononCache::default()
    }

    /// Starts mesh `current` solved with `opts`: points solved with other options are dropped,
    /// and so are points on neither `current` nor any of the `later` meshes, so the cache never
    /// holds more than the meshes still to come can use.
    pub fn begin_mesh(&self, opts: &SolveOptions, current: [usize; 3], later: &[[usize; 3]]) {
        let request = Request {
            eigenvectors: opts.eigenvectors,
            group_velocities: opts.group_velocities,
            rotations: opts.rotations.clone(),
        };
        let mut r = self.request.lock().expect("cache lock");
        let mut points = self.points.lock().expect("cache lock");
        if r.as_ref() != Some(&request) {
            points.clear();
            *r = Some(request);
        }
        points.retain(|k, _| k.on_mesh(current) || later.iter().any(|n| k.on_mesh(*n)));
    }

    /// Grid point `g` of the Γ-centred `mesh` solved with `opts` (which must be those of the
    /// last `begin_mesh`), from the cache when an earlier mesh solved it; a newly solved point
    /// is kept when one of the `later` meshes holds it.
    pub fn point(
        &self,
        dm: &DynamicalMatrix,
        mesh: &Mesh,
        g: usize,
        opts: &SolveOptions,
        later: &[[usize; 3]],
    ) -> Result<Arc<PhononPoint>> {
        assert!(
            mesh.shift == [false; 3],
            "the phonon cache serves Γ-centred meshes"
        );
        let key = QKey::of(mesh, g);
        if let Some(p) = self.points.lock().expect("cache lock").get(&key) {
            self.reused.fetch_add(1, Ordering::Relaxed);
            return Ok(p.clone());
        }
        self.solved.fetch_add(1, Ordering::Relaxed);
        let p = Arc::new(solve_point(
            dm,
            &mesh.qpoint(g),
            opts,
            &dm.primitive().reciprocal(),
        )?);
        if later.iter().any(|n| key.on_mesh(*n)) {
            self.points
                .lock()
                .expect("cache lock")
                .insert(key, p.clone());
        }
        Ok(p)
    }

    /// Every point of the Γ-centred `mesh` in grid order (`begin_mesh` included).
    pub fn mesh_points(
        &self,
        dm: &DynamicalMatrix,
        mesh: &Mesh,
        opts: &SolveOptions,
        later: &[[usize; 3]],
    ) -> Result<Vec<Arc<PhononPoint>>> {
        self.begin_mesh(opts, mesh.n, later);
        let n = mesh.n_points();
        let pb = progress_bar(n as u64, "phonons", opts.progress && n > 2000);
        let out = (0..n)
            .into_par_iter()
            .map(|g| {
                pb.inc(1);
                self.point(dm, mesh, g, opts, later)
            })
            .collect::<Result<_>>();
        pb.finish_and_clear();
        out
    }

    /// (points reused, points solved) so far.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.reused.load(Ordering::Relaxed),
            self.solved.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_equal_rationals_agree() {
        let m8 = Mesh::gamma_centered([8, 8, 4]);
        let m16 = Mesh::gamma_centered([16, 16, 8]);
        // (1/8, −1/2, 1/4) on 8×8×4 is (2/16, −8/16, 2/8) on 16×16×8.
        let g8 = m8.index(&[1, 4, 1]);
        let g16 = m16.index(&[2, 8, 2]);
        assert_eq!(QKey::of(&m8, g8), QKey::of(&m16, g16));
        assert_eq!(m8.qpoint(g8), m16.qpoint(g16));
        assert!(QKey::of(&m8, g8).on_mesh([16, 16, 8]));
        assert!(!QKey::of(&m8, g8).on_mesh([12, 12, 6]));
        assert!(QKey::of(&m8, 0).on_mesh([3, 5, 7]));
    }
}
