//! Band structures along labelled paths: a user path, or a default path for common lattices
//! (recognized from the primitive-cell metric in phonopy's standard settings).

use super::dynmat::DynamicalMatrix;
use super::phonons::{SolveOptions, solve_points};
use crate::crystal::Cell;
use crate::error::{Error, Result};
use crate::linalg::{self, Vec3};

/// A path: consecutive segments from `points[k].1` to `points[k+1].1`; a `None` entry breaks the
/// path (a jump, written `|` by users).
#[derive(Clone, Debug, PartialEq)]
pub struct BandPath {
    pub segments: Vec<(String, Vec3, String, Vec3)>,
}

impl BandPath {
    /// Parses "G 0 0 0  X 0.5 0 0.5  L 0.5 0.5 0.5 | K 0.375 0.375 0.75 G 0 0 0"
    /// (label followed by three reduced coordinates; `|` breaks the path).
    pub fn parse(text: &str) -> Result<BandPath> {
        let mut segments = Vec::new();
        for part in text.split('|') {
            let toks: Vec<&str> = part.split_whitespace().collect();
            if toks.is_empty() {
                continue;
            }
            if !toks.len().is_multiple_of(4) {
                return Err(Error::input(format!(
                    "band path '{part}': expected groups of 'label qx qy qz', found {} tokens",
                    toks.len()
                )));
            }
            let mut pts = Vec::new();
            for g in toks.chunks(4) {
                let q: Vec<f64> = g[1..]
                    .iter()
                    .map(|t| {
                        t.parse::<f64>().map_err(|_| {
                            Error::input(format!("band path: expected a number, found '{t}'"))
                        })
                    })
                    .collect::<Result<_>>()?;
                pts.push((g[0].to_string(), [q[0], q[1], q[2]]));
            }
            if pts.len() < 2 {
                return Err(Error::input(format!(
                    "band path '{part}' needs at least two points"
                )));
            }
            for w in pts.windows(2) {
                segments.push((w[0].0.clone(), w[0].1, w[1].0.clone(), w[1].1));
            }
        }
        if segments.is_empty() {
            return Err(Error::input("empty band path"));
        }
        Ok(BandPath { segments })
    }

    /// Default path for the primitive cell, recognized from its metric (phonopy's standard
    /// primitive settings); otherwise Γ to the zone-face centres and the corner.
    pub fn default_for(prim: &Cell) -> BandPath {
        let l: Vec<f64> = prim.lattice.iter().map(linalg::norm).collect();
        let ang = |i: usize, j: usize| {
            (linalg::dot(&prim.lattice[i], &prim.lattice[j]) / (l[i] * l[j]))
                .acos()
                .to_degrees()
        };
        let eq = |a: f64, b: f64| (a - b).abs() < 1e-3 * a.abs().max(1.0);
        let all_len_equal = eq(l[0], l[1]) && eq(l[1], l[2]);
        let path = if all_len_equal
            && eq(ang(0, 1), 60.0)
            && eq(ang(1, 2), 60.0)
            && eq(ang(0, 2), 60.0)
        {
            // FCC (phonopy's F primitive cell).
            "Γ 0 0 0 X 0.5 0 0.5 U 0.625 0.25 0.625 | K 0.375 0.375 0.75 Γ 0 0 0 L 0.5 0.5 0.5 W 0.5 0.25 0.75 X 0.5 0 0.5"
        } else if all_len_equal
            && eq(ang(0, 1), 109.47122063449069)
            && eq(ang(1, 2), 109.47122063449069)
        {
            // BCC (phonopy's I primitive cell).
            "Γ 0 0 0 H 0.5 -0.5 0.5 N 0 0 0.5 Γ 0 0 0 P 0.25 0.25 0.25 H 0.5 -0.5 0.5"
        } else if eq(l[0], l[1])
            && eq(ang(0, 1), 120.0)
            && eq(ang(0, 2), 90.0)
            && eq(ang(1, 2), 90.0)
        {
            "Γ 0 0 0 M 0.5 0 0 K 0.333333333333333333 0.333333333333333333 0 Γ 0 0 0 A 0 0 0.5 L 0.5 0 0.5 H 0.333333333333333333 0.333333333333333333 0.5 A 0 0 0.5"
        } else if eq(ang(0, 1), 90.0) && eq(ang(0, 2), 90.0) && eq(ang(1, 2), 90.0) {
            "Γ 0 0 0 X 0.5 0 0 S 0.5 0.5 0 Y 0 0.5 0 Γ 0 0 0 Z 0 0 0.5 U 0.5 0 0.5 R 0.5 0.5 0.5 T 0 0.5 0.5 Z 0 0 0.5"
        } else {
            "Γ 0 0 0 X 0.5 0 0 | Γ 0 0 0 Y 0 0.5 0 | Γ 0 0 0 Z 0 0 0.5 | Γ 0 0 0 R 0.5 0.5 0.5"
        };
        BandPath::parse(path).expect("built-in path parses")
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct BandStructure {
    /// [segment][point] reduced q.
    pub qpoints: Vec<Vec<Vec3>>,
    /// Cumulative Cartesian path length (Å⁻¹, no 2π), continuing across segments.
    pub distances: Vec<Vec<f64>>,
    /// [segment][point][band] THz.
    pub frequencies: Vec<Vec<Vec<f64>>>,
    /// Segment end labels (start, end).
    pub labels: Vec<(String, String)>,
}

/// Frequencies along the path, `npoints` per segment including both ends. At Γ the
/// non-analytic term uses the segment direction, as phonopy does.
pub fn band_structure(
    dm: &DynamicalMatrix,
    path: &BandPath,
    npoints: usize,
) -> Result<BandStructure> {
    if npoints < 2 {
        return Err(Error::input("need at least 2 points per band segment"));
    }
    let prim = dm.primitive();
    let mut out = BandStructure {
        qpoints: vec![],
        distances: vec![],
        frequencies: vec![],
        labels: vec![],
    };
    let mut d0 = 0.0;
    for (la, qa, lb, qb) in &path.segments {
        let dir = linalg::sub(qb, qa);
        let qs: Vec<Vec3> = (0..npoints)
            .map(|i| linalg::add(qa, &linalg::scale(&dir, i as f64 / (npoints - 1) as f64)))
            .collect();
        let opts = SolveOptions {
            q_direction: Some(dir),
            ..Default::default()
        };
        let solved = solve_points(dm, &qs, &opts)?;
        let seg_len = linalg::norm(&prim.q_cartesian(&dir));
        out.distances.push(
            (0..npoints)
                .map(|i| d0 + seg_len * i as f64 / (npoints - 1) as f64)
                .collect(),
        );
        d0 += seg_len;
        out.frequencies
            .push(solved.into_iter().map(|p| p.frequencies).collect());
        out.qpoints.push(qs);
        out.labels.push((la.clone(), lb.clone()));
    }
    Ok(out)
}
