//! The closed list of input formats, their names (stable: pipeline files use them) and
//! how `auto` recognises each from its header line.

use std::str::FromStr;

use tally_model::Table;

use crate::reader::normalize_header;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// EnvisionWare PC Reservation, table `strad_bci`: one row per session.
    EnvisionWare,
    /// Libki server, table `statistics`: LOGIN / LOGOUT / FORCE_LOGOUT / SESSION_DELETED
    /// rows paired on session_id.
    Libki,
}

/// What `tally formats` prints for one format.
#[derive(Debug, Clone)]
pub struct FormatInfo {
    pub name: &'static str,
    pub table: Table,
    pub detected_by: &'static str,
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
    pub notes: &'static str,
}

pub(crate) const ENVISIONWARE_REQUIRED: &[&str] = &["pcrUserID", "pcrMinutesUsed", "pcrDateTime", "pcrBranch"];
pub(crate) const ENVISIONWARE_OPTIONAL: &[&str] = &["pcrKey", "pcrArea", "pcrUserData1", "pcrMachineName"];
pub(crate) const LIBKI_REQUIRED: &[&str] = &["username", "client_name", "client_location", "action", "created_on", "session_id"];
pub(crate) const LIBKI_OPTIONAL: &[&str] = &["instance", "id", "client_type", "anonymized", "info"];

impl Format {
    pub const ALL: [Format; 2] = [Format::EnvisionWare, Format::Libki];

    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn table(self) -> Table {
        self.info().table
    }

    pub fn info(self) -> FormatInfo {
        match self {
            Format::EnvisionWare => FormatInfo {
                name: "envisionware",
                table: Table::Sessions,
                detected_by: "header has pcrDateTime and pcrMinutesUsed",
                required: ENVISIONWARE_REQUIRED,
                optional: ENVISIONWARE_OPTIONAL,
                notes: "pcrDateTime is local time, read as the session start (--envisionware-time end for exports \
                        that stamp the end); pcrUserData1 set = staff override; card numbers with a guest prefix \
                        (sites.toml) are guest passes; pcrMachineName, when exported, is the station",
            },
            Format::Libki => FormatInfo {
                name: "libki",
                table: Table::Sessions,
                detected_by: "header has action, created_on and session_id",
                required: LIBKI_REQUIRED,
                optional: LIBKI_OPTIONAL,
                notes: "LOGIN paired with LOGOUT, FORCE_LOGOUT or SESSION_DELETED on session_id; created_on is local \
                        time; usernames starting with \"guest\" are guest passes; info.user_category \"Staff\" is staff; \
                        other actions are excluded by rule and counted",
            },
        }
    }

    /// The format whose signature columns the header has, if exactly one matches.
    pub fn detect(header: &[String]) -> Option<Format> {
        let names: Vec<String> = header.iter().map(|h| normalize_header(h)).collect();
        let has = |c: &str| names.iter().any(|n| *n == normalize_header(c));
        let mut found = Format::ALL.into_iter().filter(|f| match f {
            Format::EnvisionWare => has("pcrDateTime") && has("pcrMinutesUsed"),
            Format::Libki => has("action") && has("created_on") && has("session_id"),
        });
        let first = found.next();
        if found.next().is_some() { None } else { first }
    }

    pub fn known_names() -> String {
        Format::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown format \"{s}\"; known: {}, auto", Format::known_names()))
    }
}
