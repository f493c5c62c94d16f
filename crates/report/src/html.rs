//! One HTML file: inline CSS, charts as inline PNG, no scripts, no external URLs; print
//! CSS puts each section on its own page.

use std::collections::BTreeMap;

use base64::Engine;

use crate::doc::Report;
use crate::frame::Table;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root { --ink: #1d2733; --muted: #5b6775; --rule: #d9dee4; --accent: #2f5d8a; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
       max-width: 1180px; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.45; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 1.5rem; }
h1 { font-size: 1.9rem; margin: 0 0 .2rem; }
h2 { font-size: 1.4rem; margin: 2.2rem 0 .6rem; color: var(--accent); }
.subtitle { color: var(--muted); margin: 0 0 1rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0 0 1rem; }
dl.facts dt { font-weight: bold; } dl.facts dd { margin: 0; }
nav ol { columns: 2; margin: .5rem 0 1.5rem; }
.warnings { background: #fff6e0; border-left: 4px solid #e0a800; padding: .6rem 1rem; margin: 1rem 0; }
.how { background: #f3f6f9; border-left: 4px solid var(--accent); padding: .5rem 1rem; margin: .8rem 0; font-size: .95rem; }
.how p { margin: .25rem 0; }
figure { margin: 1rem 0; } figure img { width: 100%; height: auto; border: 1px solid var(--rule); }
.lead { font-size: 1.05rem; }
.empty { color: var(--muted); font-style: italic; }
table { border-collapse: collapse; margin: .8rem 0 1.2rem; font-size: .9rem; width: auto; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; }
th, td { border-bottom: 1px solid var(--rule); padding: .25rem .7rem; }
th { background: #eef2f6; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td:first-child { white-space: nowrap; }
.scroll { max-height: 28rem; overflow: auto; }
.wide { overflow-x: auto; }
footer { margin-top: 3rem; border-top: 1px solid var(--rule); color: var(--muted); font-size: .85rem; padding-top: .6rem; }
@media print {
  body { max-width: none; margin: 0; font-size: 10pt; }
  nav { display: none; }
  section { page-break-before: always; break-before: page; }
  section:first-of-type { page-break-before: avoid; break-before: avoid; }
  figure, table { page-break-inside: avoid; break-inside: avoid; }
  .scroll { max-height: none; overflow: visible; }
  h2 { page-break-after: avoid; break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  .warnings, .how { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
@page { size: A4 landscape; margin: 14mm; }
"#;

fn render_table(t: &Table, out: &mut String) {
    let long = t.rows.len() > 40;
    out.push_str(if long {
        "<div class=\"scroll wide\">"
    } else {
        "<div class=\"wide\">"
    });
    out.push_str("<table>");
    if !t.caption.is_empty() {
        out.push_str(&format!("<caption>{}</caption>", escape(&t.caption)));
    }
    out.push_str("<thead><tr>");
    for h in &t.header {
        // Column names read as words here; the CSV files keep the names as they are.
        out.push_str(&format!(
            "<th scope=\"col\">{}</th>",
            escape(&h.replace('_', " "))
        ));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        out.push_str("<tr>");
        for cell in row {
            let class = if cell.is_numeric() {
                " class=\"num\""
            } else {
                ""
            };
            out.push_str(&format!("<td{class}>{}</td>", escape(&cell.display())));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
}

/// The report as one HTML document; `pngs` holds each figure's PNG by its name.
pub fn render(report: &Report, pngs: &BTreeMap<String, Vec<u8>>) -> String {
    let mut out = String::with_capacity(1 << 20);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    out.push_str(&format!(
        "<title>{}</title><style>{CSS}</style></head><body>",
        escape(&report.title)
    ));
    out.push_str(&format!(
        "<header><h1>{}</h1><p class=\"subtitle\">{}</p>",
        escape(&report.title),
        escape(&report.subtitle)
    ));
    if !report.facts.is_empty() {
        out.push_str("<dl class=\"facts\">");
        for (k, v) in &report.facts {
            out.push_str(&format!("<dt>{}</dt><dd>{}</dd>", escape(k), escape(v)));
        }
        out.push_str("</dl>");
    }
    out.push_str("</header>");
    if !report.warnings.is_empty() {
        out.push_str("<div class=\"warnings\"><strong>Notes on the data</strong><ul>");
        for w in &report.warnings {
            out.push_str(&format!("<li>{}</li>", escape(w)));
        }
        out.push_str("</ul></div>");
    }
    out.push_str("<nav><strong>Contents</strong><ol>");
    for s in &report.sections {
        out.push_str(&format!(
            "<li><a href=\"#{}\">{}</a></li>",
            escape(&s.id),
            escape(&s.title)
        ));
    }
    out.push_str("</ol></nav>");
    for s in &report.sections {
        out.push_str(&format!(
            "<section id=\"{}\"><h2>{}</h2>",
            escape(&s.id),
            escape(&s.title)
        ));
        if !s.lead.is_empty() {
            out.push_str(&format!("<p class=\"lead\">{}</p>", escape(&s.lead)));
        }
        for f in &s.figures {
            let Some(png) = pngs.get(&f.name) else {
                out.push_str(&format!(
                    "<p class=\"empty\">{}: no data to draw for this period.</p>",
                    escape(&f.style.title)
                ));
                continue;
            };
            let data = base64::engine::general_purpose::STANDARD.encode(png);
            // The title and subtitle (period, unit, source) are drawn in the image; the alt
            // text carries them for screen readers, with the chart's extremes and its
            // partial buckets (tally_charts::alt_text). The tables below hold every value.
            out.push_str(&format!(
                "<figure><img alt=\"{}\" src=\"data:image/png;base64,{data}\"></figure>",
                escape(&tally_charts::alt_text(&f.chart, &f.style)),
            ));
        }
        if !s.how_counted.is_empty() {
            out.push_str("<div class=\"how\"><strong>How these are counted</strong>");
            for p in &s.how_counted {
                out.push_str(&format!("<p>{}</p>", escape(p)));
            }
            out.push_str("</div>");
        }
        for t in &s.tables {
            render_table(t, &mut out);
        }
        out.push_str("</section>");
    }
    out.push_str(&format!(
        "<footer>{}</footer></body></html>\n",
        escape(&report.footer)
    ));
    out
}
