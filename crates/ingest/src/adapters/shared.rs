//! Helpers formats of different families share: dates as inventories write them, the
//! year of a file (a setting, else its name), MAC addresses as hashed, and who a guest
//! is. A family's own helpers stay in its module (`assets.rs`, `tickets.rs`, ...).

use chrono::NaiveDate;

use crate::IngestError;
use crate::adapters::Ctx;

/// A date as inventories and spreadsheets write it (ISO, US, European), with or without
/// a time.
pub fn date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    // A date with a time (`2024-03-05 00:00:00`, `3/5/2024 12:00:00 AM`) is its date.
    let day = s.split_whitespace().next().unwrap_or(s);
    ["%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%m/%d/%y"]
        .iter()
        .filter_map(|f| NaiveDate::parse_from_str(day, f).ok())
        .find(|d| (1900..=2200).contains(&chrono::Datelike::year(d)))
}

/// The `year` setting, read as a year.
pub fn year_setting(ctx: &Ctx<'_>, path: &std::path::Path) -> Result<Option<i32>, IngestError> {
    match ctx.setting("year") {
        None => Ok(None),
        Some(y) => y
            .trim()
            .parse::<i32>()
            .map(Some)
            .map_err(|_| IngestError::Malformed {
                path: path.to_path_buf(),
                line: 1,
                message: format!("--year \"{y}\": expected a year (YYYY)"),
            }),
    }
}

/// The year a file is of: `--year`, else four digits of its name (`pls_fy2018`,
/// `2017_Computer_Sessions`); neither fails the file with `advice`.
pub fn year_of_file(
    ctx: &Ctx<'_>,
    path: &std::path::Path,
    advice: &str,
) -> Result<i32, IngestError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    year_setting(ctx, path)?
        .or_else(|| year_from_file_name(&file_name))
        .ok_or_else(|| IngestError::Malformed {
            path: path.to_path_buf(),
            line: 1,
            message: advice.into(),
        })
}

pub fn year_from_file_name(name: &str) -> Option<i32> {
    let digits: Vec<char> = name.chars().collect();
    (0..digits.len().saturating_sub(3)).find_map(|i| {
        let s: String = digits[i..i + 4].iter().collect();
        let before_ok = i == 0 || !digits[i - 1].is_ascii_digit();
        let after_ok = i + 4 >= digits.len() || !digits[i + 4].is_ascii_digit();
        s.parse::<i32>()
            .ok()
            .filter(|y| (1900..=2100).contains(y) && before_ok && after_ok)
    })
}

/// The normalised MAC (lower case, colons) is what is hashed, so one device has one key
/// whatever the export's spelling.
pub fn normalise_mac(mac: &str) -> Option<String> {
    let hex: String = mac
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_lowercase();
    if hex.len() != 12
        || mac
            .chars()
            .any(|c| !(c.is_ascii_hexdigit() || matches!(c, ':' | '-' | '.')))
    {
        return None;
    }
    Some(
        hex.as_bytes()
            .chunks(2)
            .map(|p| std::str::from_utf8(p).expect("ascii"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// Whether a user name is a guest pass: `guest...` (Libki's, PaperCut's guest accounts)
/// or a card number with a guest prefix (sites.toml `guest_barcode_prefixes`).
pub fn is_guest(user: &str, ctx: &Ctx<'_>) -> bool {
    user.get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("guest"))
        || ctx.is_guest_barcode(user)
}
