//! From a request (metric, period, bucket, dimensions) to a table.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate, Timelike};
use polars::prelude::*;
use rayon::prelude::*;
use tally_model::tables::sessions as s;
use tally_model::{BucketKind, Lake, Site, Sites, Table, WeekHours};

use crate::calendar::open_intervals;
use crate::catalogue::{Dim, Metric};
use crate::grid::Grid;
use crate::load::{micros, strings, utc_lit};

/// The interned values of a session's "by" dimensions.
type GroupKey = [u32; 3];
/// A stretch of time, UTC microseconds [start, end).
type Span = (i64, i64);
/// A stretch of time on one station.
type StationSpan = (u32, i64, i64);
use crate::sweep::{Acc, merge_per_station, split_time, sweep};

#[derive(Debug, thiserror::Error)]
pub enum MetricError {
    #[error(transparent)]
    Polars(#[from] PolarsError),
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Clone)]
pub struct Request {
    pub metric: Metric,
    /// First local day, inclusive.
    pub from: NaiveDate,
    /// Last local day, exclusive.
    pub to: NaiveDate,
    pub every: BucketKind,
    pub by: Vec<Dim>,
}

/// The same request a year earlier, for year-over-year columns.
fn year_before(req: &Request) -> Result<Request, MetricError> {
    if !matches!(
        req.every,
        BucketKind::Month | BucketKind::Quarter | BucketKind::FiscalYear | BucketKind::All
    ) {
        return Err(MetricError::Invalid(format!(
            "year over year compares months, quarters, fiscal years or the whole period, not {}s (their count differs from year to year)",
            req.every.as_str()
        )));
    }
    let back = |d: NaiveDate| {
        d.with_year(d.year() - 1)
            .unwrap_or_else(|| d - chrono::Duration::days(365))
    };
    Ok(Request {
        from: back(req.from),
        to: back(req.to),
        ..req.clone()
    })
}

/// `compute` plus `previous_year` (the same bucket a year earlier) and `change_pct`
/// ((this - previous) / previous x 100; empty when the previous is 0 or empty).
pub fn compute_yoy(lake: &Lake, sites: &Sites, req: &Request) -> Result<Output, MetricError> {
    let now = compute(lake, sites, req)?;
    let then = compute(lake, sites, &year_before(req)?)?;
    let dims: Vec<String> = now
        .frame
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .filter(|c| c != "bucket" && *c != now.value_column)
        .collect();
    // Buckets pair by their position within a group: the n-th month of the period with
    // the n-th month of the period a year before.
    let positions = |df: &DataFrame| -> Result<Vec<(Vec<String>, usize)>, MetricError> {
        let keys: Vec<Vec<Option<String>>> = dims
            .iter()
            .map(|d| strings(df, d))
            .collect::<Result<_, _>>()?;
        let mut seen: HashMap<Vec<String>, usize> = HashMap::new();
        Ok((0..df.height())
            .map(|i| {
                let k: Vec<String> = keys
                    .iter()
                    .map(|c| c[i].clone().unwrap_or_default())
                    .collect();
                let n = seen.entry(k.clone()).or_default();
                *n += 1;
                (k, *n - 1)
            })
            .collect())
    };
    let value = |df: &DataFrame| -> Result<Vec<Option<f64>>, MetricError> {
        Ok(df
            .column(&now.value_column)?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .collect())
    };
    let before: HashMap<(Vec<String>, usize), Option<f64>> = positions(&then.frame)?
        .into_iter()
        .zip(value(&then.frame)?)
        .collect();
    let current = value(&now.frame)?;
    let (mut previous, mut change) = (Vec::new(), Vec::new());
    for (pos, v) in positions(&now.frame)?.into_iter().zip(current) {
        let p = before.get(&pos).copied().flatten();
        previous.push(p);
        change.push(match (v, p) {
            (Some(v), Some(p)) if p != 0.0 => Some((v - p) / p * 100.0),
            _ => None,
        });
    }
    let mut frame = now.frame;
    frame.with_column(Column::new("previous_year".into(), previous))?;
    frame.with_column(Column::new("change_pct".into(), change))?;
    let mut warnings = now.warnings;
    warnings.extend(
        then.warnings
            .into_iter()
            .filter(|w| !w.contains("suppressed")),
    );
    Ok(Output {
        frame,
        value_column: now.value_column,
        warnings,
    })
}

/// A metric's table: one column per `by` dimension, `bucket`, and the value column
/// (named after the metric; for the heatmap `weekday`, `hour` and `occupancy`).
#[derive(Debug, Clone)]
pub struct Output {
    pub frame: DataFrame,
    pub value_column: String,
    /// Things a reader should know (sites sites.toml does not know, suppressed cells).
    pub warnings: Vec<String>,
}

impl Output {
    /// The `n` largest values of each bucket, largest first (top collections, the assets
    /// with the most tickets); buckets keep their order, empty values come last. Ties
    /// keep the frame's order, so the result is the same on every run.
    pub fn top(mut self, n: usize) -> Result<Output, MetricError> {
        let df = &self.frame;
        let buckets = strings(df, "bucket")?;
        let values: Vec<Option<f64>> = df
            .column(&self.value_column)?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .collect();
        let mut order: Vec<Option<String>> = Vec::new();
        let mut rows: std::collections::HashMap<Option<String>, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, b) in buckets.into_iter().enumerate() {
            if !rows.contains_key(&b) {
                order.push(b.clone());
            }
            rows.entry(b).or_default().push(i);
        }
        let mut keep: Vec<IdxSize> = Vec::new();
        for b in order {
            let mut idx = rows.remove(&b).unwrap_or_default();
            idx.sort_by(|&x, &y| match (values[x], values[y]) {
                (Some(a), Some(b)) => b.total_cmp(&a),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            });
            keep.extend(idx.into_iter().take(n).map(|i| i as IdxSize));
        }
        self.frame = df.take(&IdxCa::from_vec("idx".into(), keep))?;
        Ok(self)
    }
}

/// The local days the sessions in the lake span: (first day, day after the last).
pub fn data_range(
    lake: &Lake,
    sites: &Sites,
) -> Result<Option<(NaiveDate, NaiveDate)>, MetricError> {
    // A partition holds the sessions starting in its month: the first start is in the
    // first partition, the last in the last; the months between need not be read.
    let parts =
        crate::load::scan_partitions(lake, Table::Sessions, (i64::MIN / 2, i64::MAX / 2), 0)?;
    let (Some((_, first)), Some((_, last))) = (parts.first(), parts.last()) else {
        return Ok(None);
    };
    let bound = |lf: &LazyFrame, e: Expr| -> Result<Vec<i64>, MetricError> {
        Ok(micros(&lf.clone().select([e.alias("t")]).collect()?, "t")?)
    };
    let lo = bound(first, col(s::START).min())?;
    let hi = bound(last, col(s::START).max())?;
    match (lo.first(), hi.first()) {
        (Some(&lo), Some(&hi)) if lo != i64::MIN && hi != i64::MIN => {
            let tz = sites.library.timezone;
            let day = |t: i64| {
                chrono::DateTime::from_timestamp_micros(t)
                    .expect("in range")
                    .with_timezone(&tz)
                    .date_naive()
            };
            Ok(Some((day(lo), day(hi) + chrono::Duration::days(1))))
        }
        _ => Ok(None),
    }
}

pub fn compute(lake: &Lake, sites: &Sites, req: &Request) -> Result<Output, MetricError> {
    if req.from >= req.to {
        return Err(MetricError::Invalid(format!(
            "--from {} must be before --to {} (--to is exclusive)",
            req.from, req.to
        )));
    }
    let mut dims = req.by.clone();
    dims.sort();
    dims.dedup();
    let every = if req.metric == Metric::Heatmap {
        BucketKind::Hour
    } else {
        req.every
    };
    let grid = Grid::new(
        req.from,
        req.to,
        every,
        sites.library.timezone,
        sites.library.fiscal_year_start_month,
    );
    if let Some(d) = dims.iter().find(|d| !req.metric.dims().contains(d)) {
        return Err(MetricError::Invalid(format!(
            "{} cannot be broken down by {}; it can by {}",
            req.metric.name(),
            d.column(),
            req.metric
                .dims()
                .iter()
                .map(|d| d.column())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut out = match req.metric {
        m if m.is_interval() => intervals(lake, sites, m, &grid, &dims)?,
        Metric::Backlog => crate::events::backlog(lake, sites, &grid, &dims)?,
        Metric::ReplacementDue | Metric::ReplacementCost => {
            crate::fleet::replacement(lake, sites, req.metric, &grid, &dims)?
        }
        Metric::PublicComputers => crate::fleet::public_computers(sites, &grid, &dims)?,
        Metric::Assets => crate::fleet::assets_in_service(lake, sites, &grid, &dims)?,
        m @ (Metric::SessionsTrend | Metric::CirculationTrend | Metric::WifiTrend) => {
            crate::trends::trend(lake, sites, m, req, &grid, &dims)?
        }
        Metric::StationAdvice => crate::fleet::station_advice(lake, sites, req)?,
        Metric::CostPerUse => crate::fleet::cost_per_use(lake, sites, req, &grid, &dims)?,
        m => crate::events::event_metric(lake, sites, m, &grid, &dims)?,
    };
    if req.metric.table() == Table::Sessions && !req.metric.is_interval() {
        let mut w = unknown_site_warnings(lake, sites, &grid)?;
        w.append(&mut out.warnings);
        out.warnings = w;
    }
    Ok(out)
}

type Key = Vec<String>;

/// A site's calendar as the sweep needs it.
struct SiteCal {
    stations: i64,
    open: Vec<(i64, i64)>,
}

/// Warnings for sessions at sites sites.toml does not know.
fn unknown_site_warnings(
    lake: &Lake,
    sites: &Sites,
    grid: &Grid,
) -> Result<Vec<String>, MetricError> {
    // A month at a time: the site column of ten million sessions is big, its values few.
    let (a, b) = (grid.start_us(), grid.end_us());
    let mut names = std::collections::BTreeSet::new();
    for (_, part) in crate::load::scan_partitions(lake, Table::Sessions, (a, b), 0)? {
        let df = part
            .filter(
                col(s::START)
                    .gt_eq(utc_lit(a))
                    .and(col(s::START).lt(utc_lit(b))),
            )
            .select([col(s::SITE)])
            .unique(None, UniqueKeepStrategy::Any)
            .collect()?;
        names.extend(
            strings(&df, s::SITE)?
                .into_iter()
                .flatten()
                .filter(|n| sites.site(n).is_none()),
        );
    }
    Ok(names
        .into_iter()
        .map(|n| fallback_warning(sites, &n))
        .collect())
}

fn fallback_warning(sites: &Sites, site: &str) -> String {
    format!(
        "site \"{site}\" is not in sites.toml: using time zone {}, the stations seen in the data and round-the-clock opening",
        sites.library.timezone
    )
}

/// One session, or the part of it a later window still has to sweep, with its ids.
#[derive(Clone, Copy)]
struct Piece {
    key: [u32; 3],
    site: usize,
    station: u32,
    a: i64,
    b: i64,
}

/// Interned names: one hash lookup per value, no string copied per row.
#[derive(Default)]
struct Names {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_string(), id);
        self.names.push(name.to_string());
        id
    }
}

/// Occupancy, peak concurrent, time at capacity, availability, session hours, heatmap.
///
/// The lake's month partitions are swept a window at a time (a month or a few, by size),
/// each over its span of time (from its first instant to the next window's), with the
/// parts of sessions that run past it carried into the next: memory holds a window of
/// sessions, not the period. Every accumulator is a sum over windows except the peak, a maximum.
fn intervals(
    lake: &Lake,
    sites: &Sites,
    metric: Metric,
    grid: &Grid,
    dims: &[Dim],
) -> Result<Output, MetricError> {
    let (g0, g1) = (grid.start_us(), grid.end_us());
    let overlapping = |lf: LazyFrame| {
        lf.filter(
            col(s::END)
                .gt(utc_lit(g0))
                .and(col(s::START).lt(utc_lit(g1))),
        )
    };
    let parts = crate::load::scan_partitions(
        lake,
        Table::Sessions,
        (g0, g1),
        crate::load::SWEEP_WINDOW_BYTES,
    )?;

    // First the sites with sessions in the period and the stations seen at each: a site
    // counts the larger of sites.toml's stations and the stations seen.
    let mut seen: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for (_, part) in &parts {
        let df = overlapping(part.clone())
            .select([col(s::SITE), col(s::STATION)])
            .unique(None, UniqueKeepStrategy::Any)
            .collect()?;
        for (site, station) in strings(&df, s::SITE)?
            .into_iter()
            .zip(strings(&df, s::STATION)?)
        {
            let Some(site) = site else { continue };
            let stations = seen.entry(site).or_default();
            stations.extend(station);
        }
    }
    let site_names: Vec<String> = seen.keys().cloned().collect();
    let site_index: HashMap<&str, usize> = site_names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();

    // Each site's stations and opening hours over the period.
    let mut warnings = Vec::new();
    let cals: Vec<SiteCal> = site_names
        .iter()
        .map(|name| {
            let seen = seen[name].len() as i64;
            match sites.site(name) {
                Some(site) => {
                    let tz = site.timezone.unwrap_or(sites.library.timezone);
                    let configured = i64::from(site.stations);
                    if seen > configured {
                        warnings.push(format!(
                            "site {name}: {seen} stations seen in the data but sites.toml says {configured}; using {seen}"
                        ));
                    }
                    SiteCal { stations: configured.max(seen).max(1), open: open_intervals(sites, site, tz, g0, g1) }
                }
                None => {
                    warnings.push(fallback_warning(sites, name));
                    let fallback = Site {
                        code: name.clone(),
                        name: name.clone(),
                        aliases: Vec::new(),
                        timezone: None,
                        stations: 0,
                        population: 0,
                        hours: WeekHours::all_day(),
                        closed: Vec::new(),
                    };
                    let open = open_intervals(&Sites::fallback(sites.library.timezone), &fallback, sites.library.timezone, g0, g1);
                    SiteCal { stations: seen.max(1), open }
                }
            }
        })
        .collect();
    let configured_without_data: Vec<&str> = sites
        .sites
        .iter()
        .filter(|s| !site_index.contains_key(s.code.as_str()))
        .map(|s| s.code.as_str())
        .collect();
    if !configured_without_data.is_empty() && metric != Metric::SessionHours {
        warnings.push(format!(
            "no sessions in the period for {}: left out (their capacity is not counted)",
            configured_without_data.join(", ")
        ));
    }

    let n = grid.buckets.len();
    let per_station = dims.contains(&Dim::Station);
    // Station ids are per site (a task is one site's): named from 0 up, anonymous from the top.
    let mut stations: Vec<Names> = (0..site_names.len()).map(|_| Names::default()).collect();
    let mut values: [Names; 3] = Default::default();
    let mut next_anonymous: u32 = u32::MAX;
    let mut totals: HashMap<[u32; 3], Vec<Acc>> = HashMap::new();
    let mut hours: HashMap<[u32; 3], Vec<i64>> = HashMap::new();
    let mut carry: Vec<Piece> = Vec::new();
    for (i, (w0, part)) in parts.iter().enumerate() {
        let w1 = parts.get(i + 1).map_or(i64::MAX, |(next, _)| *next);
        let mut df = overlapping(part.clone())
            .select([
                col(s::SITE),
                col(s::STATION),
                col(s::START),
                col(s::END),
                col(s::USER_TYPE),
            ])
            .collect()?;
        // One chunk per column: the row loop indexes by row.
        df.rechunk_mut_par();
        let site_col = df.column(s::SITE)?.str()?.clone();
        let station_col = df.column(s::STATION)?.str()?.clone();
        let user_col = df.column(s::USER_TYPE)?.str()?.clone();
        let (starts, ends) = (micros(&df, s::START)?, micros(&df, s::END)?);
        let mut pieces = std::mem::take(&mut carry);
        for row in 0..df.height() {
            let Some(site_name) = site_col.get(row) else {
                continue;
            };
            let Some(&site) = site_index.get(site_name) else {
                continue;
            };
            let station_name = station_col.get(row);
            // A session with no station name is a seat of its own.
            let station = match station_name {
                Some(name) => stations[site].id(name),
                None => {
                    next_anonymous -= 1;
                    next_anonymous
                }
            };
            let mut key = [0u32; 3];
            for (k, d) in dims.iter().enumerate() {
                key[k] = values[k].id(match d {
                    Dim::Site => site_name,
                    Dim::Station => station_name.unwrap_or("(none)"),
                    Dim::UserType => user_col.get(row).unwrap_or("(none)"),
                    other => unreachable!(
                        "{} is not a sessions dimension (checked by compute)",
                        other.column()
                    ),
                });
            }
            pieces.push(Piece {
                key,
                site,
                station,
                a: starts[row],
                b: ends[row],
            });
        }
        drop(df);
        // This window's parts of the sessions; what runs past it waits for the next.
        let mut tasks: HashMap<(GroupKey, usize), Vec<StationSpan>> = HashMap::new();
        for p in pieces {
            if p.b > w1 {
                carry.push(Piece {
                    a: p.a.max(w1),
                    ..p
                });
            }
            if p.a < w1 {
                tasks.entry((p.key, p.site)).or_default().push((
                    p.station,
                    p.a.max(*w0),
                    p.b.min(w1),
                ));
            }
        }
        if metric == Metric::SessionHours {
            for ((key, _), list) in &tasks {
                let raw: Vec<(i64, i64)> = list.iter().map(|&(_, a, b)| (a, b)).collect();
                split_time(&raw, grid, hours.entry(*key).or_insert_with(|| vec![0; n]));
            }
        }
        // Sweep every (group, site) of the window in parallel.
        let swept: Vec<(GroupKey, Vec<Acc>, Vec<Span>)> = tasks
            .into_par_iter()
            .map(|((key, site), list)| {
                let merged = merge_per_station(list);
                let cal = &cals[site];
                let stations = if per_station { 1 } else { cal.stations };
                let mut acc = vec![Acc::default(); n];
                sweep(&merged, &cal.open, grid, (*w0, w1), stations, &mut acc);
                (key, acc, merged)
            })
            .collect();
        let mut groups: HashMap<GroupKey, (Vec<Acc>, Vec<Span>, usize)> = HashMap::new();
        for (key, acc, merged) in swept {
            let entry = groups
                .entry(key)
                .or_insert_with(|| (vec![Acc::default(); n], Vec::new(), 0));
            for (total, a) in entry.0.iter_mut().zip(&acc) {
                total.add(a);
            }
            entry.1.extend(merged);
            entry.2 += 1;
        }
        // Across several sites, the peak is of the sum, not the largest site's: sweep again.
        let window: Vec<([u32; 3], Vec<Acc>)> = groups
            .into_par_iter()
            .map(|(key, (mut acc, merged, n_sites))| {
                if n_sites > 1 {
                    let mut combined = vec![Acc::default(); n];
                    sweep(&merged, &[], grid, (*w0, w1), i64::MAX, &mut combined);
                    for (a, c) in acc.iter_mut().zip(&combined) {
                        a.peak = c.peak;
                    }
                }
                (key, acc)
            })
            .collect();
        for (key, acc) in window {
            let total = totals.entry(key).or_insert_with(|| vec![Acc::default(); n]);
            for (t, a) in total.iter_mut().zip(&acc) {
                t.add(a);
            }
        }
    }
    let key_names = |key: &[u32; 3]| -> Key {
        (0..dims.len())
            .map(|i| values[i].names[key[i] as usize].clone())
            .collect()
    };
    let groups: BTreeMap<Key, Vec<Acc>> = totals
        .iter()
        .map(|(k, acc)| (key_names(k), acc.clone()))
        .collect();
    let groups: Vec<(Key, Vec<Acc>)> = groups.into_iter().collect();
    let hours_by_name: BTreeMap<Key, Vec<i64>> = hours
        .iter()
        .map(|(k, v)| (key_names(k), v.clone()))
        .collect();

    if metric == Metric::Heatmap {
        return heatmap(groups, grid, dims, warnings);
    }
    let mut out_keys: Vec<Vec<String>> = vec![Vec::new(); dims.len()];
    let mut labels = Vec::new();
    let mut values: Vec<Option<f64>> = Vec::new();
    let mut peaks: Vec<i64> = Vec::new();
    for (key, acc) in &groups {
        let no_hours = vec![0i64; n];
        let hours = hours_by_name.get(key).unwrap_or(&no_hours);
        for (b, bucket) in grid.buckets.iter().enumerate() {
            for (i, k) in key.iter().enumerate() {
                out_keys[i].push(k.clone());
            }
            labels.push(bucket.label.clone());
            let a = &acc[b];
            let ratio = |num: i64, den: i64| (den > 0).then(|| num as f64 / den as f64);
            values.push(match metric {
                Metric::Occupancy => ratio(a.busy_us, a.capacity_us),
                Metric::Availability => ratio(a.open_us - a.full_us, a.open_us),
                Metric::TimeAtCapacity => Some(a.full_us as f64 / 60e6),
                Metric::SessionHours => Some(hours[b] as f64 / 3600e6),
                _ => None,
            });
            peaks.push(a.peak);
        }
    }
    let mut columns: Vec<Column> = dims
        .iter()
        .zip(out_keys)
        .map(|(d, v)| Column::new(d.column().into(), v))
        .collect();
    columns.push(Column::new("bucket".into(), labels));
    if metric == Metric::PeakConcurrent {
        columns.push(Column::new(metric.name().into(), peaks));
    } else {
        columns.push(Column::new(metric.name().into(), values));
    }
    Ok(Output {
        frame: DataFrame::new_infer_height(columns)?,
        value_column: metric.name().into(),
        warnings,
    })
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Average occupancy by local weekday and hour: the sums of busy and capacity time of all
/// hourly buckets with that weekday and hour, divided.
fn heatmap(
    groups: Vec<(Key, Vec<Acc>)>,
    grid: &Grid,
    dims: &[Dim],
    warnings: Vec<String>,
) -> Result<Output, MetricError> {
    let slots: Vec<(usize, usize)> = grid
        .buckets
        .iter()
        .map(|b| {
            let local = chrono::DateTime::from_timestamp_micros(b.start_us)
                .expect("in range")
                .with_timezone(&grid.tz);
            (
                local.weekday().num_days_from_monday() as usize,
                local.hour() as usize,
            )
        })
        .collect();
    let mut out_keys: Vec<Vec<String>> = vec![Vec::new(); dims.len()];
    let (mut wd_col, mut hour_col, mut values) = (Vec::new(), Vec::new(), Vec::new());
    for (key, acc) in &groups {
        let mut busy = [[0i64; 24]; 7];
        let mut cap = [[0i64; 24]; 7];
        for (a, &(wd, h)) in acc.iter().zip(&slots) {
            busy[wd][h] += a.busy_us;
            cap[wd][h] += a.capacity_us;
        }
        for wd in 0..7 {
            for h in 0..24 {
                for (i, k) in key.iter().enumerate() {
                    out_keys[i].push(k.clone());
                }
                wd_col.push(WEEKDAYS[wd]);
                hour_col.push(h as i32);
                values.push((cap[wd][h] > 0).then(|| busy[wd][h] as f64 / cap[wd][h] as f64));
            }
        }
    }
    let mut columns: Vec<Column> = dims
        .iter()
        .zip(out_keys)
        .map(|(d, v)| Column::new(d.column().into(), v))
        .collect();
    columns.push(Column::new("weekday".into(), wd_col));
    columns.push(Column::new("hour".into(), hour_col));
    columns.push(Column::new("occupancy".into(), values));
    Ok(Output {
        frame: DataFrame::new_infer_height(columns)?,
        value_column: "occupancy".into(),
        warnings,
    })
}
