//! Counts kept only as aggregates: open-data files and the spreadsheets of past years.
//!
//! `totals-long`: one row per period (and site): a year column, optionally a month
//! column, optionally a site column, and one value column whose name says the measure
//! (Toronto's `_id,Year,BranchCode,Sessions`; Chicago's Wi-Fi `MONTH,YEAR,NUMBER OF
//! SESSIONS,CUMULATIVE NUMBER OF SESSIONS`). A cumulative column is checked against the
//! running sum of the values.
//!
//! `totals-wide`: one row per site with a column per month and a YTD column (Chicago's
//! `LOCATION,JANUARY,...,DECEMBER,YTD`). YTD is checked against the sum of the months.
//! The year is `--year`, else the four-digit year in the file name.
//!
//! The measure is `--measure`, else read from the value column's name and the file name
//! (sessions, wifi_sessions, circulation, visits, card_registrations).

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::IngestError;
use crate::adapters::Ctx;
use crate::identity::Identity;
use crate::reader::{CsvInput, normalize_header};
use crate::rows::{Value, mask_record};

pub const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Header names that hold the year, the month, the site, or a running total.
const YEAR: &[&str] = &["year", "fiscalyear", "yr"];
const MONTH: &[&str] = &["month", "mon"];
const SITE: &[&str] = &[
    "branchcode",
    "branch",
    "location",
    "site",
    "library",
    "branchname",
];
const IGNORED: &[&str] = &["_id", "id"];

fn is_cumulative(h: &str) -> bool {
    h.contains("cumulative") || h == "ytd" || h.contains("yeartodate")
}

/// The measure a value column (and the file's name) says.
pub fn measure_of(column: &str, file_name: &str) -> String {
    let c = normalize_header(column);
    let f = file_name.to_ascii_lowercase().replace(['_', '-', ' '], "");
    let wifi = f.contains("wifi") || f.contains("wireless") || c.contains("wifi");
    if c.contains("session")
        || c.contains("workstation")
        || f.contains("computersession")
        || f.contains("workstation")
    {
        if wifi {
            "wifi_sessions".into()
        } else {
            "sessions".into()
        }
    } else if c.contains("circ") || (c.is_empty() && f.contains("circ")) {
        "circulation".into()
    } else if c.contains("visit") || f.contains("visit") && c.is_empty() {
        "visits".into()
    } else if c.contains("registration") {
        "card_registrations".into()
    } else if wifi {
        "wifi_sessions".into()
    } else {
        c
    }
}

fn year_from_file_name(name: &str) -> Option<i32> {
    let digits: Vec<char> = name.chars().collect();
    (0..digits.len().saturating_sub(3)).find_map(|i| {
        let s: String = digits[i..i + 4].iter().collect();
        let before_ok = i == 0 || !digits[i - 1].is_ascii_digit();
        let after_ok = i + 4 >= digits.len() || !digits[i + 4].is_ascii_digit();
        s.parse::<i32>()
            .ok()
            .filter(|y| (1900..=2100).contains(y) && before_ok && after_ok)
    })
}

fn month_number(s: &str) -> Option<u32> {
    let t = s.trim().to_ascii_lowercase();
    t.parse::<u32>()
        .ok()
        .filter(|m| (1..=12).contains(m))
        .or_else(|| {
            MONTHS
                .iter()
                .position(|m| *m == t || (t.len() >= 3 && m.starts_with(&t)))
                .map(|i| i as u32 + 1)
        })
}

/// A count: digits with optional thousands separators; text is an error.
fn number(s: &str) -> Option<f64> {
    let t = s.trim().replace(',', "");
    if t.is_empty() {
        None
    } else {
        t.parse::<f64>().ok().filter(|v| v.is_finite())
    }
}

fn first_of_month(y: i32, m: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, 1)
}

fn next_month(d: NaiveDate) -> NaiveDate {
    if d.month0() == 11 {
        first_of_month(d.year() + 1, 1)
    } else {
        first_of_month(d.year(), d.month() + 1)
    }
    .expect("valid")
}

use chrono::Datelike;

pub fn read_long(
    input: &mut CsvInput,
    ctx: &mut Ctx<'_>,
    measure: Option<&str>,
) -> Result<(), IngestError> {
    let normalized: Vec<String> = input.header.iter().map(|h| normalize_header(h)).collect();
    let find = |names: &[&str]| normalized.iter().position(|h| names.contains(&h.as_str()));
    let year = find(YEAR).ok_or_else(|| IngestError::MissingColumns {
        path: input.path.clone(),
        format: "totals-long".into(),
        missing: vec!["Year".into()],
        expected: vec![
            "Year".into(),
            "[Month]".into(),
            "[BranchCode]".into(),
            "a value column".into(),
        ],
        found: input.header.clone(),
    })?;
    let month = find(MONTH);
    let site = find(SITE);
    let cumulative = normalized.iter().position(|h| is_cumulative(h));
    let value = (0..normalized.len())
        .find(|&i| {
            Some(i) != month
                && Some(i) != site
                && i != year
                && Some(i) != cumulative
                && !IGNORED.contains(&normalized[i].as_str())
        })
        .ok_or_else(|| IngestError::MissingColumns {
            path: input.path.clone(),
            format: "totals-long".into(),
            missing: vec!["a value column".into()],
            expected: vec!["Year".into(), "a value column".into()],
            found: input.header.clone(),
        })?;
    let file_name = input
        .path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let measure = measure.map_or_else(
        || measure_of(&input.header[value], &file_name),
        str::to_string,
    );
    let width = input.header.len();
    let delimiter = input.delimiter;
    let value_name = input.header[value].clone();
    // Running sums per (site, year), to check a cumulative column.
    let mut running: HashMap<(String, i32), f64> = HashMap::new();
    input.for_each_record(|line, rec| {
        ctx.tally.rows_read += 1;
        let field = |i: usize| rec.get(i).map(|b| String::from_utf8_lossy(b).trim().to_string()).unwrap_or_default();
        if rec.len() != width {
            ctx.tally.quarantine(line, "", format!("wrong number of fields: expected {width}, found {}", rec.len()), mask_record(rec, delimiter, &[]));
            return;
        }
        let Some(y) = field(year).parse::<i32>().ok().filter(|y| (1900..=2100).contains(y)) else {
            ctx.tally.quarantine(line, "Year", format!("year not a year: got \"{}\"", field(year)), mask_record(rec, delimiter, &[]));
            return;
        };
        let (start, end) = match month {
            Some(m) => match month_number(&field(m)) {
                Some(mn) => {
                    let s = first_of_month(y, mn).expect("valid");
                    (s, next_month(s))
                }
                None => {
                    ctx.tally.quarantine(line, "Month", format!("month not a month: got \"{}\"", field(m)), mask_record(rec, delimiter, &[]));
                    return;
                }
            },
            None => (first_of_month(y, 1).expect("valid"), first_of_month(y + 1, 1).expect("valid")),
        };
        let raw_value = field(value);
        let Some(v) = number(&raw_value) else {
            ctx.tally.quarantine(line, &value_name, format!("value not a number: got \"{raw_value}\""), mask_record(rec, delimiter, &[]));
            return;
        };
        let site_value = match site.map(field).filter(|s| !s.is_empty()) {
            Some(code) => Value::Str(ctx.site(&code).0),
            None => Value::Null,
        };
        if let Some(c) = cumulative {
            // Some files restart the running total each year, others (Chicago's Wi-Fi)
            // never do: the stated figure must match one of the two.
            let site_key = site.map(field).unwrap_or_default();
            let per_year = running.entry((site_key.clone(), y)).or_default();
            *per_year += v;
            let per_year = *per_year;
            let overall = running.entry((site_key, i32::MIN)).or_default();
            *overall += v;
            if let Some(stated) = number(&field(c))
                && (stated - per_year).abs() > 0.5
                && (stated - *overall).abs() > 0.5
            {
                ctx.tally.note(&format!("line {line}: cumulative {stated} but the values add up to {per_year} this year, {overall} in all"));
            }
        }
        let thing = format!("{site_value:?}\u{1f}{start}\u{1f}{end}\u{1f}{measure}");
        ctx.emit_row(Identity::State(&thing), vec![site_value, Value::date(start), Value::date(end), Value::Str(measure.clone()), Value::Float(v)], 1);
    })
}

pub fn read_wide(
    input: &mut CsvInput,
    ctx: &mut Ctx<'_>,
    measure: Option<&str>,
    year: Option<i32>,
) -> Result<(), IngestError> {
    let normalized: Vec<String> = input.header.iter().map(|h| normalize_header(h)).collect();
    let month_cols: Vec<Option<usize>> = MONTHS
        .iter()
        .map(|m| normalized.iter().position(|h| h == m || h == &m[..3]))
        .collect();
    let missing: Vec<String> = MONTHS
        .iter()
        .zip(&month_cols)
        .filter(|(_, c)| c.is_none())
        .map(|(m, _)| m.to_uppercase())
        .collect();
    let location = normalized.iter().position(|h| SITE.contains(&h.as_str()));
    if !missing.is_empty() || location.is_none() {
        let mut missing = missing;
        if location.is_none() {
            missing.insert(0, "LOCATION".into());
        }
        return Err(IngestError::MissingColumns {
            path: input.path.clone(),
            format: "totals-wide".into(),
            missing,
            expected: std::iter::once("LOCATION".to_string())
                .chain(MONTHS.iter().map(|m| m.to_uppercase()))
                .chain(["YTD".into()])
                .collect(),
            found: input.header.clone(),
        });
    }
    let location = location.expect("checked");
    let ytd = normalized.iter().position(|h| is_cumulative(h));
    let file_name = input
        .path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let year = year.or_else(|| year_from_file_name(&file_name)).ok_or_else(|| IngestError::Malformed {
        path: input.path.clone(),
        line: 1,
        message: "cannot tell which year the months are: pass --year YYYY (the file name has no year)".into(),
    })?;
    let measure = measure.map_or_else(|| measure_of("", &file_name), str::to_string);
    let width = input.header.len();
    let delimiter = input.delimiter;
    input.for_each_record(|line, rec| {
        ctx.tally.rows_read += 1;
        let field = |i: usize| {
            rec.get(i)
                .map(|b| String::from_utf8_lossy(b).trim().to_string())
                .unwrap_or_default()
        };
        let quarantine = |ctx: &mut Ctx<'_>, column: &str, reason: String| {
            ctx.tally
                .quarantine(line, column, reason, mask_record(rec, delimiter, &[]));
        };
        if rec.len() != width {
            return quarantine(
                ctx,
                "",
                format!(
                    "wrong number of fields: expected {width}, found {}",
                    rec.len()
                ),
            );
        }
        let name = field(location);
        if name.is_empty() {
            return quarantine(ctx, "LOCATION", "location is empty".into());
        }
        let mut values = Vec::with_capacity(12);
        for (m, col) in month_cols.iter().enumerate() {
            let raw = field(col.expect("checked"));
            match number(&raw) {
                Some(v) => values.push(v),
                None => {
                    return quarantine(
                        ctx,
                        "month",
                        format!("{} not a number: got \"{raw}\"", MONTHS[m].to_uppercase()),
                    );
                }
            }
        }
        if let Some(c) = ytd
            && let Some(stated) = number(&field(c))
        {
            let sum: f64 = values.iter().sum();
            if (stated - sum).abs() > 0.5 {
                ctx.tally.note(&format!(
                    "line {line} ({name}): YTD {stated} but the months add up to {sum}"
                ));
            }
        }
        let site = ctx.site(&name).0;
        let rows = values.into_iter().enumerate().map(|(m, v)| {
            let start = first_of_month(year, m as u32 + 1).expect("valid");
            vec![
                Value::Str(site.clone()),
                Value::date(start),
                Value::date(next_month(start)),
                Value::Str(measure.clone()),
                Value::Float(v),
            ]
        });
        let thing = format!("{site}\u{1f}{year}\u{1f}{measure}");
        ctx.emit(Identity::State(&thing), rows.collect(), 1);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_and_years_from_names() {
        assert_eq!(
            measure_of(
                "Sessions",
                "tpl-workstation-usage-annual-by-branch-2012-2017.csv"
            ),
            "sessions"
        );
        assert_eq!(
            measure_of(
                "NUMBER OF SESSIONS",
                "Libraries_-_WiFi_Usage__2011-2014_.csv"
            ),
            "wifi_sessions"
        );
        assert_eq!(measure_of("Registrations", "x.csv"), "card_registrations");
        assert_eq!(
            measure_of("", "Libraries_-_2017_Computer_Sessions_by_Location.csv"),
            "sessions"
        );
        assert_eq!(
            year_from_file_name("Libraries_-_2017_Computer_Sessions_by_Location.csv"),
            Some(2017)
        );
        assert_eq!(year_from_file_name("x12345.csv"), None);
        assert_eq!(month_number("January"), Some(1));
        assert_eq!(month_number("sep"), Some(9));
        assert_eq!(number("1,234"), Some(1234.0));
        assert_eq!(number("n/a"), None);
    }
}
