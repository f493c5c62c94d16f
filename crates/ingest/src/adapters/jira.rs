//! Jira Service Management's CSV export (`14/Jul/25 3:42 PM` dates; multi-value fields repeat the column name).

use tally_model::Table;

use crate::IngestError;
use crate::adapters::{Ctx, Input, tickets};
use crate::format::{Detect, FormatSpec, SitePolicy};

pub static SPEC: FormatSpec = FormatSpec {
    name: "jira",
    table: Table::WorkOrders,
    detect: Detect::Header(|h| h.has("Issue key") && h.has("Created")),
    detected_by: "header has Issue key and Created",
    // In the canonical order of tickets.rs: id, opened, status, priority.
    required: &[
        "Issue key",
        "Created",
        "Status",
        "Priority",
    ],
    // resolved, category, asset, assignee.
    optional: &[
        "Resolved",
        "Custom field (Request Type)",
        "Custom field (Asset Tag)",
        "Assignee",
    ],
    safe: &[
        "Issue key",
        "Issue id",
        "Issue Type",
        "Status",
        "Priority",
        "Resolution",
        "Created",
        "Updated",
        "Resolved",
        "Due date",
        "Custom field (Request Type)",
        "Custom field (Branch)",
        "Custom field (Asset Tag)",
        "Project key",
        "Project name",
        "Project type",
    ],
    site_columns: &["Custom field (Branch)", "Custom field (Location)", "Custom field (Site)", "Component/s"],
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
