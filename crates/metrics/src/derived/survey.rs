//! The annual public library survey's figures for one year, per branch and for the
//! library: public internet computers (650), their uses (651, staff sessions excluded),
//! Wi-Fi sessions (652) and physical circulation (553: checkouts and renewals,
//! in-house use excluded). Each row names the rule it follows.

use chrono::NaiveDate;
use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::{BucketKind, Sites};

use crate::base::frame::strings;
use crate::base::request::{MetricError, Request};
use crate::catalogue::{Dim, Metric};
use crate::engines::answer;

/// (survey line, metric, rule)
pub const LINES: [(&str, Metric, &str); 4] = [
    (
        "650",
        Metric::PublicComputers,
        "public internet computers: the stations in sites.toml",
    ),
    (
        "651",
        Metric::SurveyUses,
        "uses of public internet computers: sessions started in the year, staff sessions excluded",
    ),
    (
        "652",
        Metric::WifiSessions,
        "wireless sessions: connections started in the year, one per device connection",
    ),
    (
        "553",
        Metric::Circulation,
        "physical circulation: checkouts + renewals in the year, in-house use excluded",
    ),
];

/// A survey line's metric over [from, to) as one bucket, by `by`.
fn over(
    lake: &Snapshot,
    sites: &Sites,
    metric: Metric,
    from: NaiveDate,
    to: NaiveDate,
    by: Vec<Dim>,
) -> Result<DataFrame, MetricError> {
    Ok(answer(
        lake,
        sites,
        &Request {
            metric,
            from,
            to,
            every: BucketKind::All,
            by,
            budget: None,
        },
    )?
    .frame)
}

/// The library's figure of a survey line's metric over [from, to).
pub fn library_figure(
    lake: &Snapshot,
    sites: &Sites,
    metric: Metric,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<i64, MetricError> {
    Ok(over(lake, sites, metric, from, to, vec![])?
        .column(metric.name())?
        .cast(&DataType::Int64)?
        .i64()?
        .get(0)
        .unwrap_or(0))
}

/// The figures for [from, to) (a fiscal or calendar year): columns `site` (the code, or
/// "(library)"), `line`, `value`, `rule`; branches in sites.toml order, then the library.
pub fn survey(
    lake: &Snapshot,
    sites: &Sites,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<DataFrame, MetricError> {
    let (mut site, mut line, mut value, mut rule) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (code, metric, text) in LINES {
        let per_site = over(lake, sites, metric, from, to, vec![Dim::Site])?;
        let codes = strings(&per_site, "site")?;
        let values: Vec<Option<i64>> = per_site
            .column(metric.name())?
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .collect();
        for s in &sites.sites {
            let v = codes
                .iter()
                .position(|c| c.as_deref() == Some(s.code.as_str()))
                .and_then(|i| values[i])
                .unwrap_or(0);
            site.push(s.code.clone());
            line.push(code);
            value.push(v);
            rule.push(text);
        }
        site.push("(library)".to_string());
        line.push(code);
        value.push(library_figure(lake, sites, metric, from, to)?);
        rule.push(text);
    }
    Ok(DataFrame::new_infer_height(vec![
        Column::new("site".into(), site),
        Column::new("line".into(), line),
        Column::new("value".into(), value),
        Column::new("rule".into(), rule),
    ])?)
}
