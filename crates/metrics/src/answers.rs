//! Where a metric's table comes from: tally's engines over the lake (the default), or
//! results another engine computed from the same definitions (a Spark job's Parquet,
//! docs/sql.md). Every request passes through here on its way to an engine: `compute`
//! (the whole table, with partial-bucket columns) and the engines' and derived metrics'
//! `answer` (the table before them, as a derived metric asks for its parts). A provider
//! set for the current thread answers the requests it can and leaves the others to the
//! engines.
//!
//! Two providers:
//! - [`Results`] reads the tables a job wrote (`RESULTS/<name>/`, named by its index)
//!   and types each column as tally's own table types it, so reports, charts and CSV
//!   made from them equal a local run's.
//! - [`Recorder`] notes every request that has a SQL form and answers it from an empty
//!   lake: running a pipeline under it lists the requests its reports make, without
//!   reading the lake's rows (what `tally spark-job --pipeline` compiles).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::Sites;

use crate::base::request::{MetricError, Output, Request};
use crate::base::span::COVERAGE_COLUMNS;

/// The column a job adds to each result: the row's place in tally's order (Spark writes
/// a table's rows in no particular order).
pub const ROW_COLUMN: &str = "tally_row";

/// The folder of a job's results that names each result's request.
pub const INDEX: &str = "_index";

/// Answers some requests in place of the engines.
pub trait Answers {
    /// The whole table of `req` (as `compute` gives it), or `None` to leave it to the
    /// engines.
    fn table(&self, req: &Request) -> Option<Result<Output, MetricError>>;
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<dyn Answers>>> = const { RefCell::new(None) };
}

/// Runs `f` with `answers` answering the requests it can, on this thread.
pub fn with_answers<T>(answers: Rc<dyn Answers>, f: impl FnOnce() -> T) -> T {
    let before = CURRENT.with(|c| c.replace(Some(answers)));
    let out = f();
    CURRENT.with(|c| *c.borrow_mut() = before);
    out
}

/// Runs `f` with no provider: the engines answer everything.
fn without_answers<T>(f: impl FnOnce() -> T) -> T {
    let before = CURRENT.with(|c| c.replace(None));
    let out = f();
    CURRENT.with(|c| *c.borrow_mut() = before);
    out
}

/// The provider's whole table for `req`, if it has one.
pub(crate) fn table(req: &Request) -> Option<Result<Output, MetricError>> {
    let current = CURRENT.with(|c| c.borrow().clone())?;
    current.table(req)
}

/// The provider's table for `req` without the partial-bucket columns (what an engine's
/// or a derived metric's `answer` gives), if it has one.
pub(crate) fn answer(req: &Request) -> Option<Result<Output, MetricError>> {
    Some(table(req)?.and_then(|mut out| {
        for c in COVERAGE_COLUMNS {
            if out.frame.column(c).is_ok() {
                out.frame = out.frame.drop(c)?;
            }
        }
        Ok(out)
    }))
}

/// A request as text, the same wherever it is made: what a job's index names each result
/// by.
pub fn request_key(req: &Request) -> String {
    let by: Vec<&str> = req.by.iter().map(|d| d.column()).collect();
    let mut key = format!(
        "{} {}..{} every {} by {}",
        req.metric.name(),
        req.from,
        req.to,
        req.every.as_str(),
        if by.is_empty() {
            "-".into()
        } else {
            by.join(",")
        }
    );
    if let Some(b) = req.budget {
        key.push_str(&format!(" budget {b}"));
    }
    key
}

/// A name for a result's folder: the request's key in characters every file system and
/// object store takes (`sessions_2026-01-01_2026-02-01_month_by_site`).
pub fn folder_name(req: &Request) -> String {
    let by: Vec<&str> = req.by.iter().map(|d| d.column()).collect();
    let mut name = format!(
        "{}_{}_{}_{}",
        req.metric.name(),
        req.from,
        req.to,
        req.every.as_str()
    );
    if !by.is_empty() {
        name.push_str("_by_");
        name.push_str(&by.join("_"));
    }
    name
}

/// tally's own table of `req` on a lake with no rows: the columns and their types,
/// without reading the lake's data.
fn empty_table(lake: &Snapshot, sites: &Sites, req: &Request) -> Result<Output, MetricError> {
    let empty = Snapshot::of(lake.lake(), Vec::new());
    without_answers(|| crate::compute::compute(&empty, sites, req))
}

/// Notes each request with a SQL form, answering it from an empty lake.
pub struct Recorder {
    lake: Snapshot,
    sites: Sites,
    seen: RefCell<Vec<Request>>,
}

impl Recorder {
    pub fn new(lake: &Snapshot, sites: &Sites) -> Recorder {
        Recorder {
            lake: lake.clone(),
            sites: sites.clone(),
            seen: RefCell::new(Vec::new()),
        }
    }

    /// The requests seen, each once, in the order first made.
    pub fn requests(&self) -> Vec<Request> {
        let mut keys = BTreeSet::new();
        self.seen
            .borrow()
            .iter()
            .filter(|r| keys.insert(request_key(r)))
            .cloned()
            .collect()
    }
}

impl Answers for Recorder {
    fn table(&self, req: &Request) -> Option<Result<Output, MetricError>> {
        if crate::sql::unsupported(req.metric).is_some() {
            return None;
        }
        self.seen.borrow_mut().push(req.clone());
        Some(empty_table(&self.lake, &self.sites, req))
    }
}

/// The tables a job wrote: `root/_index` names each result's folder by its request.
pub struct Results {
    root: PathBuf,
    lake: Snapshot,
    sites: Sites,
    /// Request key -> folder under `root`.
    index: BTreeMap<String, String>,
}

impl Results {
    /// Reads the index of the results under `root` (a folder: a job's `--results`).
    pub fn open(root: &Path, lake: &Snapshot, sites: &Sites) -> Result<Results, MetricError> {
        let dir = root.join(INDEX);
        let df = read_result_dir(&dir).map_err(|e| {
            MetricError::Invalid(format!(
                "{}: no index of results ({e}); is --results where the job wrote?",
                dir.display()
            ))
        })?;
        let keys = crate::base::frame::strings(&df, "request")?;
        let names = crate::base::frame::strings(&df, "folder")?;
        let index = keys
            .into_iter()
            .zip(names)
            .filter_map(|(k, n)| Some((k?, n?)))
            .collect();
        Ok(Results {
            root: root.to_path_buf(),
            lake: lake.clone(),
            sites: sites.clone(),
            index,
        })
    }

    fn read(&self, req: &Request) -> Result<Output, MetricError> {
        let key = request_key(req);
        let Some(folder) = self.index.get(&key) else {
            return Err(MetricError::Invalid(format!(
                "{}: the results hold no answer for {key}; write the job again for this run (tally spark-job)",
                self.root.display()
            )));
        };
        let dir = self.root.join(folder);
        let mut df = read_result_dir(&dir)
            .map_err(|e| MetricError::Invalid(format!("{}: {e}", dir.display())))?;
        df = df.sort([ROW_COLUMN], SortMultipleOptions::default())?;
        df = df.drop(ROW_COLUMN)?;
        // Each column typed as tally's own table types it.
        let like = empty_table(&self.lake, &self.sites, req)?;
        let names: Vec<String> = like
            .frame
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let got: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        if names != got {
            return Err(MetricError::Invalid(format!(
                "{}: columns {got:?}, but tally's table of {key} has {names:?}",
                dir.display()
            )));
        }
        let columns = like
            .frame
            .columns()
            .iter()
            .map(|c| df.column(c.name())?.cast(c.dtype()))
            .collect::<PolarsResult<Vec<Column>>>()?;
        Ok(Output {
            frame: DataFrame::new_infer_height(columns)?,
            value_column: like.value_column,
            warnings: Vec::new(),
        })
    }
}

impl Answers for Results {
    fn table(&self, req: &Request) -> Option<Result<Output, MetricError>> {
        if crate::sql::unsupported(req.metric).is_some() {
            return None;
        }
        Some(self.read(req))
    }
}

/// The Parquet files of a result's folder (Spark writes `part-*.parquet` beside
/// `_SUCCESS`), as one frame.
fn read_result_dir(dir: &Path) -> PolarsResult<DataFrame> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| polars_err!(ComputeError: "{e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "parquet")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(['.', '_']))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        polars_bail!(ComputeError: "no Parquet files");
    }
    let frames = files
        .iter()
        .map(|f| {
            let file = std::fs::File::open(f)
                .map_err(|e| polars_err!(ComputeError: "{}: {e}", f.display()))?;
            ParquetReader::new(file).finish()
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    let mut out = frames[0].clone();
    for f in &frames[1..] {
        out.vstack_mut(f)?;
    }
    Ok(out)
}
