use latdyn::harmonic::nac::GonzeNac;
use latdyn::io::{CellOptions, load_harmonic};
use num_complex::Complex64 as C64;
fn main() {
    let d = std::path::PathBuf::from("../shared/data/aln-lda");
    let opts = CellOptions {
        supercell_matrix: Some([[5, 0, 0], [0, 5, 0], [0, 0, 3]]),
        ..Default::default()
    };
    let inp = load_harmonic(
        &d.join("POSCAR-unitcell"),
        &d.join("fc2.hdf5"),
        Some(&d.join("BORN")),
        &opts,
    )
    .unwrap();
    let nac = GonzeNac::new(inp.primitive(), inp.born.clone().unwrap()).unwrap();
    println!(
        "lambda {} gcut {} nG {}",
        nac.lambda,
        nac.g_cutoff,
        nac.n_g_vectors()
    );
    let dm = inp.dynamical_matrix(true).unwrap();
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("qpoints_nac.json")).unwrap())
            .unwrap();
    for q in r["qpoints"].as_array().unwrap() {
        let qr: Vec<f64> = q["q_reduced"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let dir = if q["nac_q_direction_reduced"].is_null() {
            None
        } else {
            let v: Vec<f64> = q["nac_q_direction_reduced"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            Some([v[0], v[1], v[2]])
        };
        let mut m = vec![C64::new(0.0, 0.0); 144];
        dm.compute(&[qr[0], qr[1], qr[2]], dir.as_ref(), &mut m);
        let mut e = 0.0f64;
        for i in 0..12 {
            for j in 0..12 {
                let re = q["dynamical_matrix_re"][i][j].as_f64().unwrap();
                let im = q["dynamical_matrix_im"][i][j].as_f64().unwrap();
                e = e
                    .max((m[i * 12 + j].re - re).abs())
                    .max((m[i * 12 + j].im - im).abs());
            }
        }
        println!("{} {:e}", q["name"], e);
    }
}
