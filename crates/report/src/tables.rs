//! A frame as a file: CSV, JSON (an array of row objects) or Parquet. Used by pipelines
//! and by `tally metric`/`tally query -o`.

use std::io::Write;
use std::path::Path;
use std::str::FromStr;

use polars::prelude::*;

use crate::doc::{ReportError, io_error};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Json,
    Parquet,
}

impl TableFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::Json => "json",
            TableFormat::Parquet => "parquet",
        }
    }
}

impl FromStr for TableFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(TableFormat::Csv),
            "json" => Ok(TableFormat::Json),
            "parquet" => Ok(TableFormat::Parquet),
            other => Err(format!(
                "unknown table format \"{other}\"; known: csv, json, parquet"
            )),
        }
    }
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
        AnyValue::Float32(x) => {
            serde_json::Number::from_f64(f64::from(x)).map_or(serde_json::Value::Null, Into::into)
        }
        AnyValue::Float64(x) => {
            serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, Into::into)
        }
        other => other.to_string().trim_matches('"').into(),
    }
}

/// Every row as a JSON object, columns by name.
pub fn frame_rows_json(df: &DataFrame) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let columns = df.columns();
    (0..df.height())
        .map(|i| {
            columns
                .iter()
                .map(|c| {
                    (
                        c.name().to_string(),
                        json_value(c.get(i).unwrap_or(AnyValue::Null)),
                    )
                })
                .collect()
        })
        .collect()
}

/// The frame in `format` to any writer.
pub fn write_to(df: &mut DataFrame, format: TableFormat, out: &mut dyn Write) -> PolarsResult<()> {
    match format {
        TableFormat::Csv => CsvWriter::new(out).finish(df),
        TableFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &frame_rows_json(df))
                .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
            writeln!(out).map_err(PolarsError::from)
        }
        TableFormat::Parquet => ParquetWriter::new(out).finish(df).map(|_| ()),
    }
}

/// The frame in `format` to a file.
pub fn write(df: &mut DataFrame, format: TableFormat, path: &Path) -> Result<(), ReportError> {
    let file = std::fs::File::create(path).map_err(io_error(path))?;
    let mut w = std::io::BufWriter::new(file);
    write_to(df, format, &mut w)?;
    w.flush().map_err(io_error(path))
}
