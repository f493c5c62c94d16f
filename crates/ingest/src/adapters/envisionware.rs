//! EnvisionWare PC Reservation `strad_bci` rows: one row a session, one local timestamp
//! plus whole minutes used.

use tally_model::{Table, UserType};

use crate::IngestError;
use crate::adapters::{Ctx, Input, each_record, session_row};
use crate::format::{Detect, FormatSpec};
use crate::identity::Identity;
use crate::reader::Columns;
use crate::reason::{Code, Reject};
use crate::time::{local_to_utc_us, parse_local};

pub static SPEC: FormatSpec = FormatSpec {
    name: "envisionware",
    table: Table::Sessions,
    detect: Detect::Header(|h| h.has("pcrDateTime") && h.has("pcrMinutesUsed")),
    detected_by: "header has pcrDateTime and pcrMinutesUsed",
    required: &["pcrUserID", "pcrMinutesUsed", "pcrDateTime", "pcrBranch"],
    optional: &["pcrKey", "pcrArea", "pcrUserData1", "pcrMachineName"],
    safe: &[
        "pcrKey",
        "pcrMinutesUsed",
        "pcrDateTime",
        "pcrBranch",
        "pcrArea",
        "pcrMachineName",
    ],
    site_columns: &["pcrBranch"],
    identifiers: true,
    identity: "pcrKey with the branch (keys are per reservation server); without pcrKey, the row's content",
    options: &["--envisionware-time start|end", "--tz"],
    notes: "pcrDateTime is local time, read as the session start (--envisionware-time end for exports that \
            stamp the end); pcrUserData1 set = staff override; card numbers with a guest prefix (sites.toml \
            guest_barcode_prefixes) are guest passes; 0 minutes (declined policy, no-show) excluded; \
            pcrMachineName, when exported, is the station",
    read,
};

/// What EnvisionWare's pcrDateTime stamps: the session's start (the default) or its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampMeans {
    #[default]
    Start,
    End,
}

const USER: usize = 0;
const MINUTES: usize = 1;
const DATETIME: usize = 2;
const BRANCH: usize = 3;
const KEY: usize = 4;
const USERDATA1: usize = 6;
const MACHINE: usize = 7;

/// The longest session believed, in minutes: a day.
const MAX_MINUTES: i64 = super::MAX_SESSION_US / 60_000_000;

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    each_record(input, ctx, row)
}

/// One record: a session emitted, an exclusion counted, or the reason to quarantine it.
fn row(rec: &csv::ByteRecord, cols: &Columns, ctx: &mut Ctx<'_>) -> Result<(), Reject> {
    let get = |i: usize| cols.text(rec, i);
    let (user, minutes, when, branch) = (get(USER)?, get(MINUTES)?, get(DATETIME)?, get(BRANCH)?);
    // The site: pcrBranch, unless --site-column names another column.
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
        return Err(Reject::new(
            Code::MissingValue,
            "pcrBranch",
            "branch is empty: expected a site code",
        ));
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
    let (start, end) = match ctx.options.envisionware_time {
        TimestampMeans::Start => (stamp, stamp + span),
        TimestampMeans::End => (stamp - span, stamp),
    };
    let user_type = if !get(USERDATA1)?.is_empty() {
        UserType::Staff
    } else if user.is_empty() {
        UserType::Unknown
    } else if ctx.is_guest_barcode(user) {
        UserType::Guest
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
