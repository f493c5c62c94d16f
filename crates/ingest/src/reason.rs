//! Why a row was not stored: a closed set of stable codes, each with its fate
//! (quarantined: the row is wrong; excluded: the row is right but not counted, by a
//! rule) and prose for people. The ledger and `tally ingest --json` carry the codes
//! (`excluded`, `quarantined`) and, beside them, each code's messages with their counts
//! (`reasons`); the quarantine file has the code and the full message of every row.
//! docs/formats.md lists them.

/// The fate a code gives a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    BadIdentifier => ("bad_identifier", Quarantined, "an identifier of the wrong shape (a MAC address)"),
    BadLine => ("bad_line", Quarantined, "a line that is not a record of the format"),
    // Excluded: the row is read and set aside by a rule.
    InLake => ("in_lake", Excluded, "already in the lake (an overlapping export)"),
    DuplicateRecord => ("duplicate_record", Excluded, "the record's own key repeats within the file"),
    NotCirculation => ("not_circulation", Excluded, "a transaction that is not circulation (a payment, a hold, a user edit)"),
    NotSessionEvent => ("not_session_event", Excluded, "an event that neither starts nor ends a session"),
    MachineAccount => ("machine_account", Excluded, "a machine account's logon (its name ends in $)"),
    NotInteractive => ("not_interactive", Excluded, "a logon that is not at the keyboard or by remote desktop"),
    NoUse => ("no_use", Excluded, "no minutes used: a declined policy or a no-show"),
    AlreadyEnded => ("already_ended", Excluded, "a later end row of a session already ended"),
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_snake_case() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "{c:?} twice");
            assert!(c.as_str().chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'));
            assert!(!c.prose().is_empty());
        }
    }
}
