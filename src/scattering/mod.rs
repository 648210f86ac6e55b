//! Inelastic scattering: one-phonon coherent S(Q,E) for X-rays and neutrons from the harmonic
//! phonons (`sqe`), built-in form factors and scattering lengths (`factors`, `tables`), lineshapes
//! with computed or constant linewidths (`lineshape`, `linewidths`), instrument resolution
//! (`resolution`), powder averages (`powder`) and the DHO fit of constant-Q scans (`dho_fit`).

pub mod dho_fit;
pub mod factors;
pub mod lineshape;
pub mod linewidths;
pub mod powder;
pub mod resolution;
pub mod spectra;
pub mod sqe;
pub mod tables;
