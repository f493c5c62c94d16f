//! The IMLS Public Libraries Survey's per-library file (the administrative entity file,
//! `PLS_FY2022_AE_pud22i.csv`, or an extract of it such as `pls_fy2018_libraries.csv`):
//! one row per public library in the United States. Columns are read by name, so the
//! column sets of the survey's different years all read; the survey year comes from
//! `--year` or the file's name. The survey's negative codes (-1 missing, -3 closed or not
//! applicable, -4, -9 suppressed) are missing values, never numbers.

use tally_model::Table;

use crate::IngestError;
use crate::adapters::shared::{date, year_of_file};
use crate::adapters::{Ctx, Input, each_record};
use crate::format::{Detect, FormatSpec, Setting, SitePolicy};
use crate::identity::Identity;
use crate::reason::{Code, Reject};
use crate::rows::Cell;

pub static SPEC: FormatSpec = FormatSpec {
    name: "pls",
    table: Table::Peers,
    detect: Detect::Header(|h| h.has("FSCSKEY") && h.has("POPU_LSA") && h.has("STABR")),
    detected_by: "header has FSCSKEY, STABR and POPU_LSA",
    required: &["FSCSKEY", "STABR", "POPU_LSA"],
    optional: &[
        "LIBNAME",
        "STARTDAT",
        "HRS_OPEN",
        "VISITS",
        "TOTCIR",
        "GPTERMS",
        "PITUSR",
        "WIFISESS",
    ],
    // Public figures of public bodies: nothing in the file is personal.
    safe: &[
        "FSCSKEY", "STABR", "POPU_LSA", "LIBNAME", "STARTDAT", "HRS_OPEN", "VISITS", "TOTCIR",
        "GPTERMS", "PITUSR", "WIFISESS", "LIBID", "CITY", "CNTY", "ZIP", "ENDDATE", "fscskey",
        "year", "population",
    ],
    site_columns: &[],
    site: SitePolicy::None,
    preamble: &[],
    lookalikes: &[],
    identifiers: false,
    identity: "a library and survey year: a corrected file's row replaces the earlier one when read",
    options: &[],
    settings: &[
        Setting {
            name: "year",
            value: "YYYY",
            about: "the survey year, when the file's name has none",
        },
    ],
    notes: "the survey's per-library (administrative entity) file of any year, columns by name; negative codes \
            (-1, -3, -4, -9) are missing; STARTDAT M/D/YY; the library is named in sites.toml `fscskey`",
    read,
};

/// A survey figure: empty or a negative code is missing.
fn figure(s: &str, column: &'static str) -> Result<Option<f64>, Reject> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let v: f64 = t
        .replace(',', "")
        .parse()
        .map_err(|_| Reject::new(Code::BadNumber, column, "not a number").got(s))?;
    Ok((v >= 0.0 && v.is_finite()).then_some(v))
}

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let csv = input.csv()?;
    let year = year_of_file(
        ctx,
        &csv.path,
        "which survey year is this? pass --year YYYY (the file's name has none, as pls_fy2018 or PLS_FY2022 \
         would)",
    )?;
    let year_text = year.to_string();
    let first_day = chrono::NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| IngestError::Malformed {
        path: csv.path.clone(),
        line: 1,
        message: format!("--year {year}: not a year"),
    })?;
    each_record(input, ctx, |rec, cols, ctx| {
        let get = |i: usize| cols.text(rec, i);
        let key = get(0)?;
        if key.is_empty() {
            return Err(Reject::new(Code::MissingValue, "fscskey", "FSCSKEY is empty"));
        }
        // The library's own reporting year; a missing STARTDAT is the survey year's.
        let start = match get(4)? {
            s if s.is_empty() || s.starts_with('-') => first_day,
            s => date(s).ok_or_else(|| {
                Reject::new(Code::BadTime, "STARTDAT", "not a date (M/D/YY)").got(s)
            })?,
        };
        let n = |i: usize, c: &'static str| -> Result<Option<f64>, Reject> { figure(get(i)?, c) };
        let row = [
            Cell::Int(i64::from(year)),
            Cell::Str(key),
            Cell::text(get(3)?),
            Cell::text(get(1)?),
            Cell::date(start),
            Cell::float(n(2, "POPU_LSA")?),
            Cell::float(n(5, "HRS_OPEN")?),
            Cell::float(n(6, "VISITS")?),
            Cell::float(n(7, "TOTCIR")?),
            Cell::float(n(8, "GPTERMS")?),
            Cell::float(n(9, "PITUSR")?),
            Cell::float(n(10, "WIFISESS")?),
        ];
        ctx.emit_row(Identity::StateOf(&[key, &year_text]), &row, 1);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_codes_are_missing_not_numbers() {
        assert_eq!(figure("-1", "VISITS"), Ok(None));
        assert_eq!(figure("-3", "VISITS"), Ok(None));
        assert_eq!(figure("-9", "VISITS"), Ok(None));
        assert_eq!(figure("", "VISITS"), Ok(None));
        assert_eq!(figure("0", "VISITS"), Ok(Some(0.0)));
        assert_eq!(figure("1911287", "VISITS"), Ok(Some(1_911_287.0)));
        assert!(figure("n/a", "VISITS").is_err());
    }
}
