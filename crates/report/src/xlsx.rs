//! The workbook: an "About" sheet (title, period, notes, how each table is counted),
//! then one sheet per table with its header frozen and filterable, numbers stored as
//! numbers with a number format, so a budget officer can paste or link them into the
//! city's own workbook.

use std::collections::BTreeSet;

use chrono::Datelike;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use crate::doc::Report;
use crate::frame::{Cell, Table};

/// Excel's sheet name rules: at most 31 characters, none of `[]:*?/\`, unique.
fn sheet_name(caption: &str, used: &mut BTreeSet<String>) -> String {
    let clean: String = caption
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { ' ' } else { c })
        .collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>().trim_end().to_string();
    let base: String = if clean.is_empty() {
        "Table".into()
    } else {
        cut(&clean, 31)
    };
    let mut name = base.clone();
    let mut n = 2;
    while used.contains(&name.to_lowercase()) {
        let suffix = format!(" {n}");
        name = format!("{}{suffix}", cut(&base, 31 - suffix.len()));
        n += 1;
    }
    used.insert(name.to_lowercase());
    name
}

fn number_format(decimals: usize) -> Format {
    if decimals == 0 {
        Format::new().set_num_format("#,##0")
    } else {
        Format::new().set_num_format(format!("#,##0.{}", "0".repeat(decimals)))
    }
}

fn write_table(sheet: &mut Worksheet, t: &Table) -> Result<(), XlsxError> {
    let header = Format::new()
        .set_bold()
        .set_background_color("#EEF2F6")
        .set_text_wrap();
    let percent = Format::new().set_num_format("0.0%");
    let mut widths: Vec<usize> = t.header.iter().map(|h| h.len().clamp(8, 40)).collect();
    for (j, h) in t.header.iter().enumerate() {
        sheet.write_string_with_format(0, j as u16, h.replace('_', " "), &header)?;
    }
    for (i, row) in t.rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (j, cell) in row.iter().enumerate() {
            let c = j as u16;
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(r, c, s)?;
                }
                Cell::Int(v) => {
                    sheet.write_number_with_format(r, c, *v as f64, &number_format(0))?;
                }
                Cell::Number(v, d) => {
                    sheet.write_number_with_format(r, c, *v, &number_format(*d))?;
                }
                Cell::Percent(v) => {
                    sheet.write_number_with_format(r, c, *v, &percent)?;
                }
                // Left blank: no value (no opening hours, no data, or suppressed).
                Cell::Empty => {}
            }
            if let Some(w) = widths.get_mut(j) {
                *w = (*w).max(cell.display().chars().count().min(60));
            }
        }
    }
    for (j, w) in widths.iter().enumerate() {
        sheet.set_column_width(j as u16, *w as f64 + 2.0)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    if !t.rows.is_empty() && !t.header.is_empty() {
        sheet.autofilter(0, 0, t.rows.len() as u32, t.header.len() as u16 - 1)?;
    }
    Ok(())
}

/// The workbook's bytes. Its creation date is the report's as-of day, not the clock, so
/// the same report gives the same bytes.
pub fn workbook(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let mut props = DocProperties::new()
        .set_title(&report.title)
        .set_subject(&report.subtitle);
    let day = report.as_of.unwrap_or_default();
    props = props.set_creation_datetime(&ExcelDateTime::from_ymd(
        day.year().clamp(1900, 9999) as u16,
        day.month() as u8,
        day.day() as u8,
    )?);
    wb.set_properties(&props);
    let mut used = BTreeSet::new();

    let about = wb.add_worksheet();
    about.set_name(sheet_name("About", &mut used))?;
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    about.set_column_width(0, 28)?;
    about.set_column_width(1, 110)?;
    about.write_string_with_format(
        0,
        0,
        &report.title,
        &Format::new().set_bold().set_font_size(14),
    )?;
    about.write_string(1, 0, &report.subtitle)?;
    let mut r = 3u32;
    for (k, v) in &report.facts {
        about.write_string_with_format(r, 0, k, &bold)?;
        about.write_string_with_format(r, 1, v, &wrap)?;
        r += 1;
    }
    for w in &report.warnings {
        about.write_string_with_format(r, 0, "Note", &bold)?;
        about.write_string_with_format(r, 1, w, &wrap)?;
        r += 1;
    }
    r += 1;
    for s in &report.sections {
        about.write_string_with_format(r, 0, &s.title, &bold)?;
        let tables: Vec<&str> = s.tables.iter().map(|t| t.caption.as_str()).collect();
        about.write_string_with_format(r, 1, format!("Sheets: {}", tables.join("; ")), &wrap)?;
        r += 1;
        for p in &s.how_counted {
            about.write_string_with_format(r, 1, p, &wrap)?;
            r += 1;
        }
    }
    about.write_string_with_format(r + 1, 0, &report.footer, &Format::new().set_italic())?;

    for t in report.sections.iter().flat_map(|s| &s.tables) {
        let sheet = wb.add_worksheet();
        sheet.set_name(sheet_name(&t.caption, &mut used))?;
        write_table(sheet, t)?;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_follow_excel_rules() {
        let mut used = BTreeSet::new();
        assert_eq!(
            sheet_name("Replacement: units/cost by FY [all]", &mut used),
            "Replacement units cost by FY al"
        );
        assert_eq!(
            sheet_name("Replacement: units/cost by FY [all]", &mut used),
            "Replacement units cost by FY 2"
        );
        assert_eq!(sheet_name("", &mut used), "Table");
    }
}
