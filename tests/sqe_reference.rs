//! One-phonon S(Q,E) (issue 5): against phonopy's DynamicStructureFactor for Si (X-ray and neutron,
//! tests/data/si_sqe_phonopy.json from validation/gen_sqe_reference.py) and physical identities:
//! G translation, the Bragg-point acoustic limit, detailed balance, the powder average of an
//! anisotropic Einstein crystal, and the CLI's files.

mod common;

use common::{local, si_with, tmp_dir};
use latdyn::crystal::Cell;
use latdyn::fc::{Fc2, Pair};
use latdyn::harmonic::dynmat::DynamicalMatrix;
use latdyn::harmonic::eigen::degenerate_sets;
use latdyn::linalg::Mat3;
use latdyn::scattering::factors::{Probe, amplitudes, neutron};
use latdyn::scattering::lineshape::{EnergyGrid, Lineshape};
use latdyn::scattering::linewidths::Linewidths;
use latdyn::scattering::powder::{fibonacci_directions, powder_spectrum};
use latdyn::scattering::spectra::{SpectrumSettings, spectrum};
use latdyn::scattering::sqe::{QBasis, SqeModel};
use latdyn::units::{KB_EV, SQE_SCALE, THZ_TO_MEV};

fn u_from(reference: &serde_json::Value) -> Vec<Mat3> {
    serde_json::from_value(reference["u_cart"].clone()).unwrap()
}

/// Intensities summed over degenerate sets (single modes inside a set depend on the eigenvector
/// basis, which LAPACK and faer choose differently).
fn set_sums(freqs: &[f64], values: &[f64]) -> Vec<f64> {
    degenerate_sets(freqs, 1e-4)
        .iter()
        .map(|s| s.iter().map(|&i| values[i]).sum())
        .collect()
}

#[test]
fn si_one_phonon_weights_match_phonopy() {
    let r = local("si_sqe_phonopy.json");
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let dm = input.dynamical_matrix(false).unwrap();
    let prim = input.primitive();
    let unit = input.structure.unit_cell.lattice;
    // Debye–Waller U from latdyn's own harmonic ADPs on phonopy's mesh equals phonopy's.
    let mesh = latdyn::harmonic::mesh::Mesh::gamma_centered([20, 20, 20]).all_qpoints();
    let adps = latdyn::adp::harmonic::harmonic_adps(&dm, &mesh, &[300.0], 1e-3, false).unwrap();
    let u_ref = u_from(&r);
    for (k, u) in adps.u_cart[0].iter().enumerate() {
        for a in 0..3 {
            for b in 0..3 {
                assert!((u[a][b] - u_ref[k][a][b]).abs() < 1e-12, "U[{k}][{a}][{b}]");
            }
        }
    }
    let qs: Vec<[f64; 3]> = serde_json::from_value(r["q_conventional"].clone()).unwrap();
    let qs_prim: Vec<[f64; 3]> = serde_json::from_value(r["q_primitive"].clone()).unwrap();
    for probe in [Probe::Xray, Probe::Neutron] {
        let key = if probe == Probe::Xray {
            "xray"
        } else {
            "neutron"
        };
        let model = SqeModel {
            dm: &dm,
            amplitudes: amplitudes(&prim.symbols, probe, &[]).unwrap(),
            u_cart: Some(adps.u_cart[0].clone()),
            temperature: 300.0,
            freq_min: 1e-3,
        };
        let freqs: Vec<Vec<f64>> = serde_json::from_value(r[key]["frequencies"].clone()).unwrap();
        let ints: Vec<Vec<f64>> = serde_json::from_value(r[key]["intensities"].clone()).unwrap();
        let largest = ints.iter().flatten().copied().fold(0.0, f64::max);
        let mut worst: f64 = 0.0;
        for (i, q) in qs.iter().enumerate() {
            let qp = QBasis::Conventional.to_primitive(q, &unit, &prim.lattice);
            for c in 0..3 {
                assert!(
                    (qp[c] - qs_prim[i][c]).abs() < 1e-12,
                    "Q {q:?} in the primitive basis"
                );
            }
            let p = model.at(&qp).unwrap();
            for (a, b) in p.frequencies.iter().zip(&freqs[i]) {
                assert!((a - b).abs() < 1e-6, "{key} Q {q:?}: f {a} vs {b}");
            }
            let ours = set_sums(&p.frequencies, &p.stokes);
            let theirs = set_sums(&p.frequencies, &ints[i]);
            for (a, b) in ours.iter().zip(&theirs) {
                // Relative 1e-4; weights below 1e-12 of the largest are rounding noise (silent modes).
                let rel = (a - b).abs() / b.abs().max(1e-12 * largest);
                worst = worst.max(rel);
                assert!(
                    rel < 1e-4,
                    "{key} Q {q:?}: {a} vs phonopy {b} (rel {rel:.2e})"
                );
            }
        }
        eprintln!("{key}: worst relative difference to phonopy {worst:.2e}");
    }
}

fn si_model(dm: &DynamicalMatrix, probe: Probe, t: f64) -> SqeModel<'_> {
    SqeModel {
        dm,
        amplitudes: amplitudes(&dm.primitive().symbols, probe, &[]).unwrap(),
        u_cart: None,
        temperature: t,
        freq_min: 1e-3,
    }
}

#[test]
fn weights_do_not_depend_on_the_choice_of_g() {
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let dm = input.dynamical_matrix(false).unwrap();
    let model = si_model(&dm, Probe::Xray, 300.0);
    for q in [[1.37, -0.42, 2.11], [0.5, 0.5, 0.5], [3.1, 2.9, -0.25]] {
        let base = model.at(&q).unwrap();
        for g in [[0, 0, 0], [1, 2, -1], [-3, 0, 4]] {
            // D evaluated at q = Q − G for a G far from the nearest one: same modes, same weights.
            let p = model.at_with_g(&q, g).unwrap();
            let (a, b) = (
                set_sums(&base.frequencies, &base.stokes),
                set_sums(&p.frequencies, &p.stokes),
            );
            let big = a.iter().copied().fold(0.0, f64::max);
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() <= 1e-9 * big, "Q {q:?}, G {g:?}: {x} vs {y}");
            }
        }
    }
}

#[test]
fn acoustic_weights_near_a_bragg_point_follow_the_rigid_lattice_limit() {
    // Q = G + ε n̂: the three acoustic modes are uniform translations, so
    // Σ_acoustic I_s f_s/(n_s + 1) → |Q|² |Σ_κ A_κ e^{iG·r_κ}|²/(2 m N_atoms) · C (no DW), O(ε²).
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let dm = input.dynamical_matrix(false).unwrap();
    let prim = dm.primitive().clone();
    let model = si_model(&dm, Probe::Neutron, 300.0);
    let b = neutron("Si").unwrap().at(0.0);
    let g = [1.0, 1.0, 1.0]; // primitive (1,1,1) = the conventional (1 1 1) reflection.
    for (dir, eps) in [([0.1, 0.0, 0.0], 1e-3), ([0.03, -0.02, 0.05], 5e-4)] {
        let q = [
            g[0] + eps * dir[0] / 0.1,
            g[1] + eps * dir[1] / 0.1,
            g[2] + eps * dir[2] / 0.1,
        ];
        let p = model.at(&q).unwrap();
        let qc = p.q_cartesian;
        let q2: f64 = qc.iter().map(|x| x * x).sum();
        let f_g: num_complex::Complex64 = (0..2)
            .map(|k| {
                let ph = std::f64::consts::TAU
                    * (0..3).map(|c| g[c] * prim.positions[k][c]).sum::<f64>();
                num_complex::Complex64::from_polar(b, ph)
            })
            .sum();
        let want = q2 * f_g.norm_sqr() / (2.0 * prim.masses[0] * 2.0) * SQE_SCALE;
        let got: f64 = (0..3)
            .map(|s| {
                let n = 1.0 / (p.frequencies[s] * THZ_TO_MEV * 1e-3 / (KB_EV * 300.0)).exp_m1();
                p.stokes[s] * p.frequencies[s] / (n + 1.0)
            })
            .sum();
        assert!(
            ((got - want) / want).abs() < 1e-3,
            "ε {eps}: {got} vs {want}"
        );
        assert!(
            p.frequencies[2] < 0.5,
            "acoustic frequencies near G should be small"
        );
    }
}

#[test]
fn dho_spectra_obey_detailed_balance_and_resolution_keeps_the_integral() {
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let dm = input.dynamical_matrix(false).unwrap();
    let t = 300.0;
    let model = si_model(&dm, Probe::Xray, t);
    let grid = EnergyGrid::new(-200.0, 200.0, 0.1).unwrap();
    let settings = SpectrumSettings {
        grid: grid.clone(),
        shape: Lineshape::Dho,
        linewidths: Some(Linewidths::Constant(2.0)),
        q_resolution: None,
    };
    let q = [1.37, -0.42, 2.11];
    let (raw, _) = spectrum(&model, &q, &settings, None).unwrap();
    let kt = KB_EV * 1e3 * t;
    let n = grid.n;
    for i in (0..n / 2).step_by(97) {
        let e = grid.energy(n - 1 - i);
        let (pos, neg) = (raw[n - 1 - i], raw[i]);
        assert!((grid.energy(i) + e).abs() < 1e-9);
        if pos > 1e-12 * raw.iter().copied().fold(0.0, f64::max) {
            // Bin averaging of e^{−E/kT} across a 0.1 meV bin: second order, < 1e-5 here.
            assert!(
                (neg / pos / (-e / kt).exp() - 1.0).abs() < 1e-4,
                "E {e}: {neg}/{pos}"
            );
        }
    }
    let res = latdyn::scattering::resolution::Resolution::new(1.5, Some(0.2)).unwrap();
    let (conv, lost) = spectrum(&model, &q, &settings, Some(&res)).unwrap();
    let (a, b): (f64, f64) = (raw.iter().sum(), conv.iter().sum::<f64>());
    assert!(((a - b) / a - lost).abs() < 1e-12, "reported loss {lost}");
    // The pseudo-Voigt tails reach beyond ±200 meV only at the 1e-3 level; what stays is conserved.
    assert!(lost < 2e-3, "lost {lost}");
}

#[test]
fn powder_average_of_an_anisotropic_einstein_crystal_is_analytic() {
    // One atom on a cubic lattice tied to its site by springs k = (2, 5, 9) eV/Å²: three flat modes
    // polarised along x, y, z. Σ_E S(Q,E) = Σ_a (n_a+1)/f_a Q_a² b²/(2m) C, so the orientational
    // average is |Q|²/3 · b²/(2m) C Σ_a (n_a+1)/f_a.
    let a = 3.0;
    let cell = Cell::new(
        [[a, 0.0, 0.0], [0.0, a, 0.0], [0.0, 0.0, a]],
        vec![[0.0; 3]],
        vec!["Ar".into()],
        vec![39.948],
    )
    .unwrap();
    let k = [2.0, 5.0, 9.0];
    let fc = Fc2 {
        n_atoms: 1,
        pairs: vec![Pair {
            i: 0,
            j: 0,
            cell: [0, 0, 0],
            phi: [[k[0], 0.0, 0.0], [0.0, k[1], 0.0], [0.0, 0.0, k[2]]],
        }],
    };
    let dm = DynamicalMatrix::new(&cell, &fc, None);
    let t = 50.0;
    let model = SqeModel {
        dm: &dm,
        amplitudes: amplitudes(&cell.symbols, Probe::Neutron, &[]).unwrap(),
        u_cart: None,
        temperature: t,
        freq_min: 1e-3,
    };
    // Modes at 14.5, 22.9 and 30.7 meV.
    let grid = EnergyGrid::new(0.0, 40.0, 0.05).unwrap();
    let settings = SpectrumSettings {
        grid: grid.clone(),
        shape: Lineshape::Delta,
        linewidths: None,
        q_resolution: None,
    };
    let b = neutron("Ar").unwrap().at(0.0);
    let factor = b * b / (2.0 * 39.948) * SQE_SCALE;
    let sum_modes: f64 = k
        .iter()
        .map(|kk| {
            let f = (kk / 39.948_f64).sqrt() * latdyn::units::VASP_TO_THZ;
            let n = 1.0 / (f * THZ_TO_MEV * 1e-3 / (KB_EV * t)).exp_m1();
            (n + 1.0) / f
        })
        .sum();
    for q_len in [1.5, 4.0] {
        let want = q_len * q_len / 3.0 * factor * sum_modes;
        let mut errors = Vec::new();
        for n_dir in [200, 800] {
            let s =
                powder_spectrum(&model, q_len, &fibonacci_directions(n_dir), &settings).unwrap();
            let got: f64 = s.iter().sum::<f64>() * grid.step;
            errors.push(((got - want) / want).abs());
        }
        // Fibonacci sets average a quadratic form with error ~1/N.
        assert!(
            errors[0] < 5e-3 && errors[1] < 1.5e-3 && errors[1] < errors[0],
            "|Q| {q_len}: {errors:?}"
        );
    }
}

/// `latdyn sqe` on Si (phono3py yaml + fc2.hdf5) with `args`, writing to `out`.
fn run_sqe_on_si(args: &[&str], out: &std::path::Path) -> std::process::Output {
    let d = common::data_dir().join("si-pbesol");
    std::process::Command::new(env!("CARGO_BIN_EXE_latdyn"))
        .args(["sqe", "--quiet", "--cell"])
        .arg(d.join("inputs/phono3py_disp.yaml"))
        .arg("--fc2")
        .arg(d.join("fc/fc2.hdf5"))
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn cli_writes_sqe_json_csv_hdf5_and_maps() {
    let out = tmp_dir("sqe-cli");
    let o = run_sqe_on_si(
        &[
            "--q",
            "2.2 2 0; 3.1 1.2 1.3",
            "--q-basis",
            "conventional",
            "--temperature",
            "300",
            "--probe",
            "neutron",
            "--energy",
            "-70 70 0.5",
            "--lineshape",
            "lorentzian",
            "--linewidth",
            "0.3",
            "--resolution",
            "1.5 1.2",
        ],
        &out,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sqe.json")).unwrap()).unwrap();
    let r = local("si_sqe_phonopy.json");
    // Q = (2.2, 2, 0) and (3.1, 1.2, 1.3) are rows 1 and 10 of the phonopy reference.
    for (row, iq) in [(1usize, 0usize), (10, 1)] {
        let f: Vec<f64> = serde_json::from_value(v["frequencies"][iq].clone()).unwrap();
        let ours: Vec<f64> = serde_json::from_value(v["intensities"][iq].clone()).unwrap();
        let theirs: Vec<f64> =
            serde_json::from_value(r["neutron"]["intensities"][row].clone()).unwrap();
        for (a, b) in set_sums(&f, &ours).iter().zip(set_sums(&f, &theirs)) {
            assert!((a - b).abs() <= 1e-4 * b.abs().max(1e-6), "{a} vs {b}");
        }
        assert_eq!(v["q_cartesian"][iq].as_array().unwrap().len(), 3);
    }
    assert_eq!(v["spectra"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["spectra"][0].as_array().unwrap().len(),
        v["energies"].as_array().unwrap().len()
    );
    for f in ["sqe.csv", "sqe.hdf5", "sqe_map.png", "sqe_map.svg"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let h = hdf5_pure::File::open(out.join("sqe.hdf5")).unwrap();
    let ints = h.dataset("intensities").unwrap().read_f64().unwrap();
    assert_eq!(ints.len(), 12);
    // Wrong per-analyzer count is refused with a message naming the option.
    let o = run_sqe_on_si(
        &[
            "--q",
            "2.2 2 0",
            "--energy",
            "0 70 0.5",
            "--resolution",
            "1.5 1.2 1.0",
        ],
        &out,
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--resolution"));
}

fn latdyn(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_latdyn"))
        .args(args)
        .output()
        .unwrap()
}

fn read_json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// `latdyn sqe-fit` on a computed scan: Si at Q = (3.3, 0.2, 0.1), three modes broadened as
/// DHOs of γ = 0.8 meV and convolved with a 1.5 meV Gaussian by `latdyn sqe`; fitting that
/// spectrum with three DHO peaks must return the harmonic mode energies, the γ put in and the
/// one-phonon weights. Measured: E_c within 6e-5 relative, γ within 0.6 %, A within 0.4 % (the
/// spectrum is bin-averaged over 0.25 meV, the fit evaluates points; the weak optical modes
/// outside the window leave tails).
#[test]
fn dho_fit_of_a_computed_scan_returns_the_modes_put_in() {
    let out = tmp_dir("sqe-fit");
    let o = run_sqe_on_si(
        &[
            "--q",
            "3.3 0.2 0.1",
            "--temperature",
            "300",
            "--energy",
            "-80 80 0.25",
            "--lineshape",
            "dho",
            "--linewidth",
            "0.8",
            "--resolution",
            "1.5",
            "--no-plots",
        ],
        &out,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let fit_dir = out.join("fit");
    let sqe = out.join("sqe.json");
    let o = latdyn(&[
        "sqe-fit",
        "--from-sqe",
        sqe.to_str().unwrap(),
        "--peaks",
        "17 1; 21 1; 38 1",
        "--window",
        "5 48",
        "--resolution",
        "1.5",
        "--temperature",
        "300",
        "--out",
        fit_dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = read_json(&sqe);
    let fit = read_json(&fit_dir.join("sqe_fit.json"));
    for (k, band) in [0usize, 1, 2].into_iter().enumerate() {
        let e = s["frequencies"][0][band].as_f64().unwrap() * THZ_TO_MEV;
        let a = s["intensities"][0][band].as_f64().unwrap();
        let p = &fit["peaks"][k];
        let (fe, fg, fa) = (
            p["energy"].as_f64().unwrap(),
            p["gamma"].as_f64().unwrap(),
            p["amplitude"].as_f64().unwrap(),
        );
        assert!((fe / e - 1.0).abs() < 2e-4, "peak {k}: E_c {fe} vs {e}");
        assert!((fg / 0.8 - 1.0).abs() < 0.01, "peak {k}: γ {fg}");
        assert!((fa / a - 1.0).abs() < 0.01, "peak {k}: A {fa} vs {a}");
        assert!(p["energy_error"].as_f64().unwrap() >= 0.0);
    }
    for f in ["sqe_fit.csv", "sqe_fit.png", "sqe_fit.svg"] {
        assert!(fit_dir.join(f).is_file(), "{f} missing");
    }
}

/// A measured scan as a table with a header and σ column, in THz (as `md sqw` writes): the
/// same peak is found in either energy unit, the truth lies within 3 reported standard errors;
/// malformed tables are refused naming the file and line.
#[test]
fn dho_fit_reads_measured_scans_and_refuses_bad_ones() {
    let dir = tmp_dir("sqe-fit-scan");
    // One DHO at 5 THz (γ 0.2 THz), classical, sampled every 0.05 THz with a 2 % + floor noise.
    let (ec, g, amp) = (5.0f64, 0.2f64, 3.0f64);
    let mut rng = latdyn::anharmonic::four_phonon::SplitMix64::new(3);
    let mut table = String::from("# synthetic scan\nfrequency_THz, intensity, sigma\n");
    for i in 0..121 {
        let f = 2.0 + 0.05 * i as f64;
        let clean = amp * ec * ec * 4.0 * g
            / (std::f64::consts::PI * ((f * f - ec * ec).powi(2) + (2.0 * g * f).powi(2)));
        let sigma = 0.02 * clean + 0.01;
        let (u, v) = (rng.next_f64().max(1e-300), rng.next_f64());
        let noise = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
        table += &format!("{f:.4}, {:.8e}, {sigma:.8e}\n", clean + sigma * noise);
    }
    let scan = dir.join("scan.csv");
    std::fs::write(&scan, &table).unwrap();
    let run = |unit: &str, out: &str| {
        let o = latdyn(&[
            "sqe-fit",
            "--scan",
            scan.to_str().unwrap(),
            "--peaks",
            "4.5 0.3",
            "--classical",
            "--energy-unit",
            unit,
            "--no-plots",
            "--out",
            dir.join(out).to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        read_json(&dir.join(out).join("sqe_fit.json"))
    };
    let thz = run("THz", "thz");
    let p = &thz["peaks"][0];
    for (key, truth) in [("energy", ec), ("gamma", g), ("amplitude", amp)] {
        let (v, e) = (
            p[key].as_f64().unwrap(),
            p[&format!("{key}_error")].as_f64().unwrap(),
        );
        assert!(
            e > 0.0 && (v - truth).abs() < 3.0 * e,
            "{key}: {v} ± {e} vs {truth}"
        );
    }
    let chi2 = thz["chi2_per_dof"].as_f64().unwrap();
    assert!((0.6..1.5).contains(&chi2), "χ²/dof {chi2}");
    // Read as meV the same classical fit gives the same numbers (the unit only scales kT).
    let mev = run("meV", "mev");
    let rel =
        (mev["peaks"][0]["energy"].as_f64().unwrap() / p["energy"].as_f64().unwrap() - 1.0).abs();
    assert!(rel < 1e-6, "{rel}");
    // Bad tables: the message names the file and the line.
    let lines: Vec<&str> = table.lines().collect();
    for (line, replacement, expect) in [
        (5, "2.1, 0.5", "expected 3 numbers"),
        (6, "2.0, 0.5, 0.01", "energies must increase"),
        (7, "2.25, 0.5, 0", "positive standard deviation"),
        (8, "2.3, abc, 0.01", "'abc'"),
    ] {
        let mut l = lines.clone();
        l[line] = replacement;
        let bad = dir.join("bad.csv");
        std::fs::write(&bad, l.join("\n")).unwrap();
        let o = latdyn(&[
            "sqe-fit",
            "--scan",
            bad.to_str().unwrap(),
            "--peaks",
            "4.5 0.3",
            "--out",
            dir.join("bad").to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(expect)
                && err.contains("bad.csv")
                && err.contains(&format!("{}", line + 1)),
            "{err}"
        );
    }
}
