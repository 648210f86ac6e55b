//! Harmonic lattice dynamics: dynamical matrix (+ NAC), eigen-solve, velocities, meshes, DOS,
//! thermodynamics and band paths.

pub mod dynmat;
pub mod eigen;
pub mod nac;
pub mod velocity;
