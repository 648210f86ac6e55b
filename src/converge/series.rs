//! One step of a convergence series: a quantity computed on one mesh with everything that does
//! not depend on the mesh (inputs, dynamical matrix, symmetry, the fc3 rearranged for Fourier
//! sums) built once by the caller, and the phonons of points shared with later meshes taken
//! from the series' cache. Each step gives named scalars (what gets extrapolated) and the
//! per-mesh detail written to converge.json.

use super::extrapolate::Exponent;
use crate::adp::harmonic::{adp_solve_options, harmonic_adps_from};
use crate::anharmonic::interaction::Fc3Fourier;
use crate::error::Result;
use crate::harmonic::dos::{DosMethod, mesh_dos};
use crate::harmonic::dynmat::DynamicalMatrix;
use crate::harmonic::mesh::Mesh;
use crate::harmonic::phonon_cache::PhononCache;
use crate::harmonic::phonons::SolveOptions;
use crate::harmonic::thermo::thermal_properties;
use crate::transport::job::{DeltaRun, KappaOptions, KappaRun, kappa_mesh_with, run_kappa_deltas};
use serde_json::json;

/// What a series converges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Quantity {
    Kappa,
    Adp,
    Dos,
    Thermal,
}

impl Quantity {
    /// How the terminal names it.
    pub fn name(&self) -> &'static str {
        match self {
            Quantity::Kappa => "κ",
            Quantity::Adp => "ADPs",
            Quantity::Dos => "DOS",
            Quantity::Thermal => "thermodynamics",
        }
    }
}

/// One number of one mesh, with how its mesh error behaves and how it is judged.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Scalar {
    /// e.g. "kappa_total xx 300K", "U Al1 zz 300K", "Cv 300K".
    pub name: String,
    pub value: f64,
    pub exponent: Exponent,
    /// Whether the verdict waits for it (κ_TOT, U, Cv/S/F); the rest is reported only.
    pub judged: bool,
    /// The tolerance is relative to this group's size (e.g. U_iso of the atom for an
    /// off-diagonal U, the largest |F| over temperatures for F): scalars sharing a `scale_group`
    /// are judged against the largest |limit| of the group.
    pub scale_group: String,
}

/// A mesh's result.
#[derive(Clone, Debug)]
pub struct MeshStep {
    pub mesh: [usize; 3],
    pub n_irreducible: usize,
    pub seconds: f64,
    pub scalars: Vec<Scalar>,
    /// κ series: the same scalars for each further δ method of the smearing series, in order.
    pub smearing_scalars: Vec<Vec<Scalar>>,
    /// Quantity-specific detail for converge.json (κ tensors per δ method, ADP tensors, DOS…).
    pub detail: serde_json::Value,
    /// The total DOS on the series' common frequency grid (quantity dos only).
    pub dos: Option<Vec<f64>>,
}

/// The settings of a κ series beyond the mesh.
#[derive(Clone, Debug)]
pub struct KappaSeries {
    /// Mesh-independent options (mesh, checkpoint and δ are set per step).
    pub options: KappaOptions,
    /// The δ method of the main series, then those of the smearing series.
    pub deltas: Vec<crate::anharmonic::linewidth::DeltaMethod>,
    /// Settings key of the resume files (the mesh is added per step).
    pub key: serde_json::Value,
}

/// Everything a step needs that does not change with the mesh.
pub struct SeriesContext<'a> {
    pub dm: &'a DynamicalMatrix,
    /// The primitive cell's space group, found once for every mesh.
    pub symmetry: crate::crystal::symmetry::Symmetry,
    pub quantity: Quantity,
    pub temperatures: Vec<f64>,
    pub cutoff_frequency: f64,
    pub fc3: Option<&'a Fc3Fourier>,
    pub kappa: Option<KappaSeries>,
    pub dos_method: DosMethod,
    /// Common DOS frequency grid (THz) of every mesh.
    pub dos_points: Vec<f64>,
    pub cache: PhononCache,
    /// A power law for every scalar instead of each quantity's own (`--exponent`).
    pub exponent: Option<Exponent>,
    /// Folder of the per-mesh resume files.
    pub out: std::path::PathBuf,
    pub progress: bool,
}

const VOIGT: [&str; 6] = ["xx", "yy", "zz", "yz", "xz", "xy"];

/// Folder of one mesh's κ resume files for δ method `d` (0 = the main series).
pub fn mesh_folder(out: &std::path::Path, n: [usize; 3], d: usize) -> std::path::PathBuf {
    let name = format!("m{}x{}x{}", n[0], n[1], n[2]);
    match d {
        0 => out.join(name),
        d => out.join(format!("{name}-smearing{d}")),
    }
}

impl SeriesContext<'_> {
    /// Computes the quantity on mesh `n`; `later` are the meshes still to come (their shared
    /// points stay in the cache).
    pub fn step(&self, n: [usize; 3], later: &[[usize; 3]]) -> Result<MeshStep> {
        let t0 = std::time::Instant::now();
        let mut step = match self.quantity {
            Quantity::Kappa => self.kappa_step(n, later)?,
            Quantity::Adp => self.adp_step(n, later)?,
            Quantity::Dos => self.dos_step(n, later)?,
            Quantity::Thermal => self.thermal_step(n, later)?,
        };
        step.seconds = t0.elapsed().as_secs_f64();
        if let Some(p) = self.exponent {
            let all = step.smearing_scalars.iter_mut().flatten();
            all.chain(&mut step.scalars).for_each(|s| s.exponent = p);
        }
        crate::output::finite(
            "convergence series values",
            step.scalars.iter().map(|s| s.value),
        )?;
        Ok(step)
    }

    fn kappa_step(&self, n: [usize; 3], later: &[[usize; 3]]) -> Result<MeshStep> {
        let series = self.kappa.as_ref().expect("κ settings for a κ series");
        let fourier = self.fc3.expect("fc3 for a κ series");
        let km = kappa_mesh_with(self.dm.primitive(), &self.symmetry, n)?;
        let mut mesh_key = series.key.clone();
        mesh_key["mesh"] = json!(n);
        let opts = KappaOptions {
            mesh: n,
            progress: self.progress,
            // Four-phonon Γ (one δ for the whole smearing series) resume from the main folder.
            checkpoint: Some((mesh_folder(&self.out, n, 0), mesh_key)),
            ..series.options.clone()
        };
        let runs: Vec<DeltaRun> = series
            .deltas
            .iter()
            .enumerate()
            .map(|(d, &delta)| {
                let mut key = series.key.clone();
                key["mesh"] = json!(n);
                key["delta"] = json!(format!("{delta:?}"));
                DeltaRun {
                    delta,
                    checkpoint: Some((mesh_folder(&self.out, n, d), key)),
                }
            })
            .collect();
        let results = run_kappa_deltas(
            self.dm,
            fourier,
            &km,
            &opts,
            &runs,
            Some((&self.cache, later)),
        )?;
        // Per δ method: its scalars and its tensors for converge.json.
        let mut scalars: Vec<Vec<Scalar>> = Vec::new();
        let mut per_delta = Vec::new();
        for (d, run) in results.into_iter().enumerate() {
            let KappaRun::Complete(res) = run else {
                unreachable!("a series runs every irreducible point");
            };
            let (p, c) = res.particle_and_coherence();
            let total = res.total();
            let mut own = Vec::new();
            for (it, t) in res.temperatures.iter().enumerate() {
                for (label, tensor, judged) in [
                    ("kappa_total", &total, true),
                    ("kappa_p", &p, false),
                    ("kappa_c", &c, false),
                ] {
                    for (k, comp) in VOIGT.iter().enumerate() {
                        own.push(Scalar {
                            name: format!("{label} {comp} {t}K"),
                            value: tensor[it][k],
                            exponent: Exponent::INVERSE_N,
                            judged: judged && k < 3,
                            scale_group: format!("{label} {comp} {t}K"),
                        });
                    }
                }
            }
            scalars.push(own);
            let mut detail = json!({
                "delta": delta_json(series.deltas[d]),
                "kappa_p": p, "kappa_c": c, "kappa_total": total, "kappa_rta": res.kappa,
            });
            if let Some(f) = &res.four_phonon {
                detail["kappa_p_3ph"] = json!(f.kappa_p_3ph);
                detail["kappa_c_3ph"] = json!(f.kappa_c_3ph);
                if f.mode.is_sampled() {
                    detail["kappa_p_std_error"] = json!(f.kappa_p_std_error);
                }
            }
            per_delta.push(detail);
        }
        Ok(MeshStep {
            mesh: n,
            n_irreducible: km.ir.qpoints.len(),
            seconds: 0.0,
            scalars: scalars.remove(0),
            smearing_scalars: scalars,
            detail: json!({"by_delta": per_delta}),
            dos: None,
        })
    }

    fn adp_step(&self, n: [usize; 3], later: &[[usize; 3]]) -> Result<MeshStep> {
        let mesh = Mesh::gamma_centered(n);
        let opts = adp_solve_options();
        self.cache.begin_mesh(&opts, n, later);
        let source =
            |g: usize, _: &crate::linalg::Vec3| self.cache.point(self.dm, &mesh, g, &opts, later);
        let r = harmonic_adps_from(
            self.dm,
            &mesh.all_qpoints(),
            &self.temperatures,
            self.cutoff_frequency,
            self.progress,
            &source,
        )?;
        let prim = self.dm.primitive();
        let labels: Vec<String> = prim
            .symbols
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{s}{}", i + 1))
            .collect();
        let mut scalars = Vec::new();
        for (it, &t) in self.temperatures.iter().enumerate() {
            for (k, label) in labels.iter().enumerate() {
                let u = &r.u_cart[it][k];
                let group = format!("U {label} {t}K");
                let pairs = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)];
                for (c, (a, b)) in pairs.iter().enumerate() {
                    scalars.push(Scalar {
                        name: format!("U {label} {} {t}K", VOIGT[c]),
                        value: u[*a][*b],
                        exponent: Exponent::adp(t),
                        judged: true,
                        scale_group: group.clone(),
                    });
                }
                scalars.push(Scalar {
                    name: format!("U_iso {label} {t}K"),
                    value: crate::adp::tensor::u_iso(u),
                    exponent: Exponent::adp(t),
                    judged: false,
                    scale_group: group,
                });
            }
        }
        Ok(MeshStep {
            mesh: n,
            n_irreducible: r.n_qpoints,
            seconds: 0.0,
            scalars,
            smearing_scalars: vec![],
            detail: json!({"u_cart": r.u_cart, "u_cart_classical": r.u_cart_classical,
                           "modes_skipped": r.modes_skipped, "lowest_frequency_used": r.lowest_frequency_used}),
            dos: None,
        })
    }

    fn dos_step(&self, n: [usize; 3], later: &[[usize; 3]]) -> Result<MeshStep> {
        let mesh = Mesh::gamma_centered(n);
        let opts = SolveOptions {
            eigenvectors: true,
            progress: self.progress,
            ..Default::default()
        };
        let points = self.cache.mesh_points(self.dm, &mesh, &opts, later)?;
        let rec = self.dm.primitive().reciprocal();
        let dos = mesh_dos(&points, &mesh, &rec, &self.dos_points, self.dos_method);
        drop(points);
        let step = self
            .dos_points
            .get(1)
            .map_or(1.0, |x| x - self.dos_points[0]);
        // Moments of the DOS: ⟨f⟩ and ⟨f²⟩^½ (THz), which the thermodynamics lean on.
        let norm: f64 = dos.total_dos.iter().sum::<f64>() * step;
        let moment = |p: i32| {
            dos.total_dos
                .iter()
                .zip(&self.dos_points)
                .map(|(g, f)| g * f.powi(p))
                .sum::<f64>()
                * step
                / norm.max(f64::MIN_POSITIVE)
        };
        let scalars = vec![
            Scalar {
                name: "mean frequency".into(),
                value: moment(1),
                exponent: Exponent::INVERSE_N,
                judged: false,
                scale_group: "mean frequency".into(),
            },
            Scalar {
                name: "rms frequency".into(),
                value: moment(2).sqrt(),
                exponent: Exponent::INVERSE_N,
                judged: false,
                scale_group: "rms frequency".into(),
            },
        ];
        Ok(MeshStep {
            mesh: n,
            n_irreducible: mesh.n_points(),
            seconds: 0.0,
            scalars,
            smearing_scalars: vec![],
            detail: json!({"states": norm, "projected_dos": dos.projected_dos}),
            dos: Some(dos.total_dos),
        })
    }

    fn thermal_step(&self, n: [usize; 3], later: &[[usize; 3]]) -> Result<MeshStep> {
        // The same points, weights and sums as `latdyn phonons --mesh` (thermal.json).
        let mesh = Mesh::gamma_centered(n);
        let ir = mesh.irreducible(&self.symmetry.reciprocal_rotations());
        let opts = SolveOptions::default();
        self.cache.begin_mesh(&opts, n, later);
        let freqs: Vec<Vec<f64>> = {
            use rayon::prelude::*;
            ir.ir_grid_points
                .par_iter()
                .map(|&g| {
                    self.cache
                        .point(self.dm, &mesh, g, &opts, later)
                        .map(|p| p.frequencies.clone())
                })
                .collect::<Result<_>>()?
        };
        let w: Vec<f64> = ir.weights.iter().map(|&x| x as f64).collect();
        let tp = thermal_properties(&freqs, &w, &self.temperatures, self.cutoff_frequency);
        let mut scalars = vec![Scalar {
            name: "zero-point energy".into(),
            value: tp.zero_point_energy,
            exponent: Exponent::INVERSE_N,
            judged: true,
            scale_group: "zero-point energy".into(),
        }];
        for (it, t) in self.temperatures.iter().enumerate() {
            if *t <= 0.0 {
                continue;
            }
            for (name, v) in [
                ("Cv", tp.heat_capacity[it]),
                ("S", tp.entropy[it]),
                ("F", tp.free_energy[it]),
            ] {
                // F crosses zero with T: it is judged against its largest size; Cv and S
                // against their own value.
                let own = format!("{name} {t}K");
                scalars.push(Scalar {
                    name: own.clone(),
                    value: v,
                    exponent: if name == "Cv" {
                        Exponent::INVERSE_N
                    } else {
                        Exponent::LOG_N_OVER_N
                    },
                    judged: true,
                    scale_group: if name == "F" { name.into() } else { own },
                });
            }
        }
        Ok(MeshStep {
            mesh: n,
            n_irreducible: ir.qpoints.len(),
            seconds: 0.0,
            scalars,
            smearing_scalars: vec![],
            detail: serde_json::to_value(&tp).unwrap_or_default(),
            dos: None,
        })
    }
}

/// How converge.json names a δ method.
pub fn delta_json(d: crate::anharmonic::linewidth::DeltaMethod) -> serde_json::Value {
    use crate::anharmonic::linewidth::DeltaMethod;
    match d {
        DeltaMethod::Tetrahedron => json!("tetrahedron"),
        DeltaMethod::Gaussian(s) => json!({"gaussian_sigma_THz": s}),
        DeltaMethod::Adaptive(s) => json!({"adaptive_scalebroad": s}),
    }
}
