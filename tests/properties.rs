//! Properties: every row is accounted for; occupancy and availability stay within 0..1.

use proptest::prelude::*;
use tally_metrics::{Dim, Metric};
use tally_model::BucketKind;

use crate::common::*;

/// A row of an EnvisionWare export, good or bad.
#[derive(Debug, Clone)]
enum Row {
    Session {
        site: usize,
        station: u8,
        day: u8,
        minute: u16,
        minutes: i64,
        user: u8,
    },
    BadDate,
    BadMinutes,
    Truncated,
}

fn row() -> impl Strategy<Value = Row> {
    prop_oneof![
        8 => (0usize..3, 0u8..4, 0u8..4, 0u16..1440, -30i64..400, 0u8..4)
            .prop_map(|(site, station, day, minute, minutes, user)| Row::Session { site, station, day, minute, minutes, user }),
        1 => Just(Row::BadDate),
        1 => Just(Row::BadMinutes),
        1 => Just(Row::Truncated),
    ]
}

fn render(rows: &[Row]) -> String {
    let mut s = String::from(
        "pcrKey,pcrUserID,pcrMinutesUsed,pcrDateTime,pcrBranch,pcrArea,pcrUserData1,pcrMachineName\n",
    );
    for (i, r) in rows.iter().enumerate() {
        let line = match r {
            Row::Session {
                site,
                station,
                day,
                minute,
                minutes,
                user,
            } => {
                let site = ["T1", "N1", "ZZ"][*site];
                let user = match user {
                    0 => "21221000000111".to_string(),
                    1 => format!("2555500{i:04}"),
                    2 => String::new(),
                    _ => format!("2122100001{i:04}"),
                };
                let staff = if *minutes % 7 == 0 { "1" } else { "" };
                format!(
                    "{i},{user},{minutes},2026-03-{:02} {:02}:{:02}:00,{site},A,{staff},PC{station}",
                    7 + day,
                    minute / 60,
                    minute % 60
                )
            }
            Row::BadDate => format!("{i},1,10,yesterday,T1,A,,PC1"),
            Row::BadMinutes => format!("{i},1,ten,2026-03-07 10:00:00,T1,A,,PC1"),
            Row::Truncated => format!("{i},1,10"),
        };
        s.push_str(&line);
        s.push('\n');
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn rows_are_accounted_for_and_occupancy_is_a_share(rows in prop::collection::vec(row(), 0..60)) {
        let dir = tempfile::tempdir().unwrap();
        let sites = test_sites();
        let (lake, outcomes) = ingest_text(dir.path(), &sites, "p.csv", &render(&rows));
        let s = &outcomes[0].summary;
        prop_assert_eq!(s.rows_read, rows.len() as u64);
        prop_assert_eq!(s.rows_read, s.rows_accepted + s.rows_quarantined + s.rows_excluded);
        prop_assert_eq!(s.rows_quarantined, s.quarantined.values().sum::<u64>());
        prop_assert_eq!(s.rows_excluded, s.excluded.values().sum::<u64>());
        // The period spans the DST change of 2026-03-08.
        for (metric, every, by) in [
            (Metric::Occupancy, BucketKind::Hour, vec![]),
            (Metric::Occupancy, BucketKind::Day, vec![Dim::Site]),
            (Metric::Availability, BucketKind::Day, vec![Dim::Site]),
            (Metric::Occupancy, BucketKind::Day, vec![Dim::Station]),
        ] {
            let df = metric_frame(&lake, &sites, metric, every, &by);
            let col = df.column(metric.name()).unwrap().f64().unwrap().clone();
            for v in col.iter().flatten() {
                prop_assert!((0.0..=1.0).contains(&v), "{} = {} outside 0..1", metric.name(), v);
            }
        }
        let sessions = metric_frame(&lake, &sites, Metric::Sessions, BucketKind::All, &[]);
        let n: i64 = sessions.column("sessions").unwrap().i64().unwrap().iter().flatten().sum();
        let in_period = s.rows_accepted as i64;
        prop_assert!(n <= in_period);
    }
}

fn metric_frame(
    lake: &tally_lake::Lake,
    sites: &tally_model::Sites,
    m: Metric,
    every: BucketKind,
    by: &[Dim],
) -> polars::prelude::DataFrame {
    metric(lake, sites, m, "2026-03-06", "2026-03-13", every, by)
}

/// A Libki statistics row: an action for one of a few session ids at some minute, or junk.
#[derive(Debug, Clone)]
enum LibkiRow {
    Event {
        action: u8,
        session: u8,
        minute: u16,
        station: u8,
        site: u8,
    },
    Junk,
}

fn libki_row() -> impl Strategy<Value = LibkiRow> {
    prop_oneof![
        9 => (0u8..6, 0u8..12, 0u16..(3 * 1440), 0u8..3, 0u8..2)
            .prop_map(|(action, session, minute, station, site)| LibkiRow::Event { action, session, minute, station, site }),
        1 => Just(LibkiRow::Junk),
    ]
}

fn render_libki(rows: &[LibkiRow]) -> String {
    let mut s = String::from(
        "instance,id,username,client_name,client_location,client_type,action,created_on,anonymized,session_id,info\n",
    );
    for (i, r) in rows.iter().enumerate() {
        match r {
            LibkiRow::Event {
                action,
                session,
                minute,
                station,
                site,
            } => {
                let action = [
                    "LOGIN",
                    "LOGOUT",
                    "FORCE_LOGOUT",
                    "SESSION_DELETED",
                    "LOGIN",
                    "PRINT",
                ][*action as usize];
                let user = if session % 3 == 0 {
                    format!("guest{session}")
                } else {
                    format!("2122107777{session:04}")
                };
                let (site, prefix) = [("Night", "N1"), ("Town", "T1")][*site as usize];
                s.push_str(&format!(
                    ",{i},{user},{prefix}-PC{station},{site},,{action},2026-03-{:02} {:02}:{:02}:00,0,s{session},\n",
                    7 + minute / 1440,
                    minute % 1440 / 60,
                    minute % 60
                ));
            }
            LibkiRow::Junk => s.push_str(&format!(",{i},x,y\n")),
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn libki_rows_are_accounted_for(rows in prop::collection::vec(libki_row(), 0..60)) {
        let dir = tempfile::tempdir().unwrap();
        let sites = test_sites();
        let (lake, outcomes) = ingest_text(dir.path(), &sites, "l.csv", &render_libki(&rows));
        let s = &outcomes[0].summary;
        prop_assert_eq!(s.rows_read, rows.len() as u64);
        prop_assert_eq!(s.rows_read, s.rows_accepted + s.rows_quarantined + s.rows_excluded);
        // Two accepted rows make one session.
        prop_assert_eq!(s.rows_accepted % 2, 0);
        let df = metric_frame(&lake, &sites, Metric::Sessions, BucketKind::All, &[]);
        let n: i64 = df.column("sessions").unwrap().i64().unwrap().iter().flatten().sum();
        prop_assert!(n as u64 <= s.rows_accepted / 2);
        for (m, by) in [(Metric::Occupancy, vec![Dim::Site]), (Metric::Availability, vec![Dim::Station])] {
            let df = metric_frame(&lake, &sites, m, BucketKind::Hour, &by);
            for v in df.column(m.name()).unwrap().f64().unwrap().iter().flatten() {
                prop_assert!((0.0..=1.0).contains(&v), "{} = {}", m.name(), v);
            }
        }
    }
}
