//! The report kit: what every standing report is made with. The period a report covers
//! and the way it asks tally-metrics about it ([`Period`]), a chart's style, wide tables
//! of series, reading a frame's columns, and the partial-bucket marks of a section. The
//! reports (usage.rs, budget.rs, annual.rs) are compositions of these and of `tally
//! metric` results; none of them computes a number.

use chrono::NaiveDate;
use polars::prelude::*;
use tally_charts::{Series, Style, ValueFormat};
use tally_lake::Snapshot;
use tally_metrics::{Dim, Metric, Output, Request, compute};
use tally_model::{BucketKind, Sites};

use crate::doc::{Report, ReportError};
use crate::frame::{Cell, Show, Table, cell, show_column, table_from_frame};
pub(crate) use crate::frame::{f64s, strs};
use crate::plot::site_name;

/// The bucket a period of this many days reads best in.
pub fn natural_bucket(days: i64) -> BucketKind {
    match days {
        ..=31 => BucketKind::Day,
        32..=120 => BucketKind::Week,
        _ => BucketKind::Month,
    }
}

pub(crate) fn style(title: &str, subtitle: &str, y: &str, format: ValueFormat) -> Style {
    Style {
        subtitle: subtitle.into(),
        format,
        ..Style::new(title, y)
    }
}

/// A wide table: buckets down, one column per series.
pub(crate) fn wide_table(
    caption: &str,
    categories: &[String],
    series: &[Series],
    show: Show,
) -> Table {
    let mut header = vec!["bucket".to_string()];
    header.extend(series.iter().map(|s| s.name.clone()));
    let rows = categories
        .iter()
        .enumerate()
        .map(|(i, c)| {
            std::iter::once(Cell::Text(c.clone()))
                .chain(series.iter().map(|s| cell(s.values[i], show)))
                .collect()
        })
        .collect();
    Table {
        caption: caption.into(),
        header,
        rows,
    }
}

/// The period the report covers, and the way to ask tally-metrics about it.
pub(crate) struct Period<'a> {
    pub lake: &'a Snapshot,
    pub sites: &'a Sites,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period<'_> {
    pub fn label(&self) -> String {
        format!(
            "{} to {} ({} days)",
            self.from,
            self.to - chrono::Duration::days(1),
            (self.to - self.from).num_days()
        )
    }

    pub fn source(&self) -> String {
        format!("Source: tally lake, {}", self.sites.library.name)
    }

    pub fn request(&self, metric: Metric, every: BucketKind, by: Vec<Dim>) -> Request {
        Request {
            metric,
            from: self.from,
            to: self.to,
            every,
            by,
            budget: None,
        }
    }

    pub fn run(
        &self,
        metric: Metric,
        every: BucketKind,
        by: Vec<Dim>,
    ) -> Result<Output, ReportError> {
        Ok(compute(
            self.lake,
            self.sites,
            &self.request(metric, every, by),
        )?)
    }

    /// The metric over the whole period for the library as a whole: its one cell (the
    /// figure a report's sentence or fact states).
    pub fn library(&self, metric: Metric) -> Result<Option<f64>, ReportError> {
        let out = self.run(metric, BucketKind::All, vec![])?;
        Ok(f64s(&out.frame, &out.value_column)?
            .first()
            .copied()
            .flatten())
    }

    /// One row per branch and a last row for the library, one column per metric, over
    /// the whole period; returns the frame (CSV) and the table (the library row added).
    pub fn branch_table(
        &self,
        metrics: &[Metric],
        caption: &str,
        report: &mut Report,
    ) -> Result<(DataFrame, Table), ReportError> {
        let mut by_site: Option<DataFrame> = None;
        let mut library_row = vec![
            Cell::Text("(library)".into()),
            Cell::Text("All branches".into()),
        ];
        for &m in metrics {
            let per_site = self.run(m, BucketKind::All, vec![Dim::Site])?;
            report.warn(&per_site.warnings);
            let all = self.run(m, BucketKind::All, vec![])?;
            library_row.push(cell(
                f64s(&all.frame, m.name())?.first().copied().flatten(),
                Show::of(m.unit()),
            ));
            let part = per_site.frame.select(["site", m.name()])?;
            by_site = Some(match by_site {
                None => part,
                Some(df) => df.join(
                    &part,
                    ["site"],
                    ["site"],
                    JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
                    None,
                )?,
            });
        }
        let mut df = by_site
            .unwrap_or_default()
            .sort(["site"], SortMultipleOptions::default())?;
        let names: Vec<String> = strs(&df, "site")?
            .iter()
            .map(|c| site_name(self.sites, c))
            .collect();
        df.insert_column(1, Column::new("name".into(), names))?;
        let mut table = table_from_frame(&df, caption, &show_column)?;
        table.rows.push(library_row);
        Ok((df, table))
    }
}

/// Marks the partial buckets of the last section's charts (lighter bars, dashed lines, a
/// legend entry) and says so in its lead (docs/metrics.md, "Partial buckets").
pub(crate) fn mark_last_section(report: &mut Report, out: &Output) -> Result<(), ReportError> {
    let Some(section) = report.sections.last_mut() else {
        return Ok(());
    };
    for f in &mut section.figures {
        f.style = crate::plot::mark_partial(f.style.clone(), out, &f.chart)?;
    }
    let sentence = crate::plot::partial_sentence(out)?;
    if !sentence.is_empty() {
        section.lead = format!("{}{sentence}", section.lead).trim().to_string();
    }
    Ok(())
}

pub(crate) fn thousands(v: f64) -> String {
    Cell::Int(v.round() as i64).display()
}
