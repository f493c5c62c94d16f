//! GLPI's ticket list export (CSV; the delimiter is a per-user setting; CRLF; the titles are the user's list-view columns).

use tally_model::Table;

use crate::IngestError;
use crate::adapters::{Ctx, Input, tickets};
use crate::format::{Detect, FormatSpec, SitePolicy};

/// The opening date's title in English and French (with either apostrophe).
const OPENED: &str = "Opening date|Date d'ouverture|Date d’ouverture";

pub static SPEC: FormatSpec = FormatSpec {
    name: "glpi",
    table: Table::WorkOrders,
    detect: Detect::Header(|h| h.has("ID") && h.has(OPENED)),
    detected_by: "header has ID and Opening date (English) or Date d'ouverture (French)",
    // In the canonical order of tickets.rs: id, opened, status, priority.
    required: &["ID", OPENED, "Status|Statut", "Priority|Priorité"],
    // resolved, category, asset, assignee.
    optional: &[
        "Resolution date|Date de résolution",
        "Category|Catégorie",
        "Associated element|Éléments associés|Elément associé",
        "Assigned to - Technician|Attribué à - Technicien",
    ],
    safe: &[
        "ID",
        OPENED,
        "Resolution date|Date de résolution",
        "Statut",
        "Priorité",
        "Catégorie",
        "Lieu",
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
