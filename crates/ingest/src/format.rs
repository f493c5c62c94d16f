//! What a format declares about itself, in one place per format ([`FormatSpec`], one
//! `SPEC` in each file of `adapters/`), and how `auto` recognises a file's format.
//!
//! The closed list of formats is the `formats!` line list in `adapters/mod.rs`: adding a
//! format is one file there plus one line in that list. The names are stable: pipeline
//! files use them.

use std::str::FromStr;

use tally_model::Table;

use crate::IngestError;
pub use crate::adapters::Format;
use crate::adapters::{Ctx, Input};
use crate::reader::normalize_header;

/// A format's declaration: everything `tally formats`, detection, the engine and the
/// quarantine need to know about it.
pub struct FormatSpec {
    /// The stable name (`--format`, pipeline files, the `source` column).
    pub name: &'static str,
    pub table: Table,
    /// How `auto` recognises a file of this format.
    pub detect: Detect,
    /// The same, for people (`tally formats`).
    pub detected_by: &'static str,
    /// Header names the file must have (matched case- and space-insensitively).
    pub required: &'static [&'static str],
    /// Header names read when present.
    pub optional: &'static [&'static str],
    /// Columns whose values a quarantined row keeps as written: dates, codes, counts.
    /// Every other column (names, e-mail addresses, identifiers, free text, custom
    /// fields) is masked in the quarantine and in the reasons.
    pub safe: &'static [&'static str],
    /// Header names that may hold the site, tried in order for each row: the first whose
    /// value names a site of sites.toml, else the first with a value (`--site-column`
    /// chooses one). Empty for formats whose site comes from an option (`--site`) or the
    /// line itself.
    pub site_columns: &'static [&'static str],
    /// Where a row's site comes from: the one rule of the format ([`SitePolicy`]).
    pub site: SitePolicy,
    /// How lines the export writes above its header begin (PaperCut Print Logger's
    /// banner): such a first line is skipped and counted in line numbers. PowerShell's
    /// `#TYPE` line is every CSV's (the reader knows it).
    pub preamble: &'static [&'static str],
    /// Files that look like this format's exports but are something else, by their first
    /// line, with what to send instead.
    pub lookalikes: &'static [Lookalike],
    /// The format's own settings (`--strip-prefix`, `--envisionware-time`, ...): read by
    /// its adapter through `Ctx::setting`, shown by `tally formats`.
    pub settings: &'static [Setting],
    /// Whether rows carry patron (or device) identifiers: a pseudonymisation key is then
    /// required.
    pub identifiers: bool,
    /// How the export's records are told apart (docs/lake.md).
    pub identity: &'static str,
    /// The `tally ingest` options the format reads.
    pub options: &'static [&'static str],
    /// What else a user should know: vendor words, rules, settings.
    pub notes: &'static str,
    /// Reads a whole file into `ctx`.
    pub read: fn(&mut Input<'_>, &mut Ctx<'_>) -> Result<(), IngestError>,
}

/// Where the site of a format's rows comes from. One policy per format, applied by the
/// shared site code (`adapters/site.rs`), so every format places rows the same way and
/// says the same thing when it cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SitePolicy {
    /// A column of each row: the format's `site_columns` tried in order (or
    /// `--site-column`), a row whose columns are empty takes `--site`. `required`: a row
    /// with no site is quarantined (its table needs one), and a file with none of the
    /// columns and no `--site` fails before a row is read; otherwise the row is stored
    /// without a site (library-wide: a ticket, a total).
    Column { required: bool },
    /// Names: the organisational units, categories and names a directory device or a
    /// print job carries, whole or by their prefix before the first `-`, `_` or space,
    /// then `--site`; a row none places is quarantined.
    Names,
    /// The whole file is one site's, which the file does not say (why, for people):
    /// `--site` is required before a row is read.
    File(&'static str),
    /// Each line names its site in a field of its own (Symphony's station library).
    Line,
    /// The table has no site (the survey's libraries).
    None,
}

impl SitePolicy {
    /// For `tally formats` and docs/formats.md.
    pub fn describe(self) -> String {
        match self {
            SitePolicy::Column { required: true } => {
                "a column of each row, else --site; a row without one is quarantined".into()
            }
            SitePolicy::Column { required: false } => {
                "a column of each row, else --site; a row without one is library-wide".into()
            }
            SitePolicy::Names => {
                "the row's OUs, categories or names, whole or by prefix, else --site".into()
            }
            SitePolicy::File(why) => format!("--site CODE: {why}"),
            SitePolicy::Line => "a field of each line".into(),
            SitePolicy::None => "none (the table has no site)".into(),
        }
    }
}

/// A file that looks like a format's export but is not one, by its first line.
#[derive(Clone, Copy)]
pub struct Lookalike {
    pub first_line: fn(&str) -> bool,
    /// What it is and what to send instead.
    pub message: &'static str,
}

/// A setting of one format (a flag of `tally ingest`, a key of a pipeline's input).
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The flag without its dashes: `strip-prefix` (a pipeline writes `strip_prefix`).
    pub name: &'static str,
    /// The value's placeholder: `PREFIX`, `start|end`.
    pub value: &'static str,
    /// What it is for.
    pub about: &'static str,
}

/// How a format is recognised from a file's start.
#[derive(Clone, Copy)]
pub enum Detect {
    /// From the header's column names.
    Header(fn(&Header) -> bool),
    /// From the first non-blank line (formats that are not CSV with a header).
    Line(fn(&str) -> bool),
    /// Either: a format with a CSV and a line-shaped (JSON) form.
    HeaderOrLine(fn(&Header) -> bool, fn(&str) -> bool),
    /// Never: only by name.
    Never,
}

/// A header's column names, normalised for matching.
pub struct Header {
    names: Vec<String>,
}

impl Header {
    pub fn new(header: &[String]) -> Header {
        Header {
            names: header.iter().map(|h| normalize_header(h)).collect(),
        }
    }

    /// Whether the header has this column (case- and space-insensitive), in any of its
    /// `|`-separated spellings.
    pub fn has(&self, name: &str) -> bool {
        name.split('|')
            .any(|n| self.names.contains(&normalize_header(n)))
    }

    /// How many of these names the header has.
    pub fn count(&self, names: &[&str]) -> usize {
        names.iter().filter(|n| self.has(n)).count()
    }
}

/// What `tally formats` prints for one format.
#[derive(Debug, Clone)]
pub struct FormatInfo {
    pub name: &'static str,
    pub table: Table,
    pub detected_by: &'static str,
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
    pub site_columns: &'static [&'static str],
    pub identity: &'static str,
    pub options: &'static [&'static str],
    pub settings: &'static [Setting],
    pub site: SitePolicy,
    pub notes: &'static str,
}

impl Format {
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn table(self) -> Table {
        self.spec().table
    }

    pub fn info(self) -> FormatInfo {
        let s = self.spec();
        FormatInfo {
            name: s.name,
            table: s.table,
            detected_by: s.detected_by,
            required: s.required,
            optional: s.optional,
            site_columns: s.site_columns,
            identity: s.identity,
            options: s.options,
            settings: s.settings,
            site: s.site,
            notes: s.notes,
        }
    }

    /// Whether a first line is one the export of some format writes above its header.
    pub fn is_preamble(first_line: &str) -> bool {
        let line = first_line.trim_start_matches('\u{feff}');
        line.starts_with("#TYPE")
            || Format::ALL
                .iter()
                .flat_map(|f| f.spec().preamble)
                .any(|p| line.starts_with(p))
    }

    /// What a file is instead, when its first line is one a format knows is not its
    /// export: (the format, the message).
    pub fn lookalike(first_line: &str) -> Option<(Format, &'static str)> {
        Format::ALL.iter().find_map(|f| {
            f.spec()
                .lookalikes
                .iter()
                .find(|l| (l.first_line)(first_line))
                .map(|l| (*f, l.message))
        })
    }

    /// Whether a format reads a setting of this name (`strip-prefix` or `strip_prefix`).
    pub fn reads_setting(self, name: &str) -> bool {
        let name = name.replace('_', "-");
        self.spec().settings.iter().any(|s| s.name == name)
    }

    /// The format whose header signature the header has, if exactly one matches.
    pub fn detect(header: &[String]) -> Option<Format> {
        let h = Header::new(header);
        let mut found = Format::ALL
            .iter()
            .copied()
            .filter(|f| match f.spec().detect {
                Detect::Header(d) | Detect::HeaderOrLine(d, _) => d(&h),
                _ => false,
            });
        let first = found.next();
        if found.next().is_some() { None } else { first }
    }

    /// The format recognised from a first line that is not a CSV header.
    pub fn detect_line(first_line: &str) -> Option<Format> {
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.reads_lines(first_line))
    }

    /// Whether files of this format are read as lines or JSON, not as CSV with a header.
    pub fn reads_lines(self, first_line: &str) -> bool {
        match self.spec().detect {
            Detect::Line(d) | Detect::HeaderOrLine(_, d) => d(first_line),
            _ => false,
        }
    }

    pub fn known_names() -> String {
        Format::ALL
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The format of files read through a column mapping: `generic`, whatever `--format`
/// says only if it says auto or generic. The one place the rule lives (the CLI and
/// pipeline files both ask it).
pub fn format_with_mapping(named: Option<Format>, mapping: bool) -> Result<Option<Format>, String> {
    match (named, mapping) {
        (None | Some(Format::Generic), true) => Ok(Some(Format::Generic)),
        (Some(f), true) => Err(format!(
            "a column mapping is for the generic format, not {}: drop --format or the mapping",
            f.name()
        )),
        (f, false) => Ok(f),
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown format \"{s}\"; known: {}, auto",
                    Format::known_names()
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for f in Format::ALL {
            assert!(seen.insert(f.name()), "{} twice", f.name());
            assert_eq!(f.name().parse::<Format>(), Ok(*f));
        }
    }

    #[test]
    fn each_header_signature_detects_its_own_format() {
        for f in Format::ALL {
            let s = f.spec();
            if let Detect::Header(_) = s.detect {
                let header: Vec<String> = s.required.iter().map(|c| c.to_string()).collect();
                // Formats whose required columns do not make the signature (totals) are
                // checked by their own tests.
                if let Some(d) = Format::detect(&header) {
                    assert_eq!(d, *f, "{}'s required columns detect {}", s.name, d.name());
                }
            }
        }
    }
}
