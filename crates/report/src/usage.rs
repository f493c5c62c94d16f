//! The usage report (the monthly report of the standing pipeline, and the demo's):
//! public computers (sessions, occupancy, availability, peak hours, who uses them),
//! circulation with the year before, Wi-Fi and help-desk load, per branch and
//! library-wide, over a period; then what data went in.
//!
//! Every table is a `tally metric` result (same request, same numbers); the charts are
//! drawn from those tables; the frames are written as CSV beside the report.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;
use tally_charts::{Chart, Series, Style, ValueFormat};
use tally_lake::Snapshot;
use tally_metrics::{Dim, Metric, compute_yoy};
use tally_model::{BucketKind, Sites, Table as LakeTable};

use crate::doc::{Figure, Report, ReportError, Section};
use crate::frame::{Cell, Show, Table, cell};
use crate::kit::{
    Period, f64s, mark_last_section, natural_bucket, strs, style, thousands, wide_table,
};
use crate::plot::{pivot, site_name};

pub fn build(
    lake: &Snapshot,
    sites: &Sites,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Report, ReportError> {
    let p = Period {
        lake,
        sites,
        from,
        to,
    };
    let every = natural_bucket((to - from).num_days());
    let period = p.label();
    let mut report = Report {
        title: format!("Library usage — {}", sites.library.name),
        subtitle: format!("Public computers, circulation, Wi-Fi, printing and help desk, {period}"),
        facts: vec![
            ("Period".into(), period.clone()),
            (
                "Buckets".into(),
                format!(
                    "{} (local time, {})",
                    every.as_str(),
                    sites.library.timezone
                ),
            ),
            (
                "Branches".into(),
                sites
                    .sites
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "Public computers".into(),
                thousands(p.library(Metric::PublicComputers)?.unwrap_or(0.0)),
            ),
        ],
        as_of: Some(to - chrono::Duration::days(1)),
        ..Report::default()
    };

    // The sections of the tables the lake has files of; the others are named.
    let has = |t: LakeTable| !lake.rel_files(t, None).is_empty();
    let sections: [(LakeTable, &str, SectionFn); 5] = [
        (
            LakeTable::Sessions,
            "public computers (a reservation or logon export)",
            public_computers,
        ),
        (
            LakeTable::Circulation,
            "circulation (a circulation export)",
            circulation,
        ),
        (LakeTable::Wifi, "Wi-Fi (an access point export)", wifi),
        (
            LakeTable::Prints,
            "printing (a print log: PaperCut Print Logger)",
            printing,
        ),
        (
            LakeTable::WorkOrders,
            "help desk (a ticket export)",
            help_desk,
        ),
    ];
    let mut missing = Vec::new();
    for (table, what, section) in sections {
        if has(table) {
            section(&p, every, &mut report)?;
        } else {
            missing.push(format!("{} — {what}", table.name()));
        }
    }
    if !missing.is_empty() {
        report.warn(&[format!(
            "the lake has no {}: their sections are left out until such files are ingested",
            missing.join("; ")
        )]);
    }
    data_received(&lake.intake(), &mut report);
    report.footer = format!(
        "Made by tally {} from the lake's ledger. Patron identifiers are pseudonymised at ingest; breakdowns with fewer than {} patrons are suppressed (shown as –). The CSV files beside this report hold every table at full precision.",
        env!("CARGO_PKG_VERSION"),
        sites.library.min_cell_size
    );
    Ok(report)
}

/// A section of the report, drawn when the lake has its table.
type SectionFn = fn(&Period, BucketKind, &mut Report) -> Result<(), ReportError>;

/// The public computers: sessions, use and capacity by branch and over time.
fn public_computers(p: &Period, every: BucketKind, report: &mut Report) -> Result<(), ReportError> {
    let sites = p.sites;
    let (period, source) = (p.label(), p.source());
    // 1. Overview: one row per branch and the library as a whole.
    let overview_metrics = [
        Metric::Sessions,
        Metric::SurveyUses,
        Metric::SessionHours,
        Metric::DistinctUsers,
        Metric::Occupancy,
        Metric::Availability,
        Metric::TimeAtCapacity,
        Metric::PeakConcurrent,
    ];
    let (overview, mut overview_table) = p.branch_table(
        &overview_metrics,
        &format!("Public computers, {period}"),
        report,
    )?;
    for h in &mut overview_table.header {
        if h == "time_at_capacity" {
            *h = "minutes at capacity".into();
        }
    }
    let total_sessions = p.library(Metric::Sessions)?.unwrap_or(0.0);
    let busiest = strs(&overview, "name")?
        .into_iter()
        .zip(f64s(&overview, "occupancy")?)
        .filter_map(|(n, v)| Some((n, v?)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    report.sections.push(Section {
        id: "overview".into(),
        title: "Public computers by branch".into(),
        lead: format!(
            "{} computer sessions in the period{}.",
            thousands(total_sessions),
            busiest
                .map(|(n, v)| format!(
                    "; the busiest branch by occupancy was {n} at {}",
                    Metric::Occupancy.unit().show(v)
                ))
                .unwrap_or_default()
        ),
        how_counted: overview_metrics
            .iter()
            .map(|m| format!("{}: {}.", m.name(), m.definition()))
            .collect(),
        figures: vec![Figure {
            name: "sessions-by-branch".into(),
            chart: Chart::Bar {
                categories: strs(&overview, "name")?,
                series: Series::new("sessions", f64s(&overview, "sessions")?),
            },
            style: style(
                "Computer sessions by branch",
                &format!("{period}. {source}"),
                "sessions",
                ValueFormat::Number,
            ),
        }],
        tables: vec![overview_table],
    });
    report.data.push(("overview-by-branch".into(), overview));

    // 2. Sessions over time, stacked by branch.
    let sessions = p.run(Metric::Sessions, every, vec![Dim::Site])?;
    let (cats, series) = pivot(&sessions, Dim::Site, sites)?;
    report.sections.push(Section {
        id: "sessions".into(),
        title: format!("Computer sessions per {}", every.as_str()),
        how_counted: vec![
            format!("sessions: {}.", Metric::Sessions.definition()),
            "Buckets are local calendar periods in the library's time zone; a session belongs to the bucket its start falls in.".into(),
        ],
        figures: vec![Figure {
            name: "sessions-over-time".into(),
            chart: Chart::Stacked { categories: cats.clone(), series: series.clone() },
            style: style(&format!("Computer sessions per {}", every.as_str()), &format!("{period}, stacked by branch. {source}"), "sessions", ValueFormat::Number),
        }],
        tables: vec![wide_table("Sessions by branch", &cats, &series, Show::Int)],
        ..Section::default()
    });
    mark_last_section(report, &sessions)?;
    report
        .data
        .push(("sessions-by-branch".into(), sessions.frame));

    // 3. Occupancy and availability over time.
    let occupancy = p.run(Metric::Occupancy, every, vec![Dim::Site])?;
    report.warn(&occupancy.warnings);
    let (cats, series) = pivot(&occupancy, Dim::Site, sites)?;
    let availability = p.run(Metric::Availability, every, vec![Dim::Site])?;
    let (acats, aseries) = pivot(&availability, Dim::Site, sites)?;
    report.sections.push(Section {
        id: "occupancy".into(),
        title: "Occupancy and availability".into(),
        how_counted: vec![
            format!("occupancy: {}.", Metric::Occupancy.definition()),
            format!("availability: {}.", Metric::Availability.definition()),
            "A dash means the branch had no opening hours in that bucket.".into(),
        ],
        figures: vec![
            Figure {
                name: "occupancy-over-time".into(),
                chart: Chart::Line {
                    categories: cats.clone(),
                    series: series.clone(),
                },
                style: style(
                    &format!("Occupancy per {}", every.as_str()),
                    &format!(
                        "Share of station time in use during opening hours. {period}. {source}"
                    ),
                    "occupancy",
                    ValueFormat::Percent,
                ),
            },
            Figure {
                name: "availability-over-time".into(),
                chart: Chart::Line {
                    categories: acats.clone(),
                    series: aseries.clone(),
                },
                style: style(
                    &format!("Availability per {}", every.as_str()),
                    &format!(
                        "Share of opening time with at least one computer free. {period}. {source}"
                    ),
                    "availability",
                    ValueFormat::Percent,
                ),
            },
        ],
        tables: vec![
            wide_table("Occupancy by branch", &cats, &series, Show::Percent),
            wide_table("Availability by branch", &acats, &aseries, Show::Percent),
        ],
        ..Section::default()
    });
    mark_last_section(report, &occupancy)?;
    report
        .data
        .push(("occupancy-by-branch".into(), occupancy.frame));
    report
        .data
        .push(("availability-by-branch".into(), availability.frame));

    // 4. Peak hours: weekday x hour, library-wide.
    let heat = p.run(Metric::Heatmap, BucketKind::Hour, vec![])?;
    let hf = &heat.frame;
    let occ = f64s(hf, "occupancy")?;
    let hours: Vec<usize> = hf
        .column("hour")?
        .cast(&DataType::Int64)?
        .i64()?
        .iter()
        .map(|h| h.unwrap_or(0) as usize)
        .collect();
    let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let mut slots: Vec<(f64, usize, usize)> = (0..hf.height())
        .filter_map(|i| occ[i].map(|v| (v, i / 24, hours[i])))
        .collect();
    slots.sort_by(|a, b| b.0.total_cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    let top = Table {
        caption: "The ten busiest hours of the week".into(),
        header: vec!["weekday".into(), "hour".into(), "occupancy".into()],
        rows: slots
            .iter()
            .take(10)
            .map(|(v, d, h)| {
                vec![
                    Cell::Text(weekdays[*d].into()),
                    Cell::Text(format!("{h:02}:00-{:02}:00", h + 1)),
                    Cell::Percent(*v),
                ]
            })
            .collect(),
    };
    report.sections.push(Section {
        id: "peak-hours".into(),
        title: "Peak hours".into(),
        lead: slots
            .first()
            .map(|(v, d, h)| {
                format!(
                    "The busiest hour of the week was {} {h:02}:00, {:.1}% occupied on average.",
                    weekdays[*d],
                    v * 100.0
                )
            })
            .unwrap_or_default(),
        how_counted: vec![
            format!("{}.", Metric::Heatmap.definition()),
            "Blank cells are hours when no branch is open.".into(),
        ],
        figures: vec![Figure {
            name: "peak-hours".into(),
            chart: crate::plot::heatmap(&heat)?,
            style: Style {
                x_label: "hour of day (local time; a column is the hour that starts there)".into(),
                y_label: String::new(),
                ..style(
                    "Peak hours: average occupancy, all branches",
                    &format!("{period}. {source}"),
                    "",
                    ValueFormat::Percent,
                )
            },
        }],
        tables: vec![top],
    });
    report.data.push(("peak-hours".into(), heat.frame.clone()));

    // 5. The turn-away signal.
    let capacity = p.run(Metric::TimeAtCapacity, BucketKind::All, vec![Dim::Site])?;
    let weekly = p.run(
        Metric::CapacityMinutesPerWeek,
        BucketKind::All,
        vec![Dim::Site],
    )?;
    let mins = f64s(&capacity.frame, "time_at_capacity")?;
    let per_week = f64s(&weekly.frame, "capacity_minutes_per_week")?;
    let cap_names: Vec<String> = strs(&capacity.frame, "site")?
        .iter()
        .map(|c| site_name(sites, c))
        .collect();
    let threshold = sites.library.thresholds.add_capacity_minutes_per_week;
    let over: Vec<&String> = cap_names
        .iter()
        .zip(&per_week)
        .filter(|(_, w)| w.is_some_and(|w| w >= threshold))
        .map(|(n, _)| n)
        .collect();
    report.sections.push(Section {
        id: "capacity".into(),
        title: "Can a walk-in get a computer?".into(),
        lead: if over.is_empty() {
            format!("No branch had every computer busy for {threshold:.0} minutes a week or more.")
        } else {
            format!("Every computer was busy {threshold:.0} minutes a week or more at: {}.", over.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))
        },
        how_counted: vec![
            format!("time_at_capacity: {}.", Metric::TimeAtCapacity.definition()),
            format!(
                "capacity_minutes_per_week: {}.",
                Metric::CapacityMinutesPerWeek.definition()
            ),
        ],
        figures: vec![Figure {
            name: "time-at-capacity".into(),
            chart: Chart::Bar { categories: cap_names.clone(), series: Series::new("minutes per week", per_week.clone()) },
            style: style("Minutes a week with every computer busy", &format!("Average over {period}. Threshold for adding stations: {threshold} min/week. {source}"), "minutes per week", ValueFormat::Number),
        }],
        tables: vec![Table {
            caption: "Time at capacity by branch".into(),
            header: vec!["branch".into(), "minutes at capacity".into(), "minutes per week".into()],
            rows: cap_names.iter().enumerate().map(|(i, n)| vec![Cell::Text(n.clone()), cell(mins[i], Show::Decimals(0)), cell(per_week[i], Show::Decimals(1))]).collect(),
        }],
    });
    report
        .data
        .push(("time-at-capacity".into(), capacity.frame));

    // 6. Who uses them.
    let by_type = p.run(Metric::Sessions, every, vec![Dim::UserType])?;
    let (cats, series) = pivot(&by_type, Dim::UserType, sites)?;
    let users = p.run(Metric::DistinctUsers, every, vec![])?;
    report.warn(&users.warnings);
    let user_counts = f64s(&users.frame, "distinct_users")?;
    let mut type_table = wide_table("Sessions by kind of user", &cats, &series, Show::Int);
    type_table.header.push("distinct patrons".into());
    for (row, v) in type_table.rows.iter_mut().zip(&user_counts) {
        row.push(cell(*v, Show::Int));
    }
    report.sections.push(Section {
        id: "users".into(),
        title: "Who uses the computers".into(),
        how_counted: vec![
            "user_type: patron (a library card), guest (a guest pass), staff (a staff login or override), unknown (no user in the export).".into(),
            format!("survey_uses: {}.", Metric::SurveyUses.definition()),
            format!("distinct_users: {}.", Metric::DistinctUsers.definition()),
        ],
        figures: vec![
            Figure {
                name: "sessions-by-user-type".into(),
                chart: Chart::Stacked { categories: cats.clone(), series: series.clone() },
                style: style(&format!("Sessions per {} by kind of user", every.as_str()), &format!("Staff sessions are left out of the survey's count. {period}. {source}"), "sessions", ValueFormat::Number),
            },
            Figure {
                name: "distinct-users".into(),
                chart: Chart::Line { categories: strs(&users.frame, "bucket")?, series: vec![Series::new("distinct patrons", user_counts.clone())] },
                style: style(&format!("Distinct patrons per {}", every.as_str()), &format!("Pseudonymised card holders; guests not counted. {period}. {source}"), "patrons", ValueFormat::Number),
            },
        ],
        tables: vec![type_table],
        ..Section::default()
    });
    mark_last_section(report, &by_type)?;
    report
        .data
        .push(("sessions-by-user-type".into(), by_type.frame));
    report.data.push(("distinct-users".into(), users.frame));
    Ok(())
}

/// Circulation by branch over the period with the same period a year earlier, and per bucket.
fn circulation(p: &Period, every: BucketKind, report: &mut Report) -> Result<(), ReportError> {
    let (period, source) = (p.label(), p.source());
    let yoy = compute_yoy(
        p.lake,
        p.sites,
        &p.request(Metric::Circulation, BucketKind::All, vec![Dim::Site]),
    )?;
    report.warn(&yoy.warnings);
    let (parts, mut table) = p.branch_table(
        &[
            Metric::Checkouts,
            Metric::Renewals,
            Metric::Circulation,
            Metric::InHouseUses,
            Metric::Checkins,
        ],
        &format!("Circulation, {period}"),
        report,
    )?;
    let yoy_all = compute_yoy(
        p.lake,
        p.sites,
        &p.request(Metric::Circulation, BucketKind::All, vec![]),
    )?;
    // The year before and the change, by branch (rows in the same site order), then the library.
    let prev: BTreeMap<String, (Option<f64>, Option<f64>)> = strs(&yoy.frame, "site")?
        .into_iter()
        .zip(
            f64s(&yoy.frame, "previous_year")?
                .into_iter()
                .zip(f64s(&yoy.frame, "change_pct")?),
        )
        .collect();
    table
        .header
        .extend(["previous year".to_string(), "change %".to_string()]);
    for (row, code) in table
        .rows
        .iter_mut()
        .zip(strs(&parts, "site")?.into_iter().map(Some).chain([None]))
    {
        let (pv, ch) = match code {
            Some(c) => prev.get(&c).copied().unwrap_or((None, None)),
            None => (
                f64s(&yoy_all.frame, "previous_year")?[0],
                f64s(&yoy_all.frame, "change_pct")?[0],
            ),
        };
        row.push(cell(pv, Show::Int));
        row.push(cell(ch, Show::Decimals(1)));
    }
    let over_time = p.run(Metric::Circulation, every, vec![Dim::Site])?;
    let (cats, series) = pivot(&over_time, Dim::Site, p.sites)?;
    let now = f64s(&yoy_all.frame, "circulation")?[0].unwrap_or(0.0);
    let change = f64s(&yoy_all.frame, "change_pct")?[0];
    report.sections.push(Section {
        id: "circulation".into(),
        title: "Circulation".into(),
        lead: format!(
            "{} items circulated{}.",
            thousands(now),
            change.map(|c| format!(", {c:+.1}% on the same period a year earlier")).unwrap_or_else(|| " (no figures for the year before)".into())
        ),
        how_counted: vec![
            format!("circulation: {}.", Metric::Circulation.definition()),
            format!("in_house_uses: {}.", Metric::InHouseUses.definition()),
            "previous year: the same dates a year earlier, from the lake; change % = (now - then) / then x 100.".into(),
        ],
        figures: vec![Figure {
            name: "circulation-over-time".into(),
            chart: Chart::Stacked { categories: cats.clone(), series: series.clone() },
            style: style(&format!("Circulation per {}", every.as_str()), &format!("Checkouts and renewals, stacked by branch. {period}. {source}"), "items", ValueFormat::Number),
        }],
        tables: vec![table, wide_table("Circulation by branch over time", &cats, &series, Show::Int)],
    });
    mark_last_section(report, &over_time)?;
    report.data.push(("circulation-by-branch".into(), parts));
    report.data.push(("circulation-yoy".into(), yoy.frame));
    report
        .data
        .push(("circulation-over-time".into(), over_time.frame));
    Ok(())
}

fn wifi(p: &Period, every: BucketKind, report: &mut Report) -> Result<(), ReportError> {
    let (period, source) = (p.label(), p.source());
    let (parts, table) = p.branch_table(
        &[Metric::WifiSessions, Metric::WifiDevices],
        &format!("Wi-Fi, {period}"),
        report,
    )?;
    let over_time = p.run(Metric::WifiSessions, every, vec![Dim::Site])?;
    let (cats, series) = pivot(&over_time, Dim::Site, p.sites)?;
    report.sections.push(Section {
        id: "wifi".into(),
        title: "Wi-Fi".into(),
        lead: format!(
            "{} wireless sessions in the period (the survey's line 652 counts these).",
            thousands(p.library(Metric::WifiSessions)?.unwrap_or(0.0))
        ),
        how_counted: vec![
            format!("wifi_sessions: {}.", Metric::WifiSessions.definition()),
            format!("wifi_devices: {}.", Metric::WifiDevices.definition()),
        ],
        figures: vec![Figure {
            name: "wifi-over-time".into(),
            chart: Chart::Stacked {
                categories: cats.clone(),
                series: series.clone(),
            },
            style: style(
                &format!("Wi-Fi sessions per {}", every.as_str()),
                &format!("Stacked by branch. {period}. {source}"),
                "connections",
                ValueFormat::Number,
            ),
        }],
        tables: vec![
            table,
            wide_table(
                "Wi-Fi sessions by branch over time",
                &cats,
                &series,
                Show::Int,
            ),
        ],
    });
    mark_last_section(report, &over_time)?;
    report.data.push(("wifi-by-branch".into(), parts));
    report.data.push(("wifi-over-time".into(), over_time.frame));
    Ok(())
}

/// Public printing: jobs, pages, colour and duplex by branch, pages per 1,000 residents
/// (the equity view), and pages over time.
fn printing(p: &Period, every: BucketKind, report: &mut Report) -> Result<(), ReportError> {
    let (period, source) = (p.label(), p.source());
    let (parts, table) = p.branch_table(
        &[
            Metric::PrintJobs,
            Metric::PrintPages,
            Metric::PrintPagesPer1000,
            Metric::ColorShare,
            Metric::DuplexShare,
        ],
        &format!("Printing, {period}"),
        report,
    )?;
    let over_time = p.run(Metric::PrintPages, every, vec![Dim::Site])?;
    let (cats, series) = pivot(&over_time, Dim::Site, p.sites)?;
    let all = |m: Metric| p.library(m);
    let percent = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{:.0}%", v * 100.0));
    report.sections.push(Section {
        id: "printing".into(),
        title: "Printing".into(),
        lead: format!(
            "{} pages in {} jobs in the period; {} of the pages in colour, {} two-sided.",
            thousands(all(Metric::PrintPages)?.unwrap_or(0.0)),
            thousands(all(Metric::PrintJobs)?.unwrap_or(0.0)),
            percent(all(Metric::ColorShare)?),
            percent(all(Metric::DuplexShare)?),
        ),
        how_counted: [
            Metric::PrintJobs,
            Metric::PrintPages,
            Metric::PrintPagesPer1000,
            Metric::ColorShare,
            Metric::DuplexShare,
        ]
        .iter()
        .map(|m| format!("{}: {}.", m.name(), m.definition()))
        .chain(["Document names are never read or stored; users are pseudonymised.".to_string()])
        .collect(),
        figures: vec![Figure {
            name: "printing-over-time".into(),
            chart: Chart::Stacked {
                categories: cats.clone(),
                series: series.clone(),
            },
            style: style(
                &format!("Pages printed per {}", every.as_str()),
                &format!("Stacked by branch; pages x copies. {period}. {source}"),
                "pages",
                ValueFormat::Number,
            ),
        }],
        tables: vec![
            table,
            wide_table(
                "Pages printed by branch over time",
                &cats,
                &series,
                Show::Int,
            ),
        ],
    });
    mark_last_section(report, &over_time)?;
    report.data.push(("printing-by-branch".into(), parts));
    report
        .data
        .push(("printing-over-time".into(), over_time.frame));
    Ok(())
}

fn help_desk(p: &Period, every: BucketKind, report: &mut Report) -> Result<(), ReportError> {
    let (period, source) = (p.label(), p.source());
    let metrics = [
        Metric::TicketsOpened,
        Metric::TicketsResolved,
        Metric::Backlog,
        Metric::HoursToResolveMedian,
        Metric::HoursToResolveP90,
        Metric::ShareOverTarget,
    ];
    let metrics: Vec<Metric> = metrics
        .into_iter()
        .filter(|m| {
            *m != Metric::ShareOverTarget || !p.sites.library.work_order_target_hours.is_empty()
        })
        .collect();
    let (parts, table) =
        p.branch_table(&metrics, &format!("Help desk by branch, {period}"), report)?;
    let opened = p.run(Metric::TicketsOpened, every, vec![])?;
    let resolved = p.run(Metric::TicketsResolved, every, vec![])?;
    let cats = strs(&opened.frame, "bucket")?;
    let series = vec![
        Series::new("opened", f64s(&opened.frame, "tickets_opened")?),
        Series::new("resolved", f64s(&resolved.frame, "tickets_resolved")?),
    ];
    let mut tables = vec![table];
    let mut how: Vec<String> = metrics
        .iter()
        .map(|m| format!("{}: {}.", m.name(), m.definition()))
        .collect();
    if metrics.contains(&Metric::ShareOverTarget) {
        let by_priority = p.run(
            Metric::ShareOverTarget,
            BucketKind::All,
            vec![Dim::Priority],
        )?;
        let targets = &p.sites.library.work_order_target_hours;
        let rows = strs(&by_priority.frame, "priority")?
            .into_iter()
            .zip(f64s(&by_priority.frame, "share_over_target")?)
            .map(|(pr, v)| {
                vec![
                    Cell::Text(pr.clone()),
                    cell(targets.get(&pr).copied(), Show::Decimals(0)),
                    cell(v, Show::Percent),
                ]
            })
            .collect();
        tables.push(Table {
            caption: "Tickets over their target time, by priority".into(),
            header: vec![
                "priority".into(),
                "target hours".into(),
                "share over target".into(),
            ],
            rows,
        });
        report
            .data
            .push(("help-desk-over-target".into(), by_priority.frame));
        how.push("Targets are sites.toml's work_order_target_hours.".into());
    }
    let total_opened = p.library(Metric::TicketsOpened)?.unwrap_or(0.0);
    report.sections.push(Section {
        id: "help-desk".into(),
        title: "Help desk".into(),
        lead: format!(
            "{} tickets opened and {} resolved in the period.",
            thousands(total_opened),
            thousands(p.library(Metric::TicketsResolved)?.unwrap_or(0.0))
        ),
        how_counted: how,
        figures: vec![Figure {
            name: "help-desk-over-time".into(),
            chart: Chart::Line {
                categories: cats,
                series,
            },
            style: style(
                &format!("Tickets opened and resolved per {}", every.as_str()),
                &format!("All branches. {period}. {source}"),
                "tickets",
                ValueFormat::Number,
            ),
        }],
        tables,
    });
    mark_last_section(report, &opened)?;
    report.data.push(("help-desk-by-branch".into(), parts));
    Ok(())
}

/// What went in: every file in the ledger with its row accounting, and the reasons rows
/// were not counted.
fn data_received(intake: &tally_lake::Intake, report: &mut Report) {
    let mut files = Table {
        caption: "Files in the lake, by table and format".into(),
        header: vec![
            "table".into(),
            "format".into(),
            "files".into(),
            "rows read".into(),
            "accepted".into(),
            "quarantined".into(),
            "excluded".into(),
        ],
        rows: Vec::new(),
    };
    for r in intake.by_format.iter().chain([&intake.total]) {
        let (table, format) = if std::ptr::eq(r, &intake.total) {
            ("total".to_string(), String::new())
        } else {
            (r.table.clone(), r.format.clone())
        };
        let mut row = vec![Cell::Text(table), Cell::Text(format)];
        row.extend(
            [
                r.files,
                r.rows_read,
                r.rows_accepted,
                r.rows_quarantined,
                r.rows_excluded,
            ]
            .map(|x| Cell::Int(x as i64)),
        );
        files.rows.push(row);
    }
    let reason_table = Table {
        caption: "Rows not counted, by reason".into(),
        header: vec!["kind".into(), "reason".into(), "rows".into()],
        rows: intake
            .by_reason
            .iter()
            .map(|(kind, k, v)| {
                vec![
                    Cell::Text(kind.clone()),
                    Cell::Text(k.clone()),
                    Cell::Int(*v as i64),
                ]
            })
            .collect(),
    };
    report.sections.push(Section {
        id: "data".into(),
        title: "Data received".into(),
        lead: format!("{} files in the lake; rows read = accepted + quarantined + excluded for every one.", intake.total.files),
        how_counted: vec![
            "Every input row is accepted, quarantined (unreadable or impossible: kept aside with its reason, identifiers masked) or excluded by a rule (not a use: a Koha payment, a Symphony hold, a machine logon).".into(),
            "Libki writes two rows per session (LOGIN and its end); both count as accepted rows of one session.".into(),
        ],
        figures: vec![],
        tables: vec![files, reason_table],
    });
}

/// Writes the report as HTML (report.html), its charts and CSV tables under `out`; the
/// demo's output. Returns the HTML's path.
pub fn write(report: &Report, out: &Path) -> Result<std::path::PathBuf, ReportError> {
    crate::doc::write(
        report,
        out,
        "report",
        &[crate::Format::Html, crate::Format::Csv],
    )?;
    Ok(out.join("report.html"))
}
