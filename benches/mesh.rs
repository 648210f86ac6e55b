//! Frequencies + eigenvectors + group velocities on the irreducible points of a Si 40×40×40 and
//! an AlN 24×24×16 (with NAC) mesh. The side-by-side comparison with phonopy is
//! validation/bench_vs_phonopy.sh.

use criterion::{Criterion, criterion_group, criterion_main};
use latdyn::crystal::symmetry::Symmetry;
use latdyn::harmonic::mesh::Mesh;
use latdyn::harmonic::phonons::{SolveOptions, solve_points};
use latdyn::io::{CellOptions, load_harmonic};
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(rel)
}

fn bench(c: &mut Criterion) {
    let si = load_harmonic(
        &data("si-pbesol/inputs/phono3py_disp.yaml"),
        &data("si-pbesol/fc/fc2.hdf5"),
        None,
        &CellOptions::default(),
    )
    .unwrap();
    let aln = load_harmonic(
        &data("aln-lda/POSCAR-unitcell"),
        &data("aln-lda/fc2.hdf5"),
        Some(&data("aln-lda/BORN")),
        &CellOptions {
            supercell_matrix: Some([[5, 0, 0], [0, 5, 0], [0, 0, 3]]),
            ..Default::default()
        },
    )
    .unwrap();
    let mut g = c.benchmark_group("mesh");
    g.sample_size(10);
    for (name, input, mesh) in [
        ("si_40x40x40", &si, [40, 40, 40]),
        ("aln_24x24x16", &aln, [24, 24, 16]),
    ] {
        let dm = input.dynamical_matrix(true).unwrap();
        let rot = Symmetry::new(input.primitive(), 1e-5)
            .unwrap()
            .reciprocal_rotations();
        let ir = Mesh::gamma_centered(mesh).irreducible(&rot);
        let opts = SolveOptions {
            eigenvectors: true,
            group_velocities: true,
            rotations: rot,
            ..Default::default()
        };
        g.bench_function(name, |b| {
            b.iter(|| solve_points(&dm, &ir.qpoints, &opts).unwrap())
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // Criterion's own plots need a system font; the numbers are what matter here.
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
