//! Help-desk tickets from osTicket, Request Tracker, GLPI and Jira Service Management.
//! One adapter: each vendor is a list of header names per canonical column, and the
//! vendors' words for status and priority map to the canonical ones.

use chrono_tz::Tz;

use crate::IngestError;
use crate::adapters::{Ctx, each_record_in_order};
use crate::identity::Identity;
use crate::reader::{Columns, CsvInput, Reject};
use crate::rows::Value;
use crate::time::{local_to_utc_us, looks_day_first, parse_local, parse_local_dmy};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    OsTicket,
    Rt,
    Glpi,
    Jira,
}

// Canonical fields, in the order of `columns()`.
const ID: usize = 0;
const OPENED: usize = 1;
const STATUS: usize = 2;
const PRIORITY: usize = 3;
const RESOLVED: usize = 4;
const CATEGORY: usize = 5;
const SITE: usize = 6;
const ASSET: usize = 7;
const ASSIGNEE: usize = 8;

impl Vendor {
    pub fn format_name(self) -> &'static str {
        match self {
            Vendor::OsTicket => "osticket",
            Vendor::Rt => "rt",
            Vendor::Glpi => "glpi",
            Vendor::Jira => "jira",
        }
    }

    /// (required, optional) header names, in the canonical order above.
    pub fn columns(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Vendor::OsTicket => (
                &[
                    "Ticket Number",
                    "Date Created",
                    "Current Status",
                    "Priority",
                ],
                &[
                    "Closed Date",
                    "Help Topic",
                    "Location",
                    "Asset Tag",
                    "Agent Assigned",
                ],
            ),
            Vendor::Rt => (
                &["id", "Created", "Status", "Priority"],
                &["Resolved", "Queue", "Location", "Asset", "Owner"],
            ),
            Vendor::Glpi => (
                &["ID", "Opening date", "Status", "Priority"],
                &[
                    "Resolution date",
                    "Category",
                    "Location",
                    "Associated element",
                    "Assigned to - Technician",
                ],
            ),
            Vendor::Jira => (
                &["Issue key", "Created", "Status", "Priority"],
                &[
                    "Resolved",
                    "Custom field (Request Type)",
                    "Custom field (Branch)",
                    "Custom field (Asset Tag)",
                    "Assignee",
                ],
            ),
        }
    }
}

/// The vendors' status words.
pub fn status_of(s: &str) -> Option<&'static str> {
    match s.trim().to_ascii_lowercase().as_str() {
        "open" | "new" | "reopened" | "to do" | "incoming" | "new (incoming)" => Some("open"),
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

/// The vendors' priority words (and RT's numbers, 0-100).
pub fn priority_of(s: &str) -> Option<&'static str> {
    let t = s.trim().to_ascii_lowercase();
    if let Ok(n) = t.parse::<u32>() {
        return Some(match n {
            0..=24 => "low",
            25..=49 => "normal",
            50..=74 => "high",
            _ => "urgent",
        });
    }
    match t.as_str() {
        "low" | "very low" | "lowest" | "minor" | "trivial" => Some("low"),
        "normal" | "medium" | "moderate" => Some("normal"),
        "high" | "very high" | "higher" | "major" => Some("high"),
        "urgent" | "emergency" | "critical" | "highest" | "blocker" => Some("urgent"),
        _ => None,
    }
}

/// RT's default search format exports dates as "3 hours ago": useless as data.
fn is_relative(s: &str) -> bool {
    let t = s.trim().to_ascii_lowercase();
    t.ends_with(" ago") || t == "just now" || t == "not set"
}

pub fn read(input: &mut CsvInput, ctx: &mut Ctx<'_>, vendor: Vendor) -> Result<(), IngestError> {
    let (required, optional) = vendor.columns();
    let path = input.path.to_path_buf();
    let mut day_first = None;
    let mut relative_seen = false;
    let tz = ctx.tz_override.unwrap_or(ctx.sites.library.timezone);
    // In order, on one thread: the first record decides whether dates are day-first.
    let result = each_record_in_order(
        input,
        ctx,
        vendor.format_name(),
        (required, optional),
        &[],
        |rec, cols, ctx| {
            // Decide day-first once, from the first record's dates.
            let first = *day_first.get_or_insert_with(|| {
                looks_day_first([
                    cols.text(rec, OPENED).unwrap_or(""),
                    cols.text(rec, RESOLVED).unwrap_or(""),
                ])
            });
            match ticket(rec, cols, ctx, vendor, tz, first) {
                Err((column, reason)) if reason.starts_with("relative date") => {
                    relative_seen = true;
                    Err((column, reason))
                }
                other => other,
            }
        },
    );
    result?;
    if relative_seen && vendor == Vendor::Rt {
        return Err(IngestError::Malformed {
            path,
            line: 2,
            message: "dates are relative (\"3 hours ago\"): RT's default search format exports them that way. \
                      In RT's query builder, add the Created and Resolved columns as dates (e.g. __Created__ and \
                      __Resolved__ in Advanced), then export the spreadsheet again"
                .into(),
        });
    }
    Ok(())
}

fn ticket(
    rec: &csv::ByteRecord,
    cols: &Columns,
    ctx: &mut Ctx<'_>,
    vendor: Vendor,
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
    let id = get(ID)?;
    if id.is_empty() {
        return Err(("ticket_id", "ticket id is empty".into()));
    }
    let when = |i: usize, column: &'static str| -> Result<Option<i64>, Reject> {
        let s = get(i)?;
        if s.is_empty() {
            return Ok(None);
        }
        if is_relative(s) {
            return Err((
                column,
                format!("relative date \"{s}\": export dates, not ages"),
            ));
        }
        let local =
            parse(s).ok_or_else(|| (column, format!("unreadable date-time: got \"{s}\"")))?;
        local_to_utc_us(local, tz)
            .map(Some)
            .map_err(|r| (column, format!("{r}: \"{s}\" in {tz}")))
    };
    let opened = when(OPENED, "opened")?.ok_or((
        "opened",
        "opened is empty: expected the date the ticket was created".to_string(),
    ))?;
    let resolved = when(RESOLVED, "resolved")?;
    if let Some(r) = resolved
        && r < opened
    {
        return Err(("resolved", "resolved before it was opened".into()));
    }
    let status_text = get(STATUS)?;
    let status = status_of(status_text).ok_or_else(|| {
        ("status", format!("unknown status \"{status_text}\": expected open, in progress, waiting, resolved, closed or cancelled (or the vendor's words for them)"))
    })?;
    let priority_text = get(PRIORITY)?;
    let priority = priority_of(priority_text).ok_or_else(|| {
        (
            "priority",
            format!("unknown priority \"{priority_text}\": expected low, normal, high or urgent"),
        )
    })?;
    let site = match get(SITE)? {
        "" => Value::Null,
        s => Value::Str(ctx.site(s).0),
    };
    let _ = vendor;
    ctx.emit_row(
        Identity::State(id),
        vec![
            Value::text(id),
            Value::Time(opened),
            resolved.map_or(Value::Null, Value::Time),
            Value::Static(status),
            Value::Static(priority),
            Value::text(get(CATEGORY)?),
            site,
            Value::text(get(ASSET)?),
            Value::text(get(ASSIGNEE)?),
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
        assert_eq!(priority_of("Very high"), Some("high"));
        assert_eq!(priority_of("80"), Some("urgent"));
        assert_eq!(priority_of("Medium"), Some("normal"));
        assert!(is_relative("3 hours ago"));
    }
}
