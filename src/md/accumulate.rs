//! One pass over a trajectory, frame by frame, keeping only sums: every atom is unwrapped by
//! continuity (fractional steps reduced to the nearest image, so wrapped and unwrapped files give
//! the same path), the per-frame centre-of-mass shift of the whole cell is removed, and the
//! first and second moments of each atom's displacement are added to the run totals, to the
//! current mini-block (for block averages and MSD(t) later) and to a per-atom histogram of the
//! displacement from its ideal site along the chosen axis. Memory: O(atoms × mini-blocks),
//! independent of the number of frames.

use super::site_map::SiteMap;
use crate::error::{Error, Result};
use crate::io::trajectory::Frame;
use crate::linalg::{self, Mat3, Vec3};

/// Sums of one atom's displacement d over frames: d (3) and the upper triangle of d dᵀ (6:
/// xx yy zz yz xz xy, Voigt order).
pub type MomentSums = [f64; 9];

/// Histogram set-up: bins of the displacement component along `axis` (a unit vector in each
/// site's representative frame), over ±`half_width` Å.
#[derive(Clone, Debug)]
pub struct HistogramSpec {
    pub axis: Vec3,
    pub half_width: f64,
    pub bins: usize,
}

impl Default for HistogramSpec {
    fn default() -> Self {
        HistogramSpec {
            axis: [0.0, 0.0, 1.0],
            half_width: 1.5,
            bins: 300,
        }
    }
}

/// Bytes the mini-block store may use: 64 MiB.
const MINIBLOCK_BUDGET: usize = 64 << 20;

pub struct Accumulator {
    n_atoms: usize,
    /// Mass fraction of every atom (m/M), for the centre of mass.
    mass_fractions: Vec<f64>,
    /// Previous frame's fractional positions as read, and the unwrapped fractional path.
    prev_fractional: Vec<Vec3>,
    unwrapped: Vec<Vec3>,
    /// First frame's unwrapped Cartesian positions and centre of mass.
    pub origin: Vec<Vec3>,
    com0: Vec3,
    pub totals: Vec<MomentSums>,
    pub n_frames: usize,
    /// Mini-blocks: `miniblock_sums[b * n_atoms + a]`, `miniblock_frames[b]` frames each.
    pub miniblock_sums: Vec<MomentSums>,
    pub miniblock_frames: Vec<usize>,
    capacity: usize,
    frames_per_block: usize,
    pub spec: HistogramSpec,
    /// Per-atom projected-displacement counts, `hist[a * bins + i]`, and out-of-range counts.
    pub hist: Vec<u32>,
    pub hist_outside: Vec<u32>,
    /// Histogram axis of every atom in the Cartesian frame (R_a · axis).
    atom_axis: Vec<Vec3>,
    ideal_fractional: Vec<Vec3>,
    pub lattice_sum: Mat3,
    pub first_time_fs: Option<f64>,
    pub last_time_fs: Option<f64>,
    pub first_index: usize,
    pub last_index: usize,
}

impl Accumulator {
    /// `axis_rotations[a]` takes the representative frame of atom a's orbit to its own frame.
    pub fn new(
        masses: Vec<f64>,
        map: &SiteMap,
        axis_rotations: &[Mat3],
        spec: HistogramSpec,
    ) -> Accumulator {
        let n = masses.len();
        let total_mass: f64 = masses.iter().sum();
        let capacity = (MINIBLOCK_BUDGET / (n * std::mem::size_of::<MomentSums>()))
            .clamp(32, 1024)
            .next_power_of_two()
            .min(1024);
        let axis = spec.axis;
        Accumulator {
            n_atoms: n,
            mass_fractions: masses.iter().map(|m| m / total_mass).collect(),
            prev_fractional: Vec::new(),
            unwrapped: Vec::new(),
            origin: Vec::new(),
            com0: [0.0; 3],
            totals: vec![[0.0; 9]; n],
            n_frames: 0,
            miniblock_sums: vec![[0.0; 9]; n],
            miniblock_frames: vec![0],
            capacity,
            frames_per_block: 1,
            hist: vec![0; n * spec.bins],
            hist_outside: vec![0; n],
            atom_axis: axis_rotations
                .iter()
                .map(|r| linalg::mat_vec(r, &axis))
                .collect(),
            ideal_fractional: map.ideal_fractional.clone(),
            spec,
            lattice_sum: [[0.0; 3]; 3],
            first_time_fs: None,
            last_time_fs: None,
            first_index: 0,
            last_index: 0,
        }
    }

    pub fn n_atoms(&self) -> usize {
        self.n_atoms
    }

    /// Frames per mini-block (doubles each time the store fills up).
    pub fn frames_per_miniblock(&self) -> usize {
        self.frames_per_block
    }

    pub fn add_frame(&mut self, frame: &Frame) -> Result<()> {
        let inv = linalg::inverse(&frame.lattice)
            .ok_or_else(|| Error::input(format!("frame {}: singular cell", frame.index)))?;
        let first = self.n_frames == 0;
        if first {
            self.prev_fractional = frame
                .positions
                .iter()
                .map(|x| linalg::vec_mat(x, &inv))
                .collect();
            self.unwrapped = self.prev_fractional.clone();
            self.first_time_fs = frame.time_fs;
            self.first_index = frame.index;
        } else {
            for ((x, prev), path) in frame
                .positions
                .iter()
                .zip(self.prev_fractional.iter_mut())
                .zip(self.unwrapped.iter_mut())
            {
                let s = linalg::vec_mat(x, &inv);
                for d in 0..3 {
                    let step = s[d] - prev[d];
                    path[d] += step - step.round();
                }
                *prev = s;
            }
        }
        self.last_time_fs = frame.time_fs;
        self.last_index = frame.index;
        let cart: Vec<Vec3> = self
            .unwrapped
            .iter()
            .map(|s| linalg::vec_mat(s, &frame.lattice))
            .collect();
        let mut com = [0.0; 3];
        for (x, w) in cart.iter().zip(&self.mass_fractions) {
            com = linalg::add(&com, &linalg::scale(x, *w));
        }
        if first {
            self.origin = cart.clone();
            self.com0 = com;
        }
        let drift = linalg::sub(&com, &self.com0);
        let block = self.miniblock_frames.len() - 1;
        let bins = self.spec.bins;
        let width = 2.0 * self.spec.half_width / bins as f64;
        for a in 0..self.n_atoms {
            let x = linalg::sub(&cart[a], &drift);
            let d = linalg::sub(&x, &self.origin[a]);
            let dd = linalg::voigt_outer(&d);
            let sums = [d[0], d[1], d[2], dd[0], dd[1], dd[2], dd[3], dd[4], dd[5]];
            for (t, s) in self.totals[a].iter_mut().zip(&sums) {
                *t += s;
            }
            for (t, s) in self.miniblock_sums[block * self.n_atoms + a]
                .iter_mut()
                .zip(&sums)
            {
                *t += s;
            }
            // Displacement from the ideal site, projected on the atom's histogram axis.
            let ideal = linalg::vec_mat(&self.ideal_fractional[a], &frame.lattice);
            let u = linalg::sub(&x, &ideal);
            let along = linalg::dot(&u, &self.atom_axis[a]);
            let bin = ((along + self.spec.half_width) / width).floor();
            if bin >= 0.0 && bin < bins as f64 {
                self.hist[a * bins + bin as usize] += 1;
            } else {
                self.hist_outside[a] += 1;
            }
        }
        for (l, r) in self.lattice_sum.iter_mut().zip(&frame.lattice) {
            for (x, y) in l.iter_mut().zip(r) {
                *x += y;
            }
        }
        self.n_frames += 1;
        self.miniblock_frames[block] += 1;
        if self.miniblock_frames[block] == self.frames_per_block {
            self.open_miniblock();
        }
        Ok(())
    }

    /// Starts the next mini-block; when the store is full, neighbours are merged pairwise and
    /// the block length doubles (so blocks stay equal in length and the store stays bounded).
    fn open_miniblock(&mut self) {
        let n = self.n_atoms;
        if self.miniblock_frames.len() == self.capacity {
            let half = self.capacity / 2;
            for b in 0..half {
                for a in 0..n {
                    let (x, y) = (
                        self.miniblock_sums[2 * b * n + a],
                        self.miniblock_sums[(2 * b + 1) * n + a],
                    );
                    let mut s = [0.0; 9];
                    for k in 0..9 {
                        s[k] = x[k] + y[k];
                    }
                    self.miniblock_sums[b * n + a] = s;
                }
                self.miniblock_frames[b] =
                    self.miniblock_frames[2 * b] + self.miniblock_frames[2 * b + 1];
            }
            self.miniblock_sums.truncate(half * n);
            self.miniblock_frames.truncate(half);
            self.frames_per_block *= 2;
        }
        self.miniblock_sums.extend(std::iter::repeat_n([0.0; 9], n));
        self.miniblock_frames.push(0);
    }

    /// Completed and partial mini-blocks (empty trailing block dropped).
    pub fn miniblocks(&self) -> usize {
        let n = self.miniblock_frames.len();
        if self.miniblock_frames[n - 1] == 0 {
            n - 1
        } else {
            n
        }
    }

    /// Sums of atom `a` over mini-blocks `range`, and the frames they hold.
    pub fn block_sums(&self, a: usize, range: std::ops::Range<usize>) -> (MomentSums, usize) {
        let mut s = [0.0; 9];
        let mut frames = 0;
        for b in range {
            for (x, y) in s.iter_mut().zip(&self.miniblock_sums[b * self.n_atoms + a]) {
                *x += y;
            }
            frames += self.miniblock_frames[b];
        }
        (s, frames)
    }
}

/// Mean displacement and population covariance (1/N) from moment sums over `n` frames.
pub fn mean_and_covariance(s: &MomentSums, n: usize) -> (Vec3, Mat3) {
    let nf = n as f64;
    let m = [s[0] / nf, s[1] / nf, s[2] / nf];
    let e = |v: f64| v / nf;
    let c = [
        [
            e(s[3]) - m[0] * m[0],
            e(s[8]) - m[0] * m[1],
            e(s[7]) - m[0] * m[2],
        ],
        [
            e(s[8]) - m[1] * m[0],
            e(s[4]) - m[1] * m[1],
            e(s[6]) - m[1] * m[2],
        ],
        [
            e(s[7]) - m[2] * m[0],
            e(s[6]) - m[2] * m[1],
            e(s[5]) - m[2] * m[2],
        ],
    ];
    (m, c)
}

/// Second moment E[d dᵀ] from sums over `n` frames.
pub fn second_moment(s: &MomentSums, n: usize) -> Mat3 {
    let nf = n as f64;
    [
        [s[3] / nf, s[8] / nf, s[7] / nf],
        [s[8] / nf, s[4] / nf, s[6] / nf],
        [s[7] / nf, s[6] / nf, s[5] / nf],
    ]
}
