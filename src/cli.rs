//! The command line. Stable: scheduled jobs and tests call it.

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::NaiveDate;
use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use clap::{Args, Parser, Subcommand, ValueEnum};
use tally_ingest::Format;
use tally_metrics::{Dim, Metric};
use tally_model::{BucketKind, Table};
use tally_pipeline::PeriodSpec;

/// Parses a value with the type's own `FromStr` (the code the pipeline files use, so
/// both say the same thing of a bad value) and offers its names to shell completions.
#[derive(Clone)]
pub struct Named<T> {
    names: fn() -> Vec<&'static str>,
    _t: PhantomData<fn() -> T>,
}

fn named<T>(names: fn() -> Vec<&'static str>) -> Named<T> {
    Named {
        names,
        _t: PhantomData,
    }
}

impl<T> TypedValueParser for Named<T>
where
    T: FromStr<Err = String> + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let flag = arg.map_or_else(String::new, |a| format!("{a}: "));
        let s = value.to_str().ok_or_else(|| {
            clap::Error::raw(ErrorKind::InvalidUtf8, format!("{flag}not UTF-8\n")).with_cmd(cmd)
        })?;
        s.parse::<T>().map_err(|e| {
            clap::Error::raw(ErrorKind::InvalidValue, format!("{flag}{e}\n")).with_cmd(cmd)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new((self.names)().into_iter().map(PossibleValue::new)))
    }
}

fn metric_names() -> Vec<&'static str> {
    Metric::ALL.iter().map(|m| m.name()).collect()
}

fn dim_names() -> Vec<&'static str> {
    Dim::ALL.iter().map(|d| d.column()).collect()
}

fn bucket_names() -> Vec<&'static str> {
    BucketKind::ALL.iter().map(|b| b.as_str()).collect()
}

fn table_names() -> Vec<&'static str> {
    Table::ALL.iter().map(|t| t.name()).collect()
}

fn format_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Format::ALL.iter().map(|f| f.name()).collect();
    v.push("auto");
    v
}

fn period_names() -> Vec<&'static str> {
    vec!["previous-month", "previous-year", "previous-fy", "all"]
}

/// `--format`: a format's name, or `auto` to detect each file's from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatArg(pub Option<Format>);

impl FromStr for FormatArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("auto") {
            Ok(FormatArg(None))
        } else {
            s.parse().map(|f| FormatArg(Some(f)))
        }
    }
}

/// A day as YYYY-MM-DD.
fn date(s: &str) -> Result<NaiveDate, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("\"{s}\": expected a date as YYYY-MM-DD"))
}

/// tally: usage data, charts and reports for a public library's IT team.
///
/// Start with `tally demo`: it makes a synthetic nine-branch library, ingests its
/// exports, and writes its usage, budget and annual reports.
#[derive(Debug, Parser)]
#[command(
    name = "tally",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, help_heading = "Logging")]
    pub log_format: LogFormat,

    /// Less logging (warnings and errors only).
    #[arg(long, short, global = true, help_heading = "Logging")]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The embedded default: synthetic exports -> lake -> the usage, budget and annual reports.
    Demo(DemoArgs),
    /// Add export files to the lake (each file one atomic batch; a repeat is a no-op).
    Ingest(IngestArgs),
    /// What ingest would make of export files, without touching any lake: the format
    /// and why, columns used and ignored, sites, dates, rows, what would be quarantined.
    Doctor(DoctorArgs),
    /// Compute one metric as a table, CSV, JSON or Parquet.
    Metric(MetricArgs),
    /// Draw one metric as a PNG or SVG chart.
    Chart(ChartArgs),
    /// One metric as one SQL statement for DuckDB or Spark, whose result is `tally metric
    /// --format csv` with the same flags (the lake's files and calendar inline).
    Sql(SqlArgs),
    /// A Spark SQL job (job.sql and its small tables as Parquet) that answers metrics or a
    /// pipeline's figures on a cluster and writes each answer as Parquet under --results;
    /// `tally run PIPELINE --results` renders from them.
    SparkJob(SparkJobArgs),
    /// SQL over the lake's tables (sessions, ...), with polars SQL.
    Query(QueryArgs),
    /// The annual survey's figures (650, 651, 652, 553) for a year, per branch and in all.
    Survey(SurveyArgs),
    /// The library against its peers in the IMLS Public Libraries Survey's file for a year
    /// (ingested with --table peers --format pls): median, quartiles and percentile of
    /// seven measures.
    Peers(PeersArgs),
    /// A consortium of libraries, each with its own lake (consortium.toml): the report of
    /// their figures side by side, locally or as one Spark job over every member.
    #[command(subcommand)]
    Consortium(ConsortiumCommand),
    /// Run a standing pipeline (pipelines/*.toml): ingest, metrics, charts, reports.
    Run(RunArgs),
    /// Write deterministic synthetic exports in the vendors' formats.
    Synth(SynthArgs),
    /// List the input formats tally reads, with their columns.
    Formats,
    /// Keep a lake: check it against its ledger, upgrade an older format.
    #[command(subcommand)]
    Lake(LakeCommand),
    /// Retention: clear patron, item and device keys from rows before a date (distinct
    /// counts of the purged periods are kept), and delete old quarantine files.
    Purge(PurgeArgs),
    /// The pseudonymisation key: whether the key at hand is the one a lake was written with.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The library's sites: which site values in the lake sites.toml does not know.
    #[command(subcommand)]
    Sites(SitesCommand),
    /// OS support dates (endoflife.date): install a newer copy into a lake.
    #[command(subcommand)]
    Support(SupportCommand),
    /// Print a shell completion script (e.g. `tally completions bash > /etc/bash_completion.d/tally`).
    Completions(CompletionsArgs),
}

#[derive(Debug, Subcommand)]
pub enum LakeCommand {
    /// Check the ledger against the Parquet files: every file it names exists, is readable,
    /// holds its batch's rows and as many as recorded; files no entry names are listed.
    /// Exits 1 when the lake is damaged.
    Check(LakeCheckArgs),
    /// Rewrite a lake of an older format in this tally's format, in place and atomically
    /// (a kill leaves it before or after); --dry-run says what would change.
    Upgrade(LakeUpgradeArgs),
}

#[derive(Debug, Subcommand)]
pub enum SupportCommand {
    /// Read endoflife.date's product files (windows.md, windows-server.md, macos.md,
    /// ubuntu.md) from DIR (a checkout's products/ folder), check they parse, and keep
    /// them in the lake's _support/ folder; os_support and replacement_plan then use them
    /// instead of the copy built into tally.
    Update(SupportUpdateArgs),
}

#[derive(Debug, Args)]
pub struct SupportUpdateArgs {
    /// The lake folder.
    #[arg(long, value_name = "DIR")]
    pub lake: PathBuf,
    /// endoflife.date's products/ folder.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct LakeCheckArgs {
    /// The lake folder.
    #[arg(long, value_name = "DIR")]
    pub lake: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LakeUpgradeArgs {
    /// The lake folder.
    #[arg(long, value_name = "DIR")]
    pub lake: PathBuf,
    /// Say what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Seconds to wait for another writer to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub wait: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// The lake folder.
    #[arg(long, value_name = "DIR")]
    pub lake: PathBuf,
    #[command(flatten)]
    pub sites: SitesArg,
    /// Clear keys from rows that start before this local date (YYYY-MM-DD)
    /// [default: from sites.toml [retention] patron_months].
    #[arg(long, value_name = "DATE", value_parser = date)]
    pub before: Option<NaiveDate>,
    /// Delete quarantine files older than this many days
    /// [default: sites.toml [retention] quarantine_days].
    #[arg(long, value_name = "DAYS")]
    pub quarantine_days: Option<u32>,
    /// The date retention counts from [default: today].
    #[arg(long, value_name = "DATE", value_parser = date)]
    pub today: Option<NaiveDate>,
    /// Say what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Seconds to wait for another writer to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub wait: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum SitesCommand {
    /// The site values of the lake that sites.toml does not know, with their rows, and a
    /// sites.toml block to paste (aliases where a names file says which branch a value is).
    Suggest(SitesSuggestArgs),
}

#[derive(Debug, Args)]
pub struct SitesSuggestArgs {
    /// The lake folder.
    #[arg(long, value_name = "DIR")]
    pub lake: PathBuf,
    #[command(flatten)]
    pub sites: SitesArg,
    /// A CSV of the branches with their names and ids (e.g. Chicago's "Libraries -
    /// Locations, Hours and Contact Information"): values that are its ids become aliases.
    #[arg(long, value_name = "FILE")]
    pub names: Option<PathBuf>,
    /// Print the values as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Whether the key at hand ($TALLY_KEY or --key-file) is the lake's: exit 0 when it
    /// is, 2 when it is another key or there is none.
    Check(KeyCheckArgs),
}

#[derive(Debug, Args)]
pub struct KeyCheckArgs {
    /// The lake folder.
    #[arg(long, value_name = "DIR")]
    pub lake: PathBuf,
    /// The secret key [else $TALLY_KEY].
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipeline file.
    #[arg(value_name = "PIPELINE.toml")]
    pub pipeline: PathBuf,
    /// The period: 2026-10, 2026, fy2026, 2026-01-01..2026-06-30, previous-month,
    /// previous-year, previous-fy or all [default: the pipeline's period].
    #[arg(long, value_name = "P", value_parser = named::<PeriodSpec>(period_names))]
    pub period: Option<PeriodSpec>,
    /// Validate the file (every problem, with its key and line) and run nothing.
    #[arg(long)]
    pub check: bool,
    /// Resolve the pipeline's relative paths against DIR instead of its `root`.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Anchor relative periods (previous-month) to this day instead of today.
    #[arg(long, value_name = "DATE", hide = true, value_parser = date)]
    pub today: Option<NaiveDate>,
    /// Render from a Spark job's results (tally spark-job --pipeline) instead of
    /// computing: every figure with a SQL form is read from DIR; nothing is ingested.
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct SitesArg {
    /// The library's sites.toml [default: data/sites.toml when it exists].
    #[arg(long, value_name = "FILE")]
    pub sites: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo writes its inbox, lake and report.
    #[arg(long, value_name = "DIR", default_value = "reports/demo")]
    pub out: PathBuf,
    /// Days of synthetic data, from 2024-10-01.
    #[arg(long, default_value_t = tally_synth::DEFAULT_DAYS)]
    pub days: u32,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Multiplies volume (and stations) of the synthetic library.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimeMeans {
    Start,
    End,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The lake folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub lake: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Wait up to this many seconds for another writer, instead of refusing at once.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub wait: u64,
    /// The memory the engine may buffer, in MiB: records read ahead, rows being built
    /// and rows waiting to be written stay within it, whatever the file's size
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub memory_mib: usize,
    /// Print the per-file summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Export files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// How export files are read: shared by `ingest` and `doctor`.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The table the files are for (sessions, ...); a file of another table fails.
    #[arg(long, value_name = "TABLE", value_parser = named::<Table>(table_names))]
    pub table: Option<Table>,
    /// The files' format, or auto to detect it from each header (`tally formats` lists
    /// them).
    #[arg(long, value_name = "FORMAT", default_value = "auto", hide_possible_values = true,
          value_parser = named::<FormatArg>(format_names))]
    pub format: FormatArg,
    /// The time zone of the files' local times [default: each site's zone in sites.toml].
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    #[command(flatten)]
    pub sites: SitesArg,
    /// The secret key for pseudonymising patron identifiers [else $TALLY_KEY].
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// What EnvisionWare's pcrDateTime stamps.
    #[arg(long, value_enum, default_value_t = TimeMeans::Start)]
    pub envisionware_time: TimeMeans,
    /// A system prefix to strip from library codes (Symphony: EPL in EPLMNA).
    #[arg(long, value_name = "PREFIX")]
    pub strip_prefix: Option<String>,
    /// The measure of a totals file (sessions, circulation, visits, ...) when its columns
    /// and name do not say.
    #[arg(long, value_name = "MEASURE")]
    pub measure: Option<String>,
    /// The year of a totals file when neither its columns nor its name say.
    #[arg(long, value_name = "YYYY")]
    pub year: Option<i32>,
    /// The site of files that cover one site without naming it (a Meraki network).
    #[arg(long, value_name = "CODE")]
    pub site: Option<String>,
    /// A column mapping (TOML) for --format generic.
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// The station of a Windows log [default: the file's name].
    #[arg(long, value_name = "NAME")]
    pub station: Option<String>,
    /// The column that holds the site, instead of the columns the format tries in turn
    /// (`tally formats` lists them; values match sites.toml codes, names and aliases).
    #[arg(long, value_name = "COLUMN")]
    pub site_column: Option<String>,
    /// Snipe-IT: the custom field that holds the operating system, when it is not named
    /// `Operating System` or `OS` (e.g. "Windows Version").
    #[arg(long, value_name = "COLUMN")]
    pub os_column: Option<String>,
}

/// `tally doctor`: what ingest would make of files.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    /// Print the diagnoses as JSON.
    #[arg(long)]
    pub json: bool,
    /// Export files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutFormat {
    Table,
    Csv,
    Json,
    /// Parquet (needs -o FILE): for DuckDB, pandas, Power BI.
    Parquet,
}

#[derive(Debug, Args)]
pub struct PeriodArgs {
    /// The lake folder.
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    #[command(flatten)]
    pub sites: SitesArg,
    /// First day, inclusive (YYYY-MM-DD) [default: the first day with data; os_support
    /// and stale_devices: today; replacement_plan: this fiscal year's first day].
    #[arg(long, value_name = "DATE", value_parser = date)]
    pub from: Option<NaiveDate>,
    /// Last day, exclusive (YYYY-MM-DD) [default: the day after the last day with data;
    /// replacement_plan: five fiscal years on].
    #[arg(long, value_name = "DATE", value_parser = date)]
    pub to: Option<NaiveDate>,
    /// One day: the status on that day (--from DATE --to the next day --every all).
    #[arg(long, value_name = "DATE", value_parser = date, conflicts_with_all = ["from", "to"])]
    pub as_of: Option<NaiveDate>,
    /// Bucket: hour, day, week, month, quarter, fy, all [default: month; fy for
    /// replacement_plan; all for one day].
    #[arg(long, value_name = "BUCKET", value_parser = named::<BucketKind>(bucket_names))]
    pub every: Option<BucketKind>,
    /// Break down by (comma-separated; each metric takes some, `tally metric --list`
    /// says which): site, station, user_type, event, item_type, collection, location,
    /// patron_category, category, priority, status, ssid, kind, asset_tag, age_years, os,
    /// printer.
    #[arg(long, value_name = "COLS", value_delimiter = ',', hide_possible_values = true,
          value_parser = named::<Dim>(dim_names))]
    pub by: Vec<Dim>,
}

#[derive(Debug, Args)]
pub struct MetricArgs {
    /// The metric (see --list).
    #[arg(required_unless_present = "list", hide_possible_values = true,
          value_parser = named::<Metric>(metric_names))]
    pub name: Option<Metric>,
    /// List every metric with its definition, dimensions and buckets.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Add the same bucket a year earlier (previous_year) and the % change (change_pct).
    #[arg(long)]
    pub yoy: bool,
    /// Keep the N largest values of each bucket, largest first (e.g. `circulation --by
    /// collection --top 10`, `tickets_opened --by asset_tag --top 10`).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Leave out partial buckets: those the period or the lake's data covers only part of
    /// (a week cut by --to, a month in progress).
    #[arg(long)]
    pub complete_only: bool,
    /// replacement_plan: the money a fiscal year may spend [default: the level cap].
    #[arg(long, value_name = "AMOUNT")]
    pub budget: Option<f64>,
    #[arg(long, value_enum, default_value_t = OutFormat::Table)]
    pub format: OutFormat,
    /// Write to this file instead of standard output (needed for --format parquet).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SqlDialect {
    Duckdb,
    Spark,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The metric (see tally metric --list).
    #[arg(hide_possible_values = true, value_parser = named::<Metric>(metric_names))]
    pub name: Metric,
    /// The engine the statement is for.
    #[arg(long, value_enum, default_value_t = SqlDialect::Duckdb)]
    pub dialect: SqlDialect,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Add the same bucket a year earlier (previous_year) and the % change (change_pct).
    #[arg(long)]
    pub yoy: bool,
    /// Keep the N largest values of each bucket, largest first.
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Leave out partial buckets.
    #[arg(long)]
    pub complete_only: bool,
    /// Where the engine reads the lake's files (a folder, or s3a://, abfss://, hdfs://
    /// URI of the same files) [default: --lake].
    #[arg(long, value_name = "URI")]
    pub lake_uri: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ConsortiumCommand {
    /// consortium.html, consortium.xlsx and the tables as CSV: each member's sessions,
    /// circulation, Wi-Fi sessions, print pages and tickets (and per 1,000 residents),
    /// devices out of OS support and replacement cost due; each member against the
    /// consortium's median and quartiles; monthly trends.
    Report(ConsortiumReportArgs),
}

#[derive(Debug, Args)]
pub struct ConsortiumReportArgs {
    /// The consortium file (docs/consortium.md).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The folder to write the report to.
    #[arg(long, value_name = "DIR", required_unless_present = "spark_job")]
    pub out: Option<PathBuf>,
    /// The period: 2026-10, 2026, fy2026, 2026-01-01..2026-06-30, previous-month,
    /// previous-year, previous-fy or all [default: all: the days the members' lakes span].
    #[arg(long, value_name = "P", value_parser = named::<PeriodSpec>(period_names))]
    pub period: Option<PeriodSpec>,
    /// Write one Spark job over every member (job.sql and its tables) to DIR instead of
    /// the report; Spark writes each member's answers under --results URI/<member>/.
    #[arg(long, value_name = "DIR", requires = "results")]
    pub spark_job: Option<PathBuf>,
    /// With --spark-job: where Spark writes the answers (a folder or s3a://, abfss://,
    /// hdfs:// URI). Without: render the report from those answers (as a folder)
    /// instead of computing from the members' lakes.
    #[arg(long, value_name = "URI")]
    pub results: Option<String>,
    /// Anchor relative periods (previous-month) to this day instead of today.
    #[arg(long, value_name = "DATE", hide = true, value_parser = date)]
    pub today: Option<NaiveDate>,
}

#[derive(Debug, Args)]
pub struct SparkJobArgs {
    /// Metrics to answer, each with the flags given (with none, as `tally metric METRIC`
    /// answers it); or use --pipeline.
    #[arg(hide_possible_values = true, value_parser = named::<Metric>(metric_names),
          required_unless_present = "pipeline", conflicts_with = "pipeline")]
    pub metrics: Vec<Metric>,
    /// Every figure a pipeline's metrics and reports use, each with the pipeline's flags
    /// (its lake and sites.toml unless --lake and --sites are given).
    #[arg(long, value_name = "PIPELINE.toml")]
    pub pipeline: Option<PathBuf>,
    /// The pipeline's period (as tally run --period).
    #[arg(long, value_name = "P", value_parser = named::<PeriodSpec>(period_names), requires = "pipeline")]
    pub period: Option<PeriodSpec>,
    /// Resolve the pipeline's relative paths against DIR instead of its `root`.
    #[arg(long, value_name = "DIR", requires = "pipeline")]
    pub root: Option<PathBuf>,
    #[command(flatten)]
    pub ask: PeriodArgs,
    /// Where Spark reads the lake's files (s3a://, abfss://, hdfs:// or a folder)
    /// [default: --lake].
    #[arg(long, value_name = "URI")]
    pub lake_uri: Option<String>,
    /// Where Spark writes the answers: RESULTS/<metric or folder>/ and RESULTS/_index.
    #[arg(long, value_name = "URI")]
    pub results: String,
    /// The folder to write job.sql and its tables to.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Where Spark sees --out (the small tables) [default: --out].
    #[arg(long, value_name = "URI")]
    pub out_uri: Option<String>,
    /// Anchor relative periods (previous-month) to this day instead of today.
    #[arg(long, value_name = "DATE", hide = true, value_parser = date)]
    pub today: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ChartKind {
    Bar,
    Stacked,
    Line,
    Heatmap,
}

#[derive(Debug, Args)]
pub struct ChartArgs {
    #[arg(hide_possible_values = true, value_parser = named::<Metric>(metric_names))]
    pub name: Metric,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Chart kind [default: heatmap for heatmap, bar for one bucket, else line].
    #[arg(long, value_enum)]
    pub kind: Option<ChartKind>,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long, default_value_t = 1200)]
    pub width: u32,
    #[arg(long, default_value_t = 600)]
    pub height: u32,
    /// Keep the N largest values of each bucket (e.g. the ten busiest stations).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Leave out partial buckets (a week cut by --to, a month in progress); without it
    /// they are drawn lighter, with a legend entry.
    #[arg(long)]
    pub complete_only: bool,
    /// Output file; .svg for SVG, anything else PNG.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[arg(long, value_name = "DIR")]
    pub lake: PathBuf,
    #[arg(long, value_enum, default_value_t = OutFormat::Table)]
    pub format: OutFormat,
    /// Write to this file instead of standard output (needed for --format parquet).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    pub sql: String,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[arg(long, default_value_t = tally_synth::DEFAULT_DAYS)]
    pub days: u32,
    /// First day (YYYY-MM-DD).
    #[arg(long, default_value = "2024-10-01")]
    pub start: String,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Leave out the malformed rows planted on purpose.
    #[arg(long)]
    pub no_malformed: bool,
    /// A synthetic consortium of N libraries instead: each member's exports, lake and
    /// sites.toml under OUT/members/<code>/, and OUT/consortium.toml.
    #[arg(long, value_name = "N")]
    pub libraries: Option<usize>,
}

#[derive(Debug, Args)]
pub struct SurveyArgs {
    #[arg(long, value_name = "DIR")]
    pub lake: PathBuf,
    #[command(flatten)]
    pub sites: SitesArg,
    /// The fiscal year, named by the year it ends in (the library's fiscal_year_start_month).
    #[arg(long, value_name = "YEAR")]
    pub fy: i32,
    #[arg(long, value_enum, default_value_t = OutFormat::Table)]
    pub format: OutFormat,
}

#[derive(Debug, Args)]
pub struct PeersArgs {
    #[arg(long, value_name = "DIR")]
    pub lake: PathBuf,
    #[command(flatten)]
    pub sites: SitesArg,
    /// The survey year (FY2018 is 2018).
    #[arg(long, value_name = "YEAR")]
    pub fy: i32,
    /// The library's FSCSKEY [default: sites.toml fscskey].
    #[arg(long, value_name = "KEY")]
    pub library: Option<String>,
    /// Peers in the library's state only.
    #[arg(long, conflicts_with = "peers")]
    pub state: bool,
    /// These libraries are the peers (FSCSKEYs) [default: every library serving half to
    /// one and a half times the library's population].
    #[arg(long, value_name = "KEYS", value_delimiter = ',')]
    pub peers: Vec<String>,
    #[arg(long, value_enum, default_value_t = OutFormat::Table)]
    pub format: OutFormat,
}
