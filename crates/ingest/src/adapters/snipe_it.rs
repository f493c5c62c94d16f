//! Snipe-IT's asset export (Admin > Assets > Export, or the importer's layout).

use tally_model::Table;

use crate::IngestError;
use crate::adapters::assets::{IDENTITY, kind_of, push, status_of};
use crate::adapters::{Ctx, Input, each_record};
use crate::format::{Detect, FormatSpec};
use crate::reason::{Code, Reject};

pub static SPEC: FormatSpec = FormatSpec {
    name: "snipe-it",
    table: Table::Assets,
    detect: Detect::Header(|h| h.has("Asset Tag") && h.has("Purchase Date")),
    detected_by: "header has Asset Tag and Purchase Date",
    required: &[
        "Asset Tag",
        "Category",
        "Location",
        "Status",
        "Purchase Date",
    ],
    optional: &[
        "Purchase Cost",
        "Model Name",
        "Item Name",
        "Manufacturer",
        "Model Number",
        "Serial",
    ],
    safe: &[
        "Asset Tag",
        "Category",
        "Location",
        "Status",
        "Purchase Date",
        "Purchase Cost",
        "Model Name",
        "Manufacturer",
        "Model Number",
        "Serial",
        "Warranty",
        "Order Number",
        // The canonical names the reasons use.
        "asset_tag",
        "site",
        "purchased",
        "cost",
    ],
    site_columns: &["Location", "Default Location"],
    identifiers: false,
    identity: IDENTITY,
    options: &[],
    notes: "kind from the category (public, desktop, laptop, tablet, printer, network, server, AV words); status \
            from the label (Deployed = active, Ready to Deploy/Pending = spare, Archived = retired)",
    read,
};

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    each_record(input, ctx, |rec, cols, ctx| {
        let get = |i: usize| cols.text(rec, i);
        let label = get(3)?;
        let status = status_of(label).ok_or_else(|| {
            Reject::new(
                Code::UnknownValue,
                "Status",
                "unknown status label: expected Deployed, Ready to Deploy, Pending, Archived (or the like)",
            )
            .got(label)
        })?;
        // Optional columns: 5 cost, 6 model name, 7 item name, 8 manufacturer.
        let model = match (get(8)?, get(6)?) {
            ("", m) => m.to_string(),
            (maker, m) => format!("{maker} {m}").trim().to_string(),
        };
        let site = ctx.site_value(rec);
        push(
            ctx,
            [
                get(0)?,
                kind_of(get(1)?),
                site,
                &model,
                get(4)?,
                get(5)?,
                "",
                status,
                "",
            ],
        )
    })
}
