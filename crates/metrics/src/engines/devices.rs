//! The metrics on the fleet as one list of devices (base/inventory.rs: the inventory
//! joined with what directories and device managers know): OS support status, stale
//! devices and the replacement plan that fits a budget.
//! docs/support.md states the rules; the tests below check them on hand-made fleets.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::Sites;

use crate::base::frame::{assemble, strings};
use crate::base::grid::Grid;
pub use crate::base::inventory::{COMPUTING, Device, fleet};
use crate::base::inventory::{due_date, life_of};
use crate::base::request::{MetricError, Output};
use crate::base::support::{Catalogue, Cycle, Status, pays_extended, status};
use crate::catalogue::{Dim, Metric};

/// How many fiscal years a replacement schedule or plan looks ahead when nobody says:
/// the consortium's replace-a-fifth-each-year policy, one device life.
pub const PLAN_YEARS: i32 = 5;

/// The days of the [`PLAN_YEARS`] fiscal years from `first_fy` (named by the calendar
/// year each ends in): the default period of the replacement plan, and the budget
/// report's schedule.
pub fn plan_period(sites: &Sites, first_fy: i32) -> Option<(NaiveDate, NaiveDate)> {
    let (from, _) = sites.fiscal_year_days(first_fy)?;
    let (_, to) = sites.fiscal_year_days(first_fy + PLAN_YEARS - 1)?;
    Some((from, to))
}

/// The last local day of each bucket: the day a status is taken on.
fn last_days(grid: &Grid) -> Vec<NaiveDate> {
    grid.buckets
        .iter()
        .map(|b| {
            chrono::DateTime::from_timestamp_micros(b.end_us - 1)
                .expect("in range")
                .with_timezone(&grid.tz)
                .date_naive()
        })
        .collect()
}

fn key_of(dims: &[Dim], d: &Device, extra: &BTreeMap<Dim, String>) -> Vec<String> {
    dims.iter()
        .map(|dim| match dim {
            Dim::Site => d.site.clone(),
            Dim::Kind => d.kind.clone(),
            Dim::AssetTag => d.tag.clone(),
            other => extra.get(other).cloned().unwrap_or_default(),
        })
        .collect()
}

/// The release cycle of a device's OS, when it has one tally can match.
pub fn cycle_of<'c>(cat: &'c Catalogue, d: &Device) -> Option<&'c Cycle> {
    let os = d.os.as_deref().filter(|o| !o.trim().is_empty())?;
    cat.find(os, d.os_version.as_deref().unwrap_or_default())
}

/// The support status of a device (whose cycle is `cycle`) on a day, with the name of
/// its OS (the cycle's label, else the OS as written, else `(none)`).
pub fn device_status(
    cycle: Option<&Cycle>,
    sites: &Sites,
    d: &Device,
    day: NaiveDate,
) -> (Status, String) {
    let os = d.os.as_deref().unwrap_or_default();
    let version = d.os_version.as_deref().unwrap_or_default();
    let s = &sites.support;
    let paid = cycle.is_some_and(|c| pays_extended(&s.extended_updates, c));
    let name = match (cycle, os) {
        (Some(c), _) => c.label.clone(),
        (None, "") => "(none)".to_string(),
        (None, os) => format!("{os} {version}").trim().to_string(),
    };
    (status(cycle, day, s.ending_months, paid), name)
}

/// Computing devices in service at each bucket's last day, by their OS's support status
/// on that day (docs/support.md).
pub fn os_support(
    lake: &Snapshot,
    sites: &Sites,
    grid: &Grid,
    dims: &[Dim],
) -> Result<Output, MetricError> {
    let cat = Catalogue::for_lake(lake.lake()).map_err(|e| MetricError::Invalid(e.to_string()))?;
    let devices = fleet(lake)?;
    let days = last_days(grid);
    let mut cells: HashMap<(Vec<String>, usize), f64> = HashMap::new();
    let mut groups: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut eol_of: HashMap<String, String> = HashMap::new();
    // The sites each cell's devices are at (a breakdown without site says how many).
    let mut at: HashMap<(Vec<String>, usize), BTreeSet<&str>> = HashMap::new();
    // Each device's cycle once, not once a bucket.
    let cycles: Vec<Option<&Cycle>> = devices.iter().map(|d| cycle_of(&cat, d)).collect();
    for (b, day) in days.iter().enumerate() {
        for (d, cycle) in devices
            .iter()
            .zip(&cycles)
            .filter(|(d, _)| COMPUTING.contains(&d.kind.as_str()) && d.in_service(*day))
        {
            let (st, os) = device_status(*cycle, sites, d, *day);
            if dims.contains(&Dim::Os) && !eol_of.contains_key(&os) {
                let eol = match cycle.map(|c| c.eol) {
                    Some(crate::base::support::End::On(day)) => day.to_string(),
                    Some(crate::base::support::End::Ended) => "ended".into(),
                    _ => String::new(),
                };
                eol_of.insert(os.clone(), eol);
            }
            let extra = BTreeMap::from([(Dim::Status, st.name().to_string()), (Dim::Os, os)]);
            let key = key_of(dims, d, &extra);
            *cells.entry((key.clone(), b)).or_default() += 1.0;
            at.entry((key.clone(), b)).or_default().insert(&d.site);
            groups.insert(key);
        }
    }
    let site_counts: HashMap<(Vec<String>, usize), f64> =
        at.into_iter().map(|(k, s)| (k, s.len() as f64)).collect();
    let mut out = assemble(
        sites,
        Metric::OsSupport,
        grid,
        dims,
        groups,
        |key, b| cells.get(&(key.to_vec(), b)).copied(),
        true,
    )?;
    if dims.contains(&Dim::Os) {
        // The day each cycle's support ends, beside its name: the risk table's date.
        let eol: Vec<Option<String>> = strings(&out.frame, Dim::Os.column())?
            .iter()
            .map(|os| {
                os.as_ref()
                    .and_then(|o| eol_of.get(o))
                    .filter(|e| !e.is_empty())
                    .cloned()
            })
            .collect();
        out.frame.with_column(Column::new("eol".into(), eol))?;
    }
    if !dims.contains(&Dim::Site) {
        // How many sites the cell's devices are at ("56 public PCs at 9 branches").
        let keyed = assemble(
            sites,
            Metric::OsSupport,
            grid,
            dims,
            site_counts.keys().map(|(k, _)| k.clone()).collect(),
            |key, b| site_counts.get(&(key.to_vec(), b)).copied(),
            true,
        )?;
        out.frame.with_column(
            keyed
                .frame
                .column(Metric::OsSupport.name())?
                .clone()
                .with_name("sites".into()),
        )?;
    }
    out.warnings
        .push(format!("OS support dates: endoflife.date, {}", cat.origin));
    Ok(out)
}

/// Devices a directory knows that it has not seen for `stale_days` at each bucket's
/// last day (never seen: counted from the day they joined).
pub fn stale_devices(
    lake: &Snapshot,
    sites: &Sites,
    grid: &Grid,
    dims: &[Dim],
) -> Result<Output, MetricError> {
    let devices = fleet(lake)?;
    let days = last_days(grid);
    let stale = i64::from(sites.support.stale_days);
    let mut cells: HashMap<(Vec<String>, usize), f64> = HashMap::new();
    let mut groups: BTreeSet<Vec<String>> = BTreeSet::new();
    for (b, day) in days.iter().enumerate() {
        for d in devices
            .iter()
            .filter(|d| d.in_directory && d.in_service(*day))
        {
            let seen = d.last_seen.unwrap_or(d.purchased);
            if (*day - seen).num_days() <= stale {
                continue;
            }
            let key = key_of(dims, d, &BTreeMap::new());
            *cells.entry((key.clone(), b)).or_default() += 1.0;
            groups.insert(key);
        }
    }
    assemble(
        sites,
        Metric::StaleDevices,
        grid,
        dims,
        groups,
        |key, b| cells.get(&(key.to_vec(), b)).copied(),
        true,
    )
}

/// One device in the plan: what it costs to replace, and when it falls due.
#[derive(Debug, Clone)]
pub struct PlanDevice {
    pub key: Vec<String>,
    pub cost: f64,
    pub due: NaiveDate,
    pub bought: NaiveDate,
    /// The first day its OS is out of support (and not covered by paid updates).
    pub unsupported_from: Option<NaiveDate>,
    pub life_years: f64,
}

/// What the plan does in one bucket, per group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanCell {
    pub cost: f64,
    pub units: i64,
    pub slipped: i64,
    pub oldest_age_years: Option<f64>,
}

/// The plan: in each bucket (first day `start`, last day `last`), the devices that are
/// due by the bucket's end or whose OS is out of support by then are candidates, taken
/// in order: unsupported OS first, then past their life, then due in the bucket (oldest
/// first in each); each is replaced when its cost fits what is left of the bucket's
/// budget. A replaced device is bought on the bucket's first day and falls due again
/// after its life. `slipped`: devices left in service past their life at the bucket's
/// end. `budget` `None` replaces every candidate.
pub fn plan(
    devices: &[PlanDevice],
    buckets: &[(NaiveDate, NaiveDate)],
    budget: Option<f64>,
) -> Vec<BTreeMap<Vec<String>, PlanCell>> {
    let mut fleet: Vec<PlanDevice> = devices.to_vec();
    buckets
        .iter()
        .map(|&bucket| step(&mut fleet, bucket, budget))
        .collect()
}

/// One bucket of the plan: replaces what fits, and says what it did per group.
fn step(
    fleet: &mut [PlanDevice],
    (start, last): (NaiveDate, NaiveDate),
    budget: Option<f64>,
) -> BTreeMap<Vec<String>, PlanCell> {
    // (rank, the date that orders within the rank, index)
    let mut queue: Vec<(u8, NaiveDate, usize)> = fleet
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            if d.unsupported_from.is_some_and(|u| u <= last) {
                Some((0, d.bought, i))
            } else if d.due < start {
                Some((1, d.bought, i))
            } else if d.due <= last {
                Some((2, d.due, i))
            } else {
                None
            }
        })
        .collect();
    queue.sort();
    let mut cells: BTreeMap<Vec<String>, PlanCell> = BTreeMap::new();
    let mut left = budget.unwrap_or(f64::INFINITY);
    for (_, _, i) in queue {
        let d = &mut fleet[i];
        // A cent of tolerance: sums of prices in floating point.
        if d.cost <= left + 0.005 {
            left -= d.cost;
            let cell = cells.entry(d.key.clone()).or_default();
            cell.cost += d.cost;
            cell.units += 1;
            d.bought = start;
            d.due = due_date(start, d.life_years);
            d.unsupported_from = None;
        }
    }
    for d in fleet.iter() {
        let cell = cells.entry(d.key.clone()).or_default();
        if d.due <= last {
            cell.slipped += 1;
        }
        let age = ((last - d.bought).num_days() as f64 / 365.25 * 10.0).round() / 10.0;
        cell.oldest_age_years = Some(cell.oldest_age_years.map_or(age, |a: f64| a.max(age)));
    }
    cells
}

/// The smallest budget a bucket (to the unit of currency) under which no device stays
/// in service more than a year past its life at any bucket's end: the level cap.
pub fn level_cap(devices: &[PlanDevice], buckets: &[(NaiveDate, NaiveDate)]) -> f64 {
    let within = |cap: f64| {
        let mut fleet: Vec<PlanDevice> = devices.to_vec();
        buckets.iter().all(|&bucket| {
            step(&mut fleet, bucket, Some(cap));
            fleet.iter().all(|d| due_date(d.due, 1.0) > bucket.1)
        })
    };
    let mut hi = devices.iter().map(|d| d.cost).sum::<f64>().ceil().max(1.0);
    // Devices bought again in the plan fall due again: the whole fleet a bucket is
    // always enough unless a device is past life + 1 year already in the first bucket
    // and cannot be helped; then no cap keeps the rule and the whole fleet is the answer.
    if !within(hi) {
        return hi;
    }
    let mut lo = 0.0f64;
    if within(lo) {
        return 0.0;
    }
    while hi - lo > 1.0 {
        let mid = ((lo + hi) / 2.0).floor();
        if within(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// The consortium's policy: a fifth of the fleet each year (a five-year life), at
/// today's replacement cost.
pub fn fifth_cap(devices: &[PlanDevice]) -> f64 {
    (devices.iter().map(|d| d.cost).sum::<f64>() / 5.0).ceil()
}

/// `replacement_plan`: the plan over the grid's buckets (fiscal years), within `budget`
/// a bucket, or within the level cap when no budget is given; both caps are columns.
pub fn replacement_plan(
    lake: &Snapshot,
    sites: &Sites,
    grid: &Grid,
    dims: &[Dim],
    budget: Option<f64>,
) -> Result<Output, MetricError> {
    if grid.kind != tally_model::BucketKind::FiscalYear {
        return Err(MetricError::Invalid(
            "replacement_plan is planned a fiscal year at a time: pass --every fy".into(),
        ));
    }
    if budget.is_some_and(|b| !b.is_finite() || b < 0.0) {
        return Err(MetricError::Invalid(
            "--budget: expected an amount of 0 or more".into(),
        ));
    }
    let cat = Catalogue::for_lake(lake.lake()).map_err(|e| MetricError::Invalid(e.to_string()))?;
    let buckets: Vec<(NaiveDate, NaiveDate)> = grid
        .buckets
        .iter()
        .zip(last_days(grid))
        .map(|(b, last)| (b.days.map_or(last, |d| d.0), last))
        .collect();
    let Some(&(first, _)) = buckets.first() else {
        return Err(MetricError::Invalid(
            "the period holds no fiscal year".into(),
        ));
    };
    let s = &sites.support;
    let mut unpriced = 0usize;
    let mut devices = Vec::new();
    for d in fleet(lake)? {
        // In service when the plan starts, or bought later and not retired.
        let bought_later = d.purchased > first && d.status != "retired";
        if !(d.in_service(first) || bought_later) {
            continue;
        }
        let Some(price) = sites.library.unit_cost.get(&d.kind).copied().or(d.cost) else {
            unpriced += 1;
            continue;
        };
        let life = life_of(sites, &d.kind, d.life_years);
        let unsupported_from = if COMPUTING.contains(&d.kind.as_str()) {
            cycle_of(&cat, &d).and_then(|c| {
                use crate::base::support::End;
                let paid = pays_extended(&s.extended_updates, c);
                let end = if paid { c.eoes } else { c.eol };
                match end {
                    End::On(day) => Some(day),
                    End::Ended => Some(NaiveDate::MIN),
                    End::Open => None,
                }
            })
        } else {
            None
        };
        devices.push(PlanDevice {
            key: key_of(dims, &d, &BTreeMap::new()),
            cost: price,
            due: due_date(d.purchased, life),
            bought: d.purchased,
            unsupported_from,
            life_years: life,
        });
    }
    let level = level_cap(&devices, &buckets);
    let fifth = fifth_cap(&devices);
    let cap = budget.unwrap_or(level);
    let cells = plan(&devices, &buckets, Some(cap));
    let groups: BTreeSet<Vec<String>> = if dims.is_empty() {
        BTreeSet::from([Vec::new()])
    } else {
        devices.iter().map(|d| d.key.clone()).collect()
    };
    let mut keys: Vec<Vec<String>> = vec![Vec::new(); dims.len()];
    let (mut label, mut cost, mut units, mut slipped, mut oldest) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for g in &groups {
        for (b, bucket) in grid.buckets.iter().enumerate() {
            for (i, k) in g.iter().enumerate() {
                keys[i].push(k.clone());
            }
            label.push(bucket.label.clone());
            // Library-wide, the sum over devices; else the group's cell.
            let cell = if dims.is_empty() {
                cells[b].values().fold(PlanCell::default(), |mut acc, c| {
                    acc.cost += c.cost;
                    acc.units += c.units;
                    acc.slipped += c.slipped;
                    acc.oldest_age_years = match (acc.oldest_age_years, c.oldest_age_years) {
                        (Some(a), Some(x)) => Some(a.max(x)),
                        (a, x) => a.or(x),
                    };
                    acc
                })
            } else {
                cells[b].get(g).cloned().unwrap_or_default()
            };
            cost.push((cell.cost * 100.0).round() / 100.0);
            units.push(cell.units);
            slipped.push(cell.slipped);
            oldest.push(cell.oldest_age_years);
        }
    }
    let n = label.len();
    let mut columns: Vec<Column> = dims
        .iter()
        .zip(keys)
        .map(|(d, v)| Column::new(d.column().into(), v))
        .collect();
    columns.extend([
        Column::new("bucket".into(), label),
        Column::new(Metric::ReplacementPlan.name().into(), cost),
        Column::new("units".into(), units),
        Column::new("slipped".into(), slipped),
        Column::new("oldest_age_years".into(), oldest),
        Column::new("budget".into(), vec![cap; n]),
        Column::new("level_cap".into(), vec![level; n]),
        Column::new("fifth_cap".into(), vec![fifth; n]),
    ]);
    let mut warnings = vec![format!(
        "level cap {level:.0} a year keeps every device within its life + 1 year; a fifth of the fleet a year \
         (life 5) is {fifth:.0}{}",
        if budget.is_none() {
            "; the plan uses the level cap (pass --budget N for another)"
        } else {
            ""
        }
    )];
    if budget == Some(0.0) {
        warnings.push("a budget of 0 replaces nothing: every due device slips".into());
    }
    if unpriced > 0 {
        warnings.push(format!(
            "{unpriced} devices have no price (no unit_cost for their kind in sites.toml, no purchase cost) \
             and are left out of the plan: set unit_cost for their kinds"
        ));
    }
    Ok(Output {
        frame: DataFrame::new_infer_height(columns)?,
        value_column: Metric::ReplacementPlan.name().into(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn fys(first: i32, n: i32) -> Vec<(NaiveDate, NaiveDate)> {
        (first..first + n)
            .map(|y| (d(&format!("{}-07-01", y - 1)), d(&format!("{y}-06-30"))))
            .collect()
    }

    fn pc(key: &str, bought: &str, unsupported: Option<&str>) -> PlanDevice {
        PlanDevice {
            key: vec![key.into()],
            cost: 1000.0,
            due: due_date(d(bought), 5.0),
            bought: d(bought),
            unsupported_from: unsupported.map(d),
            life_years: 5.0,
        }
    }

    /// Ten PCs: two past life, three due in FY2027, two with an OS out of support in
    /// FY2027 but young, three young and supported.
    fn fleet10() -> Vec<PlanDevice> {
        vec![
            pc("old", "2019-01-10", None),
            pc("old", "2020-03-01", None),
            pc("due", "2021-08-01", None),
            pc("due", "2021-09-01", None),
            pc("due", "2022-02-01", None),
            pc("win10", "2023-01-01", Some("2025-10-14")),
            pc("win10", "2023-02-01", Some("2025-10-14")),
            pc("young", "2024-01-01", None),
            pc("young", "2024-02-01", None),
            pc("young", "2025-01-01", None),
        ]
    }

    #[test]
    fn never_over_the_cap_and_unsupported_first() {
        let cells = plan(&fleet10(), &fys(2027, 4), Some(3000.0));
        for year in &cells {
            let spent: f64 = year.values().map(|c| c.cost).sum();
            assert!(spent <= 3000.0, "{spent}");
        }
        // FY2027: both unsupported first, then the oldest past life.
        assert_eq!(cells[0][&vec!["win10".to_string()]].units, 2);
        assert_eq!(cells[0][&vec!["old".to_string()]].units, 1);
        assert_eq!(cells[0][&vec!["due".to_string()]].units, 0);
    }

    #[test]
    fn slipped_counts_devices_kept_past_their_life() {
        let cells = plan(&fleet10(), &fys(2027, 1), Some(3000.0));
        let y = &cells[0];
        // Past life at 2027-06-30 and not replaced: one old, three due (all due by
        // 2027-02-01): four.
        let slipped: i64 = y.values().map(|c| c.slipped).sum();
        assert_eq!(slipped, 4);
        assert_eq!(y[&vec!["old".to_string()]].slipped, 1);
        assert_eq!(y[&vec!["due".to_string()]].slipped, 3);
        assert_eq!(y[&vec!["win10".to_string()]].slipped, 0);
    }

    #[test]
    fn a_zero_cap_replaces_nothing() {
        let cells = plan(&fleet10(), &fys(2027, 3), Some(0.0));
        for year in &cells {
            assert_eq!(year.values().map(|c| c.units).sum::<i64>(), 0);
        }
        // By 2029-06-30 every device bought before 2024-06-30 is past its life: nine.
        assert_eq!(cells[2].values().map(|c| c.slipped).sum::<i64>(), 9);
    }

    #[test]
    fn a_cap_above_the_need_is_the_unlevelled_schedule() {
        // Without unsupported OSes, an unlimited plan replaces each device in the
        // fiscal year it falls due (overdue ones in the first), as replacement_due.
        let fleet: Vec<PlanDevice> = fleet10()
            .into_iter()
            .map(|mut p| {
                p.unsupported_from = None;
                p
            })
            .collect();
        let years = fys(2027, 4);
        let cells = plan(&fleet, &years, Some(1e9));
        for (b, &(start, last)) in years.iter().enumerate() {
            let want = fleet
                .iter()
                .filter(|p| (b == 0 && p.due < start) || (p.due >= start && p.due <= last))
                .count() as i64;
            let got: i64 = cells[b].values().map(|c| c.units).sum();
            assert_eq!(got, want, "FY{}", 2027 + b);
        }
    }

    #[test]
    fn the_level_cap_keeps_every_device_within_life_plus_one() {
        let years = fys(2027, 5);
        let fleet = fleet10();
        let cap = level_cap(&fleet, &years);
        assert!(cap > 0.0 && cap < 10_000.0, "{cap}");
        let mut f = fleet.clone();
        for &y in &years {
            step(&mut f, y, Some(cap));
            assert!(f.iter().all(|p| due_date(p.due, 1.0) > y.1));
        }
        // A unit less fails somewhere.
        let mut f = fleet.clone();
        let broke = years.iter().any(|&y| {
            step(&mut f, y, Some(cap - 1000.0));
            f.iter().any(|p| due_date(p.due, 1.0) <= y.1)
        });
        assert!(broke);
        assert_eq!(fifth_cap(&fleet), 2000.0);
    }
}
