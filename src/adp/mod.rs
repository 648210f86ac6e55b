//! Atomic displacement parameters (physics.md §4): harmonic ADPs from the phonons on a mesh
//! (quantum and classical), their crystallographic forms and ellipsoids, and the temperature
//! models (Einstein/Debye zero-point analysis) used to compare them with MD and experiment.

pub mod harmonic;
pub mod temperature;
pub mod tensor;
