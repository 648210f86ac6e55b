//! ADPs from an MD trajectory (physics.md §4, the ADP seed paper): by atom — the population
//! covariance of each atom's position, averaged over the atoms on one reference site
//! (translation-equivalent), then over the Wyckoff orbit with U'' = R⁻¹ U' R⁻ᵀ; by site — the
//! covariance of all displacements folded onto the site, which adds static disorder (atoms of
//! one site sitting at different mean positions). Migrating atoms are left out of both and
//! reported. Block averages over consecutive parts of the run show whether U has converged.

use super::accumulate::{Accumulator, HistogramSpec, mean_and_covariance, second_moment};
use super::histogram_fit::{GaussianFit, SplitSiteFit, fit_histogram};
use super::migration::{MigrationReport, migration_report};
use super::site_map::{Orbits, SiteMap, map_sites, orbits};
use crate::adp::tensor::u_iso;
use crate::crystal::{Cell, elements};
use crate::error::{Error, Result};
use crate::io::trajectory::Trajectory;
use crate::linalg::{self, Mat3, Vec3};
use serde::Serialize;

/// What to compute besides the plain covariances.
#[derive(Clone, Debug)]
pub struct MdAdpOptions {
    pub n_blocks: usize,
    /// Segment-mean drift (Å) beyond which an atom counts as migrating.
    pub migration_threshold: f64,
    pub histogram: HistogramSpec,
    /// Time between used frames (fs); read from the file's time stamps when it has them.
    pub frame_fs: Option<f64>,
    pub symprec: f64,
}

impl Default for MdAdpOptions {
    fn default() -> Self {
        MdAdpOptions {
            n_blocks: 10,
            migration_threshold: 1.0,
            histogram: HistogramSpec::default(),
            frame_fs: None,
            symprec: 1e-3,
        }
    }
}

/// Block averages: U from each of `n_blocks` consecutive parts of the run.
#[derive(Clone, Debug, Serialize)]
pub struct BlockReport {
    pub n_blocks: usize,
    pub frames_per_block: Vec<usize>,
    /// U_iso of every reference site in every block `[block][site]` (Å²; null for a site
    /// whose atoms all migrate).
    pub u_iso_by_site: Vec<Vec<Option<f64>>>,
    /// U_cart of every site per block `[block][site]` (translation average).
    pub u_cart_by_site: Vec<Vec<Option<Mat3>>>,
    /// Standard error of the mean over blocks (sample std / √n_blocks), per site.
    pub u_iso_std_err: Vec<Option<f64>>,
    pub u_cart_std_err: Vec<Option<Mat3>>,
    /// Mean over all sites' atoms (the whole cell), per block, and its standard error.
    pub u_iso_all_atoms: Vec<f64>,
    pub u_iso_all_atoms_std_err: f64,
}

/// The displacement histogram of one orbit along the chosen axis with its fits.
#[derive(Clone, Debug, Serialize)]
pub struct SiteHistogram {
    pub site: usize,
    pub axis: Vec3,
    pub bin_centres: Vec<f64>,
    /// Probability density (1/Å) of the displacement component.
    pub density: Vec<f64>,
    pub samples: u64,
    /// Samples outside ±half_width.
    pub outside: u64,
    pub one_gaussian: Option<GaussianFit>,
    pub split_site: Option<SplitSiteFit>,
}

#[derive(Clone, Debug, Serialize)]
pub struct OrbitAdp {
    /// Representative reference atom (0-based) and all members.
    pub representative: usize,
    pub members: Vec<usize>,
    pub symbol: String,
    /// Atoms contributing (MD atoms on the orbit, migrating ones left out).
    pub md_atoms: usize,
    /// By atom, in the representative's frame, symmetrized over the orbit (Å²).
    pub u_cart: Option<Mat3>,
    /// By site (folded positions, static disorder included).
    pub u_cart_by_site: Option<Mat3>,
    pub u_iso: Option<f64>,
    pub u_iso_by_site: Option<f64>,
}

/// Everything `latdyn md adp` reports.
#[derive(Clone, Debug, Serialize)]
pub struct MdAdps {
    pub n_frames_used: usize,
    pub frames_read: usize,
    pub n_md_atoms: usize,
    /// Mean lattice over the used frames (rows, Å).
    pub mean_lattice: Mat3,
    pub supercell_matrix: [[i32; 3]; 3],
    pub largest_start_distance: f64,
    pub origin_shift: Vec3,
    pub space_group: String,
    pub space_group_number: i32,
    pub frame_fs: Option<f64>,
    pub frames_per_miniblock: usize,
    /// Reference site of every MD atom.
    pub md_atom_site: Vec<usize>,
    /// Covariance of every MD atom (None for migrating atoms), Å².
    pub u_cart_per_md_atom: Vec<Option<Mat3>>,
    /// Per reference atom: mean over its (non-migrating) MD atoms, no symmetry applied.
    pub u_cart_by_atom_translation_average: Vec<Option<Mat3>>,
    /// Per reference atom: the orbit average rotated into the atom's own frame.
    pub u_cart_by_atom: Vec<Option<Mat3>>,
    /// Per reference atom: covariance of all folded positions (static disorder included).
    pub u_cart_by_site: Vec<Option<Mat3>>,
    /// Mean displacement of each site's atoms from the ideal site (Å), from the folded data.
    pub mean_offset_by_site: Vec<Option<Vec3>>,
    pub orbits: Vec<OrbitAdp>,
    pub blocks: BlockReport,
    pub migration: MigrationReport,
    pub histograms: Vec<SiteHistogram>,
}

/// Reads the whole trajectory once and computes all MD ADP quantities. `progress` is called
/// with the number of frames used so far.
pub fn md_adps(
    trajectory: &mut Trajectory,
    reference: &Cell,
    options: &MdAdpOptions,
    mut progress: impl FnMut(usize),
) -> Result<MdAdps> {
    let first = trajectory
        .next_frame()?
        .ok_or_else(|| Error::input("the trajectory has no frames after the discarded ones"))?;
    let masses = first
        .symbols
        .iter()
        .enumerate()
        .map(|(a, s)| {
            elements::standard_mass(s).ok_or_else(|| {
                Error::input(format!(
                    "MD atom {} has species '{s}', not an element symbol (LAMMPS dumps with numeric types need --lammps-types \"Ar Kr ...\")",
                    a + 1
                ))
            })
        })
        .collect::<Result<Vec<f64>>>()?;
    let map = map_sites(&first.lattice, &first.positions, &first.symbols, reference)?;
    let orb = orbits(reference, options.symprec)?;
    let axis_rotations: Vec<Mat3> = map.site.iter().map(|&k| orb.rotations_to[k][0]).collect();
    let symbols = first.symbols.clone();
    let mut acc = Accumulator::new(masses, &map, &axis_rotations, options.histogram.clone());
    acc.add_frame(&first)?;
    progress(1);
    while let Some(frame) = trajectory.next_frame()? {
        acc.add_frame(&frame)?;
        progress(acc.n_frames);
    }
    if acc.n_frames < 2 {
        return Err(Error::input(format!(
            "only {} frame used: a covariance needs at least 2 (check --discard/--stride)",
            acc.n_frames
        )));
    }
    let frame_fs = options.frame_fs.or_else(|| {
        let (t0, t1) = (acc.first_time_fs?, acc.last_time_fs?);
        (t1 > t0).then(|| (t1 - t0) / (acc.n_frames - 1) as f64)
    });
    finish(
        acc,
        trajectory.frames_read(),
        &symbols,
        reference,
        map,
        orb,
        options,
        frame_fs,
    )
}

#[allow(clippy::too_many_arguments)]
fn finish(
    acc: Accumulator,
    frames_read: usize,
    symbols: &[String],
    reference: &Cell,
    map: SiteMap,
    orb: Orbits,
    options: &MdAdpOptions,
    frame_fs: Option<f64>,
) -> Result<MdAdps> {
    let n = acc.n_frames;
    let n_ref = reference.n_atoms();
    let migration = migration_report(
        &acc,
        symbols,
        &map.site,
        options.migration_threshold,
        frame_fs,
    );
    let mut valid = vec![true; acc.n_atoms()];
    for m in &migration.migrating {
        valid[m.md_atom] = false;
    }
    let mean_lattice = acc.lattice_sum.map(|r| r.map(|x| x / n as f64));
    let per_atom: Vec<(Vec3, Mat3)> = acc
        .totals
        .iter()
        .map(|s| mean_and_covariance(s, n))
        .collect();
    // By atom: translation average per reference site.
    let translation = site_means(&map.site, &valid, n_ref, |a| per_atom[a].1);
    // By site: first and second moments of the displacement from the ideal site.
    let offsets: Vec<Vec3> = (0..acc.n_atoms())
        .map(|a| {
            let ideal = linalg::vec_mat(&map.ideal_fractional[a], &mean_lattice);
            linalg::sub(&acc.origin[a], &ideal)
        })
        .collect();
    let moments = |a: usize| {
        let (m, c) = (per_atom[a].0, offsets[a]);
        let mut second = second_moment(&acc.totals[a], n);
        for i in 0..3 {
            for j in 0..3 {
                second[i][j] += m[i] * c[j] + c[i] * m[j] + c[i] * c[j];
            }
        }
        Moments {
            first: linalg::add(&m, &c),
            second,
        }
    };
    let site_moments = site_means(&map.site, &valid, n_ref, moments);
    let by_site: Vec<Option<Mat3>> = site_moments
        .iter()
        .map(|m| m.as_ref().map(Moments::covariance))
        .collect();
    let mean_offset_by_site = site_moments.iter().map(|m| m.map(|m| m.first)).collect();
    // Orbit averages (by atom and by site), rotated into the representative's frame.
    let mut counts = vec![0usize; n_ref];
    for (a, &k) in map.site.iter().enumerate() {
        if valid[a] {
            counts[k] += 1;
        }
    }
    let mut orbit_reports = Vec::new();
    let mut by_atom = vec![None; n_ref];
    for (o, &rep) in orb.representatives.iter().enumerate() {
        let members: Vec<usize> = (0..n_ref).filter(|&j| orb.orbit_of[j] == o).collect();
        let u = orbit_average(&members, &orb, &counts, |j| translation[j]);
        let u_site =
            orbit_average(&members, &orb, &counts, |j| site_moments[j]).map(|m| m.covariance());
        for &j in &members {
            by_atom[j] = u.map(|u| linalg::congruence(&orb.rotations_to[j][0], &u));
        }
        orbit_reports.push(OrbitAdp {
            representative: rep,
            members: members.clone(),
            symbol: reference.symbols[rep].clone(),
            md_atoms: members.iter().map(|&j| counts[j]).sum(),
            u_cart: u,
            u_cart_by_site: u_site,
            u_iso: u.map(|u| u_iso(&u)),
            u_iso_by_site: u_site.map(|u| u_iso(&u)),
        });
    }
    let blocks = block_report(&acc, &map.site, &valid, n_ref, options.n_blocks);
    let histograms = orbit_histograms(&acc, &map.site, &valid, &orb);
    Ok(MdAdps {
        n_frames_used: n,
        frames_read,
        n_md_atoms: acc.n_atoms(),
        mean_lattice,
        supercell_matrix: map.supercell_matrix,
        largest_start_distance: map.largest_distance,
        origin_shift: map.origin_shift,
        space_group: orb.space_group.clone(),
        space_group_number: orb.space_group_number,
        frame_fs,
        frames_per_miniblock: acc.frames_per_miniblock(),
        md_atom_site: map.site.clone(),
        u_cart_per_md_atom: per_atom
            .iter()
            .zip(&valid)
            .map(|((_, u), v)| v.then_some(*u))
            .collect(),
        u_cart_by_atom_translation_average: translation,
        u_cart_by_atom: by_atom,
        u_cart_by_site: by_site,
        mean_offset_by_site,
        orbits: orbit_reports,
        blocks,
        migration,
        histograms,
    })
}

/// What is averaged over a site's atoms and then over its Wyckoff orbit: a tensor, or the
/// first and second moments of the displacement from the ideal site.
trait SiteAverage: Copy {
    const ZERO: Self;
    /// self += w · other.
    fn add_scaled(&mut self, other: &Self, w: f64);
    fn divided(&self, by: f64) -> Self;
    /// In the frame of the orbit representative, for the operation R taking it onto this
    /// atom: R⁻¹ (R orthogonal, so Rᵀ) applied to a vector, R⁻¹ U R⁻ᵀ to a tensor.
    fn to_representative(&self, r: &Mat3) -> Self;
}

impl SiteAverage for Mat3 {
    const ZERO: Mat3 = [[0.0; 3]; 3];
    fn add_scaled(&mut self, other: &Mat3, w: f64) {
        for i in 0..3 {
            for j in 0..3 {
                self[i][j] += w * other[i][j];
            }
        }
    }
    fn divided(&self, by: f64) -> Mat3 {
        self.map(|r| r.map(|x| x / by))
    }
    fn to_representative(&self, r: &Mat3) -> Mat3 {
        linalg::congruence(&linalg::transpose(r), self)
    }
}

/// E[u] and E[u uᵀ] of the displacement u from the ideal site.
#[derive(Clone, Copy)]
struct Moments {
    first: Vec3,
    second: Mat3,
}

impl Moments {
    /// E[u uᵀ] − E[u] E[u]ᵀ.
    fn covariance(&self) -> Mat3 {
        let mut c = self.second;
        for i in 0..3 {
            for j in 0..3 {
                c[i][j] -= self.first[i] * self.first[j];
            }
        }
        c
    }
}

impl SiteAverage for Moments {
    const ZERO: Moments = Moments {
        first: [0.0; 3],
        second: [[0.0; 3]; 3],
    };
    fn add_scaled(&mut self, other: &Moments, w: f64) {
        self.first = linalg::add(&self.first, &linalg::scale(&other.first, w));
        self.second.add_scaled(&other.second, w);
    }
    fn divided(&self, by: f64) -> Moments {
        Moments {
            first: self.first.map(|x| x / by),
            second: self.second.divided(by),
        }
    }
    fn to_representative(&self, r: &Mat3) -> Moments {
        Moments {
            first: linalg::mat_vec(&linalg::transpose(r), &self.first),
            second: self.second.to_representative(r),
        }
    }
}

/// Mean of `value(a)` over the valid MD atoms of every reference site; None for a site with
/// no valid atom.
fn site_means<T: SiteAverage>(
    site: &[usize],
    valid: &[bool],
    n_ref: usize,
    value: impl Fn(usize) -> T,
) -> Vec<Option<T>> {
    let mut sum = vec![T::ZERO; n_ref];
    let mut count = vec![0usize; n_ref];
    for (a, &k) in site.iter().enumerate() {
        if !valid[a] {
            continue;
        }
        sum[k].add_scaled(&value(a), 1.0);
        count[k] += 1;
    }
    sum.into_iter()
        .zip(count)
        .map(|(s, c)| (c > 0).then(|| s.divided(c as f64)))
        .collect()
}

/// Orbit average in the representative's frame: for every member j and every operation g with
/// g(rep) = j, the member's value brought back with R_g⁻¹, weighted by its atom count.
fn orbit_average<T: SiteAverage>(
    members: &[usize],
    orb: &Orbits,
    counts: &[usize],
    value: impl Fn(usize) -> Option<T>,
) -> Option<T> {
    let mut sum = T::ZERO;
    let mut weight = 0.0;
    for &j in members {
        let Some(u) = value(j) else { continue };
        let ops = &orb.rotations_to[j];
        let w = counts[j] as f64 / ops.len() as f64;
        for r in ops {
            sum.add_scaled(&u.to_representative(r), w);
        }
        weight += counts[j] as f64;
    }
    (weight > 0.0).then(|| sum.divided(weight))
}

fn block_report(
    acc: &Accumulator,
    site: &[usize],
    valid: &[bool],
    n_ref: usize,
    n_blocks: usize,
) -> BlockReport {
    let nm = acc.miniblocks();
    let nb = n_blocks.clamp(1, nm.max(1));
    let bounds: Vec<usize> = (0..=nb).map(|i| i * nm / nb).collect();
    let mut frames = Vec::new();
    let mut u_by_site = Vec::new();
    let mut u_all = Vec::new();
    let valid_atoms: Vec<usize> = (0..acc.n_atoms()).filter(|&a| valid[a]).collect();
    for b in 0..nb {
        let range = bounds[b]..bounds[b + 1];
        let per_atom: Vec<Mat3> = (0..acc.n_atoms())
            .map(|a| {
                let (s, f) = acc.block_sums(a, range.clone());
                mean_and_covariance(&s, f).1
            })
            .collect();
        frames.push(acc.miniblock_frames[range].iter().sum());
        let sites = site_means(site, valid, n_ref, |a| per_atom[a]);
        let all = valid_atoms
            .iter()
            .map(|&a| u_iso(&per_atom[a]))
            .sum::<f64>()
            / valid_atoms.len().max(1) as f64;
        u_all.push(all);
        u_by_site.push(sites);
    }
    let std_err = |v: &[f64]| -> f64 {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        if v.len() < 2 {
            return 0.0;
        }
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
            / (v.len() as f64).sqrt()
    };
    let u_iso_by_site: Vec<Vec<Option<f64>>> = u_by_site
        .iter()
        .map(|b| b.iter().map(|u| u.as_ref().map(u_iso)).collect())
        .collect();
    // A site's series exists when every block has it (all of its atoms are valid or none).
    let series = |k: usize, f: &dyn Fn(&Mat3) -> f64| -> Option<Vec<f64>> {
        u_by_site.iter().map(|b| b[k].as_ref().map(f)).collect()
    };
    let u_iso_std_err = (0..n_ref)
        .map(|k| series(k, &|u| u_iso(u)).map(|v| std_err(&v)))
        .collect();
    let u_cart_std_err = (0..n_ref)
        .map(|k| {
            let mut e = [[0.0; 3]; 3];
            for i in 0..3 {
                for j in 0..3 {
                    e[i][j] = std_err(&series(k, &|u| u[i][j])?);
                }
            }
            Some(e)
        })
        .collect();
    BlockReport {
        n_blocks: nb,
        frames_per_block: frames,
        u_iso_by_site,
        u_cart_by_site: u_by_site,
        u_iso_std_err,
        u_cart_std_err,
        u_iso_all_atoms_std_err: std_err(&u_all),
        u_iso_all_atoms: u_all,
    }
}

fn orbit_histograms(
    acc: &Accumulator,
    site: &[usize],
    valid: &[bool],
    orb: &Orbits,
) -> Vec<SiteHistogram> {
    let spec = &acc.spec;
    let width = 2.0 * spec.half_width / spec.bins as f64;
    let centres: Vec<f64> = (0..spec.bins)
        .map(|i| -spec.half_width + (i as f64 + 0.5) * width)
        .collect();
    orb.representatives
        .iter()
        .enumerate()
        .map(|(o, &rep)| {
            let mut counts = vec![0u64; spec.bins];
            let mut outside = 0u64;
            for a in (0..acc.n_atoms()).filter(|&a| valid[a] && orb.orbit_of[site[a]] == o) {
                for (c, h) in counts
                    .iter_mut()
                    .zip(&acc.hist[a * spec.bins..(a + 1) * spec.bins])
                {
                    *c += *h as u64;
                }
                outside += acc.hist_outside[a] as u64;
            }
            let samples: u64 = counts.iter().sum();
            let density = counts
                .iter()
                .map(|&c| c as f64 / (samples.max(1) as f64 * width))
                .collect();
            let fits = fit_histogram(&centres, &counts, width);
            SiteHistogram {
                site: rep,
                axis: spec.axis,
                bin_centres: centres.clone(),
                density,
                samples,
                outside,
                one_gaussian: fits.as_ref().map(|f| f.0.clone()),
                split_site: fits.map(|f| f.1),
            }
        })
        .collect()
}
