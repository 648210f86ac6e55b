//! Spectra on an energy grid from the one-phonon weights of each mode (physics.md §8): δ peaks
//! (binned), Lorentzians of half width Γ_s, or the damped harmonic oscillator (DHO) of the
//! CsCu2I3 seed's Eq. 3. Energies in meV, spectra in weight per meV.
//!
//! DHO normalization: with A_s = E_s · I_s^Stokes/(n_s + 1) (= E_s |F_s|²/f_s · C) the DHO
//!   S(E) = A_s/(1 − e^{−E/kT}) · 4 γ_s E / (π [(E² − E_s²)² + (2 γ_s E)²])
//! tends to I^Stokes δ(E − E_s) + I^anti δ(E + E_s) as γ_s → 0, so the three shapes carry the same
//! weights, and the DHO obeys detailed balance S(−E) = e^{−E/kT} S(E) exactly at any damping.

use crate::error::{Error, Result};
use crate::units::KB_EV;
use std::f64::consts::PI;

/// A uniform energy grid (meV): bin centres e0, e0 + step, ….
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EnergyGrid {
    pub start: f64,
    pub step: f64,
    pub n: usize,
}

impl EnergyGrid {
    /// From "min max step" (meV), both ends included.
    pub fn new(min: f64, max: f64, step: f64) -> Result<EnergyGrid> {
        if !(min.is_finite() && max.is_finite() && step.is_finite()) || step <= 0.0 || max <= min {
            return Err(Error::input(format!(
                "energy grid: expected MIN < MAX and STEP > 0 (meV), found {min} {max} {step}"
            )));
        }
        let n = ((max - min) / step + 1e-9).floor() as usize + 1;
        if n > 1_000_000 {
            return Err(Error::input(format!(
                "energy grid: {n} points; use a coarser step"
            )));
        }
        Ok(EnergyGrid {
            start: min,
            step,
            n,
        })
    }

    pub fn energy(&self, i: usize) -> f64 {
        self.start + self.step * i as f64
    }

    pub fn energies(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.energy(i)).collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lineshape {
    Delta,
    Lorentzian,
    Dho,
}

impl Lineshape {
    pub fn parse(s: &str) -> Result<Lineshape> {
        match s.to_lowercase().as_str() {
            "delta" => Ok(Lineshape::Delta),
            "lorentzian" => Ok(Lineshape::Lorentzian),
            "dho" => Ok(Lineshape::Dho),
            other => Err(Error::input(format!(
                "--lineshape: expected delta, lorentzian or dho, found '{other}'"
            ))),
        }
    }
}

/// One mode's contribution: energy E_s (meV), Stokes and anti-Stokes weights, half width γ (meV).
#[derive(Clone, Copy, Debug)]
pub struct ModeLine {
    pub energy: f64,
    pub stokes: f64,
    pub anti_stokes: f64,
    pub half_width: f64,
}

/// E/(1 − e^{−E/kT}) (meV): the detailed-balance factor times E, finite at E = 0 (→ kT).
fn e_times_bose_plus_one(e: f64, t: f64) -> f64 {
    if t <= 0.0 {
        return e.max(0.0);
    }
    let kt = KB_EV * 1e3 * t;
    let x = e / kt;
    if x.abs() < 1e-8 {
        kt * (1.0 + 0.5 * x)
    } else {
        e / -(-x).exp_m1()
    }
}

/// The DHO of a mode at E (weight per meV).
pub fn dho(e: f64, line: &ModeLine, temperature: f64) -> f64 {
    let (ec, g) = (line.energy, line.half_width);
    if ec <= 0.0 || line.stokes <= 0.0 {
        return 0.0;
    }
    // A = E_s I^S/(n+1); (n+1) = 1/(1 − e^{−E_s/kT}) = e_times_bose_plus_one(E_s)/E_s.
    let amplitude = line.stokes * ec * ec / e_times_bose_plus_one(ec, temperature);
    let den = (e * e - ec * ec).powi(2) + (2.0 * g * e).powi(2);
    if den <= 0.0 {
        return 0.0;
    }
    amplitude * e_times_bose_plus_one(e, temperature) * 4.0 * g / (PI * den)
}

fn lorentzian(x: f64, g: f64) -> f64 {
    g / (PI * (x * x + g * g))
}

/// Adds the spectrum of `lines` on `grid` to `out` (weight per meV). δ peaks are split linearly
/// between the two nearest bin centres, which keeps both the weight and its first moment;
/// Lorentzians and DHOs are averaged over each bin (8 sub-points), so narrow lines are not lost
/// between centres. A line with zero half width is binned as a δ in every shape.
pub fn add_spectrum(
    grid: &EnergyGrid,
    lines: &[ModeLine],
    shape: Lineshape,
    temperature: f64,
    out: &mut [f64],
) {
    const SUB: usize = 8;
    for line in lines {
        // A mode without width (Γ = 0, e.g. acoustic at Γ) is a δ line in any shape.
        let shape = if line.half_width > 0.0 {
            shape
        } else {
            Lineshape::Delta
        };
        match shape {
            Lineshape::Delta => {
                for (e, w) in [(line.energy, line.stokes), (-line.energy, line.anti_stokes)] {
                    if w == 0.0 {
                        continue;
                    }
                    let x = (e - grid.start) / grid.step;
                    let i = x.floor();
                    let frac = x - i;
                    for (j, share) in [(i as i64, 1.0 - frac), (i as i64 + 1, frac)] {
                        if j >= 0 && (j as usize) < grid.n {
                            out[j as usize] += w * share / grid.step;
                        }
                    }
                }
            }
            Lineshape::Lorentzian | Lineshape::Dho => {
                let g = line.half_width;
                for (i, o) in out.iter_mut().enumerate() {
                    let mut acc = 0.0;
                    for k in 0..SUB {
                        let e = grid.energy(i) + grid.step * ((k as f64 + 0.5) / SUB as f64 - 0.5);
                        acc += if shape == Lineshape::Dho {
                            dho(e, line, temperature)
                        } else {
                            line.stokes * lorentzian(e - line.energy, g)
                                + line.anti_stokes * lorentzian(e + line.energy, g)
                        };
                    }
                    *o += acc / SUB as f64;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(e: f64, g: f64, t: f64) -> ModeLine {
        let kt = KB_EV * 1e3 * t;
        let n = 1.0 / (e / kt).exp_m1();
        ModeLine {
            energy: e,
            stokes: 2.0 * (n + 1.0),
            anti_stokes: 2.0 * n,
            half_width: g,
        }
    }

    #[test]
    fn dho_obeys_detailed_balance_at_any_damping() {
        let t = 300.0;
        let kt = KB_EV * 1e3 * t;
        for g in [0.1, 2.0, 30.0] {
            let l = line(10.0, g, t);
            for e in [0.5, 3.0, 10.0, 25.0] {
                let ratio = dho(-e, &l, t) / dho(e, &l, t);
                assert!(((ratio - (-e / kt).exp()) / ratio).abs() < 1e-12, "{g} {e}");
            }
        }
    }

    #[test]
    fn narrow_dho_and_lorentzian_carry_the_mode_weights() {
        let t = 100.0;
        let l = line(12.0, 0.02, t);
        let grid = EnergyGrid::new(-40.0, 40.0, 0.01).expect("grid");
        for shape in [Lineshape::Delta, Lineshape::Lorentzian, Lineshape::Dho] {
            let mut s = vec![0.0; grid.n];
            add_spectrum(&grid, &[l], shape, t, &mut s);
            let pos: f64 = (0..grid.n)
                .filter(|&i| grid.energy(i) > 0.0)
                .map(|i| s[i])
                .sum::<f64>()
                * grid.step;
            let neg: f64 = (0..grid.n)
                .filter(|&i| grid.energy(i) < 0.0)
                .map(|i| s[i])
                .sum::<f64>()
                * grid.step;
            // Tails beyond ±40 meV hold ≈ 5e-4 of the weight; the DHO adds an O(γ/E) asymmetry (1.4e-3).
            let tol = if shape == Lineshape::Delta {
                1e-12
            } else {
                3e-3
            };
            assert!(
                (pos / l.stokes - 1.0).abs() < tol,
                "{shape:?} Stokes {pos} vs {}",
                l.stokes
            );
            assert!(
                (neg / l.anti_stokes - 1.0).abs() < tol,
                "{shape:?} anti {neg} vs {}",
                l.anti_stokes
            );
        }
    }
}
