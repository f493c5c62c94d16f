use std::path::{Path, PathBuf};

/// The error of an I/O operation on `path`, for `map_err`.
pub(crate) fn io(path: &Path) -> impl Fn(std::io::Error) -> IngestError + '_ {
    move |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Why a file (or the whole ingest) failed. A failed file leaves the lake untouched.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Lake(#[from] tally_lake::LakeError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: the file is empty")]
    Empty { path: PathBuf },
    #[error(
        "{path}: line 1: cannot tell the format from the header [{header}]; pass --format (known: {known})"
    )]
    UnknownFormat {
        path: PathBuf,
        header: String,
        known: String,
    },
    #[error(
        "{path}: line 1: missing required column(s) {missing:?} for format {format}; expected {expected:?}, found {found:?}"
    )]
    MissingColumns {
        path: PathBuf,
        format: String,
        missing: Vec<String>,
        expected: Vec<String>,
        found: Vec<String>,
    },
    #[error("{path}: line {line}: {message}")]
    Malformed {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error(
        "no pseudonymisation key: patron identifiers are replaced by a keyed hash at ingest. \
         Pass --key-file FILE or set TALLY_KEY (keep the key secret and the same across runs)"
    )]
    NoKey,
    #[error("key file {path}: {message}")]
    BadKey { path: PathBuf, message: String },
    #[error(
        "{lake}: this lake was written with a different key; distinct-patron counts would split. \
         Use the lake's key (`tally key check --lake {lake}` says whether a key is the lake's); nothing was written"
    )]
    WrongKey { lake: PathBuf },
    #[error(
        "{lake}: this is a demo lake (synthetic data under the public demo key): real exports go into a lake of \
         their own, under your key; nothing was written"
    )]
    DemoLake { lake: PathBuf },
    #[error(
        "{lake}: this lake holds real exports: the demo's synthetic data and public key go into a lake of their own; \
         nothing was written"
    )]
    NotDemoLake { lake: PathBuf },
    #[error("{path}: writing Parquet: {source}")]
    Parquet {
        path: PathBuf,
        source: polars::error::PolarsError,
    },
}

impl IngestError {
    /// Whether the error is the user's setting to change (a missing or wrong key, a lake
    /// of another format), not a failure of the input or the machine: exit code 2.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            IngestError::NoKey
                | IngestError::BadKey { .. }
                | IngestError::WrongKey { .. }
                | IngestError::DemoLake { .. }
                | IngestError::NotDemoLake { .. }
        ) || matches!(self, IngestError::Lake(e) if e.is_configuration())
    }
}
