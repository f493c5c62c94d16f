//! The IT equipment inventory: Snipe-IT's asset export, or a generic inventory CSV with
//! the canonical columns. The latest export of an asset tag wins when read.

use chrono::NaiveDate;

use crate::IngestError;
use crate::adapters::{Ctx, each_record};
use crate::identity::Identity;
use crate::reader::{Columns, CsvInput, Reject};
use crate::rows::Value;

pub const SNIPE_REQUIRED: &[&str] = &[
    "Asset Tag",
    "Category",
    "Location",
    "Status",
    "Purchase Date",
];
pub const SNIPE_OPTIONAL: &[&str] = &[
    "Purchase Cost",
    "Model Name",
    "Item Name",
    "Manufacturer",
    "Model Number",
    "Serial",
];
pub const INVENTORY_REQUIRED: &[&str] = &["asset_tag", "kind", "site", "purchased", "status"];
pub const INVENTORY_OPTIONAL: &[&str] = &["cost", "model", "life_years", "retired"];

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

/// Snipe-IT's status labels.
pub fn status_of(label: &str) -> Option<&'static str> {
    match label.trim().to_ascii_lowercase().as_str() {
        "deployed" | "active" | "in use" => Some("active"),
        "ready to deploy" | "pending" | "spare" | "out for repair" | "in stock" => Some("spare"),
        "archived" | "retired" | "lost/stolen" | "broken - not fixable" | "disposed" => {
            Some("retired")
        }
        _ => None,
    }
}

fn date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    ["%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
}

/// A cost as written: "$1,099.00", "1099", "1.099,00 €" is not guessed at.
fn money(s: &str) -> Result<Option<f64>, String> {
    let t: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, '$' | '£' | '€' | ',' | ' '))
        .collect();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<f64>()
        .map(Some)
        .map_err(|_| format!("cost not a number: got \"{s}\""))
}

fn push(ctx: &mut Ctx<'_>, fields: [&str; 9]) -> Result<(), Reject> {
    let [
        tag,
        kind,
        site,
        model,
        purchased,
        cost,
        life,
        status,
        retired,
    ] = fields;
    if tag.is_empty() {
        return Err(("asset_tag", "asset tag is empty".into()));
    }
    if site.is_empty() {
        return Err((
            "site",
            "location is empty: expected the site the asset is at".into(),
        ));
    }
    let purchased = date(purchased).ok_or((
        "purchased",
        format!("unreadable purchase date: got \"{purchased}\""),
    ))?;
    let cost = money(cost).map_err(|e| ("cost", e))?;
    let life = match life.trim() {
        "" => None,
        l => Some(l.parse::<f64>().map_err(|_| {
            (
                "life_years",
                format!("life years not a number: got \"{l}\""),
            )
        })?),
    };
    let retired = match retired.trim() {
        "" => None,
        r => Some(date(r).ok_or((
            "retired",
            format!("unreadable retirement date: got \"{r}\""),
        ))?),
    };
    let site = ctx.site(site).0;
    ctx.emit_row(
        Identity::State(tag),
        vec![
            Value::text(tag),
            Value::Str(kind.into()),
            Value::Str(site),
            Value::text(model),
            Value::date(purchased),
            cost.map_or(Value::Null, Value::Float),
            life.map_or(Value::Null, Value::Float),
            Value::Str(status.into()),
            retired.map_or(Value::Null, Value::date),
        ],
        1,
    );
    Ok(())
}

pub fn read_snipe_it(input: &mut CsvInput, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    each_record(
        input,
        ctx,
        "snipe-it",
        (SNIPE_REQUIRED, SNIPE_OPTIONAL),
        &[],
        |rec, cols: &Columns, ctx| {
            let get = |i: usize| cols.text(rec, i);
            let label = get(3)?;
            let status = status_of(label).ok_or_else(|| {
            ("Status", format!("unknown status label \"{label}\": expected Deployed, Ready to Deploy, Pending, Archived (or the like)"))
        })?;
            // Optional columns: 5 cost, 6 model name, 7 item name, 8 manufacturer.
            let model = match (get(8)?, get(6)?) {
                ("", m) => m.to_string(),
                (maker, m) => format!("{maker} {m}").trim().to_string(),
            };
            push(
                ctx,
                [
                    get(0)?,
                    kind_of(get(1)?),
                    get(2)?,
                    &model,
                    get(4)?,
                    get(5)?,
                    "",
                    status,
                    "",
                ],
            )
        },
    )
}

pub fn read_inventory(input: &mut CsvInput, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    each_record(
        input,
        ctx,
        "inventory",
        (INVENTORY_REQUIRED, INVENTORY_OPTIONAL),
        &[],
        |rec, cols: &Columns, ctx| {
            let get = |i: usize| cols.text(rec, i);
            let kind = get(1)?;
            let kind = tally_model::tables::assets::KINDS
                .iter()
                .find(|k| k.eq_ignore_ascii_case(kind))
                .ok_or_else(|| {
                    (
                        "kind",
                        format!(
                            "unknown kind \"{kind}\": expected one of {}",
                            tally_model::tables::assets::KINDS.join(", ")
                        ),
                    )
                })?;
            let status = get(4)?;
            let status = tally_model::tables::assets::STATUSES
                .iter()
                .find(|s| s.eq_ignore_ascii_case(status))
                .ok_or_else(|| {
                    (
                        "status",
                        format!("unknown status \"{status}\": expected active, spare or retired"),
                    )
                })?;
            push(
                ctx,
                [
                    get(0)?,
                    kind,
                    get(2)?,
                    get(6)?,
                    get(3)?,
                    get(5)?,
                    get(7)?,
                    status,
                    get(8)?,
                ],
            )
        },
    )
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
        assert!(money("about 1000").is_err());
        assert_eq!(status_of("Ready to Deploy"), Some("spare"));
    }
}
