//! How each event metric counts, declared once: the table, the time column that puts a
//! row in a bucket, the filter and the aggregate. The events engine, the kept counts of
//! a purge and the checks in the tests read these declarations.

use polars::prelude::*;
use tally_model::{Sites, Table, UserType};

use crate::catalogue::Metric;

/// What is computed per (dimensions, bucket).
pub(crate) enum Agg {
    /// Rows.
    Count,
    /// Distinct non-null values of a column.
    Distinct(&'static str),
    /// A quantile (linear interpolation) of an expression, in the value's unit.
    Quantile(Expr, f64),
    /// The share of rows for which a condition holds.
    Share(Expr),
    /// A sum of an expression over the rows (pages x copies).
    Sum(Expr),
    /// The share of a weight (pages) in rows for which a condition holds.
    WeightedShare(Expr, Expr),
}

pub(crate) struct Spec {
    pub table: Table,
    pub time: &'static str,
    pub filter: Option<Expr>,
    pub agg: Agg,
}

fn event_is(events: &[&str]) -> Expr {
    let list = Series::new("events".into(), events);
    col("event").is_in(lit(list).implode(false), false)
}

/// A print job's pages printed: pages x copies.
fn pages_printed() -> Expr {
    (col("pages") * col("copies")).cast(DataType::Float64)
}

fn resolve_hours() -> Expr {
    (col("resolved") - col("opened"))
        .dt()
        .total_seconds(false)
        .cast(DataType::Float64)
        / lit(3600.0)
}

pub(crate) fn spec(metric: Metric, sites: &Sites) -> Spec {
    let s = |time, filter, agg| Spec {
        table: metric.table(),
        time,
        filter,
        agg,
    };
    // Renewals the system made itself count only where the library says they do.
    let renewals_counted = |e: Expr| {
        if sites.library.count_automatic_renewals {
            e
        } else {
            e.and(col("automatic").is_null().or(col("automatic").not()))
        }
    };
    match metric {
        Metric::Sessions => s("start", None, Agg::Count),
        Metric::SurveyUses => s(
            "start",
            Some(col("user_type").neq(lit(UserType::Staff.as_str()))),
            Agg::Count,
        ),
        Metric::DistinctUsers => s(
            "start",
            Some(
                col("user_type")
                    .neq(lit(UserType::Guest.as_str()))
                    .and(col("patron_key").is_not_null()),
            ),
            Agg::Distinct("patron_key"),
        ),
        Metric::Checkouts => s("time", Some(event_is(&["checkout"])), Agg::Count),
        Metric::Renewals => s(
            "time",
            Some(renewals_counted(event_is(&["renewal"]))),
            Agg::Count,
        ),
        Metric::Checkins => s("time", Some(event_is(&["checkin"])), Agg::Count),
        Metric::InHouseUses => s("time", Some(event_is(&["in_house_use"])), Agg::Count),
        Metric::Circulation => s(
            "time",
            Some(renewals_counted(event_is(&["checkout", "renewal"]))),
            Agg::Count,
        ),
        Metric::WifiSessions => s("start", None, Agg::Count),
        Metric::WifiDevices => s("start", None, Agg::Distinct("device_key")),
        Metric::PrintJobs => s("time", None, Agg::Count),
        Metric::PrintPages | Metric::PrintPagesPer1000 => {
            s("time", None, Agg::Sum(pages_printed()))
        }
        Metric::ColorShare => s(
            "time",
            Some(col("grayscale").is_not_null()),
            Agg::WeightedShare(col("grayscale").not(), pages_printed()),
        ),
        Metric::DuplexShare => s(
            "time",
            Some(col("duplex").is_not_null()),
            Agg::WeightedShare(col("duplex"), pages_printed()),
        ),
        Metric::TicketsOpened => s("opened", None, Agg::Count),
        Metric::TicketsResolved => s("resolved", None, Agg::Count),
        Metric::HoursToResolveMedian => s("resolved", None, Agg::Quantile(resolve_hours(), 0.5)),
        Metric::HoursToResolveP90 => s("resolved", None, Agg::Quantile(resolve_hours(), 0.9)),
        Metric::SessionsPer1000 => s("start", None, Agg::Count),
        Metric::TicketsPer10Devices => s("opened", None, Agg::Count),
        Metric::ShareOverTarget => {
            // The target of the ticket's priority; priorities without one are left out.
            let targets = &sites.library.work_order_target_hours;
            let target = targets.iter().fold(
                lit(NULL).cast(DataType::Float64),
                |other, (priority, hours)| {
                    when(col("priority").eq(lit(priority.as_str())))
                        .then(lit(*hours))
                        .otherwise(other)
                },
            );
            let known = Series::new(
                "priorities".into(),
                targets.keys().map(String::as_str).collect::<Vec<_>>(),
            );
            s(
                "resolved",
                Some(col("priority").is_in(lit(known).implode(false), false)),
                Agg::Share(resolve_hours().gt(target)),
            )
        }
        Metric::GuestShare => s(
            "start",
            None,
            Agg::Share(col("user_type").eq(lit(UserType::Guest.as_str()))),
        ),
        Metric::EveningWeekendShare => {
            // Local hour and weekday: the zone of the library (sites' zones differ only in
            // consortia that cross zones; buckets use the library's too).
            s(
                "start",
                None,
                Agg::Share(
                    col("__local")
                        .dt()
                        .hour()
                        .gt_eq(lit(17))
                        .or(col("__local").dt().weekday().gt_eq(lit(6))),
                ),
            )
        }
        other => unreachable!("{} is not an event metric", other.name()),
    }
}
