//! Windows Security log saved from Event Viewer as CSV. The header names five columns
//! (`Keywords,Date and Time,Source,Event ID,Task Category`) but every row has six: the
//! last, unnamed, is the quoted multi-line Message with the account, Logon ID and Logon
//! Type. A session is a 4624 logon paired on Logon ID with the first 4647 or 4634 logoff.
//! Interactive (2) and remote interactive (10) logons count; machine accounts (`...$`)
//! and other logon types are excluded by rule. A logon with no logoff in the file is
//! closed at the site's closing time and noted, never dropped.
//!
//! The log is one machine's: the station is `--station`, else the file's name; the site
//! is `--site`.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDateTime};
use chrono_tz::Tz;
use tally_model::Table;

use crate::IngestError;
use crate::adapters::{Ctx, Input, MAX_SESSION_US, TOO_LONG, session_row};
use crate::format::{Detect, FormatSpec, Setting, SitePolicy};
use crate::identity::Identity;
use crate::reason::{Code, Reject};
use crate::rows::mask_record;
use crate::time::{local_to_utc_us, looks_day_first, parse_local, parse_local_dmy};

pub static SPEC: FormatSpec = FormatSpec {
    name: "windows-events",
    table: Table::Sessions,
    detect: Detect::Header(|h| {
        (h.has(DATE) && h.has(EVENT_ID) && h.has("Task Category|Aufgabenkategorie"))
            || (h.has("TimeCreated|TimeGenerated") && h.has("Id|EventID") && h.has("Message"))
    }),
    detected_by: "header has Date and Time, Event ID and Task Category (Event Viewer, English or German), or \
                  TimeCreated, Id and Message (PowerShell Get-WinEvent | Export-Csv)",
    required: &[DATE, EVENT_ID],
    optional: &[
        "Keywords|Level|Schlüsselwörter|Ebene|LevelDisplayName",
        "Source|Quelle|ProviderName",
        "Task Category|Aufgabenkategorie|TaskDisplayName",
        "Message|Meldung",
        "MachineName",
    ],
    // The message names the account: never shown.
    safe: &[
        "Keywords|Level|Schlüsselwörter|Ebene|LevelDisplayName",
        DATE,
        "Source|Quelle|ProviderName",
        EVENT_ID,
        "Task Category|Aufgabenkategorie|TaskDisplayName",
        "MachineName",
    ],
    site_columns: &[],
    site: SitePolicy::File("a Windows log is one machine's"),
    preamble: &[],
    lookalikes: &[],
    identifiers: true,
    identity: "the machine, the Logon ID and the logon's time (a Logon ID is unique on its machine until it restarts)",
    options: &["--site CODE", "--tz"],
    settings: &[
        Setting {
            name: "station",
            value: "NAME",
            about: "the station whose log it is (else the file's name)",
        },
    ],
    notes: "4624 logon paired on Logon ID with 4647/4634 logoff, from the message (Event Viewer's unnamed sixth \
            field, PowerShell's Message column; English, or German labels); a #TYPE first line is skipped; \
            logon types 2 and 10 kept, machine accounts ($), other logon types and lock/unlock excluded by rule; \
            a logon with no logoff is closed at the site's closing time and noted; --site names the site, \
            --station the machine (else MachineName, else the file name); locale dates, day-first recognised \
            per file; a log whose messages are in another language fails with how to export it",
    read,
};

/// The date column's spellings: Event Viewer's (English, German), PowerShell's.
const DATE: &str = "Date and Time|Datum und Uhrzeit|TimeCreated|TimeGenerated";
/// The event id column's spellings.
const EVENT_ID: &str = "Event ID|Ereignis-ID|Id|EventID";
const MESSAGE: usize = 5;
const MACHINE: usize = 6;

/// The fields of the Message a session needs.
#[derive(Debug, Default)]
struct Message {
    account: String,
    logon_id: String,
    logon_type: Option<u32>,
}

/// Reads `Name:\tvalue` lines; for a 4624 the account that logged on is under
/// "New Logon:", for logoffs under "Subject:".
/// Reads `Name:\tvalue` lines (or `;`-joined ones, as export scripts write them); for a
/// 4624 the account that logged on is under "New Logon:", for logoffs under "Subject:".
/// The German labels are read too.
fn parse_message(text: &str, event: u32) -> Message {
    let wanted: &[&str] = if event == 4624 {
        &["New Logon:", "Neue Anmeldung:"]
    } else {
        &["Subject:", "Antragsteller:", "Betreff:"]
    };
    let lines: Vec<&str> = if text.contains('\n') {
        text.lines().collect()
    } else {
        text.split(';').collect()
    };
    let mut in_wanted = false;
    let mut m = Message::default();
    for raw in lines {
        let line = raw.trim();
        if line.ends_with(':') && !raw.starts_with('\t') && !raw.starts_with(' ') {
            in_wanted = wanted.contains(&line);
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim() {
            "Logon Type" | "Anmeldetyp" => m.logon_type = value.parse().ok(),
            "Account Name" | "Kontoname" if in_wanted => m.account = value.to_string(),
            "Logon ID" | "Anmelde-ID" if in_wanted => m.logon_id = value.to_ascii_lowercase(),
            _ => {}
        }
    }
    m
}

/// One logon or logoff read: time, event id, local time, message, station.
type Read = (i64, u32, NaiveDateTime, Message, String);
/// The same with its line and masked text, waiting to be paired.
type Seen = (i64, u32, u64, NaiveDateTime, Message, String, String);

struct Logon {
    line: u64,
    station: String,
    logon_id: String,
    local: NaiveDateTime,
    time_us: i64,
    account: String,
    raw: String,
}

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let input = input.csv()?;
    let cols = input.columns(SPEC.name, SPEC.required, SPEC.optional, &[])?;
    let path = input.path.to_path_buf();
    let (site, tz) = ctx.file_site();
    let file_station = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().to_string());
    let delimiter = input.delimiter;
    let safe = input.safe_mask(SPEC.safe);
    let width = input.header.len();
    // Event Viewer's message is an unnamed field after the header's; PowerShell's a column.
    let named_message = cols.get(MESSAGE);
    let message_at = named_message.unwrap_or(width);
    let machine_at = cols.get(MACHINE);
    // Rows with a logon or logoff, and those whose message had no Logon ID: a log in a
    // language tally does not read has none.
    let (mut boundaries, mut no_logon_id) = (0u64, 0u64);
    let (date_col, id_col) = (
        cols.get(0).expect("required"),
        cols.get(1).expect("required"),
    );
    let mut day_first: Option<bool> = None;
    // First every event is read; then they are paired in time order, since Event Viewer
    // saves the newest first.
    let mut events: Vec<Seen> = Vec::new();
    input.for_each_record(|line, rec| {
        ctx.tally.rows_read += 1;
        // The message names the account: the mask hides it (it is not a safe column).
        let raw = || mask_record(rec, delimiter, &safe);
        let parsed = (|| -> Result<Option<Read>, Reject> {
            let expected = if named_message.is_some() { width } else { width + 1 };
            if rec.len() != expected && rec.len() != width {
                return Err(Reject::new(
                    Code::WrongFieldCount,
                    "",
                    format!(
                        "wrong number of fields: expected {expected} (the message included), found {}",
                        rec.len()
                    ),
                ));
            }
            let text = |i: usize| {
                rec.get(i)
                    .map(|b| String::from_utf8_lossy(b).trim().to_string())
                    .unwrap_or_default()
            };
            let id_text = text(id_col);
            let event = id_text.parse::<u32>().map_err(|_| {
                Reject::new(Code::BadNumber, "Event ID", "event ID not a number").got(&id_text)
            })?;
            if !matches!(event, 4624 | 4634 | 4647) {
                ctx.tally.exclude(Code::NotSessionEvent, &event.to_string());
                return Ok(None);
            }
            let when = text(date_col);
            let first = *day_first.get_or_insert_with(|| looks_day_first([when.as_str()]));
            let parsed = if first {
                parse_local_dmy(&when)
            } else {
                parse_local(&when)
            };
            let local = parsed.ok_or_else(|| {
                Reject::new(Code::BadTime, cols.name(0), "unreadable date-time").got(&when)
            })?;
            let time_us = local_to_utc_us(local, tz).map_err(|reason| {
                Reject::new(Code::DstGap, cols.name(0), format!("{reason} in {tz}")).got(&when)
            })?;
            let message = parse_message(&text(message_at), event);
            boundaries += 1;
            if message.logon_id.is_empty() {
                no_logon_id += 1;
                return Err(Reject::new(
                    Code::MissingValue,
                    "Message",
                    "no Logon ID in the message",
                ));
            }
            if message.account.ends_with('$') {
                ctx.tally.exclude(Code::MachineAccount, "");
                return Ok(None);
            }
            if event == 4624 {
                match message.logon_type {
                    Some(2) | Some(10) => {}
                    Some(t) => {
                        ctx.tally
                            .exclude(Code::NotInteractive, &format!("logon type {t}"));
                        return Ok(None);
                    }
                    None => {
                        return Err(Reject::new(
                            Code::MissingValue,
                            "Message",
                            "no Logon Type in a 4624 message",
                        ));
                    }
                }
            }
            let station = ctx
                .setting("station")
                .map(str::to_string)
                .or_else(|| machine_at.map(&text).filter(|m| !m.is_empty()))
                .unwrap_or_else(|| file_station.clone());
            Ok(Some((time_us, event, local, message, station)))
        })();
        match parsed {
            Ok(Some((time_us, event, local, message, station))) => {
                events.push((time_us, event, line, local, message, raw(), station))
            }
            Ok(None) => {}
            Err(reject) => ctx.reject(line, reject, raw()),
        }
        true
    })?;
    if boundaries > 0 && no_logon_id == boundaries {
        return Err(IngestError::Malformed {
            path,
            line: 2,
            message: "no logon or logoff message has a Logon ID that tally can read: the messages are in a language \
                      tally does not read. Export the log from an Event Viewer in English, or with PowerShell: \
                      Get-WinEvent -FilterHashtable @{LogName='Security'; Id=4624,4634,4647} | \
                      Select-Object TimeCreated,Id,MachineName,Message | Export-Csv security.csv"
                .into(),
        });
    }
    // Logons before logoffs at the same instant; 4647 (user initiated) before 4634.
    events.sort_by_key(|(t, e, line, ..)| (*t, if *e == 4624 { 0 } else { *e - 4600 }, *line));
    let mut logons: HashMap<String, Logon> = HashMap::new();
    let mut ended: HashMap<String, ()> = HashMap::new();
    let mut sessions: Vec<(Logon, i64, u64)> = Vec::new();
    for (time_us, event, line, local, message, raw, station) in events {
        let too_long = |logon: &Logon| time_us - logon.time_us > MAX_SESSION_US;
        // A Logon ID is unique on its machine: the machine is part of the key.
        let id = format!("{station}\u{1f}{}", message.logon_id);
        if event == 4624 {
            if let Some(old) = logons.insert(
                id.clone(),
                Logon {
                    line,
                    station,
                    logon_id: message.logon_id.clone(),
                    local,
                    time_us,
                    account: message.account,
                    raw,
                },
            ) {
                let reject = Reject::new(
                    Code::RepeatedStart,
                    "Message",
                    format!("logon reused its Logon ID before a logoff (again on line {line})"),
                );
                ctx.reject(old.line, reject, old.raw);
            }
            ended.remove(&id);
        } else if let Some(logon) = logons.remove(&id) {
            ended.insert(id, ());
            if too_long(&logon) {
                let reject = Reject::new(
                    Code::TooLong,
                    "Date and Time",
                    format!("{TOO_LONG} (logoff on line {line})"),
                );
                ctx.reject(logon.line, reject, logon.raw);
                let reject = Reject::new(
                    Code::TooLong,
                    "Date and Time",
                    format!("{TOO_LONG} (logon on line {})", logon.line),
                );
                ctx.reject(line, reject, raw);
                continue;
            }
            sessions.push((logon, time_us, 2));
        } else if ended.contains_key(&id) {
            ctx.tally.exclude(Code::AlreadyEnded, "");
        } else {
            let reject = Reject::new(
                Code::Unpaired,
                "Message",
                "logoff with no logon in this file",
            );
            ctx.reject(line, reject, raw);
        }
    }
    // Logons never closed: closed at the site's closing time that day, and noted.
    let mut open: Vec<Logon> = logons.into_values().collect();
    open.sort_by_key(|l| l.line);
    for logon in open {
        match closing_time(ctx, &site, tz, logon.local) {
            Some(end) if end > logon.time_us => {
                ctx.tally
                    .note("logon with no logoff: closed at the site's closing time");
                sessions.push((logon, end, 1));
            }
            _ => {
                let reject = Reject::new(
                    Code::Unpaired,
                    "Message",
                    "logon with no logoff, and no closing time after it that day to close it at",
                );
                ctx.reject(logon.line, reject, logon.raw.clone());
            }
        }
    }
    sessions.sort_by_key(|(l, _, _)| l.line);
    for (logon, end, input_rows) in sessions {
        let user_type = if logon.account.to_ascii_lowercase().starts_with("guest")
            || ctx.is_guest_barcode(&logon.account)
        {
            "guest"
        } else {
            "patron"
        };
        let key = (user_type == "patron" && !logon.account.is_empty())
            .then(|| ctx.key_of(&logon.account));
        // A Logon ID is unique on its machine until it restarts; with the logon's time it
        // names the session.
        let time = logon.time_us.to_string();
        let parts = [logon.station.as_str(), logon.logon_id.as_str(), time.as_str()];
        ctx.emit_row(
            Identity::RecordOf(&parts),
            &session_row(&site, &logon.station, logon.time_us, end, user_type, key),
            input_rows,
        );
    }
    ctx.send();
    Ok(())
}

/// The last closing time of the site on the logon's local day, as UTC microseconds.
fn closing_time(ctx: &Ctx<'_>, site: &str, tz: Tz, local: NaiveDateTime) -> Option<i64> {
    let s = ctx.sites.site(site)?;
    let day = local.date();
    if ctx.sites.is_holiday(s, day) {
        return None;
    }
    let (_, close) = *s.hours.day(day.weekday()).ranges().last()?;
    let close = match close {
        Some(c) => day.and_time(c),
        None => (day + chrono::Duration::days(1)).and_time(chrono::NaiveTime::MIN),
    };
    local_to_utc_us(close, tz).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_new_logon_section() {
        let msg = "An account was successfully logged on.\n\nSubject:\n\tSecurity ID:\t\tSYSTEM\n\tAccount Name:\t\tPC07$\n\tLogon ID:\t\t0x3E7\n\nLogon Information:\n\tLogon Type:\t\t2\n\nNew Logon:\n\tSecurity ID:\t\tS-1-5-21-1\n\tAccount Name:\t\tpatron07\n\tLogon ID:\t\t0x3E7A21\n";
        let m = parse_message(msg, 4624);
        assert_eq!(
            (m.account.as_str(), m.logon_id.as_str(), m.logon_type),
            ("patron07", "0x3e7a21", Some(2))
        );
        let off = "An account was logged off.\n\nSubject:\n\tSecurity ID:\t\tS-1-5-21-1\n\tAccount Name:\t\tpatron07\n\tLogon ID:\t\t0x3E7A21\n\nLogon Type:\t\t\t2\n";
        let m = parse_message(off, 4634);
        assert_eq!(
            (m.account.as_str(), m.logon_id.as_str()),
            ("patron07", "0x3e7a21")
        );
    }
}
