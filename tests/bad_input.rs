//! Every kind of bad input a library's exports contain, each with the clear failure,
//! quarantine reason or exclusion rule it must get. For every file that is read,
//! rows_read = accepted + quarantined + excluded; a file that fails leaves the lake as
//! it was.

use std::path::Path;

use crate::common::*;

const EW: &str =
    "pcrKey,pcrUserID,pcrMinutesUsed,pcrDateTime,pcrBranch,pcrArea,pcrUserData1,pcrMachineName\n";
const LIBKI: &str = "instance,id,username,client_name,client_location,client_type,action,created_on,anonymized,session_id,info\n";

fn ew_row(i: u32, minutes: &str, when: &str, branch: &str) -> String {
    format!("{i},2122100000{i:04},{minutes},{when},{branch},Adult,,PC{i}\n")
}

/// What ingest said about one file.
struct Outcome {
    code: i32,
    json: serde_json::Value,
    stderr: String,
    ledger_entries: usize,
    /// The quarantine files' rows: code, column, reason, masked row.
    quarantine: Vec<[String; 4]>,
}

fn ingest(name: &str, bytes: &[u8], args: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, bytes).unwrap();
    ingest_files(dir.path(), &[&file], args)
}

fn ingest_files(dir: &Path, files: &[&Path], args: &[&str]) -> Outcome {
    let lake = dir.join("lake");
    let mut cmd = tally(&[
        "ingest",
        "--lake",
        lake.to_str().unwrap(),
        "--sites",
        "tests/data/sites.toml",
        "--json",
    ]);
    cmd.env("TALLY_KEY", TEST_KEY).args(args).args(files);
    let out = cmd.output().unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    let ledger_entries = std::fs::read_dir(lake.join("_ledger"))
        .map(|d| d.count())
        .unwrap_or(0);
    if let Some(files) = json.as_array() {
        for f in files.iter().filter(|f| f["status"] != "failed") {
            let n = |k: &str| f[k].as_u64().unwrap();
            assert_eq!(
                n("rows_read"),
                n("rows_accepted") + n("rows_quarantined") + n("rows_excluded"),
                "{f}"
            );
        }
    }
    Outcome {
        code: out.status.code().unwrap_or(-1),
        json,
        stderr: text(&out.stderr),
        ledger_entries,
        quarantine: quarantine_rows(&lake),
    }
}

impl Outcome {
    fn file(&self) -> &serde_json::Value {
        &self.json[0]
    }

    /// The file failed with a message containing every piece, and nothing was written.
    fn fails(&self, pieces: &[&str]) {
        assert_eq!(self.code, 1, "{}", self.stderr);
        assert_eq!(self.file()["status"], "failed");
        let err = self.file()["error"].as_str().unwrap();
        for p in pieces {
            assert!(err.contains(p), "error lacks {p:?}: {err}");
        }
        assert_eq!(
            self.ledger_entries, 0,
            "a failed file leaves the lake as it was"
        );
    }

    /// `n` rows quarantined with this code in this column with a reason that says `says`
    /// in the quarantine file (the ledger counts them under the code and column).
    fn quarantined(&self, code: &str, column: &str, says: &str, n: u64) {
        assert_eq!(self.code, 3, "{}", self.stderr);
        assert!(
            reason_rows(self.file(), code, column) >= n,
            "{}",
            self.file()
        );
        let said = self
            .quarantine
            .iter()
            .filter(|[c, col, reason, _]| c == code && col == column && reason.contains(says))
            .count() as u64;
        assert_eq!(said, n, "{says:?} in {:?}", self.quarantine);
    }

    fn excluded(&self, code: &str, n: u64) {
        assert_eq!(self.file()["excluded"][code], n, "{}", self.file());
    }

    fn accepted(&self, n: u64) {
        assert!(self.code == 0 || self.code == 3, "{}", self.stderr);
        assert_eq!(self.file()["rows_accepted"], n, "{}", self.file());
    }
}

#[test]
fn empty_and_blank_files_fail() {
    ingest("e.csv", b"", &[]).fails(&["e.csv", "the file is empty"]);
    ingest("b.csv", b"  \n\r\n", &[]).fails(&["b.csv", "the file is empty"]);
}

#[test]
fn header_only_is_zero_rows() {
    let o = ingest("h.csv", EW.as_bytes(), &[]);
    assert_eq!(o.code, 0);
    assert_eq!(o.file()["rows_read"], 0);
}

#[test]
fn truncated_last_line_is_quarantined() {
    let text = format!(
        "{EW}{}3,21221",
        ew_row(1, "30", "2026-06-10 10:00:00", "T1")
    );
    let o = ingest("t.csv", text.as_bytes(), &[]);
    o.quarantined("wrong_field_count", "", "wrong number of fields", 1);
    o.accepted(1);
}

#[test]
fn binary_garbage_fails() {
    ingest("g.csv", b"\x00\x01\x02PK\x03\x04garbage", &[]).fails(&["g.csv", "binary data"]);
    // Bytes that are not text in any encoding tally reads still get a clear no.
    ingest("h.csv", &[0xff, 0xfe, 0xfd, b'\n', 0x81, 0x82], &[])
        .fails(&["h.csv", "cannot tell the format"]);
}

#[test]
fn a_format_for_another_table_fails() {
    let text = format!("{EW}{}", ew_row(1, "30", "2026-06-10 10:00:00", "T1"));
    ingest("s.csv", text.as_bytes(), &["--table", "work_orders"])
        .fails(&["holds sessions rows", "--table is work_orders"]);
}

#[test]
fn encodings_and_line_endings() {
    let row = ew_row(1, "30", "2026-06-10 10:00:00", "T1");
    let o = ingest("bom.csv", format!("\u{feff}{EW}{row}").as_bytes(), &[]);
    o.accepted(1);
    assert_eq!(o.file()["encoding"], "utf-8 with BOM");
    ingest(
        "crlf.csv",
        format!("{EW}{row}").replace('\n', "\r\n").as_bytes(),
        &[],
    )
    .accepted(1);
    // Windows-1252: é is one byte, 0xE9.
    let mut koha = b"datetime,branch,value,type,other,itemnumber,itemtype,location,borrowernumber,ccode,categorycode,interface\n".to_vec();
    koha.extend_from_slice(b"2026-06-10 10:00:00,T1,0,issue,,1,BK,Caf\xe9,5,FIC,PT,intranet\n");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cp1252.csv");
    std::fs::write(&file, koha).unwrap();
    let o = ingest_files(dir.path(), &[&file], &[]);
    o.accepted(1);
    assert_eq!(o.file()["encoding"], "windows-1252");
    let out = run(&[
        "query",
        "--lake",
        dir.path().join("lake").to_str().unwrap(),
        "--format",
        "csv",
        "SELECT location FROM circulation",
    ]);
    assert!(text(&out.stdout).contains("Café"));
}

#[test]
fn semicolon_and_tab_delimiters() {
    let row = ew_row(1, "30", "2026-06-10 10:00:00", "T1");
    ingest(
        "semi.csv",
        format!("{EW}{row}").replace(',', ";").as_bytes(),
        &[],
    )
    .accepted(1);
    ingest(
        "tab.tsv",
        format!("{EW}{row}").replace(',', "\t").as_bytes(),
        &[],
    )
    .accepted(1);
}

#[test]
fn quoted_delimiters_and_newlines_keep_line_numbers_right() {
    // Record 1 spans lines 2-3; the bad record after it is on line 4.
    let text = format!(
        "{EW}1,21221000000001,30,2026-06-10 10:00:00,T1,\"Adult, \"\"quiet\"\"\nroom\",,PC1\n{}",
        ew_row(2, "-1", "2026-06-10 11:00:00", "T1")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.csv");
    std::fs::write(&file, text).unwrap();
    let o = ingest_files(dir.path(), &[&file], &[]);
    o.accepted(1);
    o.quarantined("bad_number", "pcrMinutesUsed", "minutes out of range", 1);
    let batch = o.file()["batch"].as_str().unwrap();
    let q =
        std::fs::read_to_string(dir.path().join(format!("lake/_quarantine/{batch}.csv"))).unwrap();
    assert!(
        q.lines().nth(1).unwrap().contains(",4,pcrMinutesUsed,"),
        "{q}"
    );
}

#[test]
fn missing_extra_and_renamed_columns() {
    ingest(
        "m.csv",
        b"pcrKey,pcrUserID,pcrDateTime\n1,2,2026-06-10 10:00:00\n",
        &["--format", "envisionware"],
    )
    .fails(&[
        "m.csv",
        "line 1",
        "missing required column(s) [\"pcrMinutesUsed\", \"pcrBranch\"]",
        "expected",
    ]);
    let extra = format!(
        "{},Notes\n{}",
        EW.trim_end(),
        ew_row(1, "30", "2026-06-10 10:00:00", "T1").replace('\n', ",hello\n")
    );
    let o = ingest("x.csv", extra.as_bytes(), &[]);
    o.accepted(1);
    assert!(o.stderr.contains("extra column ignored"), "{}", o.stderr);
    let renamed = "PCRKEY, PcrUserId ,PCRMINUTESUSED,pcr DateTime,PCRBRANCH,pcrArea,pcrUserData1,pcrMachineName\n".to_string()
        + &ew_row(1, "30", "2026-06-10 10:00:00", "T1");
    ingest("r.csv", renamed.as_bytes(), &[]).accepted(1);
}

#[test]
fn a_ten_megabyte_field_is_quarantined() {
    let huge = "x".repeat(10 * 1024 * 1024);
    let text = format!(
        "{EW}{}{}",
        ew_row(1, "30", "2026-06-10 10:00:00", "T1"),
        ew_row(2, "30", "2026-06-10 11:00:00", &huge)
    );
    let o = ingest("big.csv", text.as_bytes(), &[]);
    o.quarantined("field_too_long", "pcrBranch", "field too long", 1);
    o.accepted(1);
}

#[test]
fn impossible_values_are_quarantined() {
    let text = format!(
        "{EW}{}{}{}{}{}{}",
        ew_row(1, "-5", "2026-06-10 10:00:00", "T1"),
        ew_row(2, "100000", "2026-06-10 10:00:00", "T1"),
        ew_row(3, "ten", "2026-06-10 10:00:00", "T1"),
        ew_row(4, "30", "2026-06-10 25:00:00", "T1"),
        ew_row(5, "30", "2026-06-10 10:00:00", ""),
        ew_row(6, "30", "6/21/2026 16:14", "T1"),
    );
    let o = ingest("v.csv", text.as_bytes(), &[]);
    o.quarantined("bad_number", "pcrMinutesUsed", "minutes out of range", 2);
    assert_eq!(reason_rows(o.file(), "bad_number", "pcrMinutesUsed"), 3);
    assert_eq!(
        o.quarantine
            .iter()
            .filter(|q| q[2].contains("minutes not a whole number"))
            .count(),
        1
    );
    o.quarantined("bad_time", "pcrDateTime", "unreadable date-time", 1);
    o.quarantined("missing_value", "pcrBranch", "pcrBranch is empty", 1);
    // An Excel re-save's 6/21/2026 16:14 is a date.
    o.accepted(1);
}

#[test]
fn end_before_start_and_unpaired_rows() {
    let text = format!(
        "{LIBKI},1,u1,PC1,Night,,LOGIN,2026-06-10 10:00:00,0,s1,\n,2,u1,PC1,Night,,LOGOUT,2026-06-10 09:00:00,0,s1,\n,3,u2,PC2,Night,,LOGOUT,2026-06-10 11:00:00,0,s2,\n"
    );
    let o = ingest("l.csv", text.as_bytes(), &[]);
    o.quarantined(
        "bad_order",
        "created_on",
        "session ends before it starts (end row on line 3)",
        1,
    );
    o.quarantined(
        "bad_order",
        "created_on",
        "session ends before it starts (LOGIN on line 2)",
        1,
    );
    o.quarantined(
        "unpaired",
        "session_id",
        "end row with no LOGIN in this file",
        1,
    );
}

#[test]
fn dst_gap_and_overlap() {
    let text = format!(
        "{EW}{}{}",
        ew_row(1, "30", "2026-03-08 02:30:00", "N1"),
        ew_row(2, "30", "2026-11-01 01:30:00", "N1")
    );
    let o = ingest("d.csv", text.as_bytes(), &[]);
    o.quarantined(
        "dst_gap",
        "pcrDateTime",
        "local time does not exist (skipped by the DST change)",
        1,
    );
    o.accepted(1);
}

#[test]
fn dates_in_four_locale_styles() {
    let header = "Ticket Number,Date Created,Current Status,Priority\n";
    for (style, value) in [
        ("iso", "2026-07-19 09:58:00"),
        ("us", "07/19/2026 09:58 AM"),
        ("day-first", "19/07/2026 09:58"),
        ("jira", "19/Jul/26 9:58 AM"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(format!("{style}.csv"));
        std::fs::write(&file, format!("{header}1,{value},Open,High\n")).unwrap();
        let o = ingest_files(dir.path(), &[&file], &[]);
        o.accepted(1);
        let out = run(&[
            "query",
            "--lake",
            dir.path().join("lake").to_str().unwrap(),
            "--format",
            "csv",
            "SELECT STRFTIME(opened, '%Y-%m-%d %H:%M') AS t FROM work_orders",
        ]);
        assert!(
            text(&out.stdout).contains("2026-07-19 14:58"),
            "{style}: {}",
            text(&out.stdout)
        );
    }
}

#[test]
fn duplicates_in_a_file_and_the_same_file_twice() {
    let row = ew_row(1, "30", "2026-06-10 10:00:00", "T1");
    let o = ingest("dup.csv", format!("{EW}{row}{row}").as_bytes(), &[]);
    o.accepted(1);
    o.excluded("duplicate_record", 1);
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    std::fs::write(&a, format!("{EW}{row}")).unwrap();
    std::fs::write(&b, format!("{EW}{row}")).unwrap();
    let o = ingest_files(dir.path(), &[&a, &b], &[]);
    assert_eq!(
        o.json[1]["status"], "already_ingested",
        "same bytes, another name"
    );
    assert_eq!(o.ledger_entries, 1);
}

#[test]
fn unknown_sites_are_accepted_and_reported_aliases_map() {
    let text = format!(
        "{EW}{}{}",
        ew_row(1, "30", "2026-06-10 10:00:00", "ZZTOP"),
        ew_row(2, "30", "2026-06-10 10:00:00", "town-branch")
    );
    let o = ingest("u.csv", text.as_bytes(), &[]);
    o.accepted(2);
    assert_eq!(o.file()["unknown_sites"], serde_json::json!(["ZZTOP"]));
}

#[test]
fn unknown_symphony_data_codes_are_noted() {
    let line = "E202108061327182321R ^S01RVFFBIBLIOCOMM^FcNONE^FEEPLMCN^NQ31221317347792^ZZwhat^UO21221026490349^^O00100\n";
    let o = ingest("u.hist", line.as_bytes(), &["--strip-prefix", "EPL"]);
    o.accepted(1);
    assert_eq!(o.file()["notes"]["symphony data code ZZ not read"], 1);
}

#[test]
fn unknown_vendor_words_and_relative_dates() {
    let o = ingest("t.csv", b"Ticket Number,Date Created,Current Status,Priority\n1,2026-06-01 10:00,Sideways,High\n2,2026-06-01 10:00,Open,Whenever\n", &[]);
    o.quarantined(
        "unknown_value",
        "Current Status",
        "unknown status: expected open, in progress, waiting, resolved, closed or cancelled (or the vendor's words for them): got \"Sideways\"",
        1,
    );
    o.quarantined(
        "unknown_value",
        "Priority",
        "unknown priority: expected low, normal, high or urgent: got \"Whenever\"",
        1,
    );
    ingest(
        "rt.tsv",
        b"id\tCreated\tStatus\tQueue\tPriority\n1\t3 hours ago\topen\tIT\t10\n",
        &[],
    )
    .fails(&["relative", "Created", "Resolved"]);
}

#[test]
fn totals_with_text_for_numbers() {
    let o = ingest(
        "totals.csv",
        b"_id,Year,BranchCode,Visits\n1,2020,T1,100\n2,2020,N1,closed\n3,twenty,T1,5\n",
        &[],
    );
    o.quarantined(
        "bad_number",
        "Visits",
        "value not a number: got \"closed\"",
        1,
    );
    o.quarantined("bad_time", "Year", "year not a year", 1);
    o.accepted(1);
}

#[test]
fn broken_json_and_broken_compression_fail() {
    ingest(
        "c.json",
        b"[{\"mac\": \"00:11:22:33:44:55\", ",
        &["--site", "T1"],
    )
    .fails(&["c.json", "not a JSON array"]);
    ingest(
        "x.hist.Z",
        &[0x1f, 0x9d, 0x90, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        &[],
    )
    .fails(&["x.hist.Z", ".Z"]);
}

#[test]
fn a_session_longer_than_a_day_is_quarantined() {
    // Libki writes a crashed session's LOGOUT at the next login, days later.
    let text = format!(
        "{LIBKI},1,u1,PC1,Night,,LOGIN,2026-06-10 10:00:00,0,s1,\n,2,u1,PC1,Night,,LOGOUT,2026-06-13 09:00:00,0,s1,\n"
    );
    let o = ingest("crash.csv", text.as_bytes(), &[]);
    assert_eq!(o.file()["rows_quarantined"], 2);
    o.quarantined("too_long", "created_on", "session longer than a day", 2);
}
