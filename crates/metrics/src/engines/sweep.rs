//! The sweep line behind occupancy, peak concurrent, time at capacity and availability.

use crate::base::grid::Grid;

/// What one site (or station) contributes to one bucket. Times in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Acc {
    /// Station-time busy during opening hours (at most `stations` at once).
    pub busy_us: i64,
    /// Opening time in the bucket.
    pub open_us: i64,
    /// Stations x opening time: the denominator of occupancy.
    pub capacity_us: i64,
    /// Opening time during which every station was busy.
    pub full_us: i64,
    /// Most stations busy at one instant (open or not).
    pub peak: i64,
}

impl Acc {
    pub fn add(&mut self, other: &Acc) {
        self.busy_us += other.busy_us;
        self.open_us += other.open_us;
        self.capacity_us += other.capacity_us;
        self.full_us += other.full_us;
        self.peak = self.peak.max(other.peak);
    }
}

/// Merges each station's overlapping or touching intervals, so that two sessions on one
/// station at once count once. Input: (station, start, end); output: intervals.
pub fn merge_per_station(mut intervals: Vec<(u32, i64, i64)>) -> Vec<(i64, i64)> {
    intervals.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(intervals.len());
    let mut current: Option<(u32, i64, i64)> = None;
    for (station, a, b) in intervals {
        if a >= b {
            continue;
        }
        match current {
            Some((st, ca, cb)) if st == station && a <= cb => current = Some((st, ca, cb.max(b))),
            Some((_, ca, cb)) => {
                out.push((ca, cb));
                current = Some((station, a, b));
            }
            None => current = Some((station, a, b)),
        }
    }
    if let Some((_, a, b)) = current {
        out.push((a, b));
    }
    out
}

/// Walks time across the grid (or a window of it) once, cutting it at every session start
/// and end, opening and closing time and bucket boundary, and adds each piece to its bucket.
/// `busy` intervals are per-station merged; `open` is sorted and disjoint.
/// Only time in `window` [from, to) is walked: a period swept a window at a time adds up
/// to the period swept at once (every field but `peak` is a sum; `peak` a maximum).
pub fn sweep(
    busy: &[(i64, i64)],
    open: &[(i64, i64)],
    grid: &Grid,
    window: (i64, i64),
    stations: i64,
    acc: &mut [Acc],
) {
    let (start, end) = (grid.start_us().max(window.0), grid.end_us().min(window.1));
    if start >= end {
        return;
    }
    let mut events: Vec<(i64, i64)> = Vec::with_capacity(busy.len() * 2);
    for &(a, b) in busy {
        let (a, b) = (a.max(start), b.min(end));
        if a < b {
            events.push((a, 1));
            events.push((b, -1));
        }
    }
    // At one instant, ends sort before starts: back-to-back sessions do not overlap.
    events.sort_unstable();
    let (mut ei, mut oi) = (0usize, 0usize);
    let mut bi = grid.index_of(start).unwrap_or(grid.buckets.len());
    let mut busy_now: i64 = 0;
    let mut t = start;
    while ei < events.len() && events[ei].0 <= t {
        busy_now += events[ei].1;
        ei += 1;
    }
    while oi < open.len() && open[oi].1 <= t {
        oi += 1;
    }
    while t < end && bi < grid.buckets.len() {
        let is_open = oi < open.len() && open[oi].0 <= t;
        let mut next = grid.buckets[bi].end_us.min(end);
        if ei < events.len() {
            next = next.min(events[ei].0);
        }
        if oi < open.len() {
            next = next.min(if is_open { open[oi].1 } else { open[oi].0 });
        }
        let len = next - t;
        let a = &mut acc[bi];
        a.peak = a.peak.max(busy_now);
        if is_open {
            a.open_us += len;
            a.capacity_us += stations * len;
            a.busy_us += busy_now.min(stations) * len;
            if busy_now >= stations {
                a.full_us += len;
            }
        }
        t = next;
        while ei < events.len() && events[ei].0 <= t {
            busy_now += events[ei].1;
            ei += 1;
        }
        while oi < open.len() && open[oi].1 <= t {
            oi += 1;
        }
        if t >= grid.buckets[bi].end_us {
            bi += 1;
        }
    }
}

/// Each session's time split across the buckets it overlaps, in microseconds.
pub fn split_time(sessions: &[(i64, i64)], grid: &Grid, out: &mut [i64]) {
    for &(a, b) in sessions {
        let (a, b) = (a.max(grid.start_us()), b.min(grid.end_us()));
        if a >= b {
            continue;
        }
        let mut i = grid.index_of(a).expect("clipped to the grid");
        while i < grid.buckets.len() && grid.buckets[i].start_us < b {
            let bk = &grid.buckets[i];
            out[i] += b.min(bk.end_us) - a.max(bk.start_us);
            i += 1;
        }
    }
}
