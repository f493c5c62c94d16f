//! Canonical tables: names, columns and Arrow types. SQL users, tests and reports rely on
//! these names; docs/lake.md and ARCHITECTURE.md are the prose version of this file.

use polars::prelude::*;

/// The longest session believed: a day. Longer is a crashed session whose logout was
/// written at the next login (Libki), a machine left logged on, or a clock error: ingest
/// quarantines it, and metrics look back this far (twice, for a margin) for sessions
/// that overlap a period.
pub const MAX_SESSION_US: i64 = 24 * 3600 * 1_000_000;

/// The tables of the lake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Sessions,
    Circulation,
    WorkOrders,
    Wifi,
    Assets,
    Totals,
    Peers,
    Prints,
}

impl Table {
    pub const ALL: [Table; 8] = [
        Table::Sessions,
        Table::Circulation,
        Table::WorkOrders,
        Table::Wifi,
        Table::Assets,
        Table::Totals,
        Table::Peers,
        Table::Prints,
    ];

    /// The table's name: its folder in the lake and its name in SQL.
    pub fn name(self) -> &'static str {
        match self {
            Table::Sessions => "sessions",
            Table::Circulation => "circulation",
            Table::WorkOrders => "work_orders",
            Table::Wifi => "wifi",
            Table::Assets => "assets",
            Table::Totals => "totals",
            Table::Peers => "peers",
            Table::Prints => "prints",
        }
    }

    pub fn parse(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The column whose UTC year and month choose the Hive partition of a row.
    pub fn partition_column(self) -> &'static str {
        match self {
            Table::Sessions | Table::Wifi => "start",
            Table::Circulation | Table::Prints => "time",
            Table::WorkOrders => "opened",
            Table::Assets => "purchased",
            Table::Totals | Table::Peers => "period_start",
        }
    }
}

impl std::str::FromStr for Table {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Table::parse(s.trim()).ok_or_else(|| {
            format!(
                "unknown table \"{}\"; known: {}",
                s.trim(),
                Table::ALL.map(|t| t.name()).join(", ")
            )
        })
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Who sat at the computer. Staff sessions are excluded from the survey's count of uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserType {
    Patron,
    Guest,
    Staff,
    Unknown,
}

impl UserType {
    pub const ALL: [UserType; 4] = [
        UserType::Patron,
        UserType::Guest,
        UserType::Staff,
        UserType::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Patron => "patron",
            UserType::Guest => "guest",
            UserType::Staff => "staff",
            UserType::Unknown => "unknown",
        }
    }
}

/// Pseudonyms (`patron_key`, `item_key`, `device_key`) are signed 64-bit numbers (every
/// Parquet reader has those; Spark has no unsigned ones): the first eight bytes,
/// big-endian, of HMAC-SHA-256 of the identifier under the library's key.
///
/// Every table ends with `row_key` (a 64-bit content key: xxh3 of the source format and
/// the row's canonical values, by which ingest recognises a row it already has),
/// `source` (the format name) and `batch` (the ledger batch).
///
/// The UTC timestamp type of every instant in the lake.
pub fn utc_datetime() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
}

impl Table {
    /// Column names and types, in the order they are stored.
    pub fn schema(self) -> Schema {
        match self {
            Table::Sessions => sessions::schema(),
            Table::Circulation => circulation::schema(),
            Table::WorkOrders => work_orders::schema(),
            Table::Wifi => wifi::schema(),
            Table::Assets => assets::schema(),
            Table::Totals => totals::schema(),
            Table::Peers => peers::schema(),
            Table::Prints => prints::schema(),
        }
    }

    /// For tables where each export states the current state of a thing, the columns
    /// that name the thing: the row of the latest batch is current (docs/lake.md: latest state
    /// wins). `None` for event tables, where every row counts.
    pub fn current_key(self) -> Option<&'static [&'static str]> {
        match self {
            Table::WorkOrders => Some(&["source", "ticket_id"]),
            Table::Assets => Some(&["origin", "asset_tag"]),
            Table::Totals => Some(&["site", "period_start", "period_end", "measure"]),
            Table::Peers => Some(&["fscskey", "year"]),
            _ => None,
        }
    }

    /// Columns that are never null (besides `source` and `batch`).
    pub fn required(self) -> &'static [&'static str] {
        match self {
            Table::Sessions => &["site", "start", "end", "duration_s", "user_type"],
            Table::Circulation => &["time", "site", "event"],
            Table::WorkOrders => &["ticket_id", "opened", "status", "priority"],
            Table::Wifi => &["site", "start", "device_key"],
            Table::Assets => &["asset_tag", "kind", "site", "purchased", "status"],
            Table::Totals => &["period_start", "period_end", "measure", "value"],
            Table::Peers => &["fscskey", "year", "period_start"],
            Table::Prints => &["time", "site", "printer", "pages", "copies", "user_type"],
        }
    }
}

fn fields(columns: &[(&str, DataType)]) -> Schema {
    Schema::from_iter(
        columns
            .iter()
            .map(|(n, t)| Field::new((*n).into(), t.clone())),
    )
}

/// `circulation`: one row per circulation event.
pub mod circulation {
    use super::*;

    pub const EVENTS: [&str; 6] = [
        "checkout",
        "renewal",
        "checkin",
        "in_house_use",
        "hold_placed",
        "hold_filled",
    ];

    pub fn schema() -> Schema {
        fields(&[
            ("time", utc_datetime()),
            ("site", DataType::String),
            ("event", DataType::String),
            ("item_type", DataType::String),
            ("collection", DataType::String),
            ("location", DataType::String),
            ("patron_category", DataType::String),
            ("patron_key", DataType::Int64),
            ("item_key", DataType::Int64),
            // A renewal made by the system, not the patron (null where the source does not
            // say): counted in circulation or not by the library's setting.
            ("automatic", DataType::Boolean),
            ("row_key", DataType::UInt64),
            ("source", DataType::String),
            ("batch", DataType::String),
        ])
    }
}

/// `work_orders`: one row per help-desk ticket as exported; the latest export of a
/// (source, ticket_id) wins when read.
pub mod work_orders {
    use super::*;

    pub const STATUSES: [&str; 6] = [
        "open",
        "in_progress",
        "waiting",
        "resolved",
        "closed",
        "cancelled",
    ];
    pub const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

    pub fn schema() -> Schema {
        fields(&[
            ("ticket_id", DataType::String),
            ("opened", utc_datetime()),
            ("resolved", utc_datetime()),
            ("status", DataType::String),
            ("priority", DataType::String),
            ("category", DataType::String),
            ("site", DataType::String),
            ("asset_tag", DataType::String),
            ("assignee", DataType::String),
            ("row_key", DataType::UInt64),
            ("source", DataType::String),
            ("batch", DataType::String),
        ])
    }
}

/// `wifi`: one row per wireless connection; MAC addresses only as keyed hashes.
pub mod wifi {
    use super::*;

    pub fn schema() -> Schema {
        fields(&[
            ("site", DataType::String),
            ("start", utc_datetime()),
            ("end", utc_datetime()),
            ("device_key", DataType::Int64),
            ("ssid", DataType::String),
            ("bytes", DataType::Int64),
            ("row_key", DataType::UInt64),
            ("source", DataType::String),
            ("batch", DataType::String),
        ])
    }
}

/// `assets`: the IT equipment inventory; the latest export of an asset_tag wins when read.
pub mod assets {
    use super::*;

    pub const KINDS: [&str; 9] = [
        "public_pc",
        "staff_pc",
        "laptop",
        "tablet",
        "printer",
        "network",
        "server",
        "av",
        "other",
    ];
    pub const STATUSES: [&str; 3] = ["active", "spare", "retired"];
    /// `origin`: an inventory (Snipe-IT, the inventory CSV: purchase, cost, life) or a
    /// directory (Active Directory, Intune: OS, last seen). The current state of a thing
    /// is per origin and asset tag; docs/support.md says how the two are joined.
    pub const INVENTORY: &str = "inventory";
    pub const DIRECTORY: &str = "directory";

    pub fn schema() -> Schema {
        fields(&[
            ("asset_tag", DataType::String),
            ("kind", DataType::String),
            ("site", DataType::String),
            ("model", DataType::String),
            ("purchased", DataType::Date),
            ("cost", DataType::Float64),
            ("life_years", DataType::Float64),
            ("status", DataType::String),
            ("retired", DataType::Date),
            // Lake format 3: what a directory or device manager knows of the device.
            ("origin", DataType::String),
            ("name", DataType::String),
            ("serial", DataType::String),
            ("manufacturer", DataType::String),
            ("os", DataType::String),
            ("os_version", DataType::String),
            ("last_seen", DataType::Date),
            ("row_key", DataType::UInt64),
            ("source", DataType::String),
            ("batch", DataType::String),
        ])
    }
}

/// `peers`: every public library's figures from the IMLS Public Libraries Survey, a row
/// per library and survey year. Missing values (the survey's -1, -3, -4, -9) are null.
/// `period_start` is the library's own reporting year's first day (STARTDAT).
pub mod peers {
    use super::*;

    pub fn schema() -> Schema {
        fields(&[
            ("year", DataType::Int64),
            ("fscskey", DataType::String),
            ("name", DataType::String),
            ("state", DataType::String),
            ("period_start", DataType::Date),
            ("population", DataType::Float64),
            ("hours_open", DataType::Float64),
            ("visits", DataType::Float64),
            ("circulation", DataType::Float64),
            ("computers", DataType::Float64),
            ("computer_uses", DataType::Float64),
            ("wifi_sessions", DataType::Float64),
            ("row_key", DataType::UInt64),
            ("source", DataType::String),
            ("batch", DataType::String),
        ])
    }
}

/// `prints`: one row per print job (PaperCut Print Logger). `station` is the computer the
/// job came from (the log's client), `pages` the pages of one copy, `copies` the copies:
/// pages printed = pages x copies. The document's name is never stored.
pub mod prints {
    use super::*;

    pub fn schema() -> Schema {
        fields(&[
            ("time", utc_datetime()),
            ("site", DataType::String),
            ("printer", DataType::String),
            ("station", DataType::String),
            ("pages", DataType::Int64),
            ("copies", DataType::Int64),
            ("duplex", DataType::Boolean),
            ("grayscale", DataType::Boolean),
            ("paper_size", DataType::String),
            ("size_kb", DataType::Float64),
            ("user_type", DataType::String),
            ("patron_key", DataType::Int64),
            ("row_key", DataType::UInt64),
            ("source", DataType::String),
            ("batch", DataType::String),
        ])
    }
}

/// `totals`: counts that exist only as aggregates; `site` null is the whole library;
/// `period_end` is exclusive.
pub mod totals {
    use super::*;

    pub fn schema() -> Schema {
        fields(&[
            ("site", DataType::String),
            ("period_start", DataType::Date),
            ("period_end", DataType::Date),
            ("measure", DataType::String),
            ("value", DataType::Float64),
            ("row_key", DataType::UInt64),
            ("source", DataType::String),
            ("batch", DataType::String),
        ])
    }
}

/// `sessions`: one row per public-computer session.
pub mod sessions {
    use super::*;

    pub const SITE: &str = "site";
    pub const STATION: &str = "station";
    pub const START: &str = "start";
    pub const END: &str = "end";
    pub const DURATION_S: &str = "duration_s";
    pub const USER_TYPE: &str = "user_type";
    pub const PATRON_KEY: &str = "patron_key";
    pub const ROW_KEY: &str = "row_key";
    pub const SOURCE: &str = "source";
    pub const BATCH: &str = "batch";

    /// Column names and types, in the order they are stored. `station` and `patron_key`
    /// may be null: some exports have no machine name, and guests have no patron.
    pub fn schema() -> Schema {
        Schema::from_iter([
            Field::new(SITE.into(), DataType::String),
            Field::new(STATION.into(), DataType::String),
            Field::new(START.into(), utc_datetime()),
            Field::new(END.into(), utc_datetime()),
            Field::new(DURATION_S.into(), DataType::Int64),
            Field::new(USER_TYPE.into(), DataType::String),
            Field::new(PATRON_KEY.into(), DataType::Int64),
            Field::new(ROW_KEY.into(), DataType::UInt64),
            Field::new(SOURCE.into(), DataType::String),
            Field::new(BATCH.into(), DataType::String),
        ])
    }
}
