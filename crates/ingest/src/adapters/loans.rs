//! What the loan formats share (Koha's `old_issues`, Evergreen's `action.circulation`):
//! one row per loan, which becomes checkout, renewal and checkin events.

use crate::Pseudonym;
use crate::adapters::{Ctx, circulation_row};
use crate::rows::Cell;

/// A patron or item identifier as a pseudonym; empty and SQL's NULL are none.
pub fn key(ctx: &mut Ctx<'_>, id: Option<&str>) -> Option<Pseudonym> {
    id.filter(|s| !s.is_empty() && *s != "NULL")
        .map(|s| ctx.key_of(s))
}

/// A canonical circulation event of a loan.
pub fn event_row<'r>(
    time: i64,
    site: &'r str,
    event: &'static str,
    patron_key: Option<Pseudonym>,
    item_key: Option<Pseudonym>,
    automatic: Option<bool>,
) -> [Cell<'r>; 10] {
    circulation_row(time, site, event, patron_key, item_key, automatic)
}

/// The flag words SQL exports write for a boolean.
pub fn flag(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "t" | "true" | "1" | "y" | "yes"
    )
}
