//! tally-report: self-contained reports (HTML with charts inline, and CSV tables).
//!
//! [`html`] renders a [`Report`] of sections (chart, table, "how these are counted")
//! into one HTML file with no external URLs that prints cleanly to PDF. [`usage`]
//! composes the public-computer usage report from tally-metrics and tally-charts: every
//! number in it is a cell of a `tally metric` table.
//!
//! What it is not: a place where numbers are computed. Metrics compute; this lays out.
//!
//! ```ignore
//! let report = usage::build(&lake, &sites, &period)?;
//! std::fs::write("report.html", html::render(&report.report))?;
//! ```

mod frame;
pub mod html;
pub mod usage;

pub use frame::{Cell, Table, table_from_frame};
pub use html::{Report, Section, render};
