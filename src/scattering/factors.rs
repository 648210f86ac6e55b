//! Per-atom scattering amplitudes: X-ray atomic form factors f0(|Q|) (Waasmaier–Kirfel) or neutron
//! coherent scattering lengths b_c, chosen once per atom of the primitive cell.

use super::tables::{NEUTRON_COHERENT_LENGTHS, WAASMAIER_KIRFEL};
use crate::error::{Error, Result};

/// What scatters: X-rays (IXS) or neutrons (INS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Probe {
    Xray,
    Neutron,
}

impl Probe {
    pub fn parse(s: &str) -> Result<Probe> {
        match s.to_lowercase().as_str() {
            "xray" | "x-ray" | "ixs" => Ok(Probe::Xray),
            "neutron" | "ins" => Ok(Probe::Neutron),
            other => Err(Error::input(format!(
                "--probe: expected xray or neutron, found '{other}'"
            ))),
        }
    }
}

/// The amplitude of one atom.
#[derive(Clone, Debug, PartialEq)]
pub enum Amplitude {
    /// Waasmaier–Kirfel coefficients [a1..a5, c, b1..b5] of the named atom or ion.
    Xray {
        name: String,
        coefficients: [f64; 11],
    },
    /// Bound coherent scattering length (fm).
    Neutron { name: String, length_fm: f64 },
}

impl Amplitude {
    /// f0 (electrons) or b_c (fm) at |Q| (Å⁻¹, 2π included).
    pub fn at(&self, q_length: f64) -> f64 {
        match self {
            Amplitude::Xray {
                coefficients: c, ..
            } => {
                let s = q_length / (4.0 * std::f64::consts::PI);
                let s2 = s * s;
                (0..5).map(|i| c[i] * (-c[6 + i] * s2).exp()).sum::<f64>() + c[5]
            }
            Amplitude::Neutron { length_fm, .. } => *length_fm,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Amplitude::Xray { name, .. } | Amplitude::Neutron { name, .. } => name,
        }
    }
}

/// The Waasmaier–Kirfel entry `name` ("Si", "Cs1+", "I1-", "Siva"; case-sensitive as tabulated).
pub fn xray(name: &str) -> Option<Amplitude> {
    WAASMAIER_KIRFEL
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, c)| Amplitude::Xray {
            name: n.to_string(),
            coefficients: *c,
        })
}

/// The tabulated coherent scattering length of element `symbol`.
pub fn neutron(symbol: &str) -> Option<Amplitude> {
    NEUTRON_COHERENT_LENGTHS
        .iter()
        .find(|(n, _)| *n == symbol)
        .map(|(n, b)| Amplitude::Neutron {
            name: n.to_string(),
            length_fm: *b,
        })
}

/// Parses user overrides "Cs=Cs1+ I=I1-" (X-ray: a table entry) or "Si=4.1491" (neutron: b in fm;
/// X-ray: a constant form factor is refused, name an entry instead).
pub fn parse_overrides(s: &str) -> Result<Vec<(String, String)>> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| {
                    Error::input(format!(
                        "--scattering: expected SPECIES=VALUE (e.g. Cs=Cs1+ or Si=4.15), found '{t}'"
                    ))
                })
        })
        .collect()
}

/// One amplitude per atom (its species `symbols[i]`): the element's table entry unless
/// `overrides` names the species.
pub fn amplitudes(
    symbols: &[String],
    probe: Probe,
    overrides: &[(String, String)],
) -> Result<Vec<Amplitude>> {
    for (species, _) in overrides {
        if !symbols.iter().any(|s| s == species) {
            let mut present: Vec<&str> = symbols.iter().map(String::as_str).collect();
            present.sort_unstable();
            present.dedup();
            return Err(Error::input(format!(
                "--scattering names species '{species}', which is not in the cell (species: {})",
                present.join(" ")
            )));
        }
    }
    symbols
        .iter()
        .map(|sym| {
            let chosen = overrides.iter().find(|(s, _)| s == sym).map(|(_, v)| v.as_str());
            match (probe, chosen) {
                (Probe::Xray, name) => {
                    let name = name.unwrap_or(sym);
                    xray(name).ok_or_else(|| {
                        Error::input(format!(
                            "no Waasmaier–Kirfel X-ray form factor for '{name}' (species {sym}); tabulated names are elements and ions such as Cs1+, I1-, O2-"
                        ))
                    })
                }
                (Probe::Neutron, Some(v)) => {
                    let b: f64 = v.parse().map_err(|_| {
                        Error::input(format!(
                            "--scattering {sym}={v}: expected a coherent scattering length in fm"
                        ))
                    })?;
                    if !b.is_finite() {
                        return Err(Error::input(format!("--scattering {sym}={v}: not finite")));
                    }
                    Ok(Amplitude::Neutron {
                        name: format!("{sym} (user)"),
                        length_fm: b,
                    })
                }
                (Probe::Neutron, None) => neutron(sym).ok_or_else(|| {
                    Error::input(format!(
                        "no tabulated neutron coherent scattering length for '{sym}'; give one with --scattering {sym}=B_FM"
                    ))
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_factor_at_zero_is_the_electron_count() {
        // f0(0) = Σ a_i + c = Z − charge (Waasmaier–Kirfel fit quality ~1e-3 electrons).
        for (name, z) in [
            ("Si", 14.0),
            ("Cs1+", 54.0),
            ("I1-", 54.0),
            ("O2-", 10.0),
            ("Ar", 18.0),
        ] {
            let f = xray(name).expect("tabulated").at(0.0);
            assert!((f - z).abs() < 5e-3, "{name}: f0(0) = {f}, expected {z}");
        }
        // Decreasing with |Q|.
        let si = xray("Si").expect("tabulated");
        assert!(si.at(4.0) < si.at(2.0) && si.at(2.0) < si.at(0.0));
    }

    #[test]
    fn neutron_lengths_match_sears() {
        // Sears 1992: Si 4.1491 fm (NIST lists 4.1491; periodictable's transcription 4.15071).
        let b = neutron("Si").expect("tabulated").at(3.0);
        assert!((b - 4.15).abs() < 2e-3, "{b}");
        assert!((neutron("Ar").expect("tabulated").at(0.0) - 1.909).abs() < 1e-12);
        assert!(neutron("H").expect("tabulated").at(0.0) < 0.0);
    }
}
