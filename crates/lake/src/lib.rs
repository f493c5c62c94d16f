//! tally-lake: the lake, its one home. The layout (`LAKE/<table>/year=YYYY/month=MM/
//! <batch>.parquet`, the ledger, quarantine, `_lake.json`), the commit protocol of a
//! batch and the lock of the one writer ([`LakeWriter`]), changes that rewrite committed
//! files (`tally lake upgrade`, `tally purge`) and `tally lake check`, how stored rows are
//! keyed and told apart ([`keys`]), and every read of the lake's files, from a
//! [`Snapshot`] of its ledger.
//!
//! What it is not: reading vendor exports (tally-ingest) or computing figures
//! (tally-metrics). Both go through this crate: ingest writes a batch through
//! [`LakeWriter`]; metrics, `tally doctor` and ingest's identity checks read through a
//! [`Snapshot`]. docs/lake.md says the layout and the rules for users.
//!
//! ```ignore
//! // Run as written by tests/examples.rs.
//! let snapshot = lake.snapshot()?;
//! let sessions = snapshot.scan(tally_model::Table::Sessions, None)?.collect()?;
//! assert_eq!(sessions.height() as u64, snapshot.entries().iter().map(|e| e.rows_stored).sum::<u64>());
//! ```

mod change;
mod check;
mod error;
mod fsio;
mod kept;
pub mod keys;
mod layout;
mod ledger;
mod purge;
mod read;
mod upgrade;
mod writer;

pub use check::{CheckReport, Finding, check};
pub use error::LakeError;
pub use kept::{KeptCount, write_kept_counts};
pub use keys::{
    Cell, KeyHasher, KeyMap, KeySet, Layout, Pseudonym, is_pseudonym, nth, record_hash, row_key,
    without_keys,
};
pub use layout::{
    LAKE_FORMAT, Lake, LakeFormatError, LakeMeta, PENDING_CHANGES, Purged, QUARANTINE_COLUMNS,
    month_of_us, month_start_us, partition_month, table_of,
};
pub use ledger::{FileSummary, Intake, IntakeRow, LedgerEntry, ReasonCount, Snapshot, Version};
pub use purge::{PurgeReport, PurgeRequest, purge};
pub use read::{COMPRESSION, write_parquet};
pub use upgrade::{UpgradeReport, upgrade};
pub use writer::{LakeWriter, StagedFile};
