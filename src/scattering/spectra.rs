//! Broadened S(Q,E) at one Q: the one-phonon weights of `sqe` spread by a lineshape, averaged over
//! an optional Gaussian momentum resolution (27-point Gauss–Hermite cloud in Cartesian Q) and
//! convolved with the energy resolution.

use super::lineshape::{EnergyGrid, Lineshape, ModeLine, add_spectrum};
use super::linewidths::Linewidths;
use super::resolution::{Resolution, q_cloud};
use super::sqe::{OnePhonon, SqeModel};
use crate::error::Result;
use crate::linalg::{self, Vec3};
use crate::units::THZ_TO_MEV;
use std::f64::consts::TAU;

/// How to turn weights into a spectrum.
pub struct SpectrumSettings {
    pub grid: EnergyGrid,
    pub shape: Lineshape,
    /// Half widths for Lorentzian/DHO (None: δ lines).
    pub linewidths: Option<Linewidths>,
    /// Gaussian momentum resolution, FWHM in Å⁻¹.
    pub q_resolution: Option<f64>,
}

/// The lines of the modes at one Q.
pub fn mode_lines(p: &OnePhonon, linewidths: Option<&Linewidths>) -> Result<Vec<ModeLine>> {
    let q = linalg::sub(&p.q_reduced, &p.g.map(f64::from));
    let widths = match linewidths {
        Some(l) => l.half_widths(&q, p.frequencies.len())?,
        None => vec![0.0; p.frequencies.len()],
    };
    Ok(p.frequencies
        .iter()
        .zip(&p.stokes)
        .zip(&p.anti_stokes)
        .zip(&widths)
        .filter(|(((_, s), a), _)| **s > 0.0 || **a > 0.0)
        .map(|(((f, s), a), w)| ModeLine {
            energy: f * THZ_TO_MEV,
            stokes: *s,
            anti_stokes: *a,
            half_width: *w,
        })
        .collect())
}

/// The spectrum at Q (reduced, primitive) before the energy resolution.
pub fn raw_spectrum(model: &SqeModel, q_reduced: &Vec3, s: &SpectrumSettings) -> Result<Vec<f64>> {
    raw_spectrum_around(model, q_reduced, None, s)
}

/// As `raw_spectrum`; `centre`, when given, holds the weights already solved at Q itself, used
/// for the cloud's zero offset instead of diagonalizing D(q) a second time.
fn raw_spectrum_around(
    model: &SqeModel,
    q_reduced: &Vec3,
    centre: Option<&OnePhonon>,
    s: &SpectrumSettings,
) -> Result<Vec<f64>> {
    let mut out = vec![0.0; s.grid.n];
    let lattice = model.dm.primitive().lattice;
    let cloud = match s.q_resolution {
        Some(fwhm) => q_cloud(fwhm),
        None => vec![([0.0; 3], 1.0)],
    };
    let mut part = vec![0.0; s.grid.n];
    for (dq, w) in cloud {
        // δQ (Cartesian Å⁻¹, 2π included) in reduced primitive coordinates: a_i · δQ/2π.
        let solved;
        let p = match centre {
            Some(c) if dq == [0.0; 3] => c,
            _ => {
                let d = linalg::mat_vec(&lattice, &linalg::scale(&dq, 1.0 / TAU));
                solved = model.at(&linalg::add(q_reduced, &d))?;
                &solved
            }
        };
        part.iter_mut().for_each(|x| *x = 0.0);
        add_spectrum(
            &s.grid,
            &mode_lines(p, s.linewidths.as_ref())?,
            s.shape,
            model.temperature,
            &mut part,
        );
        out.iter_mut().zip(&part).for_each(|(o, x)| *o += w * x);
    }
    Ok(out)
}

/// The spectrum at Q with the energy resolution, and the fraction of it pushed off the grid.
pub fn spectrum(
    model: &SqeModel,
    q_reduced: &Vec3,
    s: &SpectrumSettings,
    resolution: Option<&Resolution>,
) -> Result<(Vec<f64>, f64)> {
    let raw = raw_spectrum(model, q_reduced, s)?;
    Ok(with_resolution(raw, s, resolution))
}

/// As `spectrum` at the Q of `point`, whose weights are reused rather than solved again.
pub fn spectrum_at_point(
    model: &SqeModel,
    point: &OnePhonon,
    s: &SpectrumSettings,
    resolution: Option<&Resolution>,
) -> Result<(Vec<f64>, f64)> {
    let raw = raw_spectrum_around(model, &point.q_reduced, Some(point), s)?;
    Ok(with_resolution(raw, s, resolution))
}

fn with_resolution(
    raw: Vec<f64>,
    s: &SpectrumSettings,
    resolution: Option<&Resolution>,
) -> (Vec<f64>, f64) {
    match resolution {
        Some(r) => r.convolve(&raw, s.grid.step),
        None => (raw, 0.0),
    }
}
