//! Request Tracker's spreadsheet export (`Results.tsv`: tab-separated, `#` written as `id`, newlines in values as spaces).

use tally_model::Table;

use crate::IngestError;
use crate::adapters::{Ctx, Input, tickets};
use crate::format::{Detect, FormatSpec, SitePolicy};

pub static SPEC: FormatSpec = FormatSpec {
    name: "rt",
    table: Table::WorkOrders,
    detect: Detect::Header(|h| {
        h.has("id") && h.has("Created|CreatedRelative") && h.has("Queue|QueueName")
    }),
    detected_by: "header has id, Created and Queue (RT 5.0.6 and later), or CreatedRelative and QueueName (the \
                  default format of earlier versions)",
    // In the canonical order of tickets.rs: id, opened, status, priority.
    required: &[
        "id",
        "Created|CreatedRelative",
        "Status",
        "Priority|PriorityAsString",
    ],
    // resolved, category, asset, assignee.
    optional: &[
        "Resolved|ResolvedRelative",
        "Queue|QueueName",
        "Asset",
        "Owner|OwnerName",
    ],
    safe: &[
        "id",
        "Created|CreatedRelative",
        "Resolved|ResolvedRelative",
        "Status",
        "Priority|PriorityAsString",
        "Queue|QueueName",
        "Location",
        "Asset",
        "LastUpdated",
        "Told",
        "Due",
        "Started",
        "Starts",
        "TimeWorked",
        "TimeLeft",
        "TimeEstimated",
    ],
    site_columns: &["CF.{Branch}", "CF.{Location}", "CustomField.{Branch}", "CustomField.{Location}", "Location", "Queue"],
    site: SitePolicy::Column { required: false },
    preamble: &[],
    lookalikes: &[],
    identifiers: false,
    identity: "the ticket's state: a re-export with the same state is in the lake already; the latest export of a ticket wins when read",
    options: &["--tz"],
    settings: &[],
    notes: tickets::NOTES,
    read,
};

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    tickets::read(input, ctx, Some(
            "dates are relative (\"3 hours ago\"): RT's default search format exports them that way. \
             In RT's query builder, add the Created and Resolved columns as dates (e.g. __Created__ and \
             __Resolved__ in Advanced), then export the spreadsheet again",
        ))
}
