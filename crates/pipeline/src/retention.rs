//! Retention: `tally purge`, and `tally run` purging on its own when sites.toml has a
//! `[retention]` section (docs/privacy.md).

use std::time::Duration;

use chrono::NaiveDate;
use tally_lake::{Lake, PurgeReport, PurgeRequest};
use tally_model::Sites;

use crate::RunError;

/// What to purge, as a user says it.
#[derive(Debug, Clone)]
pub struct Retain {
    /// Clear patron, item and device keys from rows before this date.
    pub before: Option<NaiveDate>,
    /// Delete quarantine files older than this many days.
    pub quarantine_days: Option<u32>,
    pub today: NaiveDate,
    pub dry_run: bool,
    pub wait: Duration,
}

impl Retain {
    /// What sites.toml's `[retention]` asks for on `today` (perhaps nothing).
    pub fn from_sites(sites: &Sites, today: NaiveDate, wait: Duration) -> Retain {
        let r = &sites.retention;
        Retain {
            before: r.purge_before(today),
            quarantine_days: r.quarantine_days,
            today,
            dry_run: false,
            wait,
        }
    }

    /// Whether there is anything to purge.
    pub fn is_empty(&self) -> bool {
        self.before.is_none() && self.quarantine_days.is_none()
    }
}

/// Purges the lake: keeps the distinct counts of the buckets it touches (computed under
/// the lake's lock), clears the keys, deletes old quarantine files.
pub fn purge(lake: &Lake, sites: &Sites, retain: &Retain) -> Result<PurgeReport, RunError> {
    if let Some(before) = retain.before
        && before > retain.today
    {
        return Err(RunError::Config(format!(
            "--before {before} is after today ({}): rows ingested later for the days in between \
             would be stored without keys; purge only what has happened",
            retain.today
        )));
    }
    let request = PurgeRequest {
        rows_before: retain.before.map(|b| tally_metrics::purge_point(sites, b)),
        quarantine_before: retain
            .quarantine_days
            .map(|d| retain.today - chrono::Days::new(u64::from(d))),
        dry_run: retain.dry_run,
        wait: retain.wait,
    };
    let before = retain.before;
    Ok(tally_lake::purge(lake, &request, || match before {
        Some(b) => tally_metrics::kept_counts(&lake.snapshot()?, sites, b),
        None => Ok(Vec::new()),
    })?)
}
