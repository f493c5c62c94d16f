//! Libki `statistics` rows (Libki/libki-server `installer/schema.sql`). A session starts
//! with a LOGIN (a patron at a client) or an UNLOCK (staff unlocking a client for a
//! guest) and ends with the first LOGOUT, FORCE_LOGOUT or SESSION_DELETED of the same
//! session on the same client. Both rows of a paired session count as accepted; a row
//! that cannot be paired is quarantined with the reason.
//!
//! What Libki writes, by version and action (docs/formats.md has the table):
//! - `session_id` is the client's session; SESSION_DELETED (the cron job ending a timed
//!   out session) repeats it but has no `client_location`: the site is the LOGIN's.
//! - FORCE_LOGOUT (staff ending a session) carries the staff member's web session in
//!   `session_id` and the patron in `info.username`: it pairs with the open session of
//!   that user on that client.
//! - UNLOCK carries the staff web session too; the guest session's LOGOUT repeats it.
//! - Before late 2018 there is no `session_id`: a start pairs with the next end of the
//!   same user on the same client. Before mid 2018 `created_on` is `when`; before 2013
//!   `client_name` is `clientname` and there is no location (`--site` gives the site).

use std::collections::HashMap;

use tally_model::{Table, UserType};

use crate::IngestError;
use crate::adapters::libki_actions::staff_category;
use crate::adapters::shared::is_guest;
use crate::adapters::{Ctx, Input, MAX_SESSION_US, TOO_LONG, session_row};
use crate::format::{Detect, FormatSpec, SitePolicy};
use crate::identity::{Identity, KeySet, record_hash};
use crate::reader::Columns;
use crate::reason::{Code, Reject};
use crate::rows::mask_record;
use crate::time::{local_to_utc_us, parse_local};

pub static SPEC: FormatSpec = FormatSpec {
    name: "libki",
    table: Table::Sessions,
    detect: Detect::Header(|h| {
        h.has("action") && h.has("created_on|when") && h.has("username") && h.has("client_name|clientname")
    }),
    detected_by: "header has username, client_name, action and created_on (or the older when, clientname)",
    required: &["username", "client_name|clientname", "action", "created_on|when"],
    optional: &[
        "session_id",
        "client_location",
        "instance",
        "id",
        "client_type",
        "anonymized",
        "info",
    ],
    safe: &[
        "instance",
        "id",
        "client_name|clientname",
        "client_location",
        "client_type",
        "action",
        "created_on|when",
        "anonymized",
        "session_id",
    ],
    site_columns: &["client_location"],
    site: SitePolicy::Column { required: true },
    preamble: &[],
    lookalikes: &[],
    identifiers: true,
    identity: "session_id (with instance, for multi-tenant servers; with the client for staff-unlocked guest sessions); \
               without session_id (Libki before late 2018), the session's content",
    options: &["--site CODE (exports without client_location)", "--tz"],
    settings: &[],
    notes: "LOGIN or UNLOCK paired with LOGOUT, FORCE_LOGOUT or SESSION_DELETED of the same session on the same \
            client (FORCE_LOGOUT by info.username); created_on (older: when) is local time (LIBKI_TZ); usernames \
            starting with \"guest\" (or a guest card prefix) and UNLOCKed sessions are guest passes; other actions are \
            excluded by rule and counted",
    read,
};

const USERNAME: usize = 0;
const CLIENT_NAME: usize = 1;
const ACTION: usize = 2;
const CREATED_ON: usize = 3;
const SESSION_ID: usize = 4;
const INSTANCE: usize = 6;
const INFO: usize = 10;

/// What a row does to a session.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Act {
    Login,
    Unlock,
    Logout,
    ForceLogout,
    Deleted,
}

fn act(action: &str) -> Option<Act> {
    let is = |a: &str| action.eq_ignore_ascii_case(a);
    Some(if is("LOGIN") {
        Act::Login
    } else if is("UNLOCK") {
        Act::Unlock
    } else if is("LOGOUT") {
        Act::Logout
    } else if is("FORCE_LOGOUT") {
        Act::ForceLogout
    } else if is("SESSION_DELETED") {
        Act::Deleted
    } else {
        return None;
    })
}

/// One start or end row, parsed.
struct Event {
    act: Act,
    line: u64,
    time_us: i64,
    /// The site of a start row (end rows take their start's).
    site: Option<String>,
    station: String,
    user: String,
    /// The patron a FORCE_LOGOUT ends (its `info.username`).
    ended_user: String,
    staff: bool,
    instance: String,
    session_id: String,
    raw_masked: String,
}

impl Event {
    fn starts(&self) -> bool {
        matches!(self.act, Act::Login | Act::Unlock)
    }

    /// The session a row belongs to: its session id on its client, or (an export with
    /// no session ids) its user on its client.
    fn key(&self) -> String {
        if self.session_id.is_empty() {
            format!("u\u{1f}{}\u{1f}{}", self.user, self.station)
        } else {
            format!("s\u{1f}{}\u{1f}{}", self.session_id, self.station)
        }
    }
}

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let csv = input.csv()?;
    let cols = csv.columns(SPEC.name, SPEC.required, SPEC.optional, SPEC.site_columns)?;
    // Libki before 2013 exported no client_location: the site is then --site.
    ctx.resolve_site_columns(csv)?;
    let delimiter = csv.delimiter;
    let safe = csv.safe_mask(SPEC.safe);
    // Rows are paired as they come: only the sessions still open are held, and the ended
    // ones (as keys), to recognise a late end row.
    let mut open: HashMap<String, Event> = HashMap::new();
    let mut ended = KeySet::default();
    let mut orphans: Vec<Event> = Vec::new();
    csv.for_each_record(|line, rec| {
        if ctx.failed() {
            return false;
        }
        ctx.tally.rows_read += 1;
        let raw_masked = || mask_record(rec, delimiter, &safe);
        let ev = match event(rec, &cols, ctx) {
            Err(reject) => {
                ctx.reject(line, reject, raw_masked());
                return true;
            }
            Ok(None) => return true,
            Ok(Some(ev)) => Event {
                line,
                raw_masked: raw_masked(),
                ..ev
            },
        };
        let key = ev.key();
        let done = record_hash("libki", &[&key]);
        if ev.starts() {
            match open.remove(&key) {
                // Without session ids, a start after a start on the same client by the same
                // user means the first never ended.
                Some(old) if ev.session_id.is_empty() => {
                    let reject = Reject::new(
                        Code::Unpaired,
                        "action",
                        format!("start with no end before the next start (line {})", ev.line),
                    );
                    ctx.reject(old.line, reject, old.raw_masked);
                    open.insert(key, ev);
                }
                Some(old) => {
                    open.insert(key, old);
                    let reject = Reject::new(
                        Code::RepeatedStart,
                        "session_id",
                        "second LOGIN for one session_id",
                    );
                    ctx.reject(line, reject, ev.raw_masked);
                }
                None if !ev.session_id.is_empty() && ended.contains(&done) => {
                    let reject = Reject::new(
                        Code::RepeatedStart,
                        "session_id",
                        "second LOGIN for one session_id",
                    );
                    ctx.reject(line, reject, ev.raw_masked);
                }
                None => {
                    open.insert(key, ev);
                }
            }
            return true;
        }
        // An end row: its own session, else (FORCE_LOGOUT) the open session of the user
        // it names on its client.
        let start_key = if open.contains_key(&key) {
            Some(key.clone())
        } else if ev.act == Act::ForceLogout {
            open.iter()
                .filter(|(_, s)| {
                    s.station == ev.station && !ev.ended_user.is_empty() && s.user == ev.ended_user
                })
                .min_by_key(|(_, s)| s.time_us)
                .map(|(k, _)| k.clone())
        } else {
            None
        };
        match start_key {
            Some(k) => {
                let start = open.remove(&k).expect("present");
                ended.insert(record_hash("libki", &[&k]));
                session(ctx, start, ev);
            }
            None if ended.contains(&done) => ctx.tally.exclude(Code::AlreadyEnded, ""),
            None => orphans.push(ev),
        }
        true
    })?;
    let mut left: Vec<Event> = open.into_values().collect();
    left.sort_by_key(|e| e.line);
    for start in left {
        let reject = Reject::new(
            Code::Unpaired,
            "session_id",
            "LOGIN with no LOGOUT, FORCE_LOGOUT or SESSION_DELETED in this file",
        );
        ctx.reject(start.line, reject, start.raw_masked);
    }
    orphans.sort_by_key(|e| e.line);
    for end in orphans {
        let reject = Reject::new(
            Code::Unpaired,
            "session_id",
            "end row with no LOGIN in this file",
        );
        ctx.reject(end.line, reject, end.raw_masked);
    }
    ctx.send();
    Ok(())
}

/// A start and its end row: a session, or both rows quarantined with the reason.
fn session(ctx: &mut Ctx<'_>, start: Event, end: Event) {
    let problem = if end.time_us - start.time_us > MAX_SESSION_US {
        Some((Code::TooLong, TOO_LONG))
    } else if end.time_us < start.time_us {
        Some((Code::BadOrder, "session ends before it starts"))
    } else {
        None
    };
    if let Some((code, what)) = problem {
        let reject = Reject::new(
            code,
            "created_on",
            format!("{what} (end row on line {})", end.line),
        );
        ctx.reject(start.line, reject, start.raw_masked);
        let reject = Reject::new(
            code,
            "created_on",
            format!("{what} (LOGIN on line {})", start.line),
        );
        ctx.reject(end.line, reject, end.raw_masked);
        return;
    }
    let user_type = if start.act == Act::Unlock {
        // Staff unlocked the client for a guest: the row's user is the staff member.
        UserType::Guest
    } else if start.staff {
        UserType::Staff
    } else if start.user.is_empty() {
        UserType::Unknown
    } else if is_guest(&start.user, ctx) {
        UserType::Guest
    } else {
        UserType::Patron
    };
    let patron_key = matches!(user_type, UserType::Patron | UserType::Staff)
        .then(|| ctx.key_of(&start.user));
    let site = start.site.clone().unwrap_or_default();
    let row = session_row(
        &site,
        &start.station,
        start.time_us,
        end.time_us,
        user_type.as_str(),
        patron_key,
    );
    if start.session_id.is_empty() {
        // No session id in the export: the session's content, with multiplicity.
        ctx.emit_row(Identity::Content, &row, 2);
    } else if start.act == Act::Unlock {
        // One staff web session can unlock several clients: the client is part of the key.
        let parts = [
            start.instance.as_str(),
            start.session_id.as_str(),
            start.station.as_str(),
        ];
        ctx.emit_row(Identity::RecordOf(&parts), &row, 2);
    } else {
        // session_id is Libki's key for a session (per instance on multi-tenant servers).
        let parts = [start.instance.as_str(), start.session_id.as_str()];
        ctx.emit_row(Identity::RecordOf(&parts), &row, 2);
    }
}

/// One record: `None` when excluded by rule, else the event (line and text filled in
/// by the caller).
fn event(
    rec: &csv::ByteRecord,
    cols: &Columns,
    ctx: &mut Ctx<'_>,
) -> Result<Option<Event>, Reject> {
    cols.check_width(rec)?;
    let get = |i: usize| cols.text(rec, i);
    let action = get(ACTION)?;
    let Some(act) = act(action) else {
        ctx.tally
            .exclude(Code::NotSessionEvent, &action.to_ascii_uppercase());
        return Ok(None);
    };
    let starts = matches!(act, Act::Login | Act::Unlock);
    let when = get(CREATED_ON)?;
    let Some(local) = parse_local(when) else {
        return Err(Reject::new(
            Code::BadTime,
            cols.name(CREATED_ON),
            "unreadable date-time: expected YYYY-MM-DD HH:MM:SS",
        )
        .got(when));
    };
    // A start needs its site (end rows take their start's: SESSION_DELETED has none).
    let raw = match ctx.site_value(rec) {
        "" => None,
        l => Some(l.to_string()),
    };
    if starts && raw.is_none() {
        return Err(ctx.missing_site());
    }
    // Local times are read in the row's site's zone, else the library's.
    let (site, tz) = match &raw {
        Some(raw) => {
            let (code, tz) = ctx.site(raw);
            (Some(code.to_string()), tz)
        }
        None => (None, ctx.library_tz()),
    };
    let time_us = local_to_utc_us(local, tz).map_err(|reason| {
        Reject::new(Code::DstGap, cols.name(CREATED_ON), format!("{reason} in {tz}")).got(when)
    })?;
    let info = get(INFO)?;
    let staff = act == Act::Login && !info.is_empty() && staff_category(info);
    let ended_user = if act == Act::ForceLogout && !info.is_empty() {
        info_username(info)
    } else {
        String::new()
    };
    Ok(Some(Event {
        act,
        line: 0,
        time_us,
        site,
        station: get(CLIENT_NAME)?.to_string(),
        user: get(USERNAME)?.to_string(),
        ended_user,
        staff,
        instance: get(INSTANCE)?.to_string(),
        session_id: get(SESSION_ID)?.to_string(),
        raw_masked: String::new(),
    }))
}

/// The patron a FORCE_LOGOUT's info names.
fn info_username(info: &str) -> String {
    serde_json::from_str::<serde_json::Value>(info)
        .ok()
        .and_then(|v| v.get("username").and_then(|u| u.as_str().map(str::to_string)))
        .unwrap_or_default()
}
