//! The conductivity job behind `latdyn kappa`: phonons on the whole Γ-centred mesh, three-phonon
//! linewidths at every irreducible q, then κ_P (RTA) and, on request, the Wigner κ_P and κ_C.

use super::{lbte, rta, wigner};
use crate::anharmonic::four_phonon::FourPhononAtQ;
use crate::anharmonic::interaction::Fc3Fourier;
use crate::anharmonic::linewidth::{
    DeltaMethod, GammaParts, LinewidthOptions, MeshPhonons, scattering_for_deltas,
};
use crate::crystal::symmetry::Symmetry;
use crate::error::{Error, Result};
use crate::fc::fc3::Fc3;
use crate::harmonic::bz_grid::BzGrid;
use crate::harmonic::dos::tetrahedra;
use crate::harmonic::dynmat::DynamicalMatrix;
use crate::harmonic::eigen::{average_over_sets, degenerate_sets};
use crate::harmonic::mesh::{IrreducibleMesh, Mesh};
use crate::harmonic::phonon_cache::PhononCache;
use crate::harmonic::phonons::{SolveOptions, progress_bar, solve_point, solve_points};
use crate::harmonic::thermo::mode_heat_capacity;
use crate::harmonic::velocity::velocity_operator;
use crate::linalg::Vec3;
use crate::units::DEGENERACY_TOL_THZ;
use rayon::prelude::*;

#[derive(Clone, Debug)]
pub struct KappaOptions {
    pub mesh: [usize; 3],
    pub temperatures: Vec<f64>,
    pub delta: DeltaMethod,
    pub cutoff_frequency: f64,
    pub wigner: bool,
    pub progress: bool,
    /// Folder for per-q linewidth files (resume and job splitting), with the settings key.
    pub checkpoint: Option<(std::path::PathBuf, serde_json::Value)>,
    /// Compute only irreducible points [start, end) (0-based, in irreducible order).
    pub q_range: Option<(usize, usize)>,
    /// Isotope scattering with these mass variances per primitive atom.
    pub isotope: Option<Vec<f64>>,
    /// Boundary scattering with this mean free path (µm, phono3py's `--bmfp`).
    pub boundary_mfp: Option<f64>,
    /// Also solve the linearized BTE directly (collision matrix) for κ_P.
    pub lbte: bool,
    /// Add four-phonon scattering (Matthiessen) to every mode.
    pub four_phonon: Option<super::four_phonon_job::FourPhononSettings>,
}

impl KappaOptions {
    /// A run on `mesh` at `temperatures` with the defaults: tetrahedron method, cutoff
    /// 0.01 THz (phono3py's), RTA only, no isotopes, no progress bar, no checkpoint files.
    pub fn new(mesh: [usize; 3], temperatures: Vec<f64>) -> KappaOptions {
        KappaOptions {
            mesh,
            temperatures,
            delta: DeltaMethod::Tetrahedron,
            cutoff_frequency: 0.01,
            wigner: false,
            progress: false,
            checkpoint: None,
            q_range: None,
            isotope: None,
            boundary_mfp: None,
            lbte: false,
            four_phonon: None,
        }
    }
}

/// A κ run: complete, or (with `q_range` or missing files) only some linewidths done.
#[derive(Debug)]
pub enum KappaRun {
    Complete(Box<KappaResult>),
    Partial { done: usize, total: usize },
}

/// Everything a κ run produces, per irreducible q (phono3py's kappa file content).
#[derive(Clone, Debug)]
pub struct KappaResult {
    pub mesh: [usize; 3],
    pub temperatures: Vec<f64>,
    pub qpoints: Vec<Vec3>,
    pub weights: Vec<usize>,
    /// [q][s] THz.
    pub frequencies: Vec<Vec<f64>>,
    /// [q][s] THz·Å (Cartesian, at the irreducible q).
    pub group_velocities: Vec<Vec<Vec3>>,
    /// [q][s] Voigt, star sum of v⊗v.
    pub gv_by_gv: Vec<Vec<[f64; 6]>>,
    /// [T][q][s] eV/K.
    pub heat_capacity: Vec<Vec<Vec<f64>>>,
    /// [T][q][s] THz, three-phonon (degenerate modes averaged).
    pub gamma: Vec<Vec<Vec<f64>>>,
    /// [q][s] THz, isotope scattering, when asked for.
    pub gamma_isotope: Option<Vec<Vec<f64>>>,
    /// Per irreducible q: Γ by process class and the weighted phase space (each [T][s]);
    /// absent when Γ was read from a file.
    pub gamma_parts: Option<Vec<GammaParts>>,
    /// phono3py's BZ-grid index of each irreducible point (its `grid_point`).
    pub grid_points: Vec<usize>,
    /// [T][6] and [T][q][s][6], W/(m·K).
    pub kappa: Vec<[f64; 6]>,
    pub mode_kappa: Vec<Vec<Vec<[f64; 6]>>>,
    /// Wigner: κ_P with the velocity operator (degenerate pairs included) and κ_C.
    pub wigner: Option<WignerKappa>,
    /// κ_P from the direct solution of the linearized BTE, when asked for.
    pub lbte: Option<LbteKappa>,
    /// Boundary mean free path (µm) used, if any.
    pub boundary_mfp: Option<f64>,
    pub kappa_unit_conversion: f64,
    /// Four-phonon Γ and the three-phonon-only κ, when four-phonon scattering was added (then
    /// `kappa`, `mode_kappa`, `wigner` hold 3+4-phonon values and `gamma` the 3-phonon Γ).
    pub four_phonon: Option<Box<super::four_phonon_job::FourPhononResult>>,
}

/// κ_P from the collision matrix: [T][6] and per mode [T][q][s][6] (W/(m·K)).
#[derive(Clone, Debug)]
pub struct LbteKappa {
    pub kappa: Vec<[f64; 6]>,
    pub mode_kappa: Vec<Vec<Vec<[f64; 6]>>>,
    /// Size of the solved (symmetry-reduced) linear system.
    pub dimension: usize,
}

impl KappaResult {
    /// κ_P and κ_C of the run, [T][6]: κ_P from the LBTE when solved, else the Wigner κ_P,
    /// else the RTA κ; κ_C from the Wigner run, else zeros.
    pub fn particle_and_coherence(&self) -> (Vec<[f64; 6]>, Vec<[f64; 6]>) {
        let zeros = vec![[0.0; 6]; self.temperatures.len()];
        let (p, c) = match &self.wigner {
            Some(w) => (w.kappa_p.clone(), w.kappa_c.clone()),
            None => (self.kappa.clone(), zeros),
        };
        match &self.lbte {
            Some(l) => (l.kappa.clone(), c),
            None => (p, c),
        }
    }

    /// κ_P + κ_C, [T][6].
    pub fn total(&self) -> Vec<[f64; 6]> {
        let (p, c) = self.particle_and_coherence();
        p.iter()
            .zip(&c)
            .map(|(p, c)| std::array::from_fn(|k| p[k] + c[k]))
            .collect()
    }
}

#[derive(Clone, Debug)]
pub struct WignerKappa {
    pub kappa_p: Vec<[f64; 6]>,
    pub kappa_c: Vec<[f64; 6]>,
    pub mode_kappa_p: Vec<Vec<Vec<[f64; 6]>>>,
    /// [T][q][s][s'][6]
    pub mode_kappa_c: Vec<Vec<Vec<Vec<[f64; 6]>>>>,
}

/// Phonons (frequencies and eigenvectors, and symmetrized group velocities when `rotations` is
/// given) at every point of the mesh.
pub fn mesh_phonons(
    dm: &DynamicalMatrix,
    mesh: &Mesh,
    progress: bool,
    rotations: Option<&[[[i32; 3]; 3]]>,
) -> Result<MeshPhonons> {
    mesh_phonons_cached(dm, mesh, progress, rotations, None)
}

/// A phonon cache shared by the meshes of a series, with the meshes still to come.
pub type SeriesCache<'a> = (&'a PhononCache, &'a [[usize; 3]]);

/// As `mesh_phonons`, taking the points an earlier mesh of a series solved from `cache` and
/// keeping those the later meshes need (the results are the same bits either way).
pub fn mesh_phonons_cached(
    dm: &DynamicalMatrix,
    mesh: &Mesh,
    progress: bool,
    rotations: Option<&[[[i32; 3]; 3]]>,
    cache: Option<SeriesCache>,
) -> Result<MeshPhonons> {
    let qpoints = mesh.all_qpoints();
    let opts = SolveOptions {
        eigenvectors: true,
        group_velocities: rotations.is_some(),
        rotations: rotations.map(|r| r.to_vec()).unwrap_or_default(),
        progress,
        ..Default::default()
    };
    let solved: Vec<std::sync::Arc<crate::harmonic::phonons::PhononPoint>> = match cache {
        Some((c, later)) => c.mesh_points(dm, mesh, &opts, later)?,
        None => solve_points(dm, &qpoints, &opts)?
            .into_iter()
            .map(std::sync::Arc::new)
            .collect(),
    };
    let rec = dm.primitive().reciprocal();
    let nb = dm.n_bands();
    let n = solved.len();
    let mut frequencies = Vec::with_capacity(n * nb);
    let mut velocities = Vec::with_capacity(if rotations.is_some() { n * nb } else { 0 });
    let mut eigenvectors = Vec::with_capacity(n * nb * nb);
    for p in solved {
        // Moved out when this is the only holder (no cache); copied when the cache keeps it.
        let p = std::sync::Arc::unwrap_or_clone(p);
        frequencies.extend(p.frequencies);
        velocities.extend(p.group_velocities.unwrap_or_default());
        eigenvectors.extend(p.eigenvectors.expect("requested"));
    }
    Ok(MeshPhonons {
        mesh: mesh.clone(),
        qpoints,
        nb,
        frequencies,
        velocities,
        eigenvectors,
        reciprocal_2pi: rec.map(|r| r.map(|x| std::f64::consts::TAU * x)),
        bz: BzGrid::new(mesh, &rec),
    })
}

/// Γ[T][s] at one irreducible grid point, averaged over degenerate modes (as phono3py reports).
pub fn gamma_at(
    g0: usize,
    ph: &MeshPhonons,
    fc3: &Fc3Fourier,
    rotations: &[[[i32; 3]; 3]],
    opts: &LinewidthOptions,
    reciprocal: &crate::linalg::Mat3,
) -> Vec<Vec<f64>> {
    point_scattering(g0, ph, fc3, rotations, opts, reciprocal, None).gamma
}

/// What one irreducible point contributes: Γ[T][s], its split by process and, for the LBTE,
/// its collision rows [T][…].
pub struct PointScattering {
    pub gamma: Vec<Vec<f64>>,
    pub parts: GammaParts,
    pub rows: Option<Vec<Vec<f64>>>,
}

/// Γ at `g0` (degenerate modes averaged) and, when `maps` is given, its collision-matrix rows.
pub fn point_scattering(
    g0: usize,
    ph: &MeshPhonons,
    fc3: &Fc3Fourier,
    rotations: &[[[i32; 3]; 3]],
    opts: &LinewidthOptions,
    reciprocal: &crate::linalg::Mat3,
    maps: Option<&lbte::StarMaps>,
) -> PointScattering {
    point_scattering_deltas(
        g0,
        ph,
        fc3,
        rotations,
        opts,
        reciprocal,
        maps,
        &[opts.delta],
    )
    .pop()
    .expect("one δ method in, one result out")
}

/// As `point_scattering` for several δ methods sharing the interaction strengths
/// (`linewidth::scattering_for_deltas`), one result per method.
#[allow(clippy::too_many_arguments)]
pub fn point_scattering_deltas(
    g0: usize,
    ph: &MeshPhonons,
    fc3: &Fc3Fourier,
    rotations: &[[[i32; 3]; 3]],
    opts: &LinewidthOptions,
    reciprocal: &crate::linalg::Mat3,
    maps: Option<&lbte::StarMaps>,
    deltas: &[DeltaMethod],
) -> Vec<PointScattering> {
    let tets = tetrahedra(&ph.mesh, reciprocal);
    let opts = LinewidthOptions {
        collisions: maps.is_some(),
        ..opts.clone()
    };
    scattering_for_deltas(g0, ph, fc3, rotations, &tets, &opts, deltas)
        .into_iter()
        .map(|sc| {
            let (mut g, mut parts) = (sc.gamma, sc.parts);
            let sets = degenerate_sets(ph.freqs(g0), DEGENERACY_TOL_THZ);
            let tables = std::iter::once(&mut g).chain(parts.tables_mut());
            for row in tables.flat_map(|t| t.iter_mut()) {
                average_over_sets(row, &sets);
            }
            let rows = match (maps, sc.columns) {
                (Some(m), Some((triplets, cols))) => Some(lbte::collision_rows(
                    &triplets,
                    &cols,
                    m,
                    ph.nb,
                    opts.temperatures.len(),
                )),
                _ => None,
            };
            PointScattering {
                gamma: g,
                parts,
                rows,
            }
        })
        .collect()
}

/// Runs to completion (no q-range); the common case for library users and tests.
pub fn run_kappa(dm: &DynamicalMatrix, fc3: &Fc3, opts: &KappaOptions) -> Result<KappaResult> {
    match run_kappa_parts(dm, fc3, opts)? {
        KappaRun::Complete(r) => Ok(*r),
        KappaRun::Partial { done, total } => Err(Error::input(format!(
            "only {done} of {total} irreducible q-points have linewidths"
        ))),
    }
}

pub fn run_kappa_parts(dm: &DynamicalMatrix, fc3: &Fc3, opts: &KappaOptions) -> Result<KappaRun> {
    run_kappa_parts_on(dm, fc3, &kappa_mesh(dm.primitive(), opts.mesh)?, opts)
}

/// As `run_kappa_parts`, on a mesh whose symmetry reduction the caller already has (`km` must
/// be `kappa_mesh(primitive, opts.mesh)`).
pub fn run_kappa_parts_on(
    dm: &DynamicalMatrix,
    fc3: &Fc3,
    km: &KappaMesh,
    opts: &KappaOptions,
) -> Result<KappaRun> {
    run_kappa_with(dm, &Fc3Fourier::new(dm.primitive(), fc3), km, opts)
}

/// As `run_kappa_parts_on` with the fc3 already rearranged for Fourier sums: a caller that
/// drops its `Fc3` first saves that copy (≈ 260 B per term; 28 MB for AlN's 108 244 terms).
pub fn run_kappa_with(
    dm: &DynamicalMatrix,
    fourier: &Fc3Fourier,
    km: &KappaMesh,
    opts: &KappaOptions,
) -> Result<KappaRun> {
    let one = DeltaRun {
        delta: opts.delta,
        checkpoint: opts.checkpoint.clone(),
    };
    Ok(run_kappa_deltas(dm, fourier, km, opts, &[one], None)?
        .pop()
        .expect("one δ method in, one run out"))
}

/// One δ method of a multi-method run, with its own checkpoint folder and settings key.
#[derive(Clone, Debug)]
pub struct DeltaRun {
    pub delta: DeltaMethod,
    pub checkpoint: Option<(std::path::PathBuf, serde_json::Value)>,
}

/// The κ run of `opts` for each of several δ methods at once (`opts.delta` and
/// `opts.checkpoint` are replaced by each `DeltaRun`'s): the phonons, triplets and interaction
/// strengths are shared, and each result is the one a run with that method alone gives, to the
/// bit. With `cache`, mesh points solved for an earlier mesh of a series are reused.
pub fn run_kappa_deltas(
    dm: &DynamicalMatrix,
    fourier: &Fc3Fourier,
    km: &KappaMesh,
    opts: &KappaOptions,
    runs: &[DeltaRun],
    cache: Option<SeriesCache>,
) -> Result<Vec<KappaRun>> {
    let prim = dm.primitive();
    let KappaMesh {
        rotations,
        mesh,
        ir,
        cart,
        ..
    } = km;
    let deltas: Vec<DeltaMethod> = runs.iter().map(|r| r.delta).collect();
    let ph = mesh_phonons_cached(
        dm,
        mesh,
        opts.progress,
        (deltas.iter().any(|d| d.needs_velocities()) || opts.four_phonon.is_some())
            .then_some(&rotations[..]),
        cache,
    )?;
    let lw = LinewidthOptions {
        temperatures: opts.temperatures.clone(),
        cutoff_frequency: opts.cutoff_frequency,
        delta: deltas[0],
        collisions: false,
    };
    let nd = runs.len();
    let systems: Vec<Option<lbte::LbteSystem>> = (0..nd)
        .map(|_| {
            opts.lbte.then(|| {
                let freqs: Vec<&[f64]> = ir.ir_grid_points.iter().map(|&g| ph.freqs(g)).collect();
                lbte::LbteSystem::new(
                    lbte::StarMaps::new(ir, rotations, cart),
                    &ir.weights,
                    &freqs,
                    opts.cutoff_frequency,
                    opts.temperatures.len(),
                )
            })
        })
        .collect();
    let rec = prim.reciprocal();
    let n_ir = ir.ir_grid_points.len();
    let (start, end) = q_range(opts, n_ir)?;
    let checkpoints: Vec<Option<super::checkpoint::Checkpoint>> = runs
        .iter()
        .map(|r| {
            r.checkpoint
                .as_ref()
                .map(|(dir, key)| super::checkpoint::Checkpoint::new(dir, key.clone()))
                .transpose()
        })
        .collect::<Result<_>>()?;
    let (nt, nb) = (opts.temperatures.len(), dm.n_bands());
    let pb = progress_bar((end - start) as u64, "linewidths", opts.progress);
    // Irreducible points run concurrently (each also splits its triplets over threads): the
    // serial steps of one point overlap with the work of others. Each Γ is deterministic, and
    // collect() keeps the irreducible order.
    let row_len = 9 * nb * nb * n_ir;
    let points: Vec<Vec<Option<PointScattering>>> = ir
        .ir_grid_points
        .par_iter()
        .enumerate()
        .map(|(iq, &g0)| -> Result<Vec<Option<PointScattering>>> {
            let mut stored: Vec<Option<PointScattering>> = checkpoints
                .iter()
                .map(|c| match c {
                    Some(c) => c.load(iq, g0, nt, nb, opts.lbte.then_some(row_len)),
                    None => Ok(None),
                })
                .collect::<Result<_>>()?;
            let missing: Vec<usize> = (0..nd).filter(|&d| stored[d].is_none()).collect();
            if !missing.is_empty() && iq >= start && iq < end {
                let maps = systems[0].as_ref().map(|s| s.maps());
                let todo: Vec<DeltaMethod> = missing.iter().map(|&d| deltas[d]).collect();
                let computed =
                    point_scattering_deltas(g0, &ph, fourier, rotations, &lw, &rec, maps, &todo);
                for (&d, p) in missing.iter().zip(computed) {
                    if let Some(c) = &checkpoints[d] {
                        c.save(iq, g0, &p)?;
                    }
                    stored[d] = Some(p);
                }
                pb.inc(1);
            }
            // The rows go straight into the reduced system; only that is kept.
            for (p, sys) in stored.iter_mut().zip(&systems) {
                if let (Some(sys), Some(rows)) = (sys, p.as_mut().and_then(|p| p.rows.take())) {
                    sys.add_rows(iq, &rows);
                }
            }
            Ok(stored)
        })
        .collect::<Result<_>>()?;
    pb.finish_and_clear();
    let four = four_phonon_rates(&ph, ir, opts, (start, end))?;
    let four_done = four
        .as_ref()
        .map_or(n_ir, |f| f.iter().filter(|p| p.is_some()).count());
    let mut per_delta: Vec<Vec<Option<PointScattering>>> =
        (0..nd).map(|_| Vec::with_capacity(n_ir)).collect();
    for point in points {
        for (d, p) in point.into_iter().enumerate() {
            per_delta[d].push(p);
        }
    }
    per_delta
        .into_iter()
        .zip(systems)
        .zip(&deltas)
        .map(|((points, system), &delta)| {
            let done = points.iter().filter(|g| g.is_some()).count().min(four_done);
            if done < n_ir {
                return Ok(KappaRun::Partial { done, total: n_ir });
            }
            let (gamma_q, parts): (Vec<_>, Vec<_>) = points
                .into_iter()
                .map(|p| {
                    let p = p.expect("all present");
                    (p.gamma, p.parts)
                })
                .unzip();
            let opts = KappaOptions {
                delta,
                ..opts.clone()
            };
            let gamma_iso = opts
                .isotope
                .as_ref()
                .map(|g| isotope_gammas(ir, &ph, g, &opts, &rec));
            let mut res = match &four {
                None => assemble_with(dm, km, gamma_q, gamma_iso, system.as_ref(), false, &opts)?,
                Some(f) => {
                    let f: Vec<&FourPhononAtQ> =
                        f.iter().map(|p| p.as_ref().expect("all present")).collect();
                    with_four_phonon(dm, km, gamma_q, gamma_iso, &f, system.as_ref(), &opts)?
                }
            };
            res.gamma_parts = Some(parts);
            Ok(KappaRun::Complete(Box::new(res)))
        })
        .collect()
}

/// Γ_4ph at the irreducible points of `ir` in `range` (the others read from the resume files
/// when there, else None), or None without four-phonon settings.
fn four_phonon_rates(
    ph: &MeshPhonons,
    ir: &IrreducibleMesh,
    opts: &KappaOptions,
    range: (usize, usize),
) -> Result<Option<Vec<Option<FourPhononAtQ>>>> {
    opts.four_phonon
        .as_ref()
        .map(|s| {
            super::four_phonon_job::four_phonon_points(
                ph,
                &ir.ir_grid_points,
                s,
                &opts.temperatures,
                opts.cutoff_frequency,
                range,
                opts.checkpoint.as_ref(),
                opts.progress,
            )
        })
        .transpose()
}

/// The irreducible points to compute: `opts.q_range`, checked against the mesh, or all.
fn q_range(opts: &KappaOptions, n_ir: usize) -> Result<(usize, usize)> {
    let (start, end) = opts.q_range.unwrap_or((0, n_ir));
    if start >= end || end > n_ir {
        return Err(Error::input(format!(
            "--q-range {start}:{end}: the mesh has {n_ir} irreducible q-points (valid: 0 ≤ start < end ≤ {n_ir})"
        )));
    }
    Ok((start, end))
}

/// κ with three- plus four-phonon Γ (Matthiessen), keeping the three-phonon Γ in `gamma` and
/// the three-phonon-only κ_P, κ_C in `four_phonon`. With the LBTE, Γ_4ph enters the diagonal of
/// the three-phonon collision matrix (as a relaxation-time term, as FourPhonon's iterative
/// solution takes it); the matrix is kept after the three-phonon-only solve for the second.
fn with_four_phonon(
    dm: &DynamicalMatrix,
    km: &KappaMesh,
    gamma_q: Vec<Vec<Vec<f64>>>,
    gamma_iso: Option<Vec<Vec<f64>>>,
    four: &[&FourPhononAtQ],
    system: Option<&lbte::LbteSystem>,
    opts: &KappaOptions,
) -> Result<KappaResult> {
    let settings = opts.four_phonon.as_ref().expect("four-phonon run");
    let three = assemble_with(
        dm,
        km,
        gamma_q.clone(),
        gamma_iso.clone(),
        system,
        true,
        opts,
    )?;
    let total: Vec<Vec<Vec<f64>>> = gamma_q
        .iter()
        .zip(four)
        .map(|(g3, f)| {
            let g4 = f.total();
            g3.iter()
                .zip(&g4)
                .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x + y).collect())
                .collect()
        })
        .collect();
    let mut res = assemble_with(
        dm,
        km,
        total.clone(),
        gamma_iso.clone(),
        system,
        false,
        opts,
    )?;
    let (kappa_p_3ph, kappa_c_3ph) = three.particle_and_coherence();
    res.gamma = three.gamma;
    // [q][T][s] per point → [T][q][s] per class.
    let by_class =
        |pick: &dyn Fn(&FourPhononAtQ, usize) -> Vec<Vec<f64>>| -> [Vec<Vec<Vec<f64>>>; 3] {
            std::array::from_fn(|c| {
                (0..opts.temperatures.len())
                    .map(|it| four.iter().map(|p| pick(p, c)[it].clone()).collect())
                    .collect()
            })
        };
    res.four_phonon = Some(Box::new(super::four_phonon_job::FourPhononResult {
        gamma: by_class(&|p, c| p.gamma[c].clone()),
        std_error: by_class(&|p, c| p.std_error[c].clone()),
        processes: four.iter().map(|p| p.processes).collect(),
        pairs_built: four.iter().map(|p| p.pairs_built).collect(),
        delta: settings.delta,
        mode: settings.mode,
        kappa_p_3ph,
        kappa_c_3ph,
        kappa_p_std_error: vec![],
    }));
    let error = res.four_phonon.as_ref().expect("just set").total_error();
    let kappa_error = sampling_error_of_kappa(&res, &total, gamma_iso.as_ref(), &error, opts);
    res.four_phonon
        .as_mut()
        .expect("just set")
        .kappa_p_std_error = kappa_error;
    Ok(res)
}

/// The sampling standard error of κ_P [T][6] from the standard errors σ of the sampled Γ_4ph
/// ([T][q][s]; Γ is [q][T][s]), propagated through the RTA mode κ (κ_λ ∝ 1/Γ_λ, so δκ_λ = κ_λ σ_λ/Γ_λ; with
/// --lbte or --wigner an estimate of the error of their κ_P). Modes of one q share their draws,
/// so their errors add linearly; different q are drawn independently and add in quadrature.
fn sampling_error_of_kappa(
    res: &KappaResult,
    gamma: &[Vec<Vec<f64>>],
    gamma_iso: Option<&Vec<Vec<f64>>>,
    error: &[Vec<Vec<f64>>],
    opts: &KappaOptions,
) -> Vec<[f64; 6]> {
    let n_points: f64 = res.weights.iter().sum::<usize>() as f64;
    (0..opts.temperatures.len())
        .map(|it| {
            let mut var = [0.0; 6];
            for (iq, modes) in res.mode_kappa[it].iter().enumerate() {
                let mut at_q = [0.0; 6];
                for (s, m) in modes.iter().enumerate() {
                    let v = &res.group_velocities[iq][s];
                    let total = matthiessen(gamma[iq][it][s], gamma_iso, iq, s, v, opts);
                    if total > 0.0 {
                        for c in 0..6 {
                            at_q[c] += m[c].abs() / n_points * error[it][iq][s] / total;
                        }
                    }
                }
                for c in 0..6 {
                    var[c] += at_q[c] * at_q[c];
                }
            }
            var.map(f64::sqrt)
        })
        .collect()
}

/// The symmetry and irreducible points of a Γ-centred κ mesh, shared by the computing and the
/// `--read-gamma` paths.
pub struct KappaMesh {
    /// Reciprocal rotations (time reversal included) acting on reduced q.
    pub rotations: Vec<[[i32; 3]; 3]>,
    /// Cartesian forms of `rotations`, for the star sums.
    pub cart: Vec<crate::linalg::Mat3>,
    pub mesh: Mesh,
    pub ir: IrreducibleMesh,
    /// Zone representatives of the mesh points (phono3py's grid-point numbering).
    pub bz: BzGrid,
}

pub fn kappa_mesh(prim: &crate::crystal::Cell, n: [usize; 3]) -> Result<KappaMesh> {
    kappa_mesh_with(prim, &Symmetry::new(prim, 1e-5)?, n)
}

/// As `kappa_mesh` with the space group of `prim` already found (a mesh series finds it once).
pub fn kappa_mesh_with(
    prim: &crate::crystal::Cell,
    sym: &Symmetry,
    n: [usize; 3],
) -> Result<KappaMesh> {
    if n.contains(&0) {
        return Err(Error::input(format!(
            "mesh {n:?}: every division must be at least 1"
        )));
    }
    let mesh = Mesh::gamma_centered(n);
    // Only the operations the mesh respects reduce it (and its triplets).
    let rotations = mesh.compatible_rotations(&sym.reciprocal_rotations());
    // The star sums run over the same operations (time reversal adds −R, which leaves the
    // products of two velocities unchanged).
    let cart = rotations
        .iter()
        .map(|r| Symmetry::cartesian_reciprocal_rotation(prim, r))
        .collect();
    let ir = mesh.irreducible(&rotations);
    Ok(KappaMesh {
        rotations,
        cart,
        bz: BzGrid::new(&mesh, &prim.reciprocal()),
        mesh,
        ir,
    })
}

/// Γ^iso[q][s] at every irreducible point.
fn isotope_gammas(
    ir: &IrreducibleMesh,
    ph: &MeshPhonons,
    mass_variance: &[f64],
    opts: &KappaOptions,
    reciprocal: &crate::linalg::Mat3,
) -> Vec<Vec<f64>> {
    ir.ir_grid_points
        .iter()
        .map(|&g0| {
            crate::anharmonic::isotope::isotope_gamma_at(
                g0,
                ph,
                mass_variance,
                opts.delta,
                opts.cutoff_frequency,
                reciprocal,
            )
        })
        .collect()
}

/// κ from linewidths Γ[q][T][s] at the irreducible points of `ir`.
pub fn assemble(
    dm: &DynamicalMatrix,
    km: &KappaMesh,
    gamma_q: Vec<Vec<Vec<f64>>>,
    gamma_iso: Option<Vec<Vec<f64>>>,
    opts: &KappaOptions,
) -> Result<KappaResult> {
    assemble_with(dm, km, gamma_q, gamma_iso, None, false, opts)
}

/// As `assemble`, and the direct LBTE solution of `system` (filled with every point's rows),
/// whose matrices stay for another solve when `keep_lbte`.
pub fn assemble_with(
    dm: &DynamicalMatrix,
    km: &KappaMesh,
    gamma_q: Vec<Vec<Vec<f64>>>,
    gamma_iso: Option<Vec<Vec<f64>>>,
    system: Option<&lbte::LbteSystem>,
    keep_lbte: bool,
    opts: &KappaOptions,
) -> Result<KappaResult> {
    let KappaMesh {
        rotations,
        cart,
        ir,
        ..
    } = km;
    let prim = dm.primitive();
    let nt = opts.temperatures.len();
    let nq = ir.qpoints.len();
    let n_points: f64 = ir.weights.iter().sum::<usize>() as f64;
    let unit = rta::kappa_unit_conversion(prim.volume());
    let vopts = SolveOptions {
        group_velocities: true,
        eigenvectors: true,
        rotations: rotations.to_vec(),
        ..Default::default()
    };
    let mut res = KappaResult {
        mesh: opts.mesh,
        temperatures: opts.temperatures.clone(),
        qpoints: ir.qpoints.clone(),
        weights: ir.weights.clone(),
        frequencies: vec![],
        group_velocities: vec![],
        gv_by_gv: vec![],
        heat_capacity: vec![vec![]; nt],
        gamma: (0..nt)
            .map(|it| gamma_q.iter().map(|g| g[it].clone()).collect())
            .collect(),
        gamma_isotope: gamma_iso.clone(),
        gamma_parts: None,
        grid_points: ir
            .ir_grid_points
            .iter()
            .map(|&g| km.bz.grid_point(g))
            .collect(),
        kappa: vec![[0.0; 6]; nt],
        mode_kappa: vec![vec![]; nt],
        wigner: None,
        lbte: None,
        boundary_mfp: opts.boundary_mfp,
        kappa_unit_conversion: unit,
        four_phonon: None,
    };
    // Total Γ per temperature, [T][q][s], for the collision-matrix diagonal.
    let mut gamma_total: Vec<Vec<Vec<f64>>> = vec![vec![]; nt];
    let mut w = opts.wigner.then(|| WignerKappa {
        kappa_p: vec![[0.0; 6]; nt],
        kappa_c: vec![[0.0; 6]; nt],
        mode_kappa_p: vec![vec![]; nt],
        mode_kappa_c: vec![vec![]; nt],
    });
    for iq in 0..nq {
        let p = solve_point(dm, &ir.qpoints[iq], &vopts, &prim.reciprocal())?;
        let v = p.group_velocities.clone().expect("requested");
        let gvgv: Vec<[f64; 6]> = v
            .iter()
            .map(|v| rta::star_gv_by_gv(v, ir.weights[iq], cart))
            .collect();
        let products = if w.is_some() {
            let modes = crate::harmonic::eigen::Modes {
                eigenvalues: vec![],
                frequencies: p.frequencies.clone(),
                eigenvectors: p.eigenvectors.clone().expect("requested"),
            };
            let vop = velocity_operator(dm, &ir.qpoints[iq], &modes)?;
            Some(wigner::star_operator_products(
                &vop,
                p.frequencies.len(),
                ir.weights[iq],
                cart,
            ))
        } else {
            None
        };
        for (it, &t) in opts.temperatures.iter().enumerate() {
            let cv: Vec<f64> = p
                .frequencies
                .iter()
                .map(|f| {
                    if *f > opts.cutoff_frequency {
                        mode_heat_capacity(*f, t)
                    } else {
                        0.0
                    }
                })
                .collect();
            // Matthiessen: the scattering rates add.
            let g: Vec<f64> = (0..p.frequencies.len())
                .map(|s| matthiessen(gamma_q[iq][it][s], gamma_iso.as_ref(), iq, s, &v[s], opts))
                .collect();
            let g = &g;
            gamma_total[it].push(g.clone());
            let mk = rta::mode_kappa(&p.frequencies, &cv, &gvgv, g, opts.cutoff_frequency, unit);
            for m in &mk {
                for c in 0..6 {
                    res.kappa[it][c] += m[c] / n_points;
                }
            }
            res.mode_kappa[it].push(mk);
            if let (Some(w), Some(prod)) = (w.as_mut(), products.as_ref()) {
                let (kp, kc) = wigner::wigner_mode_kappa(
                    &p.frequencies,
                    &cv,
                    prod,
                    g,
                    opts.cutoff_frequency,
                    unit,
                );
                for c in 0..6 {
                    w.kappa_p[it][c] += kp.iter().map(|m| m[c]).sum::<f64>() / n_points;
                    w.kappa_c[it][c] += kc.iter().map(|m| m[c]).sum::<f64>() / n_points;
                }
                let nb = p.frequencies.len();
                w.mode_kappa_p[it].push(kp);
                w.mode_kappa_c[it].push(kc.chunks(nb).map(|c| c.to_vec()).collect());
            }
            res.heat_capacity[it].push(cv);
        }
        res.frequencies.push(p.frequencies);
        res.group_velocities.push(v);
        res.gv_by_gv.push(gvgv);
    }
    res.wigner = w;
    if let Some(system) = system {
        res.lbte = Some(solve_lbte(system, &res, &gamma_total, keep_lbte)?);
    }
    Ok(res)
}

/// Γ of mode s at irreducible point iq with isotope and boundary scattering added to the
/// anharmonic `gamma` (Matthiessen: the rates add); `v` is the mode's group velocity.
fn matthiessen(
    gamma: f64,
    gamma_iso: Option<&Vec<Vec<f64>>>,
    iq: usize,
    s: usize,
    v: &Vec3,
    opts: &KappaOptions,
) -> f64 {
    let iso = gamma_iso.map_or(0.0, |x| x[iq][s]);
    let boundary = opts.boundary_mfp.map_or(0.0, |l| boundary_gamma(v, l));
    gamma + iso + boundary
}

/// Γ^b = |v|/(4πL) (THz) for a boundary mean free path L in µm and v in THz·Å.
pub fn boundary_gamma(v: &Vec3, mfp_um: f64) -> f64 {
    crate::linalg::norm(v) / (4.0 * std::f64::consts::PI * mfp_um * 1e4)
}

fn solve_lbte(
    system: &lbte::LbteSystem,
    res: &KappaResult,
    gamma_total: &[Vec<Vec<f64>>],
    keep: bool,
) -> Result<LbteKappa> {
    let mut out = LbteKappa {
        kappa: vec![],
        mode_kappa: vec![],
        dimension: system.dimension(),
    };
    for it in 0..res.temperatures.len() {
        let sol = system.solve(
            it,
            &lbte::LbteInputs {
                gamma: &gamma_total[it],
                heat_capacity: &res.heat_capacity[it],
                velocities: &res.group_velocities,
                unit: res.kappa_unit_conversion,
            },
            keep,
        )?;
        out.kappa.push(sol.kappa);
        out.mode_kappa.push(sol.mode_kappa);
    }
    Ok(out)
}

/// Γ per irreducible q, per temperature, per band: `[q][T][s]` (THz).
pub type GammaPerQ = Vec<Vec<Vec<f64>>>;

/// Linewidths read from a kappa HDF5 of the same mesh (phono3py's `--read-gamma`, or a latdyn
/// kappa file): returns (temperatures, Γ[q][T][s]) after checking mesh, irreducible points and
/// weights against this run.
pub fn read_gamma(
    path: &std::path::Path,
    ir: &IrreducibleMesh,
    mesh: [usize; 3],
    nb: usize,
) -> Result<(Vec<f64>, GammaPerQ)> {
    let file = crate::io::hdf5_fc::open(path)?;
    let ints = |name: &str| crate::io::hdf5_fc::read_i64(&file, path, name);
    let reals = |name: &str| crate::io::hdf5_fc::read_f64(&file, path, name);
    let file_mesh = ints("mesh")?;
    if file_mesh != mesh.map(|x| x as i64) {
        return Err(Error::dataset(
            path,
            "mesh",
            format!("expected {mesh:?} (this run), found {file_mesh:?}"),
        ));
    }
    let weights = ints("weight")?;
    let ours: Vec<i64> = ir.weights.iter().map(|&w| w as i64).collect();
    if weights != ours {
        return Err(Error::dataset(
            path,
            "weight",
            format!(
                "the irreducible points differ from this run's ({} in the file, {} here)",
                weights.len(),
                ours.len()
            ),
        ));
    }
    let q = reals("qpoint")?;
    for (i, qi) in ir.qpoints.iter().enumerate() {
        let d = (0..3).map(|c| {
            let x = q[3 * i + c] - qi[c];
            (x - x.round()).abs()
        });
        if d.fold(0.0, f64::max) > 1e-5 {
            return Err(Error::dataset(
                path,
                "qpoint",
                format!(
                    "point {i} is {:?}, this run has {qi:?}",
                    &q[3 * i..3 * i + 3]
                ),
            ));
        }
    }
    let temperatures = reals("temperature")?;
    let nt = temperatures.len();
    let nq = ir.qpoints.len();
    let g = reals("gamma")?;
    if g.len() != nt * nq * nb {
        return Err(Error::dataset(
            path,
            "gamma",
            format!(
                "expected {nt}×{nq}×{nb} values (T × q × bands), found {}",
                g.len()
            ),
        ));
    }
    if let Some(bad) = g.iter().position(|x| !x.is_finite() || *x < 0.0) {
        return Err(Error::dataset(
            path,
            "gamma",
            format!("value {} at flat index {bad} is not a finite Γ ≥ 0", g[bad]),
        ));
    }
    let gamma_q = (0..nq)
        .map(|iq| {
            (0..nt)
                .map(|it| g[(it * nq + iq) * nb..(it * nq + iq + 1) * nb].to_vec())
                .collect()
        })
        .collect();
    Ok((temperatures, gamma_q))
}

/// Linewidths from a folder of per-grid-point files kappa-m{mesh}-g{N}.hdf5 (phono3py's
/// `--write-gamma`, e.g. from runs split with `--gp`, or latdyn's): one file per irreducible
/// point, named by phono3py's BZ grid index; all must have the same temperatures.
pub fn read_gamma_files(
    dir: &std::path::Path,
    km: &KappaMesh,
    mesh: [usize; 3],
    nb: usize,
) -> Result<(Vec<f64>, GammaPerQ)> {
    let mut temperatures: Option<Vec<f64>> = None;
    let mut gamma_q = Vec::with_capacity(km.ir.ir_grid_points.len());
    for &g in &km.ir.ir_grid_points {
        let gp = km.bz.grid_point(g);
        let path = crate::output::kappa_hdf5::gamma_file_name(dir, mesh, gp);
        if !path.is_file() {
            return Err(Error::input(format!(
                "--read-gamma {}: {} is missing (one file per irreducible grid point is needed; this mesh has {})",
                dir.display(),
                path.display(),
                km.ir.ir_grid_points.len()
            )));
        }
        let file = crate::io::hdf5_fc::open(&path)?;
        let reals = |name: &str| crate::io::hdf5_fc::read_f64(&file, &path, name);
        let t = reals("temperature")?;
        match &temperatures {
            Some(t0) if *t0 != t => {
                return Err(Error::dataset(
                    &path,
                    "temperature",
                    format!("{t:?} differs from the other files' {t0:?}"),
                ));
            }
            _ => temperatures = Some(t.clone()),
        }
        let g = reals("gamma")?;
        if g.len() != t.len() * nb || g.iter().any(|x| !x.is_finite() || *x < 0.0) {
            return Err(Error::dataset(
                &path,
                "gamma",
                format!(
                    "expected {}×{nb} finite values ≥ 0 (T × bands), found {} values",
                    t.len(),
                    g.len()
                ),
            ));
        }
        gamma_q.push(g.chunks(nb).map(|c| c.to_vec()).collect());
    }
    Ok((temperatures.unwrap_or_default(), gamma_q))
}

/// κ from linewidths in a kappa HDF5 (or a folder of per-grid-point files) instead of computing
/// them (`--read-gamma`); the file's temperatures replace `opts.temperatures`. With
/// `opts.four_phonon`, Γ_4ph is computed at the file's temperatures (resumable and split by
/// `opts.q_range` like a full run; Partial until every point is done) and added.
pub fn kappa_from_gamma_file(
    dm: &DynamicalMatrix,
    path: &std::path::Path,
    opts: &KappaOptions,
) -> Result<KappaRun> {
    let km = kappa_mesh(dm.primitive(), opts.mesh)?;
    kappa_from_gamma_file_with(dm, &km, path, opts)
}

/// As `kappa_from_gamma_file`, on the mesh `km` of `opts.mesh` (built by the caller).
pub fn kappa_from_gamma_file_with(
    dm: &DynamicalMatrix,
    km: &KappaMesh,
    path: &std::path::Path,
    opts: &KappaOptions,
) -> Result<KappaRun> {
    let prim = dm.primitive();
    let (temperatures, gamma_q) = if path.is_dir() {
        read_gamma_files(path, km, opts.mesh, dm.n_bands())?
    } else {
        read_gamma(path, &km.ir, opts.mesh, dm.n_bands())?
    };
    let mut opts = opts.clone();
    opts.temperatures = temperatures;
    let velocities = opts.delta.needs_velocities() || opts.four_phonon.is_some();
    let ph = if opts.isotope.is_some() || opts.four_phonon.is_some() {
        Some(mesh_phonons(
            dm,
            &km.mesh,
            opts.progress,
            velocities.then_some(&km.rotations[..]),
        )?)
    } else {
        None
    };
    let gamma_iso = match (&opts.isotope, &ph) {
        (Some(g), Some(ph)) => Some(isotope_gammas(&km.ir, ph, g, &opts, &prim.reciprocal())),
        _ => None,
    };
    let n_ir = km.ir.ir_grid_points.len();
    let four = match &ph {
        Some(ph) => four_phonon_rates(ph, &km.ir, &opts, q_range(&opts, n_ir)?)?,
        None => None,
    };
    let Some(four) = four else {
        return Ok(KappaRun::Complete(Box::new(assemble(
            dm, km, gamma_q, gamma_iso, &opts,
        )?)));
    };
    let done = four.iter().filter(|p| p.is_some()).count();
    if done < n_ir {
        return Ok(KappaRun::Partial { done, total: n_ir });
    }
    let four: Vec<&FourPhononAtQ> = four.iter().flatten().collect();
    Ok(KappaRun::Complete(Box::new(with_four_phonon(
        dm, km, gamma_q, gamma_iso, &four, None, &opts,
    )?)))
}
