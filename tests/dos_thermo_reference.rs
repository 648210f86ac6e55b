//! DOS and thermodynamics against phonopy (shared/data/aln-lda, shared/data/si-pbesol).

mod common;
use common::*;
use latdyn::harmonic::dos::{DosMethod, mesh_dos};
use latdyn::harmonic::mesh::Mesh;
use latdyn::harmonic::phonons::{SolveOptions, solve_points};
use latdyn::io::{CellOptions, load_harmonic};

fn max_dev(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn aln_dos_tetrahedron_and_gaussian() {
    let input = aln_input();
    let dm = input.dynamical_matrix(true).unwrap();
    let r = json("aln-lda/dos_nac.json");
    let d = &r["dos"];
    let mesh = Mesh::gamma_centered([24, 24, 16]);
    let opts = SolveOptions {
        eigenvectors: true,
        ..Default::default()
    };
    let solved = solve_points(&dm, &mesh.all_qpoints(), &opts).unwrap();
    for (key, method) in [
        ("tetrahedron", DosMethod::Tetrahedron),
        ("gaussian_sigma0.1", DosMethod::Gaussian(0.1)),
    ] {
        let pts = f64s(&d[key]["frequency_points_THz"]);
        let res = mesh_dos(
            &solved,
            &mesh,
            &input.primitive().reciprocal(),
            &pts,
            method,
        );
        let tot = f64s(&d[key]["total_dos_states_per_THz_per_cell"]);
        let peak = tot.iter().cloned().fold(0.0, f64::max);
        let dev = max_dev(&res.total_dos, &tot);
        assert!(
            dev < 1e-3 * peak,
            "{key}: total DOS deviates by {dev:e} (peak {peak})"
        );
        for (k, pr) in d[key]["projected_dos_states_per_THz"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            let dev = max_dev(&res.projected_dos[k], &f64s(pr));
            assert!(
                dev < 1e-3 * peak,
                "{key}: PDOS atom {k} deviates by {dev:e}"
            );
        }
        // Projections add up to the total.
        for i in 0..pts.len() {
            let s: f64 = res.projected_dos.iter().map(|p| p[i]).sum();
            assert!((s - res.total_dos[i]).abs() < 1e-9 * peak.max(1.0));
        }
    }
}

#[test]
fn si_dos_tetrahedron() {
    let input = load_harmonic(
        &data("si-pbesol/inputs/phono3py_disp.yaml"),
        &data("si-pbesol/fc/fc2.hdf5"),
        None,
        &CellOptions::default(),
    )
    .unwrap();
    let dm = input.dynamical_matrix(false).unwrap();
    let mesh = Mesh::gamma_centered([24, 24, 24]);
    let solved = solve_points(
        &dm,
        &mesh.all_qpoints(),
        &SolveOptions {
            eigenvectors: true,
            ..Default::default()
        },
    )
    .unwrap();
    let read = |f: &str| -> Vec<Vec<f64>> {
        std::fs::read_to_string(data(f))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect())
            .collect()
    };
    let tot = read("si-pbesol/reference/dos_total_24x24x24_thm.dat");
    let pts: Vec<f64> = tot.iter().map(|r| r[0]).collect();
    let res = mesh_dos(
        &solved,
        &mesh,
        &input.primitive().reciprocal(),
        &pts,
        DosMethod::Tetrahedron,
    );
    let reft: Vec<f64> = tot.iter().map(|r| r[1]).collect();
    let peak = reft.iter().cloned().fold(0.0, f64::max);
    assert!(max_dev(&res.total_dos, &reft) < 1e-3 * peak);
    let pd = read("si-pbesol/reference/dos_projected_24x24x24_thm.dat");
    for k in 0..2 {
        let r: Vec<f64> = pd.iter().map(|row| row[1 + k]).collect();
        assert!(max_dev(&res.projected_dos[k], &r) < 1e-3 * peak);
    }
}

#[test]
fn aln_thermal_properties() {
    let input = aln_input();
    let dm = input.dynamical_matrix(true).unwrap();
    let r = json("aln-lda/thermal_properties_nac.json");
    let tp = &r["tp"];
    let rot = latdyn::crystal::symmetry::Symmetry::new(input.primitive(), 1e-5)
        .unwrap()
        .reciprocal_rotations();
    let ir = Mesh::gamma_centered([16, 16, 12]).irreducible(&rot);
    assert_eq!(ir.qpoints.len(), 210);
    let solved = solve_points(&dm, &ir.qpoints, &SolveOptions::default()).unwrap();
    let freqs: Vec<Vec<f64>> = solved.into_iter().map(|p| p.frequencies).collect();
    let w: Vec<f64> = ir.weights.iter().map(|&x| x as f64).collect();
    let temps = f64s(&tp["temperatures_K"]);
    let res = latdyn::harmonic::thermo::thermal_properties(&freqs, &w, &temps, 0.01);
    for (name, ours, key) in [
        ("F", &res.free_energy, "free_energy_kJ_per_mol"),
        ("S", &res.entropy, "entropy_J_per_K_mol"),
        ("Cv", &res.heat_capacity, "heat_capacity_J_per_K_mol"),
    ] {
        for (t, (a, b)) in temps.iter().zip(ours.iter().zip(f64s(&tp[key]))) {
            let tol = 1e-6 * b.abs().max(1e-3);
            assert!((a - b).abs() <= tol, "{name} at {t} K: {a} vs {b}");
        }
    }
    let zpe = tp["zero_point_energy_kJ_per_mol"].as_f64().unwrap();
    assert!((res.zero_point_energy - zpe).abs() < 1e-6 * zpe);
}

#[test]
fn aln_band_structure_with_nac() {
    use latdyn::harmonic::bands::{BandPath, band_structure};
    let input = aln_input();
    let dm = input.dynamical_matrix(true).unwrap();
    let r = json("aln-lda/band_structure_nac.json");
    let b = &r["band"];
    let labels: Vec<String> = b["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let lq: Vec<[f64; 3]> = labels
        .iter()
        .map(|l| vec3(&b["label_qpoints_reduced"][l]))
        .collect();
    let text: String = labels
        .iter()
        .zip(&lq)
        .map(|(l, q)| format!("{l} {} {} {} ", q[0], q[1], q[2]))
        .collect();
    let path = BandPath::parse(&text).unwrap();
    // The built-in hexagonal path is the same one.
    let default = BandPath::default_for(input.primitive());
    assert_eq!(default.segments.len(), path.segments.len());
    let bs = band_structure(&dm, &path, 51).unwrap();
    let rf = b["frequencies_THz"].as_array().unwrap();
    let rd = b["distances_inv_angstrom_no2pi"].as_array().unwrap();
    for s in 0..bs.frequencies.len() {
        let dist = f64s(&rd[s]);
        assert!(max_dev(&bs.distances[s], &dist) < 1e-8);
        for (i, fr) in rf[s].as_array().unwrap().iter().enumerate() {
            let dev = max_dev(&bs.frequencies[s][i], &f64s(fr));
            assert!(dev < 1e-5, "segment {s} point {i}: {dev:e} THz");
        }
    }
}

/// C_v integrated from the tetrahedron DOS (the route of the Debye–Einstein fit of computed
/// data) against the plain mesh sum, at temperatures where both are converged on a 24³ mesh.
#[test]
fn heat_capacity_from_dos_matches_mesh_sum() {
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let dm = input.dynamical_matrix(false).unwrap();
    let mesh = Mesh::gamma_centered([24, 24, 24]);
    let solved = solve_points(&dm, &mesh.all_qpoints(), &SolveOptions::default()).unwrap();
    let freqs: Vec<f64> = solved
        .iter()
        .flat_map(|p| p.frequencies.iter().copied())
        .collect();
    let points: Vec<f64> = (0..3200).map(|i| i as f64 * 0.005).collect();
    let (g, _) = latdyn::harmonic::dos::dos(
        &mesh,
        &input.primitive().reciprocal(),
        &freqs,
        6,
        None,
        &points,
        DosMethod::Tetrahedron,
    );
    let temps = [100.0, 300.0, 1000.0];
    let from_dos = latdyn::harmonic::thermo::heat_capacity_from_dos(&points, &g, &temps);
    let per_q: Vec<Vec<f64>> = solved.into_iter().map(|p| p.frequencies).collect();
    let w = vec![1.0; per_q.len()];
    let sum = latdyn::harmonic::thermo::thermal_properties(&per_q, &w, &temps, 0.01);
    for (i, t) in temps.iter().enumerate() {
        let (a, b) = (from_dos[i], sum.heat_capacity[i]);
        assert!(
            (a - b).abs() < 2e-3 * b,
            "C_v at {t} K: DOS {a} vs mesh {b}"
        );
    }
    // Dulong–Petit: 3nR for n = 2 atoms, approached from below.
    let hot = latdyn::harmonic::thermo::heat_capacity_from_dos(&points, &g, &[5000.0])[0];
    let limit = 6.0 * latdyn::harmonic::heat_capacity_fit::GAS_CONSTANT;
    assert!(hot < limit && hot > 0.999 * limit, "{hot} vs {limit}");
}

/// The deck's measured-table route: a table made from a known Debye + Einstein model (written
/// with commas and comments, as users' files are) gives back Θ_D and Θ_E through `latdyn run`.
#[test]
fn deck_fits_a_measured_heat_capacity_table() {
    let dir = tmp_dir("hc-fit");
    let r = latdyn::harmonic::heat_capacity_fit::GAS_CONSTANT;
    let (theta_d, theta_e) = (400.0, 35.0);
    let beta = 12.0 * std::f64::consts::PI.powi(4) * r / (5.0 * f64::powi(theta_d, 3));
    let mut table = String::from("# T (K), C (J/K/mol of atoms)\n");
    for i in 1..=30 {
        let t = 0.4 * i as f64;
        let x: f64 = theta_e / t;
        let einstein = 3.0 * r * 0.2 * x * x * (-x).exp() / (1.0 - (-x).exp()).powi(2);
        table += &format!("{t}, {}\n", beta * t.powi(3) + einstein);
    }
    std::fs::write(dir.join("cp.dat"), table).unwrap();
    let deck = format!(
        "cell = '{}'\nfc2 = '{}'\nheat_capacity_data = 'cp.dat'\neinstein_terms = 1\nheat_capacity_gamma = false\noutput = 'out'\nplots = false\n",
        data("si-pbesol/inputs/phono3py_disp.yaml").display(),
        data("si-pbesol/fc/fc2.hdf5").display()
    );
    std::fs::write(dir.join("deck.toml"), deck).unwrap();
    let deck = latdyn::config::Deck::from_file(&dir.join("deck.toml")).unwrap();
    let summary = latdyn::workflow::run_harmonic(&deck, false).unwrap();
    let fit = &summary["heat_capacity_fit"];
    let td = fit["debye_temperature_K"].as_f64().unwrap();
    let te = fit["einstein"][0]["temperature"].as_f64().unwrap();
    assert!((td - theta_d).abs() < 1e-6 * theta_d, "Θ_D {td}");
    assert!((te - theta_e).abs() < 1e-6 * theta_e, "Θ_E {te}");
    assert!(dir.join("out/heat_capacity_fit.csv").is_file());
}
