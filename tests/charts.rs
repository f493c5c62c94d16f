//! Every chart kind as SVG, with a partial bucket where the kind has buckets: snapshots
//! of its text and structure (what is written, and how many of each shape), not pixels;
//! and the alt text a report gives each chart names its extremes.

use std::collections::BTreeMap;

use tally_charts::{Chart, RangeRow, Series, Style, ValueFormat, alt_text, render_svg};

/// The SVG as a reader would check it: each text in drawing order, then how many of
/// each element.
fn outline(svg: &str) -> String {
    let mut texts = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if name.is_empty() {
            continue;
        }
        *counts.entry(name.clone()).or_default() += 1;
        if name == "text"
            && let Some(start) = rest.find('>')
            && let Some(end) = rest.find("</text>")
        {
            let t = rest[start + 1..end].trim();
            if !t.is_empty() {
                texts.push(t.to_string());
            }
        }
    }
    let mut out = String::from("texts:\n");
    for t in texts {
        out.push_str(&format!("  {t}\n"));
    }
    out.push_str("elements:\n");
    for (k, v) in counts {
        out.push_str(&format!("  {k}: {v}\n"));
    }
    out
}

fn weeks() -> Vec<String> {
    ["2026-W37", "2026-W38", "2026-W39", "2026-W40"]
        .map(String::from)
        .to_vec()
}

/// The style of a chart whose last week holds 3 of its 7 days.
fn partial_style(title: &str, unit: &str) -> Style {
    Style {
        subtitle: "2026-09-07 to 2026-09-30. Source: a test".into(),
        partial: vec![false, false, false, true],
        partial_note: "partial: 2026-W40 (3 of 7 days)".into(),
        ..Style::new(title, unit)
    }
}

fn branches() -> Vec<Series> {
    vec![
        Series::new(
            "Central",
            vec![Some(2100.0), Some(2300.0), Some(2150.0), Some(900.0)],
        )
        .with_colour(0),
        Series::new("Bookmobile", vec![Some(12.0), Some(9.0), None, Some(4.0)]).with_colour(9),
    ]
}

#[test]
fn bar_chart_with_a_small_bar_and_upright_names() {
    let chart = Chart::Bar {
        categories: [
            "Alicia Ashman",
            "Bookmobile",
            "Central",
            "Goodman South",
            "Hawthorne",
            "Lakeview",
            "Meadowridge",
            "Monroe Street",
            "Pinney",
            "Sequoya",
        ]
        .map(String::from)
        .to_vec(),
        series: Series::new(
            "sessions",
            vec![
                Some(10_000.0),
                Some(144.0),
                Some(33_000.0),
                Some(7_000.0),
                Some(8_600.0),
                Some(7_000.0),
                Some(8_100.0),
                Some(3_900.0),
                Some(15_300.0),
                Some(12_800.0),
            ],
        ),
    };
    let style = Style {
        width: 600,
        height: 300,
        ..Style::new("Sessions by branch", "sessions")
    };
    let svg = render_svg(&chart, &style).unwrap();
    insta::assert_snapshot!(outline(&svg));
    assert!(
        alt_text(&chart, &style).contains("Highest: 33,000 (Central); lowest: 144 (Bookmobile)")
    );
}

#[test]
fn stacked_chart_with_a_partial_week() {
    let chart = Chart::Stacked {
        categories: weeks(),
        series: branches(),
    };
    let style = partial_style("Sessions per week", "sessions");
    insta::assert_snapshot!(outline(&render_svg(&chart, &style).unwrap()));
    let alt = alt_text(&chart, &style);
    assert!(alt.contains("Highest: 2,300 (Central, 2026-W38)"), "{alt}");
    assert!(alt.contains("lowest: 4 (Bookmobile, 2026-W40)"), "{alt}");
    assert!(alt.contains("2026-W40 (3 of 7 days)"), "{alt}");
}

#[test]
fn line_chart_with_a_partial_week() {
    let chart = Chart::Line {
        categories: weeks(),
        series: branches(),
    };
    let style = partial_style("Sessions per week", "sessions");
    insta::assert_snapshot!(outline(&render_svg(&chart, &style).unwrap()));
    // The same chart small: nothing is dropped.
    let small = Style {
        width: 600,
        height: 300,
        ..style
    };
    insta::assert_snapshot!(outline(&render_svg(&chart, &small).unwrap()));
}

#[test]
fn heatmap_and_range_charts() {
    let heat = Chart::Heatmap {
        rows: vec!["Mon".into(), "Tue".into()],
        columns: vec!["09".into(), "10".into(), "11".into()],
        values: vec![
            vec![Some(0.2), Some(0.5), None],
            vec![Some(0.7), Some(0.4), Some(0.1)],
        ],
    };
    let style = Style {
        format: ValueFormat::Percent,
        ..Style::new("Peak hours", "")
    };
    insta::assert_snapshot!(outline(&render_svg(&heat, &style).unwrap()));
    assert!(alt_text(&heat, &style).contains("Highest: 70% (Tue 09); lowest: 10% (Tue 11)"));
    let range = Chart::Range {
        rows: vec![
            RangeRow {
                label: "circulation per capita".into(),
                low: Some(80.0),
                mid: Some(100.0),
                high: Some(130.0),
                mark: Some(190.0),
            },
            RangeRow {
                label: "visits per capita".into(),
                low: Some(90.0),
                mid: Some(100.0),
                high: Some(110.0),
                mark: Some(95.0),
            },
        ],
    };
    let style = Style::new("Against its peers", "");
    insta::assert_snapshot!(outline(&render_svg(&range, &style).unwrap()));
}
