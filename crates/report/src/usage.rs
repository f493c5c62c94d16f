//! The public-computer usage report: per branch and library-wide, over a period.
//!
//! Every table is a `tally metric` result (same request, same numbers); the charts are
//! drawn from those tables; the CSV of each table is written beside the HTML so a reader
//! can re-derive any figure.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use tally_charts::{Chart, Series, Style, ValueFormat};
use tally_metrics::{Dim, Metric, Output, Request, compute};
use tally_model::{BucketKind, Lake, Sites};

use crate::frame::{Cell, Show, Table, table_from_frame};
use crate::html::{Report, Section};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Metric(#[from] tally_metrics::MetricError),
    #[error(transparent)]
    Polars(#[from] PolarsError),
    #[error(transparent)]
    Chart(#[from] tally_charts::ChartError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// A chart to write as a file beside the report (for slides) and to embed in it.
pub struct ChartFile {
    pub name: String,
    pub chart: Chart,
    pub style: Style,
}

pub struct UsageReport {
    pub report: Report,
    pub charts: Vec<ChartFile>,
    /// (file name, table) written as CSV.
    pub tables: Vec<(String, DataFrame)>,
}

/// The bucket a period of this many days reads best in.
pub fn natural_bucket(days: i64) -> BucketKind {
    match days {
        ..=31 => BucketKind::Day,
        32..=120 => BucketKind::Week,
        _ => BucketKind::Month,
    }
}

fn show(name: &str) -> Show {
    match name {
        "occupancy" | "availability" => Show::Percent,
        "session_hours" => Show::Decimals(1),
        "time_at_capacity" => Show::Decimals(0),
        _ => Show::Int,
    }
}

fn site_name(sites: &Sites, code: &str) -> String {
    sites.site(code).map_or_else(|| code.to_string(), |s| s.name.clone())
}

/// Long (dim, bucket, value) to one series per dim value over the buckets.
fn pivot(out: &Output, dim: &str, sites: &Sites) -> PolarsResult<(Vec<String>, Vec<Series>)> {
    let df = &out.frame;
    let keys = df.column(dim)?.str()?.clone();
    let buckets = df.column("bucket")?.str()?.clone();
    let values = df.column(&out.value_column)?.cast(&DataType::Float64)?;
    let values = values.f64()?;
    let mut categories: Vec<String> = Vec::new();
    let mut series: Vec<Series> = Vec::new();
    for i in 0..df.height() {
        let key = keys.get(i).unwrap_or("");
        let bucket = buckets.get(i).unwrap_or("").to_string();
        let b = match categories.iter().position(|c| *c == bucket) {
            Some(b) => b,
            None => {
                categories.push(bucket);
                categories.len() - 1
            }
        };
        let name = if dim == "site" { site_name(sites, key) } else { key.to_string() };
        let s = match series.iter().position(|s| s.name == name) {
            Some(s) => s,
            None => {
                series.push(Series::new(name, Vec::new()));
                series.len() - 1
            }
        };
        let v = &mut series[s].values;
        if v.len() <= b {
            v.resize(b + 1, None);
        }
        v[b] = values.get(i);
    }
    for s in &mut series {
        s.values.resize(categories.len(), None);
    }
    Ok((categories, series))
}

/// A wide table: buckets down, one column per series.
fn wide_table(caption: &str, categories: &[String], series: &[Series], cell: impl Fn(Option<f64>) -> Cell) -> Table {
    let mut header = vec!["bucket".to_string()];
    header.extend(series.iter().map(|s| s.name.clone()));
    let rows = categories
        .iter()
        .enumerate()
        .map(|(i, c)| std::iter::once(Cell::Text(c.clone())).chain(series.iter().map(|s| cell(s.values[i]))).collect())
        .collect();
    Table { caption: caption.into(), header, rows }
}

fn style(title: &str, subtitle: &str, y: &str, format: ValueFormat) -> Style {
    Style { subtitle: subtitle.into(), format, ..Style::new(title, y) }
}

pub fn build(lake: &Lake, sites: &Sites, from: NaiveDate, to: NaiveDate) -> Result<UsageReport, ReportError> {
    let every = natural_bucket((to - from).num_days());
    let period = format!("{from} to {} ({} days)", to - chrono::Duration::days(1), (to - from).num_days());
    let source = format!("Source: tally lake, {}", sites.library.name);
    let run = |metric: Metric, every: BucketKind, by: Vec<Dim>| compute(lake, sites, &Request { metric, from, to, every, by });
    let mut warnings: Vec<String> = Vec::new();
    let mut note = |o: &Output| {
        for w in &o.warnings {
            if !warnings.contains(w) {
                warnings.push(w.clone());
            }
        }
    };
    let mut sections = Vec::new();
    let mut charts = Vec::new();
    let mut tables: Vec<(String, DataFrame)> = Vec::new();

    // 1. Overview: one row per branch and the library as a whole, over the whole period.
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
    let mut by_site: Option<DataFrame> = None;
    let mut library_row: Vec<Cell> = vec![Cell::Text("(library)".into()), Cell::Text("All branches".into())];
    for m in overview_metrics {
        let per_site = run(m, BucketKind::All, vec![Dim::Site])?;
        note(&per_site);
        let all = run(m, BucketKind::All, vec![])?;
        let v = all.frame.column(m.name())?.cast(&DataType::Float64)?.f64()?.get(0);
        library_row.push(match (v, show(m.name())) {
            (None, _) => Cell::Empty,
            (Some(v), Show::Percent) => Cell::Percent(v),
            (Some(v), Show::Decimals(d)) => Cell::Number(v, d),
            (Some(v), Show::Int) => Cell::Int(v.round() as i64),
        });
        let part = per_site.frame.select(["site", m.name()])?;
        by_site = Some(match by_site {
            None => part,
            Some(df) => df.join(&part, ["site"], ["site"], JoinArgs::new(JoinType::Left), None)?,
        });
    }
    let mut overview = by_site.unwrap_or_default();
    let names: Vec<String> =
        overview.column("site")?.str()?.iter().map(|c| site_name(sites, c.unwrap_or(""))).collect();
    overview.insert_column(1, Column::new("name".into(), names))?;
    let mut overview_table = table_from_frame(&overview, &format!("Public computers, {period}"), &show)?;
    for h in &mut overview_table.header {
        if h == "time_at_capacity" {
            *h = "minutes at capacity".into();
        }
    }
    overview_table.rows.push(library_row);
    let sessions_bar = Chart::Bar {
        categories: overview.column("name")?.str()?.iter().map(|s| s.unwrap_or("").to_string()).collect(),
        series: Series::new("sessions", overview.column("sessions")?.cast(&DataType::Float64)?.f64()?.iter().collect()),
    };
    charts.push(ChartFile {
        name: "sessions-by-branch".into(),
        chart: sessions_bar,
        style: style("Computer sessions by branch", &format!("{period}. {source}"), "sessions", ValueFormat::Number),
    });
    sections.push(Section {
        id: "overview".into(),
        title: "Overview by branch".into(),
        how_counted: overview_metrics.iter().map(|m| format!("{}: {}.", m.name(), m.definition())).collect(),
        charts: vec![],
        tables: vec![overview_table],
    });
    tables.push(("overview-by-branch".into(), overview));

    // 2. Sessions over time, stacked by branch.
    let sessions = run(Metric::Sessions, every, vec![Dim::Site])?;
    note(&sessions);
    let (cats, series) = pivot(&sessions, "site", sites)?;
    charts.push(ChartFile {
        name: "sessions-over-time".into(),
        chart: Chart::Stacked { categories: cats.clone(), series: series.clone() },
        style: style(&format!("Computer sessions per {}", every.as_str()), &format!("{period}, stacked by branch. {source}"), "sessions", ValueFormat::Number),
    });
    sections.push(Section {
        id: "sessions".into(),
        title: format!("Computer sessions per {}", every.as_str()),
        how_counted: vec![format!("sessions: {}.", Metric::Sessions.definition()), "Buckets are local calendar periods in the library's time zone; a session belongs to the bucket its start falls in.".into()],
        charts: vec![],
        tables: vec![wide_table("Sessions by branch", &cats, &series, |v| v.map_or(Cell::Empty, |v| Cell::Int(v as i64)))],
    });
    tables.push(("sessions-by-branch".into(), sessions.frame.clone()));

    // 3. Occupancy over time, a line per branch.
    let occupancy = run(Metric::Occupancy, every, vec![Dim::Site])?;
    note(&occupancy);
    let (cats, series) = pivot(&occupancy, "site", sites)?;
    charts.push(ChartFile {
        name: "occupancy-over-time".into(),
        chart: Chart::Line { categories: cats.clone(), series: series.clone() },
        style: style(&format!("Occupancy per {}", every.as_str()), &format!("Share of station time in use during opening hours. {period}. {source}"), "occupancy", ValueFormat::Percent),
    });
    sections.push(Section {
        id: "occupancy".into(),
        title: "Occupancy".into(),
        how_counted: vec![format!("occupancy: {}.", Metric::Occupancy.definition()), "A dash means the branch had no opening hours in that bucket.".into()],
        charts: vec![],
        tables: vec![wide_table("Occupancy by branch", &cats, &series, |v| v.map_or(Cell::Empty, Cell::Percent))],
    });
    tables.push(("occupancy-by-branch".into(), occupancy.frame.clone()));

    // 4. Peak hours: weekday x hour, library-wide.
    let heat = run(Metric::Heatmap, BucketKind::Hour, vec![])?;
    note(&heat);
    let hf = &heat.frame;
    let occ = hf.column("occupancy")?.f64()?;
    let hours: Vec<usize> = hf.column("hour")?.i32()?.iter().map(|h| h.unwrap_or(0) as usize).collect();
    let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let mut grid = vec![vec![None; 24]; 7];
    for i in 0..hf.height() {
        grid[i / 24][hours[i]] = occ.get(i);
    }
    let (lo, hi) = (0..24).fold((24, 0), |(lo, hi), h| if (0..7).any(|d| grid[d][h].is_some()) { (lo.min(h), hi.max(h)) } else { (lo, hi) });
    let (lo, hi) = if lo > hi { (0, 23) } else { (lo, hi) };
    let columns: Vec<String> = (lo..=hi).map(|h| format!("{h:02}")).collect();
    let values: Vec<Vec<Option<f64>>> = grid.iter().map(|r| r[lo..=hi].to_vec()).collect();
    charts.push(ChartFile {
        name: "peak-hours".into(),
        chart: Chart::Heatmap { rows: weekdays.iter().map(|s| s.to_string()).collect(), columns, values },
        style: Style { x_label: "hour of day (local time; a column is the hour that starts there)".into(), y_label: String::new(), ..style("Peak hours: average occupancy, all branches", &format!("{period}. {source}"), "", ValueFormat::Percent) },
    });
    let mut slots: Vec<(f64, usize, usize)> =
        (0..7).flat_map(|d| (0..24).map(move |h| (d, h))).filter_map(|(d, h)| grid[d][h].map(|v| (v, d, h))).collect();
    slots.sort_by(|a, b| b.0.total_cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    let top = Table {
        caption: "The ten busiest hours of the week".into(),
        header: vec!["weekday".into(), "hour".into(), "occupancy".into()],
        rows: slots.iter().take(10).map(|(v, d, h)| vec![Cell::Text(weekdays[*d].into()), Cell::Text(format!("{h:02}:00-{:02}:00", h + 1)), Cell::Percent(*v)]).collect(),
    };
    sections.push(Section {
        id: "peak-hours".into(),
        title: "Peak hours".into(),
        how_counted: vec![format!("{}.", Metric::Heatmap.definition()), "Blank cells are hours when no branch is open.".into()],
        charts: vec![],
        tables: vec![top],
    });
    tables.push(("peak-hours".into(), heat.frame.clone()));

    // 5. The turn-away signal.
    let capacity = run(Metric::TimeAtCapacity, BucketKind::All, vec![Dim::Site])?;
    note(&capacity);
    let weeks = (to - from).num_days() as f64 / 7.0;
    let per_week: Vec<Option<f64>> = capacity.frame.column("time_at_capacity")?.f64()?.iter().map(|v| v.map(|v| v / weeks)).collect();
    let cap_names: Vec<String> = capacity.frame.column("site")?.str()?.iter().map(|c| site_name(sites, c.unwrap_or(""))).collect();
    charts.push(ChartFile {
        name: "time-at-capacity".into(),
        chart: Chart::Bar { categories: cap_names.clone(), series: Series::new("minutes per week", per_week.clone()) },
        style: style("Minutes a week with every computer busy", &format!("Average over {period}. Threshold for adding stations: {} min/week. {source}", sites.library.thresholds.add_capacity_minutes_per_week), "minutes per week", ValueFormat::Number),
    });
    let availability = run(Metric::Availability, BucketKind::All, vec![Dim::Site])?;
    let avail: Vec<Option<f64>> = availability.frame.column("availability")?.f64()?.iter().collect();
    let mins: Vec<Option<f64>> = capacity.frame.column("time_at_capacity")?.f64()?.iter().collect();
    let rows = cap_names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            vec![
                Cell::Text(n.clone()),
                mins[i].map_or(Cell::Empty, |v| Cell::Number(v, 0)),
                per_week[i].map_or(Cell::Empty, |v| Cell::Number(v, 1)),
                avail.get(i).copied().flatten().map_or(Cell::Empty, Cell::Percent),
            ]
        })
        .collect();
    sections.push(Section {
        id: "capacity".into(),
        title: "Can a walk-in get a computer?".into(),
        how_counted: vec![
            format!("time_at_capacity: {}.", Metric::TimeAtCapacity.definition()),
            format!("availability: {}.", Metric::Availability.definition()),
            format!("Minutes per week = time at capacity / {weeks:.1} weeks in the period."),
        ],
        charts: vec![],
        tables: vec![Table {
            caption: "Time at capacity and availability by branch".into(),
            header: vec!["branch".into(), "minutes at capacity".into(), "minutes per week".into(), "availability".into()],
            rows,
        }],
    });
    tables.push(("time-at-capacity".into(), capacity.frame.clone()));

    // 6. Who uses them.
    let by_type = run(Metric::Sessions, every, vec![Dim::UserType])?;
    let (cats, series) = pivot(&by_type, "user_type", sites)?;
    charts.push(ChartFile {
        name: "sessions-by-user-type".into(),
        chart: Chart::Stacked { categories: cats.clone(), series: series.clone() },
        style: style(&format!("Sessions per {} by kind of user", every.as_str()), &format!("Staff sessions are left out of the survey's count. {period}. {source}"), "sessions", ValueFormat::Number),
    });
    let users = run(Metric::DistinctUsers, every, vec![])?;
    note(&users);
    let user_counts: Vec<Option<f64>> = users.frame.column("distinct_users")?.cast(&DataType::Float64)?.f64()?.iter().collect();
    let user_cats: Vec<String> = users.frame.column("bucket")?.str()?.iter().map(|s| s.unwrap_or("").to_string()).collect();
    charts.push(ChartFile {
        name: "distinct-users".into(),
        chart: Chart::Line { categories: user_cats.clone(), series: vec![Series::new("distinct patrons", user_counts.clone())] },
        style: style(&format!("Distinct patrons per {}", every.as_str()), &format!("Pseudonymised card holders; guests not counted. {period}. {source}"), "patrons", ValueFormat::Number),
    });
    let mut type_table = wide_table("Sessions by kind of user", &cats, &series, |v| v.map_or(Cell::Empty, |v| Cell::Int(v as i64)));
    type_table.header.push("distinct patrons".into());
    for (row, v) in type_table.rows.iter_mut().zip(&user_counts) {
        row.push(v.map_or(Cell::Empty, |v| Cell::Int(v as i64)));
    }
    sections.push(Section {
        id: "users".into(),
        title: "Who uses the computers".into(),
        how_counted: vec![
            "user_type: patron (a library card), guest (a guest pass), staff (a staff login or override), unknown (no user in the export).".into(),
            format!("survey_uses: {}.", Metric::SurveyUses.definition()),
            format!("distinct_users: {}.", Metric::DistinctUsers.definition()),
        ],
        charts: vec![],
        tables: vec![type_table],
    });
    tables.push(("sessions-by-user-type".into(), by_type.frame.clone()));
    tables.push(("distinct-users".into(), users.frame.clone()));

    // 7. What went in.
    let ledger = lake.read_ledger().map_err(|source| ReportError::Io { path: lake.root().into(), source })?;
    let mut files = Table {
        caption: "Files in the lake (every table)".into(),
        header: vec!["file".into(), "format".into(), "rows read".into(), "accepted".into(), "quarantined".into(), "excluded".into()],
        rows: Vec::new(),
    };
    let mut totals = [0u64; 4];
    let mut reasons: std::collections::BTreeMap<String, u64> = Default::default();
    for e in &ledger {
        let s = &e.summary;
        let name = Path::new(&s.file).file_name().map_or(s.file.clone(), |n| n.to_string_lossy().to_string());
        files.rows.push(vec![Cell::Text(name), Cell::Text(s.format.clone()), Cell::Int(s.rows_read as i64), Cell::Int(s.rows_accepted as i64), Cell::Int(s.rows_quarantined as i64), Cell::Int(s.rows_excluded as i64)]);
        for (i, v) in [s.rows_read, s.rows_accepted, s.rows_quarantined, s.rows_excluded].into_iter().enumerate() {
            totals[i] += v;
        }
        for (k, v) in s.quarantined.iter().chain(&s.excluded) {
            *reasons.entry(k.clone()).or_default() += v;
        }
    }
    files.rows.push(vec![Cell::Text("total".into()), Cell::Text(String::new()), Cell::Int(totals[0] as i64), Cell::Int(totals[1] as i64), Cell::Int(totals[2] as i64), Cell::Int(totals[3] as i64)]);
    let reason_table = Table {
        caption: "Rows not counted, by reason".into(),
        header: vec!["reason".into(), "rows".into()],
        rows: reasons.into_iter().map(|(k, v)| vec![Cell::Text(k), Cell::Int(v as i64)]).collect(),
    };
    sections.push(Section {
        id: "data".into(),
        title: "Data received".into(),
        how_counted: vec![
            "Every input row is accepted, quarantined (unreadable or impossible: kept aside with its reason, identifiers masked) or excluded by a rule (not a use of a computer). Rows read = accepted + quarantined + excluded, for every file.".into(),
            "Libki writes two rows per session (LOGIN and its end); both count as accepted rows of one session.".into(),
        ],
        charts: vec![],
        tables: vec![files, reason_table],
    });

    let report = Report {
        title: format!("Public computer use — {}", sites.library.name),
        subtitle: format!("Sessions, occupancy and peak hours, {period}"),
        facts: vec![
            ("Period".into(), period.clone()),
            ("Buckets".into(), format!("{} (local time, {})", every.as_str(), sites.library.timezone)),
            ("Sites".into(), sites.sites.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")),
            ("Public computers".into(), sites.sites.iter().map(|s| u64::from(s.stations)).sum::<u64>().to_string()),
        ],
        warnings,
        sections,
        footer: format!(
            "Made by tally {} from the lake's ledger ({} files). Patron identifiers are pseudonymised at ingest; breakdowns with fewer than {} patrons are suppressed. The CSV files beside this report hold every table at full precision.",
            env!("CARGO_PKG_VERSION"),
            ledger.len(),
            sites.library.min_cell_size
        ),
    };
    Ok(UsageReport { report, charts, tables })
}

/// Writes report.html, charts/*.png and tables/*.csv under `out`; returns the HTML's path.
pub fn write(mut usage: UsageReport, out: &Path) -> Result<PathBuf, ReportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    let chart_dir = out.join("charts");
    let table_dir = out.join("tables");
    std::fs::create_dir_all(&chart_dir).map_err(io(&chart_dir))?;
    std::fs::create_dir_all(&table_dir).map_err(io(&table_dir))?;
    // Charts go into the sections in the order the sections name them.
    let placement = [
        ("sessions-by-branch", "overview"),
        ("sessions-over-time", "sessions"),
        ("occupancy-over-time", "occupancy"),
        ("peak-hours", "peak-hours"),
        ("time-at-capacity", "capacity"),
        ("sessions-by-user-type", "users"),
        ("distinct-users", "users"),
    ];
    for c in &usage.charts {
        let png = tally_charts::render_png_bytes(&c.chart, &c.style)?;
        let path = chart_dir.join(format!("{}.png", c.name));
        std::fs::write(&path, &png).map_err(io(&path))?;
        let section = placement.iter().find(|(n, _)| *n == c.name).map_or("overview", |(_, s)| s);
        if let Some(s) = usage.report.sections.iter_mut().find(|s| s.id == section) {
            s.charts.push((c.style.title.clone(), png));
        }
    }
    for (name, df) in &mut usage.tables {
        let path = table_dir.join(format!("{name}.csv"));
        let mut f = std::fs::File::create(&path).map_err(io(&path))?;
        CsvWriter::new(&mut f).finish(df)?;
    }
    let path = out.join("report.html");
    std::fs::write(&path, crate::html::render(&usage.report)).map_err(io(&path))?;
    Ok(path)
}
