//! Writing tables to stdout as an aligned table, CSV or JSON.

use std::io::Write;

use polars::prelude::*;

use crate::cli::OutFormat;

pub fn write_frame(df: &mut DataFrame, format: OutFormat, out: &mut dyn Write) -> anyhow::Result<()> {
    match format {
        OutFormat::Csv => {
            CsvWriter::new(out).finish(df)?;
        }
        OutFormat::Json => {
            let rows = frame_rows_json(df);
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)?;
        }
        OutFormat::Table => write_table(df, out)?,
    }
    Ok(())
}

fn json_value(v: AnyValue<'_>) -> serde_json::Value {
    match v {
        AnyValue::Null => serde_json::Value::Null,
        AnyValue::Boolean(b) => b.into(),
        AnyValue::String(s) => s.into(),
        AnyValue::StringOwned(s) => s.as_str().into(),
        AnyValue::Int8(x) => x.into(),
        AnyValue::Int16(x) => x.into(),
        AnyValue::Int32(x) => x.into(),
        AnyValue::Int64(x) => x.into(),
        AnyValue::UInt8(x) => x.into(),
        AnyValue::UInt16(x) => x.into(),
        AnyValue::UInt32(x) => x.into(),
        AnyValue::UInt64(x) => x.into(),
        AnyValue::Float32(x) => serde_json::Number::from_f64(f64::from(x)).map_or(serde_json::Value::Null, Into::into),
        AnyValue::Float64(x) => serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, Into::into),
        other => other.to_string().trim_matches('"').into(),
    }
}

pub fn frame_rows_json(df: &DataFrame) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let columns = df.columns();
    (0..df.height())
        .map(|i| {
            columns
                .iter()
                .map(|c| (c.name().to_string(), json_value(c.get(i).unwrap_or(AnyValue::Null))))
                .collect()
        })
        .collect()
}

fn cell_text(v: AnyValue<'_>) -> (String, bool) {
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

/// Every row, aligned; numbers to the right. Floats show four decimals (CSV and JSON
/// keep full precision).
fn write_table(df: &DataFrame, out: &mut dyn Write) -> std::io::Result<()> {
    let columns = df.columns();
    let header: Vec<String> = columns.iter().map(|c| c.name().to_string()).collect();
    let cells: Vec<Vec<(String, bool)>> =
        (0..df.height()).map(|i| columns.iter().map(|c| cell_text(c.get(i).unwrap_or(AnyValue::Null))).collect()).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|j| cells.iter().map(|r| r[j].0.chars().count()).chain([header[j].len()]).max().unwrap_or(0))
        .collect();
    let line: Vec<String> = header.iter().zip(&widths).map(|(h, w)| format!("{h:<w$}")).collect();
    writeln!(out, "{}", line.join("  ").trim_end())?;
    writeln!(out, "{}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "))?;
    for row in &cells {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|((t, num), w)| if *num { format!("{t:>w$}") } else { format!("{t:<w$}") })
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    Ok(())
}
