//! The period a run covers: `2026-10`, `2026`, `fy2026`, `2026-01-01..2026-06-30` (both
//! days inclusive), `previous-month`, `previous-year`, `previous-fy`. Internally [from, to)
//! with `to` exclusive, as `tally metric` takes it.

use chrono::{Datelike, Months, NaiveDate};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
    /// How the output folder names it: `2026-10`, `fy2026`, `2026-01-01..2026-06-30`.
    pub label: String,
}

const FORMS: &str = "expected 2026-10, 2026, fy2026, 2026-01-01..2026-06-30, previous-month, previous-year or previous-fy";

fn month_start(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1)
}

impl Period {
    /// Parses a period; `today` anchors the relative ones.
    pub fn parse(s: &str, today: NaiveDate, fy_start_month: u32) -> Result<Period, String> {
        let s = s.trim();
        let bad = || format!("period \"{s}\": {FORMS}");
        let lower = s.to_ascii_lowercase();
        let month = |from: NaiveDate| -> Result<Period, String> {
            let to = from.checked_add_months(Months::new(1)).ok_or_else(bad)?;
            Ok(Period {
                from,
                to,
                label: from.format("%Y-%m").to_string(),
            })
        };
        let fy = |n: i32| -> Result<Period, String> {
            let (from, to) = tally_model::fiscal_year_days(n, fy_start_month).ok_or_else(bad)?;
            Ok(Period {
                from,
                to,
                label: format!("fy{n}"),
            })
        };
        let year = |n: i32| -> Result<Period, String> {
            Ok(Period {
                from: month_start(n, 1).ok_or_else(bad)?,
                to: month_start(n + 1, 1).ok_or_else(bad)?,
                label: n.to_string(),
            })
        };
        match lower.as_str() {
            "previous-month" | "last-month" => {
                let this = month_start(today.year(), today.month()).ok_or_else(bad)?;
                return month(this.checked_sub_months(Months::new(1)).ok_or_else(bad)?);
            }
            "previous-year" | "last-year" => return year(today.year() - 1),
            "previous-fy" | "last-fy" => {
                return fy(tally_model::fiscal_year_of(today, fy_start_month) - 1);
            }
            _ => {}
        }
        if let Some(n) = lower.strip_prefix("fy") {
            return fy(n.parse().map_err(|_| bad())?);
        }
        if let Some((a, b)) = s.split_once("..") {
            let a: NaiveDate = a.trim().parse().map_err(|_| bad())?;
            let b: NaiveDate = b.trim().parse().map_err(|_| bad())?;
            if b < a {
                return Err(format!(
                    "period \"{s}\": the last day {b} is before the first {a}"
                ));
            }
            return Ok(Period {
                from: a,
                to: b.succ_opt().ok_or_else(bad)?,
                label: format!("{a}..{b}"),
            });
        }
        if s.len() == 4 {
            return year(s.parse().map_err(|_| bad())?);
        }
        if s.len() == 7 {
            let (y, m) = s.split_once('-').ok_or_else(bad)?;
            return month(
                month_start(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?)
                    .ok_or_else(bad)?,
            );
        }
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn every_form() {
        let today = d("2026-11-28");
        let p = |s: &str, fy: u32| Period::parse(s, today, fy).unwrap();
        assert_eq!(
            p("2026-10", 1),
            Period {
                from: d("2026-10-01"),
                to: d("2026-11-01"),
                label: "2026-10".into()
            }
        );
        assert_eq!(
            p("previous-month", 1),
            Period {
                from: d("2026-10-01"),
                to: d("2026-11-01"),
                label: "2026-10".into()
            }
        );
        assert_eq!(
            Period::parse("previous-month", d("2026-01-05"), 1)
                .unwrap()
                .label,
            "2025-12"
        );
        assert_eq!(
            p("fy2026", 1),
            Period {
                from: d("2026-01-01"),
                to: d("2027-01-01"),
                label: "fy2026".into()
            }
        );
        assert_eq!(
            p("fy2026", 7),
            Period {
                from: d("2025-07-01"),
                to: d("2026-07-01"),
                label: "fy2026".into()
            }
        );
        assert_eq!(p("previous-fy", 7).label, "fy2026");
        assert_eq!(p("previous-fy", 1).label, "fy2025");
        assert_eq!(
            p("2025", 7),
            Period {
                from: d("2025-01-01"),
                to: d("2026-01-01"),
                label: "2025".into()
            }
        );
        assert_eq!(
            p("2026-01-01..2026-06-30", 1),
            Period {
                from: d("2026-01-01"),
                to: d("2026-07-01"),
                label: "2026-01-01..2026-06-30".into()
            }
        );
        for bad in ["2026-13", "fyx", "2026-06-30..2026-01-01", "next-month", ""] {
            assert!(Period::parse(bad, today, 1).is_err(), "{bad}");
        }
    }
}
