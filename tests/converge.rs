//! `latdyn converge`: per-mesh numbers equal the single-mesh commands (`kappa`, `adp`,
//! `phonons`) bit for bit, the extrapolation of AlN ADPs from coarse meshes predicts a dense
//! direct run and the limit of a dense series, resume, --auto, and bad input.

mod common;
use common::{data, tmp_dir};
use serde_json::Value;
use std::path::Path;

fn latdyn(args: &[&str], paths: &[(&str, &Path)]) -> std::process::Output {
    // The subcommand first, then the input files, then the other flags.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_latdyn"));
    cmd.arg("--quiet").arg(args[0]);
    for (flag, p) in paths {
        cmd.arg(flag).arg(p);
    }
    cmd.args(&args[1..]).output().unwrap()
}

fn ok(o: std::process::Output) -> String {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn read(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn si_files() -> Vec<(&'static str, std::path::PathBuf)> {
    vec![
        ("--cell", data("si-pbesol/inputs/phono3py_disp.yaml")),
        ("--fc2", data("si-pbesol/fc/fc2.hdf5")),
        ("--fc3", data("si-pbesol/fc/fc3.hdf5")),
    ]
}

fn as_refs<'a>(v: &'a [(&'static str, std::path::PathBuf)]) -> Vec<(&'static str, &'a Path)> {
    v.iter().map(|(a, p)| (*a, p.as_path())).collect()
}

fn scalar<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["scalars"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no scalar {name}"))
}

/// κ of every mesh of a series (tetrahedron and a Gaussian smearing series member, Wigner κ_P
/// and κ_C) equals `latdyn kappa` on that mesh to 1e-10 relative; the series resumes from its
/// linewidth files and gives the same numbers; the mesh points shared with finer meshes (6³ ⊂
/// 12³) are solved once.
#[test]
fn si_kappa_series_equals_single_kappa_runs() {
    let dir = tmp_dir("converge-si-kappa");
    let files = si_files();
    let series = dir.join("series");
    let args = [
        "converge",
        "--quantity",
        "kappa",
        "--meshes",
        "6 6 6; 8 8 8; 9 9 9; 12 12 12",
        "--temperatures",
        "300 600",
        "--wigner",
        "--smearing-series",
        "0.2",
        "--out",
        series.to_str().unwrap(),
    ];
    let stdout = ok(latdyn(&args, &as_refs(&files)));
    assert!(stdout.contains("converged"), "{stdout}");
    let c = read(&series.join("converge.json"));
    let meshes = c["meshes"].as_array().unwrap();
    assert_eq!(meshes.len(), 4);
    // 6³ ⊂ 12³: its 216 points are taken from the cache.
    assert!(f(&c["phonon_points"]["reused"]) >= 216.0);
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-300);
    let mut worst = 0.0f64;
    for (m, smearing) in meshes.iter().zip([None, Some("0.2"), None, None]) {
        let n = m["mesh"][0].as_u64().unwrap();
        let out = dir.join(format!("k{n}"));
        let mesh = format!("{n} {n} {n}");
        let mut a = vec![
            "kappa",
            "--mesh",
            &mesh,
            "--temperatures",
            "300 600",
            "--wigner",
            "--no-plots",
            "--out",
            out.to_str().unwrap(),
        ];
        if let Some(s) = smearing {
            a.extend(["--smearing", s]);
        }
        ok(latdyn(&a, &as_refs(&files)));
        let k = read(&out.join("kappa.json"));
        let by = &m["detail"]["by_delta"][if smearing.is_some() { 1 } else { 0 }];
        for key in ["kappa_p", "kappa_c", "kappa_total"] {
            for it in 0..2 {
                for c in 0..3 {
                    worst = worst.max(rel(f(&by[key][it][c]), f(&k[key][it][c])));
                }
            }
        }
        // The main series' scalars are those numbers too.
        if smearing.is_none() {
            let v = f(&m["values"]["kappa_total xx 300K"]);
            assert_eq!(v, f(&k["kappa_total"][0][0]));
        }
    }
    assert!(worst <= 1e-10, "series vs single runs: {worst:e}");
    // The extrapolation is stated with an uncertainty, and the limits lie above the coarse
    // values of this rising series.
    let s = scalar(&c, "kappa_total xx 300K");
    let e = &s["extrapolation"];
    assert!(f(&e["uncertainty"]) > 0.0 && f(&e["uncertainty"]).is_finite());
    assert!(f(&e["limit"]) > f(&s["values"][0]));
    assert_eq!(e["meshes_used"], 4);
    assert!(c["verdict"]["message"].as_str().unwrap().len() > 10);
    assert_eq!(c["smearing_series"].as_array().unwrap().len(), 2);
    let csv = std::fs::read_to_string(series.join("converge.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5);
    for p in [
        "converge_300K.svg",
        "converge_300K.png",
        "converge_smearing_600K.png",
    ] {
        assert!(series.join(p).is_file(), "{p}");
    }
    // Resume: the same command again reads every linewidth from m*/linewidths and agrees.
    assert!(series.join("m8x8x8/linewidths").is_dir());
    assert!(series.join("m8x8x8-smearing1/linewidths").is_dir());
    ok(latdyn(&args, &as_refs(&files)));
    let again = read(&series.join("converge.json"));
    assert_eq!(again["scalars"], c["scalars"]);
    assert_eq!(again["smearing_series"], c["smearing_series"]);
}

fn aln_paths() -> Vec<(&'static str, std::path::PathBuf)> {
    vec![
        ("--cell", data("aln-lda/POSCAR-unitcell")),
        ("--fc2", data("aln-lda/fc2.hdf5")),
        ("--born", data("aln-lda/BORN")),
    ]
}

/// AlN ADPs (NAC on) at 0 and 300 K: a series of coarse meshes up to 20×20×14 (under a second)
/// extrapolated with the N^(−1/3) (T > 0) and N^(−2/3) (T = 0) laws
/// * predicts the direct 40×40×28 run — its fit line evaluated at N = 44 800 — within the
///   stated uncertainty of the limit, for every non-zero component;
/// * agrees with the limit of a dense series (28×28×20 … 48×48×34) within 1.5 times the
///   combined uncertainty (the stated uncertainty is about one standard deviation: the two
///   limits differ by 0.6–1.1 of it);
/// * the direct 40×40×28 value itself is 1–1.7 % below the limit at 300 K: that mesh is not
///   converged for ADPs, which the series makes visible;
/// * the dense series' 40×40×28 tensors equal `latdyn adp --mesh "40 40 28"` to 1e-12, and the
///   N^(−1/3) law fits the 300 K series far better than 1/N (fit error 7× smaller).
#[test]
fn aln_adp_extrapolation_predicts_dense_runs() {
    let dir = tmp_dir("converge-aln-adp");
    let files = aln_paths();
    let files = as_refs(&files);
    let sup = ["--supercell", "5 5 3", "--temperatures", "0 300"];
    let run = |meshes: &str, name: &str, extra: &[&str]| -> Value {
        let out = dir.join(name);
        let mut a = vec!["converge", "--quantity", "adp", "--meshes", meshes];
        a.extend(sup);
        a.extend(extra);
        a.extend(["--no-plots", "--out", out.to_str().unwrap()]);
        ok(latdyn(&a, &files));
        read(&out.join("converge.json"))
    };
    let coarse = run("8 8 6; 10 10 7; 12 12 8; 16 16 11; 20 20 14", "coarse", &[]);
    let dense = run("28 28 20; 40 40 28; 48 48 34", "dense", &[]);
    let out40 = dir.join("direct");
    let mut a = vec!["adp", "--mesh", "40 40 28", "--quick", "--out"];
    a.push(out40.to_str().unwrap());
    a.extend(sup);
    ok(latdyn(&a, &files));
    let direct = read(&out40.join("adp.json"));
    let pairs = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)];
    let comps = ["xx", "yy", "zz", "yz", "xz", "xy"];
    let labels = ["Al1", "Al2", "N3", "N4"];
    let n40 = 40.0 * 40.0 * 28.0f64;
    let (mut checked, mut worst_prediction, mut worst_limits) = (0, 0.0f64, 0.0f64);
    for (it, t) in ["0K", "300K"].iter().enumerate() {
        for (k, label) in labels.iter().enumerate() {
            for (c, (i, j)) in pairs.iter().enumerate() {
                let u40 = f(&direct["u_cart"][it][k][*i][*j]);
                // Same mesh, same numbers: the dense series' second mesh is the direct run.
                let d = scalar(&dense, &format!("U {label} {} {t}", comps[c]));
                assert!((f(&d["values"][1]) - u40).abs() <= 1e-12 * u40.abs().max(1e-3));
                if u40.abs() < 1e-6 {
                    continue;
                }
                let s = scalar(&coarse, &format!("U {label} {} {t}", comps[c]));
                let e = &s["extrapolation"];
                let (limit, unc) = (f(&e["limit"]), f(&e["uncertainty"]));
                assert_eq!(e["log"], false);
                let predicted = limit + f(&e["slope"]) * n40.powf(-f(&e["exponent"]));
                worst_prediction = worst_prediction.max((predicted - u40).abs() / unc);
                let ed = &d["extrapolation"];
                let combined = unc.hypot(f(&ed["uncertainty"]));
                worst_limits = worst_limits.max((limit - f(&ed["limit"])).abs() / combined);
                if it == 1 {
                    let below = (limit - u40) / limit;
                    assert!(below > 0.009 && below < 0.02, "{label} {t}: {below}");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 24);
    assert!(
        worst_prediction <= 1.0,
        "prediction of 40×40×28: {worst_prediction} σ"
    );
    assert!(
        worst_limits <= 1.5,
        "coarse vs dense limits: {worst_limits} σ"
    );
    // The N^(−1/3) law describes the 300 K series; forcing 1/N leaves large residuals.
    let forced = run(
        "8 8 6; 10 10 7; 12 12 8; 16 16 11; 20 20 14",
        "forced",
        &["--exponent", "1"],
    );
    let name = "U N3 zz 300K";
    let good = f(&scalar(&coarse, name)["extrapolation"]["fit_error"]);
    let bad = f(&scalar(&forced, name)["extrapolation"]["fit_error"]);
    assert!(bad > 5.0 * good, "fit error 1/N {bad:e} vs N^-1/3 {good:e}");
}

/// Thermodynamics per mesh equal `latdyn phonons --mesh` (thermal.json) exactly; the series
/// converges to 0.1 % (20×20×20 on; C_v at 1000 K is exactly C∞ − 3R/N: the Γ acoustic modes
/// left out each miss k_B) and says from which mesh; the DOS series' L1 change shrinks with the mesh.
#[test]
fn si_thermal_and_dos_series() {
    let dir = tmp_dir("converge-si-thermal");
    let files = si_files();
    let files = as_refs(&files[..2]);
    let out = dir.join("thermal");
    let stdout = ok(latdyn(
        &[
            "converge",
            "--quantity",
            "thermal",
            "--meshes",
            "8 8 8; 12 12 12; 16 16 16; 20 20 20; 24 24 24",
            "--temperatures",
            "100 300 1000",
            "--tolerance",
            "0.1%",
            "--out",
            out.to_str().unwrap(),
        ],
        &files,
    ));
    let c = read(&out.join("converge.json"));
    for m in c["meshes"].as_array().unwrap() {
        let n = m["mesh"][0].as_u64().unwrap();
        let p = dir.join(format!("p{n}"));
        let mesh = format!("{n} {n} {n}");
        ok(latdyn(
            &[
                "phonons",
                "--mesh",
                &mesh,
                "--temperatures",
                "100 300 1000",
                "--no-plots",
                "--out",
                p.to_str().unwrap(),
            ],
            &files,
        ));
        let t = read(&p.join("thermal.json"));
        for (it, temp) in ["100", "300", "1000"].iter().enumerate() {
            assert_eq!(
                f(&m["values"][format!("Cv {temp}K")]),
                f(&t["heat_capacity"][it])
            );
            assert_eq!(
                f(&m["values"][format!("F {temp}K")]),
                f(&t["free_energy"][it])
            );
            assert_eq!(f(&m["values"][format!("S {temp}K")]), f(&t["entropy"][it]));
        }
    }
    assert_eq!(c["verdict"]["converged"], true, "{stdout}");
    assert!(c["verdict"]["first_mesh"].is_array());
    let cv = scalar(&c, "Cv 300K");
    let e = &cv["extrapolation"];
    assert!((f(&cv["values"][4]) - f(&e["limit"])).abs() < 1e-3 * f(&e["limit"]));
    // At 1000 K every mode but the three Γ acoustic ones (left out, each missing k_B) is in the
    // classical limit, so C_v(N) = C∞ − 3R/N: the 1/N fit is exact, with slope −3R.
    let cv = scalar(&c, "Cv 1000K");
    let e = &cv["extrapolation"];
    let three_r = 3.0 * latdyn::units::KB_EV * latdyn::units::EV_TO_KJ_PER_MOL * 1000.0;
    assert!((f(&e["slope"]) + three_r).abs() < 1e-6 * three_r, "{e}");
    assert!(f(&e["uncertainty"]) < 1e-10 * f(&e["limit"]), "{e}");

    let out = dir.join("dos");
    ok(latdyn(
        &[
            "converge",
            "--quantity",
            "dos",
            "--meshes",
            "6 6 6; 12 12 12; 24 24 24",
            "--tolerance",
            "50%",
            "--out",
            out.to_str().unwrap(),
        ],
        &files,
    ));
    let d = read(&out.join("converge.json"));
    let changes: Vec<f64> = d["dos"]["change_from_previous_mesh"]
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    assert_eq!(changes.len(), 3);
    assert!(changes[2] < changes[1], "{changes:?}");
    assert_eq!(
        d["verdict"]["converged"],
        changes[1] <= 0.5 && changes[2] <= 0.5
    );
    // Every mesh's DOS holds 3n = 6 states per cell on the common grid.
    assert!((f(&d["meshes"][2]["detail"]["states"]) - 6.0).abs() < 1e-2);
    assert!(out.join("converge_dos.svg").is_file());
}

/// --auto: meshes of equal q-spacing grow until the tolerance holds (thermodynamics) or the
/// stated cost budget stops the series (κ).
#[test]
fn auto_series_stop_at_tolerance_or_budget() {
    let dir = tmp_dir("converge-auto");
    let files = si_files();
    let out = dir.join("thermal");
    ok(latdyn(
        &[
            "converge",
            "--quantity",
            "thermal",
            "--auto",
            "--start-q-points",
            "30",
            "--tolerance",
            "0.5%",
            "--temperatures",
            "300",
            "--no-plots",
            "--out",
            out.to_str().unwrap(),
        ],
        &as_refs(&files[..2]),
    ));
    let c = read(&out.join("converge.json"));
    assert_eq!(c["outcome"]["stopped_by"], "converged");
    let meshes: Vec<Vec<u64>> = c["meshes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["mesh"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect()
        })
        .collect();
    assert!(meshes.len() >= 3);
    for m in &meshes {
        assert!(m[0] == m[1] && m[1] == m[2], "{meshes:?}");
    }
    let out = dir.join("kappa");
    ok(latdyn(
        &[
            "converge",
            "--quantity",
            "kappa",
            "--auto",
            "--start-q-points",
            "100",
            "--max-core-seconds",
            "0.5",
            "--no-plots",
            "--out",
            out.to_str().unwrap(),
        ],
        &as_refs(&files),
    ));
    let c = read(&out.join("converge.json"));
    let why = c["outcome"]["stopped_by"].as_str().unwrap();
    assert!(why.starts_with("cost"), "{why}");
}

#[test]
fn converge_rejects_bad_requests() {
    let dir = tmp_dir("converge-bad");
    let files = si_files();
    let out = dir.to_str().unwrap();
    let err = |args: &[&str], n: usize| -> String {
        let mut a = vec!["converge", "--out", out];
        a.extend(args);
        let o = latdyn(&a, &as_refs(&files[..n]));
        assert!(!o.status.success());
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let e = err(&["--quantity", "kappa", "--meshes", "4 4 4; 6 6 6"], 2);
    assert!(e.contains("needs --fc3"), "{e}");
    let e = err(&["--quantity", "adp", "--meshes", "4 4 4"], 2);
    assert!(e.contains("at least two meshes"), "{e}");
    let e = err(&["--quantity", "adp", "--meshes", "4 4; 6 6 6"], 2);
    assert!(e.contains("three positive integers"), "{e}");
    let e = err(
        &[
            "--quantity",
            "adp",
            "--meshes",
            "4 4 4; 6 6 6",
            "--tolerance",
            "lots",
        ],
        2,
    );
    assert!(e.contains("--tolerance"), "{e}");
    let e = err(
        &[
            "--quantity",
            "adp",
            "--meshes",
            "4 4 4; 6 6 6",
            "--fc4",
            "FORCE_CONSTANTS_4TH",
        ],
        3,
    );
    assert!(
        e.contains("four-phonon") && e.contains("--quantity kappa"),
        "{e}"
    );
}
