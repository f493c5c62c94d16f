//! PaperCut Print Logger's monthly CSV for the demo library's public printers: the
//! banner line, the header, one row a job with the logger's trailing comma. Each branch
//! has a black-and-white and a colour printer on one print server; jobs come from the
//! branch's public PCs while it is open. Document names are made up, with commas and
//! quotes as real ones have; a few jobs printed no page (cancelled).

use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::Datelike;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tally_model::Sites;

use crate::other::{Written, at, months, write};
use crate::{SynthConfig, SynthError};

const BANNER: &str = "PaperCut Print Logger - http://www.papercut.com/";
const HEADER: &str = "Time,User,Pages,Copies,Printer,Document Name,Client,Paper Size,Language,Height,Width,Duplex,Grayscale,Size";

/// Writes `papercut/papercut-print-log-YYYY-MM.csv` for each month; returns (files,
/// planted malformed rows).
pub fn generate_prints(config: &SynthConfig, sites: &Sites) -> Result<Written, SynthError> {
    let root = config.out.as_path();
    let (mut files, mut planted) = (Vec::new(), Vec::new());
    // Its own stream, so the other tables' synthetic rows do not depend on this one.
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x09A9_EC07);
    let branches: Vec<usize> = (0..sites.sites.len())
        .filter(|&i| sites.sites[i].code != "BKM" && sites.sites[i].stations > 0)
        .collect();
    let guest = sites
        .library
        .guest_barcode_prefixes
        .first()
        .cloned()
        .unwrap_or_else(|| "guest".into());
    let documents = [
        "Resume",
        "Cover letter, final",
        "Boarding pass",
        "Tax form 1040",
        "Lease agreement \"signed\"",
        "Homework ch. 7",
        "Job application",
        "Bus schedule",
    ];
    for (first, next) in months(config) {
        let tag = first.format("%Y-%m").to_string();
        let name = format!("papercut/papercut-print-log-{tag}.csv");
        let mut log = format!("{BANNER}\r\n{HEADER}\r\n");
        let mut d = first;
        while d < next {
            // The day's jobs, written in time order as the logger writes them.
            let mut day: Vec<(chrono::NaiveDateTime, String)> = Vec::new();
            for &i in &branches {
                let site = &sites.sites[i];
                if sites.is_holiday(site, d) || site.hours.day(d.weekday()).ranges().is_empty() {
                    continue;
                }
                let jobs = (f64::from(site.stations) * 1.6 * config.scale).round() as u32;
                for _ in 0..rng.random_range(jobs / 2..=jobs.max(1)) {
                    let time = at(&mut rng, d, 10, 19);
                    let user = if rng.random::<f64>() < 0.12 {
                        format!("{guest}{:06}", rng.random_range(0..1_000_000))
                    } else {
                        format!("21221{:09}", rng.random_range(0..40_000 * (i as u64 + 1)))
                    };
                    let color = rng.random::<f64>() < 0.18;
                    let pages = match rng.random_range(0..20) {
                        0 | 1 => rng.random_range(5..40),
                        2 => 0,
                        _ => rng.random_range(1..5),
                    };
                    let copies = if rng.random::<f64>() < 0.08 { 2 } else { 1 };
                    let duplex = !color && pages > 2 && rng.random::<f64>() < 0.4;
                    let document = format!(
                        "{} {}.docx",
                        documents[rng.random_range(0..documents.len())],
                        rng.random_range(10_000..99_999)
                    );
                    let mut line = String::new();
                    let _ = write!(
                        line,
                        "{},{user},{pages},{copies},\\\\PRINTSRV\\{}-Public-{},\"{}\",{}-PC{:02},LETTER,PCL6,11 in,8.5 in,{},{},{}kb,\r\n",
                        time.format("%Y-%m-%d %H:%M:%S"),
                        site.code,
                        if color { "Color" } else { "BW" },
                        document.replace('"', "\"\""),
                        site.code,
                        rng.random_range(1..=site.stations),
                        if duplex { "DUPLEX" } else { "NOT DUPLEX" },
                        if color { "NOT GRAYSCALE" } else { "GRAYSCALE" },
                        rng.random_range(8..900) * pages.max(1),
                    );
                    day.push((time, line));
                }
            }
            day.sort();
            for (_, line) in day {
                log.push_str(&line);
            }
            d = d.succ_opt().expect("a next day");
        }
        if config.malformed && first == config.start && !branches.is_empty() {
            let code = &sites.sites[branches[0]].code;
            let _ = write!(
                log,
                "{} 11:00:00,2122100000001,many,1,\\\\PRINTSRV\\{code}-Public-BW,\"Untitled\",{code}-PC01,LETTER,PCL6,11 in,8.5 in,NOT DUPLEX,GRAYSCALE,12kb,\r\n",
                first.format("%Y-%m-%d"),
            );
            planted.push((
                PathBuf::from(&name),
                "a print job whose pages are not a number".into(),
            ));
        }
        write(root, &name, &log, &mut files)?;
    }
    Ok((files, planted))
}
