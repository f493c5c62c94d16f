//! tally-model: the contract every other tally crate shares.
//!
//! What is here: the canonical table schemas ([`tables`]), the library's calendar and
//! settings read from `sites.toml` ([`Sites`]), and the lake's layout with its ledger
//! format ([`Lake`], [`LedgerEntry`]). The layout is written down once, here, so that the
//! writer (tally-ingest) and the readers (tally-metrics, `tally query`) agree by
//! construction.
//!
//! What is not here: reading vendor files, computing metrics, or writing to the lake.
//! The only I/O is reading `sites.toml` and the ledger's JSON entries.
//!
//! ```ignore
//! // Run as written by tests/examples.rs.
//! let sites = tally_model::Sites::load("data/sites.toml".as_ref())?;
//! let central = sites.site("CEN").unwrap();
//! assert_eq!(central.stations, 48);
//! ```

mod bucket;
mod lake;
mod sites;
pub mod tables;

pub use bucket::{BucketKind, fiscal_year_days, fiscal_year_of};
pub use lake::{
    FileSummary, KeptCount, LAKE_FORMAT, Lake, LakeFormatError, LakeMeta, LedgerEntry,
    PENDING_CHANGES, Purged, QUARANTINE_COLUMNS, ReasonCount, month_of_us, month_start_us,
    partition_month,
};
pub use sites::{
    DayHours, Library, Retention, Site, Sites, SitesError, Support, Thresholds, WeekHours,
};
pub use tables::{MAX_SESSION_US, Table, UserType};
