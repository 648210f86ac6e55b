//! Experimental ADPs from a CIF: cell parameters, `_atom_site_*` (label, type, fractional
//! position, U_iso or B_iso), the `_atom_site_aniso_*` loop (U_ij or B_ij in the CIF basis) and
//! the symmetry operations (`_space_group_symop_operation_xyz` or
//! `_symmetry_equiv_pos_as_xyz`), so that an asymmetric-unit CIF can be expanded onto every
//! atom of another cell. Standard uncertainties in parentheses are dropped.

use crate::adp::tensor::{b_to_u, cif_to_cart};
use crate::error::{Error, Result};
use crate::io::text::TextFile;
use crate::linalg::{Mat3, Vec3};
use std::path::Path;

/// One site of the CIF with its U in Cartesian form (Å²).
#[derive(Clone, Debug)]
pub struct CifSite {
    pub label: String,
    pub symbol: String,
    pub fractional: Vec3,
    pub u_cart: Mat3,
    /// True when only U_iso/B_iso was given (the tensor is then U_iso·I).
    pub isotropic: bool,
}

#[derive(Clone, Debug)]
pub struct CifAdps {
    /// Lattice rows (Å) in the standard orientation (a along x, b in the xy plane).
    pub lattice: Mat3,
    pub sites: Vec<CifSite>,
    /// Symmetry operations (rotation on fractional coordinates, translation).
    pub operations: Vec<(Mat3, Vec3)>,
}

/// A CIF number without its standard uncertainty: "0.0123(4)" → 0.0123.
fn number(tok: &str) -> Option<f64> {
    let t = tok.split('(').next()?.trim();
    if t == "." || t == "?" {
        return None;
    }
    t.parse().ok()
}

/// Splits a CIF data line into tokens, keeping quoted strings together.
fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' || c == '"' {
            chars.next();
            let mut t = String::new();
            for d in chars.by_ref() {
                if d == c {
                    break;
                }
                t.push(d);
            }
            out.push(t);
        } else {
            let mut t = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_whitespace() {
                    break;
                }
                t.push(d);
                chars.next();
            }
            out.push(t);
        }
    }
    out
}

/// A parsed loop: column names and rows of tokens, with the line of each row.
struct Loop {
    names: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

impl Loop {
    fn col(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n.eq_ignore_ascii_case(name))
    }
}

/// A symmetry operation "x, y, z" / "-y, x-y, z+1/2" on fractional coordinates.
fn parse_operation(s: &str) -> Option<(Mat3, Vec3)> {
    let parts: Vec<&str> = s.split(',').collect();
    if parts.len() != 3 {
        return None;
    }
    let mut r = [[0.0; 3]; 3];
    let mut t = [0.0; 3];
    for (i, p) in parts.iter().enumerate() {
        let p: String = p.chars().filter(|c| !c.is_whitespace()).collect();
        let mut sign = 1.0;
        let mut num = String::new();
        let flush = |num: &mut String, sign: f64, t: &mut f64| -> Option<()> {
            if !num.is_empty() {
                let v = match num.split_once('/') {
                    Some((a, b)) => a.parse::<f64>().ok()? / b.parse::<f64>().ok()?,
                    None => num.parse::<f64>().ok()?,
                };
                *t += sign * v;
                num.clear();
            }
            Some(())
        };
        for c in p.to_lowercase().chars() {
            match c {
                '+' | '-' => {
                    flush(&mut num, sign, &mut t[i])?;
                    sign = if c == '-' { -1.0 } else { 1.0 };
                }
                'x' | 'y' | 'z' => {
                    let j = (c as u8 - b'x') as usize;
                    let coef = if num.is_empty() {
                        1.0
                    } else {
                        let v = num.trim_end_matches('*').parse::<f64>().ok()?;
                        num.clear();
                        v
                    };
                    r[i][j] += sign * coef;
                    sign = 1.0;
                }
                _ => num.push(c),
            }
        }
        flush(&mut num, sign, &mut t[i])?;
    }
    Some((r, t))
}

pub fn read_cif_adps(path: &Path) -> Result<CifAdps> {
    let f = TextFile::read(path)?;
    let lines = f.lines();
    let mut values: std::collections::HashMap<String, (usize, String)> = Default::default();
    let mut loops: Vec<Loop> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line.eq_ignore_ascii_case("loop_") {
            let mut lp = Loop {
                names: Vec::new(),
                rows: Vec::new(),
            };
            i += 1;
            while i < lines.len() && lines[i].trim().starts_with('_') {
                lp.names
                    .push(lines[i].split_whitespace().next().unwrap_or("").to_string());
                i += 1;
            }
            let mut pending: Vec<String> = Vec::new();
            let mut first_line = i + 1;
            while i < lines.len() {
                let l = lines[i].trim();
                if l.is_empty() || l.starts_with('#') {
                    i += 1;
                    continue;
                }
                if l.starts_with('_') || l.eq_ignore_ascii_case("loop_") || l.starts_with("data_") {
                    break;
                }
                if pending.is_empty() {
                    first_line = i + 1;
                }
                pending.extend(tokens(l));
                while pending.len() >= lp.names.len() && !lp.names.is_empty() {
                    let row: Vec<String> = pending.drain(..lp.names.len()).collect();
                    lp.rows.push((first_line, row));
                }
                i += 1;
            }
            if !pending.is_empty() {
                return Err(Error::parse(
                    path,
                    first_line,
                    format!(
                        "loop of {} columns ({}...) ends with an incomplete row of {} values",
                        lp.names.len(),
                        lp.names[0],
                        pending.len()
                    ),
                ));
            }
            loops.push(lp);
            continue;
        }
        if line.starts_with('_') {
            let toks = tokens(line);
            if toks.len() >= 2 {
                values.insert(toks[0].to_lowercase(), (i + 1, toks[1].clone()));
            }
        }
        i += 1;
    }
    let cell_value = |name: &str| -> Result<f64> {
        let (line, v) = values.get(name).ok_or_else(|| {
            Error::parse(path, 0, format!("expected {name} in the CIF, found none"))
        })?;
        number(v).ok_or_else(|| {
            Error::parse(
                path,
                *line,
                format!("expected a number for {name}, found '{v}'"),
            )
        })
    };
    let (a, b, c) = (
        cell_value("_cell_length_a")?,
        cell_value("_cell_length_b")?,
        cell_value("_cell_length_c")?,
    );
    let (al, be, ga) = (
        cell_value("_cell_angle_alpha")?.to_radians(),
        cell_value("_cell_angle_beta")?.to_radians(),
        cell_value("_cell_angle_gamma")?.to_radians(),
    );
    let cx = c * be.cos();
    let cy = c * (al.cos() - be.cos() * ga.cos()) / ga.sin();
    let lattice = [
        [a, 0.0, 0.0],
        [b * ga.cos(), b * ga.sin(), 0.0],
        [cx, cy, (c * c - cx * cx - cy * cy).max(0.0).sqrt()],
    ];
    let sites_loop = loops
        .iter()
        .find(|l| l.col("_atom_site_fract_x").is_some())
        .ok_or_else(|| Error::parse(path, 0, "expected an _atom_site_fract_x loop, found none"))?;
    let need = |l: &Loop, n: &str| {
        l.col(n).ok_or_else(|| {
            Error::parse(
                path,
                0,
                format!("expected column {n} in the atom_site loop"),
            )
        })
    };
    let (cl, cx_, cy_, cz_) = (
        need(sites_loop, "_atom_site_label")?,
        need(sites_loop, "_atom_site_fract_x")?,
        need(sites_loop, "_atom_site_fract_y")?,
        need(sites_loop, "_atom_site_fract_z")?,
    );
    let ctype = sites_loop.col("_atom_site_type_symbol");
    let uiso = sites_loop.col("_atom_site_u_iso_or_equiv");
    let biso = sites_loop.col("_atom_site_b_iso_or_equiv");
    let aniso = loops
        .iter()
        .find(|l| l.col("_atom_site_aniso_label").is_some());
    let mut sites = Vec::new();
    for (line, row) in &sites_loop.rows {
        let num = |c: usize, what: &str| {
            number(&row[c]).ok_or_else(|| {
                Error::parse(
                    path,
                    *line,
                    format!("expected a number for {what}, found '{}'", row[c]),
                )
            })
        };
        let label = row[cl].clone();
        let symbol = ctype.map(|c| row[c].clone()).unwrap_or_else(|| {
            label
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect()
        });
        let symbol = crate::crystal::elements::element_symbol(&symbol)
            .map(str::to_string)
            .unwrap_or(symbol);
        let fractional = [num(cx_, "x")?, num(cy_, "y")?, num(cz_, "z")?];
        let mut u_cif = None;
        if let Some(al) = aniso {
            let lab = al.col("_atom_site_aniso_label").expect("found above");
            if let Some((aline, arow)) = al.rows.iter().find(|(_, r)| r[lab] == label) {
                let (prefix, is_b) = if al.col("_atom_site_aniso_u_11").is_some() {
                    ("_atom_site_aniso_u_", false)
                } else {
                    ("_atom_site_aniso_b_", true)
                };
                let mut u = [[0.0; 3]; 3];
                for (ij, (p, q)) in [
                    (11, (0, 0)),
                    (22, (1, 1)),
                    (33, (2, 2)),
                    (12, (0, 1)),
                    (13, (0, 2)),
                    (23, (1, 2)),
                ] {
                    let name = format!("{prefix}{ij}");
                    let c = al.col(&name).ok_or_else(|| {
                        Error::parse(
                            path,
                            *aline,
                            format!("expected column {name} in the aniso loop"),
                        )
                    })?;
                    let v = number(&arow[c]).ok_or_else(|| {
                        Error::parse(
                            path,
                            *aline,
                            format!(
                                "expected a number for {name} of {label}, found '{}'",
                                arow[c]
                            ),
                        )
                    })?;
                    u[p][q] = v;
                    u[q][p] = v;
                }
                u_cif = Some(if is_b { b_to_u(&u) } else { u });
            }
        }
        let (u_cart, isotropic) = match u_cif {
            Some(u) => (cif_to_cart(&u, &lattice), false),
            None => {
                let iso = match (
                    uiso.and_then(|c| number(&row[c])),
                    biso.and_then(|c| number(&row[c])),
                ) {
                    (Some(u), _) => u,
                    (None, Some(b)) => b / (8.0 * std::f64::consts::PI.powi(2)),
                    _ => {
                        return Err(Error::parse(
                            path,
                            *line,
                            format!(
                                "site {label}: expected anisotropic U/B in the aniso loop or U_iso/B_iso, found neither"
                            ),
                        ));
                    }
                };
                let mut u = [[0.0; 3]; 3];
                for (d, row) in u.iter_mut().enumerate() {
                    row[d] = iso;
                }
                (u, true)
            }
        };
        sites.push(CifSite {
            label,
            symbol,
            fractional,
            u_cart,
            isotropic,
        });
    }
    let ops_loop = loops.iter().find(|l| {
        l.col("_space_group_symop_operation_xyz").is_some()
            || l.col("_symmetry_equiv_pos_as_xyz").is_some()
    });
    let mut operations = Vec::new();
    if let Some(l) = ops_loop {
        let c = l
            .col("_space_group_symop_operation_xyz")
            .or_else(|| l.col("_symmetry_equiv_pos_as_xyz"))
            .expect("found above");
        for (line, row) in &l.rows {
            operations.push(parse_operation(&row[c]).ok_or_else(|| {
                Error::parse(
                    path,
                    *line,
                    format!(
                        "expected a symmetry operation like '-y, x-y, z+1/2', found '{}'",
                        row[c]
                    ),
                )
            })?);
        }
    }
    if operations.is_empty() {
        operations.push((crate::linalg::IDENTITY, [0.0; 3]));
    }
    Ok(CifAdps {
        lattice,
        sites,
        operations,
    })
}

impl CifAdps {
    /// The U (CIF basis, Å²) this CIF gives to an atom of `symbol` at fractional `frac` of the
    /// same cell setting: the site whose symmetry image lands there, its tensor rotated with the
    /// operation (U' = R U Rᵀ in Cartesian). None when no image is within `tol` Å.
    pub fn u_cif_at(&self, symbol: &str, frac: &Vec3, tol: f64) -> Option<(usize, Mat3)> {
        use crate::linalg;
        let lt = linalg::transpose(&self.lattice);
        let lti = linalg::inverse(&lt)?;
        for (s, site) in self.sites.iter().enumerate() {
            if site.symbol != symbol {
                continue;
            }
            for (r, t) in &self.operations {
                let x = linalg::add(&linalg::mat_vec(r, &site.fractional), t);
                let d = linalg::sub(&x, frac);
                let d = linalg::sub(&d, &d.map(f64::round));
                if linalg::norm(&linalg::vec_mat(&d, &self.lattice)) < tol {
                    let rc = linalg::mat_mul(&linalg::mat_mul(&lt, r), &lti);
                    let u = linalg::congruence(&rc, &site.u_cart);
                    return Some((s, crate::adp::tensor::cart_to_cif(&u, &self.lattice)));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetry_operations() {
        let (r, t) = parse_operation("-y, x-y, z+1/2").unwrap();
        assert_eq!(r, [[0.0, -1.0, 0.0], [1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]);
        assert_eq!(t, [0.0, 0.0, 0.5]);
        let (r, t) = parse_operation("1/2+x,-z+1/4,y").unwrap();
        assert_eq!(r, [[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]);
        assert_eq!(t, [0.5, 0.25, 0.0]);
        assert!(parse_operation("x,y").is_none());
        assert_eq!(number("0.0123(4)"), Some(0.0123));
        assert_eq!(tokens("'x, y, z' Si1 0.5"), vec!["x, y, z", "Si1", "0.5"]);
    }
}
