//! PaperCut Print Logger's daily CSV (`papercut-print-log-YYYY-MM-DD.csv`, in the
//! logger's `logs/csv/daily` folder; the monthly files have the same columns): a banner
//! line (`PaperCut Print Logger - http://www.papercut.com/`, skipped by the reader), the
//! header `Time,User,Pages,Copies,Printer,Document Name,Client,Paper Size,Language,
//! Height,Width,Duplex,Grayscale,Size`, then one row a job, often with a trailing comma.
//! Times are the print server's local time; the file is in its ANSI code page (the
//! reader takes Windows-1252 when it is not UTF-8).
//!
//! The document's name is the most sensitive field a library has: it is never read. Its
//! column is not declared safe, so a quarantined row shows it masked, and no reason
//! quotes it.

use tally_model::{Table, UserType};

use crate::IngestError;
use crate::adapters::shared::is_guest;
use crate::adapters::{Ctx, Input, each_record};
use crate::format::{Detect, FormatSpec, SitePolicy};
use crate::identity::Identity;
use crate::reader::Columns;
use crate::reason::{Code, Reject};
use crate::rows::Cell;
use crate::time::{local_to_utc_us, parse_local};

pub static SPEC: FormatSpec = FormatSpec {
    name: "papercut",
    table: Table::Prints,
    detect: Detect::Header(|h| h.has("Pages") && h.has("Printer") && h.has("Grayscale")),
    detected_by: "header has Pages, Printer and Grayscale",
    required: &["Time", "Pages", "Printer"],
    optional: &[
        "Copies",
        "User",
        "Client",
        "Duplex",
        "Grayscale",
        "Paper Size",
        "Size",
        // Listed so that they are known; never read (the name is private).
        "Document Name",
        "Language",
        "Height",
        "Width",
    ],
    safe: &[
        "Time",
        "Pages",
        "Copies",
        "Printer",
        "Duplex",
        "Grayscale",
        "Paper Size",
        "Language",
        "Height",
        "Width",
        "Size",
        "time",
        "site",
        "pages",
        "copies",
        "printer",
    ],
    site_columns: &[],
    site: SitePolicy::Names,
    preamble: &["PaperCut Print Logger"],
    lookalikes: &[],
    identifiers: true,
    identity: "the job's content (the log has no job id): the n-th identical job of a file is its own record, and a \
               re-sent file adds nothing",
    options: &["--site CODE (printers and clients no name places)", "--tz"],
    settings: &[],
    notes: "PaperCut Print Logger daily or monthly CSV, banner line and trailing comma as written; the site from the \
            printer's or client's name (a code, name or alias of sites.toml, or the prefix before the first -, _ or \
            space; the print server's name in \\\\server\\printer counts too), else --site; pages x copies are the \
            pages printed; Duplex DUPLEX / NOT DUPLEX, Grayscale GRAYSCALE / NOT GRAYSCALE; Size with or without a \
            unit (19kb, 16 = kB, 1.2mb); a job of no page is excluded (no_pages); User pseudonymised (guest accounts \
            and guest card prefixes flagged as guests); the document name is never read or stored",
    read,
};

const TIME: usize = 0;
const PAGES: usize = 1;
const PRINTER: usize = 2;
const COPIES: usize = 3;
const USER: usize = 4;
const CLIENT: usize = 5;
const DUPLEX: usize = 6;
const GRAYSCALE: usize = 7;
const PAPER: usize = 8;
const SIZE: usize = 9;

/// The most copies or pages of one job believed.
const MAX_COUNT: i64 = 100_000;

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    each_record(input, ctx, row)
}

/// A whole number of pages or copies in 0..=MAX_COUNT.
fn count(s: &str, column: &'static str) -> Result<i64, Reject> {
    s.replace(',', "")
        .parse::<i64>()
        .ok()
        .filter(|n| (0..=MAX_COUNT).contains(n))
        .ok_or_else(|| {
            Reject::new(
                Code::BadNumber,
                column,
                format!("expected a whole number from 0 to {MAX_COUNT}"),
            )
            .got(s)
        })
}

/// `DUPLEX` / `NOT DUPLEX` (and the same for GRAYSCALE): true, false, or null when empty.
fn flag(s: &str, word: &str, column: &'static str) -> Result<Option<bool>, Reject> {
    let upper = s.trim().to_ascii_uppercase();
    if upper.is_empty() {
        Ok(None)
    } else if upper == word {
        Ok(Some(true))
    } else if upper.strip_prefix("NOT ").is_some_and(|w| w.trim() == word) {
        Ok(Some(false))
    } else {
        Err(Reject::new(
            Code::UnknownValue,
            column,
            format!("expected {word} or NOT {word}"),
        )
        .got(s))
    }
}

/// The spool size in kB: `19kb`, `16` (kB), `1.2mb`, `512 b`; null when empty.
pub fn size_kb(s: &str) -> Result<Option<f64>, Reject> {
    let t = s.trim().to_ascii_lowercase().replace(',', "");
    if t.is_empty() {
        return Ok(None);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "" | "kb" | "k" | "kib" => 1.0,
        "b" | "bytes" => 1.0 / 1024.0,
        "mb" | "m" | "mib" => 1024.0,
        "gb" | "g" | "gib" => 1024.0 * 1024.0,
        _ => f64::NAN,
    };
    match number.parse::<f64>() {
        Ok(v) if scale.is_finite() && v.is_finite() => Ok(Some(v * scale)),
        _ => Err(Reject::new(
            Code::BadNumber,
            "Size",
            "expected a size such as 19kb, 16 or 1.2mb",
        )
        .got(s)),
    }
}

/// The short name of a printer (`\\PRINTSRV\CEN-Public` -> `CEN-Public`) and its
/// server's (`PRINTSRV`), if the name has one.
fn printer_parts(printer: &str) -> (&str, Option<&str>) {
    let trimmed = printer.trim().trim_start_matches('\\');
    match trimmed.rsplit_once('\\') {
        Some((server, name)) => (name, Some(server.split('\\').next().unwrap_or(server))),
        None => (trimmed, None),
    }
}

fn row(rec: &csv::ByteRecord, cols: &Columns, ctx: &mut Ctx<'_>) -> Result<(), Reject> {
    let get = |i: usize| cols.text(rec, i);
    let when = get(TIME)?;
    let Some(local) = parse_local(when) else {
        return Err(Reject::new(
            Code::BadTime,
            "Time",
            "unreadable date-time: expected YYYY-MM-DD HH:MM:SS",
        )
        .got(when));
    };
    let pages = count(get(PAGES)?, "Pages")?;
    let copies = match get(COPIES)? {
        "" => 1,
        c => count(c, "Copies")?,
    };
    let printer = get(PRINTER)?;
    if printer.is_empty() {
        return Err(Reject::new(
            Code::MissingValue,
            "Printer",
            "the printer is empty: expected its name",
        ));
    }
    let client = get(CLIENT)?;
    let duplex = flag(get(DUPLEX)?, "DUPLEX", "Duplex")?;
    let grayscale = flag(get(GRAYSCALE)?, "GRAYSCALE", "Grayscale")?;
    let size = size_kb(get(SIZE)?)?;
    if pages == 0 || copies == 0 {
        ctx.tally.exclude(Code::NoPages, "0 pages");
        return Ok(());
    }
    let (short, server) = printer_parts(printer);
    let names: Vec<&str> = [Some(short), server, Some(client)]
        .into_iter()
        .flatten()
        .collect();
    let site = ctx.named_site(
        &[],
        &names,
        "neither the printer's, its server's nor the client's name (nor its prefix before -, _ or a space) names \
         a site of sites.toml: add the name as a site alias, or pass --site CODE",
    )?;
    let (site, tz) = ctx.site(&site);
    let site = site.to_string();
    let time = local_to_utc_us(local, tz).map_err(|reason| {
        Reject::new(Code::DstGap, "Time", format!("{reason} in {tz}")).got(when)
    })?;
    let user = get(USER)?;
    let user_type = if user.is_empty() {
        UserType::Unknown
    } else if is_guest(user, ctx) {
        UserType::Guest
    } else {
        UserType::Patron
    };
    let patron_key = (user_type == UserType::Patron).then(|| ctx.key_of(user));
    ctx.emit_row(
        Identity::Content,
        &[
            Cell::Time(time),
            Cell::Str(&site),
            Cell::Str(short),
            Cell::text(client),
            Cell::Int(pages),
            Cell::Int(copies),
            Cell::bool(duplex),
            Cell::bool(grayscale),
            Cell::text(get(PAPER)?),
            Cell::float(size),
            Cell::Str(user_type.as_str()),
            Cell::key(patron_key),
        ],
        1,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_and_without_a_unit() {
        assert_eq!(size_kb("19kb"), Ok(Some(19.0)));
        assert_eq!(size_kb("16"), Ok(Some(16.0)));
        assert_eq!(size_kb("1.5mb"), Ok(Some(1536.0)));
        assert_eq!(size_kb("2048 B"), Ok(Some(2.0)));
        assert_eq!(size_kb("1,024kb"), Ok(Some(1024.0)));
        assert_eq!(size_kb(""), Ok(None));
        assert!(size_kb("big").is_err());
        assert!(size_kb("12 parsecs").is_err());
    }

    #[test]
    fn printer_names_with_and_without_a_server() {
        assert_eq!(
            printer_parts(r"\\PRINTSRV\CEN-Public-BW"),
            ("CEN-Public-BW", Some("PRINTSRV"))
        );
        assert_eq!(printer_parts("HAW Laser"), ("HAW Laser", None));
    }
}
