//! How each event metric counts, declared once as data: the table, the time column that
//! puts a row in a bucket, a filter, a measure and, for rates, what a count is divided
//! by. Nothing here is code of an engine: the polars backend (`engines/expr.rs`) and the
//! SQL backend (`sql/`) each render the same declaration, and the kept counts of a purge
//! read it too. docs/metrics.md states the definitions for people; the cross-checks
//! compare the backends cell by cell.

use tally_model::{Sites, Table, UserType};

use crate::catalogue::Metric;

/// A value computed from a row's columns.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// A column as stored (a number, or a boolean as 0 and 1).
    Col(&'static str),
    /// A number.
    Num(f64),
    /// The product of two values (pages x copies).
    Mul(Box<Val>, Box<Val>),
    /// Hours from one instant column to another: `HoursBetween(from, to)` is to - from.
    HoursBetween(&'static str, &'static str),
    /// The local hour (0 to 23) of an instant column in the library's time zone.
    LocalHour(&'static str),
    /// The ISO weekday (1 Monday to 7 Sunday) of an instant column in the library's zone.
    LocalWeekday(&'static str),
    /// The number a text column's value is mapped to (a priority's target hours); null
    /// for a value not in the list.
    Lookup(&'static str, Vec<(String, f64)>),
}

/// A condition on a row. Where a column it reads is null the condition is unknown (null),
/// as in SQL: a filter keeps only rows where it is true.
#[derive(Debug, Clone, PartialEq)]
pub enum Pred {
    Eq(&'static str, String),
    Ne(&'static str, String),
    /// The column's value is one of these.
    In(&'static str, Vec<String>),
    IsNull(&'static str),
    NotNull(&'static str),
    /// A boolean column is true.
    True(&'static str),
    Gt(Val, Val),
    Ge(Val, Val),
    Not(Box<Pred>),
    And(Vec<Pred>),
    Or(Vec<Pred>),
}

/// What is computed per (dimensions, bucket) from the rows a spec keeps.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// Rows.
    Count,
    /// Distinct non-null values of a column (a pseudonym).
    Distinct(&'static str),
    /// The sum of a value.
    Sum(Val),
    /// The share of the rows where a condition is known for which it holds.
    Share(Pred),
    /// The share of a weight (pages) in the rows for which a condition holds.
    WeightedShare(Pred, Val),
    /// A quantile of a value, by linear interpolation (Excel's PERCENTILE.INC).
    Quantile(Val, f64),
}

impl Measure {
    /// Whether the measure's values are whole numbers (counts, sums of whole numbers).
    pub fn is_count(&self) -> bool {
        matches!(
            self,
            Measure::Count | Measure::Distinct(_) | Measure::Sum(_)
        )
    }
}

/// What a rate divides its count by, per site (library-wide: the sites' total).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    /// Service-area population (sites.toml), per 1,000 residents.
    Residents,
    /// Devices in the inventory not retired (its current state), per 10 devices.
    Devices,
}

impl Per {
    /// How many of the denominator a rate is per.
    pub fn scale(self) -> f64 {
        match self {
            Per::Residents => 1000.0,
            Per::Devices => 10.0,
        }
    }
}

/// One event metric, declared.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSpec {
    pub table: Table,
    /// The instant that puts a row in a bucket.
    pub time: &'static str,
    pub filter: Option<Pred>,
    pub measure: Measure,
    /// For a rate: what the measure is divided by.
    pub per: Option<Per>,
}

fn event_is(events: &[&str]) -> Pred {
    Pred::In("event", events.iter().map(|e| e.to_string()).collect())
}

/// A print job's pages printed: pages x copies.
fn pages_printed() -> Val {
    Val::Mul(Box::new(Val::Col("pages")), Box::new(Val::Col("copies")))
}

fn resolve_hours() -> Val {
    Val::HoursBetween("opened", "resolved")
}

/// The declaration of an event metric under this library's settings (whether automatic
/// renewals count, the targets of ticket priorities).
pub fn event_spec(metric: Metric, sites: &Sites) -> EventSpec {
    let s = |time, filter, measure| EventSpec {
        table: metric.table(),
        time,
        filter,
        measure,
        per: None,
    };
    // Renewals the system made itself count only where the library says they do.
    let renewals_counted = |p: Pred| {
        if sites.library.count_automatic_renewals {
            p
        } else {
            Pred::And(vec![
                p,
                Pred::Or(vec![
                    Pred::IsNull("automatic"),
                    Pred::Not(Box::new(Pred::True("automatic"))),
                ]),
            ])
        }
    };
    match metric {
        Metric::Sessions => s("start", None, Measure::Count),
        Metric::SurveyUses => s(
            "start",
            Some(Pred::Ne("user_type", UserType::Staff.as_str().into())),
            Measure::Count,
        ),
        Metric::DistinctUsers => s(
            "start",
            Some(Pred::And(vec![
                Pred::Ne("user_type", UserType::Guest.as_str().into()),
                Pred::NotNull("patron_key"),
            ])),
            Measure::Distinct("patron_key"),
        ),
        Metric::Checkouts => s("time", Some(event_is(&["checkout"])), Measure::Count),
        Metric::Renewals => s(
            "time",
            Some(renewals_counted(event_is(&["renewal"]))),
            Measure::Count,
        ),
        Metric::Checkins => s("time", Some(event_is(&["checkin"])), Measure::Count),
        Metric::InHouseUses => s("time", Some(event_is(&["in_house_use"])), Measure::Count),
        Metric::Circulation => s(
            "time",
            Some(renewals_counted(event_is(&["checkout", "renewal"]))),
            Measure::Count,
        ),
        Metric::WifiSessions => s("start", None, Measure::Count),
        Metric::WifiDevices => s("start", None, Measure::Distinct("device_key")),
        Metric::PrintJobs => s("time", None, Measure::Count),
        Metric::PrintPages => s("time", None, Measure::Sum(pages_printed())),
        Metric::PrintPagesPer1000 => EventSpec {
            per: Some(Per::Residents),
            ..s("time", None, Measure::Sum(pages_printed()))
        },
        Metric::ColorShare => s(
            "time",
            Some(Pred::NotNull("grayscale")),
            Measure::WeightedShare(
                Pred::Not(Box::new(Pred::True("grayscale"))),
                pages_printed(),
            ),
        ),
        Metric::DuplexShare => s(
            "time",
            Some(Pred::NotNull("duplex")),
            Measure::WeightedShare(Pred::True("duplex"), pages_printed()),
        ),
        Metric::TicketsOpened => s("opened", None, Measure::Count),
        Metric::TicketsResolved => s("resolved", None, Measure::Count),
        Metric::HoursToResolveMedian => {
            s("resolved", None, Measure::Quantile(resolve_hours(), 0.5))
        }
        Metric::HoursToResolveP90 => s("resolved", None, Measure::Quantile(resolve_hours(), 0.9)),
        Metric::SessionsPer1000 => EventSpec {
            per: Some(Per::Residents),
            ..s("start", None, Measure::Count)
        },
        Metric::TicketsPer10Devices => EventSpec {
            per: Some(Per::Devices),
            ..s("opened", None, Measure::Count)
        },
        Metric::ShareOverTarget => {
            // The target of the ticket's priority; priorities without one are left out.
            let targets: Vec<(String, f64)> = sites
                .library
                .work_order_target_hours
                .iter()
                .map(|(p, h)| (p.clone(), *h))
                .collect();
            s(
                "resolved",
                Some(Pred::In(
                    "priority",
                    targets.iter().map(|(p, _)| p.clone()).collect(),
                )),
                Measure::Share(Pred::Gt(resolve_hours(), Val::Lookup("priority", targets))),
            )
        }
        Metric::GuestShare => s(
            "start",
            None,
            Measure::Share(Pred::Eq("user_type", UserType::Guest.as_str().into())),
        ),
        // Local hour and weekday: the zone of the library (sites' zones differ only in
        // consortia that cross zones; buckets use the library's too).
        Metric::EveningWeekendShare => s(
            "start",
            None,
            Measure::Share(Pred::Or(vec![
                Pred::Ge(Val::LocalHour("start"), Val::Num(17.0)),
                Pred::Ge(Val::LocalWeekday("start"), Val::Num(6.0)),
            ])),
        ),
        other => unreachable!("{} is not an event metric", other.name()),
    }
}
