//! Koha's `statistics` table, exported by a saved SQL report as CSV. `type` says what
//! happened: issue, renew, return, localuse and onsite_checkout are circulation; recall,
//! item_found, item_lost, writeoff, payment and anything else are excluded by rule.

use crate::IngestError;
use crate::adapters::{Ctx, each_record};
use crate::identity::Identity;
use crate::reader::{Columns, CsvInput, Reject};
use crate::rows::Value;
use crate::time::{local_to_utc_us, parse_local};

pub const REQUIRED: &[&str] = &["datetime", "branch", "type"];
pub const OPTIONAL: &[&str] = &[
    "value",
    "other",
    "itemnumber",
    "itemtype",
    "location",
    "borrowernumber",
    "ccode",
    "categorycode",
    "interface",
];

const DATETIME: usize = 0;
const BRANCH: usize = 1;
const TYPE: usize = 2;
const ITEMNUMBER: usize = 5;
const ITEMTYPE: usize = 6;
const LOCATION: usize = 7;
const BORROWER: usize = 8;
const CCODE: usize = 9;
const CATEGORY: usize = 10;
const INTERFACE: usize = 11;

fn event_of(kind: &str) -> Option<&'static str> {
    match kind {
        "issue" | "onsite_checkout" => Some("checkout"),
        "renew" => Some("renewal"),
        "return" => Some("checkin"),
        "localuse" => Some("in_house_use"),
        _ => None,
    }
}

pub fn read(input: &mut CsvInput, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    each_record(
        input,
        ctx,
        "koha-statistics",
        (REQUIRED, OPTIONAL),
        &[BORROWER],
        row,
    )
}

fn row(rec: &csv::ByteRecord, cols: &Columns, ctx: &mut Ctx<'_>) -> Result<(), Reject> {
    let get = |i: usize| cols.text(rec, i);
    let kind = get(TYPE)?.to_ascii_lowercase();
    let Some(event) = event_of(&kind) else {
        ctx.tally
            .exclude(&format!("koha type {kind} (not circulation)"));
        return Ok(());
    };
    let when = get(DATETIME)?;
    let local = parse_local(when).ok_or_else(|| {
        (
            "datetime",
            format!("unreadable date-time: expected YYYY-MM-DD HH:MM:SS, got \"{when}\""),
        )
    })?;
    let branch = get(BRANCH)?;
    if branch.is_empty() {
        return Err(("branch", "branch is empty: expected a branch code".into()));
    }
    let (site, tz) = ctx.site(branch);
    let time = local_to_utc_us(local, tz)
        .map_err(|reason| ("datetime", format!("{reason}: \"{when}\" in {tz}")))?;
    let borrower = get(BORROWER)?;
    let patron_key =
        (!borrower.is_empty() && borrower != "NULL").then(|| ctx.pseudo.key_of(borrower));
    let item = get(ITEMNUMBER)?;
    let item_key = (!item.is_empty() && item != "NULL").then(|| ctx.pseudo.key_of(item));
    let text = |s: &str| {
        if s == "NULL" {
            Value::Null
        } else {
            Value::text(s)
        }
    };
    // The statistics table has no key: a row repeated is as many events.
    ctx.emit_row(
        Identity::Content,
        vec![
            Value::Time(time),
            Value::Str(site),
            Value::Static(event),
            text(get(ITEMTYPE)?),
            text(get(CCODE)?),
            text(get(LOCATION)?),
            text(get(CATEGORY)?),
            Value::key(patron_key),
            Value::key(item_key),
            // Koha records the system's own renewals with the interface "cron".
            if event == "renewal" {
                Value::Bool(get(INTERFACE)? == "cron")
            } else {
                Value::Null
            },
        ],
        1,
    );
    Ok(())
}
