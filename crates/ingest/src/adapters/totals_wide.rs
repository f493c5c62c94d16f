//! `totals-wide`: one row per site with a column per month and a YTD column (Chicago's
//! `LOCATION,JANUARY,...,DECEMBER,YTD`). The year is `--year`, else the four-digit year in
//! the file name. A blank month is missing (a year in progress): no row, never a zero;
//! YTD is checked against the sum of the months given.

use tally_model::Table;
use tally_model::calendar::days_since_epoch;

use crate::IngestError;
use crate::adapters::totals::{
    SETTINGS,
    IDENTITY, MONTHS, SITE, first_of_month, is_cumulative, is_total_row, measure_of, next_month,
    number,
};
use crate::adapters::shared::year_of_file;
use crate::adapters::{Ctx, Input};
use crate::format::{Detect, FormatSpec, SitePolicy};
use crate::identity::Identity;
use crate::reader::normalize_header;
use crate::reason::{Code, Reject};
use crate::rows::{Cell, mask_record};

pub static SPEC: FormatSpec = FormatSpec {
    name: "totals-wide",
    table: Table::Totals,
    detect: Detect::Header(|h| h.count(&MONTHS) == 12),
    detected_by: "header has LOCATION and the twelve month names (Chicago open data)",
    required: &["LOCATION", "JANUARY ... DECEMBER"],
    optional: &["YTD"],
    safe: &[
        "location", "branch", "site", "library", "branchname", "january", "february", "march",
        "april", "may", "june", "july", "august", "september", "october", "november", "december",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "ytd", "month",
    ],
    site_columns: &["LOCATION", "Branch", "Site", "Library", "BranchName"],
    site: SitePolicy::Column { required: false },
    preamble: &[],
    lookalikes: &[],
    identifiers: false,
    identity: IDENTITY,
    options: &[],
    settings: &SETTINGS,
    notes: "year from --year, else the file name; measure from --measure, else the file name; a blank month is \
            missing (no row), text is quarantined; YTD is checked against the months given and a mismatch is noted",
    read,
};

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let input = input.csv()?;
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
    let location = match &ctx.options.site_column {
        Some(c) => input.position(c),
        None => normalized.iter().position(|h| SITE.contains(&h.as_str())),
    };
    if !missing.is_empty() || location.is_none() {
        let mut missing = missing;
        if location.is_none() {
            missing.insert(0, "LOCATION".into());
        }
        return Err(IngestError::MissingColumns {
            path: input.path.clone(),
            format: SPEC.name.into(),
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
    let year = year_of_file(
        ctx,
        &input.path,
        "cannot tell which year the months are: pass --year YYYY (the file name has no year)",
    )?;
    let measure = ctx
        .setting("measure")
        .map(str::to_string)
        .unwrap_or_else(|| {
            let name = input.path.file_name().map(|n| n.to_string_lossy());
            measure_of("", name.as_deref().unwrap_or_default())
        });
    let width = input.header.len();
    let delimiter = input.delimiter;
    let safe = input.safe_mask(SPEC.safe);
    let year_text = year.to_string();
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
            let name = field(location);
            if name.is_empty() {
                return Err(Reject::new(
                    Code::MissingValue,
                    "LOCATION",
                    "location is empty",
                ));
            }
            if is_total_row(&name) {
                ctx.tally.exclude(Code::TotalRow, &name);
                return Ok(());
            }
            // Per month: its value, or None when the cell is blank (not reported).
            let mut values: Vec<(usize, f64)> = Vec::with_capacity(12);
            for (m, col) in month_cols.iter().enumerate() {
                let raw = field(col.expect("checked"));
                if raw.is_empty() {
                    continue;
                }
                let v = number(&raw).ok_or_else(|| {
                    Reject::new(
                        Code::BadNumber,
                        MONTHS[m].to_uppercase(),
                        format!("{} not a number", MONTHS[m].to_uppercase()),
                    )
                    .got(&raw)
                })?;
                values.push((m, v));
            }
            if let Some(c) = ytd
                && let Some(stated) = number(&field(c))
            {
                let sum: f64 = values.iter().map(|(_, v)| v).sum();
                if (stated - sum).abs() > 0.5 {
                    ctx.tally.note(&format!(
                        "line {line} ({name}): YTD {stated} but the months given add up to {sum}"
                    ));
                }
            }
            let site = ctx.site(&name).0;
            let rows: Vec<[Cell<'_>; 5]> = values
                .iter()
                .map(|&(m, v)| {
                    let start = first_of_month(year, m as u32 + 1).expect("valid");
                    [
                        Cell::Str(site),
                        Cell::Date(days_since_epoch(start)),
                        Cell::Date(days_since_epoch(next_month(start))),
                        Cell::Str(&measure),
                        Cell::Float(v),
                    ]
                })
                .collect();
            let refs: Vec<&[Cell<'_>]> = rows.iter().map(|r| &r[..]).collect();
            let parts = [site, year_text.as_str(), measure.as_str()];
            ctx.emit(Identity::StateOf(&parts), &refs, 1);
            Ok(())
        })();
        if let Err(reject) = parsed {
            ctx.reject(line, reject, mask_record(rec, delimiter, &safe));
        }
        true
    })?;
    ctx.send();
    Ok(())
}
