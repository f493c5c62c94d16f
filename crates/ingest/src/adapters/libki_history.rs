//! Libki's History page as CSV (`Username, Client, Action, Timestamp, Info`, Timestamp
//! `%m/%d/%Y %I:%M %p`). There is no session id: a LOGIN is paired with the next end row
//! of the same user on the same client, in time order. The page is one Libki instance:
//! `--site` names the site.

use std::collections::HashMap;

use tally_model::{Table, UserType};

use crate::IngestError;
use crate::adapters::libki_actions::session_action;
use crate::adapters::shared::is_guest;
use crate::adapters::{Ctx, Input, MAX_SESSION_US, TOO_LONG, session_row};
use crate::format::{Detect, FormatSpec, SitePolicy};
use crate::identity::Identity;
use crate::reason::{Code, Reject};
use crate::rows::mask_record;
use crate::time::{local_to_utc_us, parse_local};

pub static SPEC: FormatSpec = FormatSpec {
    name: "libki-history",
    table: Table::Sessions,
    detect: Detect::Header(|h| {
        h.has("Username") && h.has("Client") && h.has("Action") && h.has("Timestamp")
    }),
    detected_by: "header has Username, Client, Action and Timestamp",
    required: &["Username", "Client", "Action", "Timestamp"],
    optional: &["Info"],
    safe: &["Client", "Action", "Timestamp"],
    site_columns: &[],
    site: SitePolicy::File("the History page does not say which site it is"),
    preamble: &[],
    lookalikes: &[],
    identifiers: true,
    identity: "none in the export: the session's content (site, client, start, end, user), with multiplicity",
    options: &["--site CODE", "--tz"],
    settings: &[],
    notes: "no session id: a LOGIN pairs with the next end row of the same user on the same client; \
            Timestamp MM/DD/YYYY HH:MM AM; --site names the site",
    read,
};

/// One LOGIN or end row: time, whether a LOGIN, its line, user, client, masked text.
struct Row {
    time: i64,
    login: bool,
    line: u64,
    user: String,
    client: String,
    raw: String,
}

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let csv = input.csv()?;
    let cols = csv.columns(SPEC.name, SPEC.required, SPEC.optional, &[])?;
    let (site, tz) = ctx.file_site();
    let delimiter = csv.delimiter;
    let safe = csv.safe_mask(SPEC.safe);
    let mut rows: Vec<Row> = Vec::new();
    csv.for_each_record(|line, rec| {
        ctx.tally.rows_read += 1;
        let raw = || mask_record(rec, delimiter, &safe);
        let parsed = (|| -> Result<Option<(i64, bool)>, Reject> {
            cols.check_width(rec)?;
            let get = |i: usize| cols.text(rec, i);
            let Some(is_login) = session_action(get(2)?, ctx) else {
                return Ok(None);
            };
            let when = get(3)?;
            let local = parse_local(when).ok_or_else(|| {
                Reject::new(
                    Code::BadTime,
                    "Timestamp",
                    "unreadable date-time: expected MM/DD/YYYY HH:MM AM",
                )
                .got(when)
            })?;
            let t = local_to_utc_us(local, tz).map_err(|r| {
                Reject::new(Code::DstGap, "Timestamp", format!("{r} in {tz}")).got(when)
            })?;
            Ok(Some((t, is_login)))
        })();
        match parsed {
            Ok(Some((time, login))) => rows.push(Row {
                time,
                login,
                line,
                user: cols.text(rec, 0).unwrap_or("").to_string(),
                client: cols.text(rec, 1).unwrap_or("").to_string(),
                raw: raw(),
            }),
            Ok(None) => {}
            Err(reject) => ctx.reject(line, reject, raw()),
        }
        true
    })?;
    rows.sort_by_key(|r| (r.time, !r.login, r.line));
    let mut open: HashMap<(String, String), Row> = HashMap::new();
    for row in rows {
        let key = (row.user.clone(), row.client.clone());
        if row.login {
            let line = row.line;
            if let Some(old) = open.insert(key, row) {
                let reject = Reject::new(
                    Code::Unpaired,
                    "Action",
                    format!("LOGIN with no end before the next LOGIN (line {line})"),
                );
                ctx.reject(old.line, reject, old.raw);
            }
        } else if let Some(login) = open.remove(&key) {
            if row.time - login.time > MAX_SESSION_US {
                let reject = Reject::new(
                    Code::TooLong,
                    "Timestamp",
                    format!("{TOO_LONG} (end row on line {})", row.line),
                );
                ctx.reject(login.line, reject, login.raw);
                let reject = Reject::new(
                    Code::TooLong,
                    "Timestamp",
                    format!("{TOO_LONG} (LOGIN on line {})", login.line),
                );
                ctx.reject(row.line, reject, row.raw);
                continue;
            }
            let user_type = if is_guest(&login.user, ctx) {
                UserType::Guest
            } else {
                UserType::Patron
            };
            let patron_key = (user_type == UserType::Patron && !login.user.is_empty())
                .then(|| ctx.key_of(&login.user));
            // The History page has no session id: the session's content, with multiplicity.
            ctx.emit_row(
                Identity::Content,
                &session_row(
                    &site,
                    &login.client,
                    login.time,
                    row.time,
                    user_type.as_str(),
                    patron_key,
                ),
                2,
            );
        } else {
            let reject = Reject::new(
                Code::Unpaired,
                "Action",
                "end row with no LOGIN before it",
            );
            ctx.reject(row.line, reject, row.raw);
        }
    }
    let mut left: Vec<Row> = open.into_values().collect();
    left.sort_by_key(|r| r.line);
    for login in left {
        let reject = Reject::new(Code::Unpaired, "Action", "LOGIN with no end in this file");
        ctx.reject(login.line, reject, login.raw);
    }
    ctx.send();
    Ok(())
}
