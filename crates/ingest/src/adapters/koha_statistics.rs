//! Koha's `statistics` table, exported by a saved SQL report as CSV. `type` says what
//! happened: issue, renew, return, localuse and onsite_checkout are circulation; recall,
//! item_found, item_lost, writeoff, payment and anything else are excluded by rule.

use tally_model::Table;

use crate::IngestError;
use crate::adapters::{Ctx, Input, each_record};
use crate::format::{Detect, FormatSpec, SitePolicy};
use crate::identity::Identity;
use crate::reader::Columns;
use crate::reason::{Code, Reject};
use crate::rows::Cell;
use crate::time::{local_to_utc_us, parse_local};

pub static SPEC: FormatSpec = FormatSpec {
    name: "koha-statistics",
    table: Table::Circulation,
    detect: Detect::Header(|h| {
        h.has("datetime") && h.has("branch") && h.has("type") && h.has("itemnumber")
    }),
    detected_by: "header has datetime, branch, type and itemnumber",
    required: &["datetime", "branch", "type"],
    optional: &[
        "value",
        "other",
        "itemnumber",
        "itemtype",
        "location",
        "borrowernumber",
        "ccode",
        "categorycode",
        "interface",
    ],
    safe: &[
        "datetime",
        "branch",
        "value",
        "type",
        "itemtype",
        "location",
        "ccode",
        "categorycode",
        "interface",
    ],
    site_columns: &["branch"],
    site: SitePolicy::Column { required: true },
    preamble: &[],
    lookalikes: &[],
    identifiers: true,
    identity: "none in the table: the row's content, with multiplicity (a row repeated is as many events)",
    options: &["--tz"],
    settings: &[],
    notes: "type issue/onsite_checkout = checkout, renew = renewal, return = checkin, localuse = in_house_use; \
            recall, item_found, item_lost, writeoff, payment and others excluded by rule; server local time; \
            a renewal with interface \"cron\" is automatic",
    read,
};

const DATETIME: usize = 0;
const TYPE: usize = 2;
const ITEMNUMBER: usize = 5;
const ITEMTYPE: usize = 6;
const LOCATION: usize = 7;
const BORROWER: usize = 8;
const CCODE: usize = 9;
const CATEGORY: usize = 10;
const INTERFACE: usize = 11;

fn event_of(kind: &str) -> Option<&'static str> {
    let is = |k: &str| kind.eq_ignore_ascii_case(k);
    if is("issue") || is("onsite_checkout") {
        Some("checkout")
    } else if is("renew") {
        Some("renewal")
    } else if is("return") {
        Some("checkin")
    } else if is("localuse") {
        Some("in_house_use")
    } else {
        None
    }
}

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    each_record(input, ctx, row)
}

/// SQL exports write a missing value as NULL.
fn present(s: &str) -> Option<&str> {
    (!s.is_empty() && s != "NULL").then_some(s)
}

fn row(rec: &csv::ByteRecord, cols: &Columns, ctx: &mut Ctx<'_>) -> Result<(), Reject> {
    let get = |i: usize| cols.text(rec, i);
    let kind = get(TYPE)?;
    let Some(event) = event_of(kind) else {
        ctx.tally
            .exclude(Code::NotCirculation, &kind.to_ascii_lowercase());
        return Ok(());
    };
    let when = get(DATETIME)?;
    let local = parse_local(when).ok_or_else(|| {
        Reject::new(
            Code::BadTime,
            "datetime",
            "unreadable date-time: expected YYYY-MM-DD HH:MM:SS",
        )
        .got(when)
    })?;
    let branch = ctx.site_value(rec);
    if branch.is_empty() {
        return Err(ctx.missing_site());
    }
    let (site, tz) = ctx.site(branch);
    let time = local_to_utc_us(local, tz).map_err(|reason| {
        Reject::new(Code::DstGap, "datetime", format!("{reason} in {tz}")).got(when)
    })?;
    let patron_key = present(get(BORROWER)?).map(|b| ctx.key_of(b));
    let item_key = present(get(ITEMNUMBER)?).map(|i| ctx.key_of(i));
    fn text(s: &str) -> Cell<'_> {
        present(s).map_or(Cell::Null, Cell::Str)
    }
    // Koha records the system's own renewals with the interface "cron".
    let automatic = (event == "renewal").then(|| get(INTERFACE).is_ok_and(|i| i == "cron"));
    // The statistics table has no key: a row repeated is as many events.
    ctx.emit_row(
        Identity::Content,
        &[
            Cell::Time(time),
            Cell::Str(site),
            Cell::Str(event),
            text(get(ITEMTYPE)?),
            text(get(CCODE)?),
            text(get(LOCATION)?),
            text(get(CATEGORY)?),
            Cell::key(patron_key),
            Cell::key(item_key),
            Cell::bool(automatic),
        ],
        1,
    );
    Ok(())
}
