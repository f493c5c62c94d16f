//! Record identity and the streaming engine: records the source tells apart never merge,
//! overlapping exports add only what the lake lacks (as a multiset), every row is
//! accounted for across chunk boundaries, and the engine's buffers stay within the
//! memory budget.

use std::path::Path;

use proptest::prelude::*;
use tally_ingest::{Budget, FileOutcome, IngestOptions, Pseudonymiser};
use tally_lake::Lake;

use crate::common::*;

const EW: &str =
    "pcrKey,pcrUserID,pcrMinutesUsed,pcrDateTime,pcrBranch,pcrArea,pcrUserData1,pcrMachineName\n";
const EW_NO_KEY: &str =
    "pcrUserID,pcrMinutesUsed,pcrDateTime,pcrBranch,pcrArea,pcrUserData1,pcrMachineName\n";
const KOHA: &str = "datetime,branch,value,type,other,itemnumber,itemtype,location,borrowernumber,ccode,categorycode,interface\n";

/// Ingests `files` (name, text) in order, one call each, into `dir/lake` with `budget`.
fn ingest_all(dir: &Path, files: &[(&str, &str)], budget: Budget) -> Vec<FileOutcome> {
    let sites = test_sites();
    let lake = Lake::new(dir.join("lake"));
    let pseudo = Pseudonymiser::new(TEST_KEY.as_bytes()).unwrap();
    let options = IngestOptions {
        budget,
        ..Default::default()
    };
    let mut outcomes = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        outcomes.extend(
            tally_ingest::ingest_files(&lake, &sites, Some(&pseudo), &options, &[path]).unwrap(),
        );
    }
    outcomes
}

fn rows_in(dir: &Path, table: &str) -> i64 {
    let df = tally_metrics::query(
        &(Lake::new(dir.join("lake"))).snapshot().unwrap(),
        &format!("SELECT COUNT(*) AS n FROM {table}"),
    )
    .unwrap();
    df.column("n")
        .unwrap()
        .cast(&polars::prelude::DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .get(0)
        .unwrap()
}

fn excluded(o: &FileOutcome, rule: &str) -> u64 {
    o.summary.excluded.get(rule).copied().unwrap_or(0)
}

const IN_LAKE: &str = "in_lake";
const DUPLICATE: &str = "duplicate_record";

#[test]
fn two_guests_in_the_same_second_with_the_same_length_are_two_sessions() {
    // Guest passes (the test library's prefix 25555), same branch, start and minutes, no
    // station: the rows differ only in pcrKey.
    let dir = tempfile::tempdir().unwrap();
    let a = format!(
        "{EW}1,2555500001,60,2026-06-10 10:00:00,T1,A,,\n2,2555500002,60,2026-06-10 10:00:00,T1,A,,\n"
    );
    let o = ingest_all(dir.path(), &[("a.csv", &a)], Budget::default());
    assert_eq!(o[0].summary.rows_accepted, 2, "{:?}", o[0].summary);
    assert_eq!(rows_in(dir.path(), "sessions"), 2);
    // Without a key column the two rows are identical content: still two records.
    let dir = tempfile::tempdir().unwrap();
    let b = format!(
        "{EW_NO_KEY}2555500001,60,2026-06-10 10:00:00,T1,A,,\n2555500001,60,2026-06-10 10:00:00,T1,A,,\n"
    );
    let o = ingest_all(dir.path(), &[("b.csv", &b)], Budget::default());
    assert_eq!(o[0].summary.rows_accepted, 2, "{:?}", o[0].summary);
    assert_eq!(rows_in(dir.path(), "sessions"), 2);
}

#[test]
fn the_same_pair_over_two_overlapping_exports_is_stored_once() {
    let pair =
        "1,2555500001,60,2026-06-10 10:00:00,T1,A,,\n2,2555500002,60,2026-06-10 10:00:00,T1,A,,\n";
    let dir = tempfile::tempdir().unwrap();
    let a = format!("{EW}{pair}3,21221000000003,30,2026-06-10 11:00:00,T1,A,,PC1\n");
    let b = format!("{EW}{pair}4,21221000000004,30,2026-06-10 12:00:00,T1,A,,PC1\n");
    let o = ingest_all(
        dir.path(),
        &[("a.csv", &a), ("b.csv", &b)],
        Budget::default(),
    );
    assert_eq!(o[1].summary.rows_accepted, 1);
    assert_eq!(excluded(&o[1], IN_LAKE), 2);
    assert_eq!(rows_in(dir.path(), "sessions"), 4);
    // The same with no key: identical rows as a multiset. A has the pair; B has it and a
    // third copy, which is new.
    let dir = tempfile::tempdir().unwrap();
    let g = "2555500001,60,2026-06-10 10:00:00,T1,A,,\n";
    let a = format!("{EW_NO_KEY}{g}{g}");
    let b = format!("{EW_NO_KEY}{g}{g}{g}");
    let o = ingest_all(
        dir.path(),
        &[("a.csv", &a), ("b.csv", &b)],
        Budget::default(),
    );
    assert_eq!(o[0].summary.rows_accepted, 2);
    assert_eq!(o[1].summary.rows_accepted, 1);
    assert_eq!(excluded(&o[1], IN_LAKE), 2);
    assert_eq!(rows_in(dir.path(), "sessions"), 3);
}

#[test]
fn a_row_twice_with_no_vendor_key_is_two_records_and_an_overlap_counts_once() {
    let x = "2026-06-10 10:01:02,T1,0,issue,,1001,BK,ADULT,52,FIC,PT,intranet\n";
    let y = "2026-06-10 10:05:00,T1,0,return,,1002,BK,ADULT,,FIC,PT,intranet\n";
    let dir = tempfile::tempdir().unwrap();
    let a = format!("{KOHA}{x}{x}");
    let b = format!("{KOHA}{x}{y}");
    let o = ingest_all(
        dir.path(),
        &[("a.csv", &a), ("b.csv", &b)],
        Budget::default(),
    );
    assert_eq!(
        o[0].summary.rows_accepted, 2,
        "the same checkout twice is two checkouts"
    );
    assert_eq!(excluded(&o[0], DUPLICATE), 0);
    assert_eq!(o[1].summary.rows_accepted, 1, "{:?}", o[1].summary);
    assert_eq!(
        excluded(&o[1], IN_LAKE),
        1,
        "the repeated row is counted once"
    );
    assert_eq!(rows_in(dir.path(), "circulation"), 3);
}

#[test]
fn a_record_key_repeated_within_a_file_is_the_only_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let r = "7,21221000000007,30,2026-06-10 10:00:00,T1,A,,PC1\n";
    let a = format!("{EW}{r}{r}8,21221000000007,30,2026-06-10 10:00:00,T1,A,,PC1\n");
    let o = ingest_all(dir.path(), &[("a.csv", &a)], Budget::default());
    assert_eq!(o[0].summary.rows_accepted, 2);
    assert_eq!(excluded(&o[0], DUPLICATE), 1);
}

/// An EnvisionWare export of `n` sessions with quoted fields holding commas and
/// newlines, a BOM, and a bad row every 97th.
fn awkward_export(n: usize, bom: bool) -> String {
    let mut s = String::from(if bom { "\u{feff}" } else { "" });
    s.push_str(EW);
    for i in 0..n {
        if i % 97 == 13 {
            s.push_str(&format!(
                "{i},2122100000{:04},ten,2026-06-10 10:00:00,T1,A,,PC1\n",
                i % 10_000
            ));
        } else {
            let day = 1 + i % 28;
            s.push_str(&format!("{i},2122100000{:04},{},2026-0{}-{day:02} {:02}:{:02}:00,T1,\"Adult,\nsecond floor\",,\"PC {}\"\n", i % 10_000, 1 + i % 90, 1 + i % 9, 9 + i % 10, i % 60, i % 7));
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// read = accepted + quarantined + excluded, and the same lake, whatever the budget:
    /// with a budget of a few KiB every batch holds a row or two, so quoted newlines, the
    /// BOM and multi-byte characters fall across batch and buffer boundaries.
    #[test]
    fn every_row_is_accounted_for_across_chunk_boundaries(n in 1usize..300, bom in any::<bool>(), kib in 1usize..6) {
        let text = awkward_export(n, bom);
        let small = tempfile::tempdir().unwrap();
        let big = tempfile::tempdir().unwrap();
        let s = &ingest_all(small.path(), &[("e.csv", &text)], Budget::new(kib << 10))[0];
        let b = &ingest_all(big.path(), &[("e.csv", &text)], Budget::default())[0];
        prop_assert_eq!(s.error.as_deref(), None);
        prop_assert_eq!(s.summary.rows_read, n as u64);
        prop_assert_eq!(s.summary.rows_read, s.summary.rows_accepted + s.summary.rows_quarantined + s.summary.rows_excluded);
        prop_assert_eq!(&s.summary.excluded, &b.summary.excluded);
        prop_assert_eq!(&s.summary.quarantined, &b.summary.quarantined);
        prop_assert_eq!(s.summary.rows_accepted, b.summary.rows_accepted);
        let q = |dir: &Path| tally_metrics::query(&(Lake::new(dir.join("lake"))).snapshot().unwrap(),
            "SELECT site, station, start, \"end\", user_type, patron_key, row_key FROM sessions ORDER BY row_key").unwrap();
        prop_assert!(q(small.path()).equals_missing(&q(big.path())));
    }
}

#[test]
fn a_large_file_within_a_one_mib_budget_commits_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let n = 200_000;
    let mut text = String::with_capacity(n * 60);
    text.push_str(EW);
    for i in 0..n {
        text.push_str(&format!(
            "{i},2122100{:07},{},2026-{:02}-{:02} {:02}:{:02}:00,T1,A,,PC{}\n",
            i % 5000,
            1 + i % 90,
            1 + i % 12,
            1 + i % 28,
            9 + i % 10,
            i % 60,
            i % 12
        ));
    }
    let budget = Budget::new(1 << 20);
    let o = &ingest_all(dir.path(), &[("big.csv", &text)], budget)[0];
    assert_eq!(o.error, None);
    assert_eq!(o.summary.rows_read, n as u64);
    assert_eq!(o.summary.rows_accepted, n as u64);
    assert!(
        o.peak_buffered_bytes <= budget.bytes as u64,
        "buffers {} over the budget {}",
        o.peak_buffered_bytes,
        budget.bytes
    );
    assert!(o.peak_buffered_bytes > 0);
    assert_eq!(rows_in(dir.path(), "sessions"), n as i64);
    // One Parquet file per month touched, however many chunks were written.
    let ledger = Lake::new(dir.path().join("lake")).read_ledger().unwrap();
    assert_eq!(ledger[0].parquet.len(), 12);
}
