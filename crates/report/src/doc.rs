//! A report as data: sections of figures, tables and "how these are counted", and the
//! frames behind them. Renderers ([`crate::html`], [`crate::md`], [`crate::xlsx`]) lay it
//! out; [`write`] puts the chosen formats in a folder.
//!
//! Nothing here depends on the clock: the same report writes the same bytes, so a
//! scheduled job that re-runs a period rewrites identical files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::NaiveDate;
use polars::prelude::*;
use tally_charts::{Chart, Style};

use crate::frame::Table;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Metric(#[from] tally_metrics::MetricError),
    #[error(transparent)]
    Polars(#[from] PolarsError),
    #[error(transparent)]
    Chart(#[from] tally_charts::ChartError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: writing the workbook: {message}")]
    Xlsx { path: PathBuf, message: String },
    /// A table that cannot be drawn as asked (the kind for its dimensions): the caller's
    /// to change.
    #[error("{0}")]
    Draw(String),
}

impl ReportError {
    /// Whether the error is the caller's to fix (a chart kind the table cannot be drawn
    /// as, a metric asked for in a way it cannot be answered): exit code 2.
    pub fn is_configuration(&self) -> bool {
        match self {
            ReportError::Draw(_) => true,
            ReportError::Metric(e) => e.is_configuration(),
            _ => false,
        }
    }
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A chart of a section; `name` is its file name (without extension) beside the report.
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: String,
    pub chart: Chart,
    pub style: Style,
}

#[derive(Debug, Clone, Default)]
pub struct Section {
    pub id: String,
    pub title: String,
    /// One or two sentences that say what the section finds (numbers from its tables).
    pub lead: String,
    /// "How these are counted": the definitions behind the numbers.
    pub how_counted: Vec<String>,
    pub figures: Vec<Figure>,
    pub tables: Vec<Table>,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub title: String,
    pub subtitle: String,
    /// Facts a reader needs first (period, data sources).
    pub facts: Vec<(String, String)>,
    pub warnings: Vec<String>,
    pub sections: Vec<Section>,
    pub footer: String,
    /// The frames behind the tables, at full precision: (file name, frame), written as CSV.
    pub data: Vec<(String, DataFrame)>,
    /// The day the report is "as of" (the period's last day): the workbook's date, so a
    /// re-run writes the same bytes.
    pub as_of: Option<NaiveDate>,
}

impl Report {
    /// Every warning once, in the order first met.
    pub fn warn(&mut self, warnings: &[String]) {
        for w in warnings {
            if !self.warnings.contains(w) {
                self.warnings.push(w.clone());
            }
        }
    }
}

/// The files a report can be written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// One self-contained HTML file.
    Html,
    /// Markdown with the charts as PNG files beside it (for wikis and e-mail).
    Markdown,
    /// A workbook, one sheet per table, numbers as numbers.
    Xlsx,
    /// The data frames, one CSV file each.
    Csv,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Html, Format::Markdown, Format::Xlsx, Format::Csv];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
        }
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        let s = if s == "markdown" { "md".to_string() } else { s };
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown report format \"{s}\"; known: {}",
                    Format::ALL.map(|f| f.as_str()).join(", ")
                )
            })
    }
}

/// Writes the report under `dir` as `stem.html`, `stem.md`, `stem.xlsx` and
/// `tables/*.csv` as `formats` ask; charts go to `charts/*.png` whenever HTML or Markdown
/// is written (for slides). Returns every file written, in a fixed order.
pub fn write(
    report: &Report,
    dir: &Path,
    stem: &str,
    formats: &[Format],
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let mut written = Vec::new();
    let mut pngs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    if formats
        .iter()
        .any(|f| matches!(f, Format::Html | Format::Markdown))
    {
        let chart_dir = dir.join("charts");
        std::fs::create_dir_all(&chart_dir).map_err(io_error(&chart_dir))?;
        for f in report.sections.iter().flat_map(|s| &s.figures) {
            // A period without data has nothing to draw: the page says so instead.
            let png = match tally_charts::render_png_bytes(&f.chart, &f.style) {
                Err(tally_charts::ChartError::Empty(_)) => continue,
                other => other?,
            };
            let path = chart_dir.join(format!("{}.png", f.name));
            write_if_changed(&path, &png)?;
            written.push(path);
            pngs.insert(f.name.clone(), png);
        }
    }
    let mut formats = formats.to_vec();
    formats.sort();
    formats.dedup();
    for format in formats {
        match format {
            Format::Html => {
                let path = dir.join(format!("{stem}.html"));
                write_if_changed(&path, crate::html::render(report, &pngs).as_bytes())?;
                written.push(path);
            }
            Format::Markdown => {
                let path = dir.join(format!("{stem}.md"));
                write_if_changed(&path, crate::md::render(report, "charts", &pngs).as_bytes())?;
                written.push(path);
            }
            Format::Xlsx => {
                let path = dir.join(format!("{stem}.xlsx"));
                let bytes = crate::xlsx::workbook(report).map_err(|e| ReportError::Xlsx {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                write_if_changed(&path, &bytes)?;
                written.push(path);
            }
            Format::Csv => {
                let table_dir = dir.join("tables");
                std::fs::create_dir_all(&table_dir).map_err(io_error(&table_dir))?;
                for (name, df) in &report.data {
                    let path = table_dir.join(format!("{name}.csv"));
                    let mut bytes = Vec::new();
                    CsvWriter::new(&mut bytes).finish(&mut df.clone())?;
                    write_if_changed(&path, &bytes)?;
                    written.push(path);
                }
            }
        }
    }
    Ok(written)
}

/// Writes through a temporary name and a rename, so a reader (or a web server serving the
/// reports folder) never sees half a file.
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, bytes).map_err(io_error(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_error(path))
}
