//! Same frequencies from every fc2 format; conversions round-trip; velocity operator identities;
//! thread-count independence.

mod common;
use common::*;
use latdyn::harmonic::eigen::solve_hermitian;
use latdyn::harmonic::phonons::{SolveOptions, solve_points};
use latdyn::harmonic::velocity;
use latdyn::io::{CellOptions, HarmonicInput, load_harmonic};
use num_complex::Complex64 as C64;

const QS: [[f64; 3]; 4] = [
    [0.1, 0.2, 0.3],
    [0.5, 0.25, 0.75],
    [0.13, -0.27, 0.41],
    [0.0, 0.0, 0.0],
];

fn freqs(input: &HarmonicInput) -> Vec<Vec<f64>> {
    let dm = input.dynamical_matrix(true).unwrap();
    solve_points(&dm, &QS, &SolveOptions::default())
        .unwrap()
        .into_iter()
        .map(|p| p.frequencies)
        .collect()
}

/// Largest relative difference of the eigenvalues f·|f| (so that the Γ acoustic modes, whose
/// frequencies are √ of round-off, are compared on the scale of the spectrum).
fn max_rel(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    let scale = a.iter().flatten().map(|x| x * x).fold(0.0, f64::max);
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (x * x.abs() - y * y.abs()).abs() / scale)
        .fold(0.0, f64::max)
}

#[test]
fn every_si_fc2_format_gives_the_same_frequencies() {
    let reference = freqs(&si_with("si-pbesol/fc/fc2.hdf5"));
    for f in [
        "si-pbesol/fc/fc2_full.hdf5",
        "si-pbesol/fc/FORCE_CONSTANTS",
        "si-pbesol/fc/FORCE_CONSTANTS_compact",
    ] {
        let d = max_rel(&reference, &freqs(&si_with(f)));
        assert!(d < 1e-12, "{f}: {d:e}");
    }
}

#[test]
fn conversions_round_trip() {
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let reference = freqs(&input);
    let dir = tmp_dir("convert");
    let bin = env!("CARGO_BIN_EXE_latdyn");
    let cell = data("si-pbesol/inputs/phono3py_disp.yaml");
    let fc2 = data("si-pbesol/fc/fc2.hdf5");
    let run = |args: &[&str]| {
        let o = std::process::Command::new(bin).args(args).output().unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let tdep = dir.join("tdep");
    run(&[
        "convert",
        "--cell",
        cell.to_str().unwrap(),
        "--fc2",
        fc2.to_str().unwrap(),
        "--to",
        "tdep",
        "--out",
        tdep.to_str().unwrap(),
    ]);
    let from_tdep = load_harmonic(
        &tdep.join("infile.ucposcar"),
        &tdep.join("infile.forceconstant"),
        None,
        &CellOptions::default(),
    )
    .unwrap();
    assert!(
        max_rel(&reference, &freqs(&from_tdep)) < 1e-12,
        "phonopy → TDEP"
    );
    // TDEP → phonopy text and HDF5, full and compact, back against the original.
    for (to, name, full) in [
        ("phonopy", "FORCE_CONSTANTS", false),
        ("hdf5", "fc2.hdf5", false),
        ("hdf5", "fc2_full.hdf5", true),
    ] {
        let out = dir.join(name);
        let uc = tdep.join("infile.ucposcar");
        let fc = tdep.join("infile.forceconstant");
        let mut args = vec![
            "convert",
            "--cell",
            uc.to_str().unwrap(),
            "--fc2",
            fc.to_str().unwrap(),
            "--to",
            to,
            "--out",
            out.to_str().unwrap(),
        ];
        if full {
            args.push("--full");
        }
        run(&args);
        // The array refers to the TDEP supercell (SPOSCAR written beside it); read it back with the
        // primitive cell and that supercell matrix.
        assert!(dir.join("SPOSCAR").exists());
        let opts = CellOptions {
            supercell_matrix: Some(supercell_matrix_of(&tdep)),
            ..Default::default()
        };
        let back = load_harmonic(&uc, &out, None, &opts).unwrap();
        assert!(max_rel(&reference, &freqs(&back)) < 1e-12, "TDEP → {name}");
    }
}

/// Supercell matrix (phonopy convention) between infile.ucposcar and infile.ssposcar.
fn supercell_matrix_of(tdep: &std::path::Path) -> [[i32; 3]; 3] {
    let uc = latdyn::io::poscar::read_poscar(&tdep.join("infile.ucposcar")).unwrap();
    let ss = latdyn::io::poscar::read_poscar(&tdep.join("infile.ssposcar")).unwrap();
    let m = latdyn::linalg::mat_mul(&ss.lattice, &latdyn::linalg::inverse(&uc.lattice).unwrap());
    latdyn::linalg::to_integer(&latdyn::linalg::transpose(&m), 1e-6).unwrap()
}

#[test]
fn velocity_operator_identities() {
    let input = aln_input();
    let dm = input.dynamical_matrix(true).unwrap();
    let prim = input.primitive().clone();
    let nb = 12;
    let solve = |q: &[f64; 3]| {
        let mut d = vec![C64::new(0.0, 0.0); nb * nb];
        dm.compute(q, None, &mut d);
        solve_hermitian(&d, nb).unwrap()
    };
    for q in [[0.13, 0.27, 0.31], [0.41, 0.07, -0.19], [0.5, 0.0, 0.0]] {
        let modes = solve(&q);
        let v = velocity::velocity_operator(&dm, &q, &modes).unwrap();
        let gv = velocity::group_velocities_unsymmetrized(&dm, &q, &modes).unwrap();
        for c in 0..3 {
            let scale = v[c].iter().map(|x| x.norm()).fold(0.0, f64::max);
            for s in 0..nb {
                assert!(
                    (v[c][s * nb + s].re - gv[s][c]).abs() < 1e-10 * scale,
                    "diagonal = group velocity"
                );
                for t in 0..nb {
                    assert!(
                        (v[c][s * nb + t] - v[c][t * nb + s].conj()).norm() < 1e-10 * scale,
                        "Hermitian"
                    );
                }
            }
        }
        // Finite differences of √D (matrix square root) projected on the eigenvectors, at a general q
        // where no modes are degenerate: ⟨s|∂√D/∂q|t⟩ = V_st.
        if q[0] == 0.5 {
            continue;
        }
        let sqrt_d = |q: &[f64; 3]| -> Vec<C64> {
            let m = solve(q);
            let mut r = vec![C64::new(0.0, 0.0); nb * nb];
            for k in 0..nb {
                let w = m.frequencies[k];
                let e = m.vector(k);
                for i in 0..nb {
                    for j in 0..nb {
                        r[i * nb + j] += e[i] * e[j].conj() * w;
                    }
                }
            }
            r
        };
        let h = 1e-5; // Å⁻¹ (no 2π), Cartesian
        for c in 0..3 {
            let mut dc = [0.0; 3];
            dc[c] = h;
            let dq = latdyn::linalg::mat_vec(&prim.lattice, &dc); // reduced step: q_red = L · q_cart
            let qp = [q[0] + dq[0], q[1] + dq[1], q[2] + dq[2]];
            let qm = [q[0] - dq[0], q[1] - dq[1], q[2] - dq[2]];
            let (a, b) = (sqrt_d(&qp), sqrt_d(&qm));
            let scale = v[c].iter().map(|x| x.norm()).fold(0.0, f64::max);
            for s in 0..nb {
                for t in 0..nb {
                    let mut x = C64::new(0.0, 0.0);
                    for i in 0..nb {
                        for j in 0..nb {
                            x += modes.vector(s)[i].conj() * (a[i * nb + j] - b[i * nb + j])
                                / (2.0 * h)
                                * modes.vector(t)[j];
                        }
                    }
                    let vst = v[c][s * nb + t];
                    // Up to the phase gauge of each eigenvector pair, which is the same in both.
                    assert!(
                        (x - vst).norm() < 2e-5 * scale,
                        "q {q:?} c {c} ({s},{t}): FD {x} vs {vst}"
                    );
                }
            }
        }
    }
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let dm = input.dynamical_matrix(false).unwrap();
    let mesh = latdyn::harmonic::mesh::Mesh::gamma_centered([12, 12, 12]);
    let qs = mesh.all_qpoints();
    let rec = input.primitive().reciprocal();
    let run = |n: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap();
        pool.install(|| {
            let opts = SolveOptions {
                eigenvectors: true,
                group_velocities: true,
                ..Default::default()
            };
            let pts = solve_points(&dm, &qs, &opts).unwrap();
            let fp: Vec<f64> = (0..300).map(|i| i as f64 * 0.05).collect();
            let dos = latdyn::harmonic::dos::mesh_dos(
                &pts,
                &mesh,
                &rec,
                &fp,
                latdyn::harmonic::dos::DosMethod::Tetrahedron,
            );
            (pts, dos)
        })
    };
    let (p1, d1) = run(1);
    let (p2, d2) = run(2);
    for (a, b) in p1.iter().zip(&p2) {
        assert_eq!(a.frequencies, b.frequencies);
        assert_eq!(a.group_velocities, b.group_velocities);
    }
    assert_eq!(d1.total_dos, d2.total_dos);
    assert_eq!(d1.projected_dos, d2.projected_dos);
}
