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
//! What it is not: rendering. It returns DataFrames; charts and reports take it from there.
//!
//! ```ignore
//! // Run as written by tests/examples.rs.
//! let req = Request { metric: Metric::Occupancy, from, to, every: BucketKind::Month, by: vec![Dim::Site], budget: None };
//! let out = compute(&lake, &sites, &req)?;
//! assert!(out.frame.height() > 0);
//! ```

mod calendar;
mod catalogue;
mod compute;
pub mod devices;
mod events;
mod fleet;
mod grid;
mod intervals;
mod load;
pub mod peers;
mod query;
mod request;
mod retention;
mod sites;
pub mod support;
mod survey;
mod sweep;
mod trends;

pub use calendar::open_intervals;
pub use catalogue::{Dim, Engine, Metric, MetricInfo};
pub use compute::{
    COVERAGE_COLUMNS, Coverage, MetricError, Output, PartialBucket, Request, compute, compute_yoy,
    coverage, data_range, lake_range,
};
pub use grid::{Bucket, Grid};
pub use query::{query, register_tables};
pub use retention::{DISTINCT_METRICS, kept_counts, purge_point};
pub use sites::{UnknownSite, unknown_sites};
pub use survey::{LINES as SURVEY_LINES, survey};
