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
    /// SirsiDynix Symphony history log lines (`.hist`, `.hist.Z`).
    SymphonyHist,
    /// Koha's `statistics` table as CSV.
    KohaStatistics,
    /// Aggregates, one row per period (and site).
    TotalsLong,
    /// Aggregates, one row per site with a column per month.
    TotalsWide,
    /// osTicket's ticket export (CSV; `;` where the decimal mark is a comma).
    OsTicket,
    /// Request Tracker's spreadsheet export (tab-separated).
    Rt,
    /// GLPI's list export (delimiter per user, translated titles).
    Glpi,
    /// Jira Service Management's CSV export.
    Jira,
    /// Cisco Meraki clients: the API's JSON or the dashboard's CSV.
    Meraki,
    /// Snipe-IT's asset export.
    SnipeIt,
    /// A generic inventory CSV with the canonical asset columns.
    Inventory,
    /// Windows Security log saved from Event Viewer as CSV.
    WindowsEvents,
    /// Any CSV through a column mapping (`--map FILE`).
    Generic,
    /// Libki's History page as CSV.
    LibkiHistory,
    /// Koha's `old_issues` / `issues` loans.
    KohaOldIssues,
    /// Evergreen's `action.circulation` loans.
    EvergreenCirc,
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

pub(crate) const ENVISIONWARE_REQUIRED: &[&str] =
    &["pcrUserID", "pcrMinutesUsed", "pcrDateTime", "pcrBranch"];
pub(crate) const ENVISIONWARE_OPTIONAL: &[&str] =
    &["pcrKey", "pcrArea", "pcrUserData1", "pcrMachineName"];
pub(crate) const LIBKI_REQUIRED: &[&str] = &[
    "username",
    "client_name",
    "client_location",
    "action",
    "created_on",
    "session_id",
];
pub(crate) const LIBKI_OPTIONAL: &[&str] = &["instance", "id", "client_type", "anonymized", "info"];

impl Format {
    pub const ALL: [Format; 18] = [
        Format::EnvisionWare,
        Format::Libki,
        Format::SymphonyHist,
        Format::KohaStatistics,
        Format::TotalsLong,
        Format::TotalsWide,
        Format::OsTicket,
        Format::Rt,
        Format::Glpi,
        Format::Jira,
        Format::Meraki,
        Format::SnipeIt,
        Format::Inventory,
        Format::WindowsEvents,
        Format::Generic,
        Format::LibkiHistory,
        Format::KohaOldIssues,
        Format::EvergreenCirc,
    ];

    /// The ticket vendor of a work-order format.
    pub fn ticket_vendor(self) -> Option<crate::adapters::tickets::Vendor> {
        use crate::adapters::tickets::Vendor;
        match self {
            Format::OsTicket => Some(Vendor::OsTicket),
            Format::Rt => Some(Vendor::Rt),
            Format::Glpi => Some(Vendor::Glpi),
            Format::Jira => Some(Vendor::Jira),
            _ => None,
        }
    }

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
            Format::SymphonyHist => FormatInfo {
                name: "symphony-hist",
                table: Table::Circulation,
                detected_by: "first line is E + yyyymmddHHMMSS + station, with ^S",
                required: &["E<time><station>", "^S<seq><command>", "^FE<library>"],
                optional: &["^UO<user>", "^NQ<item>"],
                notes: "CV checkout, RV renewal, EV checkin, WV in_house_use; other commands excluded by rule and counted \
                        by code; server local time; ISO-8859-1; .hist.Z (Unix compress) read as is; --strip-prefix \
                        removes a system prefix from FE library codes; the PIN (Uf) is never stored",
            },
            Format::KohaStatistics => FormatInfo {
                name: "koha-statistics",
                table: Table::Circulation,
                detected_by: "header has datetime, branch, type and itemnumber",
                required: crate::adapters::koha::REQUIRED,
                optional: crate::adapters::koha::OPTIONAL,
                notes: "type issue/onsite_checkout = checkout, renew = renewal, return = checkin, localuse = in_house_use; \
                        recall, item_found, item_lost, writeoff, payment and others excluded by rule; server local time",
            },
            Format::TotalsLong => FormatInfo {
                name: "totals-long",
                table: Table::Totals,
                detected_by: "header has Year and one value column (Toronto open data; Chicago Wi-Fi by month)",
                required: &["Year", "a value column"],
                optional: &[
                    "Month",
                    "BranchCode | Branch | Location | Site",
                    "CUMULATIVE ... | YTD",
                ],
                notes: "measure from --measure, else the value column's name and the file name; a cumulative column is \
                        checked against the running sum and a mismatch is noted",
            },
            Format::TotalsWide => FormatInfo {
                name: "totals-wide",
                table: Table::Totals,
                detected_by: "header has LOCATION and the twelve month names (Chicago open data)",
                required: &["LOCATION", "JANUARY ... DECEMBER"],
                optional: &["YTD"],
                notes: "year from --year, else the file name; measure from --measure, else the file name; YTD is checked \
                        against the months and a mismatch is noted",
            },
            Format::Meraki => FormatInfo {
                name: "meraki",
                table: Table::Wifi,
                detected_by: "a JSON array, or a header with MAC address and First seen",
                required: crate::adapters::meraki::CSV_REQUIRED,
                optional: crate::adapters::meraki::CSV_OPTIONAL,
                notes: "one connection per client from firstSeen to lastSeen (epoch seconds or date-times); the MAC \
                        address is kept only as a keyed hash; usage sent+recv kB as bytes; --site names the branch \
                        of the network",
            },
            Format::SnipeIt => FormatInfo {
                name: "snipe-it",
                table: Table::Assets,
                detected_by: "header has Asset Tag and Purchase Date",
                required: crate::adapters::assets::SNIPE_REQUIRED,
                optional: crate::adapters::assets::SNIPE_OPTIONAL,
                notes: "kind from the category (public, desktop, laptop, tablet, printer, network, server, AV words); \
                        status from the label (Deployed = active, Ready to Deploy/Pending = spare, Archived = retired); \
                        the latest export of an asset tag wins when read",
            },
            Format::Inventory => FormatInfo {
                name: "inventory",
                table: Table::Assets,
                detected_by: "header has asset_tag, kind and purchased",
                required: crate::adapters::assets::INVENTORY_REQUIRED,
                optional: crate::adapters::assets::INVENTORY_OPTIONAL,
                notes: "the canonical asset columns; kind and status must be canonical words",
            },
            Format::WindowsEvents => FormatInfo {
                name: "windows-events",
                table: Table::Sessions,
                detected_by: "header has Date and Time, Event ID and Task Category",
                required: crate::adapters::windows::REQUIRED,
                optional: crate::adapters::windows::OPTIONAL,
                notes: "4624 logon paired on Logon ID with 4647/4634 logoff from the unnamed sixth field (the message); \
                        logon types 2 and 10 kept, machine accounts ($) and lock/unlock excluded by rule; a logon with \
                        no logoff is closed at the site's closing time and noted; --site names the site, --station the \
                        machine (else the file name); locale dates, day-first recognised per file",
            },
            Format::LibkiHistory => FormatInfo {
                name: "libki-history",
                table: Table::Sessions,
                detected_by: "header has Username, Client, Action and Timestamp",
                required: crate::adapters::libki::HISTORY_REQUIRED,
                optional: crate::adapters::libki::HISTORY_OPTIONAL,
                notes: "no session id: a LOGIN pairs with the next end row of the same user on the same client; \
                        Timestamp MM/DD/YYYY HH:MM AM; --site names the site",
            },
            Format::KohaOldIssues => FormatInfo {
                name: "koha-old-issues",
                table: Table::Circulation,
                detected_by: "header has issue_id, issuedate and branchcode",
                required: crate::adapters::loans::KOHA_REQUIRED,
                optional: crate::adapters::loans::KOHA_OPTIONAL,
                notes: "a checkout at issuedate, renewals_count (older: renewals) renewals, a checkin at returndate; \
                        renewals before the last are dated at lastreneweddate (noted)",
            },
            Format::EvergreenCirc => FormatInfo {
                name: "evergreen-circ",
                table: Table::Circulation,
                detected_by: "header has xact_start, target_copy and circ_lib",
                required: crate::adapters::loans::EVERGREEN_REQUIRED,
                optional: crate::adapters::loans::EVERGREEN_OPTIONAL,
                notes: "timestamps with offsets; a renewal flag (phone, desk, opac, auto) makes xact_start a renewal, \
                        else a checkout; checkin_time is a checkin at checkin_lib",
            },
            Format::Generic => FormatInfo {
                name: "generic",
                // The mapping names the table; sessions is only what `formats` shows.
                table: Table::Sessions,
                detected_by: "never detected: --format generic --map FILE",
                required: &["the mapping's columns"],
                optional: &[],
                notes: "any CSV for any table: [columns] maps canonical columns to headers, [values] sets constants; \
                        sessions from start+end, start+minutes or end+minutes; user, item and mac are stored only as \
                        keyed hashes (patron_key, item_key, device_key)",
            },
            Format::OsTicket | Format::Rt | Format::Glpi | Format::Jira => {
                let vendor = self.ticket_vendor().expect("a ticket format");
                let (required, optional) = vendor.columns();
                FormatInfo {
                    name: vendor.format_name(),
                    table: Table::WorkOrders,
                    detected_by: match self {
                        Format::OsTicket => "header has Ticket Number and Date Created",
                        Format::Rt => "header has id, Created and Queue",
                        Format::Glpi => "header has ID and Opening date",
                        _ => "header has Issue key and Created",
                    },
                    required,
                    optional,
                    notes: "local times (--tz, else the library's zone), day-first dates recognised per file; statuses \
                            and priorities mapped from the vendor's words (RT's 0-100 numbers too); the latest export of \
                            a ticket wins when read; RT files with relative dates (\"3 hours ago\") fail with the columns \
                            to export instead",
                }
            }
        }
    }

    /// The format whose signature columns the header has, if exactly one matches.
    pub fn detect(header: &[String]) -> Option<Format> {
        let names: Vec<String> = header.iter().map(|h| normalize_header(h)).collect();
        let has = |c: &str| names.iter().any(|n| *n == normalize_header(c));
        let months = crate::adapters::totals::MONTHS
            .iter()
            .filter(|m| has(m))
            .count();
        let mut found = Format::ALL.into_iter().filter(|f| match f {
            Format::EnvisionWare => has("pcrDateTime") && has("pcrMinutesUsed"),
            Format::Libki => has("action") && has("created_on") && has("session_id"),
            // Lines, not a CSV header: recognised by `detect_line`.
            Format::SymphonyHist => false,
            Format::KohaStatistics => {
                has("datetime") && has("branch") && has("type") && has("itemnumber")
            }
            Format::TotalsWide => months == 12,
            Format::TotalsLong => {
                has("year") && months < 12 && !has("pcrDateTime") && !has("created_on")
            }
            Format::OsTicket => has("Ticket Number") && has("Date Created"),
            Format::Rt => has("id") && has("Created") && has("Queue"),
            Format::Glpi => has("ID") && has("Opening date"),
            Format::Jira => has("Issue key") && has("Created"),
            Format::Meraki => has("MAC address") && has("First seen"),
            Format::SnipeIt => has("Asset Tag") && has("Purchase Date"),
            Format::Inventory => has("asset_tag") && has("kind") && has("purchased"),
            Format::WindowsEvents => {
                has("Date and Time") && has("Event ID") && has("Task Category")
            }
            Format::Generic => false,
            Format::LibkiHistory => {
                has("Username") && has("Client") && has("Action") && has("Timestamp")
            }
            Format::KohaOldIssues => has("issue_id") && has("issuedate") && has("branchcode"),
            Format::EvergreenCirc => has("xact_start") && has("target_copy") && has("circ_lib"),
        });
        let first = found.next();
        if found.next().is_some() { None } else { first }
    }

    /// Formats recognised from their first line rather than a header.
    pub fn detect_line(first_line: &str) -> Option<Format> {
        if crate::adapters::symphony::looks_like(first_line) {
            Some(Format::SymphonyHist)
        } else if first_line.trim_start().starts_with('[') {
            Some(Format::Meraki)
        } else {
            None
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

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown format \"{s}\"; known: {}, auto",
                    Format::known_names()
                )
            })
    }
}
