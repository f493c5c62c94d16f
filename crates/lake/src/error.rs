use std::path::{Path, PathBuf};

use crate::layout::LakeFormatError;

/// The error of an I/O operation on `path`, for `map_err`.
pub fn io(path: &Path) -> impl Fn(std::io::Error) -> LakeError + '_ {
    move |source| LakeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The error of reading or writing a Parquet file at `path`, for `map_err`.
pub fn parquet(path: &Path) -> impl Fn(polars::error::PolarsError) -> LakeError + '_ {
    move |source| LakeError::Parquet {
        path: path.to_path_buf(),
        source,
    }
}

/// Why the lake could not be read or changed. A change that fails leaves the lake as it
/// was (or finishable by the next writer, past its commit point).
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("{0}")]
    Format(#[from] LakeFormatError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: Parquet: {source}")]
    Parquet {
        path: PathBuf,
        source: polars::error::PolarsError,
    },
    #[error("{path}: {message}")]
    Malformed { path: PathBuf, message: String },
    #[error(
        "another tally is writing to {lake} (lock {lock} is held); retry later or pass --wait SECONDS"
    )]
    Locked { lake: PathBuf, lock: PathBuf },
    #[error(
        "{path}: rows do not add up: read {read} != accepted {accepted} + quarantined {quarantined} + excluded {excluded} (a bug in tally; nothing was committed)"
    )]
    Unbalanced {
        path: PathBuf,
        read: u64,
        accepted: u64,
        quarantined: u64,
        excluded: u64,
    },
    #[error("{lake}: cannot purge: {message}; nothing was changed")]
    Purge { lake: PathBuf, message: String },
}

impl LakeError {
    /// Whether the error is the user's to fix (a lake of another format, a purge that
    /// cannot be answered under the lake's calendar), not a failure: exit code 2.
    pub fn is_configuration(&self) -> bool {
        matches!(self, LakeError::Format(_) | LakeError::Purge { .. })
    }
}
