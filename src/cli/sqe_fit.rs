//! `latdyn sqe-fit`: fit a constant-Q scan — measured (a text table) or computed (a spectrum of
//! `latdyn sqe` or `latdyn md sqw`) — with damped-harmonic-oscillator peaks convolved with the
//! energy resolution, as IXS users extract mode energies and linewidths. Writes sqe_fit.json
//! (peaks with standard errors, χ²/dof), sqe_fit.csv (data, model, each peak) and a plot.

use super::numbers;
use crate::error::{Error, Result};
use crate::io::text::{TextFile, parse_f64s, parse_real, table_rows};
use crate::output::plots::{XyPlot, plot_xy};
use crate::output::{finite, write_csv, write_json};
use crate::scattering::dho_fit::{DhoFit, DhoFitOptions, DhoPeak, fit_dho, model_at};
use crate::scattering::resolution::Resolution;
use crate::units::THZ_TO_MEV;
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct SqeFitArgs {
    /// A measured scan: text table (comma or whitespace separated, '#' comments, an optional
    /// header line) of energy, intensity and optionally its standard deviation.
    #[arg(long, conflicts_with = "from_sqe")]
    pub scan: Option<PathBuf>,
    /// Columns (1-based) of energy, intensity [and σ] in --scan; default "1 2 3" when the first
    /// row has three numbers, else "1 2".
    #[arg(long, requires = "scan")]
    pub columns: Option<String>,
    /// A computed spectrum: sqe.json or sqe_powder.json of `latdyn sqe` (with --energy), or
    /// md_sqw.json of `latdyn md sqw`.
    #[arg(long)]
    pub from_sqe: Option<PathBuf>,
    /// Which spectrum of --from-sqe (0-based Q index).
    #[arg(long, default_value_t = 0, requires = "from_sqe")]
    pub point: usize,
    /// Starting peaks "E_c γ [A]; E_c γ [A]" (energy unit of the scan; A, the integrated Stokes
    /// weight, is estimated from the data when left out).
    #[arg(long, allow_hyphen_values = true)]
    pub peaks: String,
    /// Unit of the scan's energy axis: meV or THz (md sqw spectra are in THz).
    #[arg(long, default_value = "meV")]
    pub energy_unit: String,
    /// Fit only inside "min max" (energy unit of the scan).
    #[arg(long, allow_hyphen_values = true)]
    pub window: Option<String>,
    /// Sample temperature (K) of the quantum detailed balance.
    #[arg(long, default_value_t = 300.0)]
    pub temperature: f64,
    /// Classical DHO (even in E), for spectra of classical MD.
    #[arg(long)]
    pub classical: bool,
    /// Energy resolution FWHM (meV) the peaks are convolved with.
    #[arg(long)]
    pub resolution: Option<f64>,
    /// Lorentzian fraction η of a pseudo-Voigt resolution (default: Gaussian).
    #[arg(long, requires = "resolution")]
    pub pseudo_voigt_eta: Option<f64>,
    /// Fit a constant background too.
    #[arg(long)]
    pub background: bool,
    /// No plot.
    #[arg(long)]
    pub no_plots: bool,
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
}

/// A scan: energies (strictly increasing), intensities and optional standard deviations.
pub struct Scan {
    pub energies: Vec<f64>,
    pub values: Vec<f64>,
    pub sigmas: Option<Vec<f64>>,
    /// Where it came from, for the report.
    pub source: String,
}

impl Scan {
    /// The scan on an energy axis multiplied by `factor`, intensities (and σ) per energy divided
    /// by it, so integrated weights are unchanged.
    fn energy_scaled(&self, factor: f64) -> Scan {
        let per_energy = |x: &[f64]| x.iter().map(|v| v / factor).collect::<Vec<_>>();
        Scan {
            energies: self.energies.iter().map(|e| e * factor).collect(),
            values: per_energy(&self.values),
            sigmas: self.sigmas.as_deref().map(per_energy),
            source: self.source.clone(),
        }
    }
}

/// Reads a scan table; errors name the file and line.
pub fn read_scan(path: &Path, columns: Option<&str>) -> Result<Scan> {
    let f = TextFile::read(path)?;
    let mut rows = table_rows(&f);
    // A header (first row whose first field is not a number) is skipped.
    if rows
        .first()
        .is_some_and(|(_, l)| l.split_whitespace().next().and_then(parse_real).is_none())
    {
        rows.remove(0);
    }
    let Some((_, first)) = rows.first() else {
        return Err(Error::parse(
            path,
            f.lines().len().max(1),
            "expected rows of energy and intensity, found none",
        ));
    };
    let cols: Vec<usize> = match columns {
        Some(c) => numbers(c, "--columns")?,
        None if first.split_whitespace().count() >= 3 => vec![1, 2, 3],
        None => vec![1, 2],
    };
    if !(2..=3).contains(&cols.len()) || cols.contains(&0) {
        return Err(Error::input(format!(
            "--columns: expected 2 or 3 column numbers from 1 (energy, intensity [, σ]), found {cols:?}"
        )));
    }
    let width = *cols.iter().max().expect("two or three columns");
    let what = if cols.len() == 3 {
        "energy, intensity and σ"
    } else {
        "energy and intensity"
    };
    let mut scan = Scan {
        energies: Vec::with_capacity(rows.len()),
        values: Vec::with_capacity(rows.len()),
        sigmas: (cols.len() == 3).then(Vec::new),
        source: path.display().to_string(),
    };
    let mut last: Option<(usize, f64)> = None;
    for (line, text) in &rows {
        let v = parse_f64s(path, *line, text, width, what)?;
        let e = v[cols[0] - 1];
        if let Some((prev_line, prev)) = last
            && e <= prev
        {
            return Err(Error::parse(
                path,
                *line,
                format!("energies must increase: {e} after {prev} on line {prev_line}"),
            ));
        }
        last = Some((*line, e));
        scan.energies.push(e);
        scan.values.push(v[cols[1] - 1]);
        if let Some(s) = scan.sigmas.as_mut() {
            let sigma = v[cols[2] - 1];
            if sigma <= 0.0 {
                return Err(Error::parse(
                    path,
                    *line,
                    format!("expected a positive standard deviation, found {sigma}"),
                ));
            }
            s.push(sigma);
        }
    }
    Ok(scan)
}

/// One spectrum of a latdyn JSON (sqe.json / sqe_powder.json: "energies" and "spectra";
/// md_sqw.json: "frequencies" and "sqw").
pub fn read_computed(path: &Path, point: usize) -> Result<Scan> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::parse(path, e.line(), format!("not valid JSON: {e}")))?;
    // md_sqw.json keeps its spectra under "result".
    let doc = match doc.get("result") {
        Some(r) if r.get("sqw").is_some() => r.clone(),
        _ => doc,
    };
    let pick = |keys: [&'static str; 2]| keys.into_iter().find_map(|k| doc.get(k).map(|v| (k, v)));
    let bad = |msg: String| Error::parse(path, 1, msg);
    let (ekey, e) = pick(["energies", "frequencies"])
        .ok_or_else(|| bad("expected an \"energies\" (sqe) or \"frequencies\" (md sqw) array; run latdyn sqe with --energy".into()))?;
    let (skey, s) = pick(["spectra", "sqw"])
        .ok_or_else(|| bad("expected a \"spectra\" (sqe) or \"sqw\" (md sqw) array".into()))?;
    let floats = |v: &serde_json::Value, what: &str| -> Result<Vec<f64>> {
        v.as_array()
            .and_then(|a| a.iter().map(|x| x.as_f64()).collect::<Option<Vec<f64>>>())
            .ok_or_else(|| bad(format!("\"{what}\": expected an array of numbers")))
    };
    let energies = floats(e, ekey)?;
    let rows = s
        .as_array()
        .ok_or_else(|| bad(format!("\"{skey}\": expected one spectrum per Q")))?;
    let row = rows.get(point).ok_or_else(|| {
        bad(format!(
            "--point {point}: \"{skey}\" holds {} spectra (0 … {})",
            rows.len(),
            rows.len().saturating_sub(1)
        ))
    })?;
    let values = floats(row, skey)?;
    if values.len() != energies.len() {
        return Err(bad(format!(
            "\"{skey}\"[{point}] has {} values for {} \"{ekey}\"",
            values.len(),
            energies.len()
        )));
    }
    Ok(Scan {
        energies,
        values,
        sigmas: None,
        source: format!("{} [{point}]", path.display()),
    })
}

/// Starting peaks "E γ [A]; …"; a missing A is estimated from the scan as the height near E
/// times π × the broader of γ and half the resolution (the integral of a Lorentzian of that
/// height and width).
fn starting_peaks(text: &str, scan: &Scan, fwhm: f64) -> Result<Vec<DhoPeak>> {
    let mut peaks = Vec::new();
    for part in text.split(';').filter(|p| !p.trim().is_empty()) {
        let v: Vec<f64> = numbers(part, "--peaks")?;
        if !(2..=3).contains(&v.len())
            || v.iter().any(|x| !x.is_finite())
            || v[0] <= 0.0
            || v[1] <= 0.0
        {
            return Err(Error::input(format!(
                "--peaks: expected 'E_c γ [A]' with E_c, γ > 0, found '{}'",
                part.trim()
            )));
        }
        let width = v[1].max(0.5 * fwhm);
        let amplitude = match v.get(2) {
            Some(a) => *a,
            None => {
                let near = scan
                    .energies
                    .iter()
                    .zip(&scan.values)
                    .filter(|(e, _)| (*e - v[0]).abs() <= width.max(1e-12) * 2.0)
                    .map(|(_, y)| *y)
                    .fold(0.0, f64::max);
                (near * std::f64::consts::PI * width).max(1e-12)
            }
        };
        peaks.push(DhoPeak {
            energy: v[0],
            gamma: v[1],
            amplitude,
        });
    }
    if peaks.is_empty() {
        return Err(Error::input("--peaks: expected at least one 'E_c γ [A]'"));
    }
    Ok(peaks)
}

pub fn run(a: &SqeFitArgs) -> Result<()> {
    let mut scan = match (&a.scan, &a.from_sqe) {
        (Some(p), None) => read_scan(p, a.columns.as_deref())?,
        (None, Some(p)) => read_computed(p, a.point)?,
        _ => {
            return Err(Error::input(
                "sqe-fit: give the scan to fit, --scan FILE or --from-sqe FILE",
            ));
        }
    };
    // The fit runs in meV (kT of the detailed balance, the resolution FWHM); a THz axis is
    // converted, with the intensities per THz turned into per meV so the weights A keep their
    // meaning, and the results converted back.
    let (unit, to_mev) = match a.energy_unit.to_lowercase().as_str() {
        "mev" => ("meV", 1.0),
        "thz" => ("THz", THZ_TO_MEV),
        other => {
            return Err(Error::input(format!(
                "--energy-unit: expected meV or THz, found '{other}'"
            )));
        }
    };
    if let Some(w) = &a.window {
        let v: Vec<f64> = numbers(w, "--window")?;
        if v.len() != 2 || v[0] >= v[1] {
            return Err(Error::input(format!(
                "--window: expected 'min max' with min < max, found '{w}'"
            )));
        }
        let keep: Vec<bool> = scan
            .energies
            .iter()
            .map(|e| *e >= v[0] && *e <= v[1])
            .collect();
        let filter = |x: &[f64]| -> Vec<f64> {
            x.iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(y, _)| *y)
                .collect()
        };
        scan.energies = filter(&scan.energies);
        scan.values = filter(&scan.values);
        scan.sigmas = scan.sigmas.as_deref().map(filter);
    }
    let resolution = a
        .resolution
        .map(|f| Resolution::new(f, a.pseudo_voigt_eta))
        .transpose()?;
    let fwhm_scan_unit = resolution.map_or(0.0, |r| r.fwhm() / to_mev);
    let start: Vec<DhoPeak> = starting_peaks(&a.peaks, &scan, fwhm_scan_unit)?
        .into_iter()
        .map(|p| p.energy_scaled(to_mev))
        .collect();
    let scan_mev = scan.energy_scaled(to_mev);
    let opts = DhoFitOptions {
        temperature: a.temperature,
        classical: a.classical,
        resolution,
        background: a.background,
    };
    let fit = fit_dho(
        &scan_mev.energies,
        &scan_mev.values,
        scan_mev.sigmas.as_deref(),
        &start,
        &opts,
    )?;
    write_outputs(a, &scan, &scan_mev.energies, &fit, &opts, (unit, to_mev))
}

/// `energies_mev` are the scan's energies in meV (where the fit ran); `unit` its own unit and
/// the factor to meV.
fn write_outputs(
    a: &SqeFitArgs,
    scan: &Scan,
    energies_mev: &[f64],
    fit: &DhoFit,
    opts: &DhoFitOptions,
    (unit, to_mev): (&str, f64),
) -> Result<()> {
    let back = |p: &DhoPeak| p.energy_scaled(1.0 / to_mev);
    let peaks: Vec<DhoPeak> = fit.peaks.iter().map(back).collect();
    let errors: Option<Vec<DhoPeak>> = fit.errors.as_ref().map(|e| e.iter().map(back).collect());
    let model: Vec<f64> = fit.model.iter().map(|m| m * to_mev).collect();
    // Each peak alone (convolved, without background) for the table and the plot.
    let components: Vec<Vec<f64>> = fit
        .peaks
        .iter()
        .map(|p| {
            model_at(energies_mev, std::slice::from_ref(p), 0.0, opts)
                .map(|m| m.into_iter().map(|v| v * to_mev).collect())
        })
        .collect::<Result<_>>()?;
    finite("fitted model", model.iter().copied())?;
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
    let peak_json: Vec<serde_json::Value> = peaks
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let e = errors.as_ref().map(|e| e[k]);
            json!({
                "energy": p.energy, "energy_error": e.map(|e| e.energy),
                "gamma": p.gamma, "gamma_error": e.map(|e| e.gamma),
                "amplitude": p.amplitude, "amplitude_error": e.map(|e| e.amplitude),
            })
        })
        .collect();
    write_json(
        &a.out.join("sqe_fit.json"),
        &json!({
            "source": scan.source,
            "peaks": peak_json,
            "background": fit.background * to_mev,
            "background_error": fit.background_error.map(|b| b * to_mev),
            "chi2_per_dof": fit.chi2_per_dof,
            "errors_from": if scan.sigmas.is_some() { "the scan's standard deviations" }
                           else { "the residual scatter (no σ given: scaled by χ²/dof)" },
            "settings": {
                "temperature": opts.temperature, "classical": opts.classical,
                "resolution": opts.resolution, "background": opts.background,
                "energy_unit": unit, "points": scan.energies.len(),
            },
            "units": {"energy": unit, "gamma": format!("{unit} (half width)"),
                      "amplitude": "integrated Stokes weight (undamped limit), intensity × energy"},
        }),
    )?;
    let mut header = vec![
        format!("energy_{unit}"),
        "data".to_string(),
        "sigma".to_string(),
        "model".to_string(),
    ];
    header.extend((1..=peaks.len()).map(|k| format!("peak_{k}")));
    let rows: Vec<Vec<f64>> = (0..scan.energies.len())
        .map(|i| {
            let mut r = vec![
                scan.energies[i],
                scan.values[i],
                scan.sigmas.as_ref().map_or(0.0, |s| s[i]),
                model[i],
            ];
            r.extend(components.iter().map(|c| c[i]));
            r
        })
        .collect();
    write_csv(&a.out.join("sqe_fit.csv"), &header, &rows)?;
    if !a.no_plots {
        let pts = |y: &[f64]| -> Vec<(f64, f64)> {
            scan.energies
                .iter()
                .copied()
                .zip(y.iter().copied())
                .collect()
        };
        let mut lines = vec![("DHO fit".to_string(), pts(&model))];
        if peaks.len() > 1 {
            for (k, c) in components.iter().enumerate() {
                lines.push((format!("peak {}", k + 1), pts(c)));
            }
        }
        plot_xy(
            &a.out.join("sqe_fit"),
            &XyPlot {
                x_label: format!("E ({unit})"),
                y_label: "S(Q,E)".into(),
                markers: vec![("scan".into(), pts(&scan.values))],
                lines,
            },
        )?;
    }
    println!(
        "DHO fit of {} ({} points), χ²/dof {:.4e}",
        scan.source,
        scan.energies.len(),
        fit.chi2_per_dof
    );
    for (k, p) in peaks.iter().enumerate() {
        let e = errors.as_ref().map(|e| e[k]);
        let pm = |v: Option<f64>| v.map_or("(undetermined)".to_string(), |x| format!("± {x:.3}"));
        println!(
            "  peak {}: E_c {:.4} {} {unit}, γ {:.4} {} {unit}, A {:.4e} {}",
            k + 1,
            p.energy,
            pm(e.map(|e| e.energy)),
            p.gamma,
            pm(e.map(|e| e.gamma)),
            p.amplitude,
            pm(e.map(|e| e.amplitude)),
        );
    }
    println!("  written to {}", a.out.join("sqe_fit.json").display());
    Ok(())
}
