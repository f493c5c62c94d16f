//! The library's calendar and settings, from `sites.toml`.
//!
//! Values are validated while they are deserialised (time zones, opening hours, months),
//! so a mistake is reported by `toml` with its line, column and a caret.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum SitesError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Toml {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// Everything `sites.toml` says.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sites {
    pub library: Library,
    #[serde(rename = "site", default)]
    pub sites: Vec<Site>,
    /// How long patron identifiers and rejected rows are kept (docs/privacy.md).
    #[serde(default)]
    pub retention: Retention,
    /// Operating-system support and stale devices (docs/support.md).
    #[serde(default)]
    pub support: Support,
}

/// `[support]`: how `os_support`, `stale_devices` and the replacement plan read the
/// endoflife.date dates.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Support {
    /// A device whose OS leaves support within this many months is `ending`.
    #[serde(default = "twelve")]
    pub ending_months: u32,
    /// A device no directory has seen for this many days is stale.
    #[serde(default = "ninety")]
    pub stale_days: u32,
    /// Products or cycles the library pays extended security updates for:
    /// `"windows"`, or `"windows/10-22h2"` (endoflife.date's product and cycle names).
    #[serde(default)]
    pub extended_updates: Vec<String>,
}

fn twelve() -> u32 {
    12
}

fn ninety() -> u32 {
    90
}

impl Default for Support {
    fn default() -> Self {
        Support {
            ending_months: 12,
            stale_days: 90,
            extended_updates: Vec::new(),
        }
    }
}

/// `[retention]`: what `tally run` (and `tally purge` without `--before`) clears.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Patron, item and device keys are cleared from rows older than this many whole
    /// months (the purge date is the first day of the month this many months before the
    /// current one).
    pub patron_months: Option<u32>,
    /// Quarantine files (rejected rows, masked) older than this many days are deleted.
    pub quarantine_days: Option<u32>,
}

impl Retention {
    /// The purge date for `today`: the first of the month `patron_months` months before
    /// today's month.
    pub fn purge_before(&self, today: NaiveDate) -> Option<NaiveDate> {
        let months = self.patron_months?;
        let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)?;
        first.checked_sub_months(chrono::Months::new(months))
    }
}

/// Library-wide settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Library {
    pub name: String,
    /// The zone for sites that do not name one, and for library-wide bucket boundaries.
    #[serde(deserialize_with = "de_tz")]
    pub timezone: Tz,
    /// First month of the fiscal year (1 = calendar year). FY N ends in calendar year N.
    #[serde(default = "one", deserialize_with = "de_month")]
    pub fiscal_year_start_month: u32,
    /// Breakdowns that involve patrons hide counts below this (docs/metrics.md, small cells: default 5).
    #[serde(default = "five")]
    pub min_cell_size: u64,
    /// Holidays when every branch is closed.
    #[serde(default)]
    pub closed: Vec<NaiveDate>,
    /// Whether renewals the system made on its own count as circulation (states differ).
    #[serde(default = "yes")]
    pub count_automatic_renewals: bool,
    /// Card numbers that start with one of these are guest passes (NYPL uses 25555).
    #[serde(default)]
    pub guest_barcode_prefixes: Vec<String>,
    /// Default service life in years per asset kind (public_pc = 5: replace a fifth a year).
    #[serde(default)]
    pub asset_life_years: BTreeMap<String, f64>,
    /// Default unit cost per asset kind, in the library's currency.
    #[serde(default)]
    pub unit_cost: BTreeMap<String, f64>,
    #[serde(default)]
    pub thresholds: Thresholds,
    /// Work-order targets in hours, per priority.
    #[serde(default)]
    pub work_order_target_hours: BTreeMap<String, f64>,
    /// The library's key in the IMLS Public Libraries Survey (`WI0176`): `tally peers`.
    #[serde(default)]
    pub fscskey: Option<String>,
    /// The currency costs are in, as charts and tables name it (`USD`, `CAD`, `EUR`).
    #[serde(default = "usd")]
    pub currency: String,
}

/// Heuristics for station recommendations. No published standard exists, so they are
/// settings, not constants.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Recommend more stations when occupancy at the busiest hours reaches this.
    pub add_occupancy: f64,
    /// ... or when every station is busy for at least this many minutes a week.
    pub add_capacity_minutes_per_week: f64,
    /// Recommend fewer stations when occupancy stays below this.
    pub reduce_occupancy: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            add_occupancy: 0.75,
            add_capacity_minutes_per_week: 60.0,
            reduce_occupancy: 0.25,
        }
    }
}

/// One branch.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// The code the vendor systems use (EnvisionWare's pcrBranch, Libki's location).
    pub code: String,
    pub name: String,
    /// Other codes the exports use for this site (words or numbers: Chicago's open data
    /// names branches by numeric ids); matched case-insensitively.
    #[serde(default, deserialize_with = "de_aliases")]
    pub aliases: Vec<String>,
    #[serde(default, deserialize_with = "de_opt_tz")]
    pub timezone: Option<Tz>,
    /// Public computers.
    pub stations: u32,
    /// Service-area population (for use per 1,000 residents).
    #[serde(default)]
    pub population: u64,
    pub hours: WeekHours,
    /// Dates this site is closed besides the library-wide holidays.
    #[serde(default)]
    pub closed: Vec<NaiveDate>,
}

/// Opening hours for each weekday, local time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeekHours {
    pub mon: DayHours,
    pub tue: DayHours,
    pub wed: DayHours,
    pub thu: DayHours,
    pub fri: DayHours,
    pub sat: DayHours,
    pub sun: DayHours,
}

impl WeekHours {
    /// Open round the clock every day.
    pub fn all_day() -> WeekHours {
        let d = DayHours::all_day();
        WeekHours {
            mon: d.clone(),
            tue: d.clone(),
            wed: d.clone(),
            thu: d.clone(),
            fri: d.clone(),
            sat: d.clone(),
            sun: d,
        }
    }

    pub fn day(&self, weekday: Weekday) -> &DayHours {
        match weekday {
            Weekday::Mon => &self.mon,
            Weekday::Tue => &self.tue,
            Weekday::Wed => &self.wed,
            Weekday::Thu => &self.thu,
            Weekday::Fri => &self.fri,
            Weekday::Sat => &self.sat,
            Weekday::Sun => &self.sun,
        }
    }
}

/// Opening hours of one day: `"09:00-20:00"`, `"10:00-12:00, 13:00-17:00"` or `"closed"`.
/// `"24:00"` closes at midnight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayHours(pub Vec<(NaiveTime, Option<NaiveTime>)>);

impl DayHours {
    /// Open round the clock: for sites sites.toml does not know.
    pub fn all_day() -> DayHours {
        DayHours(vec![(NaiveTime::MIN, None)])
    }

    /// Open ranges as (local start, local end) on `date`; `None` as end means midnight.
    pub fn ranges(&self) -> &[(NaiveTime, Option<NaiveTime>)] {
        &self.0
    }
}

impl FromStr for DayHours {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("closed") || s.is_empty() {
            return Ok(DayHours(Vec::new()));
        }
        let mut ranges = Vec::new();
        for part in s.split(',') {
            let (a, b) = part.trim().split_once('-').ok_or_else(|| {
                format!("opening hours \"{part}\": expected HH:MM-HH:MM, a comma-separated list of them, or \"closed\"")
            })?;
            let parse = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M");
            let start = parse(a)
                .map_err(|_| format!("opening hours \"{part}\": \"{}\" is not HH:MM", a.trim()))?;
            let end = if b.trim() == "24:00" {
                None
            } else {
                Some(parse(b).map_err(|_| {
                    format!("opening hours \"{part}\": \"{}\" is not HH:MM", b.trim())
                })?)
            };
            if let Some(e) = end
                && e <= start
            {
                return Err(format!("opening hours \"{part}\": closes before it opens"));
            }
            ranges.push((start, end));
        }
        ranges.sort();
        for pair in ranges.windows(2) {
            if pair[0].1.is_none_or(|end| end > pair[1].0) {
                return Err(format!("opening hours \"{s}\": ranges overlap"));
            }
        }
        Ok(DayHours(ranges))
    }
}

impl<'de> Deserialize<'de> for DayHours {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn usd() -> String {
    "USD".into()
}

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}
fn five() -> u64 {
    5
}

fn de_tz<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
    let s = String::deserialize(d)?;
    s.parse::<Tz>().map_err(|_| {
        serde::de::Error::custom(format!(
            "unknown time zone \"{s}\"; expected an IANA name such as America/Chicago"
        ))
    })
}

/// Aliases as strings, whether sites.toml writes them as words or numbers.
fn de_aliases<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Alias {
        Text(String),
        Int(i64),
    }
    Ok(Vec::<Alias>::deserialize(d)?
        .into_iter()
        .map(|a| match a {
            Alias::Text(s) => s,
            Alias::Int(n) => n.to_string(),
        })
        .collect())
}

fn de_opt_tz<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Tz>, D::Error> {
    de_tz(d).map(Some)
}

fn de_month<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let m = u32::deserialize(d)?;
    if (1..=12).contains(&m) {
        Ok(m)
    } else {
        Err(serde::de::Error::custom(format!("month {m} is not 1..=12")))
    }
}

impl Sites {
    pub fn load(path: &Path) -> Result<Sites, SitesError> {
        let text = std::fs::read_to_string(path).map_err(|source| SitesError::Io {
            path: path.into(),
            source,
        })?;
        Sites::from_toml(&text, path)
    }

    /// Parses and checks `sites.toml`; `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Sites, SitesError> {
        let sites: Sites = toml::from_str(text).map_err(|e| SitesError::Toml {
            path: origin.into(),
            source: Box::new(e),
        })?;
        let mut seen = BTreeMap::new();
        for (i, site) in sites.sites.iter().enumerate() {
            for code in [&site.code, &site.name].into_iter().chain(&site.aliases) {
                if let Some(other) = seen.insert(code.to_ascii_lowercase(), i)
                    && other != i
                {
                    return Err(SitesError::Invalid {
                        path: origin.into(),
                        message: format!(
                            "site[{i}]: code or alias \"{code}\" is already used by site[{other}] ({})",
                            sites.sites[other].code
                        ),
                    });
                }
            }
        }
        Ok(sites)
    }

    /// The site with this code, name or alias (case-insensitive).
    pub fn site(&self, code: &str) -> Option<&Site> {
        self.site_index(code).map(|i| &self.sites[i])
    }

    /// The position in `sites` of the site with this code, name or alias.
    pub fn site_index(&self, code: &str) -> Option<usize> {
        let code = code.trim();
        self.sites.iter().position(|s| {
            s.code.eq_ignore_ascii_case(code)
                || s.name.eq_ignore_ascii_case(code)
                || s.aliases.iter().any(|a| a.eq_ignore_ascii_case(code))
        })
    }

    /// The zone a site's local times are in.
    pub fn tz_of(&self, code: &str) -> Tz {
        self.site(code)
            .and_then(|s| s.timezone)
            .unwrap_or(self.library.timezone)
    }

    /// Is `site` closed all day on `date` (a library-wide or a site holiday)?
    pub fn is_holiday(&self, site: &Site, date: NaiveDate) -> bool {
        self.library.closed.contains(&date) || site.closed.contains(&date)
    }

    /// The fiscal year `date` falls in, named by the calendar year it ends in.
    pub fn fiscal_year(&self, date: NaiveDate) -> i32 {
        crate::fiscal_year_of(date, self.library.fiscal_year_start_month)
    }

    /// Fiscal year `fy` as local days [first, end).
    pub fn fiscal_year_days(&self, fy: i32) -> Option<(NaiveDate, NaiveDate)> {
        crate::fiscal_year_days(fy, self.library.fiscal_year_start_month)
    }

    /// A library with no sites, for when no sites.toml exists: every site then falls
    /// back to the defaults (this zone, round-the-clock opening, stations seen).
    pub fn fallback(timezone: Tz) -> Sites {
        Sites {
            library: Library {
                name: "Library".into(),
                timezone,
                fiscal_year_start_month: 1,
                min_cell_size: 5,
                closed: Vec::new(),
                guest_barcode_prefixes: Vec::new(),
                count_automatic_renewals: true,
                asset_life_years: BTreeMap::new(),
                unit_cost: BTreeMap::new(),
                thresholds: Thresholds::default(),
                work_order_target_hours: BTreeMap::new(),
                fscskey: None,
                currency: usd(),
            },
            sites: Vec::new(),
            retention: Retention::default(),
            support: Support::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_hours_parse() {
        let h: DayHours = "10:00-12:00, 13:00-24:00".parse().unwrap();
        assert_eq!(h.0.len(), 2);
        assert_eq!(h.0[1].1, None);
        assert!("closed".parse::<DayHours>().unwrap().0.is_empty());
        assert!("10-12".parse::<DayHours>().is_err());
        assert!("12:00-10:00".parse::<DayHours>().is_err());
        assert!("10:00-13:00,12:00-14:00".parse::<DayHours>().is_err());
    }

    #[test]
    fn bad_zone_names_line() {
        let text = "[library]\nname = \"x\"\ntimezone = \"America/Chicgo\"\n";
        let err = Sites::from_toml(text, Path::new("sites.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(
            err.contains("unknown time zone \"America/Chicgo\""),
            "{err}"
        );
    }

    #[test]
    fn fiscal_year_names_the_year_it_ends_in() {
        let mut sites = Sites::fallback(chrono_tz::America::Chicago);
        sites.library.fiscal_year_start_month = 7;
        assert_eq!(
            sites.fiscal_year(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()),
            2025
        );
        assert_eq!(
            sites.fiscal_year(NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()),
            2026
        );
    }
}
