//! The metrics tally computes, with the one-line definitions `tally metric --list` prints.
//! The definitions are docs/metrics.md's; tests check the code against them.

use std::str::FromStr;

use tally_model::Table;

/// A "by" dimension: a column of the metric's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    Site,
    Station,
    UserType,
    Event,
    ItemType,
    Collection,
    Location,
    PatronCategory,
    Category,
    Priority,
    Status,
    Ssid,
    Kind,
    AssetTag,
    Age,
    Os,
    Printer,
}

impl Dim {
    pub const ALL: [Dim; 17] = [
        Dim::Site,
        Dim::Station,
        Dim::UserType,
        Dim::Event,
        Dim::ItemType,
        Dim::Collection,
        Dim::Location,
        Dim::PatronCategory,
        Dim::Category,
        Dim::Priority,
        Dim::Status,
        Dim::Ssid,
        Dim::Kind,
        Dim::AssetTag,
        Dim::Age,
        Dim::Os,
        Dim::Printer,
    ];

    pub fn column(self) -> &'static str {
        match self {
            Dim::Site => "site",
            Dim::Station => "station",
            Dim::UserType => "user_type",
            Dim::Event => "event",
            Dim::ItemType => "item_type",
            Dim::Collection => "collection",
            Dim::Location => "location",
            Dim::PatronCategory => "patron_category",
            Dim::Category => "category",
            Dim::Priority => "priority",
            Dim::Status => "status",
            Dim::Ssid => "ssid",
            Dim::Kind => "kind",
            Dim::AssetTag => "asset_tag",
            Dim::Age => "age_years",
            Dim::Os => "os",
            Dim::Printer => "printer",
        }
    }

    /// Breakdowns finer than a site that could single a patron out: small cells of
    /// patron tables are suppressed in them.
    pub fn is_personal(self) -> bool {
        matches!(
            self,
            Dim::Station
                | Dim::UserType
                | Dim::PatronCategory
                | Dim::ItemType
                | Dim::Collection
                | Dim::Location
        )
    }
}

impl FromStr for Dim {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Dim::ALL
            .into_iter()
            .find(|d| d.column() == s)
            .ok_or_else(|| {
                format!(
                    "unknown dimension \"{s}\"; known: {}",
                    Dim::ALL.map(|d| d.column()).join(", ")
                )
            })
    }
}

/// How a metric is computed: which part of this crate answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Counts, shares, distinct values or quantiles of events per bucket (events.rs).
    Events,
    /// Busy time on the sweep line against opening hours (intervals.rs, sweep.rs).
    Interval,
    /// Tickets open at each bucket's end (events.rs).
    Backlog,
    /// The inventory's replacement schedule (fleet.rs).
    Replacement,
    /// The stations of sites.toml (fleet.rs).
    PublicComputers,
    /// Devices in service at each bucket's end (fleet.rs).
    Assets,
    /// Events where the lake has them, else totals (derived/trends.rs).
    Trend,
    /// Per site over the period, against sites.toml's thresholds (derived/stations.rs).
    StationAdvice,
    /// The fleet's yearly cost over the sessions (derived/cost.rs).
    CostPerUse,
    /// Time at capacity over each bucket's weeks (derived/capacity.rs).
    CapacityPerWeek,
    /// A running total of another metric over the period's buckets (derived/cumulative.rs).
    Cumulative,
    /// Computing devices by their OS's support status (devices.rs).
    OsSupport,
    /// Directory devices not seen for a while (devices.rs).
    StaleDevices,
    /// The replacement plan within a budget (devices.rs).
    ReplacementPlan,
}

impl Engine {
    /// Whether the metric is built from other metrics' cells (derived/), not counted by
    /// an engine of its own (engines/).
    pub fn is_derived(self) -> bool {
        matches!(
            self,
            Engine::Trend
                | Engine::StationAdvice
                | Engine::CostPerUse
                | Engine::CapacityPerWeek
                | Engine::Cumulative
        )
    }
}

/// What a metric's values are, and so how every output shows them: the one home of the
/// rule (a share is stored 0-1 and shown as per cent; a count is a whole number; costs
/// are in sites.toml's currency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Whole things counted: "sessions", "items".
    Count(&'static str),
    /// A share of something, stored 0-1 and shown as per cent: "capacity" in "share of
    /// capacity".
    Share(&'static str),
    /// A quantity with the decimals it is shown with: ("hours", 1).
    Measure(&'static str, u8),
    /// A count per so many of something (one decimal): "sessions per 1,000 residents".
    Rate(&'static str),
    /// Money in the library's currency (sites.toml `currency`), shown whole.
    Currency,
    /// Money per one of something, shown to the cent: "session".
    CurrencyPer(&'static str),
    /// A word, not a number: "add, keep or reduce".
    Word(&'static str),
}

impl Unit {
    /// As an axis or a heading names it, in `currency` where it is money; shares in %.
    pub fn label(self, currency: &str) -> String {
        match self {
            Unit::Count(what) | Unit::Measure(what, _) | Unit::Rate(what) | Unit::Word(what) => {
                what.to_string()
            }
            Unit::Share(of) => format!("share of {of} (%)"),
            Unit::Currency => currency.to_string(),
            Unit::CurrencyPer(per) => format!("{currency} per {per}"),
        }
    }

    /// As `tally metric --list` and docs/metrics.md state it: what CSV, JSON and Parquet
    /// hold.
    pub fn stored(self) -> String {
        match self {
            Unit::Share(of) => format!("share of {of} (0-1; tables and charts show %)"),
            Unit::Currency => "currency (sites.toml)".into(),
            Unit::CurrencyPer(per) => format!("currency (sites.toml) per {per}"),
            other => other.label("currency"),
        }
    }

    pub fn is_share(self) -> bool {
        matches!(self, Unit::Share(_))
    }

    /// The decimals a value is shown with for people (a share: of its per cent).
    pub fn decimals(self) -> usize {
        match self {
            Unit::Count(_) | Unit::Currency | Unit::Word(_) => 0,
            Unit::Share(_) | Unit::Rate(_) => 1,
            Unit::Measure(_, d) => usize::from(d),
            Unit::CurrencyPer(_) => 2,
        }
    }

    /// A value as people read it: `45.2%`, `1,234`, `3.5`.
    pub fn show(self, v: f64) -> String {
        match self {
            Unit::Share(_) => format!("{:.1}%", v * 100.0),
            other => format!("{v:.*}", other.decimals()),
        }
    }
}

/// The unit of a column of a metric's table, by its name: a metric's own column (and the
/// same bucket a year before), and the other columns metric tables carry (the change in
/// per cent, costs and counts of the plan, station advice's figures). Unknown: a count.
pub fn column_unit(name: &str) -> Unit {
    if let Ok(m) = name.parse::<Metric>() {
        return m.unit();
    }
    match name {
        "change_pct" => Unit::Measure("% change", 1),
        "busiest_hour_occupancy" => Unit::Share("capacity"),
        "cost" | "budget" | "level_cap" | "fifth_cap" => Unit::Currency,
        "oldest_age_years" => Unit::Measure("years", 1),
        _ => Unit::Count("count"),
    }
}

/// Everything tally says and knows about one metric. Each field is required: a new
/// metric cannot be added without saying what it reads, counts and how.
#[derive(Debug)]
pub struct MetricInfo {
    pub name: &'static str,
    /// The lake table whose rows it counts (its default period is that table's span).
    pub table: Table,
    /// What its values are: how an axis, a table and a workbook show them.
    pub unit: Unit,
    /// One line: how it is counted (the contract docs/metrics.md states and tests check).
    pub definition: &'static str,
    /// The dimensions it can be broken down by.
    pub dims: &'static [Dim],
    pub engine: Engine,
}

const SESSION_DIMS: &[Dim] = &[Dim::Site, Dim::Station, Dim::UserType];
const CIRCULATION_DIMS: &[Dim] = &[
    Dim::Site,
    Dim::Event,
    Dim::ItemType,
    Dim::Collection,
    Dim::Location,
    Dim::PatronCategory,
];
const WIFI_DIMS: &[Dim] = &[Dim::Site, Dim::Ssid];
const PRINT_DIMS: &[Dim] = &[Dim::Site, Dim::Printer, Dim::Station, Dim::UserType];
const TICKET_DIMS: &[Dim] = &[
    Dim::Site,
    Dim::Category,
    Dim::Priority,
    Dim::Status,
    Dim::AssetTag,
];
const SITE_ONLY: &[Dim] = &[Dim::Site];

macro_rules! metrics {
    ($($variant:ident => $info:expr,)*) => {
        /// The metrics tally computes. `Metric::info` says everything about each.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Metric {
            $($variant,)*
        }

        impl Metric {
            pub const ALL: &'static [Metric] = &[$(Metric::$variant,)*];

            /// The metric's entry in the catalogue.
            pub fn info(self) -> &'static MetricInfo {
                match self {
                    $(Metric::$variant => {
                        const INFO: MetricInfo = $info;
                        &INFO
                    })*
                }
            }
        }
    };
}

metrics! {
    Sessions => MetricInfo {
        name: "sessions",
        table: Table::Sessions,
        unit: Unit::Count("sessions"),
        definition: "sessions whose start falls in the bucket (the survey's uses of public internet computers, staff included)",
        dims: SESSION_DIMS,
        engine: Engine::Events,
    },
    SurveyUses => MetricInfo {
        name: "survey_uses",
        table: Table::Sessions,
        unit: Unit::Count("sessions"),
        definition: "sessions whose start falls in the bucket, staff sessions excluded (the annual survey's count)",
        dims: SESSION_DIMS,
        engine: Engine::Events,
    },
    SessionHours => MetricInfo {
        name: "session_hours",
        table: Table::Sessions,
        unit: Unit::Measure("hours", 1),
        definition: "hours of session time, each session split across the buckets it overlaps",
        dims: SESSION_DIMS,
        engine: Engine::Interval,
    },
    Occupancy => MetricInfo {
        name: "occupancy",
        table: Table::Sessions,
        unit: Unit::Share("capacity"),
        definition: "busy station-seconds / (stations x open seconds), busy time clipped to the bucket and opening hours, overlapping sessions on one station counted once",
        dims: SESSION_DIMS,
        engine: Engine::Interval,
    },
    PeakConcurrent => MetricInfo {
        name: "peak_concurrent",
        table: Table::Sessions,
        unit: Unit::Count("stations in use"),
        definition: "most stations in use at one instant in the bucket (overlapping sessions on one station count once)",
        dims: SESSION_DIMS,
        engine: Engine::Interval,
    },
    TimeAtCapacity => MetricInfo {
        name: "time_at_capacity",
        table: Table::Sessions,
        unit: Unit::Measure("minutes", 0),
        definition: "open minutes in which every public station of the site was busy (summed over sites library-wide)",
        dims: SESSION_DIMS,
        engine: Engine::Interval,
    },
    CapacityMinutesPerWeek => MetricInfo {
        name: "capacity_minutes_per_week",
        table: Table::Sessions,
        unit: Unit::Measure("minutes per week", 0),
        definition: "time_at_capacity of the bucket / the bucket's length in weeks (its local days / 7): the turn-away signal station_advice weighs",
        dims: SESSION_DIMS,
        engine: Engine::CapacityPerWeek,
    },
    Availability => MetricInfo {
        name: "availability",
        table: Table::Sessions,
        unit: Unit::Share("open time"),
        definition: "share of open time in which at least one public station was free",
        dims: SESSION_DIMS,
        engine: Engine::Interval,
    },
    DistinctUsers => MetricInfo {
        name: "distinct_users",
        table: Table::Sessions,
        unit: Unit::Count("patrons"),
        definition: "distinct pseudonymised patrons with a session starting in the bucket (guests excluded); counts below the minimum cell size are suppressed in breakdowns",
        dims: SESSION_DIMS,
        engine: Engine::Events,
    },
    Heatmap => MetricInfo {
        name: "heatmap",
        table: Table::Sessions,
        unit: Unit::Share("capacity"),
        definition: "occupancy by weekday and local hour over the period: busy station-seconds / station open seconds of all such hours",
        dims: SESSION_DIMS,
        engine: Engine::Interval,
    },
    Checkouts => MetricInfo {
        name: "checkouts",
        table: Table::Circulation,
        unit: Unit::Count("items"),
        definition: "checkout events in the bucket (Symphony CV, Koha issue and on-site checkout, loans' issue dates)",
        dims: CIRCULATION_DIMS,
        engine: Engine::Events,
    },
    Renewals => MetricInfo {
        name: "renewals",
        table: Table::Circulation,
        unit: Unit::Count("items"),
        definition: "renewal events in the bucket (automatic ones only if sites.toml count_automatic_renewals is true, the default)",
        dims: CIRCULATION_DIMS,
        engine: Engine::Events,
    },
    Checkins => MetricInfo {
        name: "checkins",
        table: Table::Circulation,
        unit: Unit::Count("items"),
        definition: "checkin events in the bucket",
        dims: CIRCULATION_DIMS,
        engine: Engine::Events,
    },
    InHouseUses => MetricInfo {
        name: "in_house_uses",
        table: Table::Circulation,
        unit: Unit::Count("items"),
        definition: "in-house use events in the bucket (Symphony WV, Koha localuse)",
        dims: CIRCULATION_DIMS,
        engine: Engine::Events,
    },
    Circulation => MetricInfo {
        name: "circulation",
        table: Table::Circulation,
        unit: Unit::Count("items"),
        definition: "checkouts + renewals in the bucket (the survey's circulation: in-house use excluded; automatic renewals as count_automatic_renewals says)",
        dims: CIRCULATION_DIMS,
        engine: Engine::Events,
    },
    WifiSessions => MetricInfo {
        name: "wifi_sessions",
        table: Table::Wifi,
        unit: Unit::Count("connections"),
        definition: "wireless connections whose start falls in the bucket (one per device connection, whatever its length)",
        dims: WIFI_DIMS,
        engine: Engine::Events,
    },
    WifiDevices => MetricInfo {
        name: "wifi_devices",
        table: Table::Wifi,
        unit: Unit::Count("devices"),
        definition: "distinct devices (keyed MAC hashes) connecting in the bucket",
        dims: WIFI_DIMS,
        engine: Engine::Events,
    },
    PrintJobs => MetricInfo {
        name: "print_jobs",
        table: Table::Prints,
        unit: Unit::Count("jobs"),
        definition: "print jobs whose time falls in the bucket (a job of no page is excluded at ingest)",
        dims: PRINT_DIMS,
        engine: Engine::Events,
    },
    PrintPages => MetricInfo {
        name: "print_pages",
        table: Table::Prints,
        unit: Unit::Count("pages"),
        definition: "pages printed in the bucket: the sum of pages x copies of its jobs",
        dims: PRINT_DIMS,
        engine: Engine::Events,
    },
    PrintPagesPer1000 => MetricInfo {
        name: "print_pages_per_1000",
        table: Table::Prints,
        unit: Unit::Rate("pages per 1,000 residents"),
        definition: "print_pages / service-area population x 1,000 (population from sites.toml; library-wide, the sites' total)",
        dims: SITE_ONLY,
        engine: Engine::Events,
    },
    ColorShare => MetricInfo {
        name: "color_share",
        table: Table::Prints,
        unit: Unit::Share("pages"),
        definition: "share of the pages printed (pages x copies) in jobs not in grayscale; jobs whose log says neither are left out",
        dims: PRINT_DIMS,
        engine: Engine::Events,
    },
    DuplexShare => MetricInfo {
        name: "duplex_share",
        table: Table::Prints,
        unit: Unit::Share("pages"),
        definition: "share of the pages printed (pages x copies) in duplex (two-sided) jobs; jobs whose log says neither are left out",
        dims: PRINT_DIMS,
        engine: Engine::Events,
    },
    TicketsOpened => MetricInfo {
        name: "tickets_opened",
        table: Table::WorkOrders,
        unit: Unit::Count("tickets"),
        definition: "tickets opened in the bucket (current state of each ticket)",
        dims: TICKET_DIMS,
        engine: Engine::Events,
    },
    TicketsResolved => MetricInfo {
        name: "tickets_resolved",
        table: Table::WorkOrders,
        unit: Unit::Count("tickets"),
        definition: "tickets whose resolution time falls in the bucket",
        dims: TICKET_DIMS,
        engine: Engine::Events,
    },
    Backlog => MetricInfo {
        name: "backlog",
        table: Table::WorkOrders,
        unit: Unit::Count("tickets"),
        definition: "tickets open at the bucket's end: opened before it, not resolved by then, not cancelled",
        dims: TICKET_DIMS,
        engine: Engine::Backlog,
    },
    HoursToResolveMedian => MetricInfo {
        name: "hours_to_resolve_median",
        table: Table::WorkOrders,
        unit: Unit::Measure("hours", 1),
        definition: "median hours from opened to resolved of tickets resolved in the bucket (linear interpolation, as Excel's MEDIAN)",
        dims: TICKET_DIMS,
        engine: Engine::Events,
    },
    HoursToResolveP90 => MetricInfo {
        name: "hours_to_resolve_p90",
        table: Table::WorkOrders,
        unit: Unit::Measure("hours", 1),
        definition: "90th percentile of hours from opened to resolved of tickets resolved in the bucket (as Excel's PERCENTILE.INC)",
        dims: TICKET_DIMS,
        engine: Engine::Events,
    },
    ReplacementDue => MetricInfo {
        name: "replacement_due",
        table: Table::Assets,
        unit: Unit::Count("units"),
        definition: "assets (not retired) whose purchase date + life (the asset's, else the kind's in sites.toml) falls in the bucket; ones already overdue count in the first bucket",
        dims: &[Dim::Site, Dim::Kind],
        engine: Engine::Replacement,
    },
    ReplacementCostCumulative => MetricInfo {
        name: "replacement_cost_cumulative",
        table: Table::Assets,
        unit: Unit::Currency,
        definition: "replacement_cost of the bucket and of every earlier bucket of the period: the running total of a multi-year plan",
        dims: &[Dim::Site, Dim::Kind],
        engine: Engine::Cumulative,
    },
    ReplacementCost => MetricInfo {
        name: "replacement_cost",
        table: Table::Assets,
        unit: Unit::Currency,
        definition: "replacement_due priced at today's unit cost of the kind (sites.toml), else the asset's purchase cost",
        dims: &[Dim::Site, Dim::Kind],
        engine: Engine::Replacement,
    },
    PublicComputers => MetricInfo {
        name: "public_computers",
        table: Table::Sessions,
        unit: Unit::Count("computers"),
        definition: "public internet computers (annual survey line 650): the stations sites.toml gives each site; survey_uses is line 651, wifi_sessions 652, circulation 553",
        dims: SITE_ONLY,
        engine: Engine::PublicComputers,
    },
    SessionsPer1000 => MetricInfo {
        name: "sessions_per_1000",
        table: Table::Sessions,
        unit: Unit::Rate("sessions per 1,000 residents"),
        definition: "sessions / service-area population x 1,000 (population from sites.toml; library-wide, the sites' total)",
        dims: SITE_ONLY,
        engine: Engine::Events,
    },
    EveningWeekendShare => MetricInfo {
        name: "evening_weekend_share",
        table: Table::Sessions,
        unit: Unit::Share("sessions"),
        definition: "share of sessions starting at 17:00 local time or later, or on a Saturday or Sunday",
        dims: SESSION_DIMS,
        engine: Engine::Events,
    },
    GuestShare => MetricInfo {
        name: "guest_share",
        table: Table::Sessions,
        unit: Unit::Share("sessions"),
        definition: "share of sessions on a guest pass",
        dims: SESSION_DIMS,
        engine: Engine::Events,
    },
    SessionsTrend => MetricInfo {
        name: "sessions_trend",
        table: Table::Sessions,
        unit: Unit::Count("sessions"),
        definition: TREND,
        dims: SITE_ONLY,
        engine: Engine::Trend,
    },
    CirculationTrend => MetricInfo {
        name: "circulation_trend",
        table: Table::Circulation,
        unit: Unit::Count("items"),
        definition: TREND,
        dims: SITE_ONLY,
        engine: Engine::Trend,
    },
    WifiTrend => MetricInfo {
        name: "wifi_trend",
        table: Table::Wifi,
        unit: Unit::Count("connections"),
        definition: TREND,
        dims: SITE_ONLY,
        engine: Engine::Trend,
    },
    StationAdvice => MetricInfo {
        name: "station_advice",
        table: Table::Sessions,
        unit: Unit::Word("add, keep or reduce"),
        definition: "per site over the period: add stations when the busiest weekday-hour is at least add_occupancy full or every station is busy add_capacity_minutes_per_week a week; reduce when occupancy is below reduce_occupancy and the site is never full; else keep (thresholds in sites.toml)",
        dims: SITE_ONLY,
        engine: Engine::StationAdvice,
    },
    CostPerUse => MetricInfo {
        name: "cost_per_use",
        table: Table::Sessions,
        unit: Unit::CurrencyPer("session"),
        definition: "yearly cost of the public computers (each one's cost / life, prorated to the bucket) / sessions in the bucket",
        dims: SITE_ONLY,
        engine: Engine::CostPerUse,
    },
    ShareOverTarget => MetricInfo {
        name: "share_over_target",
        table: Table::WorkOrders,
        unit: Unit::Share("tickets"),
        definition: "share of tickets resolved in the bucket that took longer than the target hours for their priority (sites.toml work_order_target_hours; priorities without a target left out)",
        dims: TICKET_DIMS,
        engine: Engine::Events,
    },
    TicketsPer10Devices => MetricInfo {
        name: "tickets_per_10_devices",
        table: Table::WorkOrders,
        unit: Unit::Rate("tickets per 10 devices"),
        definition: "tickets opened in the bucket x 10 / devices in the inventory that are not retired (current state; library-wide, the totals)",
        dims: SITE_ONLY,
        engine: Engine::Events,
    },
    Assets => MetricInfo {
        name: "assets",
        table: Table::Assets,
        unit: Unit::Count("devices"),
        definition: "devices in service at the bucket's end (purchased before it, not retired by it), by kind, site and age in whole years",
        dims: &[Dim::Site, Dim::Kind, Dim::Age],
        engine: Engine::Assets,
    },
    OsSupport => MetricInfo {
        name: "os_support",
        table: Table::Assets,
        unit: Unit::Count("devices"),
        definition: "computing devices (public and staff PCs, laptops, tablets, servers) in service on the bucket's last day, by the support status on that day of their OS's endoflife.date cycle: supported, ending (within [support] ending_months), extended (past eol, before eoes, paid for in [support] extended_updates), unsupported, unknown (no OS or no cycle)",
        dims: &[Dim::Site, Dim::Status, Dim::Os, Dim::Kind],
        engine: Engine::OsSupport,
    },
    StaleDevices => MetricInfo {
        name: "stale_devices",
        table: Table::Assets,
        unit: Unit::Count("devices"),
        definition: "devices a directory (Active Directory, Intune) knows, in service on the bucket's last day, last seen more than [support] stale_days (90) before it (never seen: since they joined)",
        dims: &[Dim::Site, Dim::Kind, Dim::AssetTag],
        engine: Engine::StaleDevices,
    },
    ReplacementPlan => MetricInfo {
        name: "replacement_plan",
        table: Table::Assets,
        unit: Unit::Currency,
        definition: "cost of the devices the plan replaces in the fiscal year within --budget (else the level cap): unsupported OS first, then past their life, then due in the year, oldest first, each if its price fits what is left; with units, slipped (kept past their life at the year's end), oldest_age_years, level_cap (the least budget keeping every device within life + 1 year) and fifth_cap (a fifth of the fleet's replacement cost)",
        dims: &[Dim::Site, Dim::Kind],
        engine: Engine::ReplacementPlan,
    },
}

const TREND: &str = "the event count where the lake has events for the bucket, else the totals whose periods lie within it (past years kept as spreadsheets); the column `from` says which";

impl Metric {
    /// The lake table the metric reads.
    pub fn table(self) -> Table {
        self.info().table
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// What its values are: how an axis, a table and a workbook show them.
    pub fn unit(self) -> Unit {
        self.info().unit
    }

    /// One line: how it is counted.
    pub fn definition(self) -> &'static str {
        self.info().definition
    }

    /// The unit of a column of this metric's table: its own column and the same bucket a
    /// year before in its unit, the others by [`column_unit`]; integer columns that are
    /// not the metric's (days covered, age in years) as counts.
    pub fn column_unit(self, column: &str) -> Unit {
        if column == self.name() || column == "previous_year" {
            self.unit()
        } else {
            column_unit(column)
        }
    }

    /// The dimensions a metric can be broken down by.
    pub fn dims(self) -> &'static [Dim] {
        self.info().dims
    }

    pub fn engine(self) -> Engine {
        self.info().engine
    }

    /// Metrics computed on the sweep line over sessions and opening hours.
    pub fn is_interval(self) -> bool {
        self.engine() == Engine::Interval
    }
}

impl FromStr for Metric {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().replace('-', "_");
        Metric::ALL
            .iter()
            .copied()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown metric \"{s}\"; known: {}",
                    Metric::ALL
                        .iter()
                        .map(|m| m.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}
