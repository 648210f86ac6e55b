//! Harmonic thermodynamics from mesh frequencies (phonopy's ThermalProperties), per mole of
//! primitive cells: Helmholtz free energy (kJ/mol, with zero-point energy), entropy and C_v
//! (J/K/mol). Modes at or below the cutoff frequency (imaginary ones included) are left out.

use crate::units::{EV_TO_KJ_PER_MOL, KB_EV, THZ_TO_EV};

#[derive(Clone, Debug, serde::Serialize)]
pub struct ThermalProperties {
    pub temperatures: Vec<f64>,
    pub free_energy: Vec<f64>,
    pub entropy: Vec<f64>,
    pub heat_capacity: Vec<f64>,
    pub zero_point_energy: f64,
    pub cutoff_frequency: f64,
}

/// Mode heat capacity k_B x² eˣ/(eˣ−1)² (eV/K), x = hν/k_BT; 0 at T = 0.
pub fn mode_heat_capacity(freq_thz: f64, t: f64) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    let x = freq_thz * THZ_TO_EV / (KB_EV * t);
    // x² e⁻ˣ/(1 − e⁻ˣ)²: the same value as x² eˣ/(eˣ − 1)², without overflow at large x.
    let em = (-x).exp();
    let d = -(-x).exp_m1();
    KB_EV * x * x * em / (d * d)
}

/// C_v (J/K/mol of primitive cells) by integrating a DOS g(f) (states/THz per cell, on the
/// increasing grid `points`) against the mode heat capacity with the trapezoidal rule. With a
/// tetrahedron DOS this resolves low temperatures, where a plain mesh sum has too few modes
/// below k_BT/h. Points at f ≤ 0 are left out.
pub fn heat_capacity_from_dos(points: &[f64], dos: &[f64], temperatures: &[f64]) -> Vec<f64> {
    temperatures
        .iter()
        .map(|&t| {
            let c = |k: usize| {
                if points[k] > 0.0 {
                    dos[k] * mode_heat_capacity(points[k], t)
                } else {
                    0.0
                }
            };
            let integral: f64 = (1..points.len())
                .map(|k| 0.5 * (c(k) + c(k - 1)) * (points[k] - points[k - 1]))
                .sum();
            integral * EV_TO_KJ_PER_MOL * 1000.0
        })
        .collect()
}

/// Bose–Einstein occupation 1/(e^x − 1), 0 at T = 0.
pub fn bose(freq_thz: f64, t: f64) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    1.0 / (freq_thz * THZ_TO_EV / (KB_EV * t)).exp_m1()
}

/// `freqs[i]` are the frequencies (THz) at q-point i with weight `weights[i]`.
pub fn thermal_properties(
    freqs: &[Vec<f64>],
    weights: &[f64],
    temperatures: &[f64],
    cutoff: f64,
) -> ThermalProperties {
    let n: f64 = weights.iter().sum();
    let modes: Vec<(f64, f64)> = freqs
        .iter()
        .zip(weights)
        .flat_map(|(fs, w)| {
            fs.iter()
                .filter(|f| **f > cutoff)
                .map(move |f| (f * THZ_TO_EV, *w))
        })
        .collect();
    let zpe: f64 = modes.iter().map(|(e, w)| w * e / 2.0).sum::<f64>() / n;
    let mut out = ThermalProperties {
        temperatures: temperatures.to_vec(),
        free_energy: vec![],
        entropy: vec![],
        heat_capacity: vec![],
        zero_point_energy: zpe * EV_TO_KJ_PER_MOL,
        cutoff_frequency: cutoff,
    };
    for &t in temperatures {
        if t <= 0.0 {
            out.free_energy.push(zpe * EV_TO_KJ_PER_MOL);
            out.entropy.push(0.0);
            out.heat_capacity.push(0.0);
            continue;
        }
        let kt = KB_EV * t;
        let (mut f, mut s, mut c) = (0.0, 0.0, 0.0);
        for &(e, w) in &modes {
            let x = e / kt;
            f += w * (kt * (-(-x).exp_m1()).ln() + e / 2.0);
            let half = x / 2.0;
            s += w * (e / (2.0 * t) / half.tanh() - KB_EV * (2.0 * half.sinh()).ln());
            c += w * KB_EV * x * x * x.exp() / (x.exp_m1() * x.exp_m1());
        }
        out.free_energy.push(f / n * EV_TO_KJ_PER_MOL);
        out.entropy.push(s / n * EV_TO_KJ_PER_MOL * 1000.0);
        out.heat_capacity.push(c / n * EV_TO_KJ_PER_MOL * 1000.0);
    }
    out
}
