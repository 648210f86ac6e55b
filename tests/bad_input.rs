//! Malformed and inconsistent inputs give errors that name the file, the line or dataset, and what
//! was expected; no reader panics on any input.

mod common;
use common::*;
use latdyn::io::{CellOptions, load_harmonic, phonopy_fc, poscar, tdep};
use proptest::prelude::*;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn err_text<T: std::fmt::Debug>(r: latdyn::Result<T>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn force_constants_text_errors() {
    let dir = tmp_dir("bad-fc");
    let good = std::fs::read_to_string(data("si-pbesol/fc/FORCE_CONSTANTS_compact")).unwrap();
    // Truncated: the last block is cut.
    let cut: String = good.lines().take(100).collect::<Vec<_>>().join("\n");
    let e = err_text(phonopy_fc::read_force_constants(&write(
        &dir,
        "FC_cut",
        cut.as_bytes(),
    )));
    assert!(
        e.contains("FC_cut:101") && e.contains("unexpected end of file"),
        "{e}"
    );
    // Non-numeric field on line 3.
    let mut lines: Vec<&str> = good.lines().collect();
    lines[2] = "  1.0 abc 0.0";
    let e = err_text(phonopy_fc::read_force_constants(&write(
        &dir,
        "FC_nan",
        lines.join("\n").as_bytes(),
    )));
    assert!(e.contains("FC_nan:3") && e.contains("'abc'"), "{e}");
    // Wrong header counts for the structure.
    let mut lines: Vec<&str> = good.lines().collect();
    lines[0] = "   1   64";
    let p = write(&dir, "FC_rows", lines.join("\n").as_bytes());
    assert!(phonopy_fc::read_force_constants(&p).is_err());
    // A well-formed file for the wrong supercell.
    let wrong = load_harmonic(
        &data("aln-lda/POSCAR-unitcell"),
        &data("si-pbesol/fc/FORCE_CONSTANTS_compact"),
        None,
        &CellOptions {
            supercell_matrix: Some([[5, 0, 0], [0, 5, 0], [0, 0, 3]]),
            ..Default::default()
        },
    );
    let e = err_text(wrong);
    assert!(e.contains("64 supercell atoms") && e.contains("300"), "{e}");
}

#[test]
fn hdf5_p2s_outside_the_supercell() {
    let dir = tmp_dir("bad-h5");
    let mut b = hdf5_pure::FileBuilder::new();
    b.create_dataset("force_constants")
        .with_f64_data(&vec![0.0; 2 * 64 * 9])
        .with_shape(&[2, 64, 3, 3]);
    b.create_dataset("p2s_map")
        .with_i64_data(&[0, 99])
        .with_shape(&[2]);
    let p = dir.join("fc2.hdf5");
    b.write(&p).unwrap();
    let e = err_text(latdyn::io::hdf5_fc::read_fc2_hdf5(&p));
    assert!(e.contains("p2s_map") && e.contains("99"), "{e}");
    // Wrong shape.
    let mut b = hdf5_pure::FileBuilder::new();
    b.create_dataset("force_constants")
        .with_f64_data(&[0.0; 12])
        .with_shape(&[2, 2, 3]);
    b.write(&p).unwrap();
    let e = err_text(latdyn::io::hdf5_fc::read_fc2_hdf5(&p));
    assert!(
        e.contains("force_constants") && e.contains("expected shape"),
        "{e}"
    );
}

#[test]
fn poscar_errors() {
    let dir = tmp_dir("bad-poscar");
    let singular = "Si\n1.0\n1 0 0\n2 0 0\n0 0 1\nSi\n1\nDirect\n0 0 0\n";
    let e = err_text(poscar::read_poscar(&write(&dir, "P1", singular.as_bytes())));
    assert!(
        e.contains("P1:3") && e.contains("linearly dependent"),
        "{e}"
    );
    let short = "Si\n1.0\n1 0 0\n0 1 0\n0 0 1\nSi\n2\nDirect\n0 0 0\n";
    let e = err_text(poscar::read_poscar(&write(&dir, "P2", short.as_bytes())));
    assert!(e.contains("P2:10") && e.contains("atom 2 of 2"), "{e}");
    let bad_el = "x\n1.0\n1 0 0\n0 1 0\n0 0 1\nXx\n1\nDirect\n0 0 0\n";
    let e = err_text(poscar::read_poscar(&write(&dir, "P3", bad_el.as_bytes())));
    assert!(e.contains("element symbol") && e.contains("Xx"), "{e}");
    // A cell singular relative to its size (volume 1e3 Å³ from 1e6 Å vectors) and a scale that
    // overflows the cell: errors, not panics (the mutation test found such a file).
    let flat = "Si\n1.0\n1e6 0 0\n1e6 1e-3 0\n0 0 1\nSi\n1\nCartesian\n0 0 0\n";
    let e = err_text(poscar::read_poscar(&write(&dir, "P4", flat.as_bytes())));
    assert!(
        e.contains("P4:3") && e.contains("linearly dependent"),
        "{e}"
    );
    let huge = "Si\n1e300\n1e10 0 0\n0 1e10 0\n0 0 1e10\nSi\n1\nCartesian\n0 0 0\n";
    let e = err_text(poscar::read_poscar(&write(&dir, "P5", huge.as_bytes())));
    assert!(e.contains("P5:2") && e.contains("not finite"), "{e}");
}

#[test]
fn non_positive_mass_is_rejected() {
    let opts = CellOptions {
        masses: vec![("Si".into(), -1.0)],
        ..Default::default()
    };
    let e = err_text(load_harmonic(
        &data("si-pbesol/inputs/phono3py_disp.yaml"),
        &data("si-pbesol/fc/fc2.hdf5"),
        None,
        &opts,
    ));
    assert!(e.contains("mass of Si must be positive"), "{e}");
}

#[test]
fn tdep_count_mismatch() {
    let dir = tmp_dir("bad-tdep");
    let uc = tdep::read_tdep_cell(&data("tdep/Al/infile.ucposcar")).unwrap();
    let text =
        std::fs::read_to_string(data("LatticeDynamicsToolkit.jl/SW-Si/infile.forceconstant"))
            .unwrap();
    let e = err_text(tdep::read_tdep_fc2(
        &write(&dir, "infile.forceconstant", text.as_bytes()),
        &uc,
    ));
    assert!(e.contains(":1") && e.contains("expected 1 atoms"), "{e}");
}

fn all_readers(dir: &Path, bytes: &[u8]) {
    let p = write(dir, "input", bytes);
    let _ = phonopy_fc::read_force_constants(&p);
    let _ = poscar::read_poscar(&p);
    let _ = latdyn::io::hdf5_fc::read_fc2_hdf5(&p);
    let _ = latdyn::io::phonopy_yaml::read_phonopy_yaml(&p);
    let uc =
        tdep::read_tdep_cell(&data("LatticeDynamicsToolkit.jl/SW-Si/infile.ucposcar")).unwrap();
    let _ = tdep::read_tdep_fc2(&p, &uc);
    let prim = uc.clone();
    let _ = latdyn::io::born::read_born(&p, &prim);
    let _ = latdyn::config::Deck::from_file(&p);
    let _ = latdyn::io::shengbte_control::read_control(&p);
    let _ = latdyn::io::text::read_columns(&p, 2, "T and C");
    let _ = latdyn::io::hdf5_fc3::read_fc3_hdf5(&p);
    let _ = latdyn::io::shengbte_fc3::read_fc3_shengbte(&p, &prim, &prim);
    let _ = latdyn::io::tdep_fc3::read_tdep_fc3(&p, &prim);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
    #[test]
    fn readers_never_panic_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        all_readers(&tmp_dir("fuzz-random"), &bytes);
    }

    #[test]
    fn readers_never_panic_on_mutated_files(which in 0usize..9, pos in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        let files = ["si-pbesol/fc/FORCE_CONSTANTS_compact", "aln-lda/POSCAR-unitcell", "si-pbesol/fc/fc2.hdf5",
                     "si-pbesol/inputs/phono3py_disp.yaml", "LatticeDynamicsToolkit.jl/SW-Si/infile.forceconstant", "aln-lda/BORN",
                     "fourphonon-si-inputs/CONTROL", "fourphonon-si-inputs/FORCE_CONSTANTS_3RD",
                     "LatticeDynamicsToolkit.jl/SW-Si/infile.forceconstant_thirdorder"];
        let mut b = std::fs::read(data(files[which])).unwrap();
        let n = b.len();
        b[pos % n] = byte;
        b.truncate(n - cut % (n / 2 + 1));
        all_readers(&tmp_dir("fuzz-mutated"), &b);
    }
}
