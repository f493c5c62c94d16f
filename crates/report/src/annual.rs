//! The annual report: the public library survey's figures (650 public internet
//! computers, 651 their uses, 652 Wi-Fi sessions, 553 physical circulation) per branch
//! and for the library, for a fiscal or calendar year, each with the rule it follows.
//! The numbers are `tally survey`'s; the CSV beside the report is its long table.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use tally_charts::{Chart, Series, ValueFormat};
use tally_lake::Snapshot;
use tally_metrics::SURVEY_LINES;
use tally_model::Sites;

use crate::doc::{Figure, Report, ReportError, Section};
use crate::frame::{Cell, Table};
use crate::kit::{Period, f64s, strs, style};
use crate::plot::site_name;

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
    let (period, source) = (p.label(), p.source());
    let last = to - chrono::Duration::days(1);
    // A whole fiscal year is named by it; any other period by its days.
    let fy = sites.fiscal_year(last);
    let whole_year = sites.fiscal_year_days(fy) == Some((from, to));
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
                &m.unit().label(&sites.library.currency),
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
    let mut sections = vec![
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
    ];
    let mut data = vec![("survey".into(), df)];
    if let Some(section) = peers_section(lake, sites, fy, &mut data)? {
        sections.push(section);
    }
    let report = Report {
        title: format!("Annual survey figures {year} — {}", sites.library.name),
        subtitle: format!("Public library survey lines 650, 651, 652 and 553, {period}"),
        facts: vec![
            ("Year".into(), format!("{year}: {period}")),
            ("Branches".into(), sites.sites.len().to_string()),
            (
                "Automatic renewals".into(),
                if sites.library.count_automatic_renewals {
                    "counted in 553 (count_automatic_renewals = true)".into()
                } else {
                    "not counted in 553 (count_automatic_renewals = false)".into()
                },
            ),
        ],
        sections,
        footer: format!(
            "Made by tally {} from the lake's ledger. The same figures: tally survey --fy (or tally metric with --every fy). The CSV beside this report is the long table (site, line, value, rule).",
            env!("CARGO_PKG_VERSION")
        ),
        data,
        as_of: Some(last),
        warnings: Vec::new(),
    };
    Ok(report)
}

/// The library against its peers in the survey's latest file up to the year, when
/// sites.toml names the library (`fscskey`) and the lake holds the file: the measures
/// relative to the peers' median (a dot chart) and the table (docs/metrics.md, Peers).
fn peers_section(
    lake: &Snapshot,
    sites: &Sites,
    fy: i32,
    data: &mut Vec<(String, DataFrame)>,
) -> Result<Option<Section>, ReportError> {
    use tally_metrics::peers::{PeerGroup, PeersRequest, latest_year, peers};
    let Some(key) = sites.library.fscskey.clone() else {
        return Ok(None);
    };
    let Some(survey_year) = latest_year(lake, fy)? else {
        return Ok(None);
    };
    let out = peers(
        lake,
        Some(sites),
        &PeersRequest {
            year: survey_year,
            library: key.clone(),
            group: PeerGroup::Population,
        },
    )?;
    let df = &out.frame;
    let measures = strs(df, "measure")?;
    let col = |c: &str| f64s(df, c);
    let (value, median, p25, p75, count, pct) = (
        col("value")?,
        col("peer_median")?,
        col("peer_p25")?,
        col("peer_p75")?,
        col("peer_count")?,
        col("percentile")?,
    );
    let ours = col("tally_value")?;
    let words = |m: &str| m.replace('_', " ");
    // Each measure relative to its peers' median (= 100), so one axis serves all: the
    // peers table's own columns.
    let (rel_value, rel_p25, rel_p75) = (
        col("value_pct_of_median")?,
        col("p25_pct_of_median")?,
        col("p75_pct_of_median")?,
    );
    let rows: Vec<tally_charts::RangeRow> = (0..measures.len())
        .map(|i| tally_charts::RangeRow {
            label: words(&measures[i]),
            low: rel_p25[i],
            mid: median[i].filter(|m| *m > 0.0).map(|_| 100.0),
            high: rel_p75[i],
            mark: rel_value[i],
        })
        .collect();
    let peers_n = col("peer_group")?.first().copied().flatten().unwrap_or(0.0) as i64;
    let table_rows: Vec<Vec<Cell>> = (0..measures.len())
        .map(|i| {
            let n = |v: Option<f64>| v.map_or(Cell::Empty, |v| Cell::Number(v, 2));
            vec![
                Cell::Text(words(&measures[i])),
                n(value[i]),
                n(median[i]),
                n(p25[i]),
                n(p75[i]),
                Cell::Int(count[i].unwrap_or(0.0) as i64),
                pct[i].map_or(Cell::Empty, |p| Cell::Number(p, 0)),
                n(ours[i]),
            ]
        })
        .collect();
    let above: Vec<String> = (0..measures.len())
        .filter(|&i| pct[i].is_some_and(|p| p >= 75.0))
        .map(|i| words(&measures[i]))
        .collect();
    let below: Vec<String> = (0..measures.len())
        .filter(|&i| pct[i].is_some_and(|p| p < 25.0))
        .map(|i| words(&measures[i]))
        .collect();
    let mut lead = format!(
        "{key} in the survey's FY{survey_year} file, against up to {peers_n} libraries serving half to one and a \
         half times its population."
    );
    if !above.is_empty() {
        lead.push_str(&format!(" In the top quarter: {}.", above.join(", ")));
    }
    if !below.is_empty() {
        lead.push_str(&format!(" In the bottom quarter: {}.", below.join(", ")));
    }
    data.push(("peers".into(), out.frame.clone()));
    Ok(Some(Section {
        id: "peers".into(),
        title: format!("Against its peers (survey FY{survey_year})"),
        lead,
        how_counted: vec![
            "The figures are the survey file's, as the library and its peers reported them (tally peers --fy \
             with the same year gives this table)."
                .into(),
            "Peers: every library in the file serving from half to one and a half times the library's population \
             (POPU_LSA); a peer that did not report a measure's inputs is left out of it (peers column)."
                .into(),
            "Median and quartiles as Excel's PERCENTILE.INC; percentile: the share of peers below the library."
                .into(),
            "tally's value: the same measure from the lake's own counts for that year by the survey's rules (tally \
             survey), over the file's population and open hours; empty where the lake's sessions, loans or Wi-Fi \
             connections do not span the whole year (a part would be an undercount), and for visits (tally keeps \
             no door counts)."
                .into(),
        ],
        figures: vec![Figure {
            name: "peers".into(),
            chart: Chart::Range { rows },
            style: tally_charts::Style {
                x_label: "% of the peers' median (median = 100)".into(),
                ..style(
                    &format!("{key} against its peers, survey FY{survey_year}"),
                    "Grey: the peers' middle half and median; marked: the library. IMLS Public Libraries Survey.",
                    "",
                    ValueFormat::Number,
                )
            },
        }],
        tables: vec![Table {
            caption: format!("{key} against its peers, FY{survey_year}"),
            header: [
                "measure",
                "value",
                "peer median",
                "peer 25th pct",
                "peer 75th pct",
                "peers",
                "percentile",
                "tally's value",
            ]
            .map(String::from)
            .to_vec(),
            rows: table_rows,
        }],
    }))
}
