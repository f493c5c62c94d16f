//! tally-ingest: vendor export files in, canonical rows in the lake out.
//!
//! Each input file streams through: format detection ([`Format`]), the shared reader core
//! (encoding, delimiter, header matching, line numbers; read in bounded batches on a
//! thread of its own), one adapter that maps records to canonical rows or to a
//! quarantine reason or an exclusion rule, pseudonymisation of patron identifiers
//! ([`Pseudonymiser`]), the identity rules that tell records apart and recognise rows the
//! lake already has, the part writer (Parquet per month partition, a row group at a time)
//! and one atomic batch in the lake (committed by tally-lake's `LakeWriter`). Memory is
//! bounded by [`Budget`], not by the file. For every file rows_read = accepted +
//! quarantined + excluded.
//!
//! What it is not: the lake (tally-lake owns its layout, commits, upkeep and reads) or
//! metrics. The only rows read back are the row keys of the months a file touches.
//!
//! ```ignore
//! // Run as written by tests/examples.rs.
//! let key = Pseudonymiser::from_file_or_env(Some(key_file.as_ref()))?;
//! let outcomes = ingest_files(&lake, &sites, Some(&key), &IngestOptions::default(), &files)?;
//! assert!(outcomes.iter().all(|o| o.summary.is_balanced()));
//! ```

mod adapters;
mod decode;
mod doctor;
mod engine;
mod error;
mod format;
mod identity;
mod options;
mod pseudo;
mod reader;
mod reason;
mod rows;
mod sink;
mod source;
mod time;

pub use adapters::generic::Mapping;
pub use doctor::{Diagnosis, diagnose};
pub use engine::{FileOutcome, Status, ingest_files};
pub use error::IngestError;
pub use format::{Format, FormatInfo, FormatSpec, Setting, SitePolicy, format_with_mapping};
pub use options::{Budget, DEFAULT_MEMORY_BUDGET, IngestOptions, given_settings};
pub use pseudo::{KEY_ENV, Pseudonym, Pseudonymiser};
pub use reason::{Code, Fate};
