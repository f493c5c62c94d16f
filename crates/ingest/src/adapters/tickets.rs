//! What the help-desk formats share (osTicket, Request Tracker, GLPI, Jira): each lists
//! its header names in the canonical order below, and the vendors' words for status and
//! priority map to the canonical ones here.

use chrono_tz::Tz;

use crate::IngestError;
use crate::adapters::{Ctx, Input, each_record_in_order};
use crate::identity::Identity;
use crate::reader::Columns;
use crate::reason::{Code, Reject};
use crate::rows::Cell;
use crate::time::{local_to_utc_us, looks_day_first, parse_local, parse_local_dmy};

// Canonical fields, in the order of each format's required then optional columns:
// required id, opened, status, priority; optional resolved, category, asset, assignee.
// The site comes from the format's site columns.
const ID: usize = 0;
const OPENED: usize = 1;
const STATUS: usize = 2;
const PRIORITY: usize = 3;
const RESOLVED: usize = 4;
const CATEGORY: usize = 5;
const ASSET: usize = 6;
const ASSIGNEE: usize = 7;

/// What `tally formats` says of every help-desk format.
pub const NOTES: &str = "local times (--tz, else the library's zone), day-first dates recognised per file; \
    statuses and priorities mapped from the vendor's words (RT's 0-100 numbers too); the latest export of a \
    ticket wins when read";

/// The vendors' status words.
pub fn status_of(s: &str) -> Option<&'static str> {
    match s.trim().to_ascii_lowercase().as_str() {
        "open" | "new" | "reopened" | "to do" | "incoming" | "new (incoming)" | "nouveau"
        | "ouvert" | "neu" | "offen" => Some("open"),
        "en cours (attribué)" | "en cours (planifié)" | "en cours" | "in bearbeitung" => {
            Some("in_progress")
        }
        "en attente" | "wartend" => Some("waiting"),
        "résolu" | "gelöst" => Some("resolved"),
        "clos" | "fermé" | "geschlossen" => Some("closed"),
        "annulé" | "abgebrochen" => Some("cancelled"),
        "in progress"
        | "assigned"
        | "processing (assigned)"
        | "processing (planned)"
        | "planned"
        | "work in progress" => Some("in_progress"),
        "waiting"
        | "pending"
        | "stalled"
        | "on hold"
        | "waiting for customer"
        | "waiting for support" => Some("waiting"),
        "resolved" | "solved" | "done" | "answered" => Some("resolved"),
        "closed" | "archived" => Some("closed"),
        "cancelled" | "canceled" | "rejected" | "deleted" | "won't do" | "declined" => {
            Some("cancelled")
        }
        _ => None,
    }
}

/// The vendors' priority words (and RT's numbers, read as RT names them: below 50 Low,
/// 50 to 99 Medium, 100 and over High).
pub fn priority_of(s: &str) -> Option<&'static str> {
    let t = s.trim().to_ascii_lowercase();
    if let Ok(n) = t.parse::<u32>() {
        return Some(match n {
            0..=49 => "low",
            50..=99 => "normal",
            _ => "high",
        });
    }
    match t.as_str() {
        "low" | "very low" | "lowest" | "minor" | "trivial" | "très basse" | "basse"
        | "niedrig" | "sehr niedrig" => Some("low"),
        "normal" | "medium" | "moderate" | "moyenne" | "mittel" => Some("normal"),
        "high" | "very high" | "higher" | "major" | "haute" | "très haute" | "hoch"
        | "sehr hoch" => Some("high"),
        "majeure" => Some("urgent"),
        "urgent" | "emergency" | "critical" | "highest" | "blocker" => Some("urgent"),
        _ => None,
    }
}

/// RT's default search format exports dates as "3 hours ago": useless as data.
fn is_relative(s: &str) -> bool {
    let t = s.trim().to_ascii_lowercase();
    t.ends_with(" ago") || t == "just now"
}

/// A date cell with no date: empty, or RT's "Not set" for a ticket not resolved yet.
fn no_date(s: &str) -> bool {
    s.is_empty() || s.eq_ignore_ascii_case("not set")
}

/// Reads a help-desk export whose spec lists its columns in the canonical order. `on_relative`
/// is the message a file fails with when its dates are relative ("3 hours ago"), for the
/// vendors whose default export writes them.
pub fn read(
    input: &mut Input<'_>,
    ctx: &mut Ctx<'_>,
    on_relative: Option<&str>,
) -> Result<(), IngestError> {
    let path = input.source.path.clone();
    let mut day_first = None;
    let mut relative_seen = false;
    let tz = ctx.library_tz();
    // In order, on one thread: the first record decides whether dates are day-first.
    each_record_in_order(input, ctx, |rec, cols, ctx| {
        let first = *day_first.get_or_insert_with(|| {
            looks_day_first([
                cols.text(rec, OPENED).unwrap_or(""),
                cols.text(rec, RESOLVED).unwrap_or(""),
            ])
        });
        let result = ticket(rec, cols, ctx, tz, first);
        if matches!(&result, Err(r) if r.code == Code::RelativeTime) {
            relative_seen = true;
        }
        result
    })?;
    if let (true, Some(message)) = (relative_seen, on_relative) {
        return Err(IngestError::Malformed {
            path,
            line: 2,
            message: message.into(),
        });
    }
    Ok(())
}

/// A cell as a spreadsheet-minded exporter wrote it: osTicket 1.10 puts `'` before a
/// value starting with `=`, `-`, `+` or `@` (a formula guard), osTicket 1.11+ may write
/// `&amp;` for `&`.
fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    let s = match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '-', '+', '@']) => rest,
        _ => s,
    };
    if s.contains('&') {
        std::borrow::Cow::Owned(
            s.replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#039;", "'")
                .replace("&#39;", "'"),
        )
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

fn ticket(
    rec: &csv::ByteRecord,
    cols: &Columns,
    ctx: &mut Ctx<'_>,
    tz: Tz,
    day_first: bool,
) -> Result<(), Reject> {
    let get = |i: usize| cols.text(rec, i);
    let parse = |s: &str| {
        if day_first {
            parse_local_dmy(s)
        } else {
            parse_local(s)
        }
    };
    let id_text = get(ID)?;
    // GLPI writes large ids with a thousands separator (`5 732 943`).
    let id_joined;
    let id = if id_text.contains([' ', '\u{a0}', '\u{202f}'])
        && id_text
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace())
    {
        id_joined = id_text
            .chars()
            .filter(char::is_ascii_digit)
            .collect::<String>();
        id_joined.as_str()
    } else {
        id_text
    };
    if id.is_empty() {
        return Err(Reject::new(
            Code::MissingValue,
            cols.name(ID),
            "ticket id is empty",
        ));
    }
    let when = |i: usize| -> Result<Option<i64>, Reject> {
        let s = get(i)?;
        if no_date(s) {
            return Ok(None);
        }
        let column = cols.name(i);
        if is_relative(s) {
            return Err(Reject::new(
                Code::RelativeTime,
                column,
                "relative date: export dates, not ages",
            )
            .got(s));
        }
        let local = parse(s)
            .ok_or_else(|| Reject::new(Code::BadTime, column, "unreadable date-time").got(s))?;
        local_to_utc_us(local, tz)
            .map(Some)
            .map_err(|r| Reject::new(Code::DstGap, column, format!("{r} in {tz}")).got(s))
    };
    let opened = when(OPENED)?.ok_or_else(|| {
        Reject::new(
            Code::MissingValue,
            cols.name(OPENED),
            "opened is empty: expected the date the ticket was created",
        )
    })?;
    let resolved = when(RESOLVED)?;
    if let Some(r) = resolved
        && r < opened
    {
        return Err(Reject::new(
            Code::BadOrder,
            cols.name(RESOLVED),
            "resolved before it was opened",
        ));
    }
    let status_text = get(STATUS)?;
    let status = status_of(status_text).ok_or_else(|| {
        Reject::new(
            Code::UnknownValue,
            cols.name(STATUS),
            "unknown status: expected open, in progress, waiting, resolved, closed or cancelled (or the vendor's words for them)",
        )
        .got(status_text)
    })?;
    let priority_text = get(PRIORITY)?;
    let priority = priority_of(priority_text).ok_or_else(|| {
        Reject::new(
            Code::UnknownValue,
            cols.name(PRIORITY),
            "unknown priority: expected low, normal, high or urgent",
        )
        .got(priority_text)
    })?;
    let site_raw = clean(ctx.site_value(rec));
    let site = match site_raw.as_ref() {
        "" => Cell::Null,
        s => Cell::Str(ctx.site(s).0),
    };
    let (category, asset, assignee) = (
        clean(get(CATEGORY)?),
        clean(get(ASSET)?),
        clean(get(ASSIGNEE)?),
    );
    ctx.emit_row(
        Identity::State(id),
        &[
            Cell::text(id),
            Cell::Time(opened),
            Cell::time(resolved),
            Cell::Str(status),
            Cell::Str(priority),
            Cell::text(&category),
            site,
            Cell::text(&asset),
            Cell::text(&assignee),
        ],
        1,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_words() {
        assert_eq!(status_of("Processing (assigned)"), Some("in_progress"));
        assert_eq!(status_of("Solved"), Some("resolved"));
        assert_eq!(status_of("stalled"), Some("waiting"));
        assert_eq!(status_of("sideways"), None);
        assert_eq!(status_of("En cours (Attribué)"), Some("in_progress"));
        assert_eq!(priority_of("Très haute"), Some("high"));
        assert_eq!(priority_of("Very high"), Some("high"));
        assert_eq!(priority_of("80"), Some("normal"));
        assert_eq!(priority_of("100"), Some("high"));
        assert_eq!(priority_of("0"), Some("low"));
        assert!(no_date("Not set") && !is_relative("Not set"));
        assert_eq!(priority_of("Medium"), Some("normal"));
        assert!(is_relative("3 hours ago"));
    }
}
