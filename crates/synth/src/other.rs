//! The other tables, in their systems' own layouts: the consortium's Symphony history
//! logs, the bookmobile's Koha statistics, osTicket tickets, Meraki Wi-Fi clients, the
//! Snipe-IT inventory and a spreadsheet of past years' totals. Each has a few malformed
//! rows on purpose, listed in the summary.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tally_model::Sites;

use crate::{SynthConfig, SynthError};

/// The IMLS survey's FY2018 Wisconsin rows and where they come from (data/imls).
const SURVEY_FILE: &str = include_str!("../../../data/imls/pls_fy2018_libraries_wisconsin.csv");
const SURVEY_PROVENANCE: &str = include_str!("../../../data/imls/PROVENANCE.txt");

pub(crate) fn write(
    root: &Path,
    rel: &str,
    text: &str,
    files: &mut Vec<PathBuf>,
) -> Result<(), SynthError> {
    let path = root.join(rel);
    let io = |source| SynthError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(path.parent().expect("has a parent")).map_err(io)?;
    std::fs::write(&path, text).map_err(io)?;
    files.push(PathBuf::from(rel));
    Ok(())
}

pub(crate) fn months(config: &SynthConfig) -> Vec<(NaiveDate, NaiveDate)> {
    let end = config.start + Duration::days(i64::from(config.days));
    let mut out = Vec::new();
    let mut d = config.start;
    while d < end {
        let next = if d.month() == 12 {
            NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
        }
        .expect("valid")
        .min(end);
        out.push((d, next));
        d = next;
    }
    out
}

/// A local time on `date` between `from` and `to` hours.
pub(crate) fn at(rng: &mut ChaCha8Rng, date: NaiveDate, from: u32, to: u32) -> NaiveDateTime {
    date.and_hms_opt(
        rng.random_range(from..to),
        rng.random_range(0..60),
        rng.random_range(0..60),
    )
    .expect("valid")
}

/// A file written and the malformed rows planted in the files, with what each is.
pub(crate) type Written = (Vec<PathBuf>, Vec<(PathBuf, String)>);

/// Writes every other table; returns (files, planted malformed rows).
pub fn generate_other(config: &SynthConfig, sites: &Sites) -> Result<Written, SynthError> {
    let root = config.out.as_path();
    let mut files = Vec::new();
    let mut planted = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0xC1C0_1A7E);
    let branches: Vec<usize> = (0..sites.sites.len())
        .filter(|&i| sites.sites[i].code != "BKM")
        .collect();
    let scale = config.scale;

    for (first, next) in months(config) {
        let tag = first.format("%Y%m").to_string();
        // Symphony: one history log a month, lines in time order per day (roughly: the
        // real logs are not strictly ordered either).
        let mut hist = String::new();
        let mut seq = 0u32;
        let mut d = first;
        while d < next {
            for &i in &branches {
                let site = &sites.sites[i];
                if sites.is_holiday(site, d) || site.hours.day(d.weekday()).ranges().is_empty() {
                    continue;
                }
                let n =
                    ((site.population as f64 / 260.0) * scale * rng.random_range(0.7..1.3)) as u32;
                for _ in 0..n {
                    let roll: f64 = rng.random();
                    let (cmd, user) = match roll {
                        r if r < 0.38 => ("CV", true),
                        r if r < 0.55 => ("RV", true),
                        r if r < 0.88 => ("EV", false),
                        r if r < 0.93 => ("WV", false),
                        r if r < 0.97 => ("IY", true),
                        r if r < 0.99 => ("JZ", true),
                        _ => ("hE", false),
                    };
                    seq = (seq + 1) % 100;
                    let t = at(&mut rng, d, 10, 20);
                    let item = format!(
                        "31221{:09}",
                        rng.random_range(0..(400_000.0 * scale) as u64 + 1)
                    );
                    let mut line = format!(
                        "E{}{:04}R ^S{seq:02}{cmd}FWSIPCHK{}^FEEPL{}^FFSIPCHK^FcNONE^dC6",
                        t.format("%Y%m%d%H%M%S"),
                        rng.random_range(1..3000),
                        site.code,
                        site.code
                    );
                    if user {
                        let _ = write!(
                            line,
                            "^UO21221{:02}{:07}",
                            i,
                            rng.random_range(0..site.population / 8 + 1)
                        );
                    }
                    let _ = write!(line, "^NQ{item}^^O");
                    hist.push_str(&line);
                    hist.push('\n');
                }
            }
            d += Duration::days(1);
        }
        if config.malformed && first == config.start {
            hist.push_str("E2024XX01120000R ^S01CVFWSIPCHK^FEEPLCEN^NQ312210000001^^O\n");
            hist.push_str(
                "E202410011200000001R ^S02CVFWSIPCHK^NQ312210000002^UO21221009999999^^O\n",
            );
            planted.push((
                PathBuf::from(format!("symphony/{tag}.hist")),
                "a transaction time that is not a time".into(),
            ));
            planted.push((
                PathBuf::from(format!("symphony/{tag}.hist")),
                "a charge with no station library (FE)".into(),
            ));
        }
        write(root, &format!("symphony/{tag}.hist"), &hist, &mut files)?;

        // Koha statistics: the bookmobile runs its own small Koha.
        if let Some(bkm) = sites.sites.iter().position(|s| s.code == "BKM") {
            let mut koha = String::from(
                "datetime,branch,value,type,other,itemnumber,itemtype,location,borrowernumber,ccode,categorycode,interface\n",
            );
            let mut d = first;
            while d < next {
                if !sites.is_holiday(&sites.sites[bkm], d)
                    && !sites.sites[bkm].hours.day(d.weekday()).ranges().is_empty()
                {
                    for _ in 0..((40.0 * scale) as u32) {
                        let kind = [
                            "issue", "issue", "return", "return", "renew", "localuse", "payment",
                        ][rng.random_range(0..7)];
                        let t = at(&mut rng, d, 10, 14);
                        let borrower = if kind == "return" {
                            "NULL".to_string()
                        } else {
                            format!("7{:07}", rng.random_range(0..900))
                        };
                        let _ = writeln!(
                            koha,
                            "{},BKM,0,{kind},,{},BK,MOBILE,{borrower},{},PT,sip",
                            t.format("%Y-%m-%d %H:%M:%S"),
                            rng.random_range(1000..9000),
                            ["FIC", "NF", "JUV", "DVD"][rng.random_range(0..4)]
                        );
                    }
                }
                d += Duration::days(1);
            }
            if config.malformed && first == config.start {
                koha.push_str(
                    "2024-10-05 25:61:00,BKM,0,issue,,1234,BK,MOBILE,70000001,FIC,PT,sip\n",
                );
                koha.push_str(",BKM,0,return,,1235,BK,MOBILE,NULL,FIC,PT,sip\n");
                planted.push((
                    PathBuf::from(format!("koha/statistics_{tag}.csv")),
                    "a time that is not a time".into(),
                ));
                planted.push((
                    PathBuf::from(format!("koha/statistics_{tag}.csv")),
                    "a return with no time".into(),
                ));
            }
            write(
                root,
                &format!("koha/statistics_{tag}.csv"),
                &koha,
                &mut files,
            )?;
        }

        // osTicket: the month's tickets as exported at the month's end.
        let mut tickets = String::from(
            "Ticket Number,Date Created,Subject,From,From Email,Priority,Department,Help Topic,Source,Current Status,Last Updated,SLA Due Date,Due Date,Closed Date,Overdue,Merged,Linked,Answered,Agent Assigned,Team Assigned,Thread Count,Reopen Count,Attachment Count,Task Count,Location,Asset Tag\n",
        );
        let mut d = first;
        let mut number = (first.year() as u32 % 100) * 100_000 + first.month() * 1000;
        while d < next {
            for _ in 0..rng.random_range(1..6) {
                number += 1;
                let i = branches[rng.random_range(0..branches.len())];
                let site = &sites.sites[i];
                let (priority, hours) = [
                    ("Low", 120.0),
                    ("Normal", 48.0),
                    ("High", 16.0),
                    ("Emergency", 3.0),
                ][rng.random_range(0..4)];
                let topic = ["Public PCs", "Printers", "Network", "Staff PCs", "Accounts"]
                    [rng.random_range(0..5)];
                let opened = at(&mut rng, d, 9, 18);
                let resolved =
                    opened + Duration::minutes((rng.random_range(0.1..2.0) * hours * 60.0) as i64);
                let closed = resolved.date() < next && rng.random::<f64>() < 0.9;
                let status = if closed { "Closed" } else { "Open" };
                let asset = if topic == "Public PCs" {
                    format!("{}-PC{:02}", site.code, rng.random_range(1..=site.stations))
                } else {
                    String::new()
                };
                let closed_text = if closed {
                    resolved.format("%m/%d/%Y %I:%M %p").to_string()
                } else {
                    String::new()
                };
                let _ = writeln!(
                    tickets,
                    "{number},{},\"{topic} issue, {}\",Front desk,desk@{}.example.org,{priority},IT,{topic},Web,{status},{},,,{closed_text},No,No,No,Yes,{},,2,0,0,0,{},{asset}",
                    opened.format("%m/%d/%Y %I:%M %p"),
                    site.name,
                    site.code.to_lowercase(),
                    opened.format("%m/%d/%Y %I:%M %p"),
                    if closed { "IT Staff" } else { "" },
                    site.name
                );
            }
            d += Duration::days(1);
        }
        if config.malformed && first == config.start {
            tickets.push_str("99999,10/02/2024 10:00 AM,Mystery,Desk,desk@example.org,Normal,IT,Public PCs,Web,Sideways,10/02/2024 10:00 AM,,,,No,No,No,No,,,1,0,0,0,Central,\n");
            planted.push((
                PathBuf::from(format!("osticket/tickets_{tag}.csv")),
                "a ticket with an unknown status".into(),
            ));
        }
        write(
            root,
            &format!("osticket/tickets_{tag}.csv"),
            &tickets,
            &mut files,
        )?;

        // Meraki: each branch network's clients for the month, as the API lists them.
        for &i in &branches {
            let site = &sites.sites[i];
            let tz = site.timezone.unwrap_or(sites.library.timezone);
            let mut clients = Vec::new();
            let mut d = first;
            while d < next {
                if !sites.is_holiday(site, d) && !site.hours.day(d.weekday()).ranges().is_empty() {
                    for _ in 0..((site.population as f64 / 400.0) * scale) as u32 {
                        let local = at(&mut rng, d, 10, 19);
                        let start = tz
                            .from_local_datetime(&local)
                            .earliest()
                            .map_or(0, |t| t.timestamp());
                        let mac: Vec<String> = (0..6)
                            .map(|_| format!("{:02x}", rng.random_range(0..256u32)))
                            .collect();
                        clients.push(serde_json::json!({
                            "id": format!("k{:07x}", rng.random_range(0..0xfffffffu32)),
                            "mac": mac.join(":"),
                            "description": null,
                            "ip": format!("10.{}.{}.{}", i, rng.random_range(0..250), rng.random_range(1..250)),
                            "firstSeen": start,
                            "lastSeen": start + rng.random_range(300..7200),
                            "ssid": "Library-Public",
                            "usage": {"sent": rng.random_range(10..50_000), "recv": rng.random_range(100..500_000)},
                            "status": "Offline",
                        }));
                    }
                }
                d += Duration::days(1);
            }
            if config.malformed && first == config.start && i == branches[0] {
                clients.push(serde_json::json!({"id": "kbroken", "mac": "not-a-mac", "firstSeen": 0, "lastSeen": 1, "ssid": "Library-Public"}));
                planted.push((
                    PathBuf::from(format!("meraki/{}/clients_{tag}.json", site.code)),
                    "a client whose MAC is not a MAC".into(),
                ));
            }
            let text = serde_json::to_string_pretty(&clients).expect("JSON");
            write(
                root,
                &format!("meraki/{}/clients_{tag}.json", site.code),
                &text,
                &mut files,
            )?;
        }
    }

    // Snipe-IT: the inventory as exported today; public PCs bought in waves.
    let mut assets = String::from(
        "Asset Tag,Item Name,Category,Manufacturer,Model Name,Model Number,Serial,Location,Status,Purchase Date,Purchase Cost,Order Number,Warranty\n",
    );
    for &i in &branches {
        let site = &sites.sites[i];
        for n in 1..=site.stations {
            let year = 2019 + (n as i32 % 6);
            let status = if year <= 2019 && n % 5 == 0 {
                "Archived"
            } else {
                "Deployed"
            };
            let _ = writeln!(
                assets,
                "{}-PC{n:02},{} public {n},Public Computers,Dell,OptiPlex 70{}0,D{}M,SN{}{n:03},{},{status},{year}-0{}-15,\"${}.00\",PO-{year},36",
                site.code,
                site.name,
                year - 2017,
                year - 2000,
                site.code,
                site.name,
                1 + n % 9,
                1000 + (year - 2019) * 25
            );
        }
        for (k, (category, model, cost)) in [
            ("Staff Desktops", "OptiPlex 5000", 1250),
            ("Printers", "LaserJet M507", 2800),
            ("Network Switches", "Catalyst 9200", 1900),
        ]
        .iter()
        .enumerate()
        {
            let _ = writeln!(
                assets,
                "{}-ST{k:02},{} {category},{category},Vendor,{model},,SNS{}{k},{},Deployed,{}-06-01,{cost},PO-S,36",
                site.code,
                site.name,
                site.code,
                site.name,
                2018 + k as i32 * 2
            );
        }
    }
    if config.malformed {
        assets.push_str("XX-0001,Mystery box,Public Computers,Dell,OptiPlex,,SN0,Central,Deployed,someday,1000,,\n");
        planted.push((
            PathBuf::from("snipe-it/assets.csv"),
            "an asset with no readable purchase date".into(),
        ));
    }
    write(root, "snipe-it/assets.csv", &assets, &mut files)?;

    // Active Directory: Get-ADComputer | Export-Csv from Windows PowerShell (a #TYPE line,
    // every field quoted, CRLF). The public PCs and staff desktops of the inventory by
    // name, with the OS mix of a library in 2025: Windows 10 on the oldest, Windows 11
    // 23H2 and 24H2 on the rest; a few staff laptops only the directory knows, one of
    // them not seen for months, and a decommissioned PC left disabled.
    let end = config.start + Duration::days(i64::from(config.days));
    let us_time = |d: NaiveDate, h: u32| {
        let (h12, ampm) = match h {
            0 => (12, "AM"),
            1..=11 => (h, "AM"),
            12 => (12, "PM"),
            _ => (h - 12, "PM"),
        };
        format!("{}/{}/{} {h12}:15:00 {ampm}", d.month(), d.day(), d.year())
    };
    let filetime = |d: NaiveDate| {
        let secs = d
            .and_hms_opt(18, 0, 0)
            .expect("valid")
            .and_utc()
            .timestamp();
        (secs + 11_644_473_600) * 10_000_000
    };
    let mut ad = String::from(
        "#TYPE Microsoft.ActiveDirectory.Management.ADComputer\r\n\"DistinguishedName\",\"DNSHostName\",\"Enabled\",\"LastLogonDate\",\"lastLogonTimestamp\",\"Name\",\"ObjectClass\",\"OperatingSystem\",\"OperatingSystemVersion\",\"SamAccountName\",\"whenCreated\"\r\n",
    );
    let mut row = |ou: &str,
                   site: &str,
                   name: &str,
                   enabled: bool,
                   seen: Option<NaiveDate>,
                   os: &str,
                   ver: &str,
                   created: NaiveDate| {
        let (logon, stamp) = match seen {
            Some(d) => (us_time(d, 16), filetime(d).to_string()),
            None => (String::new(), String::new()),
        };
        let _ = write!(
            ad,
            "\"CN={name},OU={ou},OU={site},OU=Branches,DC=library,DC=local\",\"{}.library.local\",\"{}\",\"{logon}\",\"{stamp}\",\"{name}\",\"computer\",\"{os}\",\"{ver}\",\"{name}$\",\"{}\"\r\n",
            name.to_ascii_lowercase(),
            if enabled { "True" } else { "False" },
            us_time(created, 9),
        );
    };
    for &i in &branches {
        let site = &sites.sites[i];
        for n in 1..=site.stations {
            let year = 2019 + (n as i32 % 6);
            if year <= 2019 && n % 5 == 0 {
                continue;
            }
            let (os, ver) = match year {
                ..=2020 => ("Windows 10 Enterprise", "10.0 (19045)"),
                2021 | 2022 => ("Windows 11 Enterprise", "10.0 (22631)"),
                _ => ("Windows 11 Enterprise", "10.0 (26100)"),
            };
            let bought = NaiveDate::from_ymd_opt(year, 1 + n % 9, 15).expect("valid");
            let seen = end - Duration::days(i64::from(1 + n % 6));
            row(
                "Public",
                &site.code,
                &format!("{}-PC{n:02}", site.code),
                true,
                Some(seen),
                os,
                ver,
                bought + Duration::days(20),
            );
        }
        let st = NaiveDate::from_ymd_opt(2018, 6, 1).expect("valid");
        row(
            "Staff",
            &site.code,
            &format!("{}-ST00", site.code),
            true,
            Some(end - Duration::days(2)),
            "Windows 11 Pro",
            "10.0 (22631)",
            st + Duration::days(10),
        );
        let lt = NaiveDate::from_ymd_opt(2023, 3, 1).expect("valid");
        let seen = if i == branches[0] {
            end - Duration::days(160)
        } else {
            end - Duration::days(3)
        };
        row(
            "Staff Laptops",
            &site.code,
            &format!("{}-LT01", site.code),
            true,
            Some(seen),
            "Windows 11 Pro",
            "10.0 (26100)",
            lt,
        );
    }
    if let Some(&first) = branches.first() {
        let code = &sites.sites[first].code;
        row(
            "Public",
            code,
            &format!("{code}-PC99"),
            false,
            None,
            "Windows 7 Professional",
            "6.1 (7601)",
            NaiveDate::from_ymd_opt(2013, 5, 2).expect("valid"),
        );
    }
    write(root, "ad/computers.csv", &ad, &mut files)?;

    // The survey's per-library file (real, public: data/imls), so the demo's annual report
    // can set the library against its peers; its provenance travels with it.
    write(
        root,
        "survey/pls_fy2018_libraries_wisconsin.csv",
        SURVEY_FILE,
        &mut files,
    )?;
    let provenance = root.join("survey/PROVENANCE.txt");
    std::fs::write(&provenance, SURVEY_PROVENANCE).map_err(|source| SynthError::Io {
        path: provenance.clone(),
        source,
    })?;

    // Past years kept as a spreadsheet: yearly sessions, circulation and visits per branch.
    for (measure, per_capita) in [("Sessions", 1.1), ("Circulation", 9.0), ("Visits", 4.5)] {
        let mut totals = format!("_id,Year,BranchCode,{measure}\n");
        let mut id = 0;
        for year in 2014..config.start.year() {
            for &i in &branches {
                id += 1;
                let site = &sites.sites[i];
                // 2020 and 2021: the pandemic years.
                let dip = match year {
                    2020 => 0.45,
                    2021 => 0.7,
                    _ => 1.0,
                };
                let value = (site.population as f64
                    * per_capita
                    * dip
                    * rng.random_range(0.92..1.08)
                    * scale)
                    .round();
                let _ = writeln!(totals, "{id},{year},{},{value}", site.code);
            }
        }
        if config.malformed && measure == "Visits" {
            let _ = writeln!(totals, "{},2019,CEN,closed for renovation", id + 1);
            planted.push((
                PathBuf::from("totals/history-visits-annual-by-branch.csv"),
                "text where a count belongs".into(),
            ));
        }
        write(
            root,
            &format!(
                "totals/history-{}-annual-by-branch.csv",
                measure.to_lowercase()
            ),
            &totals,
            &mut files,
        )?;
    }
    Ok((files, planted))
}
