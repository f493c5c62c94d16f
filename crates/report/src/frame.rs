//! Tables for reports, from metric frames.

use polars::prelude::*;
use tally_metrics::{Unit, column_unit};

/// One table cell, formatted when rendered so the CSV keeps full precision.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A number with this many decimals.
    Number(f64, usize),
    /// 0..1 as a percentage with one decimal.
    Percent(f64),
    /// No value: no opening hours, no data, or suppressed.
    Empty,
}

impl Cell {
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(v) => group_thousands(&v.to_string()),
            Cell::Number(v, d) => {
                let s = format!("{v:.d$}", d = *d);
                let (int, frac) = s
                    .split_once('.')
                    .map_or((s.as_str(), None), |(a, b)| (a, Some(b)));
                match frac {
                    Some(f) => format!("{}.{f}", group_thousands(int)),
                    None => group_thousands(int),
                }
            }
            Cell::Percent(v) => format!("{:.1}%", v * 100.0),
            Cell::Empty => "–".into(),
        }
    }

    pub fn is_numeric(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }
}

fn group_thousands(int: &str) -> String {
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{sign}{out}")
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A column as numbers, nulls as `None`.
pub fn f64s(df: &DataFrame, c: &str) -> PolarsResult<Vec<Option<f64>>> {
    Ok(df
        .column(c)?
        .cast(&DataType::Float64)?
        .f64()?
        .iter()
        .collect())
}

/// A column as text, nulls as "".
pub fn strs(df: &DataFrame, c: &str) -> PolarsResult<Vec<String>> {
    Ok(df
        .column(c)?
        .cast(&DataType::String)?
        .str()?
        .iter()
        .map(|s| s.unwrap_or("").to_string())
        .collect())
}

/// How a value column is shown.
#[derive(Debug, Clone, Copy)]
pub enum Show {
    Int,
    Decimals(usize),
    Percent,
}

impl Show {
    /// As the catalogue's unit says: a share as per cent, a count whole, a measure, rate
    /// or cost with its decimals.
    pub fn of(unit: Unit) -> Show {
        match unit {
            Unit::Share(_) => Show::Percent,
            u if u.decimals() == 0 && !matches!(u, Unit::Measure(..) | Unit::Currency) => Show::Int,
            u => Show::Decimals(u.decimals()),
        }
    }
}

/// How a column of a metric's table is shown, by its name (the catalogue's
/// `column_unit`).
pub fn show_column(name: &str) -> Show {
    Show::of(column_unit(name))
}

/// A value as a table cell shown so.
pub fn cell(v: Option<f64>, show: Show) -> Cell {
    match (v, show) {
        (None, _) => Cell::Empty,
        (Some(v), Show::Percent) => Cell::Percent(v),
        (Some(v), Show::Decimals(d)) => Cell::Number(v, d),
        (Some(v), Show::Int) => Cell::Int(v.round() as i64),
    }
}

/// A frame as a table; `show` says how to format each numeric column by name.
pub fn table_from_frame(
    df: &DataFrame,
    caption: &str,
    show: &dyn Fn(&str) -> Show,
) -> PolarsResult<Table> {
    let header: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut rows = vec![Vec::with_capacity(header.len()); df.height()];
    for column in df.columns() {
        let name = column.name().as_str();
        match column.dtype() {
            DataType::String => {
                for (i, v) in column.str()?.iter().enumerate() {
                    rows[i].push(v.map_or(Cell::Empty, |s| Cell::Text(s.to_string())));
                }
            }
            dt if dt.is_integer() && !matches!(show(name), Show::Percent) => {
                let c = column.cast(&DataType::Int64)?;
                for (i, v) in c.i64()?.iter().enumerate() {
                    rows[i].push(v.map_or(Cell::Empty, Cell::Int));
                }
            }
            _ => {
                let c = column.cast(&DataType::Float64)?;
                for (i, v) in c.f64()?.iter().enumerate() {
                    rows[i].push(match (v, show(name)) {
                        (None, _) => Cell::Empty,
                        (Some(v), Show::Percent) => Cell::Percent(v),
                        (Some(v), Show::Decimals(d)) => Cell::Number(v, d),
                        (Some(v), Show::Int) => Cell::Int(v.round() as i64),
                    });
                }
            }
        }
    }
    Ok(Table {
        caption: caption.into(),
        header,
        rows,
    })
}
