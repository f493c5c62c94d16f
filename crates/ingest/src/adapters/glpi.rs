//! GLPI's ticket list export (CSV; the delimiter is a per-user setting; CRLF; the titles are the user's list-view columns).

use tally_model::Table;

use crate::IngestError;
use crate::adapters::{Ctx, Input, tickets};
use crate::format::{Detect, FormatSpec};

pub static SPEC: FormatSpec = FormatSpec {
    name: "glpi",
    table: Table::WorkOrders,
    detect: Detect::Header(|h| h.has("ID") && h.has("Opening date")),
    detected_by: "header has ID and Opening date",
    // In the canonical order of tickets.rs: id, opened, status, priority.
    required: &[
        "ID",
        "Opening date",
        "Status",
        "Priority",
    ],
    // resolved, category, asset, assignee.
    optional: &[
        "Resolution date",
        "Category",
        "Associated element",
        "Assigned to - Technician",
    ],
    safe: &[
        "ID",
        "Opening date",
        "Resolution date",
        "Last update",
        "Status",
        "Priority",
        "Urgency",
        "Impact",
        "Type",
        "Category",
        "Location",
        "Associated element",
        "Entity",
        "Closing date",
        "Time to resolve",
    ],
    site_columns: &["Location", "Lieu", "Entity", "Entité"],
    identifiers: false,
    identity: "the ticket's state: a re-export with the same state is in the lake already; the latest export of a ticket wins when read",
    options: &["--tz"],
    notes: tickets::NOTES,
    read,
};

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    tickets::read(input, ctx, None)
}
