//! The conductivity result as phono3py's kappa-m{mesh}.hdf5 (formats.md §4.3): the same dataset
//! names, shapes, dtypes and units, so phono3py's tools and users' h5py scripts read it.

use crate::anharmonic::linewidth::GammaParts;
use crate::error::{Error, Result};
use crate::transport::job::KappaResult;
use hdf5_pure::FileBuilder;
use std::path::{Path, PathBuf};

/// phono3py's file name for a mesh: "kappa-m" + the divisions without separators.
pub fn kappa_file_name(dir: &Path, mesh: [usize; 3]) -> PathBuf {
    dir.join(format!("kappa-m{}{}{}.hdf5", mesh[0], mesh[1], mesh[2]))
}

fn flat6(v: &[[f64; 6]]) -> impl Iterator<Item = f64> + '_ {
    v.iter().flat_map(|x| x.iter().copied())
}

/// Per-mode tensors [T][q][s][6] in row-major order.
fn flat_modes(m: &[Vec<Vec<[f64; 6]>>]) -> Vec<f64> {
    m.iter().flatten().flat_map(|q| flat6(q)).collect()
}

pub fn write_kappa_hdf5(path: &Path, r: &KappaResult) -> Result<()> {
    let nt = r.temperatures.len() as u64;
    let nq = r.qpoints.len() as u64;
    let nb = r.frequencies.first().map(|f| f.len()).unwrap_or(0) as u64;
    let mut b = FileBuilder::new();
    let mut put = |name: &str, data: Vec<f64>, shape: &[u64]| {
        let n: u64 = shape.iter().product();
        debug_assert_eq!(n as usize, data.len(), "{name}");
        let d = b.create_dataset(name);
        d.with_f64_data(&data).with_shape(shape);
        if n > 64 {
            d.with_chunks(shape).with_deflate(4);
        }
    };
    put("temperature", r.temperatures.clone(), &[nt]);
    put(
        "frequency",
        r.frequencies.iter().flatten().copied().collect(),
        &[nq, nb],
    );
    put(
        "qpoint",
        r.qpoints.iter().flatten().copied().collect(),
        &[nq, 3],
    );
    put(
        "group_velocity",
        r.group_velocities
            .iter()
            .flatten()
            .flatten()
            .copied()
            .collect(),
        &[nq, nb, 3],
    );
    put(
        "gv_by_gv",
        r.gv_by_gv.iter().flat_map(|q| flat6(q)).collect(),
        &[nq, nb, 6],
    );
    put(
        "heat_capacity",
        r.heat_capacity
            .iter()
            .flatten()
            .flatten()
            .copied()
            .collect(),
        &[nt, nq, nb],
    );
    put(
        "gamma",
        r.gamma.iter().flatten().flatten().copied().collect(),
        &[nt, nq, nb],
    );
    if let Some(parts) = &r.gamma_parts {
        // [q][T][s] tables as [T][q][s], like `gamma`.
        let by_t = |pick: &dyn Fn(&GammaParts) -> &Vec<Vec<f64>>| -> Vec<f64> {
            (0..nt as usize)
                .flat_map(|it| parts.iter().flat_map(move |p| pick(p)[it].clone()))
                .collect()
        };
        let shape = [nt, nq, nb];
        // phono3py's `--nu` names, then latdyn's process classes and weighted phase space.
        put("gamma_N", by_t(&|p| &p.normal), &shape);
        put("gamma_U", by_t(&|p| &p.umklapp), &shape);
        put("gamma_decay", by_t(&|p| &p.decay), &shape);
        put("gamma_coalescence", by_t(&|p| &p.coalescence), &shape);
        put(
            "weighted_phase_space_decay",
            by_t(&|p| &p.phase_space_decay),
            &shape,
        );
        put(
            "weighted_phase_space_coalescence",
            by_t(&|p| &p.phase_space_coalescence),
            &shape,
        );
    }
    if let Some(f) = &r.four_phonon {
        // latdyn's names (phono3py has no four-phonon terms): Γ_4ph [T][q][s] as `gamma` (the
        // three-phonon Γ stays in `gamma`; κ and mode κ hold 3+4-phonon scattering), per
        // process class, and the three-phonon-only κ_P, κ_C.
        let flat = |t: &Vec<Vec<Vec<f64>>>| t.iter().flatten().flatten().copied().collect();
        let shape = [nt, nq, nb];
        put("gamma_4ph", flat(&f.total()), &shape);
        for (c, name) in crate::anharmonic::four_phonon::CLASS_NAMES
            .iter()
            .enumerate()
        {
            put(&format!("gamma_4ph_{name}"), flat(&f.gamma[c]), &shape);
        }
        if f.mode.is_sampled() {
            put("gamma_4ph_std_error", flat(&f.total_error()), &shape);
            put(
                "kappa_P_std_error",
                flat6(&f.kappa_p_std_error).collect(),
                &[nt, 6],
            );
        }
        put("kappa_P_3ph", flat6(&f.kappa_p_3ph).collect(), &[nt, 6]);
        put("kappa_C_3ph", flat6(&f.kappa_c_3ph).collect(), &[nt, 6]);
    }
    if let Some(iso) = &r.gamma_isotope {
        put(
            "gamma_isotope",
            iso.iter().flatten().copied().collect(),
            &[nq, nb],
        );
    }
    let kappa_total = r.total();
    // As phono3py 3.30+: `kappa` is the total of the run (= kappa_TOT_RTA with --wigner) and
    // `mode_kappa` the particle part (= mode_kappa_P_RTA with --wigner).
    put("kappa", flat6(&kappa_total).collect(), &[nt, 6]);
    // With --lbte, as phono3py's direct solution: `kappa` from the collision matrix, the RTA
    // values as `kappa_RTA` / `mode_kappa_RTA`.
    let mode_kappa = match (&r.lbte, &r.wigner) {
        (Some(l), _) => &l.mode_kappa,
        (None, Some(w)) => &w.mode_kappa_p,
        (None, None) => &r.mode_kappa,
    };
    if r.lbte.is_some() {
        put("kappa_RTA", flat6(&r.kappa).collect(), &[nt, 6]);
        put(
            "mode_kappa_RTA",
            flat_modes(&r.mode_kappa),
            &[nt, nq, nb, 6],
        );
    }
    put("mode_kappa", flat_modes(mode_kappa), &[nt, nq, nb, 6]);
    // phono3py writes its default 1e6 μm when there is no boundary scattering.
    put("boundary_mfp", vec![r.boundary_mfp.unwrap_or(1e6)], &[]);
    put("kappa_unit_conversion", vec![r.kappa_unit_conversion], &[]);
    if let Some(w) = &r.wigner {
        let sum = |a: &[[f64; 6]]| -> Vec<f64> {
            a.iter()
                .zip(&w.kappa_c)
                .flat_map(|(p, c)| (0..6).map(move |k| p[k] + c[k]))
                .collect()
        };
        put("kappa_P_RTA", flat6(&w.kappa_p).collect(), &[nt, 6]);
        put("kappa_C", flat6(&w.kappa_c).collect(), &[nt, 6]);
        put("kappa_TOT_RTA", sum(&w.kappa_p), &[nt, 6]);
        // phono3py's Wigner direct solution names: κ_P from the collision matrix ("exact").
        if let Some(l) = &r.lbte {
            put("kappa_P_exact", flat6(&l.kappa).collect(), &[nt, 6]);
            put("kappa_TOT_exact", sum(&l.kappa), &[nt, 6]);
        }
        put(
            "mode_kappa_P_RTA",
            flat_modes(&w.mode_kappa_p),
            &[nt, nq, nb, 6],
        );
        put(
            "mode_kappa_C",
            w.mode_kappa_c
                .iter()
                .flatten()
                .flatten()
                .flat_map(|s| flat6(s))
                .collect(),
            &[nt, nq, nb, nb, 6],
        );
    }
    let ints = |b: &mut FileBuilder, name: &str, v: Vec<i64>| {
        let n = v.len() as u64;
        b.create_dataset(name).with_i64_data(&v).with_shape(&[n]);
    };
    ints(&mut b, "mesh", r.mesh.iter().map(|&x| x as i64).collect());
    ints(
        &mut b,
        "grid_point",
        r.grid_points.iter().map(|&x| x as i64).collect(),
    );
    ints(
        &mut b,
        "weight",
        r.weights.iter().map(|&x| x as i64).collect(),
    );
    b.create_dataset("version")
        .with_ascii_strings(&[concat!("latdyn ", env!("CARGO_PKG_VERSION"))])
        .map_err(|e| Error::dataset(path, "version", e.to_string()))?;
    b.write(path)
        .map_err(|e| Error::dataset(path, "/", format!("cannot write: {e}")))
}

/// phono3py's per-grid-point file name (`--write-gamma`): kappa-m{mesh}-g{grid point}.hdf5.
pub fn gamma_file_name(dir: &Path, mesh: [usize; 3], grid_point: usize) -> PathBuf {
    dir.join(format!(
        "kappa-m{}{}{}-g{grid_point}.hdf5",
        mesh[0], mesh[1], mesh[2]
    ))
}

/// `--write-gamma`: one file per irreducible q in phono3py's per-grid-point layout (frequency,
/// gamma [T][band], gamma_N/gamma_U, gamma_isotope, group_velocity, gv_by_gv, heat_capacity,
/// grid_point, mesh, temperature, kappa_unit_conversion), named by phono3py's BZ grid index.
/// Returns the number of files written.
pub fn write_gamma_files(dir: &Path, r: &KappaResult) -> Result<usize> {
    let nt = r.temperatures.len();
    for iq in 0..r.qpoints.len() {
        let path = gamma_file_name(dir, r.mesh, r.grid_points[iq]);
        let nb = r.frequencies[iq].len() as u64;
        let mut b = FileBuilder::new();
        let mut put = |name: &str, data: Vec<f64>, shape: &[u64]| {
            b.create_dataset(name)
                .with_f64_data(&data)
                .with_shape(shape);
        };
        let per_t =
            |t: &[Vec<Vec<f64>>]| -> Vec<f64> { t.iter().flat_map(|x| x[iq].clone()).collect() };
        put("frequency", r.frequencies[iq].clone(), &[nb]);
        put("temperature", r.temperatures.clone(), &[nt as u64]);
        put("gamma", per_t(&r.gamma), &[nt as u64, nb]);
        if let Some(parts) = &r.gamma_parts {
            let p = &parts[iq];
            put("gamma_N", p.normal.concat(), &[nt as u64, nb]);
            put("gamma_U", p.umklapp.concat(), &[nt as u64, nb]);
        }
        if let Some(iso) = &r.gamma_isotope {
            put("gamma_isotope", iso[iq].clone(), &[nb]);
        }
        put(
            "group_velocity",
            r.group_velocities[iq].iter().flatten().copied().collect(),
            &[nb, 3],
        );
        put("gv_by_gv", flat6(&r.gv_by_gv[iq]).collect(), &[nb, 6]);
        put("heat_capacity", per_t(&r.heat_capacity), &[nt as u64, nb]);
        put("kappa_unit_conversion", vec![r.kappa_unit_conversion], &[]);
        b.create_dataset("grid_point")
            .with_i64_data(&[r.grid_points[iq] as i64])
            .with_shape(&[]);
        b.create_dataset("mesh")
            .with_i64_data(&r.mesh.map(|x| x as i64))
            .with_shape(&[3]);
        b.create_dataset("version")
            .with_ascii_strings(&[concat!("latdyn ", env!("CARGO_PKG_VERSION"))])
            .map_err(|e| Error::dataset(&path, "version", e.to_string()))?;
        b.write(&path)
            .map_err(|e| Error::dataset(&path, "/", format!("cannot write: {e}")))?;
    }
    Ok(r.qpoints.len())
}
