//! What Libki's session actions mean, for both Libki formats (the `statistics` table and
//! the History page).

use crate::adapters::Ctx;
use crate::reason::Code;

/// Whether an action starts a session (LOGIN) or ends one (LOGOUT, FORCE_LOGOUT,
/// SESSION_DELETED); any other action is excluded by rule, counted by its name.
pub fn session_action(action: &str, ctx: &mut Ctx<'_>) -> Option<bool> {
    if action.eq_ignore_ascii_case("LOGIN") {
        return Some(true);
    }
    if ["LOGOUT", "FORCE_LOGOUT", "SESSION_DELETED"]
        .iter()
        .any(|a| action.eq_ignore_ascii_case(a))
    {
        return Some(false);
    }
    ctx.tally
        .exclude(Code::NotSessionEvent, &action.to_ascii_uppercase());
    None
}

/// Whether a LOGIN's `info` JSON says the user is staff (`"user_category": "Staff"`).
pub fn staff_category(info: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(info)
        .ok()
        .and_then(|v| {
            v.get("user_category")
                .and_then(|c| c.as_str().map(|c| c.eq_ignore_ascii_case("staff")))
        })
        .unwrap_or(false)
}
