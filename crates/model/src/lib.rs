//! tally-model: the contract every other tally crate shares.
//!
//! What is here: the canonical table schemas ([`tables`]), the library's calendar and
//! settings read from `sites.toml` ([`Sites`]), bucket kinds and the fiscal year, and
//! pure calendar arithmetic ([`calendar`]: an instant to its local day, a local time to
//! its instant) so that each such rule has one home.
//!
//! What is not here: reading vendor files, the lake (tally-lake), or computing metrics.
//! The only I/O is reading `sites.toml`.
//!
//! ```ignore
//! // Run as written by tests/examples.rs.
//! let sites = tally_model::Sites::load("data/sites.toml".as_ref())?;
//! let central = sites.site("CEN").unwrap();
//! assert_eq!(central.stations, 48);
//! ```

mod bucket;
pub mod calendar;
mod sites;
pub mod tables;

pub use bucket::{BucketKind, fiscal_year_days, fiscal_year_of};
pub use sites::{
    DayHours, Library, Retention, Site, Sites, SitesError, Support, Thresholds, WeekHours,
};
pub use tables::{MAX_SESSION_US, Table, UserType};
