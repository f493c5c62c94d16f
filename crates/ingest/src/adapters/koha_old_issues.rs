//! Koha's `old_issues` / `issues` loans: a checkout at issuedate, `renewals_count`
//! renewals, a checkin at returndate. old_issues keeps only the last renewal's date, so
//! every renewal of a loan is dated then (noted); the count is exact.

use tally_model::Table;

use crate::IngestError;
use crate::adapters::loans::{event_row, flag, key};
use crate::adapters::{Ctx, Input, each_record};
use crate::format::{Detect, FormatSpec, SitePolicy};
use crate::identity::Identity;
use crate::reader::Columns;
use crate::reason::{Code, Reject};
use crate::time::{local_to_utc_us, parse_local};

pub static SPEC: FormatSpec = FormatSpec {
    name: "koha-old-issues",
    table: Table::Circulation,
    detect: Detect::Header(|h| {
        h.has("issuedate") && h.has("branchcode") && (h.has("issue_id") || h.has("returndate"))
    }),
    detected_by: "header has issuedate and branchcode, with issue_id or returndate",
    required: &["borrowernumber", "itemnumber", "branchcode", "issuedate"],
    optional: &[
        "issue_id",
        "returndate",
        "lastreneweddate",
        "renewals_count|renewals",
        "auto_renew",
        "onsite_checkout",
        "date_due",
        "timestamp",
    ],
    safe: &[
        "issue_id",
        "branchcode",
        "issuedate",
        "returndate",
        "lastreneweddate",
        "renewals_count",
        "renewals",
        "auto_renew",
        "onsite_checkout",
        "date_due",
        "timestamp",
    ],
    site_columns: &["branchcode"],
    site: SitePolicy::Column { required: true },
    preamble: &[],
    lookalikes: &[],
    identifiers: true,
    identity: "issue_id; each event of a loan by its place (checkout, renewals, checkin), so a later export adds the \
               checkin; without issue_id (older Koha), the loan's content",
    options: &["--tz"],
    settings: &[],
    notes: "a checkout at issuedate, renewals_count (older Koha: renewals) renewals, a checkin at returndate; \
            renewals before the last are dated at lastreneweddate (noted); auto_renew marks renewals automatic",
    read,
};

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    each_record(input, ctx, row)
}

fn row(rec: &csv::ByteRecord, cols: &Columns, ctx: &mut Ctx<'_>) -> Result<(), Reject> {
    let get = |i: usize| cols.text(rec, i);
    let branch = ctx.site_value(rec);
    if branch.is_empty() || branch == "NULL" {
        return Err(ctx.missing_site());
    }
    let (site, tz) = ctx.site(branch);
    let when = |i: usize, column: &'static str| -> Result<Option<i64>, Reject> {
        // Koha's own CSV export writes NULL as an empty field; SQL clients as NULL.
        let s = get(i)?;
        if s.is_empty() || s == "NULL" {
            return Ok(None);
        }
        let local = parse_local(s)
            .ok_or_else(|| Reject::new(Code::BadTime, column, "unreadable date-time").got(s))?;
        local_to_utc_us(local, tz)
            .map(Some)
            .map_err(|r| Reject::new(Code::DstGap, column, format!("{r} in {tz}")).got(s))
    };
    let issued = when(3, "issuedate")?
        .ok_or_else(|| Reject::new(Code::MissingValue, "issuedate", "issuedate is empty"))?;
    let returned = when(5, "returndate")?;
    let renewed = when(6, "lastreneweddate")?;
    let count_text = get(7)?;
    let renewals: u32 = match count_text {
        "" | "NULL" => 0,
        c => c.parse().map_err(|_| {
            Reject::new(
                Code::BadNumber,
                "renewals_count",
                "renewals not a whole number",
            )
            .got(c)
        })?,
    };
    if returned.is_some_and(|r| r < issued) {
        return Err(Reject::new(
            Code::BadOrder,
            "returndate",
            "returned before it was issued",
        ));
    }
    let patron = key(ctx, Some(get(0)?));
    let item = key(ctx, Some(get(1)?));
    let auto = get(8)?;
    let automatic = (!auto.is_empty() && auto != "NULL").then(|| flag(auto));
    let checkout = event_row(issued, site, "checkout", patron, item, None);
    let renewal = event_row(
        renewed.unwrap_or(issued),
        site,
        "renewal",
        patron,
        item,
        automatic,
    );
    let checkin = returned.map(|r| event_row(r, site, "checkin", None, item, None));
    if renewals > 1 {
        ctx.tally.note(
            "koha renewals before the last are dated at the last renewal (old_issues keeps one date)",
        );
    }
    let mut rows: Vec<&[_]> = Vec::with_capacity(renewals as usize + 2);
    rows.push(&checkout);
    for _ in 0..renewals {
        rows.push(&renewal);
    }
    if let Some(c) = &checkin {
        rows.push(c);
    }
    let id = get(4)?;
    ctx.emit(
        if id.is_empty() {
            Identity::Content
        } else {
            Identity::Record(id)
        },
        &rows,
        1,
    );
    Ok(())
}
