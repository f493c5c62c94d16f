//! The drawing, shared by the PNG and SVG backends.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordi32};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::{Chart, Series, Style, ValueFormat, is_svg};

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("drawing the chart: {0}")]
    Draw(String),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("nothing to draw: {0}")]
    Empty(String),
}

fn draw_err<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError::Draw(format!("{e:?}"))
}

static FONTS: Once = Once::new();

/// Registers DejaVu Sans under the family plotters uses by default, once.
fn register_fonts() {
    FONTS.call_once(|| {
        // Both faces are bundled bytes; registration fails only on a malformed font.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Tableau 10: distinct, colour-blind-friendlier than plotters' defaults.
const PALETTE: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(186, 176, 172),
];

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Renders to `path`, PNG or SVG by its extension.
pub fn render_file(chart: &Chart, style: &Style, path: &Path) -> Result<(), ChartError> {
    if is_svg(path) {
        let svg = render_svg(chart, style)?;
        std::fs::write(path, svg).map_err(|source| ChartError::Io {
            path: path.into(),
            source,
        })
    } else {
        let png = render_png_bytes(chart, style)?;
        std::fs::write(path, png).map_err(|source| ChartError::Io {
            path: path.into(),
            source,
        })
    }
}

pub fn render_svg(chart: &Chart, style: &Style) -> Result<String, ChartError> {
    register_fonts();
    let mut out = String::new();
    {
        let root =
            SVGBackend::with_string(&mut out, (style.width, style.height)).into_drawing_area();
        draw(chart, style, &root)?;
        root.present().map_err(draw_err)?;
    }
    Ok(out)
}

/// PNG bytes (for files, and for reports that embed images).
pub fn render_png_bytes(chart: &Chart, style: &Style) -> Result<Vec<u8>, ChartError> {
    register_fonts();
    let (w, h) = (style.width, style.height);
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw(chart, style, &root)?;
        root.present().map_err(draw_err)?;
    }
    let mut png = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut png);
    image::ImageEncoder::write_image(encoder, &rgb, w, h, image::ColorType::Rgb8)
        .map_err(draw_err)?;
    Ok(png)
}

/// Numbers for axes: thousands separated, at most two decimals.
pub fn format_value(v: f64, format: ValueFormat) -> String {
    match format {
        ValueFormat::Percent => format!("{:.0}%", v * 100.0),
        ValueFormat::Number => {
            if v.abs() >= 1000.0 {
                let n = v.round() as i64;
                let s = n.abs().to_string();
                let mut out = String::new();
                for (i, ch) in s.chars().enumerate() {
                    if i > 0 && (s.len() - i).is_multiple_of(3) {
                        out.push(',');
                    }
                    out.push(ch);
                }
                if n < 0 { format!("-{out}") } else { out }
            } else if v.fract().abs() < 1e-9 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_string()
            }
        }
    }
}

fn draw<DB: DrawingBackend>(
    chart: &Chart,
    style: &Style,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(draw_err)?;
    let (w, _) = root.dim_in_pixel();
    // Title and subtitle in a band of their own, so they never collide with the plot.
    let (head, body) = root.split_vertically(if style.subtitle.is_empty() { 56 } else { 84 });
    head.draw(&Text::new(
        style.title.clone(),
        (24, 14),
        ("sans-serif", 28)
            .into_font()
            .style(FontStyle::Bold)
            .color(&BLACK),
    ))
    .map_err(draw_err)?;
    if !style.subtitle.is_empty() {
        head.draw(&Text::new(
            style.subtitle.clone(),
            (24, 52),
            ("sans-serif", 17).into_font().color(&RGBColor(90, 90, 90)),
        ))
        .map_err(draw_err)?;
    }
    let _ = w;
    match chart {
        Chart::Bar { categories, series } => bars(
            &body,
            style,
            categories,
            std::slice::from_ref(series),
            false,
        ),
        Chart::Stacked { categories, series } => bars(&body, style, categories, series, true),
        Chart::Line { categories, series } => lines(&body, style, categories, series),
        Chart::Heatmap {
            rows,
            columns,
            values,
        } => heatmap(&body, style, rows, columns, values),
        Chart::Range { rows } => range(&body, style, rows),
    }
}

/// Rows on a shared horizontal value axis: a thick grey bar from low to high, a grey dot
/// at mid, a coloured diamond at the mark; the legend above.
fn range<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    style: &Style,
    rows: &[crate::RangeRow],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let n = rows.len();
    if n == 0 {
        return Err(ChartError::Empty("no rows".into()));
    }
    let all = rows
        .iter()
        .flat_map(|r| [r.low, r.mid, r.high, r.mark])
        .flatten();
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        return Err(ChartError::Empty("no values".into()));
    }
    let pad = ((hi - lo) * 0.08).max(1.0);
    // From 0 when every value is positive and 0 is near; else just below the lowest.
    let x0 = if lo >= 0.0 && lo - pad <= hi * 0.25 {
        0.0
    } else {
        lo - pad
    };
    let x1 = hi + pad;
    let (legend, plot) = area.split_vertically(34);
    let grey = RGBColor(150, 150, 150);
    let mark_colour = colour(1);
    let mut x = 24;
    for (i, name) in crate::RANGE_LEGEND.iter().enumerate() {
        let y = 16;
        match i {
            0 => legend
                .draw(&Rectangle::new(
                    [(x, y - 4), (x + 26, y + 4)],
                    grey.mix(0.45).filled(),
                ))
                .map_err(draw_err)?,
            1 => legend
                .draw(&Circle::new((x + 13, y), 6, grey.filled()))
                .map_err(draw_err)?,
            _ => legend
                .draw(&Polygon::new(
                    vec![(x + 13, y - 8), (x + 21, y), (x + 13, y + 8), (x + 5, y)],
                    mark_colour.filled(),
                ))
                .map_err(draw_err)?,
        }
        legend
            .draw(&Text::new(
                (*name).to_string(),
                (x + 34, y - 8),
                ("sans-serif", 15).into_font().color(&BLACK),
            ))
            .map_err(draw_err)?;
        x += 34 + (name.chars().count() as i32) * 8 + 28;
    }
    let longest = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(1);
    let mut chart = ChartBuilder::on(&plot)
        .margin(16)
        .x_label_area_size(if style.x_label.is_empty() { 36 } else { 62 })
        .y_label_area_size((longest as u32 * 8 + 20).min(360))
        .build_cartesian_2d(x0..x1, slots(n))
        .map_err(draw_err)?;
    let format = style.format;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n + 1)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) if (*i as usize) < n => {
                rows[n - 1 - *i as usize].label.clone()
            }
            _ => String::new(),
        })
        .x_label_formatter(&|v| format_value(*v, format))
        .x_desc(style.x_label.as_str())
        .x_label_style(("sans-serif", 15))
        .y_label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(draw_err)?;
    // The first row at the top.
    for (k, r) in rows.iter().enumerate() {
        let i = (n - 1 - k) as i32;
        let centre = SegmentValue::CenterOf(i);
        if let (Some(a), Some(b)) = (r.low, r.high) {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(a, centre.clone()), (b, centre.clone())],
                    grey.mix(0.45).stroke_width(12),
                )))
                .map_err(draw_err)?;
        }
        if let Some(m) = r.mid {
            chart
                .draw_series(std::iter::once(Circle::new(
                    (m, centre.clone()),
                    6,
                    grey.filled(),
                )))
                .map_err(draw_err)?;
        }
        if let Some(v) = r.mark {
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((v, centre.clone()))
                        + Polygon::new(
                            vec![(0, -9), (9, 0), (0, 9), (-9, 0)],
                            mark_colour.filled(),
                        ),
                ))
                .map_err(draw_err)?;
        }
    }
    Ok(())
}

/// `n` category slots. plotters' integer ranges are inclusive, so 0..n-1 has n values;
/// a single slot gets two, since a range of one value has no width.
fn slots(n: usize) -> SegmentedCoord<RangedCoordi32> {
    (0..(n as i32 - 1).max(1)).into_segmented()
}

/// The font size for `n` category labels of at most `chars` characters across `width`
/// pixels, and how many slots apart labels must be to fit (1 = every label).
fn label_fit(n: usize, chars: usize, width: u32) -> (u32, usize) {
    let per_slot = f64::from(width) / n.max(1) as f64;
    for size in [15u32, 13, 12] {
        if chars as f64 * 0.6 * f64::from(size) + 12.0 <= per_slot {
            return (size, 1);
        }
    }
    let need = chars as f64 * 0.6 * 12.0 + 16.0;
    (12, (need / per_slot).ceil().max(1.0) as usize)
}

fn y_max(series: &[Series], stacked: bool, n: usize) -> f64 {
    let max = if stacked {
        (0..n)
            .map(|i| {
                series
                    .iter()
                    .map(|s| s.values.get(i).copied().flatten().unwrap_or(0.0).max(0.0))
                    .sum::<f64>()
            })
            .fold(0.0, f64::max)
    } else {
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
            .fold(0.0, f64::max)
    };
    if max <= 0.0 { 1.0 } else { max * 1.08 }
}

fn legend_needed(series: &[Series]) -> bool {
    series.len() > 1
}

type CategoryChart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<SegmentedCoord<RangedCoordi32>, RangedCoordf64>>;

/// The axes bars and lines share: one slot per category, values from 0 up, labels that
/// fit (smaller, then every k-th), thousands separators or percentages on the y axis.
fn category_axes<'a, DB: DrawingBackend>(
    plot: &'a DrawingArea<DB, Shift>,
    style: &Style,
    categories: &[String],
    ymax: f64,
) -> Result<CategoryChart<'a, DB>, ChartError>
where
    DB::ErrorType: 'static,
{
    let n = categories.len();
    let max_label_chars = categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(1);
    let (label_size, step) = label_fit(
        n,
        max_label_chars,
        plot.dim_in_pixel().0.saturating_sub(130),
    );
    let mut chart = ChartBuilder::on(plot)
        .margin(16)
        .x_label_area_size(if style.x_label.is_empty() { 36 } else { 62 })
        .y_label_area_size(90)
        .build_cartesian_2d(slots(n), 0f64..ymax)
        .map_err(draw_err)?;
    let format = style.format;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n + 1)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i)
                if (*i as usize) < n && (*i as usize).is_multiple_of(step) =>
            {
                categories[*i as usize].clone()
            }
            _ => String::new(),
        })
        .y_label_formatter(&|v| format_value(*v, format))
        .x_desc(style.x_label.as_str())
        .y_desc(style.y_label.as_str())
        .x_label_style(("sans-serif", label_size))
        .y_label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(draw_err)?;
    Ok(chart)
}

fn bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    style: &Style,
    categories: &[String],
    series: &[Series],
    stacked: bool,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let n = categories.len();
    if n == 0 {
        return Err(ChartError::Empty("no categories".into()));
    }
    let (plot, legend) = split_legend(area, series);
    let mut chart = category_axes(&plot, style, categories, y_max(series, stacked, n))?;
    // One bar per category; with several series the segments stack (only `Stacked`
    // passes several series here).
    for i in 0..n {
        let mut base = 0.0;
        for (j, s) in series.iter().enumerate() {
            let Some(v) = s.values.get(i).copied().flatten() else {
                continue;
            };
            let (y0, y1) = if stacked { (base, base + v) } else { (0.0, v) };
            base = y1;
            let corners = || {
                [
                    (SegmentValue::Exact(i as i32), y0),
                    (SegmentValue::Exact(i as i32 + 1), y1),
                ]
            };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    corners(),
                    colour(j).filled(),
                )))
                .map_err(draw_err)?;
            // A white outline separates neighbouring bars and stacked segments.
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    corners(),
                    WHITE.stroke_width(3),
                )))
                .map_err(draw_err)?;
        }
    }
    if let Some(legend) = legend {
        draw_legend(&legend, series)?;
    }
    Ok(())
}

fn lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    style: &Style,
    categories: &[String],
    series: &[Series],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let n = categories.len();
    if n == 0 {
        return Err(ChartError::Empty("no categories".into()));
    }
    let (plot, legend) = split_legend(area, series);
    let mut chart = category_axes(&plot, style, categories, y_max(series, false, n))?;
    for (j, s) in series.iter().enumerate() {
        let c = colour(j);
        // A gap (None) breaks the line rather than drawing through zero.
        let mut run: Vec<(SegmentValue<i32>, f64)> = Vec::new();
        let mut runs = Vec::new();
        for (i, v) in s.values.iter().enumerate().take(n) {
            match v {
                Some(v) => run.push((SegmentValue::CenterOf(i as i32), *v)),
                None => runs.push(std::mem::take(&mut run)),
            }
        }
        runs.push(run);
        for r in runs.into_iter().filter(|r| !r.is_empty()) {
            if n <= 40 {
                chart
                    .draw_series(r.iter().map(|p| Circle::new(p.clone(), 3, c.filled())))
                    .map_err(draw_err)?;
            }
            chart
                .draw_series(LineSeries::new(r, c.stroke_width(3)))
                .map_err(draw_err)?;
        }
    }
    if let Some(legend) = legend {
        draw_legend(&legend, series)?;
    }
    Ok(())
}

type Split<'a, DB> = (DrawingArea<DB, Shift>, Option<DrawingArea<DB, Shift>>);

/// With more than one series, a legend column on the right.
fn split_legend<'a, DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[Series],
) -> Split<'a, DB> {
    if !legend_needed(series) {
        return (area.clone(), None);
    }
    let longest = series
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(4) as u32;
    let width = (longest * 10 + 60).clamp(120, 320);
    let (w, _) = area.dim_in_pixel();
    let (plot, legend) = area.split_horizontally(w.saturating_sub(width));
    (plot, Some(legend))
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[Series],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    for (j, s) in series.iter().enumerate() {
        let y = 24 + j as i32 * 26;
        area.draw(&Rectangle::new([(8, y), (26, y + 16)], colour(j).filled()))
            .map_err(draw_err)?;
        area.draw(&Text::new(
            s.name.clone(),
            (34, y),
            ("sans-serif", 15).into_font(),
        ))
        .map_err(draw_err)?;
    }
    Ok(())
}

/// Light to dark blue, for 0..1 of the scale.
fn ramp(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let (a, b) = ((214.0, 230.0, 244.0), (8.0, 48.0, 107.0));
    let mix = |x: f64, y: f64| (x + (y - x) * t).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn heatmap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    style: &Style,
    rows: &[String],
    columns: &[String],
    values: &[Vec<Option<f64>>],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let (nr, nc) = (rows.len(), columns.len());
    if nr == 0 || nc == 0 {
        return Err(ChartError::Empty("an empty grid".into()));
    }
    let vmax = values
        .iter()
        .flatten()
        .flatten()
        .copied()
        .fold(0.0, f64::max);
    let scale_max = if style.format == ValueFormat::Percent {
        if vmax > 1.0 { vmax } else { vmax.max(0.01) }
    } else {
        vmax.max(1e-9)
    };
    let (w, _) = area.dim_in_pixel();
    let (plot, legend) = area.split_horizontally(w.saturating_sub(150));
    let mut chart = ChartBuilder::on(&plot)
        .margin(16)
        .x_label_area_size(if style.x_label.is_empty() { 36 } else { 62 })
        .y_label_area_size(70)
        .build_cartesian_2d(slots(nc), slots(nr))
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(nc + 1)
        .y_labels(nr + 1)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) if (*i as usize) < nc => columns[*i as usize].clone(),
            _ => String::new(),
        })
        .y_label_formatter(&|v| match v {
            // Row 0 at the top.
            SegmentValue::CenterOf(i) if (*i as usize) < nr => rows[nr - 1 - *i as usize].clone(),
            _ => String::new(),
        })
        .x_desc(style.x_label.as_str())
        .y_desc(style.y_label.as_str())
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .draw()
        .map_err(draw_err)?;
    for (r, row) in values.iter().enumerate().take(nr) {
        let y = (nr - 1 - r) as i32;
        for (c, v) in row.iter().enumerate().take(nc) {
            let fill = match v {
                Some(v) => ramp(v / scale_max),
                None => WHITE,
            };
            let rect = || {
                [
                    (SegmentValue::Exact(c as i32), SegmentValue::Exact(y)),
                    (
                        SegmentValue::Exact(c as i32 + 1),
                        SegmentValue::Exact(y + 1),
                    ),
                ]
            };
            chart
                .draw_series(std::iter::once(Rectangle::new(rect(), fill.filled())))
                .map_err(draw_err)?;
            let edge = if v.is_some() {
                WHITE
            } else {
                RGBColor(225, 225, 225)
            };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    rect(),
                    edge.stroke_width(1),
                )))
                .map_err(draw_err)?;
        }
    }
    // The colour scale, with its ends labelled, and what a blank cell means.
    let (_, lh) = legend.dim_in_pixel();
    let (top, bottom) = (30i32, (lh as i32 - 90).max(80));
    let steps = 50;
    for k in 0..steps {
        let t = 1.0 - k as f64 / steps as f64;
        let y0 = top + (bottom - top) * k / steps;
        let y1 = top + (bottom - top) * (k + 1) / steps;
        legend
            .draw(&Rectangle::new([(20, y0), (48, y1 + 1)], ramp(t).filled()))
            .map_err(draw_err)?;
    }
    let font = ("sans-serif", 15).into_font();
    legend
        .draw(&Text::new(
            format_value(scale_max, style.format),
            (56, top - 6),
            font.clone(),
        ))
        .map_err(draw_err)?;
    legend
        .draw(&Text::new(
            format_value(0.0, style.format),
            (56, bottom - 10),
            font.clone(),
        ))
        .map_err(draw_err)?;
    legend
        .draw(&Rectangle::new(
            [(20, bottom + 24), (48, bottom + 44)],
            WHITE.filled(),
        ))
        .map_err(draw_err)?;
    legend
        .draw(&Rectangle::new(
            [(20, bottom + 24), (48, bottom + 44)],
            RGBColor(200, 200, 200).stroke_width(1),
        ))
        .map_err(draw_err)?;
    legend
        .draw(&Text::new("closed", (56, bottom + 26), font))
        .map_err(draw_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_like_numbers() {
        assert_eq!(format_value(25000.0, ValueFormat::Number), "25,000");
        assert_eq!(format_value(0.5, ValueFormat::Number), "0.5");
        assert_eq!(format_value(3.0, ValueFormat::Number), "3");
        assert_eq!(format_value(0.426, ValueFormat::Percent), "43%");
        assert_eq!(format_value(-1234567.0, ValueFormat::Number), "-1,234,567");
    }

    #[test]
    fn svg_has_title_and_labels() {
        let chart = Chart::Bar {
            categories: vec!["CEN".into(), "PIN".into()],
            series: Series::new("sessions", vec![Some(120.0), None]),
        };
        let svg = render_svg(&chart, &Style::new("Sessions by branch", "sessions")).unwrap();
        assert!(svg.contains("Sessions by branch"));
        assert!(svg.contains("CEN") && svg.contains("PIN"));
    }
}
