//! Markdown: the same sections as the HTML, tables as pipe tables, charts as links to the
//! PNG files written beside it (for a wiki page, a ticket or an e-mail).

use std::collections::BTreeMap;

use crate::doc::Report;
use crate::frame::Table;

/// Escapes what would break a table cell or start markup.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
}

fn table(t: &Table, out: &mut String) {
    if !t.caption.is_empty() {
        out.push_str(&format!("**{}**\n\n", cell(&t.caption)));
    }
    out.push_str(&format!(
        "| {} |\n",
        t.header
            .iter()
            .map(|h| cell(&h.replace('_', " ")))
            .collect::<Vec<_>>()
            .join(" | ")
    ));
    let numeric: Vec<bool> = (0..t.header.len())
        .map(|j| {
            !t.rows.is_empty()
                && t.rows
                    .iter()
                    .all(|r| r.get(j).is_some_and(|c| c.is_numeric()))
        })
        .collect();
    out.push_str(&format!(
        "|{}|\n",
        numeric
            .iter()
            .map(|n| if *n { " ---: " } else { " --- " })
            .collect::<Vec<_>>()
            .join("|")
    ));
    for row in &t.rows {
        out.push_str(&format!(
            "| {} |\n",
            row.iter()
                .map(|c| cell(&c.display()))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    out.push('\n');
}

/// The report as Markdown; figures link to `{chart_dir}/{name}.png` (those in `drawn`;
/// the others had nothing to draw).
pub fn render(report: &Report, chart_dir: &str, drawn: &BTreeMap<String, Vec<u8>>) -> String {
    let mut out = String::new();
    out.push_str(&format!("# {}\n\n{}\n\n", report.title, report.subtitle));
    for (k, v) in &report.facts {
        out.push_str(&format!("- **{k}:** {v}\n"));
    }
    if !report.facts.is_empty() {
        out.push('\n');
    }
    if !report.warnings.is_empty() {
        out.push_str("> **Notes on the data**\n>\n");
        for w in &report.warnings {
            out.push_str(&format!("> - {w}\n"));
        }
        out.push('\n');
    }
    for s in &report.sections {
        out.push_str(&format!("## {}\n\n", s.title));
        if !s.lead.is_empty() {
            out.push_str(&format!("{}\n\n", s.lead));
        }
        for f in &s.figures {
            if drawn.contains_key(&f.name) {
                out.push_str(&format!(
                    "![{}]({chart_dir}/{}.png)\n\n",
                    tally_charts::alt_text(&f.chart, &f.style)
                        .replace('[', "(")
                        .replace(']', ")"),
                    f.name
                ));
            } else {
                out.push_str(&format!(
                    "*{}: no data to draw for this period.*\n\n",
                    f.style.title
                ));
            }
        }
        for t in &s.tables {
            table(t, &mut out);
        }
        if !s.how_counted.is_empty() {
            out.push_str("*How these are counted:*\n\n");
            for p in &s.how_counted {
                out.push_str(&format!("- {p}\n"));
            }
            out.push('\n');
        }
    }
    out.push_str(&format!("---\n\n{}\n", report.footer));
    out
}
