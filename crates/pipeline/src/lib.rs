//! tally-pipeline: standing jobs (`pipelines/*.toml`) for scheduled runs.
//!
//! [`spec`] parses a pipeline file and validates it in one pass that reports every
//! problem with its dotted key and line; [`period`] reads `--period`; [`run`] carries it
//! out under a lock and writes a manifest beside the outputs.
//!
//! ```ignore
//! // Run as written by tests/examples.rs.
//! let p = tally_pipeline::load("pipelines/monthly-usage.toml".as_ref())?;
//! assert_eq!(p.name, "monthly-usage");
//! ```

pub mod consortium;
pub mod period;
pub mod retention;
pub mod run;
pub mod spec;

pub use period::{Period, PeriodSpec};
pub use retention::{Retain, purge};
pub use run::{DEMO_KEY, Figures, Manifest, RunError, RunOptions, RunOutcome, run};
pub use spec::{Pipeline, Problem, SpecError, load, parse};
