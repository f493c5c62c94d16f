//! A generic inventory CSV with the canonical asset columns.

use tally_model::Table;
use tally_model::tables::assets::{KINDS, STATUSES};

use crate::IngestError;
use crate::adapters::assets::{Asset, IDENTITY, push};
use crate::adapters::{Ctx, Input, each_record};
use crate::format::{Detect, FormatSpec, SitePolicy};
use crate::reason::{Code, Reject};

pub static SPEC: FormatSpec = FormatSpec {
    name: "inventory",
    table: Table::Assets,
    detect: Detect::Header(|h| h.has("asset_tag") && h.has("kind") && h.has("purchased")),
    detected_by: "header has asset_tag, kind and purchased",
    required: &["asset_tag", "kind", "site", "purchased", "status"],
    optional: &[
        "cost",
        "model",
        "life_years",
        "retired",
        "serial",
        "manufacturer",
        "os",
        "os_version",
        "name",
    ],
    safe: &[
        "asset_tag",
        "kind",
        "site",
        "purchased",
        "status",
        "cost",
        "model",
        "life_years",
        "retired",
        "serial",
        "manufacturer",
        "os",
        "os_version",
        "name",
    ],
    site_columns: &["site"],
    site: SitePolicy::Column { required: true },
    preamble: &[],
    lookalikes: &[],
    identifiers: false,
    identity: IDENTITY,
    options: &[],
    settings: &[],
    notes: "the canonical asset columns; kind and status must be canonical words",
    read,
};

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    each_record(input, ctx, |rec, cols, ctx| {
        let get = |i: usize| cols.text(rec, i);
        let kind = get(1)?;
        let kind = KINDS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(kind))
            .ok_or_else(|| {
                Reject::new(
                    Code::UnknownValue,
                    "kind",
                    format!("unknown kind: expected one of {}", KINDS.join(", ")),
                )
                .got(kind)
            })?;
        let status = get(4)?;
        let status = STATUSES
            .iter()
            .find(|s| s.eq_ignore_ascii_case(status))
            .ok_or_else(|| {
                Reject::new(
                    Code::UnknownValue,
                    "status",
                    "unknown status: expected active, spare or retired",
                )
                .got(status)
            })?;
        let site = ctx.site_value(rec);
        push(
            ctx,
            &Asset {
                tag: get(0)?,
                kind,
                site,
                model: get(6)?,
                purchased: get(3)?,
                cost: get(5)?,
                life: get(7)?,
                retired: get(8)?,
                status,
                serial: get(9)?,
                manufacturer: get(10)?,
                os: get(11)?,
                os_version: get(12)?,
                name: get(13)?,
                ..Asset::default()
            },
        )
    })
}
