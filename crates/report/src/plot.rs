//! A metric's table as a chart: one series, or one series per value of the `by`
//! dimension (branches by their names), over the buckets; the heatmap as weekday x hour.

use std::str::FromStr;

use polars::prelude::*;
use tally_charts::{Chart, Series, Style, ValueFormat};
use tally_metrics::{Dim, Metric, MetricError, Output, PartialBucket, Request};
use tally_model::Sites;

use crate::doc::ReportError;
use crate::frame::{f64s, strs};

/// The chart kinds `tally chart --kind` and pipeline files name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bar,
    Stacked,
    Line,
    Heatmap,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Bar, Kind::Stacked, Kind::Line, Kind::Heatmap];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Bar => "bar",
            Kind::Stacked => "stacked",
            Kind::Line => "line",
            Kind::Heatmap => "heatmap",
        }
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("unknown chart kind \"{s}\"; known: bar, stacked, line, heatmap")
            })
    }
}

/// How a metric's values read on an axis: as its unit in the catalogue says.
pub fn value_format(metric: Metric) -> ValueFormat {
    if metric.unit().is_share() {
        ValueFormat::Percent
    } else {
        ValueFormat::Number
    }
}

pub fn site_name(sites: &Sites, code: &str) -> String {
    sites
        .site(code)
        .map_or_else(|| code.to_string(), |s| s.name.clone())
}

/// Long (dimension, bucket, value) rows as one series per dimension value over the
/// buckets, in the order first met. Sites show their names.
pub fn pivot(out: &Output, dim: Dim, sites: &Sites) -> PolarsResult<(Vec<String>, Vec<Series>)> {
    let df = &out.frame;
    let keys = strs(df, dim.column())?;
    let buckets = strs(df, "bucket")?;
    let v = f64s(df, &out.value_column)?;
    let mut categories: Vec<String> = Vec::new();
    let mut series: Vec<Series> = Vec::new();
    for i in 0..df.height() {
        let b = categories
            .iter()
            .position(|c| *c == buckets[i])
            .unwrap_or_else(|| {
                categories.push(buckets[i].clone());
                categories.len() - 1
            });
        let name = if dim == Dim::Site {
            site_name(sites, &keys[i])
        } else {
            keys[i].clone()
        };
        // A site keeps its colour in every chart: its place in sites.toml.
        let slot = (dim == Dim::Site)
            .then(|| sites.sites.iter().position(|s| s.code == keys[i]))
            .flatten();
        let s = series
            .iter()
            .position(|s| s.name == name)
            .unwrap_or_else(|| {
                let new = Series::new(name, Vec::new());
                series.push(match slot {
                    Some(k) => new.with_colour(k),
                    None => new,
                });
                series.len() - 1
            });
        series[s].values.resize(b + 1, None);
        series[s].values[b] = v[i];
    }
    for s in &mut series {
        s.values.resize(categories.len(), None);
    }
    Ok((categories, series))
}

/// "2026-W40 (3 of 7 days), 2026-10 (15 of 31 days)".
fn partial_list(partial: &[PartialBucket]) -> String {
    partial
        .iter()
        .map(PartialBucket::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The chart's style with its partial buckets marked: the categories that are partial
/// buckets (or every bar, when the bars are the values of one partial bucket) and the
/// legend's note.
pub fn mark_partial(mut style: Style, out: &Output, chart: &Chart) -> Result<Style, MetricError> {
    let categories: &[String] = match chart {
        Chart::Bar { categories, .. }
        | Chart::Stacked { categories, .. }
        | Chart::Line { categories, .. } => categories,
        _ => return Ok(style),
    };
    let partial = out.partial_buckets()?;
    if partial.is_empty() {
        return Ok(style);
    }
    let one_bucket = strs(&out.frame, "bucket")?
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        == 1;
    style.partial = categories
        .iter()
        .map(|c| one_bucket || partial.iter().any(|p| p.label == *c))
        .collect();
    style.partial_note = format!("partial: {}", partial_list(&partial));
    Ok(style)
}

/// The sentence a report puts above a chart with partial buckets; empty without.
pub fn partial_sentence(out: &Output) -> Result<String, MetricError> {
    let partial = out.partial_buckets()?;
    Ok(match partial.len() {
        0 => String::new(),
        1 => format!(
            " The bucket {} is partial (drawn lighter): compare it with care.",
            partial_list(&partial)
        ),
        _ => format!(
            " The buckets {} are partial (drawn lighter): compare them with care.",
            partial_list(&partial)
        ),
    })
}

/// The heatmap metric's frame (weekday, hour, occupancy) as a 7 x 24 grid, trimmed to
/// the hours some branch is open.
pub fn heatmap(out: &Output) -> PolarsResult<Chart> {
    let df = &out.frame;
    let occ = f64s(df, &out.value_column)?;
    let hours: Vec<usize> = df
        .column("hour")?
        .cast(&DataType::Int64)?
        .i64()?
        .iter()
        .map(|h| h.unwrap_or(0).clamp(0, 23) as usize)
        .collect();
    let mut grid = vec![vec![None; 24]; 7];
    for i in 0..df.height().min(7 * 24) {
        grid[i / 24][hours[i]] = occ[i];
    }
    let open = |h: usize| (0..7).any(|d| grid[d][h].is_some());
    let lo = (0..24).find(|&h| open(h)).unwrap_or(0);
    let hi = (0..24).rev().find(|&h| open(h)).unwrap_or(23).max(lo);
    Ok(Chart::Heatmap {
        rows: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
            .map(String::from)
            .to_vec(),
        columns: (lo..=hi).map(|h| format!("{h:02}")).collect(),
        values: grid.iter().map(|r| r[lo..=hi].to_vec()).collect(),
    })
}

/// Whether a metric can be drawn so, before anything is computed: a sentence a user can
/// act on if not.
pub fn check(metric: Metric, by: &[Dim], kind: Option<Kind>) -> Result<(), String> {
    if metric == Metric::StationAdvice {
        return Err("station_advice is a table of recommendations, not numbers to draw: use tally metric station_advice".into());
    }
    if by.len() > 1 {
        return Err("a chart takes at most one `by` dimension".into());
    }
    if metric == Metric::Heatmap {
        if !by.is_empty() {
            return Err(
                "the heatmap chart is library-wide: drop --by, or filter with tally query".into(),
            );
        }
        if kind.is_some_and(|k| k != Kind::Heatmap) {
            return Err("the heatmap metric draws as --kind heatmap only".into());
        }
    } else if kind == Some(Kind::Heatmap) {
        return Err(format!(
            "--kind heatmap draws weekday x hour: use the heatmap metric, not {}",
            metric.name()
        ));
    }
    Ok(())
}

/// The chart of a metric's table. `kind` defaults to a heatmap for the heatmap, bars for
/// one bucket, else lines. Fails with a sentence a user can act on.
pub fn chart(
    metric: Metric,
    out: &Output,
    by: Option<Dim>,
    kind: Option<Kind>,
    sites: &Sites,
) -> Result<Chart, String> {
    let polars = |e: PolarsError| e.to_string();
    check(metric, by.as_slice(), kind)?;
    if metric == Metric::Heatmap {
        return heatmap(out).map_err(polars);
    }
    match by {
        None => {
            let buckets = strs(&out.frame, "bucket").map_err(polars)?;
            let series = Series::new(
                metric.name(),
                f64s(&out.frame, &out.value_column).map_err(polars)?,
            );
            Ok(
                match kind.unwrap_or(if buckets.len() == 1 {
                    Kind::Bar
                } else {
                    Kind::Line
                }) {
                    Kind::Bar | Kind::Stacked => Chart::Bar {
                        categories: buckets,
                        series,
                    },
                    _ => Chart::Line {
                        categories: buckets,
                        series: vec![series],
                    },
                },
            )
        }
        Some(dim) => {
            let (cats, series) = pivot(out, dim, sites).map_err(polars)?;
            Ok(match kind.unwrap_or(if cats.len() == 1 { Kind::Bar } else { Kind::Line }) {
                // One bucket (or none: an empty period, drawn as nothing to draw).
                Kind::Bar if cats.len() <= 1 => Chart::Bar {
                    categories: series.iter().map(|s| s.name.clone()).collect(),
                    series: Series::new(metric.name(), series.iter().map(|s| s.values.first().copied().flatten()).collect()),
                },
                Kind::Bar => return Err("--kind bar shows one bucket per dimension value; use --every all, or --kind stacked or line".into()),
                Kind::Stacked => Chart::Stacked { categories: cats, series },
                _ => Chart::Line { categories: cats, series },
            })
        }
    }
}

/// A metric's unit as its axis names it: costs in the library's currency (sites.toml
/// `currency`), shares in per cent.
pub fn axis_unit(metric: Metric, sites: &Sites) -> String {
    metric.unit().label(&sites.library.currency)
}

/// Title, subtitle (period, unit, source) and axis for a metric's chart.
pub fn style(
    metric: Metric,
    by: Option<Dim>,
    period: &str,
    sites: &Sites,
    title: Option<&str>,
) -> Style {
    let title = title.map(str::to_string).unwrap_or_else(|| {
        let by = by
            .map(|d| format!(" by {}", d.column().replace('_', " ")))
            .unwrap_or_default();
        let name = metric.name().replace('_', " ");
        let mut name = name.chars();
        let first = name
            .next()
            .map(|c| c.to_uppercase().collect::<String>())
            .unwrap_or_default();
        format!("{first}{}{by}", name.as_str())
    });
    let unit = axis_unit(metric, sites);
    let mut style = Style {
        subtitle: format!(
            "{period}, {unit}. Source: tally lake, {}",
            sites.library.name
        ),
        format: value_format(metric),
        ..Style::new(title, unit)
    };
    if metric == Metric::Heatmap {
        style.x_label = "hour of day (local time; a column is the hour that starts there)".into();
        style.y_label = String::new();
    }
    style
}

/// How a metric's table is drawn: `tally chart`'s flags, a pipeline metric's `chart`.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawing {
    /// The kind, else the metric's usual one.
    pub kind: Option<Kind>,
    pub width: u32,
    pub height: u32,
    pub title: Option<String>,
}

/// A metric's table as its chart and style, partial buckets marked: what `tally chart`
/// draws and a pipeline writes for the same request, by one path.
pub fn draw(
    req: &Request,
    out: &Output,
    drawing: &Drawing,
    sites: &Sites,
) -> Result<(Chart, Style), ReportError> {
    let by = req.by.first().copied();
    let chart = chart(req.metric, out, by, drawing.kind, sites).map_err(ReportError::Draw)?;
    let period = format!("{} to {}", req.from, req.to - chrono::Duration::days(1));
    let style = mark_partial(
        Style {
            width: drawing.width,
            height: drawing.height,
            ..style(req.metric, by, &period, sites, drawing.title.as_deref())
        },
        out,
        &chart,
    )?;
    Ok((chart, style))
}
