//! Any CSV, for any table, through a column mapping: the `[mapping]` of a pipeline file
//! or `--map FILE`.
//!
//! ```toml
//! table = "sessions"
//! time_zone = "America/Chicago"     # optional: else --tz, else each site's zone
//! day_first = false                 # optional: 19/07/2026 rather than 07/19/2026
//! [columns]                         # canonical column = header in the file
//! site = "Branch"
//! station = "PC Name"
//! start = "Start Time"
//! minutes = "Minutes Used"          # sessions: start + minutes, end + minutes, or start + end
//! user = "Card Number"              # hashed into patron_key (circulation too)
//! [values]                          # constants for columns the file lacks
//! user_type = "patron"
//! ```
//!
//! Identifiers are never stored as written: `user` becomes `patron_key`, `mac` becomes
//! `device_key`, `item` becomes `item_key`, each a keyed hash.

use std::collections::BTreeMap;
use std::path::Path;

use chrono_tz::Tz;
use polars::prelude::DataType;
use serde::Deserialize;
use tally_model::calendar::days_since_epoch;
use tally_model::{Table, UserType};

use crate::IngestError;
use crate::adapters::{Ctx, Input};
use crate::format::{Detect, FormatSpec, SitePolicy};
use crate::identity::Identity;
use crate::reader::normalize_header;
use crate::reason::{Code, Reject};
use crate::rows::{Cell, Value, mask_record};
use crate::time::{local_to_utc_us, parse_local, parse_local_dmy};

pub static SPEC: FormatSpec = FormatSpec {
    name: "generic",
    // The mapping names the table; sessions is only what `formats` shows.
    table: Table::Sessions,
    detect: Detect::Never,
    detected_by: "never detected: --format generic --map FILE",
    required: &["the mapping's columns"],
    optional: &[],
    // The mapped columns but identifiers and free text; see `safe_canonical`.
    safe: &[],
    site_columns: &[],
    site: SitePolicy::Column { required: false },
    preamble: &[],
    lookalikes: &[],
    identifiers: true,
    identity: "none: the row's content, with multiplicity",
    options: &["--map FILE", "--tz"],
    settings: &[],
    notes: "any CSV for any table: [columns] maps canonical columns to headers, [values] sets constants; sessions \
            from start+end, start+minutes or end+minutes; user, item and mac are stored only as keyed hashes \
            (patron_key, item_key, device_key)",
    read,
};

/// Canonical columns whose values a quarantined row may show: times, codes and counts,
/// never an identifier, a name or free text.
const SAFE_CANONICAL: &[&str] = &[
    "site", "station", "start", "end", "minutes", "duration_s", "user_type", "time", "event",
    "item_type", "collection", "location", "patron_category", "ticket_id", "opened", "resolved",
    "status", "priority", "category", "asset_tag", "ssid", "bytes", "kind", "purchased", "cost",
    "life_years", "retired", "period_start", "period_end", "measure", "value", "automatic",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub table: String,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub day_first: bool,
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

/// Virtual columns: read from the file, stored as another column.
const VIRTUAL: &[(&str, &str)] = &[
    ("user", "patron_key"),
    ("mac", "device_key"),
    ("item", "item_key"),
    ("minutes", ""),
];

impl Mapping {
    pub fn load(path: &Path) -> Result<Mapping, IngestError> {
        let text = std::fs::read_to_string(path).map_err(|source| IngestError::Io {
            path: path.into(),
            source,
        })?;
        Mapping::parse(&text, path)
    }

    pub fn parse(text: &str, origin: &Path) -> Result<Mapping, IngestError> {
        let bad = |message: String| IngestError::Malformed {
            path: origin.into(),
            line: 0,
            message,
        };
        let m: Mapping = toml::from_str(text).map_err(|e| bad(format!("mapping: {e}")))?;
        let table = m.table()?;
        let schema = table.schema();
        let known = |c: &str| {
            schema.contains(c) && !matches!(c, "row_key" | "source" | "batch")
                || VIRTUAL.iter().any(|(v, _)| *v == c)
        };
        for c in m.columns.keys().chain(m.values.keys()) {
            if !known(c) {
                let names: Vec<String> = schema
                    .iter_names()
                    .filter(|n| !matches!(n.as_str(), "row_key" | "source" | "batch"))
                    .map(|n| n.to_string())
                    .collect();
                return Err(bad(format!(
                    "mapping: {table} has no column \"{c}\"; its columns are {}, plus user, item, mac and minutes",
                    names.join(", ")
                )));
            }
        }
        let has = |c: &str| m.columns.contains_key(c) || m.values.contains_key(c);
        let derived = |c: &str| match (table, c) {
            (Table::Sessions, "end") => has("start") && has("minutes"),
            (Table::Sessions, "start") => has("end") && has("minutes"),
            (Table::Sessions, "duration_s" | "user_type") => true,
            _ => false,
        };
        let missing: Vec<&str> = table
            .required()
            .iter()
            .copied()
            .filter(|c| !has(c) && !derived(c))
            .collect();
        if !missing.is_empty() {
            return Err(bad(format!(
                "mapping for {table} lacks required column(s) {missing:?}: map them in [columns] or set them in [values]"
            )));
        }
        if let Some(z) = &m.time_zone {
            z.parse::<Tz>()
                .map_err(|_| bad(format!("mapping: unknown time zone \"{z}\"")))?;
        }
        Ok(m)
    }

    /// Whether the mapping reads an identifier (user, item or mac): a key is needed.
    pub fn has_identifiers(&self) -> bool {
        ["user", "item", "mac"]
            .iter()
            .any(|c| self.columns.contains_key(*c) || self.values.contains_key(*c))
    }

    pub fn table(&self) -> Result<Table, IngestError> {
        Table::parse(&self.table).ok_or_else(|| IngestError::Malformed {
            path: "mapping".into(),
            line: 0,
            message: format!("mapping: unknown table \"{}\"", self.table),
        })
    }
}

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let path = input.source.path.clone();
    let input = input.csv()?;
    let mapping = ctx.options.mapping.clone().ok_or(IngestError::Malformed {
        path,
        line: 1,
        message: "--format generic needs a column mapping: --map FILE".into(),
    })?;
    let mapping = &mapping;
    let table = mapping.table()?;
    let normalized: Vec<String> = input.header.iter().map(|h| normalize_header(h)).collect();
    let mut positions: BTreeMap<&str, usize> = BTreeMap::new();
    let mut missing = Vec::new();
    for (canonical, header) in &mapping.columns {
        match normalized
            .iter()
            .position(|h| *h == normalize_header(header))
        {
            Some(i) => {
                positions.insert(canonical.as_str(), i);
            }
            None => missing.push(header.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(IngestError::MissingColumns {
            path: input.path.clone(),
            format: "generic".into(),
            missing,
            expected: mapping.columns.values().cloned().collect(),
            found: input.header.clone(),
        });
    }
    // Mapped columns that are safe to show, by their header names and canonical names.
    for (canonical, header) in &mapping.columns {
        if SAFE_CANONICAL.contains(&canonical.as_str()) {
            ctx.allow(header);
            ctx.allow(canonical);
        }
    }
    let safe: Vec<bool> = input.header.iter().map(|h| ctx.is_safe(h)).collect();
    let tz_fixed: Option<Tz> = mapping
        .time_zone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .or(ctx.tz_override);
    let schema = table.schema();
    let width = input.header.len();
    let delimiter = input.delimiter;
    input.for_each_record(|line, rec| {
        ctx.tally.rows_read += 1;
        let raw = || mask_record(rec, delimiter, &safe);
        if rec.len() != width {
            let reject = Reject::new(
                Code::WrongFieldCount,
                "",
                format!(
                    "wrong number of fields: expected {width}, found {}",
                    rec.len()
                ),
            );
            ctx.reject(line, reject, raw());
            return true;
        }
        let get = |c: &str| -> Option<String> {
            positions
                .get(c)
                .map(|&i| {
                    rec.get(i)
                        .map(|b| String::from_utf8_lossy(b).trim().to_string())
                        .unwrap_or_default()
                })
                .or_else(|| mapping.values.get(c).cloned())
                .filter(|s| !s.is_empty())
        };
        match row(ctx, table, &schema, &get, tz_fixed, mapping.day_first) {
            Ok(values) => {
                let cells: Vec<Cell<'_>> = values.iter().map(Value::cell).collect();
                ctx.emit_row(Identity::Content, &cells, 1);
            }
            Err(reject) => ctx.reject(line, reject, raw()),
        }
        true
    })?;
    ctx.send();
    Ok(())
}

fn row(
    ctx: &mut Ctx<'_>,
    table: Table,
    schema: &polars::prelude::Schema,
    get: &dyn Fn(&str) -> Option<String>,
    tz_fixed: Option<Tz>,
    day_first: bool,
) -> Result<Vec<Value>, Reject> {
    // The site first: its zone reads the local times.
    let site = get("site").map(|s| {
        let (code, tz) = ctx.site(&s);
        (code.to_string(), tz)
    });
    let tz = tz_fixed
        .or(site.as_ref().map(|s| s.1))
        .unwrap_or(ctx.sites.library.timezone);
    let time = |c: &str| -> Result<Option<i64>, Reject> {
        let Some(s) = get(c) else { return Ok(None) };
        let local = if day_first {
            parse_local_dmy(&s)
        } else {
            parse_local(&s)
        };
        let local = local.ok_or_else(|| {
            Reject::new(Code::BadTime, c.to_string(), "unreadable date-time").got(&s)
        })?;
        local_to_utc_us(local, tz)
            .map(Some)
            .map_err(|r| Reject::new(Code::DstGap, c.to_string(), format!("{r} in {tz}")).got(&s))
    };
    let mut derived: BTreeMap<&str, Value> = BTreeMap::new();
    if table == Table::Sessions {
        let minutes = match get("minutes") {
            Some(m) => Some(
                m.parse::<i64>()
                    .ok()
                    .filter(|m| (0..=1440).contains(m))
                    .ok_or_else(|| {
                        Reject::new(
                            Code::BadNumber,
                            "minutes",
                            "minutes out of range or not a number",
                        )
                        .got(&m)
                    })?,
            ),
            None => None,
        };
        let (start, end) = match (time("start")?, time("end")?, minutes) {
            (Some(s), Some(e), _) => (s, e),
            (Some(s), None, Some(m)) => (s, s + m * 60_000_000),
            (None, Some(e), Some(m)) => (e - m * 60_000_000, e),
            _ => {
                return Err(Reject::new(
                    Code::MissingValue,
                    "start",
                    "a session needs start and end, start and minutes, or end and minutes",
                ));
            }
        };
        if end < start {
            return Err(Reject::new(
                Code::BadOrder,
                "end",
                "session ends before it starts",
            ));
        }
        if end - start > crate::adapters::MAX_SESSION_US {
            return Err(Reject::new(
                Code::TooLong,
                "end",
                crate::adapters::TOO_LONG,
            ));
        }
        derived.insert("start", Value::Time(start));
        derived.insert("end", Value::Time(end));
        derived.insert("duration_s", Value::Int((end - start) / 1_000_000));
        let user_type = match get("user_type") {
            Some(u) => UserType::ALL
                .into_iter()
                .find(|t| t.as_str().eq_ignore_ascii_case(&u))
                .ok_or_else(|| {
                    Reject::new(
                        Code::UnknownValue,
                        "user_type",
                        "unknown user type: expected patron, guest, staff or unknown",
                    )
                    .got(&u)
                })?
                .as_str(),
            None if get("user").is_some() => UserType::Patron.as_str(),
            None => UserType::Unknown.as_str(),
        };
        derived.insert("user_type", Value::Str(user_type.to_string()));
    }
    for (virtual_name, stored) in VIRTUAL.iter().filter(|(_, s)| !s.is_empty()) {
        if let Some(id) = get(virtual_name) {
            let key = if *virtual_name == "mac" {
                crate::adapters::shared::normalise_mac(&id)
                    .map(|m| ctx.key_of(&m))
                    .ok_or_else(|| {
                        Reject::new(Code::BadIdentifier, "mac", "not a MAC address")
                    })?
            } else {
                ctx.key_of(&id)
            };
            derived.insert(stored, Value::Key(key));
        }
    }
    let mut values = Vec::new();
    for (name, dtype) in schema.iter() {
        let name = name.as_str();
        if matches!(name, "row_key" | "source" | "batch") {
            continue;
        }
        let value = if let Some(v) = derived.remove(name) {
            v
        } else if name == "site" {
            site.as_ref()
                .map_or(Value::Null, |s| Value::Str(s.0.clone()))
        } else if matches!(name, "patron_key" | "device_key" | "item_key") {
            // Only ever from a hashed identifier, never a raw column.
            Value::Null
        } else {
            match (dtype, get(name)) {
                (_, None) => Value::Null,
                (DataType::String, Some(s)) => Value::Str(s),
                (DataType::Datetime(_, _), Some(_)) => time(name)?.map_or(Value::Null, Value::Time),
                (DataType::Date, Some(s)) => {
                    let d = parse_local(&s).map(|t| t.date()).ok_or_else(|| {
                        Reject::new(Code::BadTime, name.to_string(), "unreadable date").got(&s)
                    })?;
                    Value::Date(days_since_epoch(d))
                }
                (DataType::Int64, Some(s)) => {
                    Value::Int(s.replace(',', "").parse().map_err(|_| {
                        Reject::new(
                            Code::BadNumber,
                            name.to_string(),
                            format!("{name} not a whole number"),
                        )
                        .got(&s)
                    })?)
                }
                (DataType::Float64, Some(s)) => {
                    Value::Float(s.replace(',', "").parse().map_err(|_| {
                        Reject::new(
                            Code::BadNumber,
                            name.to_string(),
                            format!("{name} not a number"),
                        )
                        .got(&s)
                    })?)
                }
                (DataType::Boolean, Some(s)) => match s.to_ascii_lowercase().as_str() {
                    "1" | "t" | "true" | "y" | "yes" => Value::Bool(true),
                    "0" | "f" | "false" | "n" | "no" => Value::Bool(false),
                    _ => {
                        return Err(Reject::new(
                            Code::UnknownValue,
                            name.to_string(),
                            format!("{name} not yes or no"),
                        )
                        .got(&s));
                    }
                },
                (other, Some(_)) => unreachable!("canonical schemas use no {other}"),
            }
        };
        if matches!(value, Value::Null) && table.required().contains(&name) {
            return Err(Reject::new(
                Code::MissingValue,
                name.to_string(),
                format!("{name} is empty"),
            ));
        }
        values.push(value);
    }
    Ok(values)
}
