//! tally-synth: deterministic synthetic exports for the demo library, in the vendors' own
//! layouts, so every path from inbox to report can be exercised without patron data.
//!
//! What it writes (under `--out`): `sites.toml` (the demo library, station counts scaled
//! with `--scale`), EnvisionWare `strad_bci` rows for five branches and Libki
//! `statistics` rows for the other four and the bookmobile, one file a month. Demand follows the hour of
//! day, the weekday and the season; closed days, session limits, guest passes, staff
//! overrides, sessions run past closing, walk-aways when every station is busy, and a
//! few malformed rows on purpose (each listed in [`SynthSummary::planted`]).
//! Besides sessions: monthly Symphony history logs for the branches, the bookmobile's
//! Koha statistics, osTicket exports, each branch network's Meraki clients (JSON), the
//! Snipe-IT inventory, past years' totals and, copied as is, the IMLS survey's FY2018
//! Wisconsin file (real public data from data/imls, with its PROVENANCE.txt). PaperCut
//! Print Logger's monthly logs of each branch's public printers.
//!
//! What it is not: a model of any real library's numbers.
//!
//! ```ignore
//! // Run as written by tests/examples.rs.
//! let summary = tally_synth::generate(&SynthConfig { out: inbox.clone(), days: 14, ..Default::default() })?;
//! assert!(summary.sessions > 0);
//! ```

mod demand;
mod other;
mod prints;
mod writers;

use std::path::PathBuf;

use chrono::NaiveDate;

pub use demand::{SessionPlan, plan_day};
pub use writers::Vendor;

/// The demo library's sites.toml, as shipped in data/.
pub const DEMO_SITES_TOML: &str = include_str!("../../../data/sites.toml");

/// The first day synth writes by default: 25 months up to 2026-11-01, with four DST
/// changes in America/Chicago (2025-03-09, 2025-11-02, 2026-03-08, 2026-11-01).
pub fn default_start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 10, 1).expect("valid date")
}

/// Days from 2024-10-01 to 2026-11-01.
pub const DEFAULT_DAYS: u32 = 761;

#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub out: PathBuf,
    pub start: NaiveDate,
    pub days: u32,
    pub seed: u64,
    /// Multiplies arrivals and station counts alike (occupancy stays realistic).
    pub scale: f64,
    /// Plant malformed rows (on by default; property tests turn it off and on).
    pub malformed: bool,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            out: PathBuf::from("inbox"),
            start: default_start(),
            days: DEFAULT_DAYS,
            seed: 42,
            scale: 1.0,
            malformed: true,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SynthSummary {
    /// Sessions written (malformed rows not included).
    pub sessions: u64,
    /// Input rows written per vendor (Libki writes two or more rows a session).
    pub rows: Vec<(Vendor, u64)>,
    /// Files written, relative to `out`.
    pub files: Vec<PathBuf>,
    /// The malformed rows planted on purpose: (file, description).
    pub planted: Vec<(PathBuf, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the demo sites.toml does not parse: {0}")]
    Sites(#[from] tally_model::SitesError),
    #[error("--scale must be a positive number, got {0}")]
    Scale(f64),
}

pub use writers::generate;
