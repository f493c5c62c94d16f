//! Writes the planned sessions in the vendors' layouts, one file per vendor and month.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tally_model::{Sites, UserType};

use crate::demand::{EndKind, SessionPlan, plan_day};
use crate::{DEMO_SITES_TOML, SynthConfig, SynthError, SynthSummary};

/// The public-computer systems synth writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Vendor {
    EnvisionWare,
    Libki,
}

impl Vendor {
    pub fn dir(self) -> &'static str {
        match self {
            Vendor::EnvisionWare => "envisionware",
            Vendor::Libki => "libki",
        }
    }
}

/// The first five sites book their computers with EnvisionWare, the others (four branches
/// and the bookmobile) run Libki, as a system part-way through a migration does.
fn vendor_of(site_index: usize) -> Vendor {
    if site_index < 5 {
        Vendor::EnvisionWare
    } else {
        Vendor::Libki
    }
}

pub const ENVISIONWARE_HEADER: [&str; 8] = [
    "pcrKey",
    "pcrUserID",
    "pcrMinutesUsed",
    "pcrDateTime",
    "pcrBranch",
    "pcrArea",
    "pcrUserData1",
    "pcrMachineName",
];
pub const LIBKI_HEADER: [&str; 11] = [
    "instance",
    "id",
    "username",
    "client_name",
    "client_location",
    "client_type",
    "action",
    "created_on",
    "anonymized",
    "session_id",
    "info",
];

struct MonthFile {
    month: (i32, u32),
    writer: csv::Writer<BufWriter<File>>,
    path: PathBuf,
}

struct Out<'a> {
    root: &'a Path,
    vendor: Vendor,
    file: Option<MonthFile>,
    rows: u64,
    files: Vec<PathBuf>,
}

impl<'a> Out<'a> {
    fn new(root: &'a Path, vendor: Vendor) -> Self {
        Out {
            root,
            vendor,
            file: None,
            rows: 0,
            files: Vec::new(),
        }
    }

    fn rel_path(&self, month: (i32, u32)) -> PathBuf {
        let name = match self.vendor {
            Vendor::EnvisionWare => format!("strad_bci_{:04}-{:02}.csv", month.0, month.1),
            Vendor::Libki => format!("statistics_{:04}-{:02}.csv", month.0, month.1),
        };
        Path::new(self.vendor.dir()).join(name)
    }

    /// The writer for `date`'s month, opening a new file when the month changes.
    fn for_date(
        &mut self,
        date: NaiveDate,
    ) -> Result<&mut csv::Writer<BufWriter<File>>, SynthError> {
        let month = (date.year(), date.month());
        if self.file.as_ref().is_none_or(|f| f.month != month) {
            self.finish()?;
            let rel = self.rel_path(month);
            let path = self.root.join(&rel);
            let io = |source| SynthError::Io {
                path: path.clone(),
                source,
            };
            std::fs::create_dir_all(path.parent().expect("has a parent")).map_err(io)?;
            let mut writer = csv::Writer::from_writer(BufWriter::with_capacity(
                1 << 20,
                File::create(&path).map_err(io)?,
            ));
            let header: &[&str] = match self.vendor {
                Vendor::EnvisionWare => &ENVISIONWARE_HEADER,
                Vendor::Libki => &LIBKI_HEADER,
            };
            writer.write_record(header).map_err(|e| csv_err(&path, e))?;
            self.files.push(rel);
            self.file = Some(MonthFile {
                month,
                writer,
                path,
            });
        }
        Ok(&mut self.file.as_mut().expect("just opened").writer)
    }

    fn write(&mut self, date: NaiveDate, record: &[&str]) -> Result<(), SynthError> {
        let path = self.file.as_ref().map(|f| f.path.clone());
        let writer = self.for_date(date)?;
        writer
            .write_record(record)
            .map_err(|e| csv_err(path.as_deref().unwrap_or(Path::new("?")), e))?;
        self.rows += 1;
        Ok(())
    }

    fn current_rel(&self) -> PathBuf {
        self.files.last().cloned().unwrap_or_default()
    }

    fn finish(&mut self) -> Result<(), SynthError> {
        if let Some(mut f) = self.file.take() {
            f.writer.flush().map_err(|source| SynthError::Io {
                path: f.path.clone(),
                source,
            })?;
            let inner = f.writer.into_inner().map_err(|e| SynthError::Io {
                path: f.path.clone(),
                source: e.into_error(),
            })?;
            inner
                .into_inner()
                .map_err(|e| SynthError::Io {
                    path: f.path.clone(),
                    source: e.into_error(),
                })?
                .sync_all()
                .ok();
        }
        Ok(())
    }
}

fn csv_err(path: &Path, e: csv::Error) -> SynthError {
    SynthError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    }
}

fn fmt_ew(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

fn fmt_libki(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Writes every file; deterministic for a given config.
pub fn generate(config: &SynthConfig) -> Result<SynthSummary, SynthError> {
    if !(config.scale > 0.0 && config.scale.is_finite()) {
        return Err(SynthError::Scale(config.scale));
    }
    let sites = Sites::from_toml(DEMO_SITES_TOML, Path::new("data/sites.toml"))?;
    let root = config.out.as_path();
    std::fs::create_dir_all(root).map_err(|source| SynthError::Io {
        path: root.into(),
        source,
    })?;
    let sites_text = scaled_sites_toml(DEMO_SITES_TOML, config.scale);
    let sites_path = root.join("sites.toml");
    std::fs::write(&sites_path, sites_text).map_err(|source| SynthError::Io {
        path: sites_path,
        source,
    })?;

    let stations: Vec<u32> = sites
        .sites
        .iter()
        .map(|s| ((f64::from(s.stations) * config.scale).round() as u32).max(1))
        .collect();
    let mut rngs: Vec<ChaCha8Rng> = (0..sites.sites.len())
        .map(|i| {
            ChaCha8Rng::seed_from_u64(
                config.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64 + 1),
            )
        })
        .collect();

    let mut ew = Out::new(root, Vendor::EnvisionWare);
    let mut lk = Out::new(root, Vendor::Libki);
    let mut summary = SynthSummary {
        sessions: 0,
        ..Default::default()
    };
    let mut ew_key: u64 = 1_000_000;
    let mut lk_id: u64 = 1;
    let mut planted = Planter::new(config.malformed);

    for day in 0..config.days {
        let date = config.start + Duration::days(i64::from(day));
        let mut ew_day: Vec<SessionPlan> = Vec::new();
        let mut lk_day: Vec<SessionPlan> = Vec::new();
        for (i, rng) in rngs.iter_mut().enumerate() {
            let plans = plan_day(&sites, i, stations[i], date, config.scale, rng);
            match vendor_of(i) {
                Vendor::EnvisionWare => ew_day.extend(plans),
                Vendor::Libki => lk_day.extend(plans),
            }
        }
        ew_day.sort_by_key(|a| (a.start, a.site, a.station));
        summary.sessions += (ew_day.len() + lk_day.len()) as u64;

        for p in &ew_day {
            ew_key += 1;
            let code = &sites.sites[p.site].code;
            let area = if p.station % 4 == 3 {
                "Teen Computers"
            } else {
                "Adult Computers"
            };
            let (branch, machine) = (code.clone(), format!("{code}-PC{:02}", p.station + 1));
            let staff = if p.user_type == UserType::Staff {
                "STAFF"
            } else {
                ""
            };
            ew.write(
                date,
                &[
                    &ew_key.to_string(),
                    &p.user,
                    &p.minutes.to_string(),
                    &fmt_ew(p.start),
                    &branch,
                    area,
                    staff,
                    &machine,
                ],
            )?;
            // About one reservation in a hundred is declined at the policy screen: a row
            // with zero minutes, which ingest excludes by rule.
            if ew_key.is_multiple_of(97) {
                ew_key += 1;
                ew.write(
                    date,
                    &[
                        &ew_key.to_string(),
                        &p.user,
                        "0",
                        &fmt_ew(p.start),
                        &branch,
                        area,
                        "",
                        &machine,
                    ],
                )?;
            }
        }
        write_libki_day(&mut lk, &sites, date, &lk_day, &mut lk_id)?;
        planted.plant(date, &mut ew, &mut lk, &mut ew_key, &mut lk_id)?;
    }
    ew.finish()?;
    lk.finish()?;
    summary.rows = vec![(Vendor::EnvisionWare, ew.rows), (Vendor::Libki, lk.rows)];
    let (other_files, other_planted) = crate::other::generate_other(config, &sites)?;
    let (print_files, print_planted) = crate::prints::generate_prints(config, &sites)?;
    summary.files = std::iter::once(PathBuf::from("sites.toml"))
        .chain(ew.files)
        .chain(lk.files)
        .chain(other_files)
        .chain(print_files)
        .collect();
    summary.planted = planted
        .planted
        .into_iter()
        .chain(other_planted)
        .chain(print_planted)
        .collect();
    Ok(summary)
}

/// One Libki day: a LOGIN row at the start and a LOGOUT, FORCE_LOGOUT or SESSION_DELETED
/// row at the end of each session, in the order the server wrote them.
fn write_libki_day(
    lk: &mut Out<'_>,
    sites: &Sites,
    date: NaiveDate,
    plans: &[SessionPlan],
    next_id: &mut u64,
) -> Result<(), SynthError> {
    // (time, order within the session, plan index)
    let mut events: Vec<(NaiveDateTime, u8, usize)> = Vec::with_capacity(plans.len() * 2);
    for (i, p) in plans.iter().enumerate() {
        events.push((p.start, 0, i));
        events.push((p.start + Duration::minutes(p.minutes), 1, i));
    }
    events.sort();
    let mut session_ids: BTreeMap<usize, String> = BTreeMap::new();
    for (time, order, i) in events {
        let p = &plans[i];
        let site = &sites.sites[p.site];
        let username = match p.user_type {
            UserType::Guest => format!("guest{}", &p.user[p.user.len() - 3..]),
            _ => p.user.clone(),
        };
        let session_id = session_ids
            .entry(i)
            .or_insert_with(|| format!("{:016x}{:016x}", *next_id ^ 0x5DEE_CE66, *next_id))
            .clone();
        let (action, user, info) = match (order, p.end_kind) {
            (0, _) => {
                let info = if p.user_type == UserType::Staff {
                    r#"{"user_category":"Staff"}"#.to_string()
                } else {
                    String::new()
                };
                ("LOGIN", username, info)
            }
            (_, EndKind::Logout) => ("LOGOUT", username, String::new()),
            (_, EndKind::ForceLogout) => ("FORCE_LOGOUT", username, String::new()),
            // A staff member ended the session: the staff login is in `username`, the
            // patron in info.username.
            (_, EndKind::Deleted) => (
                "SESSION_DELETED",
                "libki-admin".to_string(),
                format!(r#"{{"username":"{username}"}}"#),
            ),
        };
        let id = next_id.to_string();
        *next_id += 1;
        lk.write(
            date,
            &[
                "",
                &id,
                &user,
                &format!("{}-PC{:02}", site.code, p.station + 1),
                &site.name,
                "",
                action,
                &fmt_libki(time),
                "0",
                &session_id,
                &info,
            ],
        )?;
    }
    Ok(())
}

/// Plants the malformed rows, each once, in the file of the day it belongs to.
struct Planter {
    on: bool,
    planted: Vec<(PathBuf, String)>,
    done_first: bool,
}

impl Planter {
    fn new(on: bool) -> Self {
        Planter {
            on,
            planted: Vec::new(),
            done_first: false,
        }
    }

    fn plant(
        &mut self,
        date: NaiveDate,
        ew: &mut Out<'_>,
        lk: &mut Out<'_>,
        ew_key: &mut u64,
        lk_id: &mut u64,
    ) -> Result<(), SynthError> {
        if !self.on {
            return Ok(());
        }
        let d = date.format("%Y-%m-%d");
        let mut ew_row = |out: &mut Out<'_>,
                          planted: &mut Vec<(PathBuf, String)>,
                          what: &str,
                          minutes: &str,
                          when: String,
                          branch: &str| {
            *ew_key += 1;
            out.write(
                date,
                &[
                    &ew_key.to_string(),
                    "21221000000001",
                    minutes,
                    &when,
                    branch,
                    "Adult Computers",
                    "",
                    "CEN-PC01",
                ],
            )?;
            planted.push((out.current_rel(), what.to_string()));
            Ok::<(), SynthError>(())
        };
        if !self.done_first && date.day() == 15 {
            self.done_first = true;
            ew_row(
                ew,
                &mut self.planted,
                "date that is not a date",
                "30",
                format!("{d} 25:61:00"),
                "CEN",
            )?;
            ew_row(
                ew,
                &mut self.planted,
                "negative minutes",
                "-5",
                format!("{d} 11:00:00"),
                "CEN",
            )?;
            ew_row(
                ew,
                &mut self.planted,
                "minutes not a number",
                "abc",
                format!("{d} 11:05:00"),
                "CEN",
            )?;
            ew_row(
                ew,
                &mut self.planted,
                "absurd minutes (over a day)",
                "100000",
                format!("{d} 11:10:00"),
                "CEN",
            )?;
            ew_row(
                ew,
                &mut self.planted,
                "empty branch",
                "30",
                format!("{d} 11:15:00"),
                "",
            )?;
            let mut lk_row =
                |action: &str, when: String, what: &str, planted: &mut Vec<(PathBuf, String)>| {
                    *lk_id += 1;
                    lk.write(
                        date,
                        &[
                            "",
                            &lk_id.to_string(),
                            "21221050000001",
                            "PIN-PC01",
                            "Pinney",
                            "",
                            action,
                            &when,
                            "0",
                            &format!("orphan{lk_id}"),
                            "",
                        ],
                    )?;
                    planted.push((lk.current_rel(), what.to_string()));
                    Ok::<(), SynthError>(())
                };
            lk_row(
                "LOGOUT",
                format!("{d} 12:00:00"),
                "LOGOUT with no LOGIN",
                &mut self.planted,
            )?;
            lk_row(
                "LOGIN",
                format!("{d} 12:30:00"),
                "LOGIN with no LOGOUT",
                &mut self.planted,
            )?;
            lk_row(
                "LOGIN",
                format!("{d} noon"),
                "LOGIN time that is not a time",
                &mut self.planted,
            )?;
        }
        // The spring-forward night: 02:30 does not exist in America/Chicago.
        if date.month() == 3 && date.weekday() == Weekday::Sun && (8..=14).contains(&date.day()) {
            ew_row(
                ew,
                &mut self.planted,
                "time in the DST gap",
                "20",
                format!("{d} 02:30:00.000"),
                "CEN",
            )?;
        }
        Ok(())
    }
}

/// The demo sites.toml with every `stations = N` multiplied by `scale`.
pub fn scaled_sites_toml(text: &str, scale: f64) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        match line
            .trim_start()
            .strip_prefix("stations = ")
            .and_then(|n| n.trim().parse::<f64>().ok())
        {
            Some(n) if scale != 1.0 => {
                out.push_str(&format!(
                    "stations = {}",
                    ((n * scale).round() as u64).max(1)
                ));
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}
