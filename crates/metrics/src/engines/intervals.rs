//! The interval metrics (session hours, occupancy, peak concurrent, time at capacity,
//! availability, the heatmap): each site's sessions, merged per station, swept against
//! its opening hours and the bucket boundaries (sweep.rs), a window of months at a time
//! with the ends of long sessions carried into the next window.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Timelike};
use polars::prelude::*;
use rayon::prelude::*;
use tally_lake::Snapshot;
use tally_model::calendar::local_time;
use tally_model::tables::sessions as s;
use tally_model::{Site, Sites, Table, WeekHours};

use crate::base::calendar::open_intervals;
use crate::base::frame::{micros, strings};
use crate::base::grid::Grid;
use crate::base::load::{SWEEP_WINDOW_BYTES, scan_partitions, utc_lit};
use crate::base::request::{MetricError, Output};
use crate::base::sites::fallback_warning;
use crate::catalogue::{Dim, Metric};
use crate::engines::sweep::{Acc, merge_per_station, split_time, sweep};

/// The interned values of a session's "by" dimensions.
type GroupKey = [u32; 3];
/// A stretch of time, UTC microseconds [start, end).
type Span = (i64, i64);
/// A stretch of time on one station.
type StationSpan = (u32, i64, i64);

type Key = Vec<String>;

/// A site's calendar as the sweep needs it.
struct SiteCal {
    stations: i64,
    open: Vec<(i64, i64)>,
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
pub(crate) fn intervals(
    lake: &Snapshot,
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
    let parts = scan_partitions(lake, Table::Sessions, (g0, g1), SWEEP_WINDOW_BYTES)?;

    // First the sites with sessions in the period and the stations seen at each: a site
    // counts the larger of sites.toml's stations and the stations seen.
    let mut seen: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    // The groups of the period at each site (their values as written): each is swept over
    // the whole period, in every window, whether or not the window has its sessions, so
    // a figure does not depend on how the lake's months are grouped into windows.
    let mut period_groups: std::collections::BTreeSet<(String, Option<String>, Option<String>)> =
        Default::default();
    for (_, part) in &parts {
        let df = overlapping(part.clone())
            .select([col(s::SITE), col(s::STATION), col(s::USER_TYPE)])
            .unique(None, UniqueKeepStrategy::Any)
            .collect()?;
        for ((site, station), user) in strings(&df, s::SITE)?
            .into_iter()
            .zip(strings(&df, s::STATION)?)
            .zip(strings(&df, s::USER_TYPE)?)
        {
            let Some(site) = site else { continue };
            let stations = seen.entry(site.clone()).or_default();
            stations.extend(station.clone());
            period_groups.insert((site, station, user));
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
    // The period's (group, site) tasks, interned as the windows intern them.
    let mut period_tasks: std::collections::HashSet<(GroupKey, usize)> = Default::default();
    for (site_name, station, user) in &period_groups {
        let site = site_index[site_name.as_str()];
        let mut key = [0u32; 3];
        for (k, d) in dims.iter().enumerate() {
            key[k] = values[k].id(match d {
                Dim::Site => site_name,
                Dim::Station => station.as_deref().unwrap_or("(none)"),
                Dim::UserType => user.as_deref().unwrap_or("(none)"),
                other => unreachable!(
                    "{} is not a sessions dimension (checked by compute)",
                    other.column()
                ),
            });
        }
        period_tasks.insert((key, site));
    }
    let mut totals: HashMap<[u32; 3], Vec<Acc>> = HashMap::new();
    let mut hours: HashMap<[u32; 3], Vec<i64>> = HashMap::new();
    let mut carry: Vec<Piece> = Vec::new();
    for (i, (first_instant, part)) in parts.iter().enumerate() {
        // The first window reaches back to the period's start (the time before the lake's
        // first month in it is open time with no sessions, as after its last month is);
        // each window runs to the next one's start.
        let w0 = &if i == 0 {
            g0.min(*first_instant)
        } else {
            *first_instant
        };
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
        for task in &period_tasks {
            tasks.entry(*task).or_default();
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
            let local = local_time(b.start_us, grid.tz);
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
