//! Migration guard (physics.md §4, §9): an atom whose mean-square displacement keeps growing is
//! not vibrating about a site and has no ADP. The run is cut into segments (consecutive
//! mini-blocks); an atom's segment-mean positions remove the vibration, so their drift is the
//! migration. MSD(t) per species comes from all segment origins, and D = MSD/(6t) from a
//! straight-line fit over a window of lags.

use super::accumulate::Accumulator;
use crate::adp::temperature::fit_linear;
use crate::linalg::{self, Vec3};

/// Most segments used for MSD(t): enough time resolution, bounded cost.
const MAX_SEGMENTS: usize = 200;

#[derive(Clone, Debug, serde::Serialize)]
pub struct MigratingAtom {
    /// 0-based MD atom index.
    pub md_atom: usize,
    pub symbol: String,
    /// 0-based reference site the atom started on.
    pub site: usize,
    /// Largest distance (Å) of a segment-mean position from the first segment's.
    pub max_displacement: f64,
    /// Distance (Å) of the last segment-mean position from the first.
    pub final_displacement: f64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct SpeciesDiffusion {
    pub symbol: String,
    pub n_atoms: usize,
    /// Lag times in frames of the MD file after stride (segment length × lag).
    pub lag_frames: Vec<f64>,
    /// Lag times (fs), when the frame interval is known.
    pub lag_fs: Option<Vec<f64>>,
    /// MSD of segment-mean positions (Å²), all segment origins, all atoms of the species.
    pub msd: Vec<f64>,
    /// Fit window as lag indices [first, last] (inclusive) and in fs when known.
    pub fit_window_lags: [usize; 2],
    pub fit_window_fs: Option<[f64; 2]>,
    /// Slope/6 in Å² per frame, and in cm²/s when the frame interval is known.
    pub d_a2_per_frame: f64,
    pub d_cm2_per_s: Option<f64>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct MigrationReport {
    pub threshold_a: f64,
    pub segments: usize,
    pub frames_per_segment: f64,
    pub migrating: Vec<MigratingAtom>,
    pub diffusion: Vec<SpeciesDiffusion>,
}

/// Segment-mean positions (relative to each atom's first-frame position) of every atom:
/// `[atom][segment]`, and the frames per segment.
fn segment_means(acc: &Accumulator) -> (Vec<Vec<Vec3>>, f64) {
    let nm = acc.miniblocks();
    let ns = nm.min(MAX_SEGMENTS);
    let bounds: Vec<usize> = (0..=ns).map(|i| i * nm / ns).collect();
    let means = (0..acc.n_atoms())
        .map(|a| {
            (0..ns)
                .map(|s| {
                    let (sums, n) = acc.block_sums(a, bounds[s]..bounds[s + 1]);
                    [sums[0] / n as f64, sums[1] / n as f64, sums[2] / n as f64]
                })
                .collect()
        })
        .collect();
    (means, acc.n_frames as f64 / ns as f64)
}

/// Flags atoms whose segment-mean position moves more than `threshold` Å from where it began,
/// and fits D per species. `frame_fs`: time between used frames, when known.
pub fn migration_report(
    acc: &Accumulator,
    symbols: &[String],
    sites: &[usize],
    threshold: f64,
    frame_fs: Option<f64>,
) -> MigrationReport {
    let (means, frames_per_segment) = segment_means(acc);
    let ns = means.first().map_or(0, Vec::len);
    let mut migrating = Vec::new();
    for (a, m) in means.iter().enumerate() {
        let dist: Vec<f64> = m
            .iter()
            .map(|p| linalg::norm(&linalg::sub(p, &m[0])))
            .collect();
        let max = dist.iter().cloned().fold(0.0, f64::max);
        if max > threshold {
            migrating.push(MigratingAtom {
                md_atom: a,
                symbol: symbols[a].clone(),
                site: sites[a],
                max_displacement: max,
                final_displacement: *dist.last().unwrap_or(&0.0),
            });
        }
    }
    let mut species: Vec<String> = Vec::new();
    for s in symbols {
        if !species.contains(s) {
            species.push(s.clone());
        }
    }
    let max_lag = ns / 2;
    let diffusion = species
        .iter()
        .filter(|_| max_lag >= 2)
        .map(|sp| {
            let atoms: Vec<usize> = (0..symbols.len()).filter(|&a| &symbols[a] == sp).collect();
            let msd: Vec<f64> = (1..=max_lag)
                .map(|lag| {
                    let mut sum = 0.0;
                    let mut count = 0usize;
                    for &a in &atoms {
                        for s in 0..ns - lag {
                            let d = linalg::sub(&means[a][s + lag], &means[a][s]);
                            sum += linalg::dot(&d, &d);
                            count += 1;
                        }
                    }
                    sum / count as f64
                })
                .collect();
            let lag_frames: Vec<f64> = (1..=max_lag)
                .map(|l| l as f64 * frames_per_segment)
                .collect();
            // Fit over the middle of the lag range: past the first segments (ballistic and
            // segment-averaging effects), before the long lags with few origins.
            let first = (max_lag / 5).max(1) - 1;
            let last = max_lag - 1;
            let fit = fit_linear(&lag_frames[first..=last], &msd[first..=last]);
            let slope = fit.map_or(0.0, |f| f.slope);
            let d = slope / 6.0;
            SpeciesDiffusion {
                symbol: sp.clone(),
                n_atoms: atoms.len(),
                lag_fs: frame_fs.map(|dt| lag_frames.iter().map(|l| l * dt).collect()),
                fit_window_lags: [first + 1, last + 1],
                fit_window_fs: frame_fs.map(|dt| [lag_frames[first] * dt, lag_frames[last] * dt]),
                lag_frames,
                msd,
                d_a2_per_frame: d,
                // Å²/fs = 1e-16 cm² / 1e-15 s = 0.1 cm²/s.
                d_cm2_per_s: frame_fs.map(|dt| d / dt * 0.1),
            }
        })
        .collect();
    MigrationReport {
        threshold_a: threshold,
        segments: ns,
        frames_per_segment,
        migrating,
        diffusion,
    }
}
