//! No panic on any bytes: every adapter gets arbitrary bytes, and every fixture (the
//! vendors' real files and ours) mutated: truncated, bytes flipped, delimiters, quotes,
//! line ends and invalid UTF-8 inserted, runs of bytes deleted. The outcome is always a
//! failed file with its error or rows that add up (read = accepted + quarantined +
//! excluded), never a panic.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::sample::Index;
use tally_ingest::{Format, IngestOptions, Pseudonymiser, Status};
use tally_lake::Lake;
use tally_model::Sites;

use crate::common::*;

/// Every export fixture of tests/data (not mappings, sites or provenance), with the format
/// it is read as: real files and ours, compressed and not.
fn fixtures() -> Vec<(PathBuf, Option<Format>)> {
    let files: Vec<PathBuf> = walk(&data(""))
        .into_iter()
        .filter(|p| {
            !p.extension()
                .is_some_and(|x| x == "toml" || x == "txt" || x == "md" || x == "sql")
                && p.file_name().is_some_and(|n| n != "LICENSE")
        })
        .collect();
    let sites = test_sites();
    let dir = tempfile::tempdir().unwrap();
    files
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            // The format ingest detects in the file as it is (None: it needs a setting).
            let outcome = ingest(&dir.path().join(format!("l{i}")), &sites, &f, None);
            let format = outcome.and_then(|s| s.parse().ok());
            (f, format)
        })
        .collect()
}

/// One ingest into a fresh lake; the format ingest settled on. Panics only when the
/// outcome breaks the rule (the property) or ingest panicked.
fn ingest(lake: &Path, sites: &Sites, file: &Path, format: Option<Format>) -> Option<String> {
    let pseudo = Pseudonymiser::new(TEST_KEY.as_bytes()).unwrap();
    let options = IngestOptions {
        format,
        // Settings some formats need; a file whose format needs none ignores them.
        settings: [("year".to_string(), "2024".to_string())].into(),
        site: Some("T1".into()),
        ..IngestOptions::default()
    };
    match tally_ingest::ingest_files(
        &Lake::new(lake),
        sites,
        Some(&pseudo),
        &options,
        &[file.to_path_buf()],
    ) {
        Err(e) => {
            assert!(!e.to_string().is_empty());
            None
        }
        Ok(outcomes) => {
            assert_eq!(outcomes.len(), 1);
            let o = &outcomes[0];
            match o.status {
                Status::Failed => {
                    let error = o.error.as_deref().unwrap_or_default();
                    assert!(!error.is_empty(), "a failed file says why");
                    None
                }
                _ => {
                    assert!(o.summary.is_balanced(), "rows add up: {:?}", o.summary);
                    Some(o.summary.format.clone())
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(Index),
    Flip(Index, u8),
    Insert(Index, &'static [u8]),
    Delete(Index, usize),
}

const INSERTS: [&[u8]; 12] = [
    b",",
    b";",
    b"\t",
    b"\"",
    b"\"\"",
    b"\n",
    b"\r\n",
    b"\r",
    b"\xff\xfe",
    b"\0",
    b"\xe2\x82",
    b"^",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => any::<Index>().prop_map(Mutation::Truncate),
        3 => (any::<Index>(), 1u8..=255).prop_map(|(i, b)| Mutation::Flip(i, b)),
        3 => (any::<Index>(), proptest::sample::select(INSERTS.to_vec())).prop_map(|(i, s)| Mutation::Insert(i, s)),
        1 => (any::<Index>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        if len == 0 {
            break;
        }
        match m {
            Mutation::Truncate(i) => bytes.truncate(i.index(len)),
            Mutation::Flip(i, b) => bytes[i.index(len)] ^= b,
            Mutation::Insert(i, s) => {
                let at = i.index(len + 1);
                bytes.splice(at..at, s.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let at = i.index(len);
                bytes.drain(at..(at + n).min(len));
            }
        }
    }
    bytes
}

/// Cases per property: `n` in the normal test run; `TALLY_FUZZ_CASES` for a longer hunt.
fn cases(n: u32) -> u32 {
    std::env::var("TALLY_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n)
}

static CASE: AtomicUsize = AtomicUsize::new(0);

fn fresh(dir: &Path) -> PathBuf {
    dir.join(format!("case{}", CASE.fetch_add(1, Ordering::Relaxed)))
}

#[test]
fn mutated_fixtures_give_an_error_or_rows_that_add_up() {
    let fixtures = fixtures();
    assert!(fixtures.len() >= 25, "{} fixtures", fixtures.len());
    let read: Vec<_> = fixtures.iter().filter(|(_, f)| f.is_some()).collect();
    assert!(
        read.len() >= 20,
        "most fixtures are read as they are: {fixtures:?}"
    );
    let sites = test_sites();
    let dir = tempfile::tempdir().unwrap();
    let config = ProptestConfig {
        cases: cases(200),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(
        which in any::<Index>(),
        mutations in proptest::collection::vec(mutation(), 1..5),
        forced in any::<bool>(),
    )| {
        let (file, format) = &fixtures[which.index(fixtures.len())];
        let bytes = mutate(std::fs::read(file).unwrap(), &mutations);
        let case = fresh(dir.path());
        std::fs::create_dir_all(&case).unwrap();
        // Keep the name: some formats take their year or site from it, and `.Z` says
        // the file is compressed.
        let input = case.join(file.file_name().unwrap());
        std::fs::write(&input, &bytes).unwrap();
        let format = if forced { *format } else { None };
        ingest(&case.join("lake"), &sites, &input, format);
        let _ = std::fs::remove_dir_all(&case);
    });
}

#[test]
fn arbitrary_bytes_under_every_format_give_an_error_or_rows_that_add_up() {
    let sites = test_sites();
    let dir = tempfile::tempdir().unwrap();
    let formats: Vec<Format> = Format::ALL
        .iter()
        .copied()
        .filter(|f| *f != Format::Generic)
        .collect();
    let config = ProptestConfig {
        cases: cases(120),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(
        which in any::<Index>(),
        bytes in proptest::collection::vec(any::<u8>(), 0..1500),
        header in any::<bool>(),
    )| {
        let format = formats[which.index(formats.len())];
        let case = fresh(dir.path());
        std::fs::create_dir_all(&case).unwrap();
        // Half the cases start with the format's own header, so the bytes reach its rows.
        let mut input_bytes = Vec::new();
        if header {
            let header: Vec<&str> = format
                .spec()
                .required
                .iter()
                .chain(format.spec().optional)
                .map(|c| c.split('|').next().unwrap_or(c))
                .collect();
            input_bytes.extend(header.join(",").as_bytes());
            input_bytes.push(b'\n');
        }
        input_bytes.extend(&bytes);
        let input = case.join("export_2024.csv");
        std::fs::write(&input, &input_bytes).unwrap();
        ingest(&case.join("lake"), &sites, &input, Some(format));
        let _ = std::fs::remove_dir_all(&case);
    });
}
