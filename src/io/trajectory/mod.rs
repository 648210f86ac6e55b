//! MD trajectory readers: ASE extended XYZ, LAMMPS dump (custom/atom styles) and VASP XDATCAR,
//! plain or xz/gzip-compressed. Frames are streamed one at a time, so memory does not grow
//! with the length of the run; `FrameSelection` discards equilibration frames and strides.

mod extxyz;
mod lammps;
pub mod lines;
mod xdatcar;

use crate::error::{Error, Result};
use crate::linalg::{Mat3, Vec3};
use lines::LineStream;
use std::path::Path;

/// One MD snapshot. Positions are Cartesian (Å) relative to the cell origin; whether they are
/// continuous in time (unwrapped) or folded into the cell is `Trajectory::wrapped`.
#[derive(Clone, Debug)]
pub struct Frame {
    /// 0-based index of the frame in the file.
    pub index: usize,
    /// Lattice vectors as rows (Å); may change from frame to frame (NPT).
    pub lattice: Mat3,
    pub positions: Vec<Vec3>,
    /// Species of every atom (element symbols, or LAMMPS type numbers when no map is given).
    pub symbols: Vec<String>,
    /// Simulation time (fs) when the file records it.
    pub time_fs: Option<f64>,
}

/// The formats latdyn reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum TrajectoryFormat {
    ExtXyz,
    LammpsDump,
    Xdatcar,
}

impl TrajectoryFormat {
    /// From the file name (compression suffixes ignored): *.xyz/*.extxyz, *XDATCAR*,
    /// *.dump/*.lammpstrj/*dump*.
    pub fn detect(path: &Path) -> Result<TrajectoryFormat> {
        let name = path
            .file_name()
            .map(|s| s.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let stem = name
            .trim_end_matches(".xz")
            .trim_end_matches(".gz")
            .to_string();
        if stem.ends_with(".xyz") || stem.ends_with(".extxyz") {
            Ok(TrajectoryFormat::ExtXyz)
        } else if stem.contains("xdatcar") {
            Ok(TrajectoryFormat::Xdatcar)
        } else if stem.ends_with(".lammpstrj") || stem.contains("dump") {
            Ok(TrajectoryFormat::LammpsDump)
        } else {
            Err(Error::input(format!(
                "{}: cannot tell the trajectory format from the name; expected *.xyz/*.extxyz, *XDATCAR* or *.dump/*.lammpstrj (give --format extxyz|lammps|xdatcar)",
                path.display()
            )))
        }
    }

    pub fn parse(name: &str) -> Result<TrajectoryFormat> {
        match name.to_lowercase().as_str() {
            "extxyz" | "xyz" => Ok(TrajectoryFormat::ExtXyz),
            "lammps" | "dump" | "lammpstrj" => Ok(TrajectoryFormat::LammpsDump),
            "xdatcar" | "vasp" => Ok(TrajectoryFormat::Xdatcar),
            other => Err(Error::input(format!(
                "unknown trajectory format '{other}': expected extxyz, lammps or xdatcar"
            ))),
        }
    }
}

/// Reader options that a format needs beyond the file itself.
#[derive(Clone, Debug, Default)]
pub struct ReaderOptions {
    /// LAMMPS: element of each atom type (type 1 first); without it, species are the type numbers.
    pub lammps_types: Option<Vec<String>>,
}

/// Which frames to use: skip the first `discard` (equilibration), then every `stride`-th,
/// at most `max_frames`.
#[derive(Clone, Copy, Debug)]
pub struct FrameSelection {
    pub discard: usize,
    pub stride: usize,
    pub max_frames: Option<usize>,
}

impl Default for FrameSelection {
    fn default() -> Self {
        FrameSelection {
            discard: 0,
            stride: 1,
            max_frames: None,
        }
    }
}

trait FrameParser: Send {
    /// The next frame, None at a clean end of file.
    fn next_frame(&mut self, lines: &mut LineStream, index: usize) -> Result<Option<Frame>>;
    /// Whether positions may be folded into the cell (then they must be unwrapped).
    fn wrapped(&self) -> bool;
}

/// A trajectory file opened for streaming.
pub struct Trajectory {
    lines: LineStream,
    parser: Box<dyn FrameParser>,
    format: TrajectoryFormat,
    selection: FrameSelection,
    /// Frames read from the file so far (used or not).
    n_read: usize,
    n_used: usize,
    n_atoms: Option<usize>,
    symbols: Option<Vec<String>>,
}

impl Trajectory {
    pub fn open(
        path: &Path,
        format: Option<TrajectoryFormat>,
        options: &ReaderOptions,
        selection: FrameSelection,
    ) -> Result<Trajectory> {
        if selection.stride == 0 {
            return Err(Error::input("--stride must be at least 1"));
        }
        let format = match format {
            Some(f) => f,
            None => TrajectoryFormat::detect(path)?,
        };
        let lines = LineStream::open(path)?;
        Ok(Trajectory::from_lines(lines, format, options, selection))
    }

    /// A trajectory over an already opened line stream (tests, in-memory data).
    pub fn from_lines(
        lines: LineStream,
        format: TrajectoryFormat,
        options: &ReaderOptions,
        selection: FrameSelection,
    ) -> Trajectory {
        let parser: Box<dyn FrameParser> = match format {
            TrajectoryFormat::ExtXyz => Box::new(extxyz::ExtXyzParser),
            TrajectoryFormat::LammpsDump => {
                Box::new(lammps::LammpsParser::new(options.lammps_types.clone()))
            }
            TrajectoryFormat::Xdatcar => Box::new(xdatcar::XdatcarParser::default()),
        };
        Trajectory {
            lines,
            parser,
            format,
            selection,
            n_read: 0,
            n_used: 0,
            n_atoms: None,
            symbols: None,
        }
    }

    pub fn format(&self) -> TrajectoryFormat {
        self.format
    }

    /// True when positions may be folded into the cell and must be unwrapped by continuity.
    pub fn wrapped(&self) -> bool {
        self.parser.wrapped()
    }

    /// Frames read from the file so far, including discarded and strided-over ones.
    pub fn frames_read(&self) -> usize {
        self.n_read
    }

    /// The next selected frame. Every frame is checked against the first one: the same number
    /// of atoms and the same species in the same order.
    pub fn next_frame(&mut self) -> Result<Option<Frame>> {
        loop {
            if let Some(max) = self.selection.max_frames
                && self.n_used >= max
            {
                return Ok(None);
            }
            let index = self.n_read;
            let Some(frame) = self.parser.next_frame(&mut self.lines, index)? else {
                return Ok(None);
            };
            self.n_read += 1;
            self.check_consistent(&frame)?;
            if index < self.selection.discard
                || !(index - self.selection.discard).is_multiple_of(self.selection.stride)
            {
                continue;
            }
            self.n_used += 1;
            return Ok(Some(frame));
        }
    }

    fn check_consistent(&mut self, frame: &Frame) -> Result<()> {
        match (&self.n_atoms, &self.symbols) {
            (Some(n), Some(symbols)) => {
                if frame.positions.len() != *n {
                    return Err(self.lines.err(format!(
                        "frame {} has {} atoms, but frame 0 has {n}: expected the same atoms in every frame",
                        frame.index,
                        frame.positions.len()
                    )));
                }
                if let Some(i) = (0..*n).find(|&i| frame.symbols[i] != symbols[i]) {
                    return Err(self.lines.err(format!(
                        "frame {}: atom {} is {}, but {} in frame 0: expected the same atom order in every frame",
                        frame.index,
                        i + 1,
                        frame.symbols[i],
                        symbols[i]
                    )));
                }
            }
            _ => {
                if frame.positions.is_empty() {
                    return Err(self.lines.err("frame 0 has no atoms"));
                }
                self.n_atoms = Some(frame.positions.len());
                self.symbols = Some(frame.symbols.clone());
            }
        }
        Ok(())
    }
}

impl Iterator for Trajectory {
    type Item = Result<Frame>;
    fn next(&mut self) -> Option<Result<Frame>> {
        self.next_frame().transpose()
    }
}

/// Splits a whitespace-separated line into exactly `n` reals, naming `what` in the error.
fn reals<const N: usize>(lines: &LineStream, line: &str, what: &str) -> Result<[f64; N]> {
    let mut out = [0.0; N];
    let mut it = line.split_whitespace();
    for (k, o) in out.iter_mut().enumerate() {
        let tok = it.next().ok_or_else(|| {
            lines.err(format!(
                "expected {N} numbers ({what}), found {k} in '{}'",
                line.trim()
            ))
        })?;
        *o = real_token(lines, tok, line, what)?;
    }
    Ok(out)
}

/// One real token of `line`, with an error naming what it should have been.
fn real_token(lines: &LineStream, tok: &str, line: &str, what: &str) -> Result<f64> {
    lines::real(tok).ok_or_else(|| {
        lines.err(format!(
            "expected a finite number ({what}), found '{tok}' in '{}'",
            line.trim()
        ))
    })
}

/// A count on its own line (atoms per frame, species counts).
fn count(lines: &LineStream, token: &str, what: &str) -> Result<usize> {
    token.trim().parse::<usize>().map_err(|_| {
        lines.err(format!(
            "expected {what} (a non-negative integer), found '{token}'"
        ))
    })
}
