//! EnvisionWare PC Reservation `strad_bci` rows: one row a session, one local timestamp
//! plus whole minutes used.

use tally_model::UserType;

use crate::IngestError;
use crate::adapters::{Ctx, each_record, session_row};
use crate::format::{ENVISIONWARE_OPTIONAL, ENVISIONWARE_REQUIRED};
use crate::identity::Identity;
use crate::options::TimestampMeans;
use crate::reader::{Columns, CsvInput, Reject};
use crate::time::{local_to_utc_us, parse_local};

const USER: usize = 0;
const MINUTES: usize = 1;
const DATETIME: usize = 2;
const BRANCH: usize = 3;
const USERDATA1: usize = 6;
const KEY: usize = 4;
const MACHINE: usize = 7;

/// The longest session believed: a day. Longer is a clock or export error.
const MAX_MINUTES: i64 = 24 * 60;

pub fn read(input: &mut CsvInput, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    each_record(
        input,
        ctx,
        "envisionware",
        (ENVISIONWARE_REQUIRED, ENVISIONWARE_OPTIONAL),
        &[USER],
        row,
    )
}

/// One record: a session pushed, an exclusion counted, or the column and reason to
/// quarantine it with.
fn row(rec: &csv::ByteRecord, cols: &Columns, ctx: &mut Ctx<'_>) -> Result<(), Reject> {
    let get = |i: usize| cols.text(rec, i);
    let (user, minutes, when, branch) = (get(USER)?, get(MINUTES)?, get(DATETIME)?, get(BRANCH)?);
    let (userdata1, machine) = (get(USERDATA1)?, get(MACHINE)?);
    let minutes: i64 = match minutes.parse() {
        Ok(m) if (0..=MAX_MINUTES).contains(&m) => m,
        Ok(m) => {
            return Err((
                "pcrMinutesUsed",
                format!("minutes out of range: expected 0..={MAX_MINUTES}, got {m}"),
            ));
        }
        Err(_) => {
            return Err((
                "pcrMinutesUsed",
                format!("minutes not a whole number: got \"{minutes}\""),
            ));
        }
    };
    let Some(local) = parse_local(when) else {
        return Err((
            "pcrDateTime",
            format!("unreadable date-time: expected YYYY-MM-DD HH:MM:SS, got \"{when}\""),
        ));
    };
    if branch.is_empty() {
        return Err(("pcrBranch", "branch is empty: expected a site code".into()));
    }
    if minutes == 0 {
        // Declined policy or a reservation never used: not a use of a computer.
        ctx.tally
            .exclude("zero minutes used (declined policy or no-show)");
        return Ok(());
    }
    let (site, tz) = ctx.site(branch);
    let stamp = local_to_utc_us(local, tz)
        .map_err(|reason| ("pcrDateTime", format!("{reason}: \"{when}\" in {tz}")))?;
    let span = minutes * 60_000_000;
    let (start, end) = match ctx.envisionware_time {
        TimestampMeans::Start => (stamp, stamp + span),
        TimestampMeans::End => (stamp - span, stamp),
    };
    let user_type = if !userdata1.is_empty() {
        UserType::Staff
    } else if user.is_empty() {
        UserType::Unknown
    } else if ctx.is_guest_barcode(user) {
        UserType::Guest
    } else {
        UserType::Patron
    };
    let patron_key = match user_type {
        UserType::Patron | UserType::Staff => Some(ctx.pseudo.key_of(user)),
        UserType::Guest | UserType::Unknown => None,
    };
    // pcrKey tells sessions apart (two guests at one branch in the same minute); it is
    // unique per reservation server, so the branch is part of the record key.
    let pcr_key = get(KEY)?;
    let record = format!("{branch}\u{1f}{pcr_key}");
    let identity = if pcr_key.is_empty() {
        Identity::Content
    } else {
        Identity::Record(&record)
    };
    ctx.emit_row(
        identity,
        session_row(site, machine, start, end, user_type.as_str(), patron_key),
        1,
    );
    Ok(())
}
