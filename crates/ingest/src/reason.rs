//! Why a row was not stored: a closed set of stable codes, each with its fate
//! (quarantined: the row is wrong; excluded: the row is right but set aside by a rule)
//! and prose for people.
//!
//! The ledger and `tally ingest --json` carry the codes with their row counts
//! (`quarantined`, `excluded`) and, beside them, `reasons`: per code the detail (the
//! column of a quarantined row, the vendor's word of an excluded one) with its count and
//! the code's prose. The quarantine file has the code and the full message of every row.
//! `docs/formats.md` lists the codes.

use std::borrow::Cow;

/// The fate a code gives a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fate {
    Quarantined,
    Excluded,
}

impl Fate {
    pub fn as_str(self) -> &'static str {
        match self {
            Fate::Quarantined => "quarantined",
            Fate::Excluded => "excluded",
        }
    }
}

macro_rules! codes {
    ($($variant:ident => ($code:literal, $fate:ident, $prose:literal),)*) => {
        /// A stable reason code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as the ledger and `--json` spell it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            pub fn fate(self) -> Fate {
                match self {
                    $(Code::$variant => Fate::$fate,)*
                }
            }

            /// What the code means, for people.
            pub fn prose(self) -> &'static str {
                match self {
                    $(Code::$variant => $prose,)*
                }
            }
        }
    };
}

codes! {
    // Quarantined: the row cannot be read as a record.
    WrongFieldCount => ("wrong_field_count", Quarantined, "the row has more or fewer fields than the header: truncated or shifted"),
    FieldTooLong => ("field_too_long", Quarantined, "a field longer than any export value (64 KiB): a runaway quote"),
    NotUtf8 => ("not_utf8", Quarantined, "a field that is not text in the file's encoding"),
    BadTime => ("bad_time", Quarantined, "a date or time that cannot be read in the format's layouts"),
    RelativeTime => ("relative_time", Quarantined, "a relative date (\"3 hours ago\") where a date is needed"),
    DstGap => ("dst_gap", Quarantined, "a local time that does not exist: skipped by the change to daylight saving time"),
    BadNumber => ("bad_number", Quarantined, "a number that is not a number or out of its range"),
    MissingValue => ("missing_value", Quarantined, "a value the record cannot do without is empty or absent"),
    UnknownValue => ("unknown_value", Quarantined, "a word the format does not know (a status, priority, kind or user type)"),
    BadOrder => ("bad_order", Quarantined, "times in the wrong order (ends before it starts, resolved before opened)"),
    TooLong => ("too_long", Quarantined, "a session longer than a day: a crash whose logout came at the next login, or a clock error"),
    Unpaired => ("unpaired", Quarantined, "a start or end row without its other half in the file"),
    RepeatedStart => ("repeated_start", Quarantined, "a second start row for a session id still open (a reused id)"),
    BadIdentifier => ("bad_identifier", Quarantined, "an identifier of the wrong shape (a MAC address)"),
    BadLine => ("bad_line", Quarantined, "a line that is not a record of the format"),
    // Excluded: the row is read and set aside by a rule.
    InLake => ("in_lake", Excluded, "already in the lake (an overlapping export)"),
    DuplicateRecord => ("duplicate_record", Excluded, "the record's own key repeats within the file"),
    NotCirculation => ("not_circulation", Excluded, "a transaction that is not circulation (a payment, a hold, a user edit)"),
    NotSessionEvent => ("not_session_event", Excluded, "an event that neither starts nor ends a session (a lock, an admin action)"),
    MachineAccount => ("machine_account", Excluded, "a machine account's logon (its name ends in $)"),
    NotInteractive => ("not_interactive", Excluded, "a logon that is not at the keyboard or by remote desktop"),
    NoUse => ("no_use", Excluded, "no minutes used: a declined policy or a no-show"),
    NoPages => ("no_pages", Excluded, "a print job that printed no page (cancelled, deleted or failed)"),
    AlreadyEnded => ("already_ended", Excluded, "a later end row of a session already ended"),
    TotalRow => ("total_row", Excluded, "a row that sums other rows (Total, Grand Total): the rows it sums are stored"),
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why one record is quarantined: the code, the column (empty for the whole row), what
/// was expected, and the value found. The value is shown as written only when the
/// format declares its column safe; else it is masked (see [`mask_value`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    pub code: Code,
    pub column: Cow<'static, str>,
    pub message: String,
    pub got: Option<String>,
}

impl Reject {
    pub fn new(
        code: Code,
        column: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Reject {
        debug_assert_eq!(
            code.fate(),
            Fate::Quarantined,
            "{code} is not a quarantine code"
        );
        Reject {
            code,
            column: column.into(),
            message: message.into(),
            got: None,
        }
    }

    /// The value found, shown after the message (masked unless its column is safe).
    pub fn got(mut self, value: &str) -> Reject {
        self.got = Some(value.to_string());
        self
    }

    /// The full text of the quarantine file's `reason` column.
    pub fn text(&self, show_value: bool) -> String {
        match &self.got {
            None => self.message.clone(),
            Some(v) if show_value => format!("{}: got \"{v}\"", self.message),
            Some(v) => format!("{}: got \"{}\"", self.message, mask_value(v)),
        }
    }
}

/// A value with its letters and digits replaced (`x`/`X` for letters, `9` for digits) and
/// everything else kept: its length and shape survive ("9/99/9999", "xxxx@xxxxx.xxx"), so a
/// reason still makes sense, and what it said does not.
pub fn mask_value(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                '9'
            } else if c.is_uppercase() {
                'X'
            } else if c.is_alphabetic() || c.is_numeric() {
                'x'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_snake_case() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "{c:?} twice");
            assert!(
                c.as_str()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
            );
            assert!(!c.prose().is_empty());
        }
    }

    #[test]
    fn masking_keeps_shape() {
        assert_eq!(mask_value("6/21/2025 4:15 PM"), "9/99/9999 9:99 XX");
        assert_eq!(mask_value("Jane.Doe@mail.org"), "Xxxx.Xxx@xxxx.xxx");
        let r = Reject::new(Code::BadTime, "From", "unreadable").got("Jane");
        assert_eq!(r.text(false), "unreadable: got \"Xxxx\"");
        assert_eq!(r.text(true), "unreadable: got \"Jane\"");
    }
}
