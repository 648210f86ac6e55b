//! Helpers shared by the integration tests: where the reference data lives and JSON access.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/data` beside the repository (CI clones main with shared/ beside it).
pub fn data_dir() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    assert!(
        p.is_dir(),
        "reference data not found at {} (shared/ must sit beside the repository)",
        p.display()
    );
    p
}

pub fn data(rel: &str) -> PathBuf {
    data_dir().join(rel)
}

pub fn json(rel: &str) -> serde_json::Value {
    let p = data(rel);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

pub fn f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

pub fn vec3(v: &serde_json::Value) -> [f64; 3] {
    let a = f64s(v);
    [a[0], a[1], a[2]]
}

pub fn mat(v: &serde_json::Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(f64s).collect()
}

pub fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("latdyn-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Si (PBEsol) from the phono3py yaml and an fc2 file of si-pbesol (`fc2` relative to shared/data).
pub fn si_with(fc2: &str) -> latdyn::io::HarmonicInput {
    latdyn::io::load_harmonic(
        &data("si-pbesol/inputs/phono3py_disp.yaml"),
        &data(fc2),
        None,
        &Default::default(),
    )
    .unwrap()
}

/// AlN from POSCAR-unitcell + the 5×5×3 fc2 supercell + BORN: masses from the built-in table, as
/// the reference (the yaml rounds masses to 6 decimals, a 2e-7 relative effect on frequencies).
pub fn aln_input() -> latdyn::io::HarmonicInput {
    let opts = latdyn::io::CellOptions {
        supercell_matrix: Some([[5, 0, 0], [0, 5, 0], [0, 0, 3]]),
        ..Default::default()
    };
    latdyn::io::load_harmonic(
        &data("aln-lda/POSCAR-unitcell"),
        &data("aln-lda/fc2.hdf5"),
        Some(&data("aln-lda/BORN")),
        &opts,
    )
    .unwrap()
}
