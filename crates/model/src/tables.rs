//! Canonical tables: names, columns and Arrow types. SQL users, tests and reports rely on
//! these names; DESIGN.md is the prose version of this file.

use polars::prelude::*;

/// The tables of the lake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Sessions,
    Circulation,
    WorkOrders,
    Wifi,
    Assets,
    Totals,
}

impl Table {
    pub const ALL: [Table; 6] = [
        Table::Sessions,
        Table::Circulation,
        Table::WorkOrders,
        Table::Wifi,
        Table::Assets,
        Table::Totals,
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
        }
    }

    pub fn parse(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The column whose UTC year and month choose the Hive partition of a row.
    pub fn partition_column(self) -> &'static str {
        match self {
            Table::Sessions | Table::Wifi => "start",
            Table::Circulation => "time",
            Table::WorkOrders => "opened",
            Table::Assets => "purchased",
            Table::Totals => "period_start",
        }
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
    pub const ALL: [UserType; 4] = [UserType::Patron, UserType::Guest, UserType::Staff, UserType::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Patron => "patron",
            UserType::Guest => "guest",
            UserType::Staff => "staff",
            UserType::Unknown => "unknown",
        }
    }
}

/// The UTC timestamp type of every instant in the lake.
pub fn utc_datetime() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
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
            Field::new(PATRON_KEY.into(), DataType::String),
            Field::new(SOURCE.into(), DataType::String),
            Field::new(BATCH.into(), DataType::String),
        ])
    }
}
