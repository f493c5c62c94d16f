//! Libki `statistics` rows. A session is a LOGIN row and the first LOGOUT, FORCE_LOGOUT
//! or SESSION_DELETED row with the same session_id. Both rows of a paired session count
//! as accepted; a row that cannot be paired is quarantined with the reason.

use std::collections::HashMap;

use tally_model::{Table, UserType};

use crate::IngestError;
use crate::adapters::libki_actions::{is_guest, session_action, staff_category};
use crate::adapters::{Ctx, Input, MAX_SESSION_US, TOO_LONG, session_row};
use crate::format::{Detect, FormatSpec};
use crate::identity::{Identity, KeySet, record_hash};
use crate::reader::Columns;
use crate::reason::{Code, Reject};
use crate::rows::mask_record;
use crate::time::{local_to_utc_us, parse_local};

pub static SPEC: FormatSpec = FormatSpec {
    name: "libki",
    table: Table::Sessions,
    detect: Detect::Header(|h| h.has("action") && h.has("created_on") && h.has("session_id")),
    detected_by: "header has action, created_on and session_id",
    required: &[
        "username",
        "client_name",
        "client_location",
        "action",
        "created_on",
        "session_id",
    ],
    optional: &["instance", "id", "client_type", "anonymized", "info"],
    safe: &[
        "instance",
        "id",
        "client_name",
        "client_location",
        "client_type",
        "action",
        "created_on",
        "anonymized",
        "session_id",
    ],
    site_columns: &["client_location"],
    identifiers: true,
    identity: "session_id (with instance, for multi-tenant servers)",
    options: &["--tz"],
    notes: "LOGIN paired with LOGOUT, FORCE_LOGOUT or SESSION_DELETED on session_id; created_on is local time; \
            usernames starting with \"guest\" (or a guest card prefix) are guest passes; info.user_category \
            \"Staff\" is staff; other actions are excluded by rule and counted",
    read,
};

const USERNAME: usize = 0;
const CLIENT_NAME: usize = 1;
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

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let csv = input.csv()?;
    let cols = csv.columns(SPEC.name, SPEC.required, SPEC.optional, SPEC.site_columns)?;
    ctx.resolve_site_columns(csv)?;
    let delimiter = csv.delimiter;
    let safe = csv.safe_mask(SPEC.safe);
    // Rows are paired as they come: only rows still waiting for their other half are
    // held, and the sessions already ended (as keys), to recognise a late end row.
    let mut logins: HashMap<String, Event> = HashMap::new();
    let mut ends: HashMap<String, Event> = HashMap::new();
    let mut ended = KeySet::default();
    csv.for_each_record(|line, rec| {
        if ctx.failed() {
            return false;
        }
        ctx.tally.rows_read += 1;
        let raw_masked = || mask_record(rec, delimiter, &safe);
        match event(rec, &cols, ctx) {
            Err(reject) => ctx.reject(line, reject, raw_masked()),
            Ok(None) => {}
            Ok(Some((is_login, session_id, ev))) => {
                let ev = Event {
                    line,
                    raw_masked: raw_masked(),
                    ..ev
                };
                let done = record_hash("libki", &[&session_id]);
                if is_login {
                    if logins.contains_key(&session_id) || ended.contains(&done) {
                        let reject = Reject::new(
                            Code::RepeatedStart,
                            "session_id",
                            "second LOGIN for one session_id",
                        );
                        ctx.reject(line, reject, ev.raw_masked);
                    } else if let Some(end) = ends.remove(&session_id) {
                        ended.insert(done);
                        session(ctx, &session_id, ev, end);
                    } else {
                        logins.insert(session_id, ev);
                    }
                } else if ended.contains(&done) || ends.contains_key(&session_id) {
                    ctx.tally.exclude(Code::AlreadyEnded, "");
                } else if let Some(login) = logins.remove(&session_id) {
                    ended.insert(done);
                    session(ctx, &session_id, login, ev);
                } else {
                    ends.insert(session_id, ev);
                }
            }
        }
        true
    })?;
    let mut left: Vec<Event> = logins.into_values().collect();
    left.sort_by_key(|e| e.line);
    for login in left {
        let reject = Reject::new(
            Code::Unpaired,
            "session_id",
            "LOGIN with no LOGOUT, FORCE_LOGOUT or SESSION_DELETED in this file",
        );
        ctx.reject(login.line, reject, login.raw_masked);
    }
    let mut orphans: Vec<Event> = ends.into_values().collect();
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

/// A LOGIN and its end row: a session, or both rows quarantined with the reason.
fn session(ctx: &mut Ctx<'_>, session_id: &str, login: Event, end: Event) {
    let problem = if end.time_us - login.time_us > MAX_SESSION_US {
        Some((Code::TooLong, TOO_LONG))
    } else if end.time_us < login.time_us {
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
        ctx.reject(login.line, reject, login.raw_masked);
        let reject = Reject::new(
            code,
            "created_on",
            format!("{what} (LOGIN on line {})", login.line),
        );
        ctx.reject(end.line, reject, end.raw_masked);
        return;
    }
    let user_type = if login.staff {
        UserType::Staff
    } else if login.user.is_empty() {
        UserType::Unknown
    } else if is_guest(&login.user, ctx) {
        UserType::Guest
    } else {
        UserType::Patron
    };
    let patron_key = matches!(user_type, UserType::Patron | UserType::Staff)
        .then(|| ctx.key_of(&login.user));
    // session_id is Libki's key for a session (per instance, a column of multi-tenant
    // servers).
    let parts = [login.instance.as_str(), session_id];
    ctx.emit_row(
        Identity::RecordOf(&parts),
        &session_row(
            &login.site,
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
        return Err(Reject::new(
            Code::MissingValue,
            "session_id",
            "session_id is empty: rows cannot be paired",
        ));
    }
    let when = get(CREATED_ON)?;
    let Some(local) = parse_local(when) else {
        return Err(Reject::new(
            Code::BadTime,
            "created_on",
            "unreadable date-time: expected YYYY-MM-DD HH:MM:SS",
        )
        .got(when));
    };
    let location = ctx.site_value(rec);
    if location.is_empty() {
        return Err(Reject::new(
            Code::MissingValue,
            "client_location",
            "client_location is empty: expected a site",
        ));
    }
    let (site, tz) = ctx.site(location);
    let site = site.to_string();
    let time_us = local_to_utc_us(local, tz).map_err(|reason| {
        Reject::new(Code::DstGap, "created_on", format!("{reason} in {tz}")).got(when)
    })?;
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
