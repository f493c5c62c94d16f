//! The metrics tally computes, with the one-line definitions `tally metric --list` prints.
//! The definitions are ARCHITECTURE.md's (Metric definitions); tests check the code against them.

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    Sessions,
    SurveyUses,
    SessionHours,
    Occupancy,
    PeakConcurrent,
    TimeAtCapacity,
    Availability,
    DistinctUsers,
    Heatmap,
    Checkouts,
    Renewals,
    Checkins,
    InHouseUses,
    Circulation,
    WifiSessions,
    WifiDevices,
    TicketsOpened,
    TicketsResolved,
    Backlog,
    HoursToResolveMedian,
    HoursToResolveP90,
    ReplacementDue,
    ReplacementCost,
    PublicComputers,
    SessionsPer1000,
    EveningWeekendShare,
    GuestShare,
    SessionsTrend,
    CirculationTrend,
    WifiTrend,
    StationAdvice,
    CostPerUse,
    ShareOverTarget,
    TicketsPer10Devices,
    Assets,
}

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
}

impl Dim {
    pub const ALL: [Dim; 15] = [
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

impl Metric {
    pub const ALL: [Metric; 35] = [
        Metric::Sessions,
        Metric::SurveyUses,
        Metric::SessionHours,
        Metric::Occupancy,
        Metric::PeakConcurrent,
        Metric::TimeAtCapacity,
        Metric::Availability,
        Metric::DistinctUsers,
        Metric::Heatmap,
        Metric::Checkouts,
        Metric::Renewals,
        Metric::Checkins,
        Metric::InHouseUses,
        Metric::Circulation,
        Metric::WifiSessions,
        Metric::WifiDevices,
        Metric::TicketsOpened,
        Metric::TicketsResolved,
        Metric::Backlog,
        Metric::HoursToResolveMedian,
        Metric::HoursToResolveP90,
        Metric::ReplacementDue,
        Metric::ReplacementCost,
        Metric::PublicComputers,
        Metric::SessionsPer1000,
        Metric::EveningWeekendShare,
        Metric::GuestShare,
        Metric::SessionsTrend,
        Metric::CirculationTrend,
        Metric::WifiTrend,
        Metric::StationAdvice,
        Metric::CostPerUse,
        Metric::ShareOverTarget,
        Metric::TicketsPer10Devices,
        Metric::Assets,
    ];

    /// The lake table the metric reads.
    pub fn table(self) -> tally_model::Table {
        use tally_model::Table;
        match self {
            Metric::Checkouts
            | Metric::Renewals
            | Metric::Checkins
            | Metric::InHouseUses
            | Metric::Circulation => Table::Circulation,
            Metric::WifiSessions | Metric::WifiDevices => Table::Wifi,
            Metric::TicketsOpened
            | Metric::TicketsResolved
            | Metric::Backlog
            | Metric::HoursToResolveMedian
            | Metric::HoursToResolveP90
            | Metric::ShareOverTarget
            | Metric::TicketsPer10Devices => Table::WorkOrders,
            Metric::ReplacementDue | Metric::ReplacementCost | Metric::Assets => Table::Assets,
            Metric::CirculationTrend => Table::Circulation,
            Metric::WifiTrend => Table::Wifi,
            _ => Table::Sessions,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::Sessions => "sessions",
            Metric::SurveyUses => "survey_uses",
            Metric::SessionHours => "session_hours",
            Metric::Occupancy => "occupancy",
            Metric::PeakConcurrent => "peak_concurrent",
            Metric::TimeAtCapacity => "time_at_capacity",
            Metric::Availability => "availability",
            Metric::DistinctUsers => "distinct_users",
            Metric::Heatmap => "heatmap",
            Metric::Checkouts => "checkouts",
            Metric::Renewals => "renewals",
            Metric::Checkins => "checkins",
            Metric::InHouseUses => "in_house_uses",
            Metric::Circulation => "circulation",
            Metric::WifiSessions => "wifi_sessions",
            Metric::WifiDevices => "wifi_devices",
            Metric::TicketsOpened => "tickets_opened",
            Metric::TicketsResolved => "tickets_resolved",
            Metric::Backlog => "backlog",
            Metric::HoursToResolveMedian => "hours_to_resolve_median",
            Metric::HoursToResolveP90 => "hours_to_resolve_p90",
            Metric::ReplacementDue => "replacement_due",
            Metric::ReplacementCost => "replacement_cost",
            Metric::PublicComputers => "public_computers",
            Metric::SessionsPer1000 => "sessions_per_1000",
            Metric::EveningWeekendShare => "evening_weekend_share",
            Metric::GuestShare => "guest_share",
            Metric::SessionsTrend => "sessions_trend",
            Metric::CirculationTrend => "circulation_trend",
            Metric::WifiTrend => "wifi_trend",
            Metric::StationAdvice => "station_advice",
            Metric::CostPerUse => "cost_per_use",
            Metric::ShareOverTarget => "share_over_target",
            Metric::TicketsPer10Devices => "tickets_per_10_devices",
            Metric::Assets => "assets",
        }
    }

    /// The unit a chart's axis shows.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Sessions | Metric::SurveyUses => "sessions",
            Metric::SessionHours => "hours",
            Metric::Occupancy | Metric::Availability | Metric::Heatmap => "share of capacity (0-1)",
            Metric::PeakConcurrent => "stations in use",
            Metric::TimeAtCapacity => "minutes",
            Metric::DistinctUsers => "patrons",
            Metric::Checkouts
            | Metric::Renewals
            | Metric::Checkins
            | Metric::InHouseUses
            | Metric::Circulation => "items",
            Metric::WifiSessions => "connections",
            Metric::WifiDevices => "devices",
            Metric::TicketsOpened | Metric::TicketsResolved | Metric::Backlog => "tickets",
            Metric::HoursToResolveMedian | Metric::HoursToResolveP90 => "hours",
            Metric::ReplacementDue => "units",
            Metric::ReplacementCost => "currency",
            Metric::PublicComputers => "computers",
            Metric::SessionsPer1000 => "sessions per 1,000 residents",
            Metric::EveningWeekendShare | Metric::GuestShare => "share of sessions (0-1)",
            Metric::SessionsTrend => "sessions",
            Metric::CirculationTrend => "items",
            Metric::WifiTrend => "connections",
            Metric::StationAdvice => "add, keep or reduce",
            Metric::CostPerUse => "currency per session",
            Metric::ShareOverTarget => "share of tickets (0-1)",
            Metric::TicketsPer10Devices => "tickets per 10 devices",
            Metric::Assets => "devices",
        }
    }

    /// One line: how it is counted.
    pub fn definition(self) -> &'static str {
        match self {
            Metric::Sessions => {
                "sessions whose start falls in the bucket (the survey's uses of public internet computers, staff included)"
            }
            Metric::SurveyUses => {
                "sessions whose start falls in the bucket, staff sessions excluded (the annual survey's count)"
            }
            Metric::SessionHours => {
                "hours of session time, each session split across the buckets it overlaps"
            }
            Metric::Occupancy => {
                "busy station-seconds / (stations x open seconds), busy time clipped to the bucket and opening hours, overlapping sessions on one station counted once"
            }
            Metric::PeakConcurrent => {
                "most stations in use at one instant in the bucket (overlapping sessions on one station count once)"
            }
            Metric::TimeAtCapacity => {
                "open minutes in which every public station of the site was busy (summed over sites library-wide)"
            }
            Metric::Availability => {
                "share of open time in which at least one public station was free"
            }
            Metric::DistinctUsers => {
                "distinct pseudonymised patrons with a session starting in the bucket (guests excluded); counts below the minimum cell size are suppressed in breakdowns"
            }
            Metric::Heatmap => {
                "occupancy by weekday and local hour over the period: busy station-seconds / station open seconds of all such hours"
            }
            Metric::Checkouts => {
                "checkout events in the bucket (Symphony CV, Koha issue and on-site checkout, loans' issue dates)"
            }
            Metric::Renewals => {
                "renewal events in the bucket (automatic ones only if sites.toml count_automatic_renewals is true, the default)"
            }
            Metric::Checkins => "checkin events in the bucket",
            Metric::InHouseUses => "in-house use events in the bucket (Symphony WV, Koha localuse)",
            Metric::Circulation => {
                "checkouts + renewals in the bucket (the survey's circulation: in-house use excluded; automatic renewals as count_automatic_renewals says)"
            }
            Metric::WifiSessions => {
                "wireless connections whose start falls in the bucket (one per device connection, whatever its length)"
            }
            Metric::WifiDevices => "distinct devices (keyed MAC hashes) connecting in the bucket",
            Metric::TicketsOpened => "tickets opened in the bucket (current state of each ticket)",
            Metric::TicketsResolved => "tickets whose resolution time falls in the bucket",
            Metric::Backlog => {
                "tickets open at the bucket's end: opened before it, not resolved by then, not cancelled"
            }
            Metric::HoursToResolveMedian => {
                "median hours from opened to resolved of tickets resolved in the bucket (linear interpolation, as Excel's MEDIAN)"
            }
            Metric::HoursToResolveP90 => {
                "90th percentile of hours from opened to resolved of tickets resolved in the bucket (as Excel's PERCENTILE.INC)"
            }
            Metric::ReplacementDue => {
                "assets (not retired) whose purchase date + life (the asset's, else the kind's in sites.toml) falls in the bucket; ones already overdue count in the first bucket"
            }
            Metric::ReplacementCost => {
                "replacement_due priced at today's unit cost of the kind (sites.toml), else the asset's purchase cost"
            }
            Metric::PublicComputers => {
                "public internet computers (annual survey line 650): the stations sites.toml gives each site; survey_uses is line 651, wifi_sessions 652, circulation 553"
            }
            Metric::SessionsPer1000 => {
                "sessions / service-area population x 1,000 (population from sites.toml; library-wide, the sites' total)"
            }
            Metric::EveningWeekendShare => {
                "share of sessions starting at 17:00 local time or later, or on a Saturday or Sunday"
            }
            Metric::GuestShare => "share of sessions on a guest pass",
            Metric::StationAdvice => {
                "per site over the period: add stations when the busiest weekday-hour is at least add_occupancy full or every station is busy add_capacity_minutes_per_week a week; reduce when occupancy is below reduce_occupancy and the site is never full; else keep (thresholds in sites.toml)"
            }
            Metric::CostPerUse => {
                "yearly cost of the public computers (each one's cost / life, prorated to the bucket) / sessions in the bucket"
            }
            Metric::ShareOverTarget => {
                "share of tickets resolved in the bucket that took longer than the target hours for their priority (sites.toml work_order_target_hours; priorities without a target left out)"
            }
            Metric::TicketsPer10Devices => {
                "tickets opened in the bucket x 10 / devices in the inventory that are not retired (current state; library-wide, the totals)"
            }
            Metric::Assets => {
                "devices in service at the bucket's end (purchased before it, not retired by it), by kind, site and age in whole years"
            }
            Metric::SessionsTrend | Metric::CirculationTrend | Metric::WifiTrend => {
                "the event count where the lake has events for the bucket, else the totals whose periods lie within it (past years kept as spreadsheets); the column `from` says which"
            }
        }
    }

    /// The dimensions a metric can be broken down by.
    pub fn dims(self) -> &'static [Dim] {
        if matches!(
            self,
            Metric::PublicComputers
                | Metric::SessionsPer1000
                | Metric::SessionsTrend
                | Metric::CirculationTrend
                | Metric::WifiTrend
                | Metric::StationAdvice
                | Metric::CostPerUse
                | Metric::TicketsPer10Devices
        ) {
            return &[Dim::Site];
        }
        match self.table() {
            tally_model::Table::Circulation => &[
                Dim::Site,
                Dim::Event,
                Dim::ItemType,
                Dim::Collection,
                Dim::Location,
                Dim::PatronCategory,
            ],
            tally_model::Table::Wifi => &[Dim::Site, Dim::Ssid],
            tally_model::Table::WorkOrders => &[
                Dim::Site,
                Dim::Category,
                Dim::Priority,
                Dim::Status,
                Dim::AssetTag,
            ],
            tally_model::Table::Assets if self == Metric::Assets => {
                &[Dim::Site, Dim::Kind, Dim::Age]
            }
            tally_model::Table::Assets => &[Dim::Site, Dim::Kind],
            _ => &[Dim::Site, Dim::Station, Dim::UserType],
        }
    }

    /// Metrics computed on the sweep line over sessions and opening hours.
    pub fn is_interval(self) -> bool {
        matches!(
            self,
            Metric::SessionHours
                | Metric::Occupancy
                | Metric::PeakConcurrent
                | Metric::TimeAtCapacity
                | Metric::Availability
                | Metric::Heatmap
        )
    }
}

impl FromStr for Metric {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().replace('-', "_");
        Metric::ALL
            .into_iter()
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
