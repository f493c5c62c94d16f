//! The examples of each crate's documentation (its `lib.rs`), run as written: the tidy
//! test checks that every line of those examples appears here, so a stale example fails.

use std::path::PathBuf;

use chrono::NaiveDate;
use tally_charts::{Chart, Series, Style, render_file};
use tally_ingest::{IngestOptions, Pseudonymiser, ingest_files};
use tally_lake::Lake;
use tally_metrics::{Dim, Metric, Request, compute};
use tally_model::BucketKind;
use tally_report::{Format, doc, usage};
use tally_synth::SynthConfig;

use crate::common::{TEST_KEY, walk};

// As written in the crates' docs, line for line (the tidy test compares them).
#[rustfmt::skip]
#[test]
fn the_crates_examples_run_as_written() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let inbox = dir.path().join("inbox");
    let lake = Lake::new(dir.path().join("lake"));
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, TEST_KEY)?;
    let png = dir.path().join("sessions.png");
    let out_dir = dir.path().join("reports");

    // tally-model
    let sites = tally_model::Sites::load("data/sites.toml".as_ref())?;
    let central = sites.site("CEN").unwrap();
    assert_eq!(central.stations, 48);

    // tally-synth
    let summary = tally_synth::generate(&SynthConfig { out: inbox.clone(), days: 14, ..Default::default() })?;
    assert!(summary.sessions > 0);

    // tally-ingest
    let files: Vec<PathBuf> = walk(&inbox.join("envisionware"));
    let key = Pseudonymiser::from_file_or_env(Some(key_file.as_ref()))?;
    let outcomes = ingest_files(&lake, &sites, Some(&key), &IngestOptions::default(), &files)?;
    assert!(outcomes.iter().all(|o| o.summary.is_balanced()));

    // tally-lake
    let snapshot = lake.snapshot()?;
    let sessions = snapshot.scan(tally_model::Table::Sessions, None)?.collect()?;
    assert_eq!(sessions.height() as u64, snapshot.entries().iter().map(|e| e.rows_stored).sum::<u64>());

    // tally-metrics
    let (from, to) = (NaiveDate::from_ymd_opt(2024, 10, 1).unwrap(), NaiveDate::from_ymd_opt(2024, 10, 15).unwrap());
    let req = Request { metric: Metric::Occupancy, from, to, every: BucketKind::Month, by: vec![Dim::Site], budget: None };
    let out = compute(&lake.snapshot()?, &sites, &req)?;
    assert!(out.frame.height() > 0);

    // tally-report
    let report = usage::build(&lake.snapshot()?, &sites, from, to)?;
    doc::write(&report, &out_dir, "usage", &[Format::Html, Format::Markdown])?;
    assert!(out_dir.join("usage.html").exists());

    // tally-charts
    let chart = Chart::Bar { categories: vec!["CEN".into(), "PIN".into()], series: Series::new("sessions", vec![Some(120.0), Some(80.0)]) };
    render_file(&chart, &Style::new("Sessions by branch", "sessions"), &png)?;
    assert!(std::fs::metadata(&png)?.len() > 1000);

    // tally-pipeline
    let p = tally_pipeline::load("pipelines/monthly-usage.toml".as_ref())?;
    assert_eq!(p.name, "monthly-usage");
    Ok(())
}
