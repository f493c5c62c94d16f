//! The polars rendering of a metric's declaration (spec.rs), for the engines and the
//! kept counts: values and conditions as
//! lazy expressions. The SQL backend renders the same declarations as SQL (sql/expr.rs);
//! both follow SQL's rule for nulls (a condition on a null is unknown).

use polars::prelude::*;

use crate::spec::{Pred, Val};

/// A value as a polars expression; local times in `tz`.
pub fn val(v: &Val, tz: &TimeZone) -> Expr {
    match v {
        Val::Col(c) => col(*c).cast(DataType::Float64),
        Val::Num(x) => lit(*x),
        Val::Mul(a, b) => (val(a, tz) * val(b, tz)).cast(DataType::Float64),
        // Microseconds over 3.6e9: the hours to the microsecond, one division, as the SQL
        // backends compute them.
        Val::HoursBetween(from, to) => {
            (col(*to) - col(*from))
                .dt()
                .total_microseconds(false)
                .cast(DataType::Float64)
                / lit(3_600_000_000.0)
        }
        Val::LocalHour(c) => col(*c)
            .dt()
            .convert_time_zone(tz.clone())
            .dt()
            .hour()
            .cast(DataType::Float64),
        Val::LocalWeekday(c) => col(*c)
            .dt()
            .convert_time_zone(tz.clone())
            .dt()
            .weekday()
            .cast(DataType::Float64),
        Val::Lookup(c, table) => {
            table
                .iter()
                .fold(lit(NULL).cast(DataType::Float64), |other, (key, number)| {
                    when(col(*c).eq(lit(key.as_str())))
                        .then(lit(*number))
                        .otherwise(other)
                })
        }
    }
}

fn strings(list: &[String]) -> Expr {
    let s = Series::new(
        "list".into(),
        list.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    lit(s).implode(false)
}

/// A condition as a polars expression (null where it is unknown).
pub fn pred(p: &Pred, tz: &TimeZone) -> Expr {
    match p {
        Pred::Eq(c, v) => col(*c).eq(lit(v.as_str())),
        Pred::Ne(c, v) => col(*c).neq(lit(v.as_str())),
        // is_in of a null is null, as SQL's IN.
        Pred::In(c, list) => when(col(*c).is_null())
            .then(lit(NULL).cast(DataType::Boolean))
            .otherwise(col(*c).is_in(strings(list), false)),
        Pred::IsNull(c) => col(*c).is_null(),
        Pred::NotNull(c) => col(*c).is_not_null(),
        Pred::True(c) => col(*c),
        Pred::Gt(a, b) => val(a, tz).gt(val(b, tz)),
        Pred::Ge(a, b) => val(a, tz).gt_eq(val(b, tz)),
        Pred::Not(p) => pred(p, tz).not(),
        // polars' and/or follow Kleene's logic, as SQL's AND and OR.
        Pred::And(ps) => ps
            .iter()
            .map(|p| pred(p, tz))
            .reduce(Expr::and)
            .unwrap_or(lit(true)),
        Pred::Or(ps) => ps
            .iter()
            .map(|p| pred(p, tz))
            .reduce(Expr::or)
            .unwrap_or(lit(false)),
    }
}
