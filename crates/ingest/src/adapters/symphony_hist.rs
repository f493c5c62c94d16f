//! SirsiDynix Symphony history logs (`Unicorn/Logs/Hist/*.hist`, old months `.hist.Z`).
//!
//! One transaction a line, fields split by `^`:
//! `E` + yyyymmddHHMMSS + 4-digit station + `R `, then `S` + 2-digit sequence + 2-letter
//! command + `FF`/`FW` + login, then data fields (2-letter code + value), ending `^^O`.
//! CV (charge), RV (renew), EV (discharge) and WV (use item) are circulation; every other
//! command is excluded by rule and counted by its code. The user's PIN (`Uf`) is never
//! copied out of the line; user IDs (`UO`) and item IDs (`NQ`) become keyed hashes.

use tally_model::Table;

use crate::IngestError;
use crate::adapters::{Ctx, Input, circulation_row};
use crate::format::{Detect, FormatSpec, Lookalike, Setting, SitePolicy};
use crate::identity::Identity;
use crate::reason::{Code, Reject, mask_value};
use crate::source::Lines;
use crate::time::local_to_utc_us;

pub static SPEC: FormatSpec = FormatSpec {
    name: "symphony-hist",
    table: Table::Circulation,
    detect: Detect::Line(looks_like),
    detected_by: "first line is E + yyyymmddHHMMSS + station, with ^S",
    required: &["E<time><station>", "^S<seq><command>", "^FE<library>"],
    optional: &["^UO<user>", "^NQ<item>"],
    // Data codes whose values a quarantined line shows; every other value is masked.
    safe: SAFE_CODES,
    site_columns: &[],
    site: SitePolicy::Line,
    preamble: &[],
    lookalikes: &[Lookalike {
        first_line: looks_like_logprint,
        message: "this is Symphony's logprint/translate output, a readable dump of the history log: tally reads \
                  the log itself; send the raw .hist (or .hist.Z) files from Unicorn/Logs/Hist",
    }],
    identifiers: true,
    identity: "none in the log: the line's content, with multiplicity (two identical lines are two transactions)",
    options: &["--tz"],
    settings: &[
        Setting {
            name: "strip-prefix",
            value: "PREFIX",
            about: "a system prefix to strip from the station library codes (EPL in EPLMNA)",
        },
    ],
    notes: "CV checkout, RV renewal, EV checkin, WV in_house_use; other commands excluded by rule and counted by \
            code; server local time (the library's zone); ISO-8859-1; .hist.Z (Unix compress) read as is; \
            --strip-prefix removes a system prefix from FE library codes; the PIN (Uf) is never stored",
    read,
};

/// Data codes this adapter reads or knows to be of no use here.
const KNOWN_CODES: &[&str] = &[
    "FE", "FF", "FD", "Fc", "FW", "UO", "NQ", "IQ", "CO", "CF", "dC", "Uf", "UK", "OA", "tJ", "tL",
    "IS", "HH", "nu", "nx", "nr", "Fv", "Ob", "Oe", "UP", "IK", "IL", "IT", "HB", "HK", "HO", "UB",
    "UD",
];

/// Data codes whose values are neither a person nor what a person borrowed: the station
/// library and station, dates, the client type (and `E`, the line's time and station).
const SAFE_CODES: &[&str] = &["E", "FE", "FD", "Fc", "CO", "CF", "dC", "tJ", "tL"];

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

/// Does this look like `logprint | translate` output (a readable dump, not the log)?
/// `8/1/2008,08:05:22 Station: 0634 Request: Sequence #: 86 Command: ...`
pub fn looks_like_logprint(first_line: &str) -> bool {
    first_line.contains("Station:") && first_line.contains("Request:")
}

/// Does this look like a history log line?
pub fn looks_like(first_line: &str) -> bool {
    let b = first_line.as_bytes();
    b.len() > 20
        && b[0] == b'E'
        && b[1..15].iter().all(u8::is_ascii_digit)
        && first_line.contains("^S")
}

/// The line as a quarantine file keeps it: the header (time and station) and the
/// command as written, the values of safe data codes as written, every other value
/// masked (the user, the PIN, the item, the staff login).
fn mask(line: &str) -> String {
    line.split('^')
        .enumerate()
        .map(|(i, f)| match (i, f.get(..2)) {
            (0, _) => f.to_string(),
            (1, _) if f.starts_with('S') && f.len() > 5 && f.is_char_boundary(5) => {
                format!("{}{}", &f[..5], mask_value(&f[5..]))
            }
            (_, Some(code)) if SAFE_CODES.contains(&code) => f.to_string(),
            (_, Some(code)) if f.len() > 2 => format!("{code}{}", mask_value(&f[2..])),
            _ => f.to_string(),
        })
        .collect::<Vec<_>>()
        .join("^")
}

/// Reads the log a line at a time, as it streams from the file (or the .Z).
fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let source = input.source;
    let mut lines = Lines::with_capacity(source.buffer, source.open()?);
    let strip = ctx.setting("strip-prefix").map(str::to_string);
    while let Some((line_no, line)) = lines.next_line().map_err(|e| IngestError::Malformed {
        path: source.path.clone(),
        line: 0,
        message: e.to_string(),
    })? {
        if ctx.failed() {
            break;
        }
        ctx.tally.rows_read += 1;
        if let Err(reject) = line_row(&line, ctx, strip.as_deref()) {
            ctx.reject(line_no, reject, mask(&line));
        }
    }
    ctx.send();
    Ok(())
}

fn line_row(line: &str, ctx: &mut Ctx<'_>, strip_prefix: Option<&str>) -> Result<(), Reject> {
    let mut fields = line.split('^');
    let head = fields.next().unwrap_or("");
    if !(head.len() >= 19 && head.starts_with('E')) {
        return Err(Reject::new(
            Code::BadLine,
            "E",
            "not a history line: expected E, yyyymmddHHMMSS and a station number",
        ));
    }
    let stamp = head.get(1..15).unwrap_or("");
    let local = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%d%H%M%S").map_err(|_| {
        Reject::new(
            Code::BadTime,
            "E",
            "unreadable transaction time: expected yyyymmddHHMMSS",
        )
        .got(stamp)
    })?;
    let command_field = fields.next().unwrap_or("");
    let command = match (command_field.get(0..1), command_field.get(3..5)) {
        (Some("S"), Some(command)) => command,
        _ => {
            return Err(Reject::new(
                Code::BadLine,
                "S",
                "no command field: expected S, a 2-digit sequence and a 2-letter command",
            ));
        }
    };
    let Some(event) = event_of(command) else {
        ctx.tally.exclude(Code::NotCirculation, command);
        return Ok(());
    };
    let (mut library, mut user, mut item) = (None, None, None);
    for f in fields {
        // `^^O` ends the data fields.
        if f.is_empty() {
            break;
        }
        let Some(code) = f.get(..2) else { continue };
        // Values may carry padding (`NQ31221095677535  `).
        let value = f[2..].trim();
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
    let library = library.filter(|l| !l.is_empty()).ok_or_else(|| {
        Reject::new(
            Code::MissingValue,
            "FE",
            "no station library (FE): the site is unknown",
        )
    })?;
    let code = strip_prefix
        .and_then(|p| library.strip_prefix(p))
        .filter(|c| !c.is_empty())
        .unwrap_or(library);
    let (site, _) = ctx.site(code);
    // Symphony stamps the server's local time, one zone for the whole consortium.
    let tz = ctx.library_tz();
    let time = local_to_utc_us(local, tz).map_err(|reason| {
        Reject::new(Code::DstGap, "E", format!("{reason} in {tz}")).got(stamp)
    })?;
    let patron_key = user.filter(|u| !u.is_empty()).map(|u| ctx.key_of(u));
    let item_key = item.filter(|i| !i.is_empty()).map(|i| ctx.key_of(i));
    // A log line has no key: two identical lines are two transactions.
    ctx.emit_row(
        Identity::Content,
        &circulation_row(time, site, event, patron_key, item_key, None),
        1,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_user_pin_and_item() {
        let line = "E202108061327182321R ^S01RVFFBIBLIOCOMM^FEEPLMCN^NQ31221317347792^UO21221026490349^Uf1234^^O00100";
        let m = mask(line);
        assert!(
            !m.contains("21221026490349") && !m.contains("1234^") && !m.contains("31221317347792"),
            "{m}"
        );
        assert!(
            m.contains("UO99999999999999") && m.contains("Uf9999") && m.contains("FEEPLMCN"),
            "{m}"
        );
        assert!(m.starts_with("E202108061327182321R ^S01RVXXXXXXXXXXXX^"), "{m}");
        assert!(looks_like(line));
        assert!(!looks_like("pcrKey,pcrUserID"));
    }
}
