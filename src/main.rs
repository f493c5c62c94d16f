//! The `tally` binary: argument parsing and wiring only. The work is in crates/.

mod cli;
mod commands;
mod output;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, LogFormat};

/// mimalloc: ingest allocates rows on one thread and frees them on another, which glibc's
/// allocator serves slowly (a third of ingest's time went to malloc and free).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How a command ended; turned into an exit code only here (README.md: 0 ok, 1 failed,
/// 2 bad usage or configuration, 3 finished but some rows were quarantined).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Quarantined,
}

/// A user error (bad arguments or configuration): exit code 2, not 1.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn init_logging(cli: &Cli) {
    let default = if cli.quiet {
        "warn"
    } else {
        "warn,tally=info,tally_ingest=info,tally_report=info,tally_pipeline=info"
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("TALLY_LOG").unwrap_or_else(|_| default.into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.without_time().init(),
    }
}

/// Whether an error is a setting for the user to change (exit 2) rather than a failure
/// (exit 1): bad arguments or configuration, a missing or wrong key, a lake of another
/// format. The one place errors become exit codes.
fn is_configuration(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.is::<UsageError>()
            || e.is::<tally_lake::LakeFormatError>()
            || e.downcast_ref::<tally_lake::LakeError>()
                .is_some_and(tally_lake::LakeError::is_configuration)
            || e.downcast_ref::<tally_ingest::IngestError>()
                .is_some_and(tally_ingest::IngestError::is_configuration)
            || e.downcast_ref::<tally_metrics::MetricError>()
                .is_some_and(tally_metrics::MetricError::is_configuration)
            || e.downcast_ref::<tally_report::ReportError>()
                .is_some_and(tally_report::ReportError::is_configuration)
            || e.downcast_ref::<tally_pipeline::RunError>()
                .is_some_and(tally_pipeline::RunError::is_configuration)
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    match commands::run(cli.command) {
        Ok(Status::Ok) => ExitCode::SUCCESS,
        Ok(Status::Quarantined) => ExitCode::from(3),
        Err(err) => {
            // A closed pipe (`tally metric ... | head`) is not a failure.
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            tracing::error!("{err:#}");
            if is_configuration(&err) {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
