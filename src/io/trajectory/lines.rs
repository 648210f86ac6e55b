//! A streaming line reader for trajectories: one line in memory at a time, transparent xz and
//! gzip decompression (detected from the magic bytes, not the name), and line numbers for errors.

use crate::error::{Error, Result};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0x00];
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Lines of a (possibly compressed) text file, read on demand.
pub struct LineStream {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    line: String,
    line_no: usize,
    /// A line read ahead by `peek` and not yet consumed.
    peeked: bool,
    eof: bool,
}

impl LineStream {
    pub fn open(path: &Path) -> Result<LineStream> {
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut magic = [0u8; 6];
        let n = read_up_to(&mut file, &mut magic).map_err(|e| Error::io(path, e))?;
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        // 1 MiB buffers: large sequential reads, bounded memory whatever the file size.
        let raw: Box<dyn Read + Send> = if n == 6 && magic == XZ_MAGIC {
            Box::new(lzma_rust2::XzReader::new(BufReader::new(file), true))
        } else if n >= 2 && magic[..2] == GZIP_MAGIC {
            Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)))
        } else {
            Box::new(file)
        };
        Ok(LineStream::from_reader(
            path,
            Box::new(BufReader::with_capacity(1 << 20, raw)),
        ))
    }

    /// A stream over any reader (tests, in-memory data); `path` names it in errors.
    pub fn from_reader(path: &Path, reader: Box<dyn BufRead + Send>) -> LineStream {
        LineStream {
            path: path.to_path_buf(),
            reader,
            line: String::new(),
            line_no: 0,
            peeked: false,
            eof: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// 1-based number of the line last returned.
    pub fn line_no(&self) -> usize {
        self.line_no
    }

    fn fill(&mut self) -> Result<bool> {
        self.line.clear();
        let n = self.reader.read_line(&mut self.line).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                Error::parse(
                    &self.path,
                    self.line_no + 1,
                    format!("expected UTF-8 text (or xz/gzip of it), found undecodable data: {e}"),
                )
            } else {
                Error::io(&self.path, e)
            }
        })?;
        if n == 0 {
            self.eof = true;
            return Ok(false);
        }
        self.line_no += 1;
        Ok(true)
    }

    /// The next line (without its newline), or None at the end of the file.
    pub fn next_line(&mut self) -> Result<Option<&str>> {
        if self.peeked {
            self.peeked = false;
            return Ok(Some(trim_newline(&self.line)));
        }
        if self.eof || !self.fill()? {
            return Ok(None);
        }
        Ok(Some(trim_newline(&self.line)))
    }

    /// The next line, which must exist: `what` says what a truncated file lacks.
    pub fn expect(&mut self, what: &str) -> Result<&str> {
        self.expect_with(|| what.to_string())
    }

    /// As `expect`, with the description built only when the file has ended.
    pub fn expect_with(&mut self, what: impl FnOnce() -> String) -> Result<&str> {
        let after = self.line_no;
        match self.next_line()? {
            Some(_) => Ok(trim_newline(&self.line)),
            None => Err(Error::parse(
                &self.path,
                after + 1,
                format!(
                    "unexpected end of file (truncated frame?): expected {}",
                    what()
                ),
            )),
        }
    }

    /// As `expect_with`, leaving the line in `buf` (so the stream can still be borrowed for
    /// error messages while the line is parsed); buffers are swapped, not copied.
    pub fn expect_into(&mut self, buf: &mut String, what: impl FnOnce() -> String) -> Result<()> {
        self.expect_with(what)?;
        std::mem::swap(&mut self.line, buf);
        let n = trim_newline(buf).len();
        buf.truncate(n);
        Ok(())
    }

    /// Looks at the next line without consuming it; None at the end of the file.
    pub fn peek(&mut self) -> Result<Option<&str>> {
        if !self.peeked {
            if self.eof || !self.fill()? {
                return Ok(None);
            }
            self.peeked = true;
        }
        Ok(Some(trim_newline(&self.line)))
    }

    /// Skips blank lines; false at the end of the file.
    pub fn skip_blank(&mut self) -> Result<bool> {
        loop {
            match self.peek()? {
                None => return Ok(false),
                Some(l) if l.trim().is_empty() => self.peeked = false,
                Some(_) => return Ok(true),
            }
        }
    }

    pub fn err(&self, msg: impl Into<String>) -> Error {
        Error::parse(&self.path, self.line_no, msg)
    }
}

fn trim_newline(s: &str) -> &str {
    s.trim_end_matches(['\n', '\r'])
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A finite real in C or Fortran notation; the fast path is Rust's own parser.
pub fn real(token: &str) -> Option<f64> {
    match token.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        Ok(_) => None,
        Err(_) => crate::io::text::parse_real(token),
    }
}
