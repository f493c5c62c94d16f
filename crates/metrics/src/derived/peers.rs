//! The library against its peers, from the IMLS Public Libraries Survey's per-library
//! file (the `peers` table): per measure, the library's value, the peers' median and
//! quartiles, how many peers have the measure, and the share of peers below the library.
//! docs/metrics.md ("Peers") states the rules.

use chrono::{Months, NaiveDate};
use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::{Sites, Table};

use crate::base::frame::{dates, strings};
use crate::base::load::scan_current;
use crate::base::request::{MetricError, Output};
use crate::base::span::data_range;
use crate::catalogue::Metric;
use crate::derived::survey;

/// How the peer group is chosen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PeerGroup {
    /// Every library whose service population is between half and one and a half times
    /// the library's (both ends included).
    #[default]
    Population,
    /// The same, in the library's state only.
    PopulationInState,
    /// These libraries (FSCSKEYs).
    Keys(Vec<String>),
}

/// What `tally peers` asks.
#[derive(Debug, Clone)]
pub struct PeersRequest {
    /// The survey year (`FY2018` is 2018).
    pub year: i32,
    /// The library's FSCSKEY (`WI0176`).
    pub library: String,
    pub group: PeerGroup,
}

/// The measures, each a ratio of two survey columns times a scale.
pub const MEASURES: [(&str, &str, &str, f64); 7] = [
    ("circulation_per_capita", "circulation", "population", 1.0),
    (
        "computer_uses_per_capita",
        "computer_uses",
        "population",
        1.0,
    ),
    (
        "wifi_sessions_per_capita",
        "wifi_sessions",
        "population",
        1.0,
    ),
    ("computers_per_1000", "computers", "population", 1000.0),
    ("visits_per_capita", "visits", "population", 1.0),
    (
        "computer_uses_per_computer",
        "computer_uses",
        "computers",
        1.0,
    ),
    ("uses_per_open_hour", "computer_uses", "hours_open", 1.0),
];

/// The `p` quantile (0..1) of sorted values by linear interpolation between closest
/// ranks, as Excel's PERCENTILE.INC: rank p x (n - 1) from 0. The median of an even
/// count is the mean of the two middle values.
pub fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = p * (n - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64))
}

/// What one library reported: its key, state and figures by the `peers` table's column.
#[derive(Debug, Clone, PartialEq)]
pub struct Reported {
    pub key: String,
    pub state: String,
    pub figures: Vec<(&'static str, Option<f64>)>,
}

impl Reported {
    pub fn get(&self, column: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|(n, _)| *n == column)
            .and_then(|(_, v)| *v)
    }

    /// num x scale / den, when both are reported and den is above 0.
    fn ratio(&self, num: &str, den: &str, scale: f64) -> Option<f64> {
        match (self.get(num), self.get(den)) {
            (Some(a), Some(b)) if b > 0.0 => Some(a * scale / b),
            _ => None,
        }
    }
}

/// One measure's row.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerRow {
    pub measure: &'static str,
    pub value: Option<f64>,
    pub median: Option<f64>,
    pub p25: Option<f64>,
    pub p75: Option<f64>,
    pub count: usize,
    /// Share of the peers with the measure whose value is below the library's, in %.
    pub percentile: Option<f64>,
}

/// The rows for a library and its peers. A peer that lacks an input of a measure is
/// left out of that measure's group.
pub fn compare(library: &Reported, peers: &[&Reported]) -> Vec<PeerRow> {
    MEASURES
        .iter()
        .map(|&(measure, num, den, scale)| {
            let value = library.ratio(num, den, scale);
            let mut values: Vec<f64> = peers
                .iter()
                .filter_map(|p| p.ratio(num, den, scale))
                .collect();
            values.sort_by(f64::total_cmp);
            let percentile = value.filter(|_| !values.is_empty()).map(|v| {
                values.iter().filter(|x| **x < v).count() as f64 * 100.0 / values.len() as f64
            });
            PeerRow {
                measure,
                value,
                median: quantile(&values, 0.5),
                p25: quantile(&values, 0.25),
                p75: quantile(&values, 0.75),
                count: values.len(),
                percentile,
            }
        })
        .collect()
}

/// `v` as a percentage of `median` (the median is 100); empty without a positive median.
fn pct_of(v: Option<f64>, median: Option<f64>) -> Option<f64> {
    match (v, median) {
        (Some(v), Some(m)) if m > 0.0 => Some(v * 100.0 / m),
        _ => None,
    }
}

/// The latest survey year in the lake up to `year` (the survey lags the library's own
/// year by one or two), if any.
pub fn latest_year(lake: &Snapshot, year: i32) -> Result<Option<i32>, MetricError> {
    let df = scan_current(lake, Table::Peers)?
        .select([col("year")])
        .filter(col("year").lt_eq(lit(i64::from(year))))
        .select([col("year").max()])
        .collect()?;
    Ok(df
        .column("year")?
        .cast(&DataType::Int64)?
        .i64()?
        .get(0)
        .and_then(|y| i32::try_from(y).ok()))
}

/// The library's own figures for its survey year, computed from the lake by the survey's
/// rules (`tally survey`'s library total over the twelve months from the year's first
/// day in the file), as the measures' values: the file's population and open hours are
/// the denominators, so the two columns differ only where the counts do. A line whose
/// table's data in the lake does not span the whole twelve months is missing, not an
/// undercount (computers, 650, go with the sessions, 651); tally keeps no door counts, so
/// visits have no tally value.
pub fn tally_values(
    lake: &Snapshot,
    sites: &Sites,
    library: &Reported,
    start: NaiveDate,
) -> Result<Vec<Option<f64>>, MetricError> {
    let end = start + Months::new(12);
    let mut figures: Vec<(&'static str, Option<f64>)> = vec![
        ("population", library.get("population")),
        ("hours_open", library.get("hours_open")),
        ("visits", None),
    ];
    for (_, metric, _) in survey::LINES {
        let whole_year = data_range(lake, sites, metric.table())?
            .is_some_and(|(first, last)| first <= start && last >= end);
        let column = match metric {
            Metric::PublicComputers => "computers",
            Metric::SurveyUses => "computer_uses",
            Metric::WifiSessions => "wifi_sessions",
            Metric::Circulation => "circulation",
            other => unreachable!("{} is not a survey line", other.name()),
        };
        let value = if whole_year {
            Some(survey::library_figure(lake, sites, metric, start, end)? as f64)
        } else {
            None
        };
        figures.push((column, value));
    }
    let ours = Reported {
        key: library.key.clone(),
        state: library.state.clone(),
        figures,
    };
    Ok(MEASURES
        .iter()
        .map(|&(_, num, den, scale)| ours.ratio(num, den, scale))
        .collect())
}

/// The peers table for a request, from the lake's `peers` rows of that survey year.
/// With `sites`, the rows also show `tally_value` ([`tally_values`]).
pub fn peers(
    lake: &Snapshot,
    sites: Option<&Sites>,
    req: &PeersRequest,
) -> Result<Output, MetricError> {
    let df = scan_current(lake, Table::Peers)?
        .filter(col("year").eq(lit(i64::from(req.year))))
        .collect()?;
    let columns = [
        "population",
        "hours_open",
        "visits",
        "circulation",
        "computers",
        "computer_uses",
        "wifi_sessions",
    ];
    let keys = strings(&df, "fscskey")?;
    let starts = dates(&df, "period_start")?;
    let states = strings(&df, "state")?;
    let mut figures: Vec<Vec<Option<f64>>> = Vec::new();
    for c in columns {
        figures.push(df.column(c)?.f64()?.iter().collect());
    }
    let start_of = |key: &str| {
        (0..df.height())
            .find(|&i| keys[i].as_deref() == Some(key))
            .and_then(|i| starts[i])
    };
    let rows: Vec<Reported> = (0..df.height())
        .map(|i| Reported {
            key: keys[i].clone().unwrap_or_default(),
            state: states[i].clone().unwrap_or_default(),
            figures: columns
                .iter()
                .zip(&figures)
                .map(|(c, v)| (*c, v[i]))
                .collect(),
        })
        .collect();
    if rows.is_empty() {
        return Err(MetricError::Invalid(format!(
            "the lake has no survey rows for FY{}: ingest the survey's file (tally ingest --table peers --format pls \
             FILE, with --year {} when its name has no year)",
            req.year, req.year
        )));
    }
    let wanted = req.library.trim().to_ascii_uppercase();
    let library = rows
        .iter()
        .find(|r| r.key.eq_ignore_ascii_case(&wanted))
        .ok_or_else(|| {
            MetricError::Invalid(format!(
                "FSCSKEY {wanted} is not in the survey file of FY{} ({} libraries): check sites.toml fscskey or --library",
                req.year,
                rows.len()
            ))
        })?;
    let group: Vec<&Reported> = match &req.group {
        PeerGroup::Keys(list) => {
            let mut out = Vec::new();
            let mut unknown = Vec::new();
            for k in list {
                match rows.iter().find(|r| r.key.eq_ignore_ascii_case(k.trim())) {
                    Some(r) if r.key != library.key => out.push(r),
                    Some(_) => {}
                    None => unknown.push(k.clone()),
                }
            }
            if !unknown.is_empty() {
                return Err(MetricError::Invalid(format!(
                    "--peers: not in the survey file of FY{}: {}",
                    req.year,
                    unknown.join(", ")
                )));
            }
            out
        }
        g => {
            let pop = library.get("population").ok_or_else(|| {
                MetricError::Invalid(format!(
                    "{wanted} reports no service population (POPU_LSA) for FY{}: name the peers with --peers",
                    req.year
                ))
            })?;
            rows.iter()
                .filter(|r| r.key != library.key)
                .filter(|r| *g != PeerGroup::PopulationInState || r.state == library.state)
                .filter(|r| {
                    r.get("population")
                        .is_some_and(|p| p >= pop * 0.5 && p <= pop * 1.5)
                })
                .collect()
        }
    };
    let result = compare(library, &group);
    let col_f = |f: fn(&PeerRow) -> Option<f64>| result.iter().map(f).collect::<Vec<_>>();
    let mut frame = DataFrame::new_infer_height(vec![
        Column::new(
            "measure".into(),
            result.iter().map(|r| r.measure).collect::<Vec<_>>(),
        ),
        Column::new("value".into(), col_f(|r| r.value)),
        Column::new("peer_median".into(), col_f(|r| r.median)),
        Column::new("peer_p25".into(), col_f(|r| r.p25)),
        Column::new("peer_p75".into(), col_f(|r| r.p75)),
        Column::new(
            "peer_count".into(),
            result.iter().map(|r| r.count as i64).collect::<Vec<_>>(),
        ),
        Column::new("percentile".into(), col_f(|r| r.percentile)),
        // Against the peers' median (= 100), so that measures of every size share one
        // axis: the library's value and the quartiles.
        Column::new(
            "value_pct_of_median".into(),
            col_f(|r| pct_of(r.value, r.median)),
        ),
        Column::new(
            "p25_pct_of_median".into(),
            col_f(|r| pct_of(r.p25, r.median)),
        ),
        Column::new(
            "p75_pct_of_median".into(),
            col_f(|r| pct_of(r.p75, r.median)),
        ),
        Column::new("peer_group".into(), vec![group.len() as i64; result.len()]),
    ])?;
    if let Some(sites) = sites {
        let start = start_of(&library.key)
            .or_else(|| NaiveDate::from_ymd_opt(req.year, 1, 1))
            .ok_or_else(|| MetricError::Invalid(format!("FY{}: not a year", req.year)))?;
        let ours = tally_values(lake, sites, library, start)?;
        frame.with_column(Column::new("tally_value".into(), ours))?;
    }
    Ok(Output {
        frame,
        value_column: "value".into(),
        warnings: vec![format!(
            "FY{}: {} ({}) against {} peers",
            req.year,
            wanted,
            library.state,
            group.len()
        )],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_as_percentile_inc() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), Some(2.5), "the mean of the middle two");
        assert_eq!(quantile(&v, 0.25), Some(1.75));
        assert_eq!(quantile(&v, 0.75), Some(3.25));
        assert_eq!(quantile(&[7.0], 0.25), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
