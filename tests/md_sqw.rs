//! MD route to S(Q,ω) (issue 5): a synthetic harmonic trajectory built from known modes gives back
//! their frequencies and one-phonon intensities; the LJ-argon trajectory of shared/data agrees in
//! peak positions with the harmonic S(Q,E) of the same potential (DHO fit of the MD spectrum, which
//! the Langevin thermostat broadens).

mod common;

use common::{data, tmp_dir};
use latdyn::md::sqw::{CorrelationOptions, Window, md_correlations};
use latdyn::scattering::dho_fit::{DhoFitOptions, DhoPeak, fit_dho};
use latdyn::scattering::factors::{Probe, amplitudes};
use latdyn::scattering::lineshape::EnergyGrid;
use latdyn::scattering::sqe::{QBasis, SqeModel};
use std::f64::consts::TAU;

#[test]
fn synthetic_harmonic_trajectory_gives_back_frequencies_and_intensities() {
    // Simple cubic, a = 3 Å, 4×4×4 cell (N = 64). Mode 1: q = (¼,0,0), along x, 1.0 THz, A = 0.01 Å;
    // mode 2: q = (0,¼,0), along z, 2.0 THz, A = 0.008 Å. Frames every 50 fs.
    let (a, n, dt_fs, frames) = (3.0, 4usize, 50.0, 2000usize);
    let modes = [
        ([0.25, 0.0, 0.0], [1.0, 0.0, 0.0], 1.0, 0.01),
        ([0.0, 0.25, 0.0], [0.0, 0.0, 1.0], 2.0, 0.008),
    ];
    let sites: Vec<[f64; 3]> = (0..n * n * n)
        .map(|i| {
            [
                (i / (n * n)) as f64 * a,
                ((i / n) % n) as f64 * a,
                (i % n) as f64 * a,
            ]
        })
        .collect();
    let lattice = [
        [4.0 * a, 0.0, 0.0],
        [0.0, 4.0 * a, 0.0],
        [0.0, 0.0, 4.0 * a],
    ];
    let mut t = 0;
    let next = || -> latdyn::Result<Option<latdyn::md::sqw::PositionsFrame>> {
        if t == frames {
            return Ok(None);
        }
        let time_ps = t as f64 * dt_fs * 1e-3;
        t += 1;
        let pos = sites
            .iter()
            .map(|r| {
                let mut p = *r;
                for (q, e, f, amp) in &modes {
                    let phase =
                        TAU * (q[0] * r[0] + q[1] * r[1] + q[2] * r[2]) / a - TAU * f * time_ps;
                    for c in 0..3 {
                        p[c] += amp * e[c] * phase.cos();
                    }
                }
                p
            })
            .collect();
        Ok(Some((pos, lattice)))
    };
    let q_red = [[1.25, 0.0, 0.0], [0.0, 0.25, 1.0]];
    let qs: Vec<[f64; 3]> = q_red.iter().map(|q| q.map(|x| x * TAU / a)).collect();
    let o = CorrelationOptions {
        qs: qs.clone(),
        b: vec![vec![1.0; 64]; 2],
        masses: vec![40.0; 64],
        species: vec![0; 64],
        max_lag: 200,
        frame_fs: dt_fs,
        window: Window::Hann,
    };
    let r = md_correlations(next, &o, |_| {}).unwrap();
    assert!(
        r.correlator_bytes < 2_000_000,
        "memory {}",
        r.correlator_bytes
    );
    let df = r.frequencies[1] - r.frequencies[0];
    for (iq, (_, e, f, amp)) in modes.iter().enumerate() {
        let s = &r.sqw[iq];
        let k = (0..s.len()).max_by(|&i, &j| s[i].total_cmp(&s[j])).unwrap();
        assert!(
            (r.frequencies[k] - f).abs() < 1e-9,
            "Q{iq}: peak at {} THz, mode at {f}",
            r.frequencies[k]
        );
        // One-phonon weight of the peak: F(τ) = (Q·e)² A² N/4 · e^{2πifτ}, all at +f.
        let qe: f64 = (0..3).map(|c| qs[iq][c] * e[c]).sum();
        let want = qe * qe * amp * amp * 64.0 / 4.0;
        let got: f64 = (0..s.len())
            .filter(|&i| (r.frequencies[i] - f).abs() < 0.3)
            .map(|i| s[i])
            .sum::<f64>()
            * df;
        assert!(
            (got / want - 1.0).abs() < 0.01,
            "Q{iq}: weight {got} vs {want}"
        );
    }
    // VACF DOS: x holds the 1 THz mode, z the 2 THz one, y nothing.
    let d = &r.dos_by_species_direction[0];
    let peak =
        |v: &[f64]| r.dos_frequencies[(0..v.len()).max_by(|&i, &j| v[i].total_cmp(&v[j])).unwrap()];
    assert!((peak(&d[0]) - 1.0).abs() < 1e-9 && (peak(&d[2]) - 2.0).abs() < 1e-9);
    let total: f64 = r.dos_total.iter().sum();
    assert!(d[1].iter().sum::<f64>() < 1e-9 * total);
    let integral = total * (r.dos_frequencies[1] - r.dos_frequencies[0]);
    assert!(
        (integral - 192.0).abs() < 1e-9,
        "∫ DOS = {integral}, want 3N = 192"
    );
}

#[test]
fn lj_argon_md_peaks_agree_with_the_harmonic_sqe() {
    let out = tmp_dir("md-sqw-ar");
    // Longitudinal Q, where one mode carries the weight (a mixed transverse + longitudinal Q such as
    // (2, ½, 0) needs a two-DHO fit that the thermostat-broadened, 1000-frame spectrum does not pin down).
    let q = "2.5 0 0; 3 0 0; 2.25 0 0";
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_latdyn"))
        .args(["md", "sqw", "--quiet", "--quick", "--trajectory"])
        .arg(data("lj-argon/md/ar_lj_T10K.extxyz.xz"))
        .arg("--reference")
        .arg(data("lj-argon/fc/POSCAR-unitcell"))
        .args(["--q", q, "--max-lag", "50", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("md_sqw.json")).unwrap()).unwrap();
    let f: Vec<f64> = serde_json::from_value(v["result"]["frequencies"].clone()).unwrap();
    let sqw: Vec<Vec<f64>> = serde_json::from_value(v["result"]["sqw"].clone()).unwrap();
    // Harmonic S(Q,E) of the same potential at the same Q: the mode carrying the weight.
    let input = latdyn::io::load_harmonic(
        &data("lj-argon/fc/POSCAR-unitcell"),
        &data("lj-argon/fc/FORCE_CONSTANTS"),
        None,
        &latdyn::io::CellOptions {
            supercell_matrix: Some([[4, 0, 0], [0, 4, 0], [0, 0, 4]]),
            primitive_matrix: Some([[0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]]),
            ..Default::default()
        },
    )
    .unwrap();
    let dm = input.dynamical_matrix(false).unwrap();
    let prim = input.primitive();
    let model = SqeModel {
        dm: &dm,
        amplitudes: amplitudes(&prim.symbols, Probe::Neutron, &[]).unwrap(),
        u_cart: None,
        temperature: 10.0,
        freq_min: 1e-3,
    };
    let l = f.len() / 2;
    let grid = EnergyGrid::new(f[l], f[f.len() - 1], f[l + 1] - f[l]).unwrap();
    for (iq, h) in q.split(';').enumerate() {
        let hkl: Vec<f64> = h.split_whitespace().map(|x| x.parse().unwrap()).collect();
        let qp = QBasis::Conventional.to_primitive(
            &[hkl[0], hkl[1], hkl[2]],
            &input.structure.unit_cell.lattice,
            &prim.lattice,
        );
        let p = model.at(&qp).unwrap();
        let strongest = p.stokes.iter().copied().fold(0.0, f64::max);
        // One DHO per mode carrying ≥ 1 % of the strongest weight, started at the harmonic values.
        let total = sqw[iq][l..].iter().sum::<f64>() * grid.step;
        let start: Vec<DhoPeak> = (0..p.stokes.len())
            .filter(|&i| p.stokes[i] >= 0.01 * strongest)
            .map(|i| DhoPeak {
                energy: p.frequencies[i] * 0.9,
                gamma: 0.3,
                amplitude: total * p.stokes[i] / p.stokes.iter().sum::<f64>(),
            })
            .collect();
        let s = (0..p.stokes.len())
            .max_by(|&i, &j| p.stokes[i].total_cmp(&p.stokes[j]))
            .unwrap();
        let harmonic = p.frequencies[s];
        let fit = fit_dho(
            &f[l..],
            &sqw[iq][l..],
            None,
            &start,
            &DhoFitOptions {
                temperature: 10.0,
                classical: true,
                resolution: None,
                background: false,
            },
        )
        .unwrap();
        let k = (0..fit.peaks.len())
            .max_by(|&a, &b| fit.peaks[a].amplitude.total_cmp(&fit.peaks[b].amplitude))
            .unwrap();
        let (ec, gamma) = (fit.peaks[k].energy, fit.peaks[k].gamma);
        let err = fit.errors.as_ref().expect("determined")[k].energy;
        eprintln!(
            "Q {h}: MD DHO E_c {ec:.4} ± {err:.4} THz (γ {gamma:.3}), harmonic {harmonic:.4} THz, {:.1} σ",
            (ec - harmonic) / err
        );
        // Measured: MD 1.4–3.1 % above harmonic, 1.0–1.8 standard errors of the fit (errors from
        // the residual scatter of the 50-lag spectrum: 0.7–3.1 %).
        assert!(
            (ec - harmonic).abs() < 3.0 * err && err < 0.05 * harmonic,
            "Q {h}: MD {ec} ± {err} vs harmonic {harmonic}"
        );
    }
}
