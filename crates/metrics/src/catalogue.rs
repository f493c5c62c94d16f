//! The metrics tally computes, with the one-line definitions `tally metric --list` prints.
//! The definitions are DESIGN.md's; tests check the code against them.

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
}

/// A "by" dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    Site,
    Station,
    UserType,
}

impl Dim {
    pub fn column(self) -> &'static str {
        match self {
            Dim::Site => "site",
            Dim::Station => "station",
            Dim::UserType => "user_type",
        }
    }
}

impl FromStr for Dim {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "site" => Ok(Dim::Site),
            "station" => Ok(Dim::Station),
            "user_type" => Ok(Dim::UserType),
            other => Err(format!("unknown dimension \"{other}\" for sessions metrics; expected site, station or user_type")),
        }
    }
}

impl Metric {
    pub const ALL: [Metric; 9] = [
        Metric::Sessions,
        Metric::SurveyUses,
        Metric::SessionHours,
        Metric::Occupancy,
        Metric::PeakConcurrent,
        Metric::TimeAtCapacity,
        Metric::Availability,
        Metric::DistinctUsers,
        Metric::Heatmap,
    ];

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
        }
    }

    /// One line: how it is counted.
    pub fn definition(self) -> &'static str {
        match self {
            Metric::Sessions => "sessions whose start falls in the bucket (the survey's uses of public internet computers, staff included)",
            Metric::SurveyUses => "sessions whose start falls in the bucket, staff sessions excluded (the annual survey's count)",
            Metric::SessionHours => "hours of session time, each session split across the buckets it overlaps",
            Metric::Occupancy => "busy station-seconds / (stations x open seconds), busy time clipped to the bucket and opening hours, overlapping sessions on one station counted once",
            Metric::PeakConcurrent => "most stations in use at one instant in the bucket (overlapping sessions on one station count once)",
            Metric::TimeAtCapacity => "open minutes in which every public station of the site was busy (summed over sites library-wide)",
            Metric::Availability => "share of open time in which at least one public station was free",
            Metric::DistinctUsers => "distinct pseudonymised patrons with a session starting in the bucket (guests excluded); counts below the minimum cell size are suppressed in breakdowns",
            Metric::Heatmap => "occupancy by weekday and local hour over the period: busy station-seconds / station open seconds of all such hours",
        }
    }

    pub fn dims(self) -> &'static [Dim] {
        &[Dim::Site, Dim::Station, Dim::UserType]
    }

    /// Metrics that are a count of events, summed over dimensions.
    pub fn is_count(self) -> bool {
        matches!(self, Metric::Sessions | Metric::SurveyUses | Metric::DistinctUsers)
    }
}

impl FromStr for Metric {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().replace('-', "_");
        Metric::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
            format!(
                "unknown metric \"{s}\"; known: {}",
                Metric::ALL.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")
            )
        })
    }
}
