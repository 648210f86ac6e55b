//! Every physical constant and unit conversion, in one place.
//!
//! The values are phonopy's (phonopy.physical_units), so that frequencies, heat capacities and
//! thermal conductivities agree with phonopy/phono3py to the last digits (shared/docs/formats.md §8.4).

/// Planck constant, eV·s (phonopy).
pub const PLANCK_EV_S: f64 = 4.135_667_33e-15;
/// Elementary charge, J per eV (phonopy).
pub const EV_J: f64 = 1.602_177_33e-19;
/// Atomic mass unit, kg (phonopy).
pub const AMU_KG: f64 = 1.660_540_2e-27;
/// Boltzmann constant, J/K (phonopy).
pub const KB_J: f64 = 1.380_650_4e-23;
/// Avogadro constant (phonopy).
pub const AVOGADRO: f64 = 6.022_141_79e23;
/// Boltzmann constant, eV/K.
pub const KB_EV: f64 = KB_J / EV_J;
/// ħ in eV·s.
pub const HBAR_EV_S: f64 = PLANCK_EV_S / (2.0 * std::f64::consts::PI);
/// √(eV/(Å²·amu)) expressed as an ordinary frequency in THz ("VaspToTHz").
pub const VASP_TO_THZ: f64 = 15.633_302_300_230_191;
/// 1 THz in eV (h · 1e12 Hz).
pub const THZ_TO_EV: f64 = PLANCK_EV_S * 1e12;
/// 1 THz in meV.
pub const THZ_TO_MEV: f64 = THZ_TO_EV * 1e3;
/// 1 THz in cm⁻¹.
pub const THZ_TO_CM: f64 = 33.356_409_519_815_2;
/// eV per formula unit → kJ/mol.
pub const EV_TO_KJ_PER_MOL: f64 = EV_J * AVOGADRO / 1000.0;
/// Bohr radius in Å (phonopy).
pub const BOHR_ANGSTROM: f64 = 0.529_177_207_423_948;
/// Hartree in eV (phonopy).
pub const HARTREE_EV: f64 = 27.211_398_230_887_998;
/// e²/(4πε₀) in eV·Å: the non-analytic-correction unit factor for VASP-like units.
pub const NAC_FACTOR_EV_ANGSTROM: f64 = HARTREE_EV * BOHR_ANGSTROM;
/// Degeneracy tolerance on frequencies (THz), as phonopy's `degenerate_sets`.
pub const DEGENERACY_TOL_THZ: f64 = 1e-4;

/// Prefactor of the three-phonon linewidth (physics.md §6) in latdyn units:
/// Γ[THz] = THREE_PHONON_GAMMA · Σ w |V|² g / (f f' f'' N), with V in eV/Å³/amu^{3/2}, f in THz
/// and the δ-function weight g in 1/THz. From Γ_ω = πħ/(16N) Σ |V|²/(ωω'ω'') δ(ω…) (angular
/// units, the 18π/ħ²·(1/3!)²·(ħ/2)³ of the formula) and Γ = Γ_ω/2π, δ(ω) = δ(f)/2π:
/// ħ·eV²/(512 π⁴ amu³) with the Å and THz powers cancelling.
pub const THREE_PHONON_GAMMA: f64 = HBAR_EV_S * EV_J * EV_J * EV_J
    / (512.0
        * std::f64::consts::PI
        * std::f64::consts::PI
        * std::f64::consts::PI
        * std::f64::consts::PI
        * AMU_KG
        * AMU_KG
        * AMU_KG);

/// Scale of the one-phonon S(Q,E) weights (physics.md §8): phonopy's DynamicStructureFactor scale,
/// so that latdyn and phonopy numbers compare directly. A weight is
/// (n + 1)/f · |Σ_κ A_κ e^{−W} e^{iG·r} Q·e*/√(2m_κ)|² · SQE_SCALE with f in THz, m in amu,
/// Q in Å⁻¹ and A in electrons (X-ray) or fm (neutron); the scale is 1/(amu · (2π · 1 THz)²) in SI.
pub const SQE_SCALE: f64 =
    1.0 / (AMU_KG * (2.0 * std::f64::consts::PI * 1e12) * (2.0 * std::f64::consts::PI * 1e12));

/// Prefactor of the four-phonon linewidth (physics.md §7) in latdyn units:
/// Γ[THz] = FOUR_PHONON_GAMMA · Σ W |V|² g / (f f' f'' f''' N²), with V in eV/Å⁴/amu², f in THz and
/// the δ weight g in 1/THz. From the rate 1/τ = πħ²/(8N²) Σ W |V|² δ(ω…)/(ωω'ω''ω''') (angular
/// units, SI; Feng & Ruan with each unordered set counted once) and Γ = 1/(4πτ):
/// ħ²·eV⁴·1e8 / (32 (2π)⁵ amu⁴), the 1e8 collecting Å⁻⁸ (1e80), THz⁻⁵ (1e-60) and s → ps (1e-12).
pub const FOUR_PHONON_GAMMA: f64 = HBAR_EV_S * HBAR_EV_S * EV_J * EV_J * EV_J * EV_J * 1e8
    / (32.0
        * (2.0 * std::f64::consts::PI)
        * (2.0 * std::f64::consts::PI)
        * (2.0 * std::f64::consts::PI)
        * (2.0 * std::f64::consts::PI)
        * (2.0 * std::f64::consts::PI)
        * AMU_KG
        * AMU_KG
        * AMU_KG
        * AMU_KG);

/// Ordinary frequency (THz) from an eigenvalue of the mass-weighted dynamical matrix
/// (eV/(Å²·amu)); negative eigenvalues give negative (imaginary) frequencies.
pub fn eigenvalue_to_thz(lambda: f64) -> f64 {
    lambda.signum() * lambda.abs().sqrt() * VASP_TO_THZ
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn derived_constants_match_phonopy() {
        // Values printed by phonopy 3.5.1 (formats.md §8.4).
        assert!((KB_EV - 8.617_338_256_808_316e-5).abs() < 1e-18);
        assert!((NAC_FACTOR_EV_ANGSTROM - 14.399_651_725_922_27).abs() < 1e-12);
        assert!((EV_TO_KJ_PER_MOL - 96.485_390_539_836_2).abs() < 1e-9);
        let vasp = (EV_J / AMU_KG).sqrt() / 1e-10 / (2.0 * std::f64::consts::PI) / 1e12;
        assert!((vasp - VASP_TO_THZ).abs() < 1e-12);
    }
}
