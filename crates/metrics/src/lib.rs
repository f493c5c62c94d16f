//! tally-metrics: the metric catalogue of docs/metrics.md over the lake.
//!
//! The lake is read with polars lazy scans over the Parquet files the ledger names,
//! pruned to the months of the period and projected to the columns a metric needs.
//! Counts (sessions, survey uses, distinct users) are polars group-bys. The interval
//! metrics (session hours, occupancy, peak concurrent, time at capacity, availability,
//! the heatmap) need a sweep line over each site's sessions, its opening hours and the
//! bucket boundaries; that is a sequential walk per site, so it is plain Rust over the
//! columns polars loaded, with sites in parallel on rayon.
//!
//! The crate is in layers, arrows pointing down only: the catalogue (`catalogue.rs`,
//! `spec.rs`: data) and the dispatcher (`compute.rs`) at the top; the engines
//! (`engines/`: one per way of counting) and the metrics built from other metrics
//! (`derived/`) below; helpers at the bottom (`base/`: loads through a lake
//! [`tally_lake::Snapshot`], the grid, spans and coverage, frames, the inventory, the
//! support cycles, kept counts). No engine calls the dispatcher.
//!
//! What it is not: rendering. It returns DataFrames; charts and reports take it from there.
//!
//! ```ignore
//! // Run as written by tests/examples.rs.
//! let req = Request { metric: Metric::Occupancy, from, to, every: BucketKind::Month, by: vec![Dim::Site], budget: None };
//! let out = compute(&lake.snapshot()?, &sites, &req)?;
//! assert!(out.frame.height() > 0);
//! ```

pub mod answers;
mod base;
mod catalogue;
mod compute;
pub mod consortium;
mod derived;
mod engines;
mod query;
pub mod spec;
pub mod sql;

pub use base::calendar::open_intervals;
pub use base::grid::{Bucket, Grid};
pub use base::retention::{DISTINCT_METRICS, kept_counts, purge_point};
pub use base::sites::{UnknownSite, unknown_sites};
pub use base::support;
pub use catalogue::{Dim, Engine, Metric, MetricInfo, Unit, column_unit};
pub use compute::{
    COVERAGE_COLUMNS, Coverage, MetricError, Output, PartialBucket, Request, Shape, ask, compute,
    compute_yoy, coverage, data_range, lake_range,
};

pub use derived::peers;
pub use derived::survey::{LINES as SURVEY_LINES, survey};
pub use engines::devices;
pub use query::{query, register_tables};
