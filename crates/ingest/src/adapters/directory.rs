//! What the directory formats share (Active Directory's computers, Intune's devices): the
//! site of a device named by an OU or its name's prefix, a kind guessed from words, and
//! Windows' FILETIME. docs/support.md says how directory devices meet the inventory.

use chrono::NaiveDate;

use crate::adapters::assets::kind_of;

/// What to do when a directory device names no site.
pub const NO_SITE: &str = "no OU, category or name prefix (before the first -, _ or space) names a site of \
                           sites.toml: add the OU's name as a site alias, or pass --site CODE";

/// The kind of a computer from the words around it (OU path, name, model, OS). A
/// computer that no word places is a staff PC: public PCs and laptops are told apart by
/// the OUs, names and models libraries give them (`OU=Public`, `MAD-PUB-01`, `Latitude`).
pub fn computer_kind(words: &str, os: &str) -> &'static str {
    let os = os.to_ascii_lowercase();
    if os.contains("server") {
        return "server";
    }
    if os.contains("ios") || os.contains("ipados") || os.contains("android") {
        return "tablet";
    }
    if os.contains("chrome") {
        return "laptop";
    }
    let w = words.to_ascii_lowercase();
    let laptop = [
        "latitude",
        "thinkpad",
        "elitebook",
        "probook",
        "surface",
        "macbook",
        "zbook",
        "vostro 1",
        "ideapad",
        "-lt",
        "lt-",
    ];
    if laptop.iter().any(|l| w.contains(l)) {
        return "laptop";
    }
    if w.contains("pub") {
        return "public_pc";
    }
    match kind_of(&w) {
        "other" | "av" => "staff_pc",
        k => k,
    }
}

/// A Windows FILETIME (100 ns since 1601-01-01 UTC, as `lastLogonTimestamp` is written)
/// as the library's local date; 0 and the largest value mean never.
pub fn filetime_date(text: &str, tz: chrono_tz::Tz) -> Result<Option<NaiveDate>, ()> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let v: i64 = t.parse().map_err(|_| ())?;
    if v <= 0 || v == i64::MAX {
        return Ok(None);
    }
    // 1601-01-01 to 1970-01-01: 11,644,473,600 s.
    let us = v / 10 - 11_644_473_600_000_000;
    let at = chrono::DateTime::from_timestamp_micros(us).ok_or(())?;
    Ok(Some(at.with_timezone(&tz).date_naive()))
}

/// The later of two days.
pub fn later(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    a.max(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_reads_as_a_local_day() {
        // 2026-05-28 20:15:00 UTC = 16:15 in Chicago, the same day.
        let ft = (1_780_000_000i64 + 11_644_473_600) * 10_000_000;
        let day = filetime_date(&ft.to_string(), chrono_tz::America::Chicago).unwrap();
        assert_eq!(
            day,
            chrono::DateTime::from_timestamp(1_780_000_000, 0)
                .map(|t| t.with_timezone(&chrono_tz::America::Chicago).date_naive())
        );
        assert_eq!(filetime_date("0", chrono_tz::UTC), Ok(None));
        assert_eq!(
            filetime_date("9223372036854775807", chrono_tz::UTC),
            Ok(None)
        );
        assert!(filetime_date("yesterday", chrono_tz::UTC).is_err());
    }

    #[test]
    fn kinds_from_words() {
        assert_eq!(
            computer_kind("OU=Public,OU=MAD MAD-PUB-01", "Windows 10 Enterprise"),
            "public_pc"
        );
        assert_eq!(
            computer_kind("OU=Staff MAD-ST-03", "Windows 11 Pro"),
            "staff_pc"
        );
        assert_eq!(computer_kind("Latitude 5440", "Windows"), "laptop");
        assert_eq!(computer_kind("", "Windows Server 2019 Standard"), "server");
        assert_eq!(computer_kind("", "iPadOS"), "tablet");
        assert_eq!(computer_kind("MAD-X", "Windows 10 Pro"), "staff_pc");
    }
}
