//! The part writer: a thread that takes chunks of canonical rows per month partition and
//! writes one Parquet file per month of the batch into its staging folder, a row group at
//! a time. Chunks of a month are gathered until a row group's worth is pending (or all
//! pending chunks reach their share of the memory budget), so a file that spans many
//! months still writes row groups of a useful size, and nothing waits in memory for the
//! end of the file.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use polars::prelude::*;
use tally_model::{Lake, Table};

use crate::IngestError;
use crate::options::Budget;

/// One month's Parquet file of a batch, written in staging.
#[derive(Debug, Clone)]
pub struct StagedPart {
    pub month: i32,
    pub tmp: PathBuf,
    /// Its final path, relative to the lake root.
    pub rel: String,
    pub rows: u64,
}

struct MonthFile {
    writer: polars::io::parquet::write::BatchedWriter<File>,
    file: File,
    tmp: PathBuf,
    pending: Vec<DataFrame>,
    pending_bytes: usize,
    rows: u64,
}

/// The sending side, held by the adapter's thread.
pub struct PartSink {
    tx: Option<SyncSender<(i32, DataFrame)>>,
    handle: Option<JoinHandle<Result<Vec<StagedPart>, IngestError>>>,
    /// Bytes of chunks sent and not yet written (shared with the thread).
    in_flight: Arc<AtomicUsize>,
}

impl PartSink {
    pub fn start(staging: PathBuf, table: Table, batch: String, budget: Budget) -> PartSink {
        // One chunk in the channel besides the one being built and the one being written.
        let (tx, rx) = sync_channel::<(i32, DataFrame)>(1);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let shared = in_flight.clone();
        let handle = std::thread::Builder::new()
            .name("tally-parts".into())
            .spawn(move || write_parts(rx, staging, table, &batch, budget, &shared))
            .expect("a thread starts");
        PartSink {
            tx: Some(tx),
            handle: Some(handle),
            in_flight,
        }
    }

    /// Bytes sent and not yet written to disk.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Hands a month's chunk to the writer; blocks while the writer is a chunk behind.
    pub fn send(&mut self, month: i32, frame: DataFrame) -> Result<(), IngestError> {
        self.in_flight
            .fetch_add(frame.estimated_size(), Ordering::Relaxed);
        let sent = self
            .tx
            .as_ref()
            .map(|tx| tx.send((month, frame)).is_ok())
            .unwrap_or(false);
        if sent {
            Ok(())
        } else {
            // The writer stopped: its error says why.
            match self.finish() {
                Err(e) => Err(e),
                Ok(_) => Err(IngestError::Io {
                    path: "staging".into(),
                    source: std::io::Error::other("the part writer stopped"),
                }),
            }
        }
    }

    /// Writes what is pending, closes every file and fsyncs it.
    pub fn finish(&mut self) -> Result<Vec<StagedPart>, IngestError> {
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

impl Drop for PartSink {
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
    in_flight: &AtomicUsize,
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
        let mut frames = std::mem::take(&mut m.pending);
        let mut df = frames.remove(0);
        for f in frames {
            df.vstack_mut_owned(f).map_err(pe(&m.tmp))?;
        }
        // One row group per write: the frame as one chunk.
        df.rechunk_mut_par();
        m.writer.write_batch(&df).map_err(pe(&m.tmp))?;
        let freed = std::mem::take(&mut m.pending_bytes);
        Ok(freed)
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
                let file = File::create(&tmp).map_err(|source| IngestError::Io {
                    path: tmp.clone(),
                    source,
                })?;
                let handle = file.try_clone().map_err(|source| IngestError::Io {
                    path: tmp.clone(),
                    source,
                })?;
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
            in_flight.fetch_sub(freed, Ordering::Relaxed);
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
            in_flight.fetch_sub(freed, Ordering::Relaxed);
        }
    }
    let mut staged = Vec::with_capacity(months.len());
    for (month, mut m) in months {
        let freed = flush(&mut m)?;
        in_flight.fetch_sub(freed, Ordering::Relaxed);
        m.writer.finish().map_err(pe(&m.tmp))?;
        m.file.sync_all().map_err(|source| IngestError::Io {
            path: m.tmp.clone(),
            source,
        })?;
        let (year, mon) = (month.div_euclid(12), month.rem_euclid(12) as u32 + 1);
        staged.push(StagedPart {
            month,
            tmp: m.tmp,
            rel: Lake::parquet_rel_path(table, year, mon, batch),
            rows: m.rows,
        });
    }
    Ok(staged)
}
