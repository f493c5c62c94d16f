//! What differs between the SQL engines tally writes for: DuckDB (any laptop, and the
//! cross-checks) and Spark SQL (3.5 and 4.x, ANSI mode, a consortium's cluster). Only
//! forms that were run on both are used; where they differ, each dialect has its own.
//! docs/sql.md keeps the list of differences and why.

use std::fmt::Write;

/// The SQL engine a statement is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    DuckDb,
    Spark,
}

impl Dialect {
    pub const ALL: [Dialect; 2] = [Dialect::DuckDb, Dialect::Spark];

    pub fn name(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Spark => "spark",
        }
    }

    /// A text literal. DuckDB doubles a quote; Spark escapes quotes and backslashes
    /// (Spark 3.5 reads `'it''s'` as two literals).
    pub fn text(self, s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('\'');
        for c in s.chars() {
            match (self, c) {
                (Dialect::DuckDb, '\'') => out.push_str("''"),
                (Dialect::Spark, '\'') => out.push_str("\\'"),
                (Dialect::Spark, '\\') => out.push_str("\\\\"),
                (_, c) => out.push(c),
            }
        }
        out.push('\'');
        out
    }

    /// A column name, quoted (the lake has columns named `end` and `time`).
    pub fn ident(self, name: &str) -> String {
        match self {
            Dialect::DuckDb => format!("\"{}\"", name.replace('"', "\"\"")),
            Dialect::Spark => format!("`{}`", name.replace('`', "``")),
        }
    }

    /// A 64-bit integer literal.
    pub fn int(self, v: i64) -> String {
        format!("CAST({v} AS BIGINT)")
    }

    /// A double literal (`1.5` is a DECIMAL in both engines).
    pub fn double(self, v: f64) -> String {
        if v.is_finite() {
            // Rust's shortest round-trip form, in scientific notation: a DOUBLE in both.
            let repr = format!("{v:?}");
            let repr = if repr.contains(['e', 'E']) {
                repr
            } else {
                format!("{repr}E0")
            };
            format!("CAST({repr} AS DOUBLE)")
        } else {
            "CAST(NULL AS DOUBLE)".into()
        }
    }

    /// An instant column (or expression) as UTC microseconds since 1970.
    pub fn micros(self, e: &str) -> String {
        match self {
            Dialect::DuckDb => format!("epoch_us({e})"),
            Dialect::Spark => format!("unix_micros({e})"),
        }
    }

    /// A date column (or expression) as days since 1970-01-01.
    pub fn days(self, e: &str) -> String {
        match self {
            Dialect::DuckDb => format!("CAST(({e}) - DATE '1970-01-01' AS BIGINT)"),
            Dialect::Spark => format!("CAST(unix_date({e}) AS BIGINT)"),
        }
    }

    /// The wall clock of an instant column in a named zone, as a value whose hour and
    /// weekday are the local ones (the session's zone is UTC: see [`Dialect::preamble`]).
    fn local(self, e: &str, zone: &str) -> String {
        match self {
            Dialect::DuckDb => format!("timezone({}, {e})", self.text(zone)),
            Dialect::Spark => format!("from_utc_timestamp({e}, {})", self.text(zone)),
        }
    }

    /// A date plus whole months (an INT expression), the day clamped to the month's
    /// last (Jan 31 + 1 month is Feb 28 or 29), as chrono's `checked_add_months`.
    pub fn add_months(self, date: &str, months: &str) -> String {
        match self {
            Dialect::DuckDb => format!("CAST(({date}) + to_months({months}) AS DATE)"),
            Dialect::Spark => format!("add_months({date}, {months})"),
        }
    }

    /// The local hour (0 to 23) of an instant column in a zone.
    pub fn local_hour(self, e: &str, zone: &str) -> String {
        format!("CAST(hour({}) AS DOUBLE)", self.local(e, zone))
    }

    /// The ISO weekday (1 Monday to 7 Sunday) of an instant column in a zone.
    pub fn local_weekday(self, e: &str, zone: &str) -> String {
        match self {
            Dialect::DuckDb => format!("CAST(isodow({}) AS DOUBLE)", self.local(e, zone)),
            Dialect::Spark => format!("CAST(weekday({}) + 1 AS DOUBLE)", self.local(e, zone)),
        }
    }

    /// Floor division of a non-negative or negative BIGINT by a positive constant.
    pub fn floor_div(self, e: &str, by: i64) -> String {
        format!("CAST(FLOOR(CAST({e} AS DOUBLE) / {by}E0) AS BIGINT)")
    }

    /// The linear-interpolation quantile of a value (Excel's PERCENTILE.INC).
    pub fn quantile(self, e: &str, q: f64) -> String {
        format!(
            "percentile_cont({}) WITHIN GROUP (ORDER BY CAST({e} AS DOUBLE))",
            self.double(q)
        )
    }

    /// The distinct count of a 64-bit column.
    pub fn count_distinct(self, e: &str) -> String {
        format!("CAST(COUNT(DISTINCT {e}) AS BIGINT)")
    }

    /// A relation of exactly these Parquet files (a fixed list, never a glob), with the
    /// columns named: DuckDB reads a list; Spark reads each path, glob characters escaped,
    /// in a UNION ALL.
    pub fn files(self, paths: &[String], columns: &[&str]) -> String {
        let cols = columns
            .iter()
            .map(|c| self.ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        match self {
            Dialect::DuckDb => {
                let list: Vec<String> = paths.iter().map(|p| self.text(p)).collect();
                format!("SELECT {cols} FROM read_parquet([{}])", list.join(", "))
            }
            Dialect::Spark => paths
                .iter()
                .map(|p| {
                    let mut escaped = String::new();
                    for c in p.chars() {
                        if matches!(c, '[' | ']' | '{' | '}' | '*' | '?' | '\\') {
                            escaped.push('\\');
                        }
                        if c == '`' {
                            escaped.push('`');
                        }
                        escaped.push(c);
                    }
                    format!("SELECT {cols} FROM parquet.`{escaped}`")
                })
                .collect::<Vec<_>>()
                .join("\nUNION ALL\n"),
        }
    }

    /// The settings a script starts with: everything in UTC, ANSI rules, timestamps
    /// written as microseconds, dates read as written.
    pub fn preamble(self) -> String {
        match self {
            Dialect::DuckDb => "SET TimeZone = 'UTC';\n".into(),
            Dialect::Spark => {
                let mut s = String::new();
                for (k, v) in [
                    ("spark.sql.session.timeZone", "UTC"),
                    ("spark.sql.ansi.enabled", "true"),
                    ("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS"),
                    ("spark.sql.parquet.datetimeRebaseModeInRead", "CORRECTED"),
                    ("spark.sql.parquet.datetimeRebaseModeInWrite", "CORRECTED"),
                    ("spark.sql.parquet.int96RebaseModeInRead", "CORRECTED"),
                    ("spark.sql.parquet.int96RebaseModeInWrite", "CORRECTED"),
                ] {
                    let _ = writeln!(s, "SET {k}={v};");
                }
                s
            }
        }
    }

    /// A subquery read in several places, computed once. Spark copies a deterministic
    /// common table expression into every place that reads it, so a chain of them (the
    /// fleet's device join: inventory, directory, the joins by tag, serial and name) is
    /// planned hundreds of times and the driver runs out of memory; a filter that is
    /// always true but not deterministic (`rand() >= 0`) keeps it one. DuckDB plans each
    /// once already.
    pub fn computed_once(self, body: &str) -> String {
        match self {
            Dialect::DuckDb => body.to_string(),
            Dialect::Spark => format!("SELECT * FROM ({body}) once_ WHERE rand() >= 0"),
        }
    }

    /// A typed NULL.
    pub fn null(self, ty: &str) -> String {
        format!("CAST(NULL AS {ty})")
    }
}

impl std::str::FromStr for Dialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "duckdb" => Ok(Dialect::DuckDb),
            "spark" | "sparksql" | "spark-sql" => Ok(Dialect::Spark),
            other => Err(format!(
                "unknown SQL dialect \"{other}\"; known: duckdb, spark"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_each_engine_reads_as_written() {
        assert_eq!(Dialect::DuckDb.text("it's"), "'it''s'");
        assert_eq!(Dialect::Spark.text("it's a\\b"), "'it\\'s a\\\\b'");
        assert_eq!(Dialect::DuckDb.double(0.5), "CAST(0.5E0 AS DOUBLE)");
        assert_eq!(Dialect::DuckDb.double(17.0), "CAST(17.0E0 AS DOUBLE)");
        assert_eq!(Dialect::DuckDb.double(1e-9), "CAST(1e-9 AS DOUBLE)");
        assert!(
            Dialect::Spark
                .files(&["/a/x[1].parquet".into()], &["a"])
                .contains("x\\[1\\]")
        );
    }
}
