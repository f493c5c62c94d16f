//! tally-charts: bar, stacked bar, line, heatmap and range (dot) charts as PNG or SVG, drawn with
//! plotters and an embedded DejaVu Sans so text renders on a machine with no fonts.
//!
//! It takes plain labels and numbers ([`Chart`]) and knows nothing of polars, the lake or
//! metrics: the caller turns a table into series.
//!
//! ```ignore
//! // Run as written by tests/examples.rs.
//! let chart = Chart::Bar { categories: vec!["CEN".into(), "PIN".into()], series: Series::new("sessions", vec![Some(120.0), Some(80.0)]) };
//! render_file(&chart, &Style::new("Sessions by branch", "sessions"), &png)?;
//! ```

mod draw;

use std::path::Path;

pub use draw::{ChartError, render_file, render_png_bytes, render_svg};

/// One named sequence of values; `None` is a gap (no data, or a suppressed cell).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
    /// The palette slot that names this series in every chart of a report (a site's
    /// place in sites.toml), so a branch keeps its colour; `None`: its place here.
    pub colour: Option<usize>,
}

impl Series {
    pub fn new(name: impl Into<String>, values: Vec<Option<f64>>) -> Series {
        Series {
            name: name.into(),
            values,
            colour: None,
        }
    }

    /// The same series in palette slot `slot`.
    pub fn with_colour(mut self, slot: usize) -> Series {
        self.colour = Some(slot);
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// One bar per category.
    Bar {
        categories: Vec<String>,
        series: Series,
    },
    /// Bars per category, one segment per series, stacked.
    Stacked {
        categories: Vec<String>,
        series: Vec<Series>,
    },
    /// One line per series over the categories (usually time buckets).
    Line {
        categories: Vec<String>,
        series: Vec<Series>,
    },
    /// A grid of cells: `values[row][column]`, coloured from 0 to the largest value.
    Heatmap {
        rows: Vec<String>,
        columns: Vec<String>,
        values: Vec<Vec<Option<f64>>>,
    },
    /// One row per item on a shared value axis: a range (low to high), a dot in it, and a
    /// mark (a peer group's quartiles and median, and the library's own value).
    Range { rows: Vec<RangeRow> },
}

/// A row of [`Chart::Range`]. Missing values are not drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeRow {
    pub label: String,
    pub low: Option<f64>,
    pub mid: Option<f64>,
    pub high: Option<f64>,
    pub mark: Option<f64>,
}

/// How values are printed on the axis and in the heatmap's legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueFormat {
    Number,
    /// 0..1 shown as 0%..100%.
    Percent,
}

/// The legend names of [`Chart::Range`]'s parts: range, dot, mark.
pub const RANGE_LEGEND: [&str; 3] = [
    "peers' middle half (25th to 75th percentile)",
    "peer median",
    "this library",
];

/// Titles, axis labels, size.
#[derive(Debug, Clone)]
pub struct Style {
    pub title: String,
    /// A line under the title: units, period and source.
    pub subtitle: String,
    pub x_label: String,
    pub y_label: String,
    pub width: u32,
    pub height: u32,
    pub format: ValueFormat,
    /// Categories (buckets) the period or the data covers only in part: drawn lighter
    /// (bars) or dashed (lines), with `partial_note` in the legend.
    pub partial: Vec<bool>,
    /// What the partial mark means, e.g. "partial: 2026-W40, 3 of 7 days".
    pub partial_note: String,
}

impl Style {
    pub fn new(title: impl Into<String>, y_label: impl Into<String>) -> Style {
        Style {
            title: title.into(),
            subtitle: String::new(),
            x_label: String::new(),
            y_label: y_label.into(),
            width: 1200,
            height: 600,
            format: ValueFormat::Number,
            partial: Vec::new(),
            partial_note: String::new(),
        }
    }

    /// Whether category `i` is partial.
    pub fn is_partial(&self, i: usize) -> bool {
        self.partial.get(i).copied().unwrap_or(false)
    }
}

/// What a chart shows, in words, for its alt text: the title, then its largest and
/// smallest values and where they are (a screen reader's user hears the extremes a
/// sighted reader sees first). The tables beside the chart have every value.
pub fn alt_text(chart: &Chart, style: &Style) -> String {
    let fmt = |v: f64| draw::format_value(v, style.format);
    // (value, where)
    let mut points: Vec<(f64, String)> = Vec::new();
    let kind = match chart {
        Chart::Bar { categories, series } => {
            for (c, v) in categories.iter().zip(&series.values) {
                if let Some(v) = v {
                    points.push((*v, c.clone()));
                }
            }
            "Bar chart"
        }
        Chart::Stacked { categories, series } | Chart::Line { categories, series } => {
            for s in series {
                for (c, v) in categories.iter().zip(&s.values) {
                    if let Some(v) = v {
                        let at = if series.len() > 1 {
                            format!("{}, {c}", s.name)
                        } else {
                            c.clone()
                        };
                        points.push((*v, at));
                    }
                }
            }
            if matches!(chart, Chart::Line { .. }) {
                "Line chart"
            } else {
                "Stacked bar chart (values of each part)"
            }
        }
        Chart::Heatmap {
            rows,
            columns,
            values,
        } => {
            for (r, row) in rows.iter().zip(values) {
                for (c, v) in columns.iter().zip(row) {
                    if let Some(v) = v {
                        points.push((*v, format!("{r} {c}")));
                    }
                }
            }
            "Heatmap"
        }
        Chart::Range { rows } => {
            for r in rows {
                if let Some(v) = r.mark {
                    points.push((v, r.label.clone()));
                }
            }
            "Dot chart"
        }
    };
    let mut text = format!("{kind}: {}.", style.title);
    let hi = points.iter().max_by(|a, b| a.0.total_cmp(&b.0));
    let lo = points.iter().min_by(|a, b| a.0.total_cmp(&b.0));
    if let (Some(hi), Some(lo)) = (hi, lo) {
        text.push_str(&format!(
            " Highest: {} ({}); lowest: {} ({}).",
            fmt(hi.0),
            hi.1,
            fmt(lo.0),
            lo.1
        ));
    } else {
        text.push_str(" No values.");
    }
    if !style.partial_note.is_empty() {
        text.push_str(&format!(
            " Lighter bars or dashed lines: {}.",
            style.partial_note
        ));
    }
    if !style.subtitle.is_empty() {
        text.push_str(&format!(" {}", style.subtitle));
    }
    text
}

/// Whether a path asks for SVG (by extension); anything else is PNG.
pub fn is_svg(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
}
