//! VASP XDATCAR (VASP 5 and later): a POSCAR-like header (comment, scale, three lattice
//! vectors, species names, counts), then per frame a `Direct configuration= N` line and the
//! fractional positions, which VASP folds into [0, 1). With a variable cell (NPT) the header
//! is repeated before every frame.

use super::lines::LineStream;
use super::{Frame, FrameParser, count};
use crate::error::Result;
use crate::linalg::Mat3;

#[derive(Default)]
pub(super) struct XdatcarParser {
    /// The current header: lattice and the species of every atom.
    header: Option<(Mat3, Vec<String>)>,
}

impl FrameParser for XdatcarParser {
    fn wrapped(&self) -> bool {
        true
    }

    fn next_frame(&mut self, lines: &mut LineStream, index: usize) -> Result<Option<Frame>> {
        if !lines.skip_blank()? {
            return Ok(None);
        }
        let starts_config = |l: &str| {
            let w = l.trim_start().to_lowercase();
            w.starts_with("direct") || w.starts_with("cartesian")
        };
        let next_is_config = lines.peek()?.is_some_and(starts_config);
        if !next_is_config || self.header.is_none() {
            self.header = Some(read_header(lines)?);
        }
        let config = lines
            .expect_with(|| format!("'Direct configuration=' of frame {index}"))?
            .to_string();
        if !starts_config(&config) {
            return Err(lines.err(format!(
                "frame {index}: expected 'Direct configuration= N', found '{}'",
                config.trim()
            )));
        }
        let cartesian = config.trim_start().to_lowercase().starts_with("cartesian");
        let (lattice, symbols) = self.header.clone().expect("read above");
        let n = symbols.len();
        let mut positions = Vec::with_capacity(n);
        let mut buf = String::new();
        for k in 0..n {
            lines.expect_into(&mut buf, || {
                format!("position {} of {n} of frame {index}", k + 1)
            })?;
            let r: [f64; 3] = super::reals(lines, &buf, "a position")?;
            positions.push(if cartesian {
                r
            } else {
                crate::linalg::vec_mat(&r, &lattice)
            });
        }
        Ok(Some(Frame {
            index,
            lattice,
            positions,
            symbols,
            time_fs: None,
        }))
    }
}

/// comment, scale, 3 lattice lines, species names, counts.
fn read_header(lines: &mut LineStream) -> Result<(Mat3, Vec<String>)> {
    lines.expect("the XDATCAR comment line")?;
    let scale_line = lines.expect("the scale factor")?.to_string();
    let [scale] = super::reals::<1>(lines, &scale_line, "the scale factor")?;
    let mut lattice = [[0.0; 3]; 3];
    for row in lattice.iter_mut() {
        let l = lines.expect("a lattice vector")?.to_string();
        *row = super::reals(lines, &l, "a lattice vector")?;
    }
    // A negative scale is the cell volume (Å³), as in POSCAR.
    let factor = if scale < 0.0 {
        (-scale / crate::linalg::det(&lattice).abs()).cbrt()
    } else {
        scale
    };
    for row in lattice.iter_mut() {
        for x in row.iter_mut() {
            *x *= factor;
        }
    }
    if crate::linalg::det(&lattice).abs() < 1e-6 {
        return Err(lines.err(format!(
            "expected a non-singular lattice, found {lattice:?}"
        )));
    }
    let names_line = lines.expect("the species names")?.to_string();
    let names: Vec<String> = names_line.split_whitespace().map(str::to_string).collect();
    if names.is_empty() || names[0].parse::<f64>().is_ok() {
        return Err(lines.err(format!(
            "expected species names (VASP 5 XDATCAR), found '{}'; add the names line to a VASP 4 file",
            names_line.trim()
        )));
    }
    let counts_line = lines.expect("the species counts")?.to_string();
    let counts = counts_line
        .split_whitespace()
        .map(|t| count(lines, t, "a species count"))
        .collect::<Result<Vec<_>>>()?;
    if counts.len() != names.len() {
        return Err(lines.err(format!(
            "expected {} species counts (one per name in '{}'), found {}",
            names.len(),
            names_line.trim(),
            counts.len()
        )));
    }
    let symbols = names
        .iter()
        .zip(&counts)
        .flat_map(|(s, &c)| std::iter::repeat_n(s.clone(), c))
        .collect();
    Ok((lattice, symbols))
}
