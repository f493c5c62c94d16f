//! One site's day of sessions: arrivals as a Poisson process whose rate follows the hour,
//! weekday and season; each arrival takes the station that frees up first, waits up to
//! ten minutes, or walks away.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Weekday};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tally_model::{Site, Sites, UserType};

/// A session as synth plans it, in the site's local wall-clock time.
#[derive(Debug, Clone)]
pub struct SessionPlan {
    pub site: usize,
    pub station: u32,
    pub start: NaiveDateTime,
    pub minutes: i64,
    pub user_type: UserType,
    /// Patron barcode, guest pass number or staff login.
    pub user: String,
    /// How the session ended (Libki: LOGOUT, FORCE_LOGOUT, SESSION_DELETED).
    pub end_kind: EndKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndKind {
    Logout,
    ForceLogout,
    Deleted,
}

/// Relative demand by local hour (0..24), shaped like public-computer use: a late-morning
/// rise, an after-school peak and a quieter evening.
const HOUR_WEIGHT: [f64; 24] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.6, 0.9, 1.1, 1.2, 1.15, 1.2, 1.35, 1.45, 1.3,
    1.0, 0.8, 0.55, 0.3, 0.0, 0.0,
];

fn weekday_weight(w: Weekday) -> f64 {
    match w {
        Weekday::Mon => 1.1,
        Weekday::Tue => 1.05,
        Weekday::Wed => 1.0,
        Weekday::Thu => 1.0,
        Weekday::Fri => 0.85,
        Weekday::Sat => 0.9,
        Weekday::Sun => 0.8,
    }
}

/// Winter and the start of the school year are busier; early summer quieter.
fn month_weight(m: u32) -> f64 {
    [
        1.1, 1.1, 1.05, 1.0, 0.95, 0.85, 0.85, 0.9, 1.05, 1.05, 1.0, 0.9,
    ][(m - 1) as usize]
}

/// Arrivals per station per open hour at weight 1.
const BASE_RATE_PER_STATION: f64 = 0.62;

/// Plans one site's sessions on `date`, sorted by start. `stations` is the scaled count.
pub fn plan_day(
    sites: &Sites,
    site_index: usize,
    stations: u32,
    date: NaiveDate,
    scale: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<SessionPlan> {
    let site = &sites.sites[site_index];
    if sites.is_holiday(site, date) {
        return Vec::new();
    }
    let hours = site.hours.day(date.weekday());
    let mut plans = Vec::new();
    let mut free_at: Vec<NaiveDateTime> = Vec::new();
    for &(open, close) in hours.ranges() {
        let open_at = date.and_time(open);
        let close_at = close.map_or(date.and_time(NaiveTime::MIN) + Duration::days(1), |c| {
            date.and_time(c)
        });
        free_at.clear();
        free_at.resize(stations as usize, open_at);
        let day_factor = weekday_weight(date.weekday()) * month_weight(date.month());
        // Arrivals stop a quarter hour before closing.
        let last_arrival = close_at - Duration::minutes(15);
        let mut t = open_at;
        loop {
            let hour_rate = HOUR_WEIGHT[t.hour() as usize].max(0.15)
                * day_factor
                * BASE_RATE_PER_STATION
                * f64::from(stations.max(1));
            // Exponential gap in minutes for a Poisson process at `hour_rate` per hour.
            let u: f64 = rng.random_range(f64::EPSILON..1.0);
            let gap_s = (-u.ln() / hour_rate * 3600.0).round() as i64;
            t += Duration::seconds(gap_s.max(1));
            if t >= last_arrival {
                break;
            }
            let (station, ready) = free_at
                .iter()
                .enumerate()
                .min_by_key(|(i, at)| (**at, *i))
                .map(|(i, at)| (i, *at))
                .expect("at least one station");
            if ready > t + Duration::minutes(10) {
                continue; // walked away: every station busy
            }
            // EnvisionWare counts whole minutes: starts fall on the minute.
            let start = ready.max(t).with_second(0).expect("second 0 is valid");
            let plan = one_session(
                site,
                site_index,
                station as u32,
                start,
                close_at,
                scale,
                rng,
            );
            free_at[station] = start
                + Duration::minutes(plan.minutes.max(1))
                + Duration::minutes(rng.random_range(0..3));
            plans.push(plan);
        }
    }
    plans.sort_by_key(|a| (a.start, a.station));
    plans
}

fn one_session(
    site: &Site,
    site_index: usize,
    station: u32,
    start: NaiveDateTime,
    close_at: NaiveDateTime,
    scale: f64,
    rng: &mut ChaCha8Rng,
) -> SessionPlan {
    let roll: f64 = rng.random();
    let (user_type, limit) = if roll < 0.86 {
        (UserType::Patron, 120)
    } else if roll < 0.97 {
        (UserType::Guest, 60)
    } else {
        (UserType::Staff, 180)
    };
    let shape: f64 = rng.random();
    let mut minutes: i64 = if shape < 0.2 {
        rng.random_range(3..20)
    } else if shape < 0.7 {
        rng.random_range(20..60)
    } else {
        rng.random_range(60..=limit)
    };
    minutes = minutes.min(limit);
    let mut end_kind = if minutes == limit {
        EndKind::ForceLogout
    } else {
        EndKind::Logout
    };
    let to_close = (close_at - start).num_minutes();
    if minutes > to_close {
        // Most sessions end at closing ("Early Close"); a few run past it while staff wait.
        if rng.random::<f64>() < 0.08 {
            minutes = to_close + rng.random_range(1..20);
            end_kind = EndKind::Logout;
        } else {
            minutes = to_close.max(1);
            end_kind = EndKind::ForceLogout;
        }
    }
    if rng.random::<f64>() < 0.004 {
        end_kind = EndKind::Deleted;
    }
    let pool = ((f64::from(site.population as u32) / 12.0) * scale).max(50.0) as u64;
    let user = match user_type {
        // Card barcodes: 14 digits, the library's prefix, then a per-site block.
        UserType::Patron => format!("21221{:02}{:07}", site_index, skewed(rng, pool)),
        // Guest passes carry the guest prefix (a setting at ingest).
        UserType::Guest => format!("25555{:02}{:05}", site_index, rng.random_range(0..400u32)),
        UserType::Staff => format!("staff{:02}{:02}", site_index, rng.random_range(0..12u32)),
        UserType::Unknown => String::new(),
    };
    SessionPlan {
        site: site_index,
        station,
        start,
        minutes,
        user_type,
        user,
        end_kind,
    }
}

/// A patron number where a few regulars come often: the square of a uniform draw.
fn skewed(rng: &mut ChaCha8Rng, pool: u64) -> u64 {
    let u: f64 = rng.random();
    ((u * u) * pool as f64) as u64
}
