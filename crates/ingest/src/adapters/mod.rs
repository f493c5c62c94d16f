//! One module per vendor format. Each maps records of the shared reader core to
//! canonical rows, a quarantine reason or an exclusion rule; nothing else.

pub mod envisionware;
pub mod koha;
pub mod libki;
pub mod symphony;
pub mod totals;

use chrono_tz::Tz;
use tally_model::Sites;

use crate::pseudo::PseudoCache;
use crate::rows::{Rows, Tally};
use crate::writer::TimestampMeans;

/// What an adapter works with while it reads one file.
pub struct Ctx<'a> {
    pub sites: &'a Sites,
    /// `--tz`: the zone of every local time in the file, overriding the sites' zones.
    pub tz_override: Option<Tz>,
    pub pseudo: PseudoCache<'a>,
    pub envisionware_time: TimestampMeans,
    pub tally: Tally,
    /// Canonical rows of the format's table.
    pub rows: Rows,
}

impl Ctx<'_> {
    /// The canonical site code for a code, name or alias, with the zone its local times
    /// are in. A site sites.toml does not know is kept as written and reported.
    pub fn site(&mut self, raw: &str) -> (String, Tz) {
        match self.sites.site(raw) {
            Some(site) => (site.code.clone(), self.tz_override.or(site.timezone).unwrap_or(self.sites.library.timezone)),
            None => {
                if !self.tally.unknown_sites.contains(raw) {
                    self.tally.unknown_sites.insert(raw.to_string());
                }
                (raw.to_string(), self.tz_override.unwrap_or(self.sites.library.timezone))
            }
        }
    }

    pub fn is_guest_barcode(&self, id: &str) -> bool {
        self.sites.library.guest_barcode_prefixes.iter().any(|p| !p.is_empty() && id.starts_with(p.as_str()))
    }
}
