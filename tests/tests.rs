//! The one integration-test binary (one link of polars, not one per file).

// Tests may tell the person running them what they measured or skipped.
#![allow(clippy::print_stderr)]

mod any_bytes;
mod bad_input;
mod charts;
mod cli;
mod common;
mod consortium;
mod crash;
mod crosscheck;
mod devices;
mod e2e;
mod examples;
mod formats;
mod identity;
mod lake;
mod metric_catalogue;
mod metric_defs;
mod partial;
mod peers;
mod pipelines;
mod prints;
mod privacy;
mod properties;
mod retention;
mod sql_backends;
mod tidy;
mod unseen;
