//! tally-ingest: vendor export files in, canonical rows in the lake out.
//!
//! Each input file goes through: format detection ([`Format`]), the shared reader core
//! (encoding, delimiter, header matching, line numbers), one adapter that maps records to
//! canonical rows or to a quarantine reason or an exclusion rule, pseudonymisation of
//! patron identifiers ([`Pseudonymiser`]), and one atomic batch in the lake
//! ([`LakeWriter`]). For every file rows_read = accepted + quarantined + excluded.
//!
//! What it is not: metrics. Nothing here reads the lake's rows back.
//!
//! ```ignore
//! let key = Pseudonymiser::from_env_or_file(None)?;
//! let report = ingest_files(&lake, &options, &["strad_bci_2026-10.csv".into()])?;
//! ```

mod adapters;
mod decode;
mod error;
mod format;
mod pseudo;
mod reader;
mod rows;
mod time;
mod writer;

pub use error::IngestError;
pub use adapters::generic::Mapping;
pub use format::{Format, FormatInfo};
pub use pseudo::{KEY_ENV, Pseudonymiser};
pub use writer::{FileOutcome, IngestOptions, LakeWriter, Status, TimestampMeans, ingest_files};
