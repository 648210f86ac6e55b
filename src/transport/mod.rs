//! Thermal conductivity from linewidths: the relaxation-time particle term κ_P and the Wigner
//! coherence term κ_C.

pub mod checkpoint;
pub mod four_phonon_job;
pub mod job;
pub mod lbte;
pub mod plan;
pub mod rta;
pub mod spectral;
pub mod wigner;
