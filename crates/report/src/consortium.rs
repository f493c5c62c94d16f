//! The consortium report: each member's figures and per 1,000 residents, each member
//! against the consortium's median and quartiles, and monthly trends. The numbers are
//! tally-metrics' (`tally_metrics::consortium`); this lays them out.

use chrono::NaiveDate;
use tally_charts::{Chart, RangeRow, Series, ValueFormat};
use tally_metrics::consortium::{Consortium, TRENDS};

use crate::doc::{Figure, Report, ReportError, Section};
use crate::frame::{Show, f64s, strs, table_from_frame};
use crate::kit::{style, wide_table};

/// The report for a consortium named `name` over [from, to).
pub fn build(
    c: &Consortium,
    name: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Report, ReportError> {
    let last = to.pred_opt().unwrap_or(to);
    let period = format!("{from} to {last}");
    let members = strs(&c.members, "member")?;
    let n = members.len().saturating_sub(1);
    let show = |col: &str| -> Show {
        if col.ends_with("_share") {
            Show::Percent
        } else if col.ends_with("_per_1000") || col.starts_with("replacement_cost") {
            Show::Decimals(1)
        } else {
            Show::Int
        }
    };
    let mut report = Report {
        title: format!("{name}: members' usage and devices"),
        subtitle: period.clone(),
        facts: vec![
            ("Period".into(), period.clone()),
            ("Members".into(), n.to_string()),
        ],
        warnings: c.warnings.clone(),
        footer: format!(
            "Made by tally {} from each member's own lake: only these aggregates left the members' lakes. \
             Every member figure is that member's `tally metric NAME --every all` over the period.",
            env!("CARGO_PKG_VERSION")
        ),
        as_of: Some(last),
        ..Report::default()
    };

    let sessions = f64s(&c.members, "sessions_per_1000")?;
    report.sections.push(Section {
        id: "members".into(),
        title: "Members".into(),
        lead: format!(
            "{n} members; {} computer sessions per 1,000 residents across the consortium.",
            sessions
                .last()
                .copied()
                .flatten()
                .map_or("no".to_string(), |v| format!("{v:.1}"))
        ),
        how_counted: vec![
            "Sessions, circulation (checkouts and renewals), Wi-Fi sessions, print pages and tickets opened: each \
             member's own count over the period, by tally's definitions (docs/metrics.md)."
                .into(),
            "Per 1,000: the count x 1,000 / the member's population in consortium.toml. The consortium's row: the \
             members' sum, over the residents of the members that have the measure."
                .into(),
            "Devices: in service on the period's last day; out of support: their OS's support cycle has ended \
             (os_support status unsupported). Replacement cost due: replacement_cost over the period."
                .into(),
            "A member whose lake has none of a table (no print system, say) is left out of that measure, not \
             counted as zero."
                .into(),
        ],
        tables: vec![table_from_frame(&c.members, "Each member, and the consortium", &show)?],
        ..Section::default()
    });

    // Each measure: the members' middle half and median, and each member marked.
    let measures = strs(&c.comparison, "measure")?;
    let who = strs(&c.comparison, "member")?;
    let (value, median, p25, p75) = (
        f64s(&c.comparison, "value")?,
        f64s(&c.comparison, "consortium_median")?,
        f64s(&c.comparison, "consortium_p25")?,
        f64s(&c.comparison, "consortium_p75")?,
    );
    let mut figures = Vec::new();
    let mut names: Vec<String> = measures.clone();
    names.dedup();
    for measure in &names {
        let rows: Vec<RangeRow> = (0..measures.len())
            .filter(|&i| measures[i] == *measure)
            .map(|i| RangeRow {
                label: who[i].clone(),
                low: p25[i],
                mid: median[i],
                high: p75[i],
                mark: value[i],
            })
            .collect();
        let format = if measure.ends_with("_share") {
            ValueFormat::Percent
        } else {
            ValueFormat::Number
        };
        figures.push(Figure {
            name: format!("consortium-{measure}"),
            chart: Chart::Range { rows },
            style: style(
                &format!(
                    "{}: each member against the consortium",
                    measure.replace('_', " ")
                ),
                &format!("Grey: the members' middle half and median; marked: the member. {period}"),
                "",
                format,
            ),
        });
    }
    report.sections.push(Section {
        id: "comparison".into(),
        title: "Each member against the consortium".into(),
        lead: "Each member's measures against the median and quartiles of the members that have them.".into(),
        how_counted: vec![
            "Median and quartiles as Excel's PERCENTILE.INC over the members that have the measure (the rule of \
             tally peers); percentile: the share of the other members below the member."
                .into(),
        ],
        figures,
        tables: vec![table_from_frame(
            &c.comparison,
            "Each member against the consortium",
            &|col: &str| match col {
                "members_with_measure" => Show::Int,
                "percentile" => Show::Decimals(0),
                _ => Show::Decimals(2),
            },
        )?],
    });

    // Monthly trends: one line per member.
    let mut figures = Vec::new();
    let mut tables = Vec::new();
    let trend_members = strs(&c.trends, "member")?;
    let buckets = strs(&c.trends, "bucket")?;
    let mut months: Vec<String> = buckets.clone();
    months.sort();
    months.dedup();
    let mut codes: Vec<String> = trend_members.clone();
    codes.dedup();
    for metric in TRENDS {
        if c.trends.column(metric.name()).is_err() {
            continue;
        }
        let v = f64s(&c.trends, metric.name())?;
        let series: Vec<Series> = codes
            .iter()
            .enumerate()
            .map(|(slot, code)| {
                let values = months
                    .iter()
                    .map(|m| {
                        (0..v.len())
                            .find(|&i| trend_members[i] == *code && buckets[i] == *m)
                            .and_then(|i| v[i])
                    })
                    .collect();
                Series::new(code.clone(), values).with_colour(slot)
            })
            .collect();
        let title = format!("{} a month, by member", metric.name().replace('_', " "));
        tables.push(wide_table(&title, &months, &series, Show::Int));
        figures.push(Figure {
            name: format!("consortium-trend-{}", metric.name()),
            chart: Chart::Line {
                categories: months.clone(),
                series,
            },
            style: style(&title, &period, "per month", ValueFormat::Number),
        });
    }
    report.sections.push(Section {
        id: "trends".into(),
        title: "Monthly trends".into(),
        lead: "Each member's counts month by month.".into(),
        how_counted: vec![
            "Each member's tally metric NAME --every month over the period; a month the period cuts is partial."
                .into(),
        ],
        figures,
        tables,
    });
    report.data = vec![
        ("members".into(), c.members.clone()),
        ("comparison".into(), c.comparison.clone()),
        ("trends".into(), c.trends.clone()),
    ];
    Ok(report)
}
