//! ASE extended XYZ: per frame, the atom count, a comment line of key=value pairs
//! (`Lattice="ax ay az bx by bz cx cy cz"`, `Properties=species:S:1:pos:R:3:...`, optional
//! `time_fs=`), then one line per atom with the columns `Properties` declares. ASE writes
//! positions as they are in the simulation (unwrapped unless the user wrapped them).

use super::lines::LineStream;
use super::{Frame, FrameParser, count};
use crate::error::Result;

pub(super) struct ExtXyzParser;

/// Where the species and the positions sit among an atom line's columns.
struct Columns {
    species: usize,
    pos: usize,
}

impl FrameParser for ExtXyzParser {
    fn wrapped(&self) -> bool {
        // Positions may have been wrapped by whoever wrote the file; unwrapping by continuity
        // is a no-op on unwrapped data, so always allow it.
        true
    }

    fn next_frame(&mut self, lines: &mut LineStream, index: usize) -> Result<Option<Frame>> {
        if !lines.skip_blank()? {
            return Ok(None);
        }
        let first = lines.expect("the atom count")?.to_string();
        let n = count(
            lines,
            &first,
            "the number of atoms of an extended-XYZ frame",
        )?;
        let comment = lines
            .expect("the extended-XYZ comment line (Lattice=..., Properties=...)")?
            .to_string();
        let pairs = key_values(&comment);
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.as_str())
        };
        let lattice_text = get("Lattice").ok_or_else(|| {
            lines.err(format!(
                "frame {index}: expected Lattice=\"ax ay az bx by bz cx cy cz\" in the comment line (the cell is needed to unwrap and map atoms), found '{}'",
                truncate(&comment)
            ))
        })?;
        let l: [f64; 9] = super::reals(lines, lattice_text, "the 9 numbers of Lattice=")?;
        let lattice = [[l[0], l[1], l[2]], [l[3], l[4], l[5]], [l[6], l[7], l[8]]];
        let cols = columns(lines, get("Properties").unwrap_or("species:S:1:pos:R:3"))?;
        let time_fs = get("time_fs").and_then(super::lines::real);
        let mut positions = Vec::with_capacity(n);
        let mut symbols = Vec::with_capacity(n);
        let mut buf = String::new();
        for k in 0..n {
            lines.expect_into(&mut buf, || {
                format!("atom line {} of {n} of frame {index}", k + 1)
            })?;
            let line = buf.as_str();
            let toks: Vec<&str> = line.split_whitespace().collect();
            if toks.len() < cols.pos + 3 || toks.len() <= cols.species {
                return Err(lines.err(format!(
                    "frame {index}, atom {}: expected at least {} columns, found {} in '{}' (the comment line says {n} atoms: wrong count?)",
                    k + 1,
                    (cols.pos + 3).max(cols.species + 1),
                    toks.len(),
                    line.trim()
                )));
            }
            let mut p = [0.0; 3];
            for (x, tok) in p.iter_mut().zip(&toks[cols.pos..cols.pos + 3]) {
                *x = super::real_token(lines, tok, line, "a position")?;
            }
            positions.push(p);
            symbols.push(toks[cols.species].to_string());
        }
        Ok(Some(Frame {
            index,
            lattice,
            positions,
            symbols,
            time_fs,
        }))
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(120).collect()
}

/// key=value pairs of an extended-XYZ comment line; values may be double-quoted (with spaces).
fn key_values(comment: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = comment.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    value.push(c);
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        out.push((key, value));
    }
    out
}

/// Column offsets of `species` and `pos` from a Properties string (name:type:count triples).
fn columns(lines: &LineStream, properties: &str) -> Result<Columns> {
    let parts: Vec<&str> = properties.split(':').collect();
    if !parts.len().is_multiple_of(3) {
        return Err(lines.err(format!(
            "expected Properties as name:type:count triples, found '{properties}'"
        )));
    }
    let (mut species, mut pos, mut col) = (None, None, 0usize);
    for t in parts.chunks(3) {
        let n: usize = t[2].parse().map_err(|_| {
            lines.err(format!(
                "Properties '{properties}': expected a column count for '{}', found '{}'",
                t[0], t[2]
            ))
        })?;
        match t[0].to_lowercase().as_str() {
            "species" | "symbols" | "element" => species = Some(col),
            "pos" | "positions" if n == 3 => pos = Some(col),
            _ => {}
        }
        col += n;
    }
    match (species, pos) {
        (Some(species), Some(pos)) => Ok(Columns { species, pos }),
        _ => Err(lines.err(format!(
            "Properties '{properties}': expected species:S:1 and pos:R:3 columns"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_pairs_with_quotes() {
        let kv = key_values(
            r#"Lattice="1 0 0 0 2 0 0 0 3" Properties=species:S:1:pos:R:3 pbc="T T T" time_fs=8.5"#,
        );
        assert_eq!(kv[0], ("Lattice".into(), "1 0 0 0 2 0 0 0 3".into()));
        assert_eq!(kv[1].1, "species:S:1:pos:R:3");
        assert_eq!(kv[2].1, "T T T");
        assert_eq!(kv[3].1, "8.5");
    }
}
