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

const FORMS: &str = "expected 2026-10, 2026, fy2026, 2026-01-01..2026-06-30, previous-month, previous-year, previous-fy or all";

/// A period as written (`--period`, `pipeline.period`, a report's `period`), parsed once
/// and checked for form; the relative ones are resolved against a day with
/// [`PeriodSpec::resolve`]. `All` is every day the lake holds, known once the inputs are in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodSpec {
    All,
    PreviousMonth,
    PreviousYear,
    PreviousFy,
    Month(NaiveDate),
    Year(i32),
    Fy(i32),
    /// Both days inclusive.
    Days(NaiveDate, NaiveDate),
}

fn month_start(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1)
}

impl std::str::FromStr for PeriodSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || format!("period \"{s}\": {FORMS}");
        let lower = s.to_ascii_lowercase();
        let year = |y: &str| -> Result<i32, String> {
            y.parse::<i32>()
                .ok()
                .filter(|y| (1..=9998).contains(y))
                .ok_or_else(bad)
        };
        match lower.as_str() {
            "all" => return Ok(PeriodSpec::All),
            "previous-month" | "last-month" => return Ok(PeriodSpec::PreviousMonth),
            "previous-year" | "last-year" => return Ok(PeriodSpec::PreviousYear),
            "previous-fy" | "last-fy" => return Ok(PeriodSpec::PreviousFy),
            _ => {}
        }
        if let Some(n) = lower.strip_prefix("fy") {
            return Ok(PeriodSpec::Fy(year(n)?));
        }
        if let Some((a, b)) = s.split_once("..") {
            let a: NaiveDate = a.trim().parse().map_err(|_| bad())?;
            let b: NaiveDate = b.trim().parse().map_err(|_| bad())?;
            if b < a {
                return Err(format!(
                    "period \"{s}\": the last day {b} is before the first {a}"
                ));
            }
            if b.succ_opt().is_none() {
                return Err(bad());
            }
            return Ok(PeriodSpec::Days(a, b));
        }
        if s.len() == 4 {
            return Ok(PeriodSpec::Year(year(s)?));
        }
        if s.len() == 7 {
            let (y, m) = s.split_once('-').ok_or_else(bad)?;
            let m = m.parse().map_err(|_| bad())?;
            return Ok(PeriodSpec::Month(month_start(year(y)?, m).ok_or_else(bad)?));
        }
        Err(bad())
    }
}

impl PeriodSpec {
    /// The days of the period, `today` anchoring the relative ones; `None` for `All`.
    pub fn resolve(&self, today: NaiveDate, fy_start_month: u32) -> Option<Period> {
        let month = |from: NaiveDate| -> Option<Period> {
            Some(Period {
                from,
                to: from.checked_add_months(Months::new(1))?,
                label: from.format("%Y-%m").to_string(),
            })
        };
        let fy = |n: i32| -> Option<Period> {
            let (from, to) = tally_model::fiscal_year_days(n, fy_start_month)?;
            Some(Period {
                from,
                to,
                label: format!("fy{n}"),
            })
        };
        let year = |n: i32| -> Option<Period> {
            Some(Period {
                from: month_start(n, 1)?,
                to: month_start(n + 1, 1)?,
                label: n.to_string(),
            })
        };
        match *self {
            PeriodSpec::All => None,
            PeriodSpec::PreviousMonth => {
                month(month_start(today.year(), today.month())?.checked_sub_months(Months::new(1))?)
            }
            PeriodSpec::PreviousYear => year(today.year() - 1),
            PeriodSpec::PreviousFy => fy(tally_model::fiscal_year_of(today, fy_start_month) - 1),
            PeriodSpec::Month(m) => month(m),
            PeriodSpec::Year(y) => year(y),
            PeriodSpec::Fy(n) => fy(n),
            PeriodSpec::Days(a, b) => Some(Period {
                from: a,
                to: b.succ_opt()?,
                label: format!("{a}..{b}"),
            }),
        }
    }
}

impl Period {
    /// Parses a period other than `all`; `today` anchors the relative ones.
    pub fn parse(s: &str, today: NaiveDate, fy_start_month: u32) -> Result<Period, String> {
        let spec: PeriodSpec = s.parse()?;
        spec.resolve(today, fy_start_month).ok_or_else(|| {
            format!(
                "period \"{}\": {FORMS}, and \"all\" is only known with the lake",
                s.trim()
            )
        })
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
