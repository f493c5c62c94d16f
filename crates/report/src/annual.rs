//! The annual report: the public library survey's figures (650 public internet
//! computers, 651 their uses, 652 Wi-Fi sessions, 553 physical circulation) per branch
//! and for the library, for a fiscal or calendar year, each with the rule it follows.
//! The numbers are `tally survey`'s; the CSV beside the report is its long table.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use tally_charts::{Chart, Series, ValueFormat};
use tally_metrics::SURVEY_LINES;
use tally_model::{Lake, Sites};

use crate::doc::{Figure, Report, ReportError, Section};
use crate::frame::{Cell, Table};
use crate::plot::site_name;
use crate::usage::{Period, style};

pub fn build(
    lake: &Lake,
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
    let (period, source) = (p.label(), p.source());
    let last = to - chrono::Duration::days(1);
    // A whole fiscal year is named by it; any other period by its days.
    let fy = sites.fiscal_year(last);
    let whole_year =
        crate::budget::fy_start(sites, fy) == from && crate::budget::fy_start(sites, fy + 1) == to;
    let year = match (whole_year, sites.library.fiscal_year_start_month) {
        (true, 1) => fy.to_string(),
        (true, _) => format!("FY{fy}"),
        (false, _) => format!("{from} to {last}"),
    };
    let df = tally_metrics::survey(lake, sites, from, to)?;
    let codes: Vec<String> = df
        .column("site")?
        .str()?
        .iter()
        .map(|s| s.unwrap_or("").to_string())
        .collect();
    let lines: Vec<String> = df
        .column("line")?
        .str()?
        .iter()
        .map(|s| s.unwrap_or("").to_string())
        .collect();
    let values: Vec<Option<i64>> = df
        .column("value")?
        .cast(&DataType::Int64)?
        .i64()?
        .iter()
        .collect();
    let mut grid: BTreeMap<(String, String), Option<i64>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for i in 0..df.height() {
        if !order.contains(&codes[i]) {
            order.push(codes[i].clone());
        }
        grid.insert((codes[i].clone(), lines[i].clone()), values[i]);
    }
    let mut header = vec!["branch".to_string()];
    header.extend(
        SURVEY_LINES
            .iter()
            .map(|(line, m, _)| format!("{line} {}", m.name().replace('_', " "))),
    );
    let rows: Vec<Vec<Cell>> = order
        .iter()
        .map(|code| {
            let name = if code == "(library)" {
                "All branches".to_string()
            } else {
                site_name(sites, code)
            };
            let mut row = vec![Cell::Text(name)];
            row.extend(SURVEY_LINES.iter().map(|(line, _, _)| {
                grid.get(&(code.clone(), line.to_string()))
                    .copied()
                    .flatten()
                    .map_or(Cell::Empty, Cell::Int)
            }));
            row
        })
        .collect();
    let library = |line: &str| {
        grid.get(&("(library)".to_string(), line.to_string()))
            .copied()
            .flatten()
            .unwrap_or(0)
    };
    let branches: Vec<&String> = order.iter().filter(|c| *c != "(library)").collect();
    let figures = SURVEY_LINES
        .iter()
        .skip(1)
        .map(|(line, m, _)| Figure {
            name: format!("survey-{line}"),
            chart: Chart::Bar {
                categories: branches.iter().map(|c| site_name(sites, c)).collect(),
                series: Series::new(
                    m.name(),
                    branches
                        .iter()
                        .map(|c| {
                            grid.get(&((*c).clone(), line.to_string()))
                                .copied()
                                .flatten()
                                .map(|v| v as f64)
                        })
                        .collect(),
                ),
            },
            style: style(
                &format!("Line {line}: {} by branch", m.name().replace('_', " ")),
                &format!("{year} ({period}). {source}"),
                m.unit(),
                ValueFormat::Number,
            ),
        })
        .collect();
    let rules = Table {
        caption: "The rule each figure follows".into(),
        header: vec![
            "line".into(),
            "metric".into(),
            "rule".into(),
            "library total".into(),
        ],
        rows: SURVEY_LINES
            .iter()
            .map(|(line, m, rule)| {
                vec![
                    Cell::Text(line.to_string()),
                    Cell::Text(m.name().into()),
                    Cell::Text(rule.to_string()),
                    Cell::Int(library(line)),
                ]
            })
            .collect(),
    };
    let report = Report {
        title: format!("Annual survey figures {year} — {}", sites.library.name),
        subtitle: format!("Public library survey lines 650, 651, 652 and 553, {period}"),
        facts: vec![
            ("Year".into(), format!("{year}: {period}")),
            ("Branches".into(), sites.sites.len().to_string()),
            ("Automatic renewals".into(), if sites.library.count_automatic_renewals { "counted in 553 (count_automatic_renewals = true)".into() } else { "not counted in 553 (count_automatic_renewals = false)".into() }),
        ],
        sections: vec![
            Section {
                id: "figures".into(),
                title: format!("Survey figures {year}"),
                lead: format!(
                    "{} public computers, {} uses, {} Wi-Fi sessions, {} items circulated.",
                    Cell::Int(library("650")).display(),
                    Cell::Int(library("651")).display(),
                    Cell::Int(library("652")).display(),
                    Cell::Int(library("553")).display()
                ),
                how_counted: SURVEY_LINES
                    .iter()
                    .map(|(line, m, rule)| format!("{line}: {rule} (the same number: tally metric {} --every all over the year).", m.name()))
                    .chain([format!("{}.", tally_metrics::Metric::SurveyUses.definition()), format!("{}.", tally_metrics::Metric::Circulation.definition())])
                    .collect(),
                figures: vec![],
                tables: vec![Table { caption: format!("Survey figures by branch, {year}"), header, rows }, rules],
            },
            Section { id: "charts".into(), title: "By branch".into(), figures, ..Section::default() },
        ],
        footer: format!(
            "Made by tally {} from the lake's ledger. The same figures: tally survey --fy (or tally metric with --every fy). The CSV beside this report is the long table (site, line, value, rule).",
            env!("CARGO_PKG_VERSION")
        ),
        data: vec![("survey".into(), df)],
        as_of: Some(last),
        warnings: Vec::new(),
    };
    Ok(report)
}
