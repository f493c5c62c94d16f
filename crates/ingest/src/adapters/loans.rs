//! Loan tables, one row per loan, which become checkout, renewal and checkin events:
//! Koha's `old_issues` / `issues` and Evergreen's `action.circulation`.

use crate::IngestError;
use crate::adapters::{Ctx, circulation_row, each_record};
use crate::identity::Identity;
use crate::reader::{Columns, CsvInput, Reject};
use crate::rows::Value;
use crate::time::{local_to_utc_us, parse_local};

pub const KOHA_REQUIRED: &[&str] = &[
    "issue_id",
    "borrowernumber",
    "itemnumber",
    "branchcode",
    "issuedate",
];
pub const KOHA_OPTIONAL: &[&str] = &[
    "returndate",
    "lastreneweddate",
    "renewals_count",
    "renewals",
    "auto_renew",
    "onsite_checkout",
    "date_due",
    "timestamp",
];
pub const EVERGREEN_REQUIRED: &[&str] = &["id", "usr", "xact_start", "target_copy", "circ_lib"];
pub const EVERGREEN_OPTIONAL: &[&str] = &[
    "checkin_time",
    "checkin_lib",
    "phone_renewal",
    "desk_renewal",
    "opac_renewal",
    "auto_renewal",
    "xact_finish",
    "due_date",
];

fn event_row(
    ctx: &mut Ctx<'_>,
    time: i64,
    site: &str,
    event: &'static str,
    patron: Option<&str>,
    item: &str,
    automatic: Option<bool>,
) -> Vec<Value> {
    let patron_key = patron
        .filter(|p| !p.is_empty() && *p != "NULL")
        .map(|p| ctx.pseudo.key_of(p));
    let item_key = (!item.is_empty() && item != "NULL").then(|| ctx.pseudo.key_of(item));
    circulation_row(
        time,
        site.to_string(),
        event,
        patron_key,
        item_key,
        automatic,
    )
}

/// Koha: a checkout at issuedate, `renewals_count` renewals, a checkin at returndate.
/// old_issues keeps only the last renewal's date, so every renewal of a loan is dated
/// then (noted); the count is exact.
pub fn read_koha(input: &mut CsvInput, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    each_record(
        input,
        ctx,
        "koha-old-issues",
        (KOHA_REQUIRED, KOHA_OPTIONAL),
        &[1],
        |rec, cols: &Columns, ctx| {
            let get = |i: usize| cols.text(rec, i);
            let branch = get(3)?;
            if branch.is_empty() || branch == "NULL" {
                return Err(("branchcode", "branchcode is empty".into()));
            }
            let (site, tz) = ctx.site(branch);
            let when = |i: usize, column: &'static str| -> Result<Option<i64>, Reject> {
                let s = get(i)?;
                if s.is_empty() || s == "NULL" {
                    return Ok(None);
                }
                let local =
                    parse_local(s).ok_or((column, format!("unreadable date-time: got \"{s}\"")))?;
                local_to_utc_us(local, tz)
                    .map(Some)
                    .map_err(|r| (column, format!("{r}: \"{s}\" in {tz}")))
            };
            let issued =
                when(4, "issuedate")?.ok_or(("issuedate", "issuedate is empty".to_string()))?;
            let returned = when(5, "returndate")?;
            let renewed = when(6, "lastreneweddate")?;
            let count_text = match get(7)? {
                "" => get(8)?,
                c => c,
            };
            let renewals: u32 = match count_text {
                "" | "NULL" => 0,
                c => c.parse().map_err(|_| {
                    (
                        "renewals_count",
                        format!("renewals not a whole number: got \"{c}\""),
                    )
                })?,
            };
            if returned.is_some_and(|r| r < issued) {
                return Err(("returndate", "returned before it was issued".into()));
            }
            let (borrower, item) = (get(1)?, get(2)?);
            let auto = get(9)?;
            let automatic = (!auto.is_empty() && auto != "NULL").then(|| flag(auto));
            let mut rows = vec![event_row(
                ctx,
                issued,
                &site,
                "checkout",
                Some(borrower),
                item,
                None,
            )];
            if renewals > 0 {
                let at = renewed.unwrap_or(issued);
                if renewals > 1 {
                    ctx.tally.note("koha renewals before the last are dated at the last renewal (old_issues keeps one date)");
                }
                for _ in 0..renewals {
                    rows.push(event_row(
                        ctx,
                        at,
                        &site,
                        "renewal",
                        Some(borrower),
                        item,
                        automatic,
                    ));
                }
            }
            if let Some(r) = returned {
                rows.push(event_row(ctx, r, &site, "checkin", None, item, None));
            }
            let id = get(0)?;
            ctx.emit(
                if id.is_empty() {
                    Identity::Content
                } else {
                    Identity::Record(id)
                },
                rows,
                1,
            );
            Ok(())
        },
    )
}

fn flag(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "t" | "true" | "1" | "y" | "yes"
    )
}

/// Evergreen: timestamps carry their offset. A circulation with a renewal flag is a
/// renewal at xact_start (its parent is the earlier loan); otherwise a checkout. A
/// checkin_time is a checkin at checkin_lib (else circ_lib).
pub fn read_evergreen(input: &mut CsvInput, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    each_record(
        input,
        ctx,
        "evergreen-circ",
        (EVERGREEN_REQUIRED, EVERGREEN_OPTIONAL),
        &[1],
        |rec, cols: &Columns, ctx| {
            let get = |i: usize| cols.text(rec, i);
            let instant = |i: usize, column: &'static str| -> Result<Option<i64>, Reject> {
                let s = get(i)?;
                if s.is_empty() {
                    return Ok(None);
                }
                ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"]
                    .iter()
                    .find_map(|f| chrono::DateTime::parse_from_str(s, f).ok())
                    .map(|t| Some(t.timestamp_micros()))
                    .ok_or((
                        column,
                        format!("unreadable timestamp with offset: got \"{s}\""),
                    ))
            };
            let start = instant(2, "xact_start")?
                .ok_or(("xact_start", "xact_start is empty".to_string()))?;
            let lib = get(4)?;
            if lib.is_empty() {
                return Err(("circ_lib", "circ_lib is empty".into()));
            }
            let site = ctx.site(lib).0;
            let renewal = [7, 8, 9, 10]
                .iter()
                .any(|&i| get(i).map(flag).unwrap_or(false));
            let (user, item) = (get(1)?, get(3)?);
            let automatic = renewal.then(|| get(10).map(flag).unwrap_or(false));
            let mut rows = vec![event_row(
                ctx,
                start,
                &site,
                if renewal { "renewal" } else { "checkout" },
                Some(user),
                item,
                automatic,
            )];
            if let Some(t) = instant(5, "checkin_time")? {
                if t < start {
                    return Err((
                        "checkin_time",
                        "checked in before the circulation started".into(),
                    ));
                }
                let at = match get(6)? {
                    "" => site.clone(),
                    l => ctx.site(l).0,
                };
                rows.push(event_row(ctx, t, &at, "checkin", None, item, None));
            }
            let id = get(0)?;
            ctx.emit(
                if id.is_empty() {
                    Identity::Content
                } else {
                    Identity::Record(id)
                },
                rows,
                1,
            );
            Ok(())
        },
    )
}
