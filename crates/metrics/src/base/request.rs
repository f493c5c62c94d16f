//! What a metric request is and what it returns, shared by every engine of the crate
//! (compute.rs dispatches; events.rs, intervals.rs, fleet.rs, trends.rs answer).

use chrono::NaiveDate;
use polars::prelude::*;
use tally_model::BucketKind;

use crate::base::frame::strings;
use crate::catalogue::{Dim, Metric};

#[derive(Debug, thiserror::Error)]
pub enum MetricError {
    #[error(transparent)]
    Polars(#[from] PolarsError),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Lake(#[from] tally_lake::LakeError),
}

impl MetricError {
    /// Whether the error is the caller's to fix (a metric asked for in a way it cannot
    /// be answered, a lake purged under another calendar): exit code 2.
    pub fn is_configuration(&self) -> bool {
        match self {
            MetricError::Invalid(_) => true,
            MetricError::Lake(e) => e.is_configuration(),
            MetricError::Polars(_) => false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub metric: Metric,
    /// First local day, inclusive.
    pub from: NaiveDate,
    /// Last local day, exclusive.
    pub to: NaiveDate,
    pub every: BucketKind,
    pub by: Vec<Dim>,
    /// replacement_plan's budget a fiscal year (`None`: the level cap).
    pub budget: Option<f64>,
}

impl Request {
    /// The same request a year earlier, for year-over-year columns.
    pub fn year_before(&self) -> Result<Request, MetricError> {
        use chrono::Datelike;
        if !matches!(
            self.every,
            BucketKind::Month | BucketKind::Quarter | BucketKind::FiscalYear | BucketKind::All
        ) {
            return Err(MetricError::Invalid(format!(
                "year over year compares months, quarters, fiscal years or the whole period, not {}s (their count differs from year to year)",
                self.every.as_str()
            )));
        }
        let back = |d: NaiveDate| {
            d.with_year(d.year() - 1)
                .unwrap_or_else(|| d - chrono::Duration::days(365))
        };
        Ok(Request {
            from: back(self.from),
            to: back(self.to),
            ..self.clone()
        })
    }

    /// Whether the request can be answered: a period of at least a day, dimensions the
    /// metric has.
    pub fn check(&self) -> Result<(), MetricError> {
        if self.from >= self.to {
            return Err(MetricError::Invalid(format!(
                "--from {} must be before --to {} (--to is exclusive)",
                self.from, self.to
            )));
        }
        if let Some(d) = self.by.iter().find(|d| !self.metric.dims().contains(d)) {
            return Err(MetricError::Invalid(format!(
                "{} cannot be broken down by {}; it can by {}",
                self.metric.name(),
                d.column(),
                self.metric
                    .dims()
                    .iter()
                    .map(|d| d.column())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(())
    }
}

/// A metric's table: one column per `by` dimension, `bucket`, and the value column
/// (named after the metric; for the heatmap `weekday`, `hour` and `occupancy`).
#[derive(Debug, Clone)]
pub struct Output {
    pub frame: DataFrame,
    pub value_column: String,
    /// Things a reader should know (sites sites.toml does not know, suppressed cells).
    pub warnings: Vec<String>,
}

/// A partial bucket of a metric's table (docs/metrics.md, "Partial buckets"): its label,
/// the days its figure covers and the days of the whole calendar bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialBucket {
    pub label: String,
    pub covered: i64,
    pub days: i64,
}

impl std::fmt::Display for PartialBucket {
    /// `2026-W40 (3 of 7 days)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} of {} days)", self.label, self.covered, self.days)
    }
}

impl Output {
    /// The partial buckets of the table, each once, in the table's order.
    pub fn partial_buckets(&self) -> Result<Vec<PartialBucket>, MetricError> {
        let df = &self.frame;
        let Ok(flags) = df.column("partial") else {
            return Ok(Vec::new());
        };
        let flags = flags.bool()?;
        let labels = strings(df, "bucket")?;
        let covered = df.column("days_covered")?.cast(&DataType::Int64)?;
        let days = df.column("bucket_days")?.cast(&DataType::Int64)?;
        let (covered, days) = (covered.i64()?, days.i64()?);
        let mut found: Vec<PartialBucket> = Vec::new();
        for (i, label) in labels.iter().enumerate() {
            if flags.get(i) == Some(true)
                && let Some(label) = label
                && !found.iter().any(|p| p.label == *label)
            {
                found.push(PartialBucket {
                    label: label.clone(),
                    covered: covered.get(i).unwrap_or(0),
                    days: days.get(i).unwrap_or(0),
                });
            }
        }
        Ok(found)
    }

    /// Without the partial buckets, and a warning that names them.
    pub fn complete_only(mut self) -> Result<Output, MetricError> {
        let dropped = self.partial_buckets()?;
        if dropped.is_empty() {
            return Ok(self);
        }
        let keep = !self
            .frame
            .column("partial")?
            .bool()?
            .fill_null_with_values(false)?;
        self.frame = self.frame.filter(&keep)?;
        self.warnings.push(format!(
            "left out, as partial (--complete-only): {}",
            dropped
                .iter()
                .map(|p| p.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Ok(self)
    }

    /// The `n` largest values of each bucket, largest first (top collections, the assets
    /// with the most tickets); buckets keep their order, empty values come last. Ties
    /// keep the frame's order, so the result is the same on every run.
    pub fn top(mut self, n: usize) -> Result<Output, MetricError> {
        let df = &self.frame;
        let buckets = strings(df, "bucket")?;
        let values: Vec<Option<f64>> = df
            .column(&self.value_column)?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .collect();
        let mut order: Vec<Option<String>> = Vec::new();
        let mut rows: std::collections::HashMap<Option<String>, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, b) in buckets.into_iter().enumerate() {
            if !rows.contains_key(&b) {
                order.push(b.clone());
            }
            rows.entry(b).or_default().push(i);
        }
        let mut keep: Vec<IdxSize> = Vec::new();
        for b in order {
            let mut idx = rows.remove(&b).unwrap_or_default();
            idx.sort_by(|&x, &y| match (values[x], values[y]) {
                (Some(a), Some(b)) => b.total_cmp(&a),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            });
            keep.extend(idx.into_iter().take(n).map(|i| i as IdxSize));
        }
        self.frame = df.take(&IdxCa::from_vec("idx".into(), keep))?;
        Ok(self)
    }
}

/// How a metric's table is shaped once computed: what `tally metric`, `tally chart` and a
/// pipeline's metric ask beyond the request. One shape, one path (`compute::ask`), so the
/// command line and pipelines answer a question the same way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    /// The same buckets a year before, and the change in per cent (`--yoy`).
    pub yoy: bool,
    /// Each bucket's `n` largest values (`--top N`).
    pub top: Option<usize>,
    /// Leave out the partial buckets (`--complete-only`).
    pub complete_only: bool,
}
