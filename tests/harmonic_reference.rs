//! Harmonic phonons against phonopy references (shared/data/si-pbesol, shared/data/aln-lda).

mod common;
use common::*;
use latdyn::harmonic::eigen::solve_hermitian;
use latdyn::harmonic::velocity;
use num_complex::Complex64 as C64;

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Largest difference between the projectors Σ_{s∈set} e_s e_s† of ours and the reference's
/// eigenvectors, over the degenerate sets of the
/// reference frequencies. Projectors are invariant under the phase of each eigenvector and under
/// rotations inside a degenerate subspace, so this compares eigenvectors "up to phase and
/// degenerate-subspace rotation".
/// `rows_are_modes`: the AlN files store one eigenvector per row, the Si file one per column.
fn projector_difference(
    ours: &[C64],
    re: &[Vec<f64>],
    im: &[Vec<f64>],
    rows_are_modes: bool,
    freqs: &[f64],
) -> f64 {
    let nb = freqs.len();
    let r = |k: usize, s: usize| {
        if rows_are_modes {
            C64::new(re[s][k], im[s][k])
        } else {
            C64::new(re[k][s], im[k][s])
        }
    };
    let mut worst = 0.0f64;
    for set in latdyn::harmonic::eigen::degenerate_sets(freqs, 1e-4) {
        for i in 0..nb {
            for j in 0..nb {
                let mut p_ours = C64::new(0.0, 0.0);
                let mut p_ref = C64::new(0.0, 0.0);
                for &s in &set {
                    // ours: eigenvectors[s * nb + k], component k of mode s.
                    p_ours += ours[s * nb + i] * ours[s * nb + j].conj();
                    p_ref += r(i, s) * r(j, s).conj();
                }
                worst = worst.max((p_ours - p_ref).norm());
            }
        }
    }
    worst
}

#[test]
fn si_frequencies_dynmat_and_velocities() {
    let input = si_with("si-pbesol/fc/fc2.hdf5");
    let dm = input.dynamical_matrix(false).unwrap();
    let r = json("si-pbesol/reference/harmonic_qpoints.json");
    let rot = latdyn::crystal::symmetry::Symmetry::new(input.primitive(), 1e-5)
        .unwrap()
        .reciprocal_rotations();
    let nb = 6;
    for (name, q) in r["qpoints"].as_object().unwrap() {
        let qr = vec3(&q["q_reduced"]);
        let mut d = vec![C64::new(0.0, 0.0); nb * nb];
        dm.compute(&qr, None, &mut d);
        let dre = mat(&q["dynamical_matrix_real"]);
        let dim = mat(&q["dynamical_matrix_imag"]);
        let mut err = 0.0f64;
        for i in 0..nb {
            for j in 0..nb {
                err = err
                    .max((d[i * nb + j].re - dre[i][j]).abs())
                    .max((d[i * nb + j].im - dim[i][j]).abs());
            }
        }
        assert!(err < 1e-10, "{name}: D(q) differs by {err:e}");
        let modes = solve_hermitian(&d, nb).unwrap();
        let fd = max_abs_diff(&modes.frequencies, &f64s(&q["frequencies_THz"]));
        assert!(fd < 1e-5, "{name}: frequencies differ by {fd:e} THz");
        let pd = projector_difference(
            &modes.eigenvectors,
            &mat(&q["eigenvectors_real"]),
            &mat(&q["eigenvectors_imag"]),
            false,
            &f64s(&q["frequencies_THz"]),
        );
        assert!(pd < 1e-8, "{name}: eigenvector projectors differ by {pd:e}");
        if name == "Gamma" {
            continue;
        }
        let v = velocity::group_velocities_unsymmetrized(&dm, &qr, &modes).unwrap();
        let v = velocity::symmetrize_velocities(&v, &qr, &rot, &input.primitive().reciprocal());
        let vr = mat(&q["group_velocities_THzAngstrom"]);
        for s in 0..nb {
            for c in 0..3 {
                let scale = vr[s].iter().map(|x| x.abs()).fold(1.0, f64::max);
                assert!(
                    (v[s][c] - vr[s][c]).abs() < 1e-4 * scale,
                    "{name} band {s} v{c}: {} vs {}",
                    v[s][c],
                    vr[s][c]
                );
            }
        }
    }
}

fn aln_check(file: &str, with_nac: bool) {
    let input = aln_input();
    let dm = input.dynamical_matrix(with_nac).unwrap();
    let r = json(file);
    let nb = 12;
    for q in r["qpoints"].as_array().unwrap() {
        let name = q["name"].as_str().unwrap();
        let qr = vec3(&q["q_reduced"]);
        let dir = if q["nac_q_direction_reduced"].is_null() {
            None
        } else {
            Some(vec3(&q["nac_q_direction_reduced"]))
        };
        let mut d = vec![C64::new(0.0, 0.0); nb * nb];
        dm.compute(&qr, dir.as_ref(), &mut d);
        let dre = mat(&q["dynamical_matrix_re"]);
        let dim = mat(&q["dynamical_matrix_im"]);
        let mut err = 0.0f64;
        for i in 0..nb {
            for j in 0..nb {
                err = err
                    .max((d[i * nb + j].re - dre[i][j]).abs())
                    .max((d[i * nb + j].im - dim[i][j]).abs());
            }
        }
        let modes = solve_hermitian(&d, nb).unwrap();
        let fd = max_abs_diff(&modes.frequencies, &f64s(&q["frequencies_THz"]));
        // With NAC our D(q) differs from phonopy's by up to 3e-9 (Ewald sum rounding), which
        // moves the projectors by ~4e-8.
        let (tol, ptol) = if with_nac {
            (1e-8, 1e-6)
        } else {
            (1e-10, 1e-8)
        };
        let pd = projector_difference(
            &modes.eigenvectors,
            &mat(&q["eigenvectors_re"]),
            &mat(&q["eigenvectors_im"]),
            true,
            &f64s(&q["frequencies_THz"]),
        );
        assert!(
            err < tol && fd < 1e-5 && pd < ptol,
            "{file} {name}: D(q) differs by {err:e}, frequencies by {fd:e} THz, eigenvector projectors by {pd:e}"
        );
    }
}

#[test]
fn aln_without_nac() {
    aln_check("aln-lda/qpoints_nonac.json", false);
}

#[test]
fn aln_with_nac() {
    aln_check("aln-lda/qpoints_nac.json", true);
}

#[test]
fn aln_irreducible_meshes_match_phonopy() {
    let input = aln_input();
    let rot = latdyn::crystal::symmetry::Symmetry::new(input.primitive(), 1e-5)
        .unwrap()
        .reciprocal_rotations();
    assert_eq!(rot.len(), 24, "6mm plus time reversal");
    let r = json("aln-lda/irreducible_qpoints.json");
    for (key, m) in r["meshes"].as_object().unwrap() {
        let n: Vec<usize> = m["mesh"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        let ir = latdyn::harmonic::mesh::Mesh::gamma_centered([n[0], n[1], n[2]]).irreducible(&rot);
        let gp: Vec<usize> = m["ir_grid_points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        let w: Vec<usize> = m["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(ir.ir_grid_points, gp, "{key}: irreducible grid points");
        assert_eq!(ir.weights, w, "{key}: weights");
        for (q, qr) in ir
            .qpoints
            .iter()
            .zip(m["qpoints_reduced"].as_array().unwrap())
        {
            let qr = vec3(qr);
            assert!(
                (0..3).all(|k| (q[k] - qr[k]).abs() < 1e-12),
                "{key}: q {q:?} vs {qr:?}"
            );
        }
        let map: Vec<usize> = m["grid_mapping_table"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(ir.grid_mapping, map, "{key}: grid mapping");
        // Frequencies (NAC on, Γ without direction) at the irreducible points.
        let dm = input.dynamical_matrix(true).unwrap();
        let pts =
            latdyn::harmonic::phonons::solve_points(&dm, &ir.qpoints, &Default::default()).unwrap();
        for (p, fr) in pts.iter().zip(m["frequencies_THz_nac"].as_array().unwrap()) {
            assert!(
                max_abs_diff(&p.frequencies, &f64s(fr)) < 1e-5,
                "{key}: frequencies at {:?}",
                p.q
            );
        }
    }
}

#[test]
fn aln_group_velocities_with_nac() {
    let input = aln_input();
    let dm = input.dynamical_matrix(true).unwrap();
    let rot = latdyn::crystal::symmetry::Symmetry::new(input.primitive(), 1e-5)
        .unwrap()
        .reciprocal_rotations();
    let r = json("aln-lda/group_velocities_nac.json");
    let opts = latdyn::harmonic::phonons::SolveOptions {
        group_velocities: true,
        rotations: rot,
        ..Default::default()
    };
    for q in r["qpoints"].as_array().unwrap() {
        let name = q["name"].as_str().unwrap();
        if name.starts_with("gamma") {
            continue; // velocities at exactly Γ are not meaningful (CASE.md)
        }
        let p = latdyn::harmonic::phonons::solve_point(
            &dm,
            &vec3(&q["q_reduced"]),
            &opts,
            &input.primitive().reciprocal(),
        )
        .unwrap();
        let v = p.group_velocities.unwrap();
        let vr = mat(&q["group_velocities_THz_angstrom"]);
        for s in 0..12 {
            let scale = vr[s].iter().map(|x| x.abs()).fold(1.0, f64::max);
            for c in 0..3 {
                assert!(
                    (v[s][c] - vr[s][c]).abs() < 1e-4 * scale,
                    "{name} band {s} v{c}: {} vs {}",
                    v[s][c],
                    vr[s][c]
                );
            }
        }
    }
}
