//! The fleet's devices as every fleet metric reads them: the inventory's current rows,
//! and the inventory joined with what directories and device managers know (OS, last
//! seen), with the life rules: when a device falls due, how long a kind lasts.

use std::collections::HashMap;

use chrono::{Months, NaiveDate};
use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::Sites;
use tally_model::Table;
use tally_model::tables::assets::{DIRECTORY, INVENTORY};

use crate::base::frame::{dates, strings};
use crate::base::load::scan_current;
use crate::base::request::MetricError;

/// When an asset falls due: purchased + its life (the asset's own, else the default for
/// its kind in sites.toml, else 5 years), to the month.
pub fn due_date(purchased: NaiveDate, life_years: f64) -> NaiveDate {
    let months = (life_years * 12.0).round().max(0.0) as u32;
    purchased
        .checked_add_months(Months::new(months))
        .unwrap_or(purchased)
}

/// The life of a kind sites.toml gives none: five years (a fifth of the fleet a year).
pub const DEFAULT_LIFE_YEARS: f64 = 5.0;

pub fn life_of(sites: &Sites, kind: &str, own: Option<f64>) -> f64 {
    own.or_else(|| sites.library.asset_life_years.get(kind).copied())
        .unwrap_or(DEFAULT_LIFE_YEARS)
}

/// The kinds that run an operating system tally can match (printers, switches and AV
/// have firmware, not an OS of endoflife.date).
pub const COMPUTING: [&str; 5] = ["public_pc", "staff_pc", "laptop", "tablet", "server"];

/// One device as the fleet knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub tag: String,
    pub kind: String,
    pub site: String,
    /// The inventory's purchase date; for a device only a directory knows, the day it
    /// joined the directory.
    pub purchased: NaiveDate,
    pub cost: Option<f64>,
    pub life_years: Option<f64>,
    pub status: String,
    pub retired: Option<NaiveDate>,
    pub os: Option<String>,
    pub os_version: Option<String>,
    pub last_seen: Option<NaiveDate>,
    pub in_inventory: bool,
    pub in_directory: bool,
}

impl Device {
    /// In service on `day`: bought by then, not retired by then (a device marked retired
    /// without a date is out of service).
    pub fn in_service(&self, day: NaiveDate) -> bool {
        let out = match self.retired {
            Some(r) => r <= day,
            None => self.status == "retired",
        };
        !out && self.purchased <= day
    }
}

/// A key of the join: spaces at the ends dropped, lower case (as SQL's `lower(trim(x))`).
fn lower(s: &str) -> String {
    s.trim_matches(' ').to_lowercase()
}

/// The current rows of the inventory only (what replacement, assets and cost per use
/// count): rows of lakes before format 3 have no origin and are inventory.
pub fn inventory(lake: &Snapshot) -> Result<LazyFrame, MetricError> {
    Ok(scan_current(lake, Table::Assets)?
        .filter(col("origin").is_null().or(col("origin").eq(lit(INVENTORY)))))
}

/// The inventory joined with the directories (docs/support.md): a directory device is
/// the inventory asset whose asset tag is its name, else whose serial is its serial,
/// else whose name is its name (case and spaces ignored); the inventory's purchase,
/// cost and life stay, OS and last seen come from the directory seen last. A directory
/// device no inventory asset matches is a device of its own.
pub fn fleet(lake: &Snapshot) -> Result<Vec<Device>, MetricError> {
    let df = scan_current(lake, Table::Assets)?.collect()?;
    let col_s = |c: &str| strings(&df, c);
    let (tag, kind, site, status, origin) = (
        col_s("asset_tag")?,
        col_s("kind")?,
        col_s("site")?,
        col_s("status")?,
        col_s("origin")?,
    );
    let (name, serial, os, os_version) = (
        col_s("name")?,
        col_s("serial")?,
        col_s("os")?,
        col_s("os_version")?,
    );
    let dates = |c: &str| dates(&df, c);
    let (purchased, retired, last_seen) =
        (dates("purchased")?, dates("retired")?, dates("last_seen")?);
    let floats = |c: &str| -> Result<Vec<Option<f64>>, MetricError> {
        Ok(df.column(c)?.f64()?.iter().collect())
    };
    let (cost, life) = (floats("cost")?, floats("life_years")?);
    let mut devices: Vec<Device> = Vec::new();
    let mut directory: Vec<usize> = Vec::new();
    // Inventory rows in order of tag: of several a key finds, the smallest tag wins.
    let mut order: Vec<usize> = (0..df.height()).collect();
    order.sort_by(|&i, &j| tag[i].cmp(&tag[j]));
    // Lookups into the inventory: by tag, serial, name (the join rule's order).
    let mut by_tag: HashMap<String, usize> = HashMap::new();
    let mut by_serial: HashMap<String, usize> = HashMap::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for i in order {
        // Every column here is required in the assets table: never null in the lake.
        let (Some(t), Some(k), Some(s), Some(p)) = (&tag[i], &kind[i], &site[i], purchased[i])
        else {
            continue;
        };
        if origin[i].as_deref() == Some(DIRECTORY) {
            directory.push(i);
            continue;
        }
        let d = devices.len();
        by_tag.entry(lower(t)).or_insert(d);
        if let Some(x) = serial[i].as_deref().filter(|x| !lower(x).is_empty()) {
            by_serial.entry(lower(x)).or_insert(d);
        }
        if let Some(x) = name[i].as_deref().filter(|x| !lower(x).is_empty()) {
            by_name.entry(lower(x)).or_insert(d);
        }
        devices.push(Device {
            tag: t.clone(),
            kind: k.clone(),
            site: s.clone(),
            purchased: p,
            cost: cost[i],
            life_years: life[i],
            status: status[i].clone().unwrap_or_else(|| "active".into()),
            retired: retired[i],
            os: os[i].clone(),
            os_version: os_version[i].clone(),
            last_seen: last_seen[i],
            in_inventory: true,
            in_directory: false,
        });
    }
    // Directory rows in order of last seen, so the one seen last writes last (never
    // seen first; ties by tag, name and serial).
    directory.sort_by(|&i, &j| {
        (last_seen[i], &tag[i], &name[i], &serial[i]).cmp(&(
            last_seen[j],
            &tag[j],
            &name[j],
            &serial[j],
        ))
    });
    for i in directory {
        let dname = name[i].as_deref().or(tag[i].as_deref()).unwrap_or_default();
        let found = by_tag
            .get(&lower(dname))
            .or_else(|| {
                serial[i]
                    .as_deref()
                    .filter(|s| !lower(s).is_empty())
                    .and_then(|s| by_serial.get(&lower(s)))
            })
            .or_else(|| by_name.get(&lower(dname)))
            .copied();
        match found {
            Some(d) => {
                let dev = &mut devices[d];
                dev.in_directory = true;
                if os[i].is_some() {
                    dev.os = os[i].clone();
                    dev.os_version = os_version[i].clone();
                }
                dev.last_seen = dev.last_seen.max(last_seen[i]);
            }
            None => {
                let key = lower(dname);
                // The same device in two directories (AD and Intune): one device.
                if let Some(&d) = by_name.get(&key).filter(|&&d| !devices[d].in_inventory) {
                    let dev = &mut devices[d];
                    if os[i].is_some() {
                        dev.os = os[i].clone();
                        dev.os_version = os_version[i].clone();
                    }
                    dev.last_seen = dev.last_seen.max(last_seen[i]);
                    continue;
                }
                by_name.insert(key, devices.len());
                devices.push(Device {
                    tag: tag[i].clone().unwrap_or_default(),
                    kind: kind[i].clone().unwrap_or_default(),
                    site: site[i].clone().unwrap_or_default(),
                    purchased: purchased[i].expect("checked above"),
                    cost: None,
                    life_years: None,
                    status: status[i].clone().unwrap_or_else(|| "active".into()),
                    retired: retired[i],
                    os: os[i].clone(),
                    os_version: os_version[i].clone(),
                    last_seen: last_seen[i],
                    in_inventory: false,
                    in_directory: true,
                });
            }
        }
    }
    Ok(devices)
}
