//! What the aggregate formats share (`totals-long`, `totals-wide`): header names that
//! hold the year, month and site, the measure a column or file name says, and numbers
//! and months as open-data files write them.
//!
//! A blank cell is a missing value (a year in progress has blank later months): no row
//! is stored for it, never a zero. A text where a number belongs is quarantined.

use chrono::{Datelike, NaiveDate};

use crate::format::Setting;
use crate::reader::normalize_header;

/// The settings both totals formats read.
pub const SETTINGS: [Setting; 2] = [
    Setting {
        name: "measure",
        value: "NAME",
        about: "the measure of the file, when its columns and name do not say",
    },
    Setting {
        name: "year",
        value: "YYYY",
        about: "the year of the file, when its name does not say",
    },
];

/// What every aggregate format says of identity.
pub const IDENTITY: &str = "the figure's site, period and measure (its state): a re-export with the same value is in the lake already; the latest export wins when read";

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
pub const YEAR: &[&str] = &["year", "fiscalyear", "yr"];
pub const MONTH: &[&str] = &["month", "mon"];
pub const SITE: &[&str] = &[
    "branchcode",
    "branch",
    "location",
    "site",
    "library",
    "branchname",
];
pub const IGNORED: &[&str] = &["_id", "id"];

pub fn is_cumulative(h: &str) -> bool {
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

/// A row whose site says it sums the others (`Grand Total`, `All Branches`).
pub fn is_total_row(site: &str) -> bool {
    let t = site.trim().to_ascii_lowercase();
    matches!(
        t.as_str(),
        "total"
            | "totals"
            | "grand total"
            | "all branches"
            | "all locations"
            | "system total"
            | "library total"
            | "all"
    )
}

/// A month label with its year, as spreadsheets write them: `Jul-13`, `Jul 2013`,
/// `2013-07`; `None` when it has no year.
pub fn month_with_year(s: &str) -> Option<(u32, i32)> {
    let t = s.trim();
    let (a, b) = t.split_once(['-', ' ', '/'])?;
    let (month, year) = if a.len() == 4 && a.chars().all(|c| c.is_ascii_digit()) {
        (month_number(b)?, a.parse::<i32>().ok()?)
    } else {
        let y: i32 = b.trim().parse().ok()?;
        let y = if b.trim().len() == 2 { 2000 + y } else { y };
        (month_number(a)?, y)
    };
    (1900..=2100).contains(&year).then_some((month, year))
}

pub fn month_number(s: &str) -> Option<u32> {
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
pub fn number(s: &str) -> Option<f64> {
    let t = s.trim().replace(',', "");
    if t.is_empty() {
        None
    } else {
        t.parse::<f64>().ok().filter(|v| v.is_finite())
    }
}

pub fn first_of_month(y: i32, m: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, 1)
}

pub fn next_month(d: NaiveDate) -> NaiveDate {
    if d.month0() == 11 {
        first_of_month(d.year() + 1, 1)
    } else {
        first_of_month(d.year(), d.month() + 1)
    }
    .expect("valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::shared::year_from_file_name;

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
        assert_eq!(month_with_year("Jul-13"), Some((7, 2013)));
        assert_eq!(month_with_year("2013-07"), Some((7, 2013)));
        assert_eq!(month_with_year("July"), None);
        assert!(is_total_row("Grand Total") && !is_total_row("Albany Park"));
        assert_eq!(number("1,234"), Some(1234.0));
        assert_eq!(number("n/a"), None);
    }
}
