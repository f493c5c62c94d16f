//! Libki `statistics` rows. A session is a LOGIN row and the first LOGOUT, FORCE_LOGOUT
//! or SESSION_DELETED row with the same session_id. Both rows of a paired session count
//! as accepted; a row that cannot be paired is quarantined with the reason.

use std::collections::HashMap;

use tally_model::UserType;

use crate::IngestError;
use crate::adapters::{Ctx, MAX_SESSION_US, TOO_LONG, session_row};
use crate::format::{LIBKI_OPTIONAL, LIBKI_REQUIRED};
use crate::identity::{Identity, KeySet, record_hash};
use crate::reader::{Columns, CsvInput, Reject};
use crate::rows::mask_record;
use crate::time::{local_to_utc_us, parse_local};

const USERNAME: usize = 0;
const CLIENT_NAME: usize = 1;
const CLIENT_LOCATION: usize = 2;
const ACTION: usize = 3;
const CREATED_ON: usize = 4;
const SESSION_ID: usize = 5;
const INSTANCE: usize = 6;
const INFO: usize = 10;

/// One LOGIN or end row, parsed.
struct Event {
    line: u64,
    time_us: i64,
    site: String,
    station: String,
    user: String,
    staff: bool,
    instance: String,
    raw_masked: String,
}

pub fn read(input: &mut CsvInput, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let cols = input.columns("libki", LIBKI_REQUIRED, LIBKI_OPTIONAL)?;
    let delimiter = input.delimiter;
    // The username, and info (which holds the patron of an admin action), are private.
    let private = [cols.get(USERNAME), cols.get(INFO)];
    // Rows are paired as they come: only rows still waiting for their other half are
    // held, and the sessions already ended (as keys), to recognise a late end row.
    let mut logins: HashMap<String, Event> = HashMap::new();
    let mut ends: HashMap<String, Event> = HashMap::new();
    let mut ended = KeySet::default();
    input.for_each_record(|line, rec| {
        ctx.tally.rows_read += 1;
        let raw_masked = || mask_record(rec, delimiter, &private);
        match event(rec, &cols, ctx) {
            Err((column, reason)) => ctx.tally.quarantine(line, column, reason, raw_masked()),
            Ok(None) => {}
            Ok(Some((is_login, session_id, ev))) => {
                let ev = Event {
                    line,
                    raw_masked: raw_masked(),
                    ..ev
                };
                let done = record_hash("libki", &session_id);
                if is_login {
                    if logins.contains_key(&session_id) || ended.contains(&done) {
                        ctx.tally.quarantine(
                            line,
                            "session_id",
                            "second LOGIN for one session_id".into(),
                            ev.raw_masked,
                        );
                    } else if let Some(end) = ends.remove(&session_id) {
                        ended.insert(done);
                        session(ctx, &session_id, ev, end);
                    } else {
                        logins.insert(session_id, ev);
                    }
                } else if ended.contains(&done) || ends.contains_key(&session_id) {
                    ctx.tally
                        .exclude("later end row of a session already ended");
                } else if let Some(login) = logins.remove(&session_id) {
                    ended.insert(done);
                    session(ctx, &session_id, login, ev);
                } else {
                    ends.insert(session_id, ev);
                }
            }
        }
    })?;
    let mut left: Vec<Event> = logins.into_values().collect();
    left.sort_by_key(|e| e.line);
    for login in left {
        ctx.tally.quarantine(
            login.line,
            "session_id",
            "LOGIN with no LOGOUT, FORCE_LOGOUT or SESSION_DELETED in this file".into(),
            login.raw_masked,
        );
    }
    let mut orphans: Vec<Event> = ends.into_values().collect();
    orphans.sort_by_key(|e| e.line);
    for end in orphans {
        ctx.tally.quarantine(
            end.line,
            "session_id",
            "end row with no LOGIN in this file".into(),
            end.raw_masked,
        );
    }
    Ok(())
}

/// A LOGIN and its end row: a session, or both rows quarantined with the reason.
fn session(ctx: &mut Ctx<'_>, session_id: &str, login: Event, end: Event) {
    if end.time_us - login.time_us > MAX_SESSION_US {
        ctx.tally.quarantine(
            login.line,
            "created_on",
            format!("{TOO_LONG} (end row on line {})", end.line),
            login.raw_masked,
        );
        ctx.tally.quarantine(
            end.line,
            "created_on",
            format!("{TOO_LONG} (LOGIN on line {})", login.line),
            end.raw_masked,
        );
        return;
    }
    if end.time_us < login.time_us {
        let reason = format!(
            "session ends before it starts (end row on line {})",
            end.line
        );
        ctx.tally
            .quarantine(login.line, "created_on", reason, login.raw_masked);
        let reason = format!(
            "session ends before it starts (LOGIN on line {})",
            login.line
        );
        ctx.tally
            .quarantine(end.line, "created_on", reason, end.raw_masked);
        return;
    }
    let user_type = if login.staff {
        UserType::Staff
    } else if login.user.is_empty() {
        UserType::Unknown
    } else if login.user.to_ascii_lowercase().starts_with("guest")
        || ctx.is_guest_barcode(&login.user)
    {
        UserType::Guest
    } else {
        UserType::Patron
    };
    let patron_key = matches!(user_type, UserType::Patron | UserType::Staff)
        .then(|| ctx.pseudo.key_of(&login.user));
    // session_id is Libki's key for a session (per instance, a column of multi-tenant
    // servers).
    let record = format!("{}\u{1f}{session_id}", login.instance);
    ctx.emit_row(
        Identity::Record(&record),
        session_row(
            login.site,
            &login.station,
            login.time_us,
            end.time_us,
            user_type.as_str(),
            patron_key,
        ),
        2,
    );
}

type Parsed = Option<(bool, String, Event)>;

/// Whether an action starts a session (LOGIN) or ends one (LOGOUT, FORCE_LOGOUT,
/// SESSION_DELETED); any other action is excluded by rule, counted by its name.
fn session_action(action: &str, ctx: &mut Ctx<'_>) -> Option<bool> {
    let action = action.to_ascii_uppercase();
    match action.as_str() {
        "LOGIN" => Some(true),
        "LOGOUT" | "FORCE_LOGOUT" | "SESSION_DELETED" => Some(false),
        _ => {
            ctx.tally
                .exclude(&format!("action {action} is not a session event"));
            None
        }
    }
}

/// One record: `None` when excluded by rule, else whether it is a LOGIN, its session_id
/// and the event.
fn event(rec: &csv::ByteRecord, cols: &Columns, ctx: &mut Ctx<'_>) -> Result<Parsed, Reject> {
    cols.check_width(rec)?;
    let get = |i: usize| cols.text(rec, i);
    let Some(is_login) = session_action(get(ACTION)?, ctx) else {
        return Ok(None);
    };
    let session_id = get(SESSION_ID)?;
    if session_id.is_empty() {
        return Err((
            "session_id",
            "session_id is empty: rows cannot be paired".into(),
        ));
    }
    let when = get(CREATED_ON)?;
    let Some(local) = parse_local(when) else {
        return Err((
            "created_on",
            format!("unreadable date-time: expected YYYY-MM-DD HH:MM:SS, got \"{when}\""),
        ));
    };
    let location = get(CLIENT_LOCATION)?;
    if location.is_empty() {
        return Err((
            "client_location",
            "client_location is empty: expected a site".into(),
        ));
    }
    let (site, tz) = ctx.site(location);
    let time_us = local_to_utc_us(local, tz)
        .map_err(|reason| ("created_on", format!("{reason}: \"{when}\" in {tz}")))?;
    let info = get(INFO)?;
    let staff = is_login && !info.is_empty() && staff_category(info);
    let ev = Event {
        line: 0,
        time_us,
        site,
        station: get(CLIENT_NAME)?.to_string(),
        user: get(USERNAME)?.to_string(),
        staff,
        instance: get(INSTANCE)?.to_string(),
        raw_masked: String::new(),
    };
    Ok(Some((is_login, session_id.to_string(), ev)))
}

fn staff_category(info: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(info)
        .ok()
        .and_then(|v| {
            v.get("user_category")
                .and_then(|c| c.as_str().map(|c| c.eq_ignore_ascii_case("staff")))
        })
        .unwrap_or(false)
}

pub const HISTORY_REQUIRED: &[&str] = &["Username", "Client", "Action", "Timestamp"];
pub const HISTORY_OPTIONAL: &[&str] = &["Info"];

/// Libki's History page as CSV (`Username, Client, Action, Timestamp, Info`, Timestamp
/// `%m/%d/%Y %I:%M %p`). There is no session id: a LOGIN is paired with the next end row
/// of the same user on the same client, in time order. The page is one Libki instance:
/// `--site` names the site.
pub fn read_history(
    input: &mut CsvInput,
    ctx: &mut Ctx<'_>,
    site: Option<&str>,
) -> Result<(), IngestError> {
    let cols = input.columns("libki-history", HISTORY_REQUIRED, HISTORY_OPTIONAL)?;
    let site = site.ok_or_else(|| IngestError::Malformed {
        path: input.path.clone(),
        line: 1,
        message: "the History page does not say which site: pass --site CODE".into(),
    })?;
    let (site, tz) = ctx.site(site);
    let delimiter = input.delimiter;
    let private = [cols.get(0), cols.get(4)];
    // (time, is_login, line, user, client, raw)
    let mut events: Vec<(i64, bool, u64, String, String, String)> = Vec::new();
    input.for_each_record(|line, rec| {
        ctx.tally.rows_read += 1;
        let raw = || mask_record(rec, delimiter, &private);
        let parsed = (|| -> Result<Option<(i64, bool, String, String)>, Reject> {
            cols.check_width(rec)?;
            let get = |i: usize| cols.text(rec, i);
            let Some(is_login) = session_action(get(2)?, ctx) else {
                return Ok(None);
            };
            let when = get(3)?;
            let local = parse_local(when).ok_or((
                "Timestamp",
                format!("unreadable date-time: expected MM/DD/YYYY HH:MM AM, got \"{when}\""),
            ))?;
            let t = local_to_utc_us(local, tz)
                .map_err(|r| ("Timestamp", format!("{r}: \"{when}\" in {tz}")))?;
            Ok(Some((
                t,
                is_login,
                get(0)?.to_string(),
                get(1)?.to_string(),
            )))
        })();
        match parsed {
            Ok(Some((t, is_login, user, client))) => {
                events.push((t, is_login, line, user, client, raw()))
            }
            Ok(None) => {}
            Err((column, reason)) => ctx.tally.quarantine(line, column, reason, raw()),
        }
    })?;
    events.sort_by_key(|(t, login, line, ..)| (*t, !*login, *line));
    let mut open: HashMap<(String, String), (i64, u64, String)> = HashMap::new();
    for (t, is_login, line, user, client, raw) in events {
        let key = (user.clone(), client.clone());
        if is_login {
            if let Some((_, old_line, old_raw)) = open.insert(key, (t, line, raw)) {
                ctx.tally.quarantine(
                    old_line,
                    "Action",
                    format!("LOGIN with no end before the next LOGIN (line {line})"),
                    old_raw,
                );
            }
        } else if let Some((start, login_line, login_raw)) = open.remove(&key) {
            if t - start > MAX_SESSION_US {
                ctx.tally.quarantine(
                    login_line,
                    "Timestamp",
                    format!("{TOO_LONG} (end row on line {line})"),
                    login_raw,
                );
                ctx.tally.quarantine(
                    line,
                    "Timestamp",
                    format!("{TOO_LONG} (LOGIN on line {login_line})"),
                    raw,
                );
                continue;
            }
            let user_type = if user.to_ascii_lowercase().starts_with("guest") {
                UserType::Guest
            } else {
                UserType::Patron
            };
            let patron_key = (user_type == UserType::Patron && !user.is_empty())
                .then(|| ctx.pseudo.key_of(&user));
            // The History page has no session id: the session's content, with multiplicity.
            ctx.emit_row(
                Identity::Content,
                session_row(
                    site.clone(),
                    &client,
                    start,
                    t,
                    user_type.as_str(),
                    patron_key,
                ),
                2,
            );
        } else {
            ctx.tally.quarantine(
                line,
                "Action",
                "end row with no LOGIN before it".into(),
                raw,
            );
        }
    }
    let mut left: Vec<(i64, u64, String)> = open.into_values().collect();
    left.sort_by_key(|(_, line, _)| *line);
    for (_, line, raw) in left {
        ctx.tally
            .quarantine(line, "Action", "LOGIN with no end in this file".into(), raw);
    }
    Ok(())
}
