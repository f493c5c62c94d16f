//! The drawing, shared by the PNG and SVG backends.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordi32};
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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

/// Okabe and Ito's colour-blind-safe palette (blue, orange, bluish green, reddish purple,
/// sky blue, vermillion, yellow, dark grey), then wine and grey for a ninth and tenth
/// series. A series keeps its slot ([`Series::colour`]) in every chart of a report.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(77, 77, 77),
    RGBColor(136, 34, 85),
    RGBColor(153, 153, 153),
];

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A series' colour: its own slot, else its place in the chart.
fn series_colour(s: &Series, j: usize) -> RGBColor {
    colour(s.colour.unwrap_or(j))
}

/// How much smaller than the 1200 x 600 design the chart is drawn (fonts, margins,
/// legend rows), from 1 down to 0.6.
fn scale(style: &Style) -> f64 {
    (f64::from(style.width) / 1200.0)
        .min(f64::from(style.height) / 600.0)
        .clamp(0.6, 1.0)
}

/// A size of the 1200 x 600 design at scale `k`, in whole pixels.
fn px(v: f64, k: f64) -> u32 {
    (v * k).round() as u32
}

/// A colour a third as strong, mixed with white (opaque, so gridlines stay behind it):
/// the fill of a partial bucket.
fn tint(c: RGBColor) -> RGBColor {
    let mix = |x: u8| (f64::from(x) * 0.35 + 255.0 * 0.65).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// Gridlines: one light line per labelled tick, none between.
const GRID: RGBColor = RGBColor(225, 225, 225);

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
    let k = scale(style);
    // Title and subtitle in a band of their own, so they never collide with the plot;
    // a subtitle too long for one line wraps onto a second.
    let sub_size = px(17.0, k);
    let sub_chars = ((f64::from(w) - 48.0) / (f64::from(sub_size) * 0.55)).max(20.0) as usize;
    let sub_lines = if style.subtitle.is_empty() {
        Vec::new()
    } else {
        wrap(&style.subtitle, sub_chars)
    };
    let title_size = px(28.0, k);
    let band = title_size + 28 + sub_lines.len() as u32 * (sub_size + 6);
    let (head, body) = root.split_vertically(band);
    head.draw(&Text::new(
        style.title.clone(),
        (24, px(14.0, k) as i32),
        ("sans-serif", title_size)
            .into_font()
            .style(FontStyle::Bold)
            .color(&BLACK),
    ))
    .map_err(draw_err)?;
    for (i, line) in sub_lines.into_iter().enumerate() {
        head.draw(&Text::new(
            line,
            (24, (title_size + 24 + i as u32 * (sub_size + 6)) as i32),
            ("sans-serif", sub_size)
                .into_font()
                .color(&RGBColor(90, 90, 90)),
        ))
        .map_err(draw_err)?;
    }
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
    let mark_colour = colour(5);
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
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
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
fn label_fit(n: usize, chars: usize, width: u32, k: f64) -> (u32, usize) {
    let per_slot = f64::from(width) / n.max(1) as f64;
    let smallest = px(12.0, k).max(10);
    for size in [px(15.0, k), px(13.0, k), smallest, 10] {
        let size = size.max(10);
        if chars as f64 * 0.6 * f64::from(size) + 12.0 <= per_slot {
            return (size, 1);
        }
    }
    let need = chars as f64 * 0.6 * f64::from(smallest) + 16.0;
    (smallest, (need / per_slot).ceil().max(1.0) as usize)
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

fn legend_needed(series: &[Series], style: &Style) -> bool {
    series.len() > 1 || style.partial.iter().any(|p| *p)
}

type CategoryChart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<SegmentedCoord<RangedCoordi32>, RangedCoordf64>>;

/// How category labels are set: their font size, every how many slots one is written,
/// and whether they stand upright (read from the bottom up) to fit.
struct Labels {
    size: u32,
    step: usize,
    upright: bool,
}

/// Labels that fit the slots: smaller first; then, for a few categories that are names
/// (branches), upright, every one written; for many (time buckets, in order), every
/// k-th. Labels never overlap.
fn label_layout(categories: &[String], width: u32, k: f64) -> Labels {
    let n = categories.len();
    let chars = categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(1);
    let (size, step) = label_fit(n, chars, width, k);
    let per_slot = f64::from(width) / n.max(1) as f64;
    // Upright labels need a line's height per slot.
    if step > 1 && n <= 40 && per_slot >= 16.0 {
        return Labels {
            size: px(13.0, k).max(10),
            step: 1,
            upright: true,
        };
    }
    Labels {
        size,
        step,
        upright: false,
    }
}

/// The axes bars and lines share: one slot per category, values from 0 up, labels that
/// fit ([`label_layout`]), thousands separators or percentages on the y axis, the unit
/// as the axis title, and one light gridline per value tick.
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
    let labels = label_layout(
        categories,
        plot.dim_in_pixel()
            .0
            .saturating_sub(px(130.0, scale(style))),
        scale(style),
    );
    let longest = categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(1) as u32;
    let k = scale(style);
    let label_area = if labels.upright {
        ((f64::from(longest) * f64::from(labels.size) * 0.62) as u32 + 20)
            .min(plot.dim_in_pixel().1 / 2)
    } else {
        px(36.0, k)
    };
    let mut chart = ChartBuilder::on(plot)
        .margin(px(16.0, k))
        .x_label_area_size(
            label_area
                + if style.x_label.is_empty() {
                    0
                } else {
                    px(26.0, k)
                },
        )
        .y_label_area_size(px(90.0, k))
        .build_cartesian_2d(slots(n), 0f64..ymax)
        .map_err(draw_err)?;
    let format = style.format;
    let step = labels.step;
    let font = ("sans-serif", labels.size).into_font();
    // Upright labels are drawn below (plotters centres a turned label on its tick).
    let upright = labels.upright;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n + 1)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i)
                if !upright && (*i as usize) < n && (*i as usize).is_multiple_of(step) =>
            {
                categories[*i as usize].clone()
            }
            _ => String::new(),
        })
        .y_label_formatter(&|v| format_value(*v, format))
        .x_desc(style.x_label.as_str())
        .y_desc(style.y_label.as_str())
        .x_label_style(font.clone())
        .y_label_style(("sans-serif", px(15.0, k)))
        .axis_desc_style(("sans-serif", px(17.0, k)))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(draw_err)?;
    if upright {
        // Each label reads from the bottom up and ends just under its tick.
        let turned = font.transform(FontTransform::Rotate270).color(&BLACK);
        for (i, c) in categories.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(SegmentValue::CenterOf(i as i32), 0.0));
            let (ox, oy) = plot.get_base_pixel();
            let width = (c.chars().count() as f64 * f64::from(labels.size) * 0.62) as i32;
            plot.draw(&Text::new(
                c.clone(),
                (x - ox - labels.size as i32 / 2, y - oy + 8 + width),
                turned.clone(),
            ))
            .map_err(draw_err)?;
        }
    }
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
    let (plot, legend) = split_legend(area, series, style);
    let ymax = y_max(series, stacked, n);
    let mut chart = category_axes(&plot, style, categories, ymax)?;
    // One bar per category; with several series the segments stack (only `Stacked`
    // passes several series here). A partial bucket's bar is lighter, outlined in its
    // colour.
    for i in 0..n {
        let partial = style.is_partial(i);
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
            let c = series_colour(s, j);
            let fill = if partial { tint(c) } else { c };
            chart
                .draw_series(std::iter::once(Rectangle::new(corners(), fill.filled())))
                .map_err(draw_err)?;
            // A white outline separates neighbouring bars and stacked segments.
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    corners(),
                    WHITE.stroke_width(3),
                )))
                .map_err(draw_err)?;
            if partial {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        corners(),
                        c.stroke_width(1),
                    )))
                    .map_err(draw_err)?;
            }
        }
        // A bar too short to see (under 3% of the axis) has its value written above it.
        if !stacked
            && let Some(v) = series
                .first()
                .and_then(|s| s.values.get(i).copied().flatten())
            && v < ymax * 0.03
        {
            chart
                .draw_series(std::iter::once(Text::new(
                    format_value(v, style.format),
                    (SegmentValue::CenterOf(i as i32), v + ymax * 0.01),
                    ("sans-serif", px(13.0, scale(style)).max(10))
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Bottom)),
                )))
                .map_err(draw_err)?;
        }
    }
    if let Some(legend) = legend {
        draw_legend(&legend, series, style, false, stacked)?;
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
    let (plot, legend) = split_legend(area, series, style);
    let mut chart = category_axes(&plot, style, categories, y_max(series, false, n))?;
    for (j, s) in series.iter().enumerate() {
        let c = series_colour(s, j);
        // A gap (None) breaks the line rather than drawing through zero; a step into or
        // out of a partial bucket is dashed, and its point hollow.
        let point = |i: usize| {
            s.values
                .get(i)
                .copied()
                .flatten()
                .map(|v| (SegmentValue::CenterOf(i as i32), v))
        };
        for i in 1..n {
            let (Some(a), Some(b)) = (point(i - 1), point(i)) else {
                continue;
            };
            if style.is_partial(i) || style.is_partial(i - 1) {
                chart
                    .draw_series(DashedLineSeries::new([a, b], 8, 6, c.stroke_width(3)))
                    .map_err(draw_err)?;
            } else {
                chart
                    .draw_series(LineSeries::new([a, b], c.stroke_width(3)))
                    .map_err(draw_err)?;
            }
        }
        if n <= 40 {
            for i in 0..n {
                if let Some(p) = point(i) {
                    let marker = if style.is_partial(i) {
                        Circle::new(p, 4, c.stroke_width(2))
                    } else {
                        Circle::new(p, 3, c.filled())
                    };
                    chart
                        .draw_series(std::iter::once(marker))
                        .map_err(draw_err)?;
                }
            }
        }
    }
    if let Some(legend) = legend {
        draw_legend(&legend, series, style, true, false)?;
    }
    Ok(())
}

type Split<'a, DB> = (DrawingArea<DB, Shift>, Option<DrawingArea<DB, Shift>>);

/// With more than one series, or a partial bucket to explain, a legend column on the
/// right.
fn split_legend<'a, DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[Series],
    style: &Style,
) -> Split<'a, DB> {
    if !legend_needed(series, style) {
        return (area.clone(), None);
    }
    let longest = series
        .iter()
        .map(|s| s.name.chars().count())
        .chain(style.partial.iter().any(|p| *p).then_some(20))
        .max()
        .unwrap_or(4) as u32;
    let (w, _) = area.dim_in_pixel();
    let k = scale(style);
    let width = (px(f64::from(longest) * 10.0 + 60.0, k))
        .clamp(px(120.0, k), 320)
        .min(w / 3);
    let (plot, legend) = area.split_horizontally(w.saturating_sub(width));
    (plot, Some(legend))
}

/// `text` in lines of at most `chars` characters, broken at spaces.
fn wrap(text: &str, chars: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= chars => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[Series],
    style: &Style,
    lines: bool,
    stacked: bool,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let (w, h) = area.dim_in_pixel();
    let k = scale(style);
    let font = px(15.0, k).max(10);
    // Rows a line apart, closer when the column is short.
    let rows = series.len() as u32
        + if style.partial.iter().any(|p| *p) {
            3
        } else {
            0
        };
    let step = px(26.0, k)
        .min(h.saturating_sub(20) / rows.max(1))
        .max(font + 2) as i32;
    let boxed = (step - 6).clamp(8, 16);
    let mut y = px(24.0, k) as i32;
    if series.len() > 1 {
        // A stack's legend reads top down as the stack does.
        let order: Vec<usize> = if stacked {
            (0..series.len()).rev().collect()
        } else {
            (0..series.len()).collect()
        };
        for j in order {
            let s = &series[j];
            area.draw(&Rectangle::new(
                [(8, y), (8 + boxed, y + boxed)],
                series_colour(s, j).filled(),
            ))
            .map_err(draw_err)?;
            area.draw(&Text::new(
                s.name.clone(),
                (boxed + 16, y),
                ("sans-serif", font).into_font(),
            ))
            .map_err(draw_err)?;
            y += step;
        }
        y += step / 3;
    }
    if style.partial.iter().any(|p| *p) {
        let grey = RGBColor(110, 110, 110);
        if lines {
            area.draw(&PathElement::new(
                vec![(8, y + 8), (14, y + 8)],
                grey.stroke_width(3),
            ))
            .map_err(draw_err)?;
            area.draw(&PathElement::new(
                vec![(19, y + 8), (26, y + 8)],
                grey.stroke_width(3),
            ))
            .map_err(draw_err)?;
        } else {
            area.draw(&Rectangle::new([(8, y), (26, y + 16)], tint(grey).filled()))
                .map_err(draw_err)?;
            area.draw(&Rectangle::new(
                [(8, y), (26, y + 16)],
                grey.stroke_width(1),
            ))
            .map_err(draw_err)?;
        }
        let note = if style.partial_note.is_empty() {
            "partial bucket".to_string()
        } else {
            style.partial_note.clone()
        };
        let small = px(14.0, k).max(10);
        let chars = ((w.saturating_sub(40)) as f64 / (f64::from(small) * 0.55)).max(12.0) as usize;
        for line in wrap(&note, chars) {
            area.draw(&Text::new(line, (34, y), ("sans-serif", small).into_font()))
                .map_err(draw_err)?;
            y += small as i32 + 4;
        }
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
