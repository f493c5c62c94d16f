//! Where a file's rows go after its adapter: two threads.
//!
//! The keeper takes the adapter's chunks in file order and decides, record by record,
//! which rows are stored: a record key seen before in the month is a duplicate, a row
//! the lake holds already is excluded (identity.rs); the stored rows become one frame per
//! month partition. The part writer gathers a month's frames until a row group's worth
//! is pending (or all pending frames reach their share of the memory budget) and writes
//! it to that month's Parquet file in the batch's staging folder. Nothing waits in memory
//! for the end of the file.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use polars::prelude::*;
use tally_lake::Lake;
use tally_model::Table;

use crate::IngestError;
use crate::identity::{FileIndex, KeySet, LakeIndex, nth};
use crate::options::Budget;
use crate::rows::{Chunk, Kind};

/// One month's Parquet file of a batch, written in staging.
#[derive(Debug, Clone)]
pub struct StagedPart {
    pub tmp: PathBuf,
    /// Its final path, relative to the lake root.
    pub rel: String,
    pub rows: u64,
}

/// What the keeper decided and wrote for one file.
pub struct Kept {
    pub parts: Vec<StagedPart>,
    /// Input rows of records with at least one row stored.
    pub accepted: u64,
    /// Input rows of records whose key repeats within the file.
    pub duplicate: u64,
    /// Input rows of records the lake has already.
    pub in_lake: u64,
    /// Canonical rows stored.
    pub rows_stored: u64,
    /// The most bytes the engine held between the adapter and the disk at once.
    pub peak_buffered: usize,
}

/// The adapter's side: chunks go in, the kept rows' parts come out at the end.
pub struct Keeper {
    tx: Option<SyncSender<Chunk>>,
    handle: Option<JoinHandle<(Result<Kept, IngestError>, LakeIndex)>>,
    in_flight: Arc<AtomicUsize>,
}

/// Everything the keeper needs for one file.
pub struct KeeperJob {
    pub staging: PathBuf,
    pub table: Table,
    pub batch: String,
    pub source: &'static str,
    pub budget: Budget,
    /// A small file (a night's export): held whole and checked against the lake at the
    /// end, a month's key column streamed past its keys.
    pub small: bool,
    pub lake: LakeIndex,
}

impl Keeper {
    pub fn start(job: KeeperJob) -> Keeper {
        // One chunk waiting besides the one the keeper works on and the one being built.
        let (tx, rx) = sync_channel::<Chunk>(1);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let shared = in_flight.clone();
        let handle = std::thread::Builder::new()
            .name("tally-keeper".into())
            .spawn(move || keep(rx, job, &shared))
            .expect("a thread starts");
        Keeper {
            tx: Some(tx),
            handle: Some(handle),
            in_flight,
        }
    }

    /// The sending side for the adapter's context, and the bytes in flight it adds to.
    pub fn sender(&self) -> (SyncSender<Chunk>, Arc<AtomicUsize>) {
        (
            self.tx.clone().expect("the keeper is running"),
            self.in_flight.clone(),
        )
    }

    /// Waits for every chunk sent to be kept and written; the parts, fsynced, and the
    /// lake index back (with this file's keys unknown to it until the commit adds them).
    pub fn finish(mut self) -> (Result<Kept, IngestError>, Option<LakeIndex>) {
        drop(self.tx.take());
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok((kept, lake))) => (kept, Some(lake)),
            _ => (
                Err(IngestError::Io {
                    path: "staging".into(),
                    source: std::io::Error::other("the keeper thread panicked"),
                }),
                None,
            ),
        }
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A chunk with the file-level identity settled: each row's final key, each record's
/// fate within the file (a repeated record key is a duplicate).
struct Settled {
    chunk: Chunk,
    keys: Vec<u64>,
    months: Vec<i32>,
    duplicate: Vec<bool>,
    bytes: usize,
}

/// Settles a chunk against what the file showed before it.
fn settle(mut chunk: Chunk, file: &mut FileIndex, staging: &Path) -> Result<Settled, IngestError> {
    let io = |source| IngestError::Io {
        path: staging.to_path_buf(),
        source,
    };
    let bytes = chunk.bytes();
    let mut keys = std::mem::take(&mut chunk.keys);
    let months = std::mem::take(&mut chunk.months);
    let mut duplicate = Vec::with_capacity(chunk.records.len());
    let mut row = 0usize;
    for rec in &chunk.records {
        let rows = row..row + rec.rows as usize;
        row = rows.end;
        let dup = !rows.is_empty()
            && matches!(rec.kind, Kind::Record | Kind::State)
            && !file
                .first_record(months[rows.start], rec.hash)
                .map_err(io)?;
        duplicate.push(dup);
        if dup {
            continue;
        }
        // Content keys, and the rows of a purged period, count their copies.
        for r in rows {
            if rec.kind == Kind::Content || chunk.is_anonymous(r) {
                let copies = file.copies_before(months[r], keys[r]).map_err(io)?;
                keys[r] = nth(keys[r], copies);
            }
        }
    }
    Ok(Settled {
        chunk,
        keys,
        months,
        duplicate,
        bytes,
    })
}

/// Decides which rows of a settled chunk are stored (those the lake does not hold), counts
/// every record's input rows, and sends the stored rows to the writer a frame per month.
fn store(
    s: Settled,
    mut in_lake: impl FnMut(i32, u64) -> Result<bool, IngestError>,
    kept: &mut Kept,
    writer: &mut PartWriter,
    source: &str,
    batch: &str,
    staging: &Path,
) -> Result<(), IngestError> {
    let Settled {
        chunk,
        keys,
        months,
        duplicate,
        ..
    } = s;
    let n = keys.len();
    let mut keep = vec![false; n];
    let mut row = 0usize;
    for (rec, dup) in chunk.records.iter().zip(duplicate) {
        let rows = row..row + rec.rows as usize;
        row = rows.end;
        let input = u64::from(rec.input_rows);
        if rows.is_empty() {
            // Read and valid, with nothing to store (a year of blank months).
            kept.accepted += input;
            continue;
        }
        if dup {
            kept.duplicate += input;
            continue;
        }
        let (mut fresh, mut old) = (false, false);
        for r in rows {
            if in_lake(months[r], keys[r])? {
                old = true;
            } else {
                keep[r] = true;
                fresh = true;
            }
        }
        if fresh {
            kept.accepted += input;
        } else if old {
            kept.in_lake += input;
        }
    }
    // The stored rows, one frame per month.
    let mut by_month: BTreeMap<i32, Vec<IdxSize>> = BTreeMap::new();
    for (r, (&k, &m)) in keep.iter().zip(&months).enumerate() {
        if k {
            by_month.entry(m).or_default().push(r as IdxSize);
        }
    }
    let all = by_month.len() == 1 && by_month.values().all(|v| v.len() == n);
    let parquet = |e| IngestError::Parquet {
        path: staging.join(batch),
        source: e,
    };
    let frame = chunk.into_frame(keys, source, batch).map_err(parquet)?;
    if all {
        let month = *by_month.keys().next().expect("one month");
        kept.rows_stored += n as u64;
        writer.send(month, frame)?;
    } else {
        for (month, idx) in by_month {
            kept.rows_stored += idx.len() as u64;
            let part = frame
                .take(&IdxCa::from_vec("idx".into(), idx))
                .map_err(parquet)?;
            writer.send(month, part)?;
        }
    }
    Ok(())
}

fn keep(
    rx: Receiver<Chunk>,
    job: KeeperJob,
    in_flight: &AtomicUsize,
) -> (Result<Kept, IngestError>, LakeIndex) {
    let KeeperJob {
        staging,
        table,
        batch,
        source,
        budget,
        small,
        mut lake,
    } = job;
    let result = (|| {
        let mut file = FileIndex::new(staging.join("identity"), budget.file_keys());
        let mut writer = PartWriter::start(staging.clone(), table, batch.clone(), budget);
        let mut kept = Kept {
            parts: Vec::new(),
            accepted: 0,
            duplicate: 0,
            in_lake: 0,
            rows_stored: 0,
            peak_buffered: 0,
        };
        // A small file is held whole, then checked against the lake a month at a time
        // (its keys probed against the month's key column, which is never held); a big
        // one is checked as it comes, against the months' keys held within the budget.
        let mut held: Vec<Settled> = Vec::new();
        let mut held_bytes = 0usize;
        let mut wanted: BTreeMap<i32, KeySet> = BTreeMap::new();
        for chunk in rx {
            // Rows between the adapter and the disk, and the file's keys (about 16 bytes each).
            kept.peak_buffered = kept.peak_buffered.max(
                in_flight.load(Ordering::Relaxed)
                    + held_bytes
                    + writer.pending()
                    + 16 * file.held(),
            );
            let bytes = chunk.bytes();
            let settled = settle(chunk, &mut file, &staging)?;
            if small {
                for (&m, &k) in settled.months.iter().zip(&settled.keys) {
                    if lake.has_month(m) {
                        wanted.entry(m).or_default().insert(k);
                    }
                }
                held_bytes += settled.bytes;
                held.push(settled);
            } else {
                store(
                    settled,
                    |m, k| lake.contains(m, k),
                    &mut kept,
                    &mut writer,
                    source,
                    &batch,
                    &staging,
                )?;
            }
            in_flight.fetch_sub(bytes, Ordering::Relaxed);
        }
        let mut found: BTreeMap<i32, KeySet> = BTreeMap::new();
        for (month, keys) in &wanted {
            found.insert(*month, lake.probe(*month, keys)?);
        }
        for settled in held {
            store(
                settled,
                |m, k| Ok(found.get(&m).is_some_and(|f| f.contains(&k))),
                &mut kept,
                &mut writer,
                source,
                &batch,
                &staging,
            )?;
        }
        kept.parts = writer.finish()?;
        Ok(kept)
    })();
    (result, lake)
}

struct MonthFile {
    writer: polars::io::parquet::write::BatchedWriter<File>,
    file: File,
    tmp: PathBuf,
    pending: Vec<DataFrame>,
    pending_bytes: usize,
    rows: u64,
}

/// The part writer: a thread that writes each month's frames to its Parquet file.
struct PartWriter {
    tx: Option<SyncSender<(i32, DataFrame)>>,
    handle: Option<JoinHandle<Result<Vec<StagedPart>, IngestError>>>,
    /// Bytes of frames sent and not yet written (shared with the thread).
    pending: Arc<AtomicUsize>,
}

impl PartWriter {
    fn start(staging: PathBuf, table: Table, batch: String, budget: Budget) -> PartWriter {
        let (tx, rx) = sync_channel::<(i32, DataFrame)>(2);
        let pending = Arc::new(AtomicUsize::new(0));
        let shared = pending.clone();
        let handle = std::thread::Builder::new()
            .name("tally-parts".into())
            .spawn(move || write_parts(rx, staging, table, &batch, budget, &shared))
            .expect("a thread starts");
        PartWriter {
            tx: Some(tx),
            handle: Some(handle),
            pending,
        }
    }

    fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// Hands a month's frame to the writer; blocks while the writer is two behind.
    fn send(&mut self, month: i32, frame: DataFrame) -> Result<(), IngestError> {
        self.pending
            .fetch_add(frame.estimated_size(), Ordering::Relaxed);
        let sent = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.send((month, frame)).is_ok());
        if sent {
            return Ok(());
        }
        // The writer stopped: its error says why.
        match self.finish() {
            Err(e) => Err(e),
            Ok(_) => Err(IngestError::Io {
                path: "staging".into(),
                source: std::io::Error::other("the part writer stopped"),
            }),
        }
    }

    /// Writes what is pending, closes every file and fsyncs it.
    fn finish(&mut self) -> Result<Vec<StagedPart>, IngestError> {
        drop(self.tx.take());
        match self.handle.take() {
            Some(h) => h.join().unwrap_or_else(|_| {
                Err(IngestError::Io {
                    path: "staging".into(),
                    source: std::io::Error::other("the part writer panicked"),
                })
            }),
            None => Ok(Vec::new()),
        }
    }
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn write_parts(
    rx: Receiver<(i32, DataFrame)>,
    staging: PathBuf,
    table: Table,
    batch: &str,
    budget: Budget,
    pending_shared: &AtomicUsize,
) -> Result<Vec<StagedPart>, IngestError> {
    let schema = table.schema();
    let mut months: BTreeMap<i32, MonthFile> = BTreeMap::new();
    let mut pending_total = 0usize;
    let pe = |path: &PathBuf| {
        let path = path.clone();
        move |source| IngestError::Parquet { path, source }
    };
    let flush = |m: &mut MonthFile| -> Result<usize, IngestError> {
        if m.pending.is_empty() {
            return Ok(0);
        }
        let mut frames = std::mem::take(&mut m.pending).into_iter();
        let mut df = frames.next().expect("not empty");
        for f in frames {
            df.vstack_mut_owned(f).map_err(pe(&m.tmp))?;
        }
        // One row group per write: the frame as one chunk.
        df.rechunk_mut_par();
        m.writer.write_batch(&df).map_err(pe(&m.tmp))?;
        Ok(std::mem::take(&mut m.pending_bytes))
    };
    for (month, frame) in rx {
        let bytes = frame.estimated_size();
        let rows = frame.height() as u64;
        let m = match months.get_mut(&month) {
            Some(m) => m,
            None => {
                let (year, mon) = (month.div_euclid(12), month.rem_euclid(12) as u32 + 1);
                let rel = Lake::parquet_rel_path(table, year, mon, batch);
                let tmp = staging.join(rel.replace('/', "_"));
                let io = |source| IngestError::Io {
                    path: tmp.clone(),
                    source,
                };
                let file = File::create(&tmp).map_err(io)?;
                let handle = file.try_clone().map_err(io)?;
                let writer = ParquetWriter::new(handle)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(&schema)
                    .map_err(pe(&tmp))?;
                months.entry(month).or_insert(MonthFile {
                    writer,
                    file,
                    tmp,
                    pending: Vec::new(),
                    pending_bytes: 0,
                    rows: 0,
                })
            }
        };
        m.pending.push(frame);
        m.pending_bytes += bytes;
        m.rows += rows;
        pending_total += bytes;
        if m.pending_bytes >= budget.row_group_bytes() {
            let freed = flush(m)?;
            pending_total -= freed;
            pending_shared.fetch_sub(freed, Ordering::Relaxed);
        }
        // Over the share for pending rows: write the largest month's row group.
        while pending_total > budget.pending_bytes() {
            let Some(m) = months.values_mut().max_by_key(|m| m.pending_bytes) else {
                break;
            };
            let freed = flush(m)?;
            if freed == 0 {
                break;
            }
            pending_total -= freed;
            pending_shared.fetch_sub(freed, Ordering::Relaxed);
        }
    }
    let mut staged = Vec::with_capacity(months.len());
    for (month, mut m) in months {
        let freed = flush(&mut m)?;
        pending_shared.fetch_sub(freed, Ordering::Relaxed);
        m.writer.finish().map_err(pe(&m.tmp))?;
        m.file.sync_all().map_err(|source| IngestError::Io {
            path: m.tmp.clone(),
            source,
        })?;
        let (year, mon) = (month.div_euclid(12), month.rem_euclid(12) as u32 + 1);
        staged.push(StagedPart {
            tmp: m.tmp,
            rel: Lake::parquet_rel_path(table, year, mon, batch),
            rows: m.rows,
        });
    }
    Ok(staged)
}
