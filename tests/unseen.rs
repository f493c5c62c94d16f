//! Exports from libraries tally has never seen: the defects a new user met on day one,
//! each on a file built like the one that showed it, and one constructed file per export
//! variant docs/formats.md documents (built from the vendors' code: the research notes
//! there say where each comes from).

use std::path::{Path, PathBuf};

use crate::common::*;

/// What `tally ingest --json` said of one file, with the lake it wrote.
struct Run {
    code: i32,
    json: serde_json::Value,
    stderr: String,
    lake: PathBuf,
}

impl Run {
    fn file(&self) -> &serde_json::Value {
        &self.json[0]
    }

    fn n(&self, key: &str) -> u64 {
        self.file()[key].as_u64().unwrap_or(0)
    }

    fn query(&self, sql: &str) -> String {
        let out = run(&[
            "query",
            "--lake",
            self.lake.to_str().unwrap(),
            "--format",
            "csv",
            sql,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    }
}

/// Writes `name` with `bytes` in a fresh folder and ingests it with `args`.
fn ingest_one(dir: &Path, name: &str, bytes: &[u8], args: &[&str]) -> Run {
    let file = dir.join(name);
    std::fs::write(&file, bytes).unwrap();
    let lake = dir.join("lake");
    let out = tally(&[
        "ingest",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        "tests/data/sites.toml",
        "--json",
    ])
    .env("TALLY_KEY", TEST_KEY)
    .args(args)
    .arg(&file)
    .output()
    .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        json,
        stderr: text(&out.stderr),
        lake,
    };
    if r.json.is_array() && r.file()["status"] != "failed" {
        assert_eq!(
            r.n("rows_read"),
            r.n("rows_accepted") + r.n("rows_quarantined") + r.n("rows_excluded"),
            "{}",
            r.file()
        );
    }
    r
}

fn fresh(name: &str, bytes: &[u8], args: &[&str]) -> (tempfile::TempDir, Run) {
    let dir = tempfile::tempdir().unwrap();
    let r = ingest_one(dir.path(), name, bytes, args);
    (dir, r)
}

// --- The defects ---------------------------------------------------------------------

#[test]
fn defect_1_a_year_in_progress_stores_the_months_given_and_no_zeros() {
    let wide = "LOCATION,JANUARY,FEBRUARY,MARCH,APRIL,MAY,JUNE,JULY,AUGUST,SEPTEMBER,OCTOBER,NOVEMBER,DECEMBER,YTD\n\
                Town,100,110,120,130,140,150,,,,,,,750\n\
                Night,10,11,12,13,14,15,,,,,,,76\n";
    let (_d, r) = fresh(
        "Libraries_-_2026_Computer_Sessions_by_Location.csv",
        wide.as_bytes(),
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.file()["format"], "totals-wide");
    assert_eq!((r.n("rows_accepted"), r.n("rows_quarantined")), (2, 0));
    // Six months each, never a zero for July..December.
    assert_eq!(
        r.query("SELECT site, COUNT(*) AS months, SUM(value) AS total, MIN(value) AS least FROM totals GROUP BY site ORDER BY site"),
        "site,months,total,least\nN1,6,75.0,10.0\nT1,6,750.0,100.0\n"
    );
    // The YTD check covers the months given: Night's 76 is not the 75 its months add to.
    assert_eq!(
        r.file()["notes"]["line 3 (Night): YTD 76 but the months given add up to 75"],
        1,
        "{}",
        r.file()
    );
}

#[test]
fn defect_2_a_month_only_long_file_takes_its_year_from_the_name_or_year() {
    let file = "MONTH,NUMBER OF SESSIONS,YTD\nJanuary,22263,22263\nFebruary,19657,41920\nMarch,,\n";
    let (_d, r) = fresh("Libraries_-_WiFi_Usage_2016.csv", file.as_bytes(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.file()["format"],
        "totals-long",
        "detected without a year column"
    );
    assert_eq!(
        r.query("SELECT CAST(period_start AS VARCHAR) AS m, measure, value FROM totals ORDER BY m"),
        "m,measure,value\n2016-01-01,wifi_sessions,22263.0\n2016-02-01,wifi_sessions,19657.0\n"
    );
    // A name without a year: --year gives it; without either, the file says what to pass.
    let (_d, r) = fresh(
        "wifi.csv",
        file.as_bytes(),
        &["--format", "totals-long", "--year", "2015"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.query("SELECT CAST(period_start AS VARCHAR) AS m FROM totals ORDER BY m")
            .contains("2015-01-01")
    );
    let (_d, r) = fresh("wifi.csv", file.as_bytes(), &["--format", "totals-long"]);
    assert_eq!(r.code, 1, "{}", r.file());
    assert!(r.file()["error"].as_str().unwrap().contains("--year"));
}

#[test]
fn defect_3_no_key_is_asked_for_files_without_patrons() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    for f in [
        data("real/toronto/tpl-visits-annual-by-branch-2012-2022.csv"),
        data("osticket_tickets.csv"),
        data("snipeit_assets.csv"),
    ] {
        let out = run(&[
            "ingest",
            "--lake",
            lake.to_str().unwrap(),
            "--sites",
            "tests/data/sites.toml",
            f.to_str().unwrap(),
        ]);
        assert!(
            matches!(out.status.code(), Some(0) | Some(3)),
            "{}: {}",
            f.display(),
            text(&out.stderr)
        );
    }
    // The lake records no key: none was used.
    let meta = std::fs::read_to_string(lake.join("_lake.json")).unwrap();
    assert!(!meta.contains("key_fingerprint"), "{meta}");
}

#[test]
fn defect_4_metrics_and_reports_on_a_lake_without_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::copy(data("sites.toml"), root.join("data/sites.toml")).unwrap();
    let r = ingest_one(
        root,
        "koha.csv",
        &std::fs::read(data("koha_statistics.csv")).unwrap(),
        &[],
    );
    assert_eq!(r.code, 3);
    std::fs::rename(&r.lake, root.join("data/lake")).unwrap();
    let lake = root.join("data/lake");
    let sites = root.join("data/sites.toml");
    // The default period is the metric's own table's.
    let out = run(&[
        "metric",
        "circulation",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        sites.to_str().unwrap(),
        "--every",
        "month",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The default period is the day the data spans: a partial month, 1 of its 30 days.
    assert_eq!(
        text(&out.stdout),
        "bucket,circulation,partial,days_covered,bucket_days\n2026-06,4,true,1,30\n"
    );
    // A sessions metric says which table is missing.
    let out = run(&[
        "metric",
        "sessions",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        sites.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no sessions"),
        "{}",
        text(&out.stderr)
    );
    // The usage report renders what it can and names what the lake lacks.
    let out = run(&[
        "run",
        "pipelines/monthly-usage.toml",
        "--root",
        root.to_str().unwrap(),
        "--period",
        "2026-06",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let md = std::fs::read_to_string(root.join("reports/monthly-usage/2026-06/usage.md")).unwrap();
    assert!(md.contains("## Circulation"), "{md}");
    assert!(
        !md.contains("## Public computers"),
        "no sessions, no section"
    );
    assert!(md.contains("the lake has no sessions"), "{md}");
}

#[test]
fn defect_5_the_branch_of_a_ticket_from_department_or_a_chosen_column() {
    // Standard columns only: the branch is the Department.
    let file = "\u{feff}Ticket Number,Date Created,Subject,From,From Email,Priority,Department,Help Topic,Source,Current Status,Last Updated,SLA Due Date,Due Date,Closed Date,Overdue,Merged,Linked,Answered,Agent Assigned,Team Assigned,Thread Count,Reopen Count,Attachment Count,Task Count\n\
                482915,\"2026-06-01 09:15:00\",\"PC 7 frozen\",\"Jane Doe\",jane@example.org,High,Town,\"Public PCs\",Web,Closed,\"2026-06-01 11:00:00\",,,\"2026-06-01 10:45:00\",No,No,No,Yes,\"Sam Tech\",,3,,,\n\
                482916,\"2026-06-02 13:00:00\",\"Printer jam\",\"Bob Roe\",bob@example.org,Normal,Night,Printers,Phone,Open,\"2026-06-02 13:00:00\",,,,No,No,No,No,,,1,,,\n";
    let (_d, r) = fresh("tickets.csv", file.as_bytes(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.query("SELECT ticket_id, site FROM work_orders ORDER BY ticket_id"),
        "ticket_id,site\n482915,T1\n482916,N1\n"
    );
    // The help topic names the branch here: --site-column chooses it.
    let file2 = file
        .replace(",Town,\"Public PCs\"", ",IT,Night")
        .replace(",Night,Printers", ",IT,Town");
    let (_d, r) = fresh(
        "tickets.csv",
        file2.as_bytes(),
        &["--site-column", "Help Topic"],
    );
    assert_eq!(
        r.query("SELECT ticket_id, site FROM work_orders ORDER BY ticket_id"),
        "ticket_id,site\n482915,N1\n482916,T1\n"
    );
    // Without the option the Department (IT) is not a site: the topic that is, is taken.
    let (_d, r) = fresh("tickets.csv", file2.as_bytes(), &[]);
    assert_eq!(
        r.query("SELECT ticket_id, site FROM work_orders ORDER BY ticket_id"),
        "ticket_id,site\n482915,N1\n482916,T1\n"
    );
    // tally formats shows the list.
    let out = run(&["formats"]);
    assert!(
        text(&out.stdout)
            .contains("site from: Location, then Branch, then Department, then Help Topic;")
    );
    // A --site-column the file lacks fails the file, naming it.
    let (_d, r) = fresh("tickets.csv", file.as_bytes(), &["--site-column", "Branch"]);
    assert_eq!(r.code, 1);
    assert!(r.file()["error"].as_str().unwrap().contains("Branch"));
}

#[test]
fn defect_6_numeric_site_codes_as_aliases_and_sites_suggest() {
    let dir = tempfile::tempdir().unwrap();
    // Chicago's numeric LOCATION ids (1 = Albany Park, 3 = Altgeld in the Locations file).
    let file = "LOCATION,JANUARY,FEBRUARY,MARCH,APRIL,MAY,JUNE,JULY,AUGUST,SEPTEMBER,OCTOBER,NOVEMBER,DECEMBER,YTD\n\
                1,10,10,10,10,10,10,10,10,10,10,10,10,120\n\
                3,5,5,5,5,5,5,5,5,5,5,5,5,60\n";
    let sites = std::fs::read_to_string(data("sites.toml")).unwrap();
    let chicago = sites.replace(
        "code = \"T1\"\nname = \"Town\"",
        "code = \"T1\"\nname = \"Albany Park\"",
    );
    std::fs::write(dir.path().join("sites.toml"), &chicago).unwrap();
    let csv = dir.path().join("sessions_2017.csv");
    std::fs::write(&csv, file).unwrap();
    let lake = dir.path().join("lake");
    let ingest = |sites: &Path| {
        run(&[
            "ingest",
            "--lake",
            lake.to_str().unwrap(),
            "--sites",
            sites.to_str().unwrap(),
            "--json",
            csv.to_str().unwrap(),
        ])
    };
    let out = ingest(&dir.path().join("sites.toml"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    // sites suggest: the unknown values with their rows; the Locations file makes 1 an
    // alias of Albany Park (T1), and 3 a new site named Altgeld.
    let out = run(&[
        "sites",
        "suggest",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        dir.path().join("sites.toml").to_str().unwrap(),
        "--names",
        data("real/chicago/Libraries_-_Locations__Hours_and_Contact_Information.csv")
            .to_str()
            .unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("\"1\": totals 12 = \"Albany Park\""), "{s}");
    assert!(s.contains("code = \"T1\":\naliases = [\"1\"]"), "{s}");
    assert!(s.contains("code = \"3\"\nname = \"Altgeld\""), "{s}");
    // With the aliases pasted (numbers allowed), the next file's ids are the site.
    let aliased = chicago.replace(
        "aliases = [\"TOWN-BRANCH\"]",
        "aliases = [\"TOWN-BRANCH\", 1]",
    );
    std::fs::write(dir.path().join("sites2.toml"), aliased).unwrap();
    std::fs::remove_dir_all(&lake).unwrap();
    let out = ingest(&dir.path().join("sites2.toml"));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["unknown_sites"], serde_json::json!(["3"]));
}

#[test]
fn doctor_reads_every_real_fixture_without_touching_a_lake() {
    let dir = data("real");
    let mut files = Vec::new();
    // The survey file the demo ships lives in data/imls.
    let mut stack = vec![dir, Path::new(env!("CARGO_MANIFEST_DIR")).join("data/imls")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|x| x == "csv" || x == "hist" || x == "Z")
            {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 14, "{files:?}");
    for f in &files {
        let out = run(&[
            "doctor",
            "--sites",
            "tests/data/sites.toml",
            "--json",
            f.to_str().unwrap(),
        ]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: {e}: {}", f.display(), text(&out.stderr)));
        let d = &json[0];
        if d["error"].is_null() {
            assert_eq!(out.status.code(), Some(0), "{}", f.display());
            assert!(d["format"].as_str().is_some_and(|s| !s.is_empty()), "{d}");
            assert_eq!(
                d["rows_read"].as_u64(),
                Some(
                    d["rows_accepted"].as_u64().unwrap()
                        + d["rows_quarantined"].as_u64().unwrap()
                        + d["rows_excluded"].as_u64().unwrap()
                ),
                "{d}"
            );
            assert!(!d["columns_used"].as_array().unwrap().is_empty(), "{d}");
        } else {
            // A file tally cannot read (a branch directory, the survey's national file
            // without --format) fails with what to do, exit 1.
            assert_eq!(out.status.code(), Some(1), "{}", f.display());
            assert!(d["error"].as_str().unwrap().contains("--format"), "{d}");
        }
    }
    // A known fixture, in words: format and why, columns, sites, quarantine samples.
    let out = run(&[
        "doctor",
        "--sites",
        "tests/data/sites.toml",
        data("koha_statistics.csv").to_str().unwrap(),
    ]);
    let s = text(&out.stdout);
    for want in [
        "format: koha-statistics -> table circulation (detected: header has datetime, branch, type and itemnumber)",
        "rows: 9 read; 6 would be stored, 1 quarantined, 2 excluded",
        "sites: N1 (1), T1 (5)",
        "excluded by rule: not_circulation 2",
        "line 10: bad_time datetime: unreadable date-time",
    ] {
        assert!(s.contains(want), "{want:?} in {s}");
    }
}

// --- Variants: one constructed file each -----------------------------------------------

/// Expected fate of a variant file: rows accepted, quarantined, excluded.
type Fates = (u64, u64, u64);

fn variant(
    name: &str,
    bytes: &[u8],
    args: &[&str],
    format: &str,
    fates: Fates,
) -> (tempfile::TempDir, Run) {
    let (d, r) = fresh(name, bytes, args);
    assert_ne!(r.code, 1, "{name}: {}", r.stderr);
    assert_eq!(r.file()["format"], format, "{name}: {}", r.file());
    assert_eq!(
        (
            r.n("rows_accepted"),
            r.n("rows_quarantined"),
            r.n("rows_excluded")
        ),
        fates,
        "{name}: {}",
        r.file()
    );
    (d, r)
}

#[test]
fn envisionware_variants() {
    // E1 strad_bci (NYPL), no station column.
    variant(
        "e1.csv",
        b"pcrKey,pcrUserID,pcrMinutesUsed,pcrDateTime,pcrBranch,pcrArea,pcrUserData1\n10000000,21234567890123,55,2026-06-10 10:02:13,T1,Adult,\n10000001,2555500000000,30,2026-06-10 10:02:13,T1,Adult,1\n",
        &[],
        "envisionware",
        (2, 0, 0),
    );
    // E2 tbluserpcrdetail, minimal (MCLD): no pcrUserID, station in pcrPC, padded values.
    let (_d, r) = variant(
        "e2.csv",
        b"pcrKey,pcrMinutesUsed,pcrPC,pcrDateTime,pcrBranch,pcrArea\n884211,45,MCL-PC-014,2026-06-10 09:31:07,T1   ,ADULT     \n884212,12,MCL-PC-002,2026-06-10 09:40:55,T1   ,TEEN      \n",
        &[],
        "envisionware",
        (2, 0, 0),
    );
    assert_eq!(
        r.query("SELECT station, user_type FROM sessions ORDER BY station"),
        "station,user_type\nMCL-PC-002,unknown\nMCL-PC-014,unknown\n"
    );
    // E3 tbluserpcrdetail, full row: start and stop, guest flag, MySQL \N.
    let (_d, r) = variant(
        "e3.csv",
        b"pcrKey,pcrDateTime,pcrBranch,pcrArea,pcrPC,pcrUserID,pcrIsGuest,pcrStartTime,pcrStopTime,pcrMinutesUsed,pcrStatus,pcrWhereMade,pcrUserData1\n\
5521907,2026-06-02 13:58:40,T1,Adult,DT-PC-07,27413000123456,0,2026-06-02 14:00:02,2026-06-02 14:58:10,58,512,2,\\N\n\
5521908,2026-06-02 14:01:15,T1,Adult,DT-PC-03,G0042,1,2026-06-02 14:01:20,\\N,3,1024,1,\\N\n",
        &[],
        "envisionware",
        (2, 0, 0),
    );
    assert_eq!(
        r.query("SELECT station, duration_s, user_type FROM sessions ORDER BY station"),
        "station,duration_s,user_type\nDT-PC-03,180,guest\nDT-PC-07,3488,patron\n"
    );
}

const LIBKI: &str = "instance,id,username,client_name,client_location,client_type,action,created_on,anonymized,session_id,info\n";

#[test]
fn libki_variants() {
    // L1: SESSION_DELETED has no location; FORCE_LOGOUT carries the staff web session and
    // names the patron in info; UNLOCK starts a guest session that a LOGOUT ends.
    let file = format!(
        "{LIBKI},1,2123400,PC-1,T1,,LOGIN,2026-06-10 10:15:42,0,sid-a,\"{{\"\"client_version\"\":\"\"2.2.3\"\"}}\"\n\
,2,2123400,PC-1,,,SESSION_DELETED,2026-06-10 11:16:00,0,sid-a,\n\
,3,2123401,PC-2,T1,,LOGIN,2026-06-10 10:20:00,0,sid-b,\n\
,4,staffer,PC-2,T1,,FORCE_LOGOUT,2026-06-10 10:50:00,0,web-staff-1,\"{{\"\"username\"\":\"\"2123401\"\"}}\"\n\
,5,staffer,PC-3,T1,,UNLOCK,2026-06-10 12:00:00,0,web-staff-1,\n\
,6,guest_PC-3,PC-3,T1,,LOGOUT,2026-06-10 12:40:00,0,web-staff-1,\n"
    );
    let (_d, r) = variant("l1.csv", file.as_bytes(), &[], "libki", (6, 0, 0));
    assert_eq!(
        r.query("SELECT station, duration_s, user_type FROM sessions ORDER BY station"),
        "station,duration_s,user_type\nPC-1,3618,patron\nPC-2,1800,patron\nPC-3,2400,guest\n"
    );
    // L3/L4: before session_id (2018) and before created_on (when): pairs by user and client.
    let old = "id,username,client_name,client_location,action,when\n1,2123400,PC-1,T1,LOGIN,2017-06-10 10:00:00\n2,2123400,PC-1,T1,LOGOUT,2017-06-10 10:30:00\n";
    variant("l4.csv", old.as_bytes(), &[], "libki", (2, 0, 0));
    // Before 2013: clientname, no location: --site gives it (without, the file says so).
    let older = "id,username,clientname,action,when\n1,2123400,PC-1,LOGIN,2012-06-10 10:00:00\n2,2123400,PC-1,LOGOUT,2012-06-10 10:30:00\n";
    variant(
        "l5.csv",
        older.as_bytes(),
        &["--site", "T1"],
        "libki",
        (2, 0, 0),
    );
    let (_d, r) = fresh("l5.csv", older.as_bytes(), &[]);
    assert_eq!(r.code, 1);
    assert!(r.file()["error"].as_str().unwrap().contains("--site"));
}

#[test]
fn windows_variants() {
    // W2: Level instead of Keywords, 12-hour times with a leading zero.
    let msg = "An account was successfully logged on.\n\nSubject:\n\tAccount Name:\t\tPC07$\n\tLogon ID:\t\t0x3E7\n\nLogon Information:\n\tLogon Type:\t\t2\n\nNew Logon:\n\tAccount Name:\t\tpatron07\n\tLogon ID:\t\t0x3E7A21\n";
    let off = "An account was logged off.\n\nSubject:\n\tAccount Name:\t\tpatron07\n\tLogon ID:\t\t0x3E7A21\n\nLogon Type:\t\t\t2\n";
    let w2 = format!(
        "Level,Date and Time,Source,Event ID,Task Category\nInformation,06/10/2026 09:00:55 AM,Microsoft-Windows-Security-Auditing,4624,Logon,\"{msg}\"\nInformation,06/10/2026 09:47:12 AM,Microsoft-Windows-Security-Auditing,4634,Logoff,\"{off}\"\n"
    );
    variant(
        "T1-PC07.csv",
        w2.as_bytes(),
        &["--site", "T1"],
        "windows-events",
        (2, 0, 0),
    );
    // W3: German Event Viewer: header, day-first dates with seconds, German labels.
    let de_msg = "Ein Konto wurde erfolgreich angemeldet.\n\nNeue Anmeldung:\n\tKontoname:\t\tpatron07\n\tAnmelde-ID:\t\t0x3E7A21\n\nAnmeldeinformationen:\n\tAnmeldetyp:\t\t2\n";
    let de_off = "Ein Konto wurde abgemeldet.\n\nAntragsteller:\n\tKontoname:\t\tpatron07\n\tAnmelde-ID:\t\t0x3E7A21\n";
    let w3 = format!(
        "Schlüsselwörter,Datum und Uhrzeit,Quelle,Ereignis-ID,Aufgabenkategorie\nÜberwachung erfolgreich,10.06.2026 09:00:55,Microsoft-Windows-Security-Auditing,4624,Anmelden,\"{de_msg}\"\nÜberwachung erfolgreich,10.06.2026 09:47:12,Microsoft-Windows-Security-Auditing,4634,Abmelden,\"{de_off}\"\n"
    );
    let (_d, r) = variant(
        "T1-PC08.csv",
        w3.as_bytes(),
        &["--site", "T1"],
        "windows-events",
        (2, 0, 0),
    );
    assert_eq!(
        r.query("SELECT duration_s FROM sessions"),
        "duration_s\n2777\n"
    );
    // Messages in a language tally does not read: the file fails with how to export it.
    let fr = w3
        .replace("Anmelde-ID", "ID d'ouverture")
        .replace("Kontoname", "Nom du compte");
    let (_d, r) = fresh("T1-PC09.csv", fr.as_bytes(), &["--site", "T1"]);
    assert_eq!(r.code, 1);
    assert!(r.file()["error"].as_str().unwrap().contains("Get-WinEvent"));
    // W4: PowerShell Get-WinEvent | Export-Csv, with Windows PowerShell's #TYPE line.
    let w4 = format!(
        "#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\n\"TimeCreated\",\"Id\",\"MachineName\",\"Message\"\n\"6/10/2026 9:00:55 AM\",\"4624\",\"T1-PC10\",\"{msg}\"\n\"6/10/2026 9:47:12 AM\",\"4634\",\"T1-PC10\",\"{off}\"\n"
    );
    let (_d, r) = variant(
        "security.csv",
        w4.as_bytes(),
        &["--site", "T1"],
        "windows-events",
        (2, 0, 0),
    );
    assert_eq!(
        r.query("SELECT station FROM sessions"),
        "station\nT1-PC10\n"
    );
}

#[test]
fn symphony_variants() {
    // S4: a padded item id is the same item as an unpadded one.
    let lines = "E202609280833001220R ^S53CVFFADMIN^FEEPLT1^NQ31221095677535  ^UO21221000000001^OM^^O00064\n\
E202609280933001220R ^S54EVFFADMIN^FEEPLT1^NQ31221095677535^^O00064\n";
    let (_d, r) = variant(
        "x.hist",
        lines.as_bytes(),
        &["--strip-prefix", "EPL"],
        "symphony-hist",
        (2, 0, 0),
    );
    assert_eq!(
        r.query("SELECT COUNT(DISTINCT item_key) AS items FROM circulation"),
        "items\n1\n"
    );
    // .hist.Z that is gzip inside.
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, lines.as_bytes()).unwrap();
    let r = ingest_one(
        dir.path(),
        "202609.hist.Z",
        &gz.finish().unwrap(),
        &["--strip-prefix", "EPL"],
    );
    assert_eq!(r.file()["encoding"], "utf-8, gzip");
    assert_eq!(r.n("rows_accepted"), 2);
    // S6: a logprint dump is refused with what to send.
    let (_d, r) = fresh(
        "dump.txt",
        b"8/1/2008,08:05:22 Station: 0634 Request: Sequence #: 86 Command: Discharge Item station login user access:CIRC\n",
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.file()["error"]
            .as_str()
            .unwrap()
            .contains("Unicorn/Logs/Hist")
    );
}

#[test]
fn koha_and_evergreen_variants() {
    // K1, semicolon delimiter (CSVDelimiter), quoted datetimes, empty NULLs, pre-19.05 columns.
    variant(
        "stats.csv",
        b"datetime;branch;proccode;value;type;other;usercode;itemnumber;itemtype;borrowernumber;associatedborrower;ccode;location\n\"2026-03-05 14:02:11\";T1;;0.0000;issue;;;41237;BK;5127;;NF;GEN\n\"2026-03-05 14:05:40\";T1;;0.0000;return;;;41237;BK;;;NF;GEN\n",
        &[],
        "koha-statistics",
        (2, 0, 0),
    );
    // K2 tab separated.
    variant(
        "stats.tsv",
        b"datetime\tbranch\tvalue\ttype\tother\titemnumber\titemtype\tlocation\tborrowernumber\tccode\tcategorycode\tinterface\n2026-03-05 14:02:11\tT1\t0\trenew\t\t41237\tBK\tGEN\t5127\tNF\tPT\tcron\n",
        &[],
        "koha-statistics",
        (1, 0, 0),
    );
    // O2: renewals (3.18-22.05), O3: no issue_id, date-only values.
    variant(
        "old.csv",
        b"borrowernumber,itemnumber,date_due,branchcode,returndate,lastreneweddate,renewals,timestamp,issuedate\n5127,41237,2011-03-18,T1,2011-03-10,2011-03-08,1,2011-03-10 10:00:00,2011-03-04\n",
        &[],
        "koha-old-issues",
        (1, 0, 0),
    );
    // Evergreen: a renewal closes its parent (stop_fines RENEW): one checkout, one renewal,
    // one real checkin, not two.
    let (_d, r) = variant(
        "circ.csv",
        b"id,usr,xact_start,target_copy,circ_lib,checkin_time,checkin_lib,phone_renewal,desk_renewal,opac_renewal,auto_renewal,stop_fines,parent_circ\n\
9001,312,2026-01-02 10:00:00.418233-06,55120,T1,2026-01-16 09:12:44.1-06,T1,f,f,f,f,RENEW,\n\
9077,312,2026-01-16 09:12:44.1-06,55120,T1,2026-01-20 12:00:00-06,T1,f,t,f,f,CHECKIN,9001\n",
        &[],
        "evergreen-circ",
        (2, 0, 0),
    );
    assert_eq!(
        r.query("SELECT event, COUNT(*) AS n FROM circulation GROUP BY event ORDER BY event"),
        "event,n\ncheckin,1\ncheckout,1\nrenewal,1\n"
    );
}

#[test]
fn ticket_variants() {
    // O1 osTicket 1.9: Date, Assigned To, 0/1 booleans.
    variant(
        "ost19.csv",
        b"\xEF\xBB\xBFTicket Number,Date,Subject,From,From Email,Priority,Department,Help Topic,Source,Current Status,Last Updated,Due Date,Overdue,Answered,Assigned To,Agent Assigned,Team Assigned,Thread Count,Attachment Count,Branch\n482915,\"2015-03-05 14:22:10\",\"PC 12 will not boot\",\"Jane Staff\",jane@example.org,Normal,IT,Hardware,Web,Open,\"2015-03-05 15:01:44\",,0,1,\"Sam Tech\",\"Sam Tech\",,3,0,Town\n",
        &[],
        "osticket",
        (1, 0, 0),
    );
    // O2 osTicket 1.10: the formula guard, HTML entities, semicolons.
    let (_d, r) = variant(
        "ost110.csv",
        b"\xEF\xBB\xBFTicket Number;Date Created;Subject;From;From Email;Priority;Department;Help Topic;Source;Current Status;Last Updated;Due Date;Overdue;Answered;Agent Assigned;Team Assigned;Thread Count;Attachment Count;Branch\n482915;\"2017-03-05 14:22:10\";\"'-PC 12 will not boot\";\"Jane Staff\";jane@example.org;Normal;\"Branch Support\";\"IT &amp; Facilities\";Web;Open;\"2017-03-05 15:01:44\";;0;1;\"Sam Tech\";;3;0;Night\n",
        &[],
        "osticket",
        (1, 0, 0),
    );
    assert_eq!(
        r.query("SELECT category, site FROM work_orders"),
        "category,site\nIT & Facilities,N1\n"
    );
    // RT before 5.0.6: CreatedRelative and QueueName: the file fails with what to export.
    let (_d, r) = fresh(
        "rt.tsv",
        b"id\tSubject\tStatus\tQueueName\tOwner\tPriority\tCreatedRelative\n1\tPC\topen\tIT\tNobody\t0\t3 hours ago\n",
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.file()["error"].as_str().unwrap().contains("Created"));
    // RT with dates: "Not set" for an open ticket, the default date format, Low/Medium/High.
    let (_d, r) = variant(
        "rt2.tsv",
        b"id\tSubject\tStatus\tQueue\tOwner\tPriority\tCreated\tResolved\n7\tPC\topen\tIT\tNobody\t50\tTue Jun 09 14:22:10 2026\tNot set\n8\tScanner\tresolved\tIT\tjdoe\t100\t2026-06-09 10:00:00\t2026-06-10 10:00:00\n",
        &[],
        "rt",
        (2, 0, 0),
    );
    assert_eq!(
        r.query("SELECT ticket_id, priority, resolved IS NULL AS open FROM work_orders ORDER BY ticket_id"),
        "ticket_id,priority,open\n7,normal,true\n8,high,false\n"
    );
    // GLPI in French, semicolons, a trailing delimiter, a spaced id.
    let (_d, r) = variant(
        "glpi.csv",
        "ID;Titre;Statut;Date d'ouverture;Priorité;Catégorie;Lieu;Date de résolution;\n5 732 943;Écran noir;En cours (Attribué);2026-06-05 09:00;Haute;Matériel;Town;;\n".as_bytes(),
        &[],
        "glpi",
        (1, 0, 0),
    );
    assert_eq!(
        r.query("SELECT ticket_id, status, priority, site FROM work_orders"),
        "ticket_id,status,priority,site\n5732943,in_progress,high,T1\n"
    );
    // Jira, 24-hour dates.
    variant(
        "jira.csv",
        b"Summary,Issue key,Issue id,Issue Type,Status,Priority,Assignee,Created,Resolved,Custom field (Branch)\nPC down,IT-1,10001,Incident,Done,Medium,Ana,24/Jun/26 17:39,25/Jun/26 09:05,Night\n",
        &[],
        "jira",
        (1, 0, 0),
    );
}

#[test]
fn inventory_and_totals_variants() {
    // Snipe-IT's Custom Asset Report: other titles, status types in brackets, a decimal
    // comma, a two-digit year.
    let (_d, r) = variant(
        "assets.csv",
        b"Asset Tag,Asset Name,Category,Model,Model No.,Status,Location,Purchased,Cost\nPC-1,,Public Computers,OptiPlex 7010,D17M,Ready to Deploy (deployable),Town,1/23/23,\"1.099,00\"\nPC-2,,Public Computers,OptiPlex 7010,D17M,Broken (undeployable),Night,2022-05-01,899\n",
        &[],
        "snipe-it",
        (2, 0, 0),
    );
    assert_eq!(
        r.query("SELECT asset_tag, CAST(purchased AS VARCHAR) AS p, cost, status FROM assets ORDER BY asset_tag"),
        "asset_tag,p,cost,status\nPC-1,2023-01-23,1099.0,spare\nPC-2,2022-05-01,899.0,spare\n"
    );
    // Totals: a Grand Total row is excluded (its branches are counted); Jul-13 labels.
    let (_d, r) = variant(
        "visits.csv",
        b"Month,Branch,Visits\nJul-13,Town,100\nJul-13,Night,50\nJul-13,Grand Total,150\n",
        &[],
        "totals-long",
        (2, 0, 1),
    );
    assert_eq!(
        r.query(
            "SELECT CAST(period_start AS VARCHAR) AS m, SUM(value) AS v FROM totals GROUP BY m"
        ),
        "m,v\n2013-07-01,150.0\n"
    );
}

#[test]
fn meraki_variants() {
    // The dashboard's volumes carry units; a CSV made from the API has its field names.
    let (_d, r) = variant(
        "clients.csv",
        b"Description,MAC address,IPv4 address,Usage,First seen,Last seen,SSID\nphone,00:11:22:33:44:55,10.0.0.2,1.5 MB,2026-06-10 10:00:00,2026-06-10 11:00:00,Library\n",
        &["--site", "T1"],
        "meraki",
        (1, 0, 0),
    );
    assert_eq!(r.query("SELECT bytes FROM wifi"), "bytes\n1572864\n");
    variant(
        "api.csv",
        b"id,mac,description,firstSeen,lastSeen,ssid\nk1,00:11:22:33:44:66,phone,1781085600,1781089200,Library\n",
        &["--site", "T1"],
        "meraki",
        (1, 0, 0),
    );
}
