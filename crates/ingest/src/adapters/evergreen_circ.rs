//! Evergreen's `action.circulation` loans. Timestamps carry their offset. A circulation
//! with a renewal flag is a renewal at xact_start (its parent is the earlier loan);
//! otherwise a checkout. A checkin_time is a checkin at checkin_lib (else circ_lib).

use tally_model::Table;

use crate::IngestError;
use crate::adapters::loans::{event_row, flag, key};
use crate::adapters::{Ctx, Input, each_record};
use crate::format::{Detect, FormatSpec, SitePolicy};
use crate::identity::Identity;
use crate::reader::Columns;
use crate::reason::{Code, Reject};

pub static SPEC: FormatSpec = FormatSpec {
    name: "evergreen-circ",
    table: Table::Circulation,
    detect: Detect::Header(|h| h.has("xact_start") && h.has("target_copy") && h.has("circ_lib")),
    detected_by: "header has xact_start, target_copy and circ_lib",
    required: &["id", "usr", "xact_start", "target_copy", "circ_lib"],
    optional: &[
        "checkin_time",
        "checkin_lib",
        "phone_renewal",
        "desk_renewal",
        "opac_renewal",
        "auto_renewal",
        "xact_finish",
        "due_date",
        "stop_fines",
        "parent_circ",
    ],
    safe: &[
        "id",
        "xact_start",
        "circ_lib",
        "checkin_time",
        "checkin_lib",
        "phone_renewal",
        "desk_renewal",
        "opac_renewal",
        "auto_renewal",
        "xact_finish",
        "due_date",
        "stop_fines",
        "parent_circ",
    ],
    site_columns: &["circ_lib"],
    site: SitePolicy::Column { required: true },
    preamble: &[],
    lookalikes: &[],
    identifiers: true,
    identity: "the circulation's id; its checkout (or renewal) and checkin by their place",
    options: &[],
    settings: &[],
    notes: "timestamps with offsets; a renewal flag (phone, desk, opac, auto) makes xact_start a renewal, else a \
            checkout; checkin_time is a checkin at checkin_lib, except where stop_fines is RENEW (a renewal closes \
            the circulation it renews: that is not a checkin); booleans t/f",
    read,
};

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    each_record(input, ctx, row)
}

fn row(rec: &csv::ByteRecord, cols: &Columns, ctx: &mut Ctx<'_>) -> Result<(), Reject> {
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
            .ok_or_else(|| {
                Reject::new(Code::BadTime, column, "unreadable timestamp with offset").got(s)
            })
    };
    let start = instant(2, "xact_start")?
        .ok_or_else(|| Reject::new(Code::MissingValue, "xact_start", "xact_start is empty"))?;
    let lib = ctx.site_value(rec);
    if lib.is_empty() {
        return Err(ctx.missing_site());
    }
    let site = ctx.site(lib).0;
    let renewal = [7, 8, 9, 10]
        .iter()
        .any(|&i| get(i).map(flag).unwrap_or(false));
    let automatic = renewal.then(|| get(10).map(flag).unwrap_or(false));
    let patron = key(ctx, Some(get(1)?));
    let item = key(ctx, Some(get(3)?));
    let first = event_row(
        start,
        site,
        if renewal { "renewal" } else { "checkout" },
        patron,
        item,
        automatic,
    );
    // Evergreen closes the circulation a renewal replaces (checkin_time set, stop_fines
    // RENEW): the item did not come back.
    let renewed_away = get(13)?.eq_ignore_ascii_case("RENEW");
    let checkin = match instant(5, "checkin_time")?.filter(|_| !renewed_away) {
        Some(t) if t < start => {
            return Err(Reject::new(
                Code::BadOrder,
                "checkin_time",
                "checked in before the circulation started",
            ));
        }
        Some(t) => {
            let at = match get(6)? {
                "" => site,
                l => ctx.site(l).0,
            };
            Some(event_row(t, at, "checkin", None, item, None))
        }
        None => None,
    };
    let mut rows: Vec<&[_]> = vec![&first];
    if let Some(c) = &checkin {
        rows.push(c);
    }
    let id = get(0)?;
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
