//! osTicket's ticket export (CSV; `;` where the locale's decimal mark is a comma; UTF-8 with a BOM).

use tally_model::Table;

use crate::IngestError;
use crate::adapters::{Ctx, Input, tickets};
use crate::format::{Detect, FormatSpec, SitePolicy};

pub static SPEC: FormatSpec = FormatSpec {
    name: "osticket",
    table: Table::WorkOrders,
    detect: Detect::Header(|h| h.has("Ticket Number") && h.has("Date Created|Date")),
    detected_by: "header has Ticket Number and Date Created (osTicket 1.9: Date)",
    // In the canonical order of tickets.rs: id, opened, status, priority.
    required: &[
        "Ticket Number",
        "Date Created|Date",
        "Current Status",
        "Priority",
    ],
    // resolved, category, asset, assignee.
    optional: &[
        "Closed Date",
        "Help Topic",
        "Asset Tag",
        "Agent Assigned|Assigned To",
    ],
    safe: &[
        "Ticket Number",
        "Date Created|Date",
        "Priority",
        "Department",
        "Help Topic",
        "Source",
        "Current Status",
        "Last Updated",
        "SLA Due Date",
        "Due Date",
        "Closed Date",
        "Overdue",
        "Merged",
        "Linked",
        "Answered",
        "Team Assigned",
        "Thread Count",
        "Reopen Count",
        "Attachment Count",
        "Task Count",
        "Location",
        "Asset Tag",
    ],
    site_columns: &["Location", "Branch", "Department", "Help Topic"],
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
    tickets::read(input, ctx, None)
}
