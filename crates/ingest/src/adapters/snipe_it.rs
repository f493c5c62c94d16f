//! Snipe-IT's asset export (Admin > Assets > Export, or the importer's layout).

use tally_model::Table;

use crate::IngestError;
use crate::adapters::assets::{Asset, IDENTITY, kind_of, push, status_of};
use crate::adapters::{Ctx, Input, each_record};
use crate::format::{Detect, FormatSpec, Setting, SitePolicy};
use crate::reason::{Code, Reject};

pub static SPEC: FormatSpec = FormatSpec {
    name: "snipe-it",
    table: Table::Assets,
    detect: Detect::Header(|h| h.has("Asset Tag") && h.has("Purchase Date|Purchased")),
    detected_by: "header has Asset Tag and Purchase Date (the Custom Asset Report: Purchased)",
    required: &["Asset Tag", "Category", "Status", "Purchase Date|Purchased"],
    optional: &[
        "Purchase Cost|Cost",
        "Model Name|Model",
        "Item Name|Asset Name|Name",
        "Manufacturer",
        "Model Number|Model No.",
        "Serial",
        "Operating System|OS|_snipeit_operating_system",
        "OS Version|Operating System Version|_snipeit_os_version",
    ],
    safe: &[
        "Asset Tag",
        "Category",
        "Location",
        "Default Location",
        "Status",
        "Purchase Date|Purchased",
        "Purchase Cost|Cost",
        "Model Name|Model",
        "Manufacturer",
        "Model Number|Model No.",
        "Serial",
        "Operating System|OS|_snipeit_operating_system",
        "OS Version|Operating System Version|_snipeit_os_version",
        "Warranty",
        "Order Number",
        // The canonical names the reasons use.
        "asset_tag",
        "site",
        "purchased",
        "cost",
    ],
    site_columns: &["Location", "Default Location"],
    site: SitePolicy::Column { required: true },
    preamble: &[],
    lookalikes: &[],
    identifiers: false,
    identity: IDENTITY,
    options: &[],
    settings: &[
        Setting {
            name: "os-column",
            value: "NAME",
            about: "the custom field that holds the OS, when not Operating System or OS",
        },
    ],
    notes: "the asset export or the Custom Asset Report; kind from the category (public, desktop, laptop, tablet, \
            printer, network, server, AV words); status from the label (Deployed = active, Ready to Deploy/Pending = \
            spare, Archived = retired), or from its type in brackets (`Broken (undeployable)`); costs with a \
            decimal point or comma (`1,099.00`, `1.099,00`)",
    read,
};

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    // A custom field of the library's own name for the OS (`--os-column`).
    let os_column = match ctx.setting("os-column").map(str::to_string) {
        Some(name) => {
            let csv = input.csv()?;
            Some(csv.position(&name).ok_or_else(|| IngestError::MissingColumns {
                path: csv.path.clone(),
                format: SPEC.name.into(),
                missing: vec![name.clone()],
                expected: vec![format!("{name} (--os-column)")],
                found: csv.header.clone(),
            })?)
        }
        None => None,
    };
    each_record(input, ctx, |rec, cols, ctx| {
        let get = |i: usize| cols.text(rec, i);
        let os = match os_column {
            Some(i) => rec
                .get(i)
                .map(|b| {
                    std::str::from_utf8(b)
                        .map(str::trim)
                        .map_err(|_| Reject::new(Code::NotUtf8, "os", "not text"))
                })
                .transpose()?
                .unwrap_or(""),
            None => get(10)?,
        };
        let label = get(2)?;
        let status = status_of(label).ok_or_else(|| {
            Reject::new(
                Code::UnknownValue,
                "Status",
                "unknown status label: expected Deployed, Ready to Deploy, Pending, Archived (or the like)",
            )
            .got(label)
        })?;
        // Optional columns: 4 cost, 5 model name, 6 item name, 7 manufacturer, 8 model
        // number, 9 serial, 10 and 11 the OS custom fields.
        let model = match (get(7)?, get(5)?) {
            ("", m) => m.to_string(),
            (maker, m) => format!("{maker} {m}").trim().to_string(),
        };
        let site = ctx.site_value(rec);
        push(
            ctx,
            &Asset {
                tag: get(0)?,
                kind: kind_of(get(1)?),
                site,
                model: &model,
                purchased: get(3)?,
                cost: get(4)?,
                status,
                name: get(6)?,
                manufacturer: get(7)?,
                serial: get(9)?,
                os,
                os_version: get(11)?,
                ..Asset::default()
            },
        )
    })
}
