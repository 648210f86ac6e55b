//! latdyn: lattice dynamics and thermal transport from force constants computed elsewhere
//! (phonopy/phono3py, TDEP, hiPhive, ShengBTE/FourPhonon).
//!
//! Data flow: `io` reads files into canonical `crystal::Structure` + `fc::Fc2`;
//! `harmonic` builds D(q), solves it on q-points and meshes, and derives DOS, velocities and
//! thermodynamics; `output` writes JSON/CSV/phonopy-style files and plots; `cli` drives it all.

// Tensor algebra over Cartesian and atom indices reads best with explicit index loops.
#![allow(clippy::needless_range_loop)]

pub mod adp;
pub mod anharmonic;
pub mod cli;
pub mod config;
pub mod converge;
pub mod crystal;
pub mod error;
pub mod fc;
pub mod fit;
pub mod harmonic;
pub mod io;
pub mod linalg;
pub mod md;
pub mod output;
pub mod scattering;
mod simd;
pub mod transport;
pub mod units;
pub mod workflow;

pub use error::{Error, Result};
