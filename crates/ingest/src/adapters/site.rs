//! The site of a row, by the policy its format declares ([`SitePolicy`]): from the
//! row's columns (then `--site`), from the names a directory device or a print job
//! carries, or from `--site` for a file that is one site's. One home for the rule and for
//! what tally says when a row or a file names no site.

use chrono_tz::Tz;

use crate::IngestError;
use crate::adapters::Ctx;
use crate::format::SitePolicy;
use crate::reader::CsvInput;
use crate::reason::{Code, Reject};

/// Distinct raw site values remembered per context; past that they are looked up each
/// time (an export with thousands of distinct "sites" is broken anyway).
pub(super) const SITE_CACHE: usize = 512;

impl<'a> Ctx<'a> {
    /// The site of sites.toml a raw value names (code, name or alias), remembered.
    fn lookup(&mut self, raw: &str) -> Option<usize> {
        match self.seen_sites.iter().find(|(r, _)| **r == *raw) {
            Some((_, i)) => *i,
            None => {
                let i = self.sites.site_index(raw);
                if self.seen_sites.len() < SITE_CACHE {
                    self.seen_sites.push((raw.into(), i));
                }
                i
            }
        }
    }

    /// Finds the columns that may hold the site: `--site-column` when given (it must
    /// exist), else the format's `site_columns` the header has.
    pub fn resolve_site_columns(&mut self, csv: &CsvInput) -> Result<(), IngestError> {
        match &self.options.site_column {
            Some(name) => {
                let i = csv
                    .position(name)
                    .ok_or_else(|| IngestError::MissingColumns {
                        path: csv.path.clone(),
                        format: self.spec.name.into(),
                        missing: vec![name.clone()],
                        expected: vec![format!("{name} (--site-column)")],
                        found: csv.header.clone(),
                    })?;
                self.site_cols = vec![i];
            }
            None => {
                self.site_cols = self
                    .spec
                    .site_columns
                    .iter()
                    .filter_map(|c| csv.position(c))
                    .collect();
            }
        }
        self.site_column_names = self
            .site_cols
            .iter()
            .map(|&i| csv.header[i].clone())
            .collect();
        // A file with none of the columns that name the site, where every row needs one:
        // said once, before a row is read.
        if self.site_cols.is_empty()
            && self.options.site.is_none()
            && self.spec.site == (SitePolicy::Column { required: true })
        {
            return Err(IngestError::MissingColumns {
                path: csv.path.clone(),
                format: self.spec.name.into(),
                missing: self
                    .spec
                    .site_columns
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
                expected: vec![format!(
                    "a column that names the site ({}), or --site CODE for a file of one site, or --site-column NAME",
                    self.spec.site_columns.join(", ")
                )],
                found: csv.header.clone(),
            });
        }
        Ok(())
    }

    /// The raw site of a record by the column policy: of the site columns, the first
    /// whose value names a site of sites.toml, else the first with a value, else
    /// `--site`, else "" (then [`Ctx::missing_site`] says why).
    pub fn site_value<'r>(&mut self, rec: &'r csv::ByteRecord) -> &'r str
    where
        'a: 'r,
    {
        let mut first = "";
        for k in 0..self.site_cols.len() {
            let v = rec
                .get(self.site_cols[k])
                .and_then(|b| std::str::from_utf8(b).ok())
                .map_or("", str::trim);
            if v.is_empty() {
                continue;
            }
            if self.site_cols.len() == 1 || self.lookup(v).is_some() {
                return v;
            }
            if first.is_empty() {
                first = v;
            }
        }
        if first.is_empty()
            && let Some(site) = &self.options.site
        {
            return site.as_str();
        }
        first
    }

    /// Why a row has no site, by the column policy: the column that should have named
    /// it, and what to do.
    pub fn missing_site(&self) -> Reject {
        let column = self
            .site_column_names
            .first()
            .cloned()
            .unwrap_or_else(|| "site".to_string());
        let message = format!(
            "{column} is empty: expected a site of sites.toml (its code, name or alias); pass --site CODE for a file of one site"
        );
        Reject::new(Code::MissingValue, column, message)
    }

    /// The site of a file that is one site's ([`SitePolicy::File`]): `--site`, which the
    /// engine requires before the file is read.
    pub fn file_site(&mut self) -> (String, Tz) {
        let raw = self
            .options
            .site
            .clone()
            .expect("the engine refuses a one-site file without --site");
        let (code, tz) = self.site(&raw);
        (code.to_string(), tz)
    }

    /// The site of a directory device or a print job ([`SitePolicy::Names`]): the first
    /// of `candidates` (OUs, a category) or of `names` (a computer's; a printer's, its
    /// print server's and its client's) that names a site of sites.toml (code, name or
    /// alias), else the first name whose prefix before its first `-`, `_` or space does,
    /// else `--site`. One no rule places is rejected with `advice` and the first name.
    pub fn named_site(
        &mut self,
        candidates: &[&str],
        names: &[&str],
        advice: &'static str,
    ) -> Result<String, Reject> {
        let whole = candidates.iter().chain(names).map(|n| n.trim());
        let prefixes = names
            .iter()
            .filter_map(|n| n.trim().split(['-', '_', ' ']).next());
        if let Some(found) = whole
            .chain(prefixes)
            .find(|n| !n.is_empty() && self.sites.site_index(n).is_some())
        {
            return Ok(self.site(found).0.to_string());
        }
        if let Some(site) = self.options.site.clone() {
            return Ok(self.site(&site).0.to_string());
        }
        Err(Reject::new(Code::MissingValue, "site", advice)
            .got(names.first().copied().unwrap_or("")))
    }

    /// The canonical site code for a code, name or alias, with the zone its local times
    /// are in. A site sites.toml does not know is kept as written and reported.
    pub fn site<'s>(&mut self, raw: &'s str) -> (&'s str, Tz)
    where
        'a: 's,
    {
        let raw = raw.trim();
        let found = self.lookup(raw);
        if found.is_none() && !self.tally.unknown_sites.contains(raw) {
            self.tally.unknown_sites.insert(raw.to_string());
        }
        let library = self.sites.library.timezone;
        match found {
            Some(i) => {
                let site = &self.sites.sites[i];
                (
                    site.code.as_str(),
                    self.tz_override.or(site.timezone).unwrap_or(library),
                )
            }
            None => (raw, self.tz_override.unwrap_or(library)),
        }
    }
}
