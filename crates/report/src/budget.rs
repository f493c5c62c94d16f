//! The budget report, for the meeting where next year's money is decided: which public
//! computers and other devices fall due for replacement in which fiscal year and at what
//! cost (five years ahead), where stations should be added or taken away and the evidence
//! for it, cost per use, help-desk load per 10 devices, the fleet by kind and age and the
//! devices that keep breaking. HTML to read, XLSX to paste into the city's workbook.
//!
//! The evidence (occupancy, tickets, sessions) is the period asked for; the schedule
//! starts with the fiscal year after the one the period's last day falls in (the budget
//! being planned), and devices already overdue count in that first year.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use tally_charts::{Chart, Series, ValueFormat};
use tally_lake::Snapshot;
use tally_metrics::{Dim, Metric, Output, Request, compute};
use tally_model::{BucketKind, Sites, Table as LakeTable};

use crate::doc::{Figure, Report, ReportError, Section};
use crate::frame::{Cell, Show, Table, show_column, table_from_frame};
use crate::kit::{Period, f64s, strs, style};
use crate::plot::{pivot, site_name};

/// One line of the OS risk table: a status, OS and kind, with its devices and branches.
#[derive(Default)]
struct RiskLine {
    status: String,
    eol: String,
    devices: f64,
    /// The branches the devices are at (the metric's `sites` column).
    sites: f64,
}

use tally_metrics::devices::{PLAN_YEARS, plan_period};

/// `budget`: the replacement budget a fiscal year for the levelled plan (`None`: the
/// level cap, the least that keeps every device within its life + 1 year).
pub fn build(
    lake: &Snapshot,
    sites: &Sites,
    from: NaiveDate,
    to: NaiveDate,
    budget: Option<f64>,
) -> Result<Report, ReportError> {
    let p = Period {
        lake,
        sites,
        from,
        to,
    };
    let (period, source) = (p.label(), p.source());
    // The budget year: the fiscal year after the evidence's last day.
    let last = to - chrono::Duration::days(1);
    let first_fy = sites.fiscal_year(last) + 1;
    let (sched_from, sched_to) =
        plan_period(sites, first_fy).expect("fiscal years around the evidence");
    let years = format!("FY{first_fy} to FY{}", first_fy + PLAN_YEARS - 1);
    let mut report = Report {
        title: format!("IT budget planning — {}", sites.library.name),
        subtitle: format!("Replacement schedule {years}; evidence from {period}"),
        facts: vec![
            ("Evidence period".into(), period.clone()),
            (
                "Schedule".into(),
                format!(
                    "{years} (fiscal years start in month {})",
                    sites.library.fiscal_year_start_month
                ),
            ),
            (
                "Public computers".into(),
                Cell::Int(p.library(Metric::PublicComputers)?.unwrap_or(0.0) as i64).display(),
            ),
        ],
        as_of: Some(last),
        ..Report::default()
    };
    // A metric over the schedule's fiscal years, by `by` (none: the library's).
    let over_years = |metric: Metric, by: Vec<Dim>| -> Result<Output, ReportError> {
        Ok(compute(
            lake,
            sites,
            &Request {
                metric,
                from: sched_from,
                to: sched_to,
                every: BucketKind::FiscalYear,
                by,
                budget: None,
            },
        )?)
    };
    // The library's cell of each fiscal year.
    let library_years = |metric: Metric| -> Result<Vec<Option<f64>>, ReportError> {
        let out = over_years(metric, vec![])?;
        Ok(f64s(&out.frame, metric.name())?)
    };
    // Units and cost due per fiscal year by one dimension, and both in one frame (CSV).
    let schedule = |by: Dim| -> Result<(Output, Output, DataFrame), ReportError> {
        let (units, cost) = (
            over_years(Metric::ReplacementDue, vec![by])?,
            over_years(Metric::ReplacementCost, vec![by])?,
        );
        let mut both = units.frame.clone();
        both.with_column(cost.frame.column("replacement_cost")?.clone())?;
        Ok((units, cost, both))
    };
    let has_assets = !lake.rel_files(LakeTable::Assets, None).is_empty();

    if has_assets {
        // 1. Replacement schedule by fiscal year and branch.
        let (units, cost, both) = schedule(Dim::Site)?;
        let (fys, unit_series) = pivot(&units, Dim::Site, sites)?;
        let (_, cost_series) = pivot(&cost, Dim::Site, sites)?;
        let mut header = vec!["branch".to_string()];
        for fy in &fys {
            header.push(format!("{fy} units"));
            header.push(format!("{fy} cost"));
        }
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        for (u, c) in unit_series.iter().zip(&cost_series) {
            let mut row = vec![Cell::Text(u.name.clone())];
            for i in 0..fys.len() {
                let (uv, cv) = (u.values[i].unwrap_or(0.0), c.values[i].unwrap_or(0.0));
                row.push(Cell::Int(uv as i64));
                row.push(Cell::Number(cv, 0));
            }
            rows.push(row);
        }
        // The library's row: replacement_due and replacement_cost with no breakdown.
        let (all_units, all_cost) = (
            library_years(Metric::ReplacementDue)?,
            library_years(Metric::ReplacementCost)?,
        );
        let mut total_row = vec![Cell::Text("All branches".into())];
        for (u, c) in all_units.iter().zip(&all_cost) {
            total_row.push(Cell::Int(u.unwrap_or(0.0) as i64));
            total_row.push(Cell::Number(c.unwrap_or(0.0), 0));
        }
        rows.push(total_row);
        let first_cost = all_cost.first().copied().flatten().unwrap_or(0.0);
        let first_units = all_units.first().copied().flatten().unwrap_or(0.0);
        report.sections.push(Section {
            id: "replacement".into(),
            title: "Replacement schedule".into(),
            lead: format!(
                "FY{first_fy}: {} devices due for replacement (including any already overdue), {} at today's unit costs.",
                first_units as i64,
                Cell::Number(first_cost, 0).display()
            ),
            how_counted: vec![
                format!("replacement_due: {}.", Metric::ReplacementDue.definition()),
                format!("replacement_cost: {}.", Metric::ReplacementCost.definition()),
                format!("Lives (years) by kind: {}.", sites.library.asset_life_years.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")),
                format!("Unit costs by kind: {}.", sites.library.unit_cost.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")),
            ],
            figures: vec![Figure {
                name: "replacement-cost".into(),
                chart: Chart::Stacked { categories: fys.clone(), series: cost_series.clone() },
                style: style("Replacement cost by fiscal year", &format!("Stacked by branch, at today's unit costs. {years}. {source}"), &format!("cost ({})", sites.library.currency), ValueFormat::Number),
            }],
            tables: vec![Table { caption: "Replacement by fiscal year and branch".into(), header, rows }],
        });
        report.data.push(("replacement-by-branch".into(), both));

        // 2. Five-year projection by kind.
        let (_, cost, both) = schedule(Dim::Kind)?;
        let (_, kind_cost) = pivot(&cost, Dim::Kind, sites)?;
        let mut header = vec!["fiscal year".to_string()];
        header.extend(kind_cost.iter().map(|s| format!("{} cost", s.name)));
        header.extend([
            "units".to_string(),
            "total cost".to_string(),
            "cumulative cost".to_string(),
        ]);
        // The library's units, cost and running total of each fiscal year.
        let (all_units, all_cost, running) = (
            library_years(Metric::ReplacementDue)?,
            library_years(Metric::ReplacementCost)?,
            library_years(Metric::ReplacementCostCumulative)?,
        );
        let rows: Vec<Vec<Cell>> = fys
            .iter()
            .enumerate()
            .map(|(i, fy)| {
                let mut row = vec![Cell::Text(fy.clone())];
                row.extend(
                    kind_cost
                        .iter()
                        .map(|s| Cell::Number(s.values[i].unwrap_or(0.0), 0)),
                );
                let cell = |v: &[Option<f64>]| v.get(i).copied().flatten().unwrap_or(0.0);
                row.push(Cell::Int(cell(&all_units) as i64));
                row.push(Cell::Number(cell(&all_cost), 0));
                row.push(Cell::Number(cell(&running), 0));
                row
            })
            .collect();
        let cumulative = running.last().copied().flatten().unwrap_or(0.0);
        report.sections.push(Section {
            id: "projection".into(),
            title: "Five-year cost projection".into(),
            lead: format!("{} over {years} at today's unit costs.", Cell::Number(cumulative, 0).display()),
            how_counted: vec![
                "Each fiscal year: the replacement cost of the devices that fall due in it, by kind; cumulative = the running total.".into(),
                "Prices are today's unit costs from sites.toml (else the purchase price); no inflation is assumed.".into(),
            ],
            figures: vec![Figure {
                name: "projection-by-kind".into(),
                chart: Chart::Stacked { categories: fys.clone(), series: kind_cost.clone() },
                style: style("Replacement cost by fiscal year and kind", &format!("{years}. {source}"), &format!("cost ({})", sites.library.currency), ValueFormat::Number),
            }],
            tables: vec![Table { caption: "Projection by fiscal year and kind".into(), header, rows }],
        });
        report.data.push(("projection-by-kind".into(), both));

        // 3. The plan levelled to a budget.
        let plan_by = |by: Vec<Dim>| {
            compute(
                lake,
                sites,
                &Request {
                    metric: Metric::ReplacementPlan,
                    from: sched_from,
                    to: sched_to,
                    every: BucketKind::FiscalYear,
                    by,
                    budget,
                },
            )
        };
        let plan = plan_by(Vec::new())?;
        // The same plan split by kind, for the chart: what the money buys each year.
        let by_kind = plan_by(vec![Dim::Kind])?;
        let (kind_fys, kind_spent) = pivot(&by_kind, Dim::Kind, sites)?;
        let pf = &plan.frame;
        let fy_labels = strs(pf, "bucket")?;
        let (spent, units, slipped, oldest) = (
            f64s(pf, "replacement_plan")?,
            f64s(pf, "units")?,
            f64s(pf, "slipped")?,
            f64s(pf, "oldest_age_years")?,
        );
        let first = |c: &str| -> Result<f64, ReportError> {
            Ok(f64s(pf, c)?.first().copied().flatten().unwrap_or(0.0))
        };
        let (cap, level, fifth) = (first("budget")?, first("level_cap")?, first("fifth_cap")?);
        let money = |v: f64| Cell::Number(v, 0).display();
        let rows: Vec<Vec<Cell>> = (0..fy_labels.len())
            .map(|i| {
                vec![
                    Cell::Text(fy_labels[i].clone()),
                    Cell::Number(cap, 0),
                    Cell::Int(units[i].unwrap_or(0.0) as i64),
                    Cell::Number(spent[i].unwrap_or(0.0), 0),
                    Cell::Int(slipped[i].unwrap_or(0.0) as i64),
                    oldest[i].map_or(Cell::Empty, |a| Cell::Number(a, 1)),
                ]
            })
            .collect();
        report.warn(&plan.warnings);
        report.sections.push(Section {
            id: "levelled-plan".into(),
            title: "Replacement plan within the budget".into(),
            lead: format!(
                "{} a year keeps every device within its life plus one year (the level cap); replacing a fifth of \
                 the fleet a year costs {}. {}",
                money(level),
                money(fifth),
                match budget {
                    Some(b) => format!("The plan below spends at most {} a year.", money(b)),
                    None => "The plan below spends at most the level cap.".to_string(),
                }
            ),
            how_counted: vec![
                format!("replacement_plan: {}.", Metric::ReplacementPlan.definition()),
                "The rules, step by step: docs/support.md.".into(),
            ],
            figures: vec![Figure {
                name: "replacement-plan".into(),
                chart: Chart::Stacked {
                    categories: kind_fys,
                    series: kind_spent,
                },
                style: style(
                    "Planned replacement spending by fiscal year and kind",
                    &format!("Within {} a year. {years}. {source}", money(cap)),
                    &format!("cost ({})", sites.library.currency),
                    ValueFormat::Number,
                ),
            }],
            tables: vec![Table {
                caption: "The levelled plan by fiscal year".into(),
                header: ["fiscal year", "budget", "units", "cost", "slipped", "oldest age (years)"]
                    .map(String::from)
                    .to_vec(),
                rows,
            }],
        });
        report
            .data
            .push(("replacement-plan".into(), plan.frame.clone()));

        // 4. Operating systems out of support, or soon.
        let risk = compute(
            lake,
            sites,
            &Request {
                metric: Metric::OsSupport,
                from: last,
                to,
                every: BucketKind::All,
                by: vec![Dim::Status, Dim::Os, Dim::Kind],
                budget: None,
            },
        )?;
        report.warn(&risk.warnings);
        let rf = &risk.frame;
        let (st, os, kind, eol, n, at) = (
            strs(rf, "status")?,
            strs(rf, "os")?,
            strs(rf, "kind")?,
            strs(rf, "eol")?,
            f64s(rf, "os_support")?,
            f64s(rf, "sites")?,
        );
        // One line per status, OS and kind (the metric's cells): devices, and how many
        // branches they are at; the worst status first.
        let mut lines: BTreeMap<(u8, String, String), RiskLine> = BTreeMap::new();
        for i in 0..st.len() {
            let count = n[i].unwrap_or(0.0);
            if count <= 0.0 {
                continue;
            }
            let rank = match st[i].as_str() {
                "unsupported" => 0,
                "extended" => 1,
                "ending" => 2,
                "unknown" => 3,
                _ => 4,
            };
            lines.insert(
                (rank, os[i].clone(), kind[i].clone()),
                RiskLine {
                    status: st[i].clone(),
                    eol: eol[i].clone(),
                    devices: count,
                    sites: at[i].unwrap_or(0.0),
                },
            );
        }
        let kind_words = |k: &str| match k {
            "public_pc" => "public PCs",
            "staff_pc" => "staff PCs",
            "laptop" => "laptops",
            "tablet" => "tablets",
            "server" => "servers",
            _ => "devices",
        };
        let sentences: Vec<String> = lines
            .iter()
            .filter(|((rank, _, _), _)| *rank <= 2)
            .map(|((_, os, kind), line)| {
                let (status, at) = (&line.status, line.sites as i64);
                let when = match (status.as_str(), line.eol.as_str()) {
                    (_, "") => String::new(),
                    ("ending", e) => format!(" ends {e}"),
                    (_, "ended") => " has ended".into(),
                    (_, e) => format!(" ended {e}"),
                };
                let extended = if status == "extended" {
                    " (paid extended updates)"
                } else {
                    ""
                };
                format!(
                    "{os}{when}{extended}: {} {} at {at} {}.",
                    line.devices as i64,
                    kind_words(kind),
                    if at == 1 { "branch" } else { "branches" }
                )
            })
            .collect();
        let rows: Vec<Vec<Cell>> = lines
            .iter()
            .map(|((_, os, kind), line)| {
                vec![
                    Cell::Text(line.status.clone()),
                    Cell::Text(os.clone()),
                    Cell::Text(line.eol.clone()),
                    Cell::Text(kind.clone()),
                    Cell::Int(line.devices as i64),
                    Cell::Int(line.sites as i64),
                ]
            })
            .collect();
        report.sections.push(Section {
            id: "os-risk".into(),
            title: "Operating systems out of support".into(),
            lead: if sentences.is_empty() {
                format!("On {last} every device with a known OS is supported for more than {} months.", sites.support.ending_months)
            } else {
                format!("On {last}: {}", sentences.join(" "))
            },
            how_counted: vec![
                format!("os_support: {}.", Metric::OsSupport.definition()),
                "Devices are the inventory joined with Active Directory and Intune; how OS versions are matched to endoflife.date's cycles: docs/support.md.".into(),
            ],
            tables: vec![Table {
                caption: format!("Computing devices by OS support on {last}"),
                header: ["status", "OS", "support ends", "kind", "devices", "branches"]
                    .map(String::from)
                    .to_vec(),
                rows,
            }],
            ..Section::default()
        });
        report.data.push(("os-support".into(), risk.frame.clone()));
    }

    // 3. Stations: add, keep or reduce, with the evidence.
    let advice = p.run(Metric::StationAdvice, BucketKind::All, vec![Dim::Site])?;
    report.warn(&advice.warnings);
    let mut adf = advice.frame.clone();
    let names: Vec<String> = strs(&adf, "site")?
        .iter()
        .map(|c| site_name(sites, c))
        .collect();
    adf.insert_column(1, Column::new("name".into(), names))?;
    let advice_show = |c: &str| match c {
        "stations" => Show::Int,
        other => show_column(other),
    };
    let advice_of: Vec<(String, String)> = strs(&adf, "name")?
        .into_iter()
        .zip(strs(&adf, "station_advice")?)
        .collect();
    let at = |what: &str| {
        advice_of
            .iter()
            .filter(|(_, a)| a == what)
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let changes: Vec<String> = [
        ("add", "Add stations at"),
        ("reduce", "Fewer stations would do at"),
    ]
    .into_iter()
    .filter_map(|(what, text)| {
        Some(format!(
            "{text}: {}.",
            Some(at(what)).filter(|s| !s.is_empty())?
        ))
    })
    .collect();
    let t = &sites.library.thresholds;
    report.sections.push(Section {
        id: "stations".into(),
        title: "Public computers: add, keep or reduce".into(),
        lead: if changes.is_empty() { "Every branch is within the thresholds: keep the stations as they are.".into() } else { changes.join(" ") },
        how_counted: vec![
            format!("station_advice: {}.", Metric::StationAdvice.definition()),
            format!(
                "Thresholds (sites.toml): add at {:.0}% busiest-hour occupancy or {} minutes a week at capacity; reduce below {:.0}% occupancy when never full.",
                t.add_occupancy * 100.0,
                t.add_capacity_minutes_per_week,
                t.reduce_occupancy * 100.0
            ),
        ],
        figures: vec![Figure {
            name: "stations-occupancy".into(),
            chart: Chart::Bar { categories: strs(&adf, "name")?, series: Series::new("busiest hour occupancy", f64s(&adf, "busiest_hour_occupancy")?) },
            style: style("Occupancy at each branch's busiest weekday-hour", &format!("Add threshold {:.0}%. {period}. {source}", t.add_occupancy * 100.0), "occupancy", ValueFormat::Percent),
        }],
        tables: vec![table_from_frame(&adf, "Station recommendations with the evidence", &advice_show)?],
    });
    report.data.push(("station-advice".into(), adf));

    // 4. Cost per use and help-desk load per 10 devices, by branch.
    let mut metrics = vec![Metric::Sessions, Metric::CostPerUse];
    if has_assets {
        metrics.extend([Metric::TicketsOpened, Metric::TicketsPer10Devices]);
    }
    let (loads, table) = p.branch_table(
        &metrics,
        &format!("Cost per use and help-desk load, {period}"),
        &mut report,
    )?;
    report.sections.push(Section {
        id: "cost-per-use".into(),
        title: "Cost per use and help-desk load".into(),
        how_counted: metrics
            .iter()
            .map(|m| format!("{}: {}.", m.name(), m.definition()))
            .collect(),
        figures: vec![Figure {
            name: "cost-per-use".into(),
            chart: Chart::Bar {
                categories: strs(&loads, "name")?,
                series: Series::new("cost per use", f64s(&loads, "cost_per_use")?),
            },
            style: style(
                "Cost per computer session by branch",
                &format!("Yearly fleet cost / sessions. {period}. {source}"),
                &format!("{} per session", sites.library.currency),
                ValueFormat::Number,
            ),
        }],
        tables: vec![table],
        ..Section::default()
    });
    report.data.push(("cost-per-use-and-load".into(), loads));

    if has_assets {
        // 5. The fleet by kind and age at the period's end.
        let fleet = p.run(Metric::Assets, BucketKind::All, vec![Dim::Kind, Dim::Age])?;
        let kinds = strs(&fleet.frame, "kind")?;
        let ages = fleet
            .frame
            .column("age_years")?
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .collect::<Vec<_>>();
        let counts = f64s(&fleet.frame, "assets")?;
        // The metric's cells as a kind x age grid; each kind's total and the fleet's are
        // the metric by kind alone and with no breakdown.
        let mut grid: BTreeMap<String, BTreeMap<Option<i64>, f64>> = BTreeMap::new();
        let mut all_ages: Vec<Option<i64>> = Vec::new();
        for i in 0..kinds.len() {
            if let Some(c) = counts[i] {
                grid.entry(kinds[i].clone()).or_default().insert(ages[i], c);
            }
            if !all_ages.contains(&ages[i]) {
                all_ages.push(ages[i]);
            }
        }
        all_ages.sort_by_key(|a| a.unwrap_or(i64::MAX));
        let by_kind = p.run(Metric::Assets, BucketKind::All, vec![Dim::Kind])?;
        let kind_total: BTreeMap<String, f64> = strs(&by_kind.frame, "kind")?
            .into_iter()
            .zip(f64s(&by_kind.frame, "assets")?)
            .filter_map(|(k, v)| Some((k, v?)))
            .collect();
        let in_service = p.library(Metric::Assets)?.unwrap_or(0.0);
        let age_label =
            |a: &Option<i64>| a.map_or("age unknown".to_string(), |a| format!("{a} yr"));
        let mut header = vec!["kind".to_string()];
        header.extend(all_ages.iter().map(age_label));
        header.push("total".into());
        let rows = grid
            .iter()
            .map(|(k, by_age)| {
                let mut row = vec![Cell::Text(k.clone())];
                row.extend(
                    all_ages
                        .iter()
                        .map(|a| Cell::Int(by_age.get(a).copied().unwrap_or(0.0) as i64)),
                );
                row.push(Cell::Int(kind_total.get(k).copied().unwrap_or(0.0) as i64));
                row
            })
            .collect();
        let series: Vec<Series> = grid
            .iter()
            .map(|(k, by_age)| {
                Series::new(
                    k.clone(),
                    all_ages.iter().map(|a| by_age.get(a).copied()).collect(),
                )
            })
            .collect();
        report.sections.push(Section {
            id: "fleet".into(),
            title: "The fleet by kind and age".into(),
            lead: format!("{} devices in service on {last}.", in_service as i64),
            how_counted: vec![format!("assets: {}.", Metric::Assets.definition())],
            figures: vec![Figure {
                name: "fleet-by-age".into(),
                chart: Chart::Stacked {
                    categories: all_ages.iter().map(age_label).collect(),
                    series,
                },
                style: style(
                    "Devices in service by age",
                    &format!("On {last}, stacked by kind. {source}"),
                    "devices",
                    ValueFormat::Number,
                ),
            }],
            tables: vec![Table {
                caption: "Devices by kind and age".into(),
                header,
                rows,
            }],
        });
        report
            .data
            .push(("fleet-by-kind-and-age".into(), fleet.frame));

        // 6. The devices with the most tickets.
        let top = p
            .run(Metric::TicketsOpened, BucketKind::All, vec![Dim::AssetTag])?
            .top(10)?;
        let mut tdf = top
            .frame
            .filter(&top.frame.column("asset_tag")?.str()?.not_equal("(none)"))?;
        let assets = tally_metrics::query(
            lake,
            "SELECT asset_tag, kind, site, model, purchased FROM assets",
        )?;
        tdf = tdf.join(
            &assets,
            ["asset_tag"],
            ["asset_tag"],
            JoinArgs::new(JoinType::Left),
            None,
        )?;
        let tdf = tdf.select([
            "asset_tag",
            "kind",
            "site",
            "model",
            "purchased",
            "tickets_opened",
        ])?;
        let mut table =
            table_from_frame(&tdf, "The ten devices with the most tickets", &show_column)?;
        for (row, v) in table.rows.iter_mut().zip(
            tdf.column("purchased")?
                .cast(&DataType::String)?
                .str()?
                .iter(),
        ) {
            row[4] = v.map_or(Cell::Empty, |d| Cell::Text(d.to_string()));
        }
        report.sections.push(Section {
            id: "top-assets".into(),
            title: "Devices with the most tickets".into(),
            how_counted: vec![
                "tickets_opened by asset_tag over the period, most first; tickets that name no device are left out.".into(),
                "A device that keeps breaking is a candidate for early replacement.".into(),
            ],
            tables: vec![table],
            ..Section::default()
        });
        report.data.push(("top-assets-by-tickets".into(), tdf));
    }
    report.footer = format!(
        "Made by tally {} from the lake's ledger. Costs are in the library's currency at the unit costs in sites.toml. The XLSX workbook has one sheet per table; the CSV files hold the frames at full precision.",
        env!("CARGO_PKG_VERSION")
    );
    Ok(report)
}
