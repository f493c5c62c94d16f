//! Metrics that count or summarise events by the bucket their time falls in: sessions,
//! survey uses, distinct users, circulation events, Wi-Fi connections and devices,
//! tickets opened and resolved, hours to resolve, printing, the equity shares and rates.
//! One engine, declared per metric by a [`Spec`]: the table, the time column, a filter
//! and an aggregate.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use polars::prelude::*;
use rayon::prelude::*;
use tally_lake::Snapshot;
use tally_model::{Sites, Table};

use crate::base::frame::{assemble, micros, strings};
use crate::base::grid::Grid;
use crate::base::load::{scan_current, scan_partitions, utc_lit};
use crate::base::request::{MetricError, Output};
use crate::catalogue::{Dim, Metric};

use crate::base::expr;
use crate::spec::{EventSpec, Measure, Per, event_spec};

/// The table's rows that matter for [start, end), in parts, each with the first instant
/// its rows can have: the current state where the latest export wins (one part), else
/// each month partition of the period, in time order.
fn parts(lake: &Snapshot, table: Table, grid: &Grid) -> Result<Vec<(i64, LazyFrame)>, MetricError> {
    match table.current_key() {
        Some(_) => Ok(vec![(i64::MIN, scan_current(lake, table)?)]),
        // A month at a time: the per-month cost of a count is small.
        None => scan_partitions(lake, table, (grid.start_us(), grid.end_us()), 0),
    }
}

/// For a rate, the denominator of each site (library-wide, their sum) and the scale:
/// residents per 1,000, devices per 10.
/// (denominator per site code, scale)
type Rate = (BTreeMap<String, f64>, f64);

fn denominators(
    lake: &Snapshot,
    sites: &Sites,
    spec: &EventSpec,
) -> Result<Option<Rate>, MetricError> {
    let Some(per) = spec.per else {
        return Ok(None);
    };
    let map = match per {
        Per::Residents => sites
            .sites
            .iter()
            .map(|s| (s.code.clone(), s.population as f64))
            .collect(),
        Per::Devices => {
            let df = crate::base::inventory::inventory(lake)?
                .filter(col("status").neq(lit("retired")))
                .group_by([col("site")])
                .agg([len().cast(DataType::Float64).alias("n")])
                .collect()?;
            let codes = strings(&df, "site")?;
            let n = df.column("n")?.f64()?.clone();
            codes
                .into_iter()
                .zip(n.iter())
                .filter_map(|(c, n)| Some((c?, n?)))
                .collect()
        }
    };
    Ok(Some((map, per.scale())))
}

pub fn event_metric(
    lake: &Snapshot,
    sites: &Sites,
    metric: Metric,
    grid: &Grid,
    dims: &[Dim],
) -> Result<Output, MetricError> {
    if metric == Metric::ShareOverTarget && sites.library.work_order_target_hours.is_empty() {
        return Err(MetricError::Invalid(
            "share_over_target needs targets: sites.toml has no [library.work_order_target_hours]"
                .into(),
        ));
    }
    let spec = event_spec(metric, sites);
    let rate = denominators(lake, sites, &spec)?;
    let tz = TimeZone::opt_try_new(Some(grid.tz.name()))?.expect("a zone");
    // Counts are whole numbers, except rates: a count divided by population or devices.
    let integral = spec.measure.is_count() && rate.is_none();
    // One partition (a month of the lake) at a time, each reduced to what the final
    // aggregate needs: peak memory is one month's rows, not the period's.
    let mut select: Vec<Expr> = dims
        .iter()
        .map(|d| col(d.column()).fill_null(lit("(none)")).alias(d.column()))
        .collect();
    select.push(col(spec.time).alias("__time"));
    match &spec.measure {
        Measure::Count => {}
        Measure::Distinct(c) => select.push(col(*c).alias("__v")),
        Measure::Quantile(v, _) => select.push(expr::val(v, &tz).alias("__v")),
        Measure::Share(p) => {
            select.push(expr::pred(p, &tz).cast(DataType::Float64).alias("__v"));
        }
        Measure::Sum(v) => select.push(expr::val(v, &tz).alias("__v")),
        Measure::WeightedShare(p, w) => {
            let w = expr::val(w, &tz);
            select.push((expr::pred(p, &tz).cast(DataType::Float64) * w.clone()).alias("__v"));
            select.push(w.alias("__w"));
        }
    }
    let mut keys: Vec<Expr> = dims.iter().map(|d| col(d.column())).collect();
    keys.push(col("__bucket"));
    let key_names: Vec<PlSmallStr> = dims
        .iter()
        .map(|d| PlSmallStr::from(d.column()))
        .chain([PlSmallStr::from("__bucket")])
        .collect();
    let time = col(spec.time);
    let filter = spec.filter.as_ref().map(|p| expr::pred(p, &tz));
    // Each partition reduced on its own (two at a time on two cores), then combined.
    let reduce = |part: LazyFrame| -> Result<Option<Partial>, MetricError> {
        let mut lf = part.filter(
            time.clone()
                .gt_eq(utc_lit(grid.start_us()))
                .and(time.clone().lt(utc_lit(grid.end_us()))),
        );
        if let Some(f) = &filter {
            lf = lf.filter(f.clone());
        }
        let mut df = lf.select(select.clone()).collect()?;
        if df.height() == 0 {
            return Ok(None);
        }
        let times = micros(&df, "__time")?;
        let bucket: Vec<u32> = times
            .iter()
            .map(|&t| grid.index_of(t).map_or(u32::MAX, |i| i as u32))
            .collect();
        df.with_column(Column::new("__bucket".into(), bucket))?;
        let df = df.drop("__time")?;
        Ok(Some(match &spec.measure {
            Measure::Count => Partial::Frame(
                df.lazy()
                    .group_by(keys.clone())
                    .agg([len().cast(DataType::Float64).alias("__n")])
                    .collect()?,
            ),
            // Each (group, bucket, value) once: a patron counts once however often seen.
            Measure::Distinct(_) => {
                let mut sets = DistinctSets::default();
                sets.add(df, dims)?;
                Partial::Sets(sets)
            }
            Measure::Share(_) => Partial::Frame(
                df.lazy()
                    .group_by(keys.clone())
                    .agg([
                        col("__v").sum().alias("__s"),
                        col("__v").count().cast(DataType::Float64).alias("__n"),
                    ])
                    .collect()?,
            ),
            Measure::Sum(_) => Partial::Frame(
                df.lazy()
                    .group_by(keys.clone())
                    .agg([col("__v").sum().alias("__n")])
                    .collect()?,
            ),
            Measure::WeightedShare(..) => Partial::Frame(
                df.lazy()
                    .group_by(keys.clone())
                    .agg([col("__v").sum().alias("__s"), col("__w").sum().alias("__n")])
                    .collect()?,
            ),
            // Quantiles need every value (tickets: few).
            Measure::Quantile(..) => Partial::Frame(df),
        }))
    };
    // Partitions in time order, a few at a time. Once the next
    // partitions start after a bucket's end, the bucket's distinct sets are complete and
    // shrink to their counts: memory holds the buckets still open, not the period.
    let parts = parts(lake, spec.table, grid)?;
    let mut frames: Vec<DataFrame> = Vec::new();
    let mut distinct = DistinctSets::default();
    // Counting is polars' work, parallel within a partition: one at a time keeps memory
    // to one partition. Distinct values are a serial loop here: one per core.
    let width = if matches!(spec.measure, Measure::Distinct(_)) {
        rayon::current_num_threads().max(1)
    } else {
        1
    };
    for (i, chunk) in parts.chunks(width).enumerate() {
        let reduced: Vec<Option<Partial>> = chunk
            .par_iter()
            .map(|(_, part)| reduce(part.clone()))
            .collect::<Result<_, _>>()?;
        for p in reduced.into_iter().flatten() {
            match p {
                Partial::Frame(df) => frames.push(df),
                Partial::Sets(sets) => distinct.merge(sets),
            }
        }
        let next_start = parts
            .get((i + 1) * width)
            .map_or(i64::MAX, |(start, _)| *start);
        distinct.close_before(next_start, grid);
    }
    let partials: Vec<LazyFrame> = frames.into_iter().map(DataFrame::lazy).collect();
    let agg = match spec.measure {
        Measure::Count | Measure::Sum(_) => col("__n").sum().alias("value"),
        Measure::Distinct(_) => col("__v")
            .drop_nulls()
            .n_unique()
            .cast(DataType::Float64)
            .alias("value"),
        Measure::Quantile(_, q) => col("__v")
            .quantile(lit(q), QuantileMethod::Linear)
            .alias("value"),
        Measure::Share(_) | Measure::WeightedShare(..) => {
            (col("__s").sum() / col("__n").sum()).alias("value")
        }
    };
    let grouped = if matches!(spec.measure, Measure::Distinct(_)) {
        distinct.frame(dims)?
    } else if partials.is_empty() {
        let mut columns: Vec<Column> = key_names
            .iter()
            .map(|k| {
                Column::new_empty(
                    k.clone(),
                    if k == "__bucket" {
                        &DataType::UInt32
                    } else {
                        &DataType::String
                    },
                )
            })
            .collect();
        columns.push(Column::new_empty("value".into(), &DataType::Float64));
        DataFrame::new_infer_height(columns)?
    } else {
        concat(partials, UnionArgs::default())?
            .group_by(keys)
            .agg([agg.cast(DataType::Float64)])
            .collect()?
    };
    let key_cols: Vec<Vec<Option<String>>> = dims
        .iter()
        .map(|d| strings(&grouped, d.column()))
        .collect::<Result<_, _>>()?;
    let buckets = grouped.column("__bucket")?.u32()?.clone();
    let values = grouped.column("value")?.f64()?.clone();
    let mut cells: HashMap<(Vec<String>, usize), f64> = HashMap::new();
    let mut groups: BTreeSet<Vec<String>> = BTreeSet::new();
    // A rate's denominator: the site's, or library-wide the sites' total.
    let per = |key: &[String]| -> Option<f64> {
        let (map, scale) = rate.as_ref()?;
        let d = match key.first() {
            Some(code) => map.get(code).copied().unwrap_or(0.0),
            None => map.values().sum(),
        };
        (d > 0.0).then_some(d / scale)
    };
    for row in 0..grouped.height() {
        let key: Vec<String> = key_cols
            .iter()
            .map(|c| c[row].clone().unwrap_or_default())
            .collect();
        groups.insert(key.clone());
        if let (Some(b), Some(v)) = (buckets.get(row), values.get(row)) {
            let v = if rate.is_some() {
                per(&key).map(|d| v / d)
            } else {
                Some(v)
            };
            if let Some(v) = v {
                cells.insert((key, b as usize), v);
            }
        }
    }
    // Distinct keys of purged rows: the counts the purge kept (retention.rs).
    let kept = match spec.measure {
        Measure::Distinct(_) => {
            crate::base::retention::corrections(lake, sites, metric, grid, dims)?
        }
        _ => None,
    };
    if let Some(k) = &kept {
        for (cell, v) in &k.kept {
            *cells.entry(cell.clone()).or_insert(0.0) += v;
        }
        groups.extend(k.groups.iter().cloned());
    }
    let rate_zero = rate.is_some();
    let mut out = assemble(
        sites,
        metric,
        grid,
        dims,
        groups,
        |key, b| {
            if kept.as_ref().is_some_and(|k| k.unknown[b]) {
                return Some(f64::NAN);
            }
            cells
                .get(&(key.to_vec(), b))
                .copied()
                .or_else(|| (rate_zero && per(key).is_some()).then_some(0.0))
        },
        integral,
    )?;
    out.warnings.extend(kept.and_then(|k| k.warning));
    Ok(out)
}

/// What one partition of the lake is reduced to before the partitions are combined.
enum Partial {
    Frame(DataFrame),
    Sets(DistinctSets),
}

/// The distinct pseudonyms (64-bit numbers) seen per (group, bucket), a partition at a
/// time. Group values are interned as small numbers (no string is copied per row).
#[derive(Default)]
struct DistinctSets {
    names: Vec<PlHashMap<String, u32>>,
    sets: PlHashMap<([u32; MAX_DIMS], u32), PlHashSet<i64>>,
    /// Counts of the (group, bucket)s no later row can reach.
    closed: PlHashMap<([u32; MAX_DIMS], u32), usize>,
}

/// More "by" dimensions than any table has columns to break down by.
const MAX_DIMS: usize = 8;

impl DistinctSets {
    fn add(&mut self, df: DataFrame, dims: &[Dim]) -> Result<(), MetricError> {
        assert!(dims.len() <= MAX_DIMS, "at most {MAX_DIMS} dimensions");
        self.names.resize_with(dims.len(), PlHashMap::new);
        // Each dimension column as interned ids, one pass each.
        let mut ids: Vec<Vec<u32>> = Vec::with_capacity(dims.len());
        for (i, d) in dims.iter().enumerate() {
            let names = &mut self.names[i];
            let column = df.column(d.column())?.str()?;
            ids.push(
                column
                    .iter()
                    .map(|name| {
                        let name = name.unwrap_or("(none)");
                        match names.get(name) {
                            Some(&id) => id,
                            None => {
                                let id = names.len() as u32;
                                names.insert(name.to_string(), id);
                                id
                            }
                        }
                    })
                    .collect(),
            );
        }
        let buckets = df.column("__bucket")?.u32()?;
        let values = df.column("__v")?.i64()?;
        for (row, (b, v)) in buckets.iter().zip(values.iter()).enumerate() {
            let (Some(b), Some(v)) = (b, v) else { continue };
            let mut key = [0u32; MAX_DIMS];
            for (k, column) in key.iter_mut().zip(&ids) {
                *k = column[row];
            }
            self.sets.entry((key, b)).or_default().insert(v);
        }
        Ok(())
    }

    /// Counts and drops the sets of buckets that end by `instant`.
    fn close_before(&mut self, instant: i64, grid: &Grid) {
        let done: Vec<([u32; MAX_DIMS], u32)> = self
            .sets
            .keys()
            .filter(|(_, b)| {
                grid.buckets
                    .get(*b as usize)
                    .is_none_or(|bucket| bucket.end_us <= instant)
            })
            .copied()
            .collect();
        for k in done {
            if let Some(values) = self.sets.remove(&k) {
                self.closed.insert(k, values.len());
            }
        }
    }

    /// Adds another partition's sets (whose names have ids of their own).
    fn merge(&mut self, other: DistinctSets) {
        self.names.resize_with(other.names.len(), PlHashMap::new);
        let remap: Vec<Vec<u32>> = other
            .names
            .iter()
            .zip(self.names.iter_mut())
            .map(|(theirs, ours)| {
                let mut map = vec![0u32; theirs.len()];
                for (name, &id) in theirs {
                    let next = ours.len() as u32;
                    map[id as usize] = *ours.entry(name.clone()).or_insert(next);
                }
                map
            })
            .collect();
        for ((mut key, b), values) in other.sets {
            for (k, map) in key.iter_mut().zip(&remap) {
                *k = map[*k as usize];
            }
            let ours = self.sets.entry((key, b)).or_default();
            if ours.is_empty() {
                *ours = values;
            } else {
                ours.extend(values);
            }
        }
    }

    /// One row per (group, bucket): the dimension columns, `__bucket` and `value`.
    fn frame(self, dims: &[Dim]) -> Result<DataFrame, MetricError> {
        let names: Vec<Vec<&String>> = self
            .names
            .iter()
            .map(|m| {
                let mut v: Vec<(&String, &u32)> = m.iter().collect();
                v.sort_by_key(|(_, id)| **id);
                v.into_iter().map(|(n, _)| n).collect()
            })
            .collect();
        let mut key_cols: Vec<Vec<String>> = vec![Vec::new(); dims.len()];
        let (mut buckets, mut values) = (Vec::new(), Vec::new());
        let open = self.sets.iter().map(|(k, values)| (k, values.len()));
        for ((key, b), n) in open.chain(self.closed.iter().map(|(k, n)| (k, *n))) {
            for (i, col) in key_cols.iter_mut().enumerate() {
                col.push(names[i][key[i] as usize].clone());
            }
            buckets.push(*b);
            values.push(n as f64);
        }
        let mut columns: Vec<Column> = dims
            .iter()
            .zip(key_cols)
            .map(|(d, v)| Column::new(d.column().into(), v))
            .collect();
        columns.push(Column::new("__bucket".into(), buckets));
        columns.push(Column::new("value".into(), values));
        Ok(DataFrame::new_infer_height(columns)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_model::BucketKind;

    /// One partition's (bucket, value) rows, library-wide (no dimensions).
    fn part(rows: &[(u32, i64)]) -> DistinctSets {
        let df = df!("__bucket" => rows.iter().map(|r| r.0).collect::<Vec<_>>(), "__v" => rows.iter().map(|r| r.1).collect::<Vec<_>>()).unwrap();
        let mut sets = DistinctSets::default();
        sets.add(df, &[]).unwrap();
        sets
    }

    fn counts(sets: DistinctSets) -> Vec<(u32, f64)> {
        let df = sets
            .frame(&[])
            .unwrap()
            .sort(["__bucket"], SortMultipleOptions::default())
            .unwrap();
        df.column("__bucket")
            .unwrap()
            .u32()
            .unwrap()
            .iter()
            .flatten()
            .zip(df.column("value").unwrap().f64().unwrap().iter().flatten())
            .collect()
    }

    #[test]
    fn closed_buckets_survive_later_partitions() {
        // A UTC library: month buckets end exactly where partitions do, so after a
        // partition every open set is closed and the next merge starts from none open.
        let grid = Grid::new(
            "2026-01-01".parse().unwrap(),
            "2026-03-01".parse().unwrap(),
            BucketKind::Month,
            chrono_tz::UTC,
            1,
        );
        let (a, b, c) = (0x0123_4567_89ab_cdef, -0x0edc_ba98_7654_3210, 7);
        let mut all = DistinctSets::default();
        all.merge(part(&[(0, a), (0, b), (0, a)]));
        all.close_before(grid.buckets[1].start_us, &grid);
        all.merge(part(&[(1, a), (1, c), (1, c)]));
        all.close_before(i64::MAX, &grid);
        assert_eq!(counts(all), vec![(0, 2.0), (1, 2.0)]);
    }
}
