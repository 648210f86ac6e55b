//! Harmonic lattice dynamics: dynamical matrix (+ NAC), eigen-solve, velocities, meshes, DOS,
//! thermodynamics and band paths.

pub mod bands;
pub mod bz_grid;
pub mod dos;
pub mod dynmat;
pub mod eigen;
pub mod heat_capacity_fit;
pub mod mesh;
pub mod nac;
pub mod phonon_cache;
pub mod phonons;
pub mod thermo;
pub mod velocity;
