//! Direct solution of the linearized BTE (`--lbte`) and boundary scattering against phono3py:
//! 4.9.0 runs kept in tests/data (validation/gen_phono3py_reference.py, with phono3py's
//! `--average-degenerate-weights`: the basis-independent Γ latdyn computes) and the 3.31.1 LBTE file of
//! shared/data/phono3py/Si-PBEsol; plus the RTA limit of the collision-matrix solver.
#![allow(clippy::needless_range_loop)]

mod common;
use common::*;
use latdyn::transport::job::{KappaOptions, assemble_with, kappa_mesh, run_kappa};
use latdyn::transport::lbte::{LbteSystem, StarMaps};

/// Si 11×11×11, tetrahedron method: κ from the collision matrix and the RTA κ of the same run
/// against phono3py 4.9.0 --lbte --average-degenerate-weights (measured: LBTE +1.2e-5, +4e-6,
/// +4e-6 at 100, 300, 700 K; RTA ≤ 1.0e-5). With the off-diagonal collisions set to zero the
/// solver must return the RTA κ exactly.
#[test]
fn si_lbte_matches_phono3py_and_reduces_to_rta() {
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let (fc3, _) =
        latdyn::io::load_fc3(&input, &data("si-pbesol/fc/fc3.hdf5"), None, None).unwrap();
    let dm = input.dynamical_matrix(false).unwrap();
    let reference = local("si_pbesol_lbte_m111111.json");
    let temps = f64s(&reference["temperature_K"]);
    let opts = KappaOptions {
        lbte: true,
        ..KappaOptions::new([11, 11, 11], temps.clone())
    };
    let res = run_kappa(&dm, &fc3, &opts).unwrap();
    let lbte = res.lbte.as_ref().unwrap();
    check_kappa(
        "κ_LBTE",
        &lbte.kappa,
        &reference[format!("kappa_{VOIGT}")],
        &temps,
        3e-5,
    );
    check_kappa(
        "κ_RTA",
        &res.kappa,
        &reference[format!("kappa_RTA_{VOIGT}")],
        &temps,
        2e-5,
    );
    // Normal processes make the full solution exceed the RTA in Si (by 3.8 % at 300 K).
    for it in 0..temps.len() {
        assert!(lbte.kappa[it][0] > 1.01 * res.kappa[it][0]);
        let sum: f64 = lbte.mode_kappa[it].iter().flatten().map(|m| m[0]).sum();
        assert!((sum / 1331.0 - lbte.kappa[it][0]).abs() < 1e-10 * lbte.kappa[it][0]);
    }

    // RTA limit: a system with no rows added has only the diagonal.
    let km = kappa_mesh(dm.primitive(), opts.mesh).unwrap();
    let (nq, nt) = (res.qpoints.len(), temps.len());
    let freqs: Vec<&[f64]> = res.frequencies.iter().map(|f| &f[..]).collect();
    let system = LbteSystem::new(
        StarMaps::new(&km.ir, &km.rotations, &km.cart),
        &res.weights,
        &freqs,
        opts.cutoff_frequency,
        nt,
    );
    let gamma_q = (0..nq)
        .map(|iq| (0..nt).map(|it| res.gamma[it][iq].clone()).collect())
        .collect();
    let diag = assemble_with(&dm, &km, gamma_q, None, Some(&system), false, &opts).unwrap();
    for it in 0..nt {
        let (a, b) = (diag.lbte.as_ref().unwrap().kappa[it], diag.kappa[it]);
        for c in 0..6 {
            assert!(
                (a[c] - b[c]).abs() < 1e-11 * b[0],
                "diagonal-only LBTE at {} K, component {c}: {} vs RTA {}",
                temps[it],
                a[c],
                b[c]
            );
        }
    }
}

/// Boundary scattering Γ_b = |v|/(4πL), L = 0.1 µm, against phono3py 4.9.0 --bmfp 0.1
/// (measured below 1e-6).
#[test]
fn si_boundary_scattering_matches_phono3py() {
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let (fc3, _) =
        latdyn::io::load_fc3(&input, &data("si-pbesol/fc/fc3.hdf5"), None, None).unwrap();
    let dm = input.dynamical_matrix(false).unwrap();
    let reference = local("si_pbesol_boundary0.1um_m111111.json");
    let temps = f64s(&reference["temperature_K"]);
    let res = run_kappa(
        &dm,
        &fc3,
        &KappaOptions {
            boundary_mfp: Some(0.1),
            ..KappaOptions::new([11, 11, 11], temps.clone())
        },
    )
    .unwrap();
    check_kappa(
        "κ_RTA with boundary",
        &res.kappa,
        &reference[format!("kappa_{VOIGT}")],
        &temps,
        1e-5,
    );
}

fn lbte_cmd(out: &std::path::Path, threads: &str, extra: &[&str]) -> std::process::Command {
    let d = "phono3py/Si-PBEsol";
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_latdyn"));
    c.args(["--quiet", "--threads", threads, "kappa", "--cell"])
        .arg(data(&format!("{d}/phono3py_disp.yaml")))
        .arg("--fc2")
        .arg(data(&format!("{d}/fc2.hdf5")))
        .arg("--fc3")
        .arg(data(&format!("{d}/fc3.hdf5")))
        .args([
            "--mesh",
            "7 7 7",
            "--temperatures",
            "100 300 500",
            "--lbte",
            "--no-plots",
            "--out",
        ])
        .arg(out)
        .args(extra);
    c
}

/// `latdyn kappa --lbte` on phono3py's own Si-PBEsol example (7×7×7, its 3.31.1 fc2/fc3):
/// the HDF5 has the datasets of phono3py's LBTE file; κ agrees with that file (cross-version:
/// the LBTE/RTA ratio to 5e-4, κ to 0.2 %, as phono3py 3.31.1's Γ differs from 4.x); 1 and 2
/// threads, and a run split with --q-range (collision rows on disk) give identical results.
#[test]
fn lbte_command_matches_phono3py_file_and_resumes() {
    let dir = tmp_dir("lbte-cli");
    let runs: Vec<_> = ["1", "2"]
        .iter()
        .map(|t| {
            let out = dir.join(format!("t{t}"));
            let o = lbte_cmd(&out, t, &[]).output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            out
        })
        .collect();
    assert_eq!(
        kappa_json_without_timing(&runs[0]),
        kappa_json_without_timing(&runs[1]),
        "kappa.json differs between 1 and 2 threads"
    );
    let split = dir.join("split");
    let o = lbte_cmd(&split, "2", &["--q-range", "0:9"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("run again without --q-range"));
    assert!(split.join("linewidths/q000000.collisions.bin").is_file());
    assert!(
        lbte_cmd(&split, "2", &[])
            .output()
            .unwrap()
            .status
            .success()
    );
    assert_eq!(
        kappa_json_without_timing(&split),
        kappa_json_without_timing(&runs[0])
    );

    let theirs = hdf5_pure::File::open(data("phono3py/Si-PBEsol/kappa-m777.lbte.hdf5")).unwrap();
    let ours = hdf5_pure::File::open(runs[0].join("kappa-m777.hdf5")).unwrap();
    // f_vector is an internal vector of phono3py's solver (no temperature axis); not written.
    for name in theirs.root().datasets().unwrap() {
        if ["version", "f_vector"].contains(&name.as_str()) {
            continue;
        }
        let shape = |f: &hdf5_pure::File| f.dataset(&name).map(|d| d.shape().unwrap());
        assert_eq!(
            shape(&ours).unwrap_or_else(|e| panic!("{name} missing: {e}")),
            shape(&theirs).unwrap(),
            "{name}"
        );
    }
    let gp = |f: &hdf5_pure::File| f.dataset("grid_point").unwrap().read_i64().unwrap();
    assert_eq!(gp(&ours), gp(&theirs), "phono3py's grid-point numbering");
    let read = |f: &hdf5_pure::File, n: &str| f.dataset(n).unwrap().read_f64().unwrap();
    let (k, k_rta) = (read(&ours, "kappa"), read(&ours, "kappa_RTA"));
    let (rk, rk_rta) = (read(&theirs, "kappa"), read(&theirs, "kappa_RTA"));
    for it in 0..3 {
        let x = 6 * it;
        let ratio = (k[x] / k_rta[x]) / (rk[x] / rk_rta[x]) - 1.0;
        eprintln!(
            "T{it}: κ_LBTE {:.4} vs {:.4} ({:+.3} %), LBTE/RTA ratio {ratio:+.1e}",
            k[x],
            rk[x],
            100.0 * (k[x] - rk[x]) / rk[x]
        );
        assert!(ratio.abs() < 5e-4);
        assert!((k[x] - rk[x]).abs() < 2e-3 * rk[x]);
    }
}

/// Symmetry reduction is exact: on Si 4×4×4 and on 4×4×3 — a mesh that breaks the cubic
/// symmetry, so only the operations it respects may be used — Γ at every grid point equals Γ
/// at its irreducible representative from a run with no symmetry at all (identity only), and
/// the Wigner κ_P and κ_C tensors agree. (Gaussian smearing: the tetrahedra's fixed main diagonal
/// is not symmetric, so with the tetrahedron method equivalent q get slightly different Γ, in
/// phono3py too. The RTA κ is not compared: unsymmetrized group velocities of degenerate bands
/// depend on the eigenvector basis, while the velocity operator of the Wigner terms does not.)
#[test]
fn symmetry_reduced_runs_equal_unreduced_runs() {
    use latdyn::transport::job::{KappaMesh, KappaRun, run_kappa_parts_on};
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let (fc3, _) =
        latdyn::io::load_fc3(&input, &data("si-pbesol/fc/fc3.hdf5"), None, None).unwrap();
    let dm = input.dynamical_matrix(false).unwrap();
    for mesh in [[4, 4, 4], [4, 4, 3]] {
        let opts = KappaOptions {
            wigner: true,
            delta: latdyn::anharmonic::linewidth::DeltaMethod::Gaussian(0.5),
            ..KappaOptions::new(mesh, vec![300.0])
        };
        let reduced = kappa_mesh(dm.primitive(), mesh).unwrap();
        let identity = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
        let grid = latdyn::harmonic::mesh::Mesh::gamma_centered(mesh);
        let plain = KappaMesh {
            rotations: vec![identity],
            cart: vec![[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]],
            ir: grid.irreducible(&[identity]),
            bz: reduced.bz.clone(),
            mesh: grid,
        };
        let run = |km: &KappaMesh| match run_kappa_parts_on(&dm, &fc3, km, &opts).unwrap() {
            KappaRun::Complete(r) => *r,
            KappaRun::Partial { .. } => unreachable!(),
        };
        let (a, b) = (run(&reduced), run(&plain));
        eprintln!(
            "mesh {mesh:?}: {} vs {} irreducible q, {} symmetry operations used",
            a.qpoints.len(),
            b.qpoints.len(),
            reduced.rotations.len()
        );
        assert!(a.qpoints.len() < b.qpoints.len());
        let gmax = a.gamma[0].iter().flatten().fold(0.0, |m: f64, x| m.max(*x));
        for (g, rep) in reduced.ir.grid_mapping.iter().enumerate() {
            let i = reduced.ir.ir_grid_points.binary_search(rep).unwrap();
            for s in 0..6 {
                assert!(
                    (a.gamma[0][i][s] - b.gamma[0][g][s]).abs() < 1e-12 * gmax,
                    "mesh {mesh:?}: Γ at grid point {g} band {s}"
                );
            }
        }
        let (wa, wb) = (a.wigner.as_ref().unwrap(), b.wigner.as_ref().unwrap());
        for (name, x, y) in [
            ("κ_P", wa.kappa_p[0], wb.kappa_p[0]),
            ("κ_C", wa.kappa_c[0], wb.kappa_c[0]),
        ] {
            eprintln!("  {name}: {x:?} vs {y:?}");
            for c in 0..6 {
                assert!(
                    (x[c] - y[c]).abs() < 1e-9 * y[0],
                    "{name} mesh {mesh:?} component {c}: {} vs {}",
                    x[c],
                    y[c]
                );
            }
        }
    }
}
