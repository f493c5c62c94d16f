//! tally-report: reports as data ([`doc`]: sections of figures, tables and "how these are
//! counted", with the frames behind them) and their renderers: self-contained HTML that
//! prints to PDF ([`html`]), Markdown ([`md`]), an XLSX workbook ([`xlsx`]) and CSV.
//!
//! The standing reports compose tally-metrics results: [`usage`] (public computers,
//! circulation, Wi-Fi and help desk for a period), [`budget`] (replacement schedule,
//! station advice, cost per use, help-desk load) and [`annual`] (the public library
//! survey's figures). Every number in them is a cell of a `tally metric` table; [`plot`]
//! turns such a table into a chart, for the reports and for `tally chart`.
//!
//! What it is not: a place where numbers are computed. Metrics compute; this lays out.
//!
//! ```ignore
//! // Run as written by tests/examples.rs.
//! let report = usage::build(&lake.snapshot()?, &sites, from, to)?;
//! doc::write(&report, &out_dir, "usage", &[Format::Html, Format::Markdown])?;
//! ```

pub mod annual;
pub mod budget;
pub mod consortium;
pub mod doc;
mod frame;
pub mod html;
pub mod kit;
pub mod md;
pub mod plot;
pub mod tables;
pub mod usage;
pub mod xlsx;

pub use doc::{Figure, Format, Report, ReportError, Section, write};
pub use frame::{Cell, Show, Table, table_from_frame};
