//! A generic inventory CSV with the canonical asset columns.

use tally_model::Table;
use tally_model::tables::assets::{KINDS, STATUSES};

use crate::IngestError;
use crate::adapters::assets::{IDENTITY, push};
use crate::adapters::{Ctx, Input, each_record};
use crate::format::{Detect, FormatSpec};
use crate::reason::{Code, Reject};

pub static SPEC: FormatSpec = FormatSpec {
    name: "inventory",
    table: Table::Assets,
    detect: Detect::Header(|h| h.has("asset_tag") && h.has("kind") && h.has("purchased")),
    detected_by: "header has asset_tag, kind and purchased",
    required: &["asset_tag", "kind", "site", "purchased", "status"],
    optional: &["cost", "model", "life_years", "retired"],
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
    ],
    site_columns: &["site"],
    identifiers: false,
    identity: IDENTITY,
    options: &[],
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
            [
                get(0)?,
                kind,
                site,
                get(6)?,
                get(3)?,
                get(5)?,
                get(7)?,
                status,
                get(8)?,
            ],
        )
    })
}
