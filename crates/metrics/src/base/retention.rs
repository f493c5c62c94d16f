//! Distinct counts across a purge (docs/privacy.md).
//!
//! `tally purge` clears patron, item and device keys from rows before a date. Before it
//! does, [`kept_counts`] computes, for each calendar bucket that holds purged rows (each
//! day, ISO week, month, quarter and fiscal year; per site and for the library as a
//! whole), how many distinct keys the purge takes out of the bucket: the figure it had
//! minus the distinct keys its remaining rows still hold. [`corrections`] adds those
//! counts back when a metric is asked for such a bucket, so its figure stays what it was.
//! A bucket the period clips is answered by its whole bucket when the days it leaves out
//! hold no rows. A bucket of another shape (an hour, a period that is not a calendar bucket, a
//! breakdown by something other than the site) cannot be answered for purged rows and
//! is left empty, with a warning.

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, NaiveDate};
use polars::prelude::*;
use tally_lake::{KeptCount, Purged, Snapshot};
use tally_model::Sites;

use crate::base::expr;
use crate::base::frame::{micros, strings};
use crate::base::grid::{Grid, KEPT_KINDS, bucket_start, is_kept_bucket, midnight_us, next_start};
use crate::base::load::{scan_partitions, utc_lit};
use crate::base::request::MetricError;
use crate::base::span::{Days, data_range};
use crate::catalogue::{Dim, Metric};
use crate::spec::{Measure, event_spec};

/// The metrics that count distinct keys, with the column they count.
pub const DISTINCT_METRICS: [Metric; 2] = [Metric::DistinctUsers, Metric::WifiDevices];

/// What a lake's purges keep for one distinct metric, over one grid.
pub(crate) struct Corrections {
    /// Per (group, bucket), the distinct keys the purges took out of the bucket's rows.
    pub kept: HashMap<(Vec<String>, usize), f64>,
    /// Groups that appear only in the kept counts (every row of theirs purged).
    pub groups: BTreeSet<Vec<String>>,
    /// Buckets that hold purged rows but that no kept count answers.
    pub unknown: Vec<bool>,
    pub warning: Option<String>,
}

/// The kept counts that apply to `grid` broken down by `dims`, or `None` when the grid
/// lies after the lake's purge date (or the lake was never purged).
pub(crate) fn corrections(
    lake: &Snapshot,
    sites: &Sites,
    metric: Metric,
    grid: &Grid,
    dims: &[Dim],
) -> Result<Option<Corrections>, MetricError> {
    let Some(purged) = lake.lake().meta()?.and_then(|m| m.purged) else {
        return Ok(None);
    };
    if grid.buckets.is_empty() || grid.start_us() >= purged.before_us {
        return Ok(None);
    }
    let fy = purged.fiscal_year_start_month;
    let same_calendar =
        purged.timezone == grid.tz.name() && fy == sites.library.fiscal_year_start_month;
    let by_site = match dims {
        [] => Some(false),
        [Dim::Site] => Some(true),
        _ => None,
    };
    let mut by_days: HashMap<Days, Vec<(Option<String>, i64)>> = HashMap::new();
    for k in lake.lake().kept_counts()? {
        if k.metric == metric.name() {
            by_days
                .entry((k.from, k.to))
                .or_default()
                .push((k.site, k.kept));
        }
    }
    let mut out = Corrections {
        kept: HashMap::new(),
        groups: BTreeSet::new(),
        unknown: vec![false; grid.buckets.len()],
        warning: None,
    };
    // The days the table's rows span: a bucket the period clips (the first week of a
    // period that starts on a Tuesday) is answered by its whole bucket's kept count when
    // the days it leaves out hold no rows.
    let mut span: Option<Option<(NaiveDate, NaiveDate)>> = None;
    for (b, bucket) in grid.buckets.iter().enumerate() {
        if bucket.start_us >= purged.before_us {
            continue;
        }
        let days = match bucket.days {
            Some((from, to)) if same_calendar && !is_kept_bucket(from, to, fy) => {
                let span = match span {
                    Some(s) => s,
                    None => *span.insert(data_range(lake, sites, metric.table())?),
                };
                span.and_then(|(first, end)| {
                    KEPT_KINDS.iter().find_map(|&k| {
                        let whole = (bucket_start(from, k, fy), next_start(from, k, fy));
                        let inside = whole.0 <= from && to <= whole.1;
                        let left_empty = whole.0 == from || from <= first;
                        let right_empty = whole.1 == to || to >= end;
                        (inside && left_empty && right_empty).then_some(whole)
                    })
                })
            }
            Some(days) if same_calendar => Some(days),
            _ => None,
        };
        let (Some(days), Some(by_site)) = (days, by_site) else {
            out.unknown[b] = true;
            continue;
        };
        for (site, kept) in by_days.get(&days).into_iter().flatten() {
            let key = match (by_site, site) {
                (true, Some(s)) => vec![s.clone()],
                (false, None) => Vec::new(),
                _ => continue,
            };
            out.groups.insert(key.clone());
            out.kept.insert((key, b), *kept as f64);
        }
    }
    let unknown = out.unknown.iter().filter(|u| **u).count();
    if unknown > 0 {
        out.warning = Some(format!(
            "{unknown} bucket(s) before {} hold rows whose identifiers were purged and are left empty: \
             {} across a purge is kept per day, ISO week, month, quarter and fiscal year (in {}, fiscal year from month {fy}), \
             for each site and for the library as a whole (docs/privacy.md)",
            purged.before,
            metric.name(),
            purged.timezone,
        ));
    }
    Ok(Some(out))
}

/// Open sets of distinct keys per (kind, site, bucket) while the partitions are read,
/// and the counts of the buckets already closed.
#[derive(Default)]
struct Tally {
    /// Every key of the bucket's rows (purged or not).
    all: PlHashMap<(usize, u32, u32), PlHashSet<i64>>,
    /// Keys of the bucket's rows on or after the purge date (they keep them).
    after: PlHashMap<(usize, u32, u32), PlHashSet<i64>>,
    closed: HashMap<(usize, u32, u32), (usize, usize)>,
}

/// The library as a whole, among site ids.
const LIBRARY: u32 = u32::MAX;

impl Tally {
    /// Counts and drops the sets of buckets that end by `instant`.
    fn close_before(&mut self, instant: i64, grids: &[Grid]) {
        let done: Vec<(usize, u32, u32)> = self
            .all
            .keys()
            .filter(|(k, _, b)| grids[*k].buckets[*b as usize].end_us <= instant)
            .copied()
            .collect();
        for key in done {
            let all = self.all.remove(&key).map_or(0, |s| s.len());
            let after = self.after.remove(&key).map_or(0, |s| s.len());
            self.closed.insert(key, (all, after));
        }
    }
}

/// The distinct counts a purge of the rows before `before` takes out of each bucket,
/// per distinct metric, site (and the library), and calendar bucket: what the bucket's
/// figure is now (with the counts earlier purges kept) minus the distinct keys its rows
/// keep. These replace the lake's kept counts when the purge commits.
pub fn kept_counts(
    lake: &Snapshot,
    sites: &Sites,
    before: NaiveDate,
) -> Result<Vec<KeptCount>, MetricError> {
    let tz = sites.library.timezone;
    let zone = TimeZone::opt_try_new(Some(tz.name()))?.expect("a zone");
    let fy = sites.library.fiscal_year_start_month;
    let before_us = midnight_us(before, tz);
    let previous: Option<Purged> = lake.lake().meta()?.and_then(|m| m.purged);
    if let Some(p) = &previous
        && (p.timezone != tz.name() || p.fiscal_year_start_month != fy)
    {
        return Err(MetricError::Invalid(format!(
            "the lake was purged with the library in {} and its fiscal year from month {}; sites.toml now says {} and month {fy}. \
             The distinct counts kept then are per bucket of that calendar and cannot be carried into this one: \
             set [library] timezone and fiscal_year_start_month back to purge again",
            p.timezone,
            p.fiscal_year_start_month,
            tz.name()
        )));
    }
    // Counts earlier purges kept, carried over where no bucket is recomputed.
    let mut kept: HashMap<(String, Option<String>, NaiveDate, NaiveDate), i64> = lake
        .lake()
        .kept_counts()?
        .into_iter()
        .map(|k| ((k.metric, k.site, k.from, k.to), k.kept))
        .collect();
    for metric in DISTINCT_METRICS {
        let table = metric.table();
        let Some((first, _)) = data_range(lake, sites, table)? else {
            continue;
        };
        if first >= before {
            continue;
        }
        let spec = event_spec(metric, sites);
        let Measure::Distinct(column) = spec.measure else {
            unreachable!("{} counts distinct keys", metric.name())
        };
        let last = before - Duration::days(1);
        let grids: Vec<Grid> = KEPT_KINDS
            .iter()
            .map(|&k| {
                Grid::new(
                    bucket_start(first, k, fy),
                    next_start(last, k, fy),
                    k,
                    tz,
                    fy,
                )
            })
            .collect();
        let start_us = grids.iter().map(Grid::start_us).min().unwrap_or(0);
        let end_us = grids.iter().map(Grid::end_us).max().unwrap_or(0);
        let mut names: PlHashMap<String, u32> = PlHashMap::new();
        let mut tally = Tally::default();
        let parts = scan_partitions(lake, table, (start_us, end_us), 0)?;
        for (i, (_, part)) in parts.iter().enumerate() {
            let time = col(spec.time);
            let mut lf = part.clone().filter(
                time.clone()
                    .gt_eq(utc_lit(start_us))
                    .and(time.lt(utc_lit(end_us))),
            );
            if let Some(f) = &spec.filter {
                lf = lf.filter(expr::pred(f, &zone));
            }
            let df = lf
                .select([
                    col("site").fill_null(lit("(none)")).alias("site"),
                    col(spec.time).alias("__time"),
                    col(column).alias("__v"),
                ])
                .collect()?;
            let site = strings(&df, "site")?;
            let times = micros(&df, "__time")?;
            let values = df.column("__v")?.i64()?.clone();
            for ((s, t), v) in site.into_iter().zip(times).zip(values.iter()) {
                let Some(v) = v else { continue };
                let s = s.unwrap_or_default();
                let id = match names.get(&s) {
                    Some(&id) => id,
                    None => {
                        let id = names.len() as u32;
                        names.insert(s, id);
                        id
                    }
                };
                for (k, grid) in grids.iter().enumerate() {
                    let Some(b) = grid.index_of(t) else { continue };
                    if grid.buckets[b].start_us >= before_us {
                        continue;
                    }
                    for who in [id, LIBRARY] {
                        let key = (k, who, b as u32);
                        tally.all.entry(key).or_default().insert(v);
                        if t >= before_us {
                            tally.after.entry(key).or_default().insert(v);
                        }
                    }
                }
            }
            let next = parts.get(i + 1).map_or(i64::MAX, |(start, _)| *start);
            tally.close_before(next, &grids);
        }
        tally.close_before(i64::MAX, &grids);
        let site_name: HashMap<u32, String> = names.into_iter().map(|(n, id)| (id, n)).collect();
        for ((k, who, b), (all, after)) in tally.closed {
            let Some((from, to)) = grids[k].buckets[b as usize].days else {
                continue;
            };
            let site = (who != LIBRARY).then(|| site_name[&who].clone());
            let key = (metric.name().to_string(), site, from, to);
            let old = kept.get(&key).copied().unwrap_or(0);
            let new = all as i64 + old - after as i64;
            kept.insert(key, new);
        }
    }
    let mut out: Vec<KeptCount> = kept
        .into_iter()
        .filter(|(_, k)| *k != 0)
        .map(|((metric, site, from, to), kept)| KeptCount {
            metric,
            site,
            from,
            to,
            kept,
        })
        .collect();
    out.sort_by(|a, b| (&a.metric, &a.site, a.from, a.to).cmp(&(&b.metric, &b.site, b.from, b.to)));
    Ok(out)
}

/// The purge point of a date: rows that start before its midnight in the library's zone
/// are purged; the zone and fiscal year are those the kept counts are made in.
pub fn purge_point(sites: &Sites, before: NaiveDate) -> Purged {
    let tz = sites.library.timezone;
    Purged {
        before,
        before_us: midnight_us(before, tz),
        timezone: tz.name().to_string(),
        fiscal_year_start_month: sites.library.fiscal_year_start_month,
    }
}
