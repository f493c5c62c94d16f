//! Writing tables to stdout as an aligned table, CSV or JSON.

use std::io::Write;
use std::path::Path;

use polars::prelude::*;

use tally_report::tables::TableFormat;

use crate::cli::OutFormat;

/// How the aligned table shows a column's numbers: as the catalogue's unit says (a
/// metric's table: shares as per cent), or as they are (`tally query`, `survey`).
pub type Units<'a> = Option<&'a dyn Fn(&str) -> tally_metrics::Unit>;

/// The frame to a file, or to standard output; Parquet only to a file.
pub fn write_frame(
    df: &mut DataFrame,
    format: OutFormat,
    path: Option<&Path>,
) -> anyhow::Result<()> {
    write_frame_as(df, format, path, None)
}

/// A metric's table, its columns shown for people by their units in the aligned table
/// (CSV, JSON and Parquet keep the stored values: shares 0-1).
pub fn write_metric_frame(
    df: &mut DataFrame,
    format: OutFormat,
    path: Option<&Path>,
    metric: tally_metrics::Metric,
) -> anyhow::Result<()> {
    let units = move |c: &str| metric.column_unit(c);
    write_frame_as(df, format, path, Some(&units))
}

fn write_frame_as(
    df: &mut DataFrame,
    format: OutFormat,
    path: Option<&Path>,
    units: Units<'_>,
) -> anyhow::Result<()> {
    match path {
        Some(p) => {
            let file = std::fs::File::create(p)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
            let mut w = std::io::BufWriter::new(file);
            write_text(df, format, &mut w, units)?;
            w.flush()?;
            Ok(())
        }
        None if format == OutFormat::Parquet => Err(crate::commands::usage(
            "--format parquet writes a file: add -o FILE.parquet",
        )),
        None => write_text(df, format, &mut std::io::stdout().lock(), units),
    }
}

fn write_text(
    df: &mut DataFrame,
    format: OutFormat,
    out: &mut dyn Write,
    units: Units<'_>,
) -> anyhow::Result<()> {
    match format {
        OutFormat::Parquet => tally_report::tables::write_to(df, TableFormat::Parquet, out)?,
        OutFormat::Csv => tally_report::tables::write_to(df, TableFormat::Csv, out)?,
        OutFormat::Json => tally_report::tables::write_to(df, TableFormat::Json, out)?,
        OutFormat::Table => write_table(&partial_as_text(df)?, out, units)?,
    }
    Ok(())
}

/// For people, the three coverage columns read as one: `partial` says "6 of 7 days" on a
/// partial bucket and is blank on a whole one (CSV, JSON and Parquet keep the three).
fn partial_as_text(df: &DataFrame) -> anyhow::Result<DataFrame> {
    let [partial, covered, days] = tally_metrics::COVERAGE_COLUMNS;
    if df.column(partial).is_err() {
        return Ok(df.clone());
    }
    let flags = df.column(partial)?.bool()?.clone();
    let covered = df.column(covered)?.cast(&DataType::Int64)?;
    let days = df.column(days)?.cast(&DataType::Int64)?;
    let text: Vec<Option<String>> = flags
        .iter()
        .zip(covered.i64()?.iter().zip(days.i64()?.iter()))
        .map(|(p, (c, d))| match (p, c, d) {
            (Some(true), Some(c), Some(d)) => Some(format!("{c} of {d} days")),
            (Some(true), _, _) => Some("partial".into()),
            _ => None,
        })
        .collect();
    let mut out = df.drop_many(tally_metrics::COVERAGE_COLUMNS);
    out.with_column(Column::new(partial.into(), text))?;
    Ok(out)
}

fn cell_text(v: AnyValue<'_>, unit: Option<tally_metrics::Unit>) -> (String, bool) {
    if let (Some(unit), Some(x)) = (unit, v.extract::<f64>())
        && !matches!(v, AnyValue::Null)
    {
        return (unit.show(x), true);
    }
    match v {
        AnyValue::Null => (String::new(), true),
        AnyValue::String(s) => (s.to_string(), false),
        AnyValue::StringOwned(s) => (s.to_string(), false),
        AnyValue::Float64(x) => (format!("{x:.4}"), true),
        AnyValue::Float32(x) => (format!("{x:.4}"), true),
        v if v.is_integer() => (v.to_string(), true),
        other => (other.to_string().trim_matches('"').to_string(), false),
    }
}

/// Every row, aligned; numbers to the right. A metric's columns show as their units say
/// (shares as per cent, counts whole, hours with one decimal); other floats show four
/// decimals. CSV and JSON keep full precision.
fn write_table(df: &DataFrame, out: &mut dyn Write, units: Units<'_>) -> std::io::Result<()> {
    let columns = df.columns();
    let header: Vec<String> = columns.iter().map(|c| c.name().to_string()).collect();
    let column_units: Vec<Option<tally_metrics::Unit>> = columns
        .iter()
        .map(|c| match (units, c.dtype()) {
            (Some(u), dt) if dt.is_primitive_numeric() => Some(u(c.name())),
            _ => None,
        })
        .collect();
    let cells: Vec<Vec<(String, bool)>> = (0..df.height())
        .map(|i| {
            columns
                .iter()
                .zip(&column_units)
                .map(|(c, u)| cell_text(c.get(i).unwrap_or(AnyValue::Null), *u))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|j| {
            cells
                .iter()
                .map(|r| r[j].0.chars().count())
                .chain([header[j].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line: Vec<String> = header
        .iter()
        .zip(&widths)
        .map(|(h, w)| format!("{h:<w$}"))
        .collect();
    writeln!(out, "{}", line.join("  ").trim_end())?;
    writeln!(
        out,
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  ")
    )?;
    for row in &cells {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|((t, num), w)| {
                if *num {
                    format!("{t:>w$}")
                } else {
                    format!("{t:<w$}")
                }
            })
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    Ok(())
}
