//! ShengBTE/FourPhonon CONTROL (a Fortran namelist file, formats.md §1): the primitive cell
//! (`lfactor` in nm, `lattvec(:,i)` in units of lfactor, `positions(:,i)` reduced), the species
//! (`elements`, `types`, optional `masses` in amu), the force-constant supercell `scell`, and the
//! run settings latdyn can reuse (`ngrid`, `T`, `scalebroad`, Born charges when `nonanalytic`).

use super::text::TextFile;
use crate::crystal::{Cell, elements};
use crate::error::{Error, Result};
use crate::harmonic::nac::Born;
use crate::linalg::{Mat3, Vec3};
use std::collections::BTreeMap;
use std::path::Path;

/// What a CONTROL file says, in latdyn units (Å, amu, K).
#[derive(Clone, Debug)]
pub struct ShengControl {
    pub cell: Cell,
    pub supercell: [i32; 3],
    pub mesh: Option<[usize; 3]>,
    pub temperatures: Vec<f64>,
    pub scalebroad: Option<f64>,
    /// Present when the file gives `epsilon` and `born` (used only if `nonanalytic` is true).
    pub born: Option<Born>,
}

/// One namelist value: numbers, strings or logicals, with the line it started on.
#[derive(Clone, Debug)]
struct Entry {
    line: usize,
    values: Vec<String>,
}

/// True when the file looks like a Fortran namelist with ShengBTE's `&allocations` group.
pub fn is_control(path: &Path) -> bool {
    std::fs::read(path)
        .map(|b| {
            let head = String::from_utf8_lossy(&b[..b.len().min(4096)]).to_lowercase();
            head.trim_start().starts_with("&allocations")
        })
        .unwrap_or(false)
}

pub fn read_control(path: &Path) -> Result<ShengControl> {
    let file = TextFile::read(path)?;
    let entries = parse_namelist(&file)?;
    interpret(path, entries)
}

/// Splits the namelist into `key -> values`, where keys keep their index suffix in lower case
/// without spaces (`lattvec(:,1)`, `born(:,:,2)`). Values are separated by commas or blanks;
/// Fortran repeats `3*0.0` are expanded.
fn parse_namelist(file: &TextFile) -> Result<BTreeMap<String, Entry>> {
    let mut out: BTreeMap<String, Entry> = BTreeMap::new();
    let mut current: Option<String> = None;
    for (i, raw) in file.lines().iter().enumerate() {
        let line_no = i + 1;
        let line = strip_comment(raw);
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with('&') || trimmed == "/" {
            current = None;
            continue;
        }
        let mut rest = trimmed.to_string();
        while !rest.trim().is_empty() {
            // A new assignment starts where `name(...)=` begins.
            if let Some((key, after)) = split_assignment(&rest) {
                out.insert(
                    key.clone(),
                    Entry {
                        line: line_no,
                        values: vec![],
                    },
                );
                current = Some(key);
                rest = after;
                continue;
            }
            let (token, after) = next_value(&rest);
            rest = after;
            if token.is_empty() {
                continue;
            }
            let key = current.as_ref().ok_or_else(|| {
                Error::parse(
                    &file.path,
                    line_no,
                    format!("expected `name = value`, found '{token}'"),
                )
            })?;
            let entry = out.get_mut(key).expect("current key inserted");
            match token.split_once('*') {
                Some((n, v)) if n.parse::<usize>().is_ok() && !v.starts_with(['"', '\'']) => {
                    let n: usize = n.parse().expect("checked");
                    entry.values.extend(std::iter::repeat_n(v.to_string(), n));
                }
                _ => entry.values.push(token),
            }
        }
    }
    Ok(out)
}

fn strip_comment(line: &str) -> String {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '!') => return line[..i].to_string(),
            _ => {}
        }
    }
    line.to_string()
}

/// `name(idx) = rest` → (normalized name, rest), when `s` starts with an assignment:
/// an identifier, optionally an index in parentheses, then '='.
fn split_assignment(s: &str) -> Option<(String, String)> {
    let s = s.trim_start_matches([' ', '\t', ',']);
    let ident_end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    if ident_end == 0 || !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let mut rest = s[ident_end..].trim_start();
    let mut index = "";
    if rest.starts_with('(') {
        let close = rest.find(')')?;
        index = &rest[..=close];
        rest = rest[close + 1..].trim_start();
    }
    let after = rest.strip_prefix('=')?;
    let key: String = format!("{}{}", &s[..ident_end], index)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    Some((key, after.to_string()))
}

/// The next value token (a quoted string or a run of non-separators) and the rest.
fn next_value(s: &str) -> (String, String) {
    let s = s.trim_start_matches([' ', '\t', ',']);
    if let Some(q) = s.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let body = &s[1..];
        return match body.find(q) {
            Some(end) => (format!("\"{}\"", &body[..end]), body[end + 1..].to_string()),
            None => (format!("\"{body}\""), String::new()),
        };
    }
    let end = s.find([' ', '\t', ',']).unwrap_or(s.len());
    (s[..end].to_string(), s[end..].to_string())
}

/// The parsed namelist with typed lookups whose errors name the file, the line and the key.
struct Namelist<'a> {
    path: &'a Path,
    entries: BTreeMap<String, Entry>,
}

impl Namelist<'_> {
    fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    fn need(&self, key: &str) -> Result<&Entry> {
        self.get(key).ok_or_else(|| {
            Error::input(format!(
                "{}: the CONTROL file has no `{key}` (expected in the namelist)",
                self.path.display()
            ))
        })
    }

    fn reals(&self, key: &str, n: usize) -> Result<Vec<f64>> {
        let entry = self.need(key)?;
        let v = entry
            .values
            .iter()
            .map(|t| super::text::parse_real(t))
            .collect::<Option<Vec<f64>>>()
            .ok_or_else(|| {
                Error::parse(
                    self.path,
                    entry.line,
                    format!("`{key}`: expected numbers, found {:?}", entry.values),
                )
            })?;
        if v.len() != n {
            return Err(Error::parse(
                self.path,
                entry.line,
                format!("`{key}`: expected {n} numbers, found {}", v.len()),
            ));
        }
        Ok(v)
    }

    /// Integers that must be at least `min`.
    fn ints(&self, key: &str, n: usize, min: i64) -> Result<Vec<i64>> {
        let line = self.need(key)?.line;
        self.reals(key, n)?
            .into_iter()
            .map(|x| {
                if x.fract() == 0.0 && x >= min as f64 {
                    Ok(x as i64)
                } else {
                    Err(Error::parse(
                        self.path,
                        line,
                        format!("`{key}`: expected integers ≥ {min}, found {x}"),
                    ))
                }
            })
            .collect()
    }

    fn scalar(&self, key: &str) -> Result<Option<f64>> {
        self.get(key)
            .map(|_| Ok(self.reals(key, 1)?[0]))
            .transpose()
    }

    fn logical(&self, key: &str) -> bool {
        self.get(key)
            .and_then(|en| en.values.first())
            .map(|v| v.to_lowercase().trim_matches('.').starts_with('t'))
            .unwrap_or(false)
    }
}

fn interpret(path: &Path, entries: BTreeMap<String, Entry>) -> Result<ShengControl> {
    let nl = Namelist { path, entries };
    let natoms = nl.ints("natoms", 1, 1)?[0] as usize;
    let nelements = nl.ints("nelements", 1, 1)?[0] as usize;
    let lfactor = nl.reals("lfactor", 1)?[0];
    if lfactor.is_nan() || lfactor <= 0.0 {
        return Err(Error::parse(
            path,
            nl.need("lfactor")?.line,
            format!("`lfactor` must be positive (nm), found {lfactor}"),
        ));
    }
    let mut lattice: Mat3 = [[0.0; 3]; 3];
    for (i, row) in lattice.iter_mut().enumerate() {
        let v = nl.reals(&format!("lattvec(:,{})", i + 1), 3)?;
        for k in 0..3 {
            // lattvec is in units of lfactor (nm); latdyn works in Å.
            row[k] = v[k] * lfactor * 10.0;
        }
    }
    let el_entry = nl.need("elements")?;
    let symbols_of_type: Vec<String> = el_entry
        .values
        .iter()
        .map(|n| {
            let n = n.trim_matches('"').trim();
            elements::element_symbol(n)
                .map(str::to_string)
                .ok_or_else(|| {
                    Error::parse(
                        path,
                        el_entry.line,
                        format!("`elements`: unknown element '{n}'"),
                    )
                })
        })
        .collect::<Result<_>>()?;
    if symbols_of_type.len() != nelements {
        return Err(Error::parse(
            path,
            el_entry.line,
            format!(
                "`elements`: expected {nelements} names (nelements), found {}",
                symbols_of_type.len()
            ),
        ));
    }
    let types = nl.ints("types", natoms, 1)?;
    if let Some(t) = types.iter().find(|t| **t as usize > nelements) {
        return Err(Error::parse(
            path,
            nl.need("types")?.line,
            format!("`types`: expected values 1..{nelements}, found {t}"),
        ));
    }
    let symbols: Vec<String> = types
        .iter()
        .map(|t| symbols_of_type[*t as usize - 1].clone())
        .collect();
    let positions = (0..natoms)
        .map(|i| {
            let v = nl.reals(&format!("positions(:,{})", i + 1), 3)?;
            Ok([v[0], v[1], v[2]])
        })
        .collect::<Result<Vec<Vec3>>>()?;
    let masses = match nl.get("masses") {
        Some(_) => {
            let m = nl.reals("masses", nelements)?;
            types.iter().map(|t| m[*t as usize - 1]).collect()
        }
        None => symbols
            .iter()
            .map(|s| elements::standard_mass(s).expect("known symbol"))
            .collect(),
    };
    let cell = Cell::new(lattice, positions, symbols, masses)
        .map_err(|err| Error::input(format!("{}: {err}", path.display())))?;
    let sc = nl.ints("scell(:)", 3, 1)?;
    let mesh = match nl.get("ngrid(:)") {
        Some(_) => {
            let g = nl.ints("ngrid(:)", 3, 1)?;
            Some([g[0] as usize, g[1] as usize, g[2] as usize])
        }
        None => None,
    };
    let mut temperatures = vec![];
    if let Some(t) = nl.scalar("t")? {
        temperatures.push(t);
    } else if let (Some(lo), Some(hi), Some(step)) = (
        nl.scalar("t_min")?,
        nl.scalar("t_max")?,
        nl.scalar("t_step")?,
    ) && step > 0.0
    {
        let n = ((hi - lo) / step + 1e-9).floor().max(0.0) as usize;
        temperatures.extend((0..=n).map(|i| lo + step * i as f64));
    }
    let born = if nl.logical("nonanalytic") {
        Some(read_born_block(&nl, natoms)?)
    } else {
        None
    };
    Ok(ShengControl {
        cell,
        supercell: [sc[0] as i32, sc[1] as i32, sc[2] as i32],
        mesh,
        temperatures,
        scalebroad: nl.scalar("scalebroad")?,
        born,
    })
}

/// `epsilon(:,j)` columns and `born(:,:,k)` (Fortran column-major: born(a,b,k) = Z*_k[a][b]).
fn read_born_block(nl: &Namelist, natoms: usize) -> Result<Born> {
    let mut epsilon: Mat3 = [[0.0; 3]; 3];
    for j in 0..3 {
        let v = nl.reals(&format!("epsilon(:,{})", j + 1), 3)?;
        for i in 0..3 {
            epsilon[i][j] = v[i];
        }
    }
    let charges = (0..natoms)
        .map(|k| {
            let v = nl.reals(&format!("born(:,:,{})", k + 1), 9)?;
            let mut z: Mat3 = [[0.0; 3]; 3];
            for b in 0..3 {
                for a in 0..3 {
                    z[a][b] = v[a + 3 * b];
                }
            }
            Ok(z)
        })
        .collect::<Result<Vec<Mat3>>>()?;
    Ok(Born {
        epsilon,
        charges,
        factor: crate::units::NAC_FACTOR_EV_ANGSTROM,
    })
}
