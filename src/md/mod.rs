//! Analyses of MD trajectories: ADPs by atom and by site (with block averages, displacement
//! histograms and their split-site fits), and the migration guard that keeps diffusing atoms
//! out of them.

pub mod accumulate;
pub mod adp;
pub mod histogram_fit;
pub mod migration;
pub mod site_map;
pub mod sqw;
