//! Plots as SVG and PNG with plotters; text uses an embedded DejaVu Sans font, so no system
//! font or library is needed.

use crate::error::{Error, Result};
use crate::harmonic::bands::BandStructure;
use crate::harmonic::dos::DosResult;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

static FONT: Once = Once::new();

fn register_font() {
    FONT.call_once(|| {
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

fn perr(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Numerical(format!("plotting {} failed: {e}", path.display()))
}

enum Ctx<'a> {
    Bands(&'a BandStructure),
    Dos(&'a DosResult, &'a [String]),
    Xy(&'a XyPlot),
    Heat(&'a HeatMap),
}

/// A generic x–y chart: measured or computed points as markers, and model curves as lines.
#[derive(Clone, Debug, Default)]
pub struct XyPlot {
    pub x_label: String,
    pub y_label: String,
    /// (legend, points) drawn as circles.
    pub markers: Vec<(String, Vec<(f64, f64)>)>,
    /// (legend, points) drawn as lines.
    pub lines: Vec<(String, Vec<(f64, f64)>)>,
}

fn xy_impl<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &XyPlot,
) -> std::result::Result<(), String> {
    let all = plot
        .markers
        .iter()
        .chain(&plot.lines)
        .flat_map(|(_, p)| p.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in all {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    let pad = |a: f64, b: f64| 0.05 * (b - a).abs().max(1e-12);
    let (px, py) = (pad(x0, x1), pad(y0, y1));
    let mut chart = ChartBuilder::on(root)
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((x0 - px)..(x1 + px), (y0 - py)..(y1 + py))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(plot.x_label.as_str())
        .y_desc(plot.y_label.as_str())
        .draw()
        .map_err(|e| e.to_string())?;
    for (k, (name, pts)) in plot.markers.iter().enumerate() {
        let c = Palette99::pick(k).to_rgba();
        chart
            .draw_series(pts.iter().map(|p| Circle::new(*p, 3, c.filled())))
            .map_err(|e| e.to_string())?
            .label(name.as_str())
            .legend(move |(x, y)| Circle::new((x + 10, y), 3, c.filled()));
    }
    for (k, (name, pts)) in plot.lines.iter().enumerate() {
        let c = Palette99::pick(k + plot.markers.len()).to_rgba();
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn bands_impl<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    bs: &BandStructure,
) -> std::result::Result<(), String> {
    let xmax = bs
        .distances
        .last()
        .and_then(|d| d.last())
        .copied()
        .unwrap_or(1.0);
    let all = bs.frequencies.iter().flatten().flatten().copied();
    let (fmin, fmax) = all.fold((0.0f64, 0.0f64), |(a, b), f| (a.min(f), b.max(f)));
    let mut chart = ChartBuilder::on(root)
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..xmax, (fmin - 0.5)..(fmax * 1.05 + 0.1))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_x_axis()
        .y_desc("Frequency (THz)")
        .draw()
        .map_err(|e| e.to_string())?;
    let nb = bs
        .frequencies
        .first()
        .and_then(|s| s.first())
        .map(|f| f.len())
        .unwrap_or(0);
    for (s, seg) in bs.frequencies.iter().enumerate() {
        for b in 0..nb {
            let pts: Vec<(f64, f64)> = seg
                .iter()
                .enumerate()
                .map(|(i, f)| (bs.distances[s][i], f[b]))
                .collect();
            chart
                .draw_series(LineSeries::new(pts, BLUE.stroke_width(2)))
                .map_err(|e| e.to_string())?;
        }
        let x = bs.distances[s][0];
        chart
            .draw_series(LineSeries::new(
                vec![(x, fmin - 0.5), (x, fmax * 1.05 + 0.1)],
                BLACK.mix(0.4),
            ))
            .map_err(|e| e.to_string())?;
        let label = if s > 0 && bs.labels[s - 1].1 != bs.labels[s].0 {
            format!("{}|{}", bs.labels[s - 1].1, bs.labels[s].0)
        } else {
            bs.labels[s].0.clone()
        };
        chart
            .draw_series(std::iter::once(Text::new(
                label,
                (x, fmin - 0.5),
                ("sans-serif", 16).into_font(),
            )))
            .map_err(|e| e.to_string())?;
    }
    if let Some(l) = bs.labels.last() {
        chart
            .draw_series(std::iter::once(Text::new(
                l.1.clone(),
                (xmax, fmin - 0.5),
                ("sans-serif", 16).into_font(),
            )))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn dos_impl<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    dos: &DosResult,
    names: &[String],
) -> std::result::Result<(), String> {
    let f = &dos.frequency_points;
    let ymax = dos.total_dos.iter().copied().fold(0.0, f64::max) * 1.1 + 1e-9;
    let mut chart = ChartBuilder::on(root)
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(f[0]..*f.last().unwrap_or(&1.0), 0.0..ymax)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("Frequency (THz)")
        .y_desc("DOS (states/THz/cell)")
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(LineSeries::new(
            f.iter().copied().zip(dos.total_dos.iter().copied()),
            BLACK.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label("total")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    for (k, p) in dos.projected_dos.iter().enumerate() {
        let c = Palette99::pick(k).to_rgba();
        chart
            .draw_series(LineSeries::new(
                f.iter().copied().zip(p.iter().copied()),
                c.stroke_width(1),
            ))
            .map_err(|e| e.to_string())?
            .label(names.get(k).cloned().unwrap_or_default())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn draw_ctx<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ctx: &Ctx,
) -> std::result::Result<(), String> {
    match ctx {
        Ctx::Bands(b) => bands_impl(root, b),
        Ctx::Dos(d, n) => dos_impl(root, d, n),
        Ctx::Xy(p) => xy_impl(root, p),
        Ctx::Heat(h) => heat_impl(root, h),
    }
}

fn write(stem: &Path, size: (u32, u32), ctx: Ctx) -> Result<()> {
    register_font();
    let svg = stem.with_extension("svg");
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| perr(&svg, e))?;
        draw_ctx(&root, &ctx).map_err(|e| perr(&svg, e))?;
        root.present().map_err(|e| perr(&svg, e))?;
    }
    let png = stem.with_extension("png");
    let root = BitMapBackend::new(&png, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| perr(&png, e))?;
    draw_ctx(&root, &ctx).map_err(|e| perr(&png, e))?;
    root.present().map_err(|e| perr(&png, e))?;
    Ok(())
}

/// Phonon dispersion: `stem`.svg and `stem`.png.
pub fn plot_bands(stem: &Path, bs: &BandStructure) -> Result<()> {
    write(stem, (900, 600), Ctx::Bands(bs))
}

/// Total and atom-projected DOS: `stem`.svg and `stem`.png. `names` label the projections.
pub fn plot_dos(stem: &Path, dos: &DosResult, names: &[String]) -> Result<()> {
    write(stem, (900, 600), Ctx::Dos(dos, names))
}

/// A generic x–y chart: `stem`.svg and `stem`.png.
pub fn plot_xy(stem: &Path, plot: &XyPlot) -> Result<()> {
    write(stem, (900, 600), Ctx::Xy(plot))
}

/// A map z(x, y) on a rectangular grid of cell centres, drawn with a logarithmic colour scale
/// (as IXS and INS intensity maps are shown): `decades` below the maximum map to the darkest colour.
#[derive(Clone, Debug, Default)]
pub struct HeatMap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Cell centres along x and y (each increasing).
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// z[ix][iy].
    pub z: Vec<Vec<f64>>,
    pub decades: f64,
}

/// A perceptually ordered dark-blue → teal → yellow ramp (viridis-like) at t ∈ [0, 1].
fn ramp(t: f64) -> RGBColor {
    const STOPS: [(f64, [f64; 3]); 5] = [
        (0.0, [68.0, 1.0, 84.0]),
        (0.25, [59.0, 82.0, 139.0]),
        (0.5, [33.0, 145.0, 140.0]),
        (0.75, [94.0, 201.0, 98.0]),
        (1.0, [253.0, 231.0, 37.0]),
    ];
    let t = t.clamp(0.0, 1.0);
    let k = STOPS
        .iter()
        .rposition(|(x, _)| *x <= t)
        .unwrap_or(0)
        .min(STOPS.len() - 2);
    let (t0, c0) = STOPS[k];
    let (t1, c1) = STOPS[k + 1];
    let u = (t - t0) / (t1 - t0);
    let c: [u8; 3] = std::array::from_fn(|i| (c0[i] + u * (c1[i] - c0[i])).round() as u8);
    RGBColor(c[0], c[1], c[2])
}

/// Cell edges from centres: midpoints, with the outer cells as wide as their neighbours.
fn edges(c: &[f64]) -> Vec<f64> {
    match c.len() {
        0 => vec![0.0, 1.0],
        1 => vec![c[0] - 0.5, c[0] + 0.5],
        n => {
            let mut e = vec![c[0] - 0.5 * (c[1] - c[0])];
            e.extend(c.windows(2).map(|w| 0.5 * (w[0] + w[1])));
            e.push(c[n - 1] + 0.5 * (c[n - 1] - c[n - 2]));
            e
        }
    }
}

fn heat_impl<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    h: &HeatMap,
) -> std::result::Result<(), String> {
    let (ex, ey) = (edges(&h.x), edges(&h.y));
    let zmax =
        h.z.iter()
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
    let decades = if h.decades > 0.0 { h.decades } else { 4.0 };
    let floor = if zmax > 0.0 {
        zmax * 10f64.powf(-decades)
    } else {
        1.0
    };
    let (x0, x1) = (ex[0], ex[ex.len() - 1]);
    let (y0, y1) = (ey[0], ey[ey.len() - 1]);
    let mut chart = ChartBuilder::on(root)
        .caption(h.title.as_str(), ("sans-serif", 18))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            x0.min(x1)..x0.max(x1).max(x0.min(x1) + 1e-12),
            y0.min(y1)..y0.max(y1).max(y0.min(y1) + 1e-12),
        )
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(h.x_label.as_str())
        .y_desc(h.y_label.as_str())
        .draw()
        .map_err(|e| e.to_string())?;
    let cells = h.z.iter().enumerate().flat_map(|(i, col)| {
        let (ex, ey) = (&ex, &ey);
        col.iter().enumerate().map(move |(j, &v)| {
            let t = if v > floor {
                (v / floor).log10() / decades
            } else {
                0.0
            };
            Rectangle::new([(ex[i], ey[j]), (ex[i + 1], ey[j + 1])], ramp(t).filled())
        })
    });
    chart.draw_series(cells).map_err(|e| e.to_string())?;
    Ok(())
}

/// A heat map with a log colour scale: `stem`.svg and `stem`.png.
pub fn plot_heatmap(stem: &Path, map: &HeatMap) -> Result<()> {
    write(stem, (900, 650), Ctx::Heat(map))
}
