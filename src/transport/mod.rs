//! Thermal conductivity from linewidths: the relaxation-time (particle, κ_P) term.

pub mod rta;
