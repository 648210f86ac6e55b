//! phonopy-style text outputs that existing scripts read: band.yaml and total_dos.dat /
//! projected_dos.dat.

use crate::crystal::Cell;
use crate::error::{Error, Result};
use crate::harmonic::bands::BandStructure;
use crate::harmonic::dos::DosResult;
use std::fmt::Write as _;
use std::path::Path;

pub fn write_band_yaml(path: &Path, prim: &Cell, bs: &BandStructure) -> Result<()> {
    let mut s = String::new();
    let npts: usize = bs.qpoints.iter().map(|q| q.len()).sum();
    let _ = writeln!(
        s,
        "nqpoint: {npts}\nnpath: {}\nsegment_nqpoint:",
        bs.qpoints.len()
    );
    for q in &bs.qpoints {
        let _ = writeln!(s, "- {}", q.len());
    }
    let _ = writeln!(s, "labels:");
    for (a, b) in &bs.labels {
        let _ = writeln!(s, "- [ '{a}', '{b}' ]");
    }
    let _ = writeln!(s, "reciprocal_lattice:");
    for (r, n) in prim.reciprocal().iter().zip(["a*", "b*", "c*"]) {
        let _ = writeln!(
            s,
            "- [ {:18.15}, {:18.15}, {:18.15} ] # {n}",
            r[0], r[1], r[2]
        );
    }
    let _ = writeln!(s, "natom: {}\nlattice:", prim.n_atoms());
    for (r, n) in prim.lattice.iter().zip(["a", "b", "c"]) {
        let _ = writeln!(
            s,
            "- [ {:21.15}, {:21.15}, {:21.15} ] # {n}",
            r[0], r[1], r[2]
        );
    }
    let _ = writeln!(s, "points:");
    for i in 0..prim.n_atoms() {
        let p = prim.positions[i];
        let _ = writeln!(
            s,
            "- symbol: {} # {}\n  coordinates: [ {:18.15}, {:18.15}, {:18.15} ]\n  mass: {:.6}",
            prim.symbols[i],
            i + 1,
            p[0],
            p[1],
            p[2],
            prim.masses[i]
        );
    }
    let _ = writeln!(s, "\nphonon:");
    for (seg, qs) in bs.qpoints.iter().enumerate() {
        for (i, q) in qs.iter().enumerate() {
            let _ = writeln!(
                s,
                "- q-position: [ {:12.7}, {:12.7}, {:12.7} ]\n  distance: {:12.7}\n  band:",
                q[0], q[1], q[2], bs.distances[seg][i]
            );
            for (b, f) in bs.frequencies[seg][i].iter().enumerate() {
                let _ = writeln!(s, "  - # {}\n    frequency: {:15.10}", b + 1, f);
            }
            s.push('\n');
        }
    }
    std::fs::write(path, s).map_err(|e| Error::io(path, e))
}

/// total_dos.dat (frequency, DOS) and projected_dos.dat (frequency, one column per atom).
pub fn write_dos_dat(dir: &Path, dos: &DosResult) -> Result<()> {
    let mut t = String::from(
        "# Sigma or tetrahedron method; frequency (THz), DOS (states/THz per primitive cell)\n",
    );
    let mut p = String::from("# frequency (THz), projected DOS of each atom\n");
    for (i, f) in dos.frequency_points.iter().enumerate() {
        let _ = writeln!(t, "{f:20.10} {:20.10}", dos.total_dos[i]);
        let _ = write!(p, "{f:20.10}");
        for a in &dos.projected_dos {
            let _ = write!(p, " {:20.10}", a[i]);
        }
        p.push('\n');
    }
    std::fs::write(dir.join("total_dos.dat"), t)
        .map_err(|e| Error::io(&dir.join("total_dos.dat"), e))?;
    std::fs::write(dir.join("projected_dos.dat"), p)
        .map_err(|e| Error::io(&dir.join("projected_dos.dat"), e))
}
