//! Three-phonon linewidths and the RTA/Wigner conductivity against phono3py
//! (shared/data/si-pbesol, 11×11×11, tetrahedron method, phono3py 4.8.2 and 3.31.1).
#![allow(clippy::needless_range_loop)]

mod common;
use common::*;
use latdyn::anharmonic::linewidth::DeltaMethod;
use latdyn::transport::job::{KappaOptions, KappaResult, run_kappa};

fn si_kappa(temps: &[f64], wigner: bool) -> KappaResult {
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let (fc3, asr) =
        latdyn::io::load_fc3(&input, &data("si-pbesol/fc/fc3.hdf5"), None, None).unwrap();
    assert!(asr < 1e-10, "fc3 ASR violation {asr}");
    let dm = input.dynamical_matrix(false).unwrap();
    run_kappa(
        &dm,
        &fc3,
        &KappaOptions {
            wigner,
            ..KappaOptions::new([11, 11, 11], temps.to_vec())
        },
    )
    .unwrap()
}

/// Γ at the 56 irreducible q (6 temperatures) and the RTA κ built from it.
///
/// Per mode, phono3py's two versions themselves differ by up to 3.5 % (280 of 1998 mode values
/// by more than 0.5 %, Γ-weighted mean 2.8e-3): the tetrahedron weights depend on details of
/// each version's triplet and BZ-grid handling. So per-mode Γ is checked in aggregate against
/// that spread, and κ tightly.
#[test]
fn si_gamma_and_kappa_match_phono3py_tetrahedron() {
    let r4 = json("si-pbesol/reference/kappa/kappa-v4_std-m111111.json");
    let r3 = json("si-pbesol/reference/kappa/kappa-v3_std-m111111.json");
    let temps = f64s(&r4["temperature_K"]);
    let res = si_kappa(&temps, false);
    assert_eq!(res.qpoints.len(), 56);
    assert_eq!(
        res.weights,
        r4["weight"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_u64().unwrap() as usize)
            .collect::<Vec<_>>()
    );
    for (name, r) in [("4.8.2", &r4), ("3.31.1", &r3)] {
        let (mut worst, mut dev, mut total) = (0.0f64, 0.0, 0.0);
        for it in 0..temps.len() {
            for iq in 0..56 {
                let reference = f64s(&r["gamma_THz_per_T"][it][iq]);
                for s in 0..6 {
                    let (a, b) = (res.gamma[it][iq][s], reference[s]);
                    if b.abs() < 1e-12 {
                        assert!(a.abs() < 1e-9, "q {iq} band {s}: {a} vs 0");
                        continue;
                    }
                    worst = worst.max((a - b).abs() / b);
                    dev += (a - b).abs();
                    total += b;
                }
            }
        }
        eprintln!(
            "Γ vs phono3py {name}: weighted mean deviation {:.2e}, largest {worst:.2e}",
            dev / total
        );
        assert!(dev / total < 4e-3 && worst < 4e-2, "{name}");
    }
    check_kappa(
        "κ vs 4.8.2",
        &res.kappa,
        &r4[format!("kappa_{VOIGT}")],
        &temps,
        2e-4,
    );
    check_kappa(
        "κ vs 3.31.1",
        &res.kappa,
        &r3[format!("kappa_{VOIGT}")],
        &temps,
        2e-3,
    );
}

/// κ_P with the velocity operator, κ_C and κ_TOT against phono3py 3.31.1 `--br --wigner`.
#[test]
fn si_wigner_kappa_matches_phono3py() {
    let r = json("si-pbesol/reference/kappa/kappa-v3_wigner-m111111.json");
    let temps = f64s(&r["temperature_K"]);
    let res = si_kappa(&temps, true);
    let w = res.wigner.as_ref().unwrap();
    check_kappa(
        "κ_P",
        &w.kappa_p,
        &r[format!("kappa_P_RTA_{VOIGT}")],
        &temps,
        2e-3,
    );
    // κ_C is 1e-4…1e-2 of κ_P here; compare it to its own size.
    for (it, t) in temps.iter().enumerate() {
        let c = f64s(&r[format!("kappa_C_{VOIGT}")][it]);
        let rel = (w.kappa_c[it][0] - c[0]).abs() / c[0];
        eprintln!(
            "κ_C at {t} K: {:.6} vs {:.6} ({:.1e})",
            w.kappa_c[it][0], c[0], rel
        );
        assert!(rel < 1e-3, "κ_C at {t} K");
    }
    let total: Vec<[f64; 6]> = (0..temps.len())
        .map(|it| std::array::from_fn(|c| w.kappa_p[it][c] + w.kappa_c[it][c]))
        .collect();
    check_kappa(
        "κ_TOT",
        &total,
        &r[format!("kappa_TOT_RTA_{VOIGT}")],
        &temps,
        2e-3,
    );
}

/// `latdyn kappa` end to end: kappa.json (the machine-readable face) and a kappa HDF5 whose
/// datasets, shapes and dtypes are those of phono3py's own Wigner file, with the same numbers
/// as the library call; 1 and 2 threads give identical files.
#[test]
fn kappa_command_writes_phono3py_layout_and_json() {
    let bin = env!("CARGO_BIN_EXE_latdyn");
    let dir = tmp_dir("kappa-cli");
    let mut outputs = vec![];
    for threads in ["1", "2"] {
        let out = dir.join(format!("t{threads}"));
        let o = std::process::Command::new(bin)
            .args(["--quiet", "--threads", threads, "kappa", "--cell"])
            .arg(data("si-pbesol/inputs/phono3py_disp.yaml"))
            .arg("--fc2")
            .arg(data("si-pbesol/fc/fc2.hdf5"))
            .arg("--fc3")
            .arg(data("si-pbesol/fc/fc3.hdf5"))
            .args([
                "--mesh",
                "6 6 6",
                "--temperatures",
                "300 600",
                "--wigner",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        outputs.push(out);
    }
    let k: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outputs[0].join("kappa.json")).unwrap())
            .unwrap();
    let nq = k["n_irreducible_q"].as_u64().unwrap() as usize;
    assert_eq!(k["qpoints"].as_array().unwrap().len(), nq);
    assert_eq!(k["gamma"].as_array().unwrap().len(), 2);
    assert_eq!(k["gamma"][0].as_array().unwrap().len(), nq);
    for it in 0..2 {
        let (p, c, t) = (
            f64s(&k["kappa_p"][it]),
            f64s(&k["kappa_c"][it]),
            f64s(&k["kappa_total"][it]),
        );
        for x in 0..6 {
            assert!((p[x] + c[x] - t[x]).abs() < 1e-12 * t[0]);
        }
        assert!(c[0] > 0.0 && p[0] > 10.0 * c[0]);
    }
    // Spectral decompositions add up to the totals (isotropic averages).
    let sp: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(outputs[0].join("kappa_spectral.json")).unwrap(),
    )
    .unwrap();
    for it in 0..2 {
        let d = &sp["temperatures"][it];
        let (p, c) = (f64s(&k["kappa_p"][it]), f64s(&k["kappa_c"][it]));
        let (p_iso, c_iso) = ((p[0] + p[1] + p[2]) / 3.0, (c[0] + c[1] + c[2]) / 3.0);
        let last = |key: &str| *f64s(&d[key]).last().unwrap();
        assert!((last("kappa_p_cumulative") - p_iso).abs() < 1e-10 * p_iso);
        assert!((last("kappa_c_cumulative") - c_iso).abs() < 1e-10 * c_iso);
        assert!((last("kappa_p_cumulative_mfp") - p_iso).abs() < 1e-10 * p_iso);
        // The tensor curves end at the full κ_P and κ_C tensors.
        for (key, total) in [
            ("kappa_p_cumulative_tensor", &p),
            ("kappa_c_cumulative_tensor", &c),
            ("kappa_p_cumulative_mfp_tensor", &p),
        ] {
            let end = f64s(d[key].as_array().unwrap().last().unwrap());
            for x in 0..6 {
                assert!((end[x] - total[x]).abs() < 1e-10 * total[0], "{key}[{x}]");
            }
        }
        let share: f64 = f64s(&d["regimes"]["kappa_share"]).iter().sum();
        assert!((share - 1.0).abs() < 1e-12);
    }
    assert!(outputs[0].join("lifetimes_300K.svg").is_file());
    // Identical results with 1 and 2 threads.
    assert_eq!(
        kappa_json_without_timing(&outputs[0]),
        kappa_json_without_timing(&outputs[1]),
        "kappa.json differs between 1 and 2 threads"
    );

    // HDF5 layout against phono3py's file.
    let ours = hdf5_pure::File::open(outputs[0].join("kappa-m666.hdf5")).unwrap();
    let theirs = hdf5_pure::File::open(data(
        "si-pbesol/reference/kappa/kappa-v3_wigner-m111111.hdf5",
    ))
    .unwrap();
    let names = theirs.root().datasets().unwrap();
    for name in names.iter().filter(|n| *n != "version") {
        let d = ours
            .dataset(name)
            .unwrap_or_else(|e| panic!("dataset {name} missing: {e}"));
        let shape: Vec<usize> = d.shape().unwrap().iter().map(|&x| x as usize).collect();
        let reference: Vec<usize> = theirs
            .dataset(name)
            .unwrap()
            .shape()
            .unwrap()
            .iter()
            .map(|&x| x as usize)
            .collect();
        // Same rank; the T and q axes follow each run, the band and tensor axes must agree.
        assert_eq!(
            shape.len(),
            reference.len(),
            "{name}: rank {shape:?} vs {reference:?}"
        );
        // Axis 0 of the temperature-dependent datasets is T (6 in the reference, 2 here); the
        // first axis of length 56 is the irreducible q (56 there, nq here).
        let t_dependent = ["temperature", "gamma", "heat_capacity"].contains(&name.as_str())
            || name.starts_with("kappa_") && name != "kappa_unit_conversion"
            || name == "kappa"
            || name.starts_with("mode_kappa");
        let q_axis = reference.iter().position(|&n| n == 56);
        let expected: Vec<usize> = reference
            .iter()
            .enumerate()
            .map(|(ax, &n)| {
                if t_dependent && ax == 0 {
                    2
                } else if Some(ax) == q_axis {
                    nq
                } else {
                    n
                }
            })
            .collect();
        assert_eq!(shape, expected, "{name}");
    }
    let kappa = ours.dataset("kappa_TOT_RTA").unwrap().read_f64().unwrap();
    let t0 = f64s(&k["kappa_total"][0]);
    for c in 0..6 {
        assert!((kappa[c] - t0[c]).abs() < 1e-12 * t0[0].abs());
    }
    assert_eq!(
        ours.dataset("mesh").unwrap().read_i64().unwrap(),
        vec![6, 6, 6]
    );
}

fn kappa_cmd(out: &std::path::Path, mesh: &str, extra: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_latdyn"));
    c.args(["--quiet", "--threads", "1", "kappa", "--cell"])
        .arg(data("si-pbesol/inputs/phono3py_disp.yaml"))
        .arg("--fc2")
        .arg(data("si-pbesol/fc/fc2.hdf5"))
        .arg("--fc3")
        .arg(data("si-pbesol/fc/fc3.hdf5"))
        .args(["--mesh", mesh, "--temperatures", "300", "--wigner", "--out"])
        .arg(out)
        .args(extra);
    c
}

/// Asserts two kappa.json texts are equal, reporting the first differing line (not the whole file).
fn assert_same(a: &str, b: &str, what: &str) {
    if let Some((n, (x, y))) = a
        .lines()
        .zip(b.lines())
        .enumerate()
        .find(|(_, (x, y))| x != y)
    {
        panic!(
            "{what}: kappa.json differs at line {}: '{x}' vs '{y}'",
            n + 1
        );
    }
    assert_eq!(
        a.lines().count(),
        b.lines().count(),
        "{what}: line counts differ"
    );
}

/// A run killed mid-way resumes from its per-q files and gives the same kappa.json as an
/// uninterrupted run; so does a run split with --q-range and merged.
#[test]
fn killed_and_split_runs_give_the_uninterrupted_result() {
    let dir = tmp_dir("kappa-resume");
    let mesh = "11 11 11";
    let full = dir.join("full");
    assert!(kappa_cmd(&full, mesh, &[]).status().unwrap().success());
    let reference = kappa_json_without_timing(&full);

    // Kill after a few q-points are on disk, then resume.
    let killed = dir.join("killed");
    let mut child = kappa_cmd(&killed, mesh, &[]).spawn().unwrap();
    let lw = killed.join("linewidths");
    let t0 = std::time::Instant::now();
    loop {
        let n = std::fs::read_dir(&lw).map(|d| d.count()).unwrap_or(0);
        if n >= 3 || t0.elapsed().as_secs() > 60 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let written = std::fs::read_dir(&lw).unwrap().count();
    assert!(written >= 3, "no linewidth files before the kill");
    if !killed.join("kappa.json").exists() {
        assert!(kappa_cmd(&killed, mesh, &[]).status().unwrap().success());
    }
    assert_same(
        &kappa_json_without_timing(&killed),
        &reference,
        "killed and resumed",
    );

    // Split over two "jobs", then merge.
    let split = dir.join("split");
    let o = kappa_cmd(&split, mesh, &["--q-range", "0:30"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("run again without --q-range"));
    assert!(
        kappa_cmd(&split, mesh, &["--q-range", "30:56"])
            .status()
            .unwrap()
            .success()
    );
    assert!(kappa_cmd(&split, mesh, &[]).status().unwrap().success());
    assert_same(
        &kappa_json_without_timing(&split),
        &reference,
        "split and merged",
    );

    // Other settings in the same folder are refused, not mixed in.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_latdyn"))
        .args(["--quiet", "kappa", "--cell"])
        .arg(data("si-pbesol/inputs/phono3py_disp.yaml"))
        .arg("--fc2")
        .arg(data("si-pbesol/fc/fc2.hdf5"))
        .arg("--fc3")
        .arg(data("si-pbesol/fc/fc3.hdf5"))
        .args(["--mesh", mesh, "--temperatures", "400", "--out"])
        .arg(&split)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("other settings"));
}

/// Isotope scattering (natural Si, g = 2.0070e-4) against phono3py 4.9.0 `--isotope` runs kept
/// in tests/data (commands in their `source` field): the Gaussian run mode by mode (Γ_iso and the
/// three-phonon Γ to rounding), the tetrahedron run summed over degenerate sets (Γ_iso
/// Γ-weighted deviation 8.4e-3, single modes up to 46 %: phono3py's tetrahedron Γ_iso is not
/// yet reproduced mode by mode, see the README), and κ with isotopes (tetrahedron: 1.8e-5).
#[test]
fn si_isotope_scattering_matches_phono3py() {
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let (fc3, _) =
        latdyn::io::load_fc3(&input, &data("si-pbesol/fc/fc3.hdf5"), None, None).unwrap();
    let dm = input.dynamical_matrix(false).unwrap();
    let g = latdyn::crystal::isotopes::mass_variance("Si").unwrap();
    assert!((g - 2.01e-4).abs() < 1e-6, "Si mass variance {g}");
    for (file, delta, tol_kappa) in [
        (
            "si_pbesol_isotope_gaussian0.1_m111111.json",
            DeltaMethod::Gaussian(0.1),
            1e-6,
        ),
        (
            "si_pbesol_isotope_m111111.json",
            DeltaMethod::Tetrahedron,
            5e-5,
        ),
    ] {
        let r = local(file);
        let temps = f64s(&r["temperature_K"]);
        let res = run_kappa(
            &dm,
            &fc3,
            &KappaOptions {
                delta,
                // The natural composition, as phono3py's default (it prints it as 2.01e-04).
                isotope: Some(vec![g; 2]),
                ..KappaOptions::new([11, 11, 11], temps.clone())
            },
        )
        .unwrap();
        let iso = res.gamma_isotope.as_ref().unwrap();
        if let DeltaMethod::Gaussian(_) = delta {
            // The three-phonon Γ per mode with the same Gaussian (acceptance: 0.5 %).
            let mut worst = 0.0f64;
            for iq in 0..res.qpoints.len() {
                let reference = f64s(&r["gamma_THz_per_T"][0][iq]);
                for s in 0..6 {
                    let (a, b) = (res.gamma[0][iq][s], reference[s]);
                    if b > 0.0 {
                        worst = worst.max((a - b).abs() / b);
                    } else {
                        assert!(a.abs() < 1e-12);
                    }
                }
            }
            eprintln!(
                "{file}: three-phonon Γ (Gaussian σ = 0.1 THz) largest deviation {worst:.1e}"
            );
            assert!(worst < 1e-10, "Gaussian Γ per mode: {worst}");
        }
        let (mut dev, mut total) = (0.0, 0.0);
        for (iq, freqs) in res.frequencies.iter().enumerate() {
            let reference = f64s(&r["gamma_isotope_THz"][iq]);
            for set in latdyn::harmonic::eigen::degenerate_sets(freqs, 1e-4) {
                let a: f64 = set.iter().map(|&s| iso[iq][s]).sum();
                let b: f64 = set.iter().map(|&s| reference[s]).sum();
                dev += (a - b).abs();
                total += b;
            }
        }
        eprintln!("{file}: Γ_iso weighted deviation {:.2e}", dev / total);
        assert!(
            dev / total
                < if delta == DeltaMethod::Tetrahedron {
                    1e-2
                } else {
                    1e-8
                },
            "{file}"
        );
        check_kappa(
            file,
            &res.kappa,
            &r[format!("kappa_{VOIGT}")],
            &temps,
            tol_kappa,
        );
    }
}

/// `--read-gamma`: with phono3py's own Γ, the κ formulas alone are compared — RTA κ against
/// phono3py 4.8.2 and the Wigner κ_P, κ_C against 3.31.1 — and a file of another mesh is refused.
#[test]
fn kappa_from_phono3py_gamma() {
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let dm = input.dynamical_matrix(false).unwrap();
    let opts = |wigner: bool, mesh: [usize; 3]| KappaOptions {
        wigner,
        ..KappaOptions::new(mesh, vec![])
    };
    let from = |file: &str, wigner: bool| match latdyn::transport::job::kappa_from_gamma_file(
        &dm,
        &data(&format!("si-pbesol/reference/kappa/{file}")),
        &opts(wigner, [11, 11, 11]),
    )
    .unwrap()
    {
        latdyn::transport::job::KappaRun::Complete(r) => *r,
        latdyn::transport::job::KappaRun::Partial { .. } => panic!("all Γ are in the file"),
    };
    let r4 = json("si-pbesol/reference/kappa/kappa-v4_std-m111111.json");
    let temps = f64s(&r4["temperature_K"]);
    let res = from("kappa-v4_std-m111111.hdf5", false);
    check_kappa(
        "κ(Γ of 4.8.2)",
        &res.kappa,
        &r4[format!("kappa_{VOIGT}")],
        &temps,
        2e-5,
    );
    let r3 = json("si-pbesol/reference/kappa/kappa-v3_wigner-m111111.json");
    let res = from("kappa-v3_wigner-m111111.hdf5", true);
    let w = res.wigner.as_ref().unwrap();
    check_kappa(
        "κ_P(Γ of 3.31.1)",
        &w.kappa_p,
        &r3[format!("kappa_P_RTA_{VOIGT}")],
        &temps,
        2e-5,
    );
    for (it, t) in temps.iter().enumerate() {
        let c = f64s(&r3[format!("kappa_C_{VOIGT}")][it]);
        let rel = (w.kappa_c[it][0] - c[0]).abs() / c[0];
        eprintln!(
            "κ_C(Γ of 3.31.1) at {t} K: {:.8} vs {:.8} ({rel:.1e})",
            w.kappa_c[it][0], c[0]
        );
        assert!(rel < 2e-5, "κ_C at {t} K");
    }
    let err = latdyn::transport::job::kappa_from_gamma_file(
        &dm,
        &data("si-pbesol/reference/kappa/kappa-v4_std-m111111.hdf5"),
        &opts(false, [9, 9, 9]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("mesh") && err.contains("[9, 9, 9]"), "{err}");
}

/// The cost plan counts the triplets the run will evaluate and scales sensibly.
#[test]
fn kappa_plan_counts_triplets() {
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let (fc3, _) =
        latdyn::io::load_fc3(&input, &data("si-pbesol/fc/fc3.hdf5"), None, None).unwrap();
    let km = latdyn::transport::job::kappa_mesh(input.primitive(), [11, 11, 11]).unwrap();
    let rot = &km.rotations;
    let opts = |mesh: [usize; 3], wigner: bool, lbte: bool| KappaOptions {
        wigner,
        lbte,
        ..KappaOptions::new(mesh, vec![300.0])
    };
    let p = latdyn::transport::plan::plan(&km, 6, &fc3, &opts([11, 11, 11], false, false), 2);
    let mesh = latdyn::harmonic::mesh::Mesh::gamma_centered([11, 11, 11]);
    let exact: usize = mesh
        .irreducible(rot)
        .ir_grid_points
        .iter()
        .map(|&g| {
            latdyn::anharmonic::triplets::triplets_at_q(&mesh, g, rot)
                .list
                .len()
        })
        .sum();
    assert_eq!((p.n_irreducible_q, p.n_triplets), (56, exact));
    // Past the exact-count limit the estimate N²/(2|G|) is used; 21³ is checked against it.
    let km21 = latdyn::transport::job::kappa_mesh(input.primitive(), [21, 21, 21]).unwrap();
    let big = latdyn::transport::plan::plan(&km21, 6, &fc3, &opts([21, 21, 21], true, false), 2);
    let n = 21f64.powi(3);
    assert!((big.n_triplets as f64 - n * n / (2.0 * rot.len() as f64)).abs() < 1.0);
    assert!(big.memory_bytes > p.memory_bytes && big.core_seconds > 10.0 * p.core_seconds);
    // The direct solution adds its reduced matrix: 21³ has 286 irreducible q, so at most
    // 18·286 = 5148 unknowns (5148² × 8 B = 212 MB); points on symmetry elements have fewer
    // (the vectors their little group fixes), so less — measured estimates track the real peak
    // within 2 % (Si 19³) and 25 % (AlN 12×12×8).
    let lbte = latdyn::transport::plan::plan(&km21, 6, &fc3, &opts([21, 21, 21], true, true), 2);
    let extra = lbte.memory_bytes - big.memory_bytes;
    eprintln!(
        "LBTE 21³: {} irreducible q, +{:.0} MB",
        lbte.n_irreducible_q,
        extra / 1e6
    );
    assert!(extra > 50e6 && extra < 215e6, "{extra}");
}

/// The per-q transformed fc3 (entries sharing R' − R'' collapsed, lattice phase tables) gives
/// the same reciprocal fc3 as the direct sum over all terms, for triplets whose q vectors sum to
/// a non-zero reciprocal lattice vector too.
#[test]
fn transformed_fc3_equals_direct_sum() {
    use latdyn::anharmonic::interaction::Fc3Fourier;
    use num_complex::Complex64 as C64;
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let (fc3, _) =
        latdyn::io::load_fc3(&input, &data("si-pbesol/fc/fc3.hdf5"), None, None).unwrap();
    let f = Fc3Fourier::new(input.primitive(), &fc3);
    let nb = 6;
    for (q0, q1) in [
        ([0.1, -0.2, 0.3], [0.25, 0.4, -0.15]),
        ([0.5, 0.5, 0.0], [0.45, 0.3, 0.2]),
    ] {
        // q'' chosen so that q + q' + q'' = (1, 0, -1).
        let q2 = [1.0 - q0[0] - q1[0], -q0[1] - q1[1], -1.0 - q0[2] - q1[2]];
        let mut direct = vec![C64::new(0.0, 0.0); nb * nb * nb];
        let mut fast = direct.clone();
        f.reciprocal(&[q0, q1, q2], &mut direct);
        f.at_q(&q0).reciprocal(&q1, &q2, &mut fast);
        let scale = direct.iter().map(|z| z.norm()).fold(0.0, f64::max);
        let diff = direct
            .iter()
            .zip(&fast)
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        assert!(diff < 1e-12 * scale, "{diff} (scale {scale})");
    }
}

/// `latdyn info --fc3 … --mesh` reports the κ run's cost before it is started: the same counts
/// as the plan, more memory with --lbte.
#[test]
fn info_estimates_a_kappa_run() {
    let run = |extra: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_latdyn"))
            .args(["info", "--cell"])
            .arg(data("si-pbesol/inputs/phono3py_disp.yaml"))
            .arg("--fc2")
            .arg(data("si-pbesol/fc/fc2.hdf5"))
            .arg("--fc3")
            .arg(data("si-pbesol/fc/fc3.hdf5"))
            .args(["--mesh", "11 11 11"])
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8(o.stdout).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("kappa run:"))
            .unwrap_or_else(|| panic!("no estimate in:\n{text}"))
            .to_string();
        assert!(line.contains("56 irreducible q"), "{line}");
        let mb: f64 = line
            .split("memory ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        mb
    };
    let (rta, lbte) = (run(&[]), run(&["--lbte"]));
    assert!(lbte > rta, "{lbte} MB with --lbte vs {rta} MB");
}

/// Γ per mode and its split into normal and umklapp parts against phono3py 4.9.0 `--nu
/// --average-degenerate-weights` (tests/data, made by validation/gen_phono3py_reference.py), its
/// BZ grid-point numbering, and the two identities of the split: N + U = Γ and
/// decay + coalescence = Γ.
///
/// phono3py's option averages the tetrahedron weights over degenerate bands at q' and q'', which
/// is the same sum as latdyn's average of |V|² over them (both independent of the eigenvector
/// basis inside degenerate subspaces); with it the tetrahedron Γ agrees per mode to rounding
/// (measured 2e-9). Without it phono3py's Γ depends on its basis choice (up to 3.6 % per mode,
/// the test above).
#[test]
fn si_normal_and_umklapp_gamma_match_phono3py() {
    let r: serde_json::Value = local("si_pbesol_nu_m111111.json");
    let temps = f64s(&r["temperature_K"]);
    let res = si_kappa(&temps, false);
    let grid_points: Vec<usize> = r["grid_point"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(res.grid_points, grid_points, "phono3py's BZ grid numbering");
    let parts = res.gamma_parts.as_ref().unwrap();
    let mut worst_gamma = 0.0f64;
    for it in 0..temps.len() {
        for iq in 0..56 {
            let reference = f64s(&r["gamma_THz_per_T"][it][iq]);
            for s in 0..6 {
                let (a, b) = (res.gamma[it][iq][s], reference[s]);
                if b > 0.0 {
                    worst_gamma = worst_gamma.max((a - b).abs() / b);
                } else {
                    assert!(a.abs() < 1e-12);
                }
            }
        }
    }
    eprintln!("tetrahedron Γ per mode: largest relative deviation {worst_gamma:.1e}");
    assert!(worst_gamma < 1e-7);
    for it in 0..temps.len() {
        let (mut dev_n, mut dev_u, mut total, mut worst_fraction) = (0.0, 0.0, 0.0, 0.0f64);
        let mut u_share = [0.0; 2];
        for iq in 0..56 {
            let (n_ref, u_ref) = (
                f64s(&r["gamma_N_THz_per_T"][it][iq]),
                f64s(&r["gamma_U_THz_per_T"][it][iq]),
            );
            let p = &parts[iq];
            for s in 0..6 {
                let g = res.gamma[it][iq][s];
                let (n, u) = (p.normal[it][s], p.umklapp[it][s]);
                assert!((n + u - g).abs() <= 1e-12 * g.max(1e-300), "N + U ≠ Γ");
                let dc = p.decay[it][s] + p.coalescence[it][s];
                assert!(
                    (dc - g).abs() <= 1e-12 * g.max(1e-300),
                    "decay + coalescence ≠ Γ"
                );
                assert!(p.decay[it][s] >= 0.0 && p.phase_space_decay[it][s] >= 0.0);
                let w = res.weights[iq] as f64;
                dev_n += w * (n - n_ref[s]).abs();
                dev_u += w * (u - u_ref[s]).abs();
                total += w * (n_ref[s] + u_ref[s]);
                u_share[0] += w * u;
                u_share[1] += w * u_ref[s];
                if n_ref[s] + u_ref[s] > 1e-3 {
                    worst_fraction =
                        worst_fraction.max((n / g - n_ref[s] / (n_ref[s] + u_ref[s])).abs());
                }
            }
        }
        eprintln!(
            "T = {} K: Γ_N mean deviation {:.2e}, Γ_U {:.2e}, worst N/Γ difference {worst_fraction:.2e}, umklapp share {:.4} vs {:.4}",
            temps[it],
            dev_n / total,
            dev_u / total,
            u_share[0] / total,
            u_share[1] / total
        );
        assert!(dev_n / total < 1e-8 && dev_u / total < 1e-8);
        assert!(worst_fraction < 1e-7);
        assert!((u_share[0] - u_share[1]).abs() / total < 1e-8);
    }
}

/// phono3py's `grid_point` numbering (its dense BZ grid: zone-surface points counted once per
/// shortest image) for even and odd meshes of Si and AlN, from phonopy's BZGrid
/// (tests/data/bz_grid_gp_map.json, validation/gen_bz_grid_reference.py).
#[test]
fn bz_grid_numbering_matches_phonopy() {
    let r: serde_json::Value = local("bz_grid_gp_map.json");
    for case in r["cases"].as_array().unwrap() {
        let name = case["data"].as_str().unwrap();
        let input = match name {
            "si-pbesol" => si_with("si-pbesol/fc/fc2.hdf5"),
            _ => aln_input(),
        };
        let cell = input.primitive();
        let n: Vec<usize> = case["mesh"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        let mesh = latdyn::harmonic::mesh::Mesh::gamma_centered([n[0], n[1], n[2]]);
        let bz = latdyn::harmonic::bz_grid::BzGrid::new(&mesh, &cell.reciprocal());
        let gp_map: Vec<usize> = case["gp_map"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(
            bz.n_points(),
            case["n_bz_points"].as_u64().unwrap() as usize,
            "{name} {n:?}"
        );
        for g in 0..mesh.n_points() {
            assert_eq!(bz.grid_point(g), gp_map[g], "{name} {n:?} point {g}");
        }
    }
}

/// The weighted phase space N₂(q, ω_λ) of every irreducible q (triplets reduced by the little
/// group) against a plain sum over all q' of the full mesh with the same Gaussian δ, for
/// Si 6×6×6 at 300 K: the class split and the symmetry reduction of the triplet weights.
#[test]
fn weighted_phase_space_equals_the_full_mesh_sum() {
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let (fc3, _) =
        latdyn::io::load_fc3(&input, &data("si-pbesol/fc/fc3.hdf5"), None, None).unwrap();
    let dm = input.dynamical_matrix(false).unwrap();
    let sigma = 0.3;
    let t = 300.0;
    let opts = KappaOptions {
        delta: DeltaMethod::Gaussian(sigma),
        ..KappaOptions::new([6, 6, 6], vec![t])
    };
    let res = run_kappa(&dm, &fc3, &opts).unwrap();
    let mesh = latdyn::harmonic::mesh::Mesh::gamma_centered([6, 6, 6]);
    let ph = latdyn::transport::job::mesh_phonons(&dm, &mesh, false, None).unwrap();
    let km = latdyn::transport::job::kappa_mesh(dm.primitive(), [6, 6, 6]).unwrap();
    let np = mesh.n_points();
    let cut = opts.cutoff_frequency;
    let gauss = |x: f64| {
        (-(x * x) / (2.0 * sigma * sigma)).exp() / (sigma * (std::f64::consts::TAU).sqrt())
    };
    let bose = |f: f64| latdyn::harmonic::thermo::bose(f, t);
    let parts = res.gamma_parts.as_ref().unwrap();
    let mut largest: f64 = 0.0;
    for (iq, &g0) in km.ir.ir_grid_points.iter().enumerate() {
        let f0 = ph.freqs(g0);
        for s in 0..6 {
            if f0[s] <= cut {
                continue;
            }
            let (mut decay, mut coalescence) = (0.0, 0.0);
            for g1 in 0..np {
                let g2 = latdyn::anharmonic::triplets::third_point(&mesh, g0, g1);
                for &f1 in ph.freqs(g1).iter().filter(|&&f| f > cut) {
                    for &f2 in ph.freqs(g2).iter().filter(|&&f| f > cut) {
                        let (n1, n2) = (bose(f1), bose(f2));
                        decay += (n1 + n2 + 1.0) * gauss(f0[s] - f1 - f2);
                        coalescence +=
                            (n1 - n2) * (gauss(f0[s] + f1 - f2) - gauss(f0[s] - f1 + f2));
                    }
                }
            }
            let (decay, coalescence) = (decay / np as f64, coalescence / np as f64);
            let (a, b) = (
                parts[iq].phase_space_decay[0][s],
                parts[iq].phase_space_coalescence[0][s],
            );
            let scale = decay + coalescence.abs();
            largest = largest.max(((a - decay).abs() + (b - coalescence).abs()) / scale);
        }
    }
    eprintln!("weighted phase space: largest relative difference {largest:.1e}");
    assert!(largest < 1e-10);
}

/// `--write-gamma` writes one file per irreducible q in phono3py's per-grid-point layout (the
/// dataset list of phono3py 4.9.0's `--nu --write-gamma` files), named by phono3py's BZ grid
/// index (an even mesh, where it differs from the regular index), and `--read-gamma FOLDER`
/// reads them back to the same κ_P and κ_C; a missing file is named in the error.
#[test]
fn write_gamma_files_round_trip() {
    let dir = tmp_dir("write-gamma");
    let run = dir.join("run");
    let o = kappa_cmd(&run, "8 8 8", &["--write-gamma", "--no-plots"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let k: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("kappa.json")).unwrap()).unwrap();
    let ours = hdf5_pure::File::open(run.join("kappa-m888.hdf5")).unwrap();
    let grid_points = ours.dataset("grid_point").unwrap().read_i64().unwrap();
    assert_eq!(
        grid_points.len(),
        k["n_irreducible_q"].as_u64().unwrap() as usize
    );
    // On 8×8×8 the zone-surface points shift phono3py's numbering away from the regular index.
    let regular: Vec<i64> = k["qpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let a: Vec<i64> = f64s(q).iter().map(|x| (x * 8.0).round() as i64).collect();
            a[0].rem_euclid(8) + 8 * (a[1].rem_euclid(8) + 8 * a[2].rem_euclid(8))
        })
        .collect();
    assert!(grid_points.iter().zip(&regular).any(|(g, r)| g != r));
    assert!(grid_points.iter().zip(&regular).all(|(g, r)| g >= r));
    let names = [
        "frequency",
        "gamma",
        "gamma_N",
        "gamma_U",
        "grid_point",
        "group_velocity",
        "gv_by_gv",
        "heat_capacity",
        "kappa_unit_conversion",
        "mesh",
        "temperature",
        "version",
    ];
    let gammas = ours.dataset("gamma").unwrap().read_f64().unwrap();
    let nb = 6;
    for (iq, &g) in grid_points.iter().enumerate() {
        let f = hdf5_pure::File::open(run.join(format!("kappa-m888-g{g}.hdf5"))).unwrap();
        let mut have = f.root().datasets().unwrap();
        have.sort();
        assert_eq!(have, names, "datasets of grid point {g}");
        assert_eq!(
            f.dataset("grid_point").unwrap().read_i64().unwrap(),
            vec![g]
        );
        assert_eq!(
            f.dataset("gamma").unwrap().read_f64().unwrap(),
            gammas[iq * nb..(iq + 1) * nb].to_vec()
        );
    }
    let from_files = dir.join("from-files");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_latdyn"))
        .args(["--quiet", "kappa", "--cell"])
        .arg(data("si-pbesol/inputs/phono3py_disp.yaml"))
        .arg("--fc2")
        .arg(data("si-pbesol/fc/fc2.hdf5"))
        .args(["--mesh", "8 8 8", "--wigner", "--no-plots", "--read-gamma"])
        .arg(&run)
        .arg("--out")
        .arg(&from_files)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(from_files.join("kappa.json")).unwrap())
            .unwrap();
    for key in ["kappa_p", "kappa_c"] {
        let (a, b) = (f64s(&k[key][0]), f64s(&r[key][0]));
        for c in 0..6 {
            assert!((a[c] - b[c]).abs() <= 1e-12 * a[0], "{key}: {a:?} vs {b:?}");
        }
    }
    std::fs::remove_file(run.join(format!("kappa-m888-g{}.hdf5", grid_points[3]))).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_latdyn"))
        .args(["--quiet", "kappa", "--cell"])
        .arg(data("si-pbesol/inputs/phono3py_disp.yaml"))
        .arg("--fc2")
        .arg(data("si-pbesol/fc/fc2.hdf5"))
        .args(["--mesh", "8 8 8", "--read-gamma"])
        .arg(&run)
        .arg("--out")
        .arg(dir.join("missing"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains(&format!("g{}.hdf5 is missing", grid_points[3])),
        "{err}"
    );
}
