//! What an adapter produces: canonical rows, and the count of every input row's fate.

use std::collections::BTreeMap;

use polars::prelude::*;
use tally_model::tables::sessions as s;

/// Canonical `sessions` rows, column by column.
#[derive(Default)]
pub struct SessionRows {
    pub site: Vec<String>,
    pub station: Vec<Option<String>>,
    pub start_us: Vec<i64>,
    pub end_us: Vec<i64>,
    pub user_type: Vec<&'static str>,
    pub patron_key: Vec<Option<String>>,
}

impl SessionRows {
    pub fn len(&self) -> usize {
        self.start_us.len()
    }

    /// The frame to store, sorted by start, site and station so a batch's bytes depend on
    /// its rows only.
    pub fn into_frame(self, source: &str, batch: &str) -> PolarsResult<DataFrame> {
        let n = self.len();
        let duration: Vec<i64> = self.start_us.iter().zip(&self.end_us).map(|(a, b)| (b - a) / 1_000_000).collect();
        let utc = Some(TimeZone::UTC);
        let df = DataFrame::new(
            n,
            vec![
                Column::new(s::SITE.into(), self.site),
                Column::new(s::STATION.into(), self.station),
                Int64Chunked::from_vec(s::START.into(), self.start_us)
                    .into_datetime(TimeUnit::Microseconds, utc.clone())
                    .into_column(),
                Int64Chunked::from_vec(s::END.into(), self.end_us).into_datetime(TimeUnit::Microseconds, utc).into_column(),
                Column::new(s::DURATION_S.into(), duration),
                Column::new(s::USER_TYPE.into(), self.user_type),
                Column::new(s::PATRON_KEY.into(), self.patron_key),
                Column::new(s::SOURCE.into(), vec![source; n]),
                Column::new(s::BATCH.into(), vec![batch; n]),
            ],
        )?;
        df.sort([s::START, s::SITE, s::STATION], SortMultipleOptions::default().with_maintain_order(true))
    }
}

/// One quarantined input row.
#[derive(Debug, Clone)]
pub struct Quarantined {
    pub line: u64,
    pub column: String,
    pub reason: String,
    pub raw_masked: String,
}

/// The fate of every input row of one file.
#[derive(Default)]
pub struct Tally {
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub excluded: BTreeMap<String, u64>,
    pub quarantined: BTreeMap<String, u64>,
    pub quarantine: Vec<Quarantined>,
    pub unknown_sites: std::collections::BTreeSet<String>,
}

impl Tally {
    pub fn exclude(&mut self, rule: &str) {
        *self.excluded.entry(rule.to_string()).or_default() += 1;
    }

    pub fn quarantine(&mut self, line: u64, column: &str, reason: String, raw_masked: String) {
        // Reasons are counted by their kind (the text before the first colon), so the
        // summary groups them; the quarantine file keeps the whole text.
        let kind = reason.split(':').next().unwrap_or(&reason).to_string();
        *self.quarantined.entry(kind).or_default() += 1;
        self.quarantine.push(Quarantined { line, column: column.into(), reason, raw_masked });
    }

    pub fn rows_quarantined(&self) -> u64 {
        self.quarantine.len() as u64
    }

    pub fn rows_excluded(&self) -> u64 {
        self.excluded.values().sum()
    }
}

/// The raw record with the identifier columns replaced by `***`.
pub fn mask_record(record: &csv::ByteRecord, delimiter: u8, private: &[Option<usize>]) -> String {
    let mut out = String::new();
    for (i, f) in record.iter().enumerate() {
        if i > 0 {
            out.push(delimiter as char);
        }
        if private.contains(&Some(i)) && !f.is_empty() {
            out.push_str("***");
        } else {
            out.push_str(&String::from_utf8_lossy(f));
        }
    }
    out
}
