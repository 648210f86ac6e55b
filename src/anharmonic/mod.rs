//! Anharmonic phonon properties from third-order force constants: triplets on the mesh, the
//! interaction strength, and linewidths.

pub mod fc4_fourier;
pub mod four_phonon;
pub mod interaction;
pub mod isotope;
pub mod linewidth;
pub mod triplets;
