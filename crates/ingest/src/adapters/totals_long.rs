//! `totals-long`: one row per period (and site): a year column (or `--year`, or a year
//! in the file's name), optionally a month column, optionally a site column, and one
//! value column whose name says the measure (Toronto's `_id,Year,BranchCode,Sessions`;
//! Chicago's Wi-Fi `MONTH,YEAR,NUMBER OF SESSIONS,CUMULATIVE NUMBER OF SESSIONS` and its
//! year files `MONTH,NUMBER OF SESSIONS,YTD`). A cumulative column is checked against the
//! running sum of the values given.

use std::collections::HashMap;

use tally_model::Table;
use tally_model::calendar::days_since_epoch;

use crate::IngestError;
use crate::adapters::totals::{
    SETTINGS,
    IDENTITY, IGNORED, MONTH, MONTHS, SITE, YEAR, first_of_month, is_cumulative, is_total_row,
    measure_of, month_number, month_with_year, next_month, number,
};
use crate::adapters::shared::{year_from_file_name, year_setting};
use crate::adapters::{Ctx, Input};
use crate::format::{Detect, FormatSpec, SitePolicy};
use crate::identity::Identity;
use crate::reader::normalize_header;
use crate::reason::{Code, Reject};
use crate::rows::{Cell, mask_record};

pub static SPEC: FormatSpec = FormatSpec {
    name: "totals-long",
    table: Table::Totals,
    detect: Detect::Header(|h| {
        (h.count(YEAR) > 0 || h.count(MONTH) > 0)
            && h.count(&MONTHS) < 12
            && !h.has("pcrDateTime")
            && !h.has("created_on")
    }),
    detected_by: "header has Year (or Month) and one value column (Toronto open data; Chicago Wi-Fi by month)",
    required: &["Year (or --year, or a year in the file name)", "a value column"],
    optional: &[
        "Month",
        "BranchCode | Branch | Location | Site",
        "CUMULATIVE ... | YTD",
    ],
    safe: &[
        "year",
        "fiscal year",
        "yr",
        "month",
        "mon",
        "branchcode",
        "branch",
        "location",
        "site",
        "library",
        "branchname",
        "_id",
        "id",
        "value",
    ],
    site_columns: &["BranchCode", "Branch", "Location", "Site", "Library", "BranchName"],
    site: SitePolicy::Column { required: false },
    preamble: &[],
    lookalikes: &[],
    identifiers: false,
    identity: IDENTITY,
    options: &[],
    settings: &SETTINGS,
    notes: "measure from --measure, else the value column's name and the file name; a blank value is missing \
            (no row), text is quarantined; a cumulative column is checked against the running sum and a \
            mismatch is noted",
    read,
};

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let input = input.csv()?;
    let normalized: Vec<String> = input.header.iter().map(|h| normalize_header(h)).collect();
    let find = |names: &[&str]| normalized.iter().position(|h| names.contains(&h.as_str()));
    let file_name = input
        .path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let year_col = find(YEAR);
    let month = find(MONTH);
    let fixed_year = match year_col {
        Some(_) => None,
        None => {
            let y = year_setting(ctx, &input.path)?.or_else(|| year_from_file_name(&file_name));
            // Without a year anywhere, only month labels that carry one (`Jul-13`) can do.
            if y.is_none() && month.is_none() {
                return Err(IngestError::MissingColumns {
                    path: input.path.clone(),
                    format: SPEC.name.into(),
                    missing: vec!["Year".into()],
                    expected: vec![
                        "Year (or pass --year YYYY, or name the file with its year)".into(),
                        "[Month]".into(),
                        "[BranchCode]".into(),
                        "a value column".into(),
                    ],
                    found: input.header.clone(),
                });
            }
            y
        }
    };
    let site = match &ctx.options.site_column {
        Some(c) => input.position(c),
        None => find(SITE),
    };
    let cumulative = normalized.iter().position(|h| is_cumulative(h));
    let value = (0..normalized.len())
        .find(|&i| {
            Some(i) != month
                && Some(i) != site
                && Some(i) != year_col
                && Some(i) != cumulative
                && !IGNORED.contains(&normalized[i].as_str())
        })
        .ok_or_else(|| IngestError::MissingColumns {
            path: input.path.clone(),
            format: SPEC.name.into(),
            missing: vec!["a value column".into()],
            expected: vec!["Year".into(), "a value column".into()],
            found: input.header.clone(),
        })?;
    let measure = ctx.setting("measure").map(str::to_string).unwrap_or_else(|| {
        measure_of(&input.header[value], &file_name)
    });
    let width = input.header.len();
    let delimiter = input.delimiter;
    let value_name = input.header[value].clone();
    // The value column's values may be shown; its name varies by file.
    ctx.allow(&value_name);
    if let Some(c) = cumulative {
        ctx.allow(&input.header[c]);
    }
    let safe = input.safe_mask(&ctx_safe(&input.header, ctx));
    // A month with no year in a file that gives none: the whole file is unreadable.
    let mut yearless = false;
    // Running sums per (site, year), to check a cumulative column.
    let mut running: HashMap<(String, i32), f64> = HashMap::new();
    input.for_each_record(|line, rec| {
        ctx.tally.rows_read += 1;
        let field = |i: usize| {
            rec.get(i)
                .map(|b| String::from_utf8_lossy(b).trim().to_string())
                .unwrap_or_default()
        };
        let parsed = (|| -> Result<(), Reject> {
            if rec.len() != width {
                return Err(Reject::new(
                    Code::WrongFieldCount,
                    "",
                    format!(
                        "wrong number of fields: expected {width}, found {}",
                        rec.len()
                    ),
                ));
            }
            // A month label may carry its year (`Jul-13`): then no year column is needed.
            let labelled = month.and_then(|m| month_with_year(&field(m)));
            let y = match (labelled, year_col, fixed_year) {
                (Some((_, y)), _, _) => y,
                (None, Some(c), _) => {
                    let text = field(c);
                    text.parse::<i32>()
                        .ok()
                        .filter(|y| (1900..=2100).contains(y))
                        .ok_or_else(|| {
                            Reject::new(Code::BadTime, "Year", "year not a year").got(&text)
                        })?
                }
                (None, None, Some(y)) => y,
                (None, None, None) => {
                    yearless = true;
                    return Err(Reject::new(
                        Code::BadTime,
                        "Month",
                        "the month has no year and the file gives none: pass --year YYYY",
                    ))
                }
            };
            let (start, end) = match month {
                Some(m) => {
                    let text = field(m);
                    let mn = labelled.map(|(mn, _)| mn).or_else(|| month_number(&text)).ok_or_else(|| {
                        Reject::new(Code::BadTime, "Month", "month not a month").got(&text)
                    })?;
                    let s = first_of_month(y, mn).expect("valid");
                    (s, next_month(s))
                }
                None => (
                    first_of_month(y, 1).expect("valid"),
                    first_of_month(y + 1, 1).expect("valid"),
                ),
            };
            let raw_value = field(value);
            if raw_value.is_empty() {
                // A period not reported (yet): missing, not zero.
                ctx.emit(Identity::Content, &[], 1);
                return Ok(());
            }
            let v = number(&raw_value).ok_or_else(|| {
                Reject::new(Code::BadNumber, value_name.clone(), "value not a number")
                    .got(&raw_value)
            })?;
            let site_code = site.map(field).filter(|s| !s.is_empty());
            if site_code.as_deref().is_some_and(is_total_row) {
                ctx.tally.exclude(Code::TotalRow, site_code.as_deref().unwrap_or(""));
                return Ok(());
            }
            let site_value = site_code.as_deref().map(|code| ctx.site(code).0);
            if let Some(c) = cumulative {
                // Some files restart the running total each year, others (Chicago's Wi-Fi)
                // never do: the stated figure must match one of the two.
                let key = site_code.clone().unwrap_or_default();
                let per_year = running.entry((key.clone(), y)).or_default();
                *per_year += v;
                let per_year = *per_year;
                let overall = running.entry((key, i32::MIN)).or_default();
                *overall += v;
                if let Some(stated) = number(&field(c))
                    && (stated - per_year).abs() > 0.5
                    && (stated - *overall).abs() > 0.5
                {
                    ctx.tally.note(&format!(
                        "line {line}: cumulative {stated} but the values add up to {per_year} this year, {overall} in all"
                    ));
                }
            }
            let site_cell = site_value.map_or(Cell::Null, Cell::Str);
            let (s, e) = (start.to_string(), end.to_string());
            let parts = [site_value.unwrap_or(""), &s, &e, &measure];
            ctx.emit_row(
                Identity::StateOf(&parts),
                &[
                    site_cell,
                    Cell::Date(days_since_epoch(start)),
                    Cell::Date(days_since_epoch(end)),
                    Cell::Str(&measure),
                    Cell::Float(v),
                ],
                1,
            );
            Ok(())
        })();
        if let Err(reject) = parsed {
            ctx.reject(line, reject, mask_record(rec, delimiter, &safe));
        }
        true
    })?;
    if yearless {
        return Err(IngestError::Malformed {
            path: input.path.clone(),
            line: 2,
            message: "the months have no year and the file does not say which: pass --year YYYY (or keep the \
                      year in the file's name, as the open-data portal names it)"
                .into(),
        });
    }
    ctx.send();
    Ok(())
}

/// The header names whose values a quarantined row shows: the format's safe names and
/// the value columns this file has.
fn ctx_safe<'h>(header: &'h [String], ctx: &Ctx<'_>) -> Vec<&'h str> {
    header
        .iter()
        .filter(|h| ctx.is_safe(h))
        .map(String::as_str)
        .collect()
}
