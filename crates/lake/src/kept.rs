//! The distinct counts a purge keeps (`_retention/distinct.parquet`): what a bucket's
//! distinct patrons or devices were before their keys were cleared.

use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;
use tally_model::calendar::{date_of_days, days_since_epoch};

use crate::error::{LakeError, io, parquet};
use crate::layout::Lake;

/// The distinct count a purge took out of one bucket's rows, kept so the bucket's figure
/// stays what it was: the figure is the distinct keys its rows still hold plus `kept`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptCount {
    /// `distinct_users` or `wifi_devices`.
    pub metric: String,
    /// The site (as stored, "(none)" for rows without one); `None` for the library as a
    /// whole (not the sum of its sites: a patron may use several).
    pub site: Option<String>,
    /// Local dates [from, to): a day, ISO week, month, quarter or fiscal year.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub kept: i64,
}

impl Lake {
    /// The counts purges kept, empty when the lake was never purged.
    pub fn kept_counts(&self) -> Result<Vec<KeptCount>, LakeError> {
        let path = self.kept_path();
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&path)(e)),
        };
        let bad = parquet(&path);
        let df = ParquetReader::new(file).finish().map_err(&bad)?;
        let metric = df
            .column("metric")
            .and_then(|c| c.str().cloned())
            .map_err(&bad)?;
        let site = df
            .column("site")
            .and_then(|c| c.str().cloned())
            .map_err(&bad)?;
        let days = |name: &str| {
            df.column(name)
                .and_then(|c| c.cast(&DataType::Int32))
                .and_then(|c| c.i32().cloned())
        };
        let from = days("from").map_err(&bad)?;
        let to = days("to").map_err(&bad)?;
        let kept = df
            .column("kept")
            .and_then(|c| c.i64().cloned())
            .map_err(&bad)?;
        let mut out = Vec::with_capacity(df.height());
        for i in 0..df.height() {
            let (Some(m), Some(f), Some(t), Some(k)) =
                (metric.get(i), from.get(i), to.get(i), kept.get(i))
            else {
                return Err(LakeError::Malformed {
                    path: path.clone(),
                    message: format!("row {i} has an empty value"),
                });
            };
            out.push(KeptCount {
                metric: m.to_string(),
                site: site.get(i).map(str::to_string),
                from: date_of_days(f),
                to: date_of_days(t),
                kept: k,
            });
        }
        Ok(out)
    }
}

/// Writes kept counts as the Parquet file [`Lake::kept_counts`] reads (to `path`: a purge
/// stages it before it moves into place), and fsyncs it.
pub fn write_kept_counts(path: &Path, counts: &[KeptCount]) -> Result<(), LakeError> {
    let bad = parquet(path);
    let days = |f: fn(&KeptCount) -> NaiveDate| -> Column {
        Int32Chunked::from_vec(
            "d".into(),
            counts.iter().map(|k| days_since_epoch(f(k))).collect(),
        )
        .into_date()
        .into_column()
    };
    let mut df = DataFrame::new(
        counts.len(),
        vec![
            Column::new(
                "metric".into(),
                counts.iter().map(|k| k.metric.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "site".into(),
                counts.iter().map(|k| k.site.as_deref()).collect::<Vec<_>>(),
            ),
            days(|k| k.from).with_name("from".into()),
            days(|k| k.to).with_name("to".into()),
            Column::new(
                "kept".into(),
                counts.iter().map(|k| k.kept).collect::<Vec<_>>(),
            ),
        ],
    )
    .map_err(&bad)?;
    crate::read::write_parquet(path, &mut df)
}
