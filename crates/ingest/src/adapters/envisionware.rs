//! EnvisionWare PC Reservation `strad_bci` rows: one row a session, one local timestamp
//! plus whole minutes used.

use tally_model::{Table, UserType};

use crate::IngestError;
use crate::adapters::{Ctx, Input, each_record, session_row};
use crate::format::{Detect, FormatSpec, Setting, SitePolicy};
use crate::identity::Identity;
use crate::reader::Columns;
use crate::reason::{Code, Reject};
use crate::time::{local_to_utc_us, parse_local};

pub static SPEC: FormatSpec = FormatSpec {
    name: "envisionware",
    table: Table::Sessions,
    detect: Detect::Header(|h| h.has("pcrDateTime") && h.has("pcrMinutesUsed")),
    detected_by: "header has pcrDateTime and pcrMinutesUsed",
    required: &["pcrMinutesUsed", "pcrDateTime", "pcrBranch"],
    optional: &[
        "pcrKey",
        "pcrUserID",
        "pcrArea",
        "pcrUserData1",
        "pcrMachineName|pcrPC",
        "pcrStartTime",
        "pcrStopTime",
        "pcrIsGuest",
        "pcrStatus",
    ],
    safe: &[
        "pcrKey",
        "pcrMinutesUsed",
        "pcrDateTime",
        "pcrBranch",
        "pcrArea",
        "pcrMachineName",
        "pcrPC",
        "pcrStartTime",
        "pcrStopTime",
        "pcrIsGuest",
        "pcrStatus",
        "pcrWhereMade",
    ],
    site_columns: &["pcrBranch"],
    site: SitePolicy::Column { required: true },
    preamble: &[],
    lookalikes: &[],
    identifiers: true,
    identity: "pcrKey with the branch (keys are per reservation server); without pcrKey, the row's content",
    options: &["--tz"],
    settings: &[
        Setting {
            name: "envisionware-time",
            value: "start|end",
            about: "whether pcrDateTime is when the session started (the default) or ended",
        },
    ],
    notes: "strad_bci (NYPL) or tbluserpcrdetail rows; pcrDateTime is local time, read as the session start \
            (--envisionware-time end for exports that stamp the end); where pcrStartTime and pcrStopTime are \
            exported they are the session; pcrUserData1 set = staff override; pcrIsGuest or a card number with a \
            guest prefix (sites.toml guest_barcode_prefixes) = guest pass; no pcrUserID = unknown user; 0 minutes \
            (declined policy, no-show) excluded; pcrMachineName or pcrPC is the station; \\N and NULL are empty",
    read,
};

/// What EnvisionWare's pcrDateTime stamps: the session's start (the default) or its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampMeans {
    #[default]
    Start,
    End,
}

const MINUTES: usize = 0;
const DATETIME: usize = 1;
const BRANCH: usize = 2;
const KEY: usize = 3;
const USER: usize = 4;
const USERDATA1: usize = 6;
const MACHINE: usize = 7;
const START: usize = 8;
const STOP: usize = 9;
const IS_GUEST: usize = 10;

/// The longest session believed, in minutes: a day.
const MAX_MINUTES: i64 = super::MAX_SESSION_US / 60_000_000;

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let means = match ctx.setting("envisionware-time") {
        None | Some("start") => TimestampMeans::Start,
        Some("end") => TimestampMeans::End,
        Some(other) => {
            return Err(IngestError::Malformed {
                path: input.source.path.clone(),
                line: 1,
                message: format!("--envisionware-time \"{other}\": expected start or end"),
            });
        }
    };
    each_record(input, ctx, |rec, cols, ctx| row(rec, cols, ctx, means))
}

/// One record: a session emitted, an exclusion counted, or the reason to quarantine it.
/// MySQL dumps write NULL as `\N`; SQL clients as `NULL`.
fn value(s: &str) -> &str {
    if s == "\\N" || s.eq_ignore_ascii_case("NULL") {
        ""
    } else {
        s
    }
}

fn row(
    rec: &csv::ByteRecord,
    cols: &Columns,
    ctx: &mut Ctx<'_>,
    means: TimestampMeans,
) -> Result<(), Reject> {
    let get = |i: usize| cols.text(rec, i).map(value);
    let (user, minutes, when, branch) = (get(USER)?, get(MINUTES)?, get(DATETIME)?, get(BRANCH)?);
    // The site: pcrBranch, unless --site-column names another column; else --site.
    let site_raw = ctx.site_value(rec);
    let minutes: i64 = match minutes.parse() {
        Ok(m) if (0..=MAX_MINUTES).contains(&m) => m,
        Ok(_) => {
            return Err(Reject::new(
                Code::BadNumber,
                "pcrMinutesUsed",
                format!("minutes out of range: expected 0..={MAX_MINUTES}"),
            )
            .got(minutes));
        }
        Err(_) => {
            return Err(Reject::new(
                Code::BadNumber,
                "pcrMinutesUsed",
                "minutes not a whole number",
            )
            .got(minutes));
        }
    };
    let Some(local) = parse_local(when) else {
        return Err(Reject::new(
            Code::BadTime,
            "pcrDateTime",
            "unreadable date-time: expected YYYY-MM-DD HH:MM:SS",
        )
        .got(when));
    };
    if site_raw.is_empty() {
        return Err(ctx.missing_site());
    }
    if minutes == 0 {
        // Declined policy or a reservation never used: not a use of a computer.
        ctx.tally.exclude(Code::NoUse, "0 minutes");
        return Ok(());
    }
    let (site, tz) = ctx.site(site_raw);
    let stamp = local_to_utc_us(local, tz).map_err(|reason| {
        Reject::new(Code::DstGap, "pcrDateTime", format!("{reason} in {tz}")).got(when)
    })?;
    let span = minutes * 60_000_000;
    let (mut start, mut end) = match means {
        TimestampMeans::Start => (stamp, stamp + span),
        TimestampMeans::End => (stamp - span, stamp),
    };
    // tbluserpcrdetail keeps the session's own start and stop: they are the session.
    let (start_text, stop_text) = (get(START)?, get(STOP)?);
    if !start_text.is_empty() && !stop_text.is_empty() {
        let read = |column: &'static str, t: &str| {
            let local = parse_local(t).ok_or_else(|| {
                Reject::new(Code::BadTime, column, "unreadable date-time").got(t)
            })?;
            local_to_utc_us(local, tz).map_err(|reason| {
                Reject::new(Code::DstGap, column, format!("{reason} in {tz}")).got(t)
            })
        };
        let (a, b) = (read("pcrStartTime", start_text)?, read("pcrStopTime", stop_text)?);
        if b < a {
            return Err(Reject::new(
                Code::BadOrder,
                "pcrStopTime",
                "the session stops before it starts",
            ));
        }
        if b - a > super::MAX_SESSION_US {
            return Err(Reject::new(Code::TooLong, "pcrStopTime", super::TOO_LONG));
        }
        (start, end) = (a, b);
    }
    let flagged_guest = !matches!(get(IS_GUEST)?, "" | "0");
    let user_type = if !get(USERDATA1)?.is_empty() {
        UserType::Staff
    } else if flagged_guest || (!user.is_empty() && ctx.is_guest_barcode(user)) {
        UserType::Guest
    } else if user.is_empty() {
        UserType::Unknown
    } else {
        UserType::Patron
    };
    let patron_key = match user_type {
        UserType::Patron | UserType::Staff => Some(ctx.key_of(user)),
        UserType::Guest | UserType::Unknown => None,
    };
    // pcrKey tells sessions apart (two guests at one branch in the same minute); it is
    // unique per reservation server, so the branch is part of the record key.
    let pcr_key = get(KEY)?;
    let parts = [branch, pcr_key];
    let identity = if pcr_key.is_empty() {
        Identity::Content
    } else {
        Identity::RecordOf(&parts)
    };
    let machine = get(MACHINE)?;
    ctx.emit_row(
        identity,
        &session_row(site, machine, start, end, user_type.as_str(), patron_key),
        1,
    );
    Ok(())
}
