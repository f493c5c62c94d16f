//! What the inventory formats share (Snipe-IT's asset export, the canonical inventory
//! CSV): words for kinds and statuses, dates and costs as written, and the row.

use chrono::NaiveDate;

use crate::adapters::Ctx;
use crate::adapters::shared::date;
use crate::identity::Identity;
use crate::reason::{Code, Reject};
use crate::rows::Cell;

/// What every inventory format says of identity.
pub const IDENTITY: &str = "the asset tag's state: a re-export with the same state is in the lake already; the latest export of an asset tag wins when read";

/// Snipe-IT categories are the library's own words; these cover the usual ones.
pub fn kind_of(category: &str) -> &'static str {
    let c = category.to_ascii_lowercase();
    let has = |w: &[&str]| w.iter().any(|x| c.contains(x));
    if has(&["public", "patron", "catalog", "opac", "kiosk"]) {
        "public_pc"
    } else if has(&["laptop", "notebook", "chromebook"]) {
        "laptop"
    } else if has(&["tablet", "ipad"]) {
        "tablet"
    } else if has(&["printer", "copier", "mfp"]) {
        "printer"
    } else if has(&[
        "switch",
        "router",
        "access point",
        "firewall",
        "network",
        "wap",
    ]) {
        "network"
    } else if has(&["server", "nas"]) {
        "server"
    } else if has(&["projector", "display", "tv", "av", "camera", "speaker"]) {
        "av"
    } else if has(&["desktop", "staff", "workstation", "pc"]) {
        "staff_pc"
    } else {
        "other"
    }
}

/// Snipe-IT's status labels; a label the library made up is read by the status type
/// Snipe-IT's reports put in brackets after it (`Ready to Deploy (deployable)`).
pub fn status_of(label: &str) -> Option<&'static str> {
    let label = label.trim();
    if let Some(found) = known_status(label) {
        return Some(found);
    }
    let (name, meta) = label.strip_suffix(')')?.rsplit_once('(')?;
    known_status(name.trim()).or(match meta.trim().to_ascii_lowercase().as_str() {
        "deployed" => Some("active"),
        "deployable" | "pending" | "undeployable" => Some("spare"),
        "archived" => Some("retired"),
        _ => None,
    })
}

fn known_status(label: &str) -> Option<&'static str> {
    match label.to_ascii_lowercase().as_str() {
        "deployed" | "active" | "in use" => Some("active"),
        "ready to deploy" | "pending" | "spare" | "out for repair" | "in stock" => Some("spare"),
        "archived" | "retired" | "lost/stolen" | "broken - not fixable" | "disposed" => {
            Some("retired")
        }
        _ => None,
    }
}

/// A cost as written: "$1,099.00", "1099", "1.099,00 €", "1 099,00". The decimal mark is
/// the last `.` or `,` when two digits or one follow it and nothing else does; any other
/// `.` `,` or space groups thousands.
fn money(s: &str) -> Result<Option<f64>, String> {
    let t: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, '$' | '£' | '€' | ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || format!("cost not a number: got \"{s}\"");
    let (whole, frac) = match t.rfind(['.', ',']) {
        Some(i) if (1..=2).contains(&(t.len() - i - 1)) => (&t[..i], &t[i + 1..]),
        _ => (t.as_str(), ""),
    };
    let whole: String = whole.chars().filter(|c| !matches!(c, '.' | ',')).collect();
    format!("{whole}.{}", if frac.is_empty() { "0" } else { frac })
        .parse::<f64>()
        .map(Some)
        .map_err(|_| bad())
}

/// One asset's fields as an export writes them (kind and status already canonical).
/// Inventory formats fill the purchase fields; directory formats (Active Directory,
/// Intune) the device fields, with `purchased` the day the device joined the directory.
#[derive(Debug, Default)]
pub struct Asset<'a> {
    pub tag: &'a str,
    pub kind: &'static str,
    pub site: &'a str,
    pub model: &'a str,
    pub purchased: &'a str,
    pub cost: &'a str,
    pub life: &'a str,
    pub status: &'static str,
    pub retired: &'a str,
    pub name: &'a str,
    pub serial: &'a str,
    pub manufacturer: &'a str,
    pub os: &'a str,
    pub os_version: &'a str,
    pub last_seen: Option<NaiveDate>,
}

/// Emits one inventory asset.
pub fn push(ctx: &mut Ctx<'_>, a: &Asset<'_>) -> Result<(), Reject> {
    emit(ctx, a, tally_model::tables::assets::INVENTORY)
}

/// Emits one device a directory or device manager knows.
pub fn push_directory(ctx: &mut Ctx<'_>, a: &Asset<'_>) -> Result<(), Reject> {
    emit(ctx, a, tally_model::tables::assets::DIRECTORY)
}

fn emit(ctx: &mut Ctx<'_>, a: &Asset<'_>, origin: &'static str) -> Result<(), Reject> {
    if a.tag.is_empty() {
        return Err(Reject::new(
            Code::MissingValue,
            "asset_tag",
            "asset tag is empty",
        ));
    }
    if a.site.is_empty() {
        return Err(Reject::new(
            Code::MissingValue,
            "site",
            "location is empty: expected the site the asset is at",
        ));
    }
    let purchased = date(a.purchased).ok_or_else(|| {
        Reject::new(Code::BadTime, "purchased", "unreadable purchase date").got(a.purchased)
    })?;
    let cost = money(a.cost)
        .map_err(|_| Reject::new(Code::BadNumber, "cost", "cost not a number").got(a.cost))?;
    let life = match a.life.trim() {
        "" => None,
        l => Some(l.parse::<f64>().map_err(|_| {
            Reject::new(Code::BadNumber, "life_years", "life years not a number").got(l)
        })?),
    };
    let retired = match a.retired.trim() {
        "" => None,
        r => Some(date(r).ok_or_else(|| {
            Reject::new(Code::BadTime, "retired", "unreadable retirement date").got(r)
        })?),
    };
    let site = ctx.site(a.site).0;
    ctx.emit_row(
        Identity::State(a.tag),
        &[
            Cell::text(a.tag),
            Cell::Str(a.kind),
            Cell::Str(site),
            Cell::text(a.model),
            Cell::date(purchased),
            Cell::float(cost),
            Cell::float(life),
            Cell::Str(a.status),
            Cell::opt_date(retired),
            Cell::Str(origin),
            Cell::text(a.name),
            Cell::text(a.serial),
            Cell::text(a.manufacturer),
            Cell::text(a.os),
            Cell::text(a.os_version),
            Cell::opt_date(a.last_seen),
        ],
        1,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_and_costs() {
        assert_eq!(kind_of("Public Computers"), "public_pc");
        assert_eq!(kind_of("Staff Desktops"), "staff_pc");
        assert_eq!(kind_of("Wireless Access Points"), "network");
        assert_eq!(kind_of("Chromebooks"), "laptop");
        assert_eq!(money("$1,099.00"), Ok(Some(1099.0)));
        assert_eq!(money("1.099,00 €"), Ok(Some(1099.0)));
        assert_eq!(money("1 099,5"), Ok(Some(1099.5)));
        assert_eq!(money("1,099"), Ok(Some(1099.0)));
        assert_eq!(money("899"), Ok(Some(899.0)));
        assert_eq!(date("1/23/23"), NaiveDate::from_ymd_opt(2023, 1, 23));
        assert_eq!(
            date("2024-03-05 00:00:00"),
            NaiveDate::from_ymd_opt(2024, 3, 5)
        );
        assert_eq!(status_of("Broken (undeployable)"), Some("spare"));
        assert_eq!(status_of("Ready to Deploy (deployable)"), Some("spare"));
        assert!(money("about 1000").is_err());
        assert_eq!(status_of("Ready to Deploy"), Some("spare"));
    }
}
