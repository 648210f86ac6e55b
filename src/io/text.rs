//! Line-oriented reading of text inputs with errors that name the file, the line, what was
//! expected and what was found.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

pub struct TextFile {
    pub path: PathBuf,
    lines: Vec<String>,
    pos: usize,
}

impl TextFile {
    pub fn read(path: &Path) -> Result<TextFile> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        TextFile::from_bytes(path, &bytes)
    }

    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<TextFile> {
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let line = bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1;
                return Err(Error::parse(
                    path,
                    line,
                    "expected text, found bytes that are not UTF-8 (binary file?)",
                ));
            }
        };
        Ok(TextFile {
            path: path.to_path_buf(),
            lines: text.lines().map(|l| l.to_string()).collect(),
            pos: 0,
        })
    }

    /// All lines (for formats that are not read line by line, e.g. namelists).
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// Number of the line the next read will return (1-based).
    pub fn line_number(&self) -> usize {
        self.pos + 1
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.lines.len()
    }

    /// Next line; `what` says what was expected there, for the error at end of file.
    pub fn next_line(&mut self, what: &str) -> Result<(usize, &str)> {
        if self.pos >= self.lines.len() {
            return Err(Error::parse(
                &self.path,
                self.pos + 1,
                format!("unexpected end of file: expected {what}"),
            ));
        }
        self.pos += 1;
        Ok((self.pos, self.lines[self.pos - 1].as_str()))
    }

    /// Next line that is not blank (whitespace-only lines are blank).
    pub fn next_nonblank(&mut self, what: &str) -> Result<(usize, &str)> {
        while self.pos < self.lines.len() && self.lines[self.pos].trim().is_empty() {
            self.pos += 1;
        }
        self.next_line(what)
    }

    /// Skips blank lines and reports whether anything is left.
    pub fn skip_blank(&mut self) -> bool {
        while self.pos < self.lines.len() && self.lines[self.pos].trim().is_empty() {
            self.pos += 1;
        }
        self.pos < self.lines.len()
    }

    /// Reads the leading `n` reals of the next line.
    pub fn next_f64s(&mut self, n: usize, what: &str) -> Result<Vec<f64>> {
        let path = self.path.clone();
        let (no, line) = self.next_line(what)?;
        parse_f64s(&path, no, line, n, what)
    }

    /// Reads the leading integer of the next line (written as an integer or a real).
    pub fn next_count(&mut self, what: &str) -> Result<usize> {
        let path = self.path.clone();
        let (no, line) = self.next_nonblank(what)?;
        parse_count(
            &path,
            no,
            line.split_whitespace().next().unwrap_or(""),
            what,
        )
    }

    pub fn err(&self, line: usize, msg: impl Into<String>) -> Error {
        Error::parse(&self.path, line, msg)
    }
}

/// The rows of a user table (comma or whitespace separated, comments after '#'): each
/// non-blank line with its 1-based number, commas turned into spaces.
pub fn table_rows(f: &TextFile) -> Vec<(usize, String)> {
    f.lines()
        .iter()
        .enumerate()
        .map(|(i, raw)| (i + 1, raw.split('#').next().unwrap_or("").replace(',', " ")))
        .filter(|(_, l)| !l.trim().is_empty())
        .collect()
}

/// A whitespace/comma-separated numeric table (comments after '#', blank lines skipped): the
/// leading `n` columns of every row. Used for user tables such as measured heat capacities.
pub fn read_columns(path: &Path, n: usize, what: &str) -> Result<Vec<Vec<f64>>> {
    let f = TextFile::read(path)?;
    let rows = table_rows(&f)
        .iter()
        .map(|(line, text)| parse_f64s(path, *line, text, n, what))
        .collect::<Result<Vec<_>>>()?;
    if rows.is_empty() {
        return Err(Error::parse(
            path,
            f.lines().len().max(1),
            format!("expected rows of {what}, found none"),
        ));
    }
    Ok(rows)
}

/// A real number as Fortran or C writes it (`1.5`, `1.5E-002`, `1.5D+00`), finite.
pub fn parse_real(token: &str) -> Option<f64> {
    let v: f64 = token.replace(['D', 'd'], "E").parse().ok()?;
    v.is_finite().then_some(v)
}

/// The leading `n` whitespace-separated reals of a line.
pub fn parse_f64s(
    path: &Path,
    line_no: usize,
    line: &str,
    n: usize,
    what: &str,
) -> Result<Vec<f64>> {
    let toks: Vec<&str> = line.split_whitespace().take(n).collect();
    if toks.len() < n {
        return Err(Error::parse(
            path,
            line_no,
            format!(
                "expected {n} numbers ({what}), found {} in '{}'",
                toks.len(),
                line.trim()
            ),
        ));
    }
    toks.iter()
        .map(|t| {
            parse_real(t).ok_or_else(|| {
                Error::parse(
                    path,
                    line_no,
                    format!(
                        "expected a finite number ({what}), found '{t}' in '{}'",
                        line.trim()
                    ),
                )
            })
        })
        .collect()
}

/// A non-negative integer that may be written as a real (`7`, `7.000`).
pub fn parse_count(path: &Path, line_no: usize, token: &str, what: &str) -> Result<usize> {
    let v = parse_real(token)
        .filter(|v| *v >= 0.0 && (v - v.round()).abs() < 1e-6 && *v < 1e12)
        .ok_or_else(|| {
            Error::parse(
                path,
                line_no,
                format!("expected a non-negative integer ({what}), found '{token}'"),
            )
        })?;
    Ok(v.round() as usize)
}

/// A signed integer that may be written as a real, rounded, with the rounding residual checked.
pub fn parse_lattice_int(path: &Path, line_no: usize, v: f64, what: &str) -> Result<i32> {
    if (v - v.round()).abs() > 1e-4 || v.abs() > 1e6 {
        return Err(Error::parse(
            path,
            line_no,
            format!("expected an integer lattice coordinate ({what}), found {v}"),
        ));
    }
    Ok(v.round() as i32)
}
