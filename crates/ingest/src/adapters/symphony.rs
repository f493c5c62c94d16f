//! SirsiDynix Symphony history logs (`Unicorn/Logs/Hist/*.hist`, old months `.hist.Z`).
//!
//! One transaction a line, fields split by `^`:
//! `E` + yyyymmddHHMMSS + 4-digit station + `R `, then `S` + 2-digit sequence + 2-letter
//! command + `FF`/`FW` + login, then data fields (2-letter code + value), ending `^^O`.
//! CV (charge), RV (renew), EV (discharge) and WV (use item) are circulation; every other
//! command is excluded by rule and counted by its code. The user's PIN (`Uf`) is never
//! copied out of the line; user IDs (`UO`) and item IDs (`NQ`) become keyed hashes.

use tally_model::Sites;

use crate::IngestError;
use crate::adapters::{Ctx, circulation_row};
use crate::identity::Identity;
use crate::reader::Reject;
use crate::source::{Lines, Source};
use crate::time::local_to_utc_us;

/// Data codes this adapter reads or knows to be of no use here.
const KNOWN_CODES: &[&str] = &[
    "FE", "FF", "FD", "Fc", "FW", "UO", "NQ", "IQ", "CO", "CF", "dC", "Uf", "UK", "OA", "tJ", "tL",
    "IS", "HH", "nu", "nx", "nr", "Fv", "Ob", "Oe", "UP", "IK", "IL", "IT", "HB", "HK", "HO", "UB",
    "UD",
];

/// Codes whose values identify a person: masked in quarantine, never logged.
const PRIVATE_CODES: &[&str] = &["UO", "Uf", "UB", "UD"];

/// Symphony's command codes for circulation and the canonical event of each.
fn event_of(command: &str) -> Option<&'static str> {
    match command {
        "CV" => Some("checkout"),
        "RV" => Some("renewal"),
        "EV" => Some("checkin"),
        "WV" => Some("in_house_use"),
        _ => None,
    }
}

/// Does this look like a history log line?
pub fn looks_like(first_line: &str) -> bool {
    let b = first_line.as_bytes();
    b.len() > 20
        && b[0] == b'E'
        && b[1..15].iter().all(u8::is_ascii_digit)
        && first_line.contains("^S")
}

/// The line with private values replaced by `***`.
fn mask(line: &str) -> String {
    line.split('^')
        .map(|f| match f.get(..2) {
            Some(code) if PRIVATE_CODES.contains(&code) && f.len() > 2 => format!("{code}***"),
            _ => f.to_string(),
        })
        .collect::<Vec<_>>()
        .join("^")
}

/// Reads the log a line at a time, as it streams from the file (or the .Z).
pub fn read(
    source: &Source,
    ctx: &mut Ctx<'_>,
    strip_prefix: Option<&str>,
) -> Result<(), IngestError> {
    let mut lines = Lines::with_capacity(source.buffer, source.open()?);
    while let Some((line_no, line)) = lines.next_line().map_err(|e| IngestError::Malformed {
        path: source.path.clone(),
        line: 0,
        message: e.to_string(),
    })? {
        ctx.tally.rows_read += 1;
        if let Err((column, reason)) = line_row(&line, ctx, strip_prefix) {
            ctx.tally.quarantine(line_no, column, reason, mask(&line));
        }
    }
    Ok(())
}

fn line_row(line: &str, ctx: &mut Ctx<'_>, strip_prefix: Option<&str>) -> Result<(), Reject> {
    let mut fields = line.split('^');
    let head = fields.next().unwrap_or("");
    if !(head.len() >= 19 && head.starts_with('E')) {
        return Err((
            "E",
            "not a history line: expected E, yyyymmddHHMMSS and a station number".into(),
        ));
    }
    let stamp = head.get(1..15).unwrap_or("");
    let local = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%d%H%M%S").map_err(|_| {
        (
            "E",
            format!("unreadable transaction time: expected yyyymmddHHMMSS, got \"{stamp}\""),
        )
    })?;
    let command_field = fields.next().unwrap_or("");
    let command = match command_field.get(0..1) {
        Some("S") if command_field.len() >= 5 => &command_field[3..5],
        _ => {
            return Err((
                "S",
                "no command field: expected S, a 2-digit sequence and a 2-letter command".into(),
            ));
        }
    };
    let Some(event) = event_of(command) else {
        ctx.tally
            .exclude(&format!("symphony command {command} (not circulation)"));
        return Ok(());
    };
    let (mut library, mut user, mut item) = (None, None, None);
    for f in fields {
        // `^^O` ends the data fields.
        if f.is_empty() {
            break;
        }
        let Some(code) = f.get(..2) else { continue };
        let value = &f[2..];
        match code {
            "FE" => library = Some(value),
            "UO" => user = Some(value),
            "NQ" => item = Some(value),
            // The PIN is skipped without a copy being made.
            "Uf" => {}
            c if KNOWN_CODES.contains(&c) => {}
            c => ctx.tally.note(&format!("symphony data code {c} not read")),
        }
    }
    let library = library.filter(|l| !l.is_empty()).ok_or((
        "FE",
        "no station library (FE): the site is unknown".to_string(),
    ))?;
    let code = strip_prefix
        .and_then(|p| library.strip_prefix(p))
        .filter(|c| !c.is_empty())
        .unwrap_or(library);
    let (site, _) = ctx.site(code);
    let tz = ctx.tz_override.unwrap_or(library_zone(ctx.sites));
    let time = local_to_utc_us(local, tz)
        .map_err(|reason| ("E", format!("{reason}: \"{stamp}\" in {tz}")))?;
    let patron_key = user.filter(|u| !u.is_empty()).map(|u| ctx.pseudo.key_of(u));
    let item_key = item.filter(|i| !i.is_empty()).map(|i| ctx.pseudo.key_of(i));
    // A log line has no key: two identical lines are two transactions.
    ctx.emit_row(
        Identity::Content,
        circulation_row(time, site, event, patron_key, item_key, None),
        1,
    );
    Ok(())
}

/// Symphony stamps the server's local time, one zone for the whole consortium.
fn library_zone(sites: &Sites) -> chrono_tz::Tz {
    sites.library.timezone
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_user_and_pin() {
        let line = "E202108061327182321R ^S01RVFFBIBLIOCOMM^FEEPLMCN^NQ31221317347792^UO21221026490349^Uf1234^^O00100";
        let m = mask(line);
        assert!(!m.contains("21221026490349") && !m.contains("1234^"), "{m}");
        assert!(m.contains("UO***") && m.contains("Uf***") && m.contains("NQ31221317347792"));
        assert!(looks_like(line));
        assert!(!looks_like("pcrKey,pcrUserID"));
    }
}
