//! The SQL rendering of a metric's declaration (spec.rs): values and conditions as SQL
//! expressions over a table's columns. The polars rendering is base/expr.rs; both follow
//! SQL's rule for nulls.

use crate::spec::{Pred, Val};
use crate::sql::dialect::Dialect;

/// A value as SQL (a DOUBLE); local times in `zone`.
pub fn val(v: &Val, d: Dialect, zone: &str) -> String {
    match v {
        Val::Col(c) => format!("CAST({} AS DOUBLE)", d.ident(c)),
        Val::Num(x) => d.double(*x),
        Val::Mul(a, b) => format!("({} * {})", val(a, d, zone), val(b, d, zone)),
        Val::HoursBetween(from, to) => format!(
            "(CAST({} - {} AS DOUBLE) / 3600000000E0)",
            d.micros(&d.ident(to)),
            d.micros(&d.ident(from))
        ),
        Val::LocalHour(c) => d.local_hour(&d.ident(c), zone),
        Val::LocalWeekday(c) => d.local_weekday(&d.ident(c), zone),
        Val::Lookup(c, table) => {
            let mut s = String::from("CASE");
            for (key, number) in table {
                s.push_str(&format!(
                    " WHEN {} = {} THEN {}",
                    d.ident(c),
                    d.text(key),
                    d.double(*number)
                ));
            }
            s.push_str(&format!(" ELSE {} END", d.null("DOUBLE")));
            s
        }
    }
}

/// A condition as SQL (unknown where a column it reads is null).
pub fn pred(p: &Pred, d: Dialect, zone: &str) -> String {
    match p {
        Pred::Eq(c, v) => format!("({} = {})", d.ident(c), d.text(v)),
        Pred::Ne(c, v) => format!("({} <> {})", d.ident(c), d.text(v)),
        Pred::In(c, list) if list.is_empty() => format!("({} IS NULL AND FALSE)", d.ident(c)),
        Pred::In(c, list) => format!(
            "({} IN ({}))",
            d.ident(c),
            list.iter()
                .map(|v| d.text(v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Pred::IsNull(c) => format!("({} IS NULL)", d.ident(c)),
        Pred::NotNull(c) => format!("({} IS NOT NULL)", d.ident(c)),
        Pred::True(c) => format!("({})", d.ident(c)),
        Pred::Gt(a, b) => format!("({} > {})", val(a, d, zone), val(b, d, zone)),
        Pred::Ge(a, b) => format!("({} >= {})", val(a, d, zone), val(b, d, zone)),
        Pred::Not(p) => format!("(NOT {})", pred(p, d, zone)),
        Pred::And(ps) if ps.is_empty() => "TRUE".into(),
        Pred::And(ps) => format!(
            "({})",
            ps.iter()
                .map(|p| pred(p, d, zone))
                .collect::<Vec<_>>()
                .join(" AND ")
        ),
        Pred::Or(ps) if ps.is_empty() => "FALSE".into(),
        Pred::Or(ps) => format!(
            "({})",
            ps.iter()
                .map(|p| pred(p, d, zone))
                .collect::<Vec<_>>()
                .join(" OR ")
        ),
    }
}
