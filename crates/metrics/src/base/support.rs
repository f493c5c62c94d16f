//! Operating-system support from endoflife.date's product files: which release cycle a
//! device's OS is, and whether that cycle is supported on a day. The rules, in words a
//! librarian can check by hand, are in docs/support.md.
//!
//! The files ship in `data/endoflife/` (MIT, with their licence) and are compiled in;
//! `tally support update DIR` puts a newer copy in a lake's `_support/` folder, which
//! then wins. Both layouts of the files are read: today's (`releaseDate`, `eoas`, `eol`,
//! `eoes`, `latest`, cycles such as `11-24h2-e`) and the older one (`release`,
//! `support`, `extendedSupport`, cycles such as `Windows 10, version 21H2 (E)(W)`).

use std::path::{Path, PathBuf};

use chrono::{Months, NaiveDate};
use yaml_rust2::{Yaml, YamlLoader};

/// The products tally matches devices to, with their endoflife.date file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Product {
    Windows,
    WindowsServer,
    Macos,
    Ubuntu,
}

impl Product {
    pub const ALL: [Product; 4] = [
        Product::Windows,
        Product::WindowsServer,
        Product::Macos,
        Product::Ubuntu,
    ];

    /// The product's name on endoflife.date, and its file's stem.
    pub fn name(self) -> &'static str {
        match self {
            Product::Windows => "windows",
            Product::WindowsServer => "windows-server",
            Product::Macos => "macos",
            Product::Ubuntu => "ubuntu",
        }
    }

    fn embedded(self) -> &'static str {
        match self {
            Product::Windows => include_str!("../../../../data/endoflife/windows.md"),
            Product::WindowsServer => include_str!("../../../../data/endoflife/windows-server.md"),
            Product::Macos => include_str!("../../../../data/endoflife/macos.md"),
            Product::Ubuntu => include_str!("../../../../data/endoflife/ubuntu.md"),
        }
    }
}

/// When a support phase ends, as the files say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// On this day (the first day without support).
    On(NaiveDate),
    /// Ended; the file gives no day (`true`).
    Ended,
    /// Not ended and no day announced (`false`, or no key).
    Open,
}

/// Which editions a Windows cycle covers. A cycle that names none covers both the
/// Enterprise/Education (E) and the Home/Pro (W) editions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Editions {
    pub enterprise: bool,
    pub workstation: bool,
    pub iot: bool,
    pub ltsc: bool,
}

/// One release cycle of a product.
#[derive(Debug, Clone, PartialEq)]
pub struct Cycle {
    pub product: Product,
    /// As the file names it (`10-22h2`, `Windows 10, version 21H2 (E)`, `24.04`).
    pub cycle: String,
    /// How a person names it: `Windows 10 22H2`, `macOS 14`, `Ubuntu 22.04`.
    pub label: String,
    /// Windows: `10`, `11`, `8.1`; Server: `2019`, or the SAC/AC version; others the cycle.
    pub major: String,
    /// Windows' feature update (`22H2`, `1809`), upper case.
    pub version: Option<String>,
    pub editions: Editions,
    /// Windows' build number (19045 for 10.0.19045).
    pub build: Option<u32>,
    pub eol: End,
    /// End of the paid extended security updates.
    pub eoes: End,
}

/// Windows feature updates and their build numbers: the old file layout has no `latest`,
/// so a device's build is turned into the version the cycle names. Microsoft's release
/// information pages list them.
const WINDOWS_BUILDS: &[(u32, &str, &str)] = &[
    (10240, "10", "1507"),
    (10586, "10", "1511"),
    (14393, "10", "1607"),
    (15063, "10", "1703"),
    (16299, "10", "1709"),
    (17134, "10", "1803"),
    (17763, "10", "1809"),
    (18362, "10", "1903"),
    (18363, "10", "1909"),
    (19041, "10", "2004"),
    (19042, "10", "20H2"),
    (19043, "10", "21H1"),
    (19044, "10", "21H2"),
    (19045, "10", "22H2"),
    (22000, "11", "21H2"),
    (22621, "11", "22H2"),
    (22631, "11", "23H2"),
    (26100, "11", "24H2"),
    (26200, "11", "25H2"),
    (28000, "11", "26H1"),
];

/// Parsing a product file failed: which file, and what was wrong.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct SupportError {
    pub file: PathBuf,
    pub message: String,
}

/// Every cycle of the four products.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub cycles: Vec<Cycle>,
    /// Where the files came from: `built in` or the lake's `_support/` folder.
    pub origin: String,
}

/// The lake's copy of the product files.
pub fn lake_dir(lake: &tally_lake::Lake) -> PathBuf {
    lake.support_dir()
}

impl Catalogue {
    /// The files compiled into tally.
    pub fn embedded() -> Catalogue {
        let mut cycles = Vec::new();
        for p in Product::ALL {
            cycles.extend(
                parse(p, p.embedded(), Path::new(p.name()))
                    .expect("the built-in endoflife.date files parse (tested)"),
            );
        }
        Catalogue {
            cycles,
            origin: "built in (data/endoflife)".into(),
        }
    }

    /// The lake's copy (`tally support update`) where there is one, else the built-in.
    pub fn for_lake(lake: &tally_lake::Lake) -> Result<Catalogue, SupportError> {
        let dir = lake_dir(lake);
        if dir.join("windows.md").exists() {
            Catalogue::read_dir(&dir)
        } else {
            Ok(Catalogue::embedded())
        }
    }

    /// Reads the four product files from a folder (endoflife.date's `products/`, or a
    /// lake's `_support/`); each must be there and parse.
    pub fn read_dir(dir: &Path) -> Result<Catalogue, SupportError> {
        let mut cycles = Vec::new();
        for p in Product::ALL {
            let file = dir.join(format!("{}.md", p.name()));
            let text = std::fs::read_to_string(&file).map_err(|e| SupportError {
                file: file.clone(),
                message: format!(
                    "{e}: expected endoflife.date's products/{}.md in this folder",
                    p.name()
                ),
            })?;
            cycles.extend(parse(p, &text, &file)?);
        }
        Ok(Catalogue {
            cycles,
            origin: dir.display().to_string(),
        })
    }

    /// The cycle of a device's OS, from the OS name and version as directories write
    /// them (`Windows 10 Enterprise` + `10.0 (19045)`; `Windows` + `10.0.22631.4460`;
    /// `macOS` + `14.5`; `Ubuntu 22.04.4 LTS`). `None` when the OS is not one of the four
    /// products or no cycle matches.
    pub fn find(&self, os: &str, version: &str) -> Option<&Cycle> {
        let os_l = os.to_ascii_lowercase();
        let both = format!("{os_l} {}", version.to_ascii_lowercase());
        if os_l.contains("windows") && both.contains("server") {
            return self.find_server(&both, version);
        }
        if os_l.contains("windows") {
            return self.find_windows(&both, version);
        }
        if os_l.contains("mac") || os_l.contains("os x") {
            let v = first_version(version).or_else(|| first_version(os))?;
            return self.by_numbers(Product::Macos, &v);
        }
        if os_l.contains("ubuntu") {
            let v = first_version(version).or_else(|| first_version(os))?;
            return self.by_numbers(Product::Ubuntu, &v);
        }
        None
    }

    fn of(&self, p: Product) -> impl Iterator<Item = &Cycle> {
        self.cycles.iter().filter(move |c| c.product == p)
    }

    /// macOS and Ubuntu: the cycle named by the version's first number (`14` of 14.5)
    /// or first two (`10.15` of 10.15.7, `22.04` of 22.04.4).
    fn by_numbers(&self, p: Product, version: &[u32]) -> Option<&Cycle> {
        let two = version
            .get(1)
            .map(|m| format!("{}.{m:02}", version[0]))
            .unwrap_or_default();
        let two_plain = version
            .get(1)
            .map(|m| format!("{}.{m}", version[0]))
            .unwrap_or_default();
        let one = version[0].to_string();
        self.of(p)
            .find(|c| c.cycle == two || c.cycle == two_plain)
            .or_else(|| self.of(p).find(|c| c.cycle == one))
    }

    fn find_windows(&self, text: &str, version: &str) -> Option<&Cycle> {
        let build = windows_build(version).or_else(|| windows_build(text));
        // The feature update: from the build, else written out (`22H2`).
        let (major, feature) = match build.and_then(|b| WINDOWS_BUILDS.iter().find(|w| w.0 == b)) {
            Some((_, major, v)) => ((*major).to_string(), Some((*v).to_string())),
            None => {
                let major = if text.contains("windows 11") || build.is_some_and(|b| b >= 22000) {
                    "11"
                } else if text.contains("windows 10") {
                    "10"
                } else if text.contains("8.1") {
                    "8.1"
                } else if text.contains("windows 8") {
                    "8"
                } else if text.contains("windows 7") {
                    "7"
                } else {
                    return None;
                };
                (major.to_string(), feature_name(text))
            }
        };
        let ltsc = text.contains("ltsc") || text.contains("ltsb");
        let iot = text.contains("iot");
        let enterprise = ltsc || text.contains("enterprise") || text.contains("education");
        let candidates: Vec<&Cycle> = self
            .of(Product::Windows)
            .filter(|c| {
                let same_build = build.is_some() && c.build == build;
                let same_name = c.major == major
                    && (c.version == feature || (feature.is_none() && c.version.is_none()));
                same_build || same_name
            })
            .collect();
        let pick =
            |f: &dyn Fn(&Editions) -> bool| candidates.iter().copied().find(|c| f(&c.editions));
        let general = |e: &Editions| !e.ltsc && !e.iot;
        if iot && let Some(c) = pick(&|e| e.iot && e.ltsc == ltsc).or_else(|| pick(&|e| e.iot)) {
            return Some(c);
        }
        if ltsc && let Some(c) = pick(&|e| e.ltsc && !e.iot) {
            return Some(c);
        }
        if enterprise {
            pick(&|e| general(e) && e.enterprise)
        } else {
            pick(&|e| general(e) && e.workstation)
        }
    }

    fn find_server(&self, text: &str, version: &str) -> Option<&Cycle> {
        // A named release (Windows Server 2019 Standard, 2012 R2) is its LTSC cycle.
        let words: Vec<&str> = text.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            if w.len() == 4 && w.starts_with("20") && w.bytes().all(|b| b.is_ascii_digit()) {
                let r2 = words.get(i + 1).is_some_and(|n| *n == "r2");
                let name = if r2 {
                    format!("{w}-r2")
                } else {
                    (*w).to_string()
                };
                if let Some(c) = self
                    .of(Product::WindowsServer)
                    .find(|c| c.cycle.eq_ignore_ascii_case(&name) || c.major == name)
                {
                    return Some(c);
                }
            }
        }
        // Otherwise the Semi-Annual / Annual Channel release of that build.
        let build = windows_build(version).or_else(|| windows_build(text))?;
        self.of(Product::WindowsServer)
            .filter(|c| c.build == Some(build))
            .min_by_key(|c| !(c.cycle.contains("sac") || c.cycle.contains("ac")))
    }
}

/// The build number of a Windows version as directories write it: `10.0 (19045)`,
/// `10.0.19045.4291`, `10.0.19045`.
pub fn windows_build(version: &str) -> Option<u32> {
    if let Some((_, rest)) = version.split_once('(') {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(b) = digits.parse::<u32>() {
            return Some(b);
        }
    }
    for word in version.split_whitespace() {
        let parts: Vec<&str> = word.split('.').collect();
        if parts.len() >= 3
            && parts[..3]
                .iter()
                .all(|p| p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty())
        {
            return parts[2].parse().ok();
        }
    }
    None
}

/// A written feature update (`22h2`, `version 1809`), upper case.
fn feature_name(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| {
            let b = w.as_bytes();
            (b.len() == 4
                && b[..2].iter().all(u8::is_ascii_digit)
                && b[2] == b'h'
                && b[3].is_ascii_digit())
                || (b.len() == 4
                    && b.iter().all(u8::is_ascii_digit)
                    && (w.starts_with("15")
                        || w.starts_with("16")
                        || w.starts_with("17")
                        || w.starts_with("18")
                        || w.starts_with("19")
                        || w.starts_with("20")))
        })
        .map(str::to_ascii_uppercase)
}

/// The first dotted number in a text (`14.5.1` -> [14, 5, 1]).
fn first_version(text: &str) -> Option<Vec<u32>> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|w| !w.is_empty() && w.as_bytes()[0].is_ascii_digit())
        .map(|w| {
            w.split('.')
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .find(|v| !v.is_empty())
}

/// A scalar as text: the files quote some cycles (`"8.1"`) and not others (`8.1`).
fn text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

fn end(y: &Yaml, key: &str, file: &Path, cycle: &str) -> Result<End, SupportError> {
    match y {
        Yaml::BadValue | Yaml::Null => Ok(End::Open),
        Yaml::Boolean(true) => Ok(End::Ended),
        Yaml::Boolean(false) => Ok(End::Open),
        other => {
            let s = text(other).unwrap_or_default();
            s.parse::<NaiveDate>()
                .map(End::On)
                .map_err(|_| SupportError {
                    file: file.to_path_buf(),
                    message: format!(
                        "cycle {cycle}: {key} is {s:?}: expected a date (YYYY-MM-DD), true or false"
                    ),
                })
        }
    }
}

/// The cycles of one product file, either layout.
pub fn parse(product: Product, source: &str, file: &Path) -> Result<Vec<Cycle>, SupportError> {
    let bad = |message: String| SupportError {
        file: file.to_path_buf(),
        message,
    };
    let body = source.trim_start_matches('\u{feff}');
    let front = body
        .strip_prefix("---")
        .and_then(|rest| rest.split_once("\n---").map(|(f, _)| f))
        .ok_or_else(|| {
            bad("no front matter: expected the file to start with --- and a YAML block".into())
        })?;
    let docs = YamlLoader::load_from_str(front).map_err(|e| bad(format!("YAML: {e}")))?;
    let doc = docs
        .first()
        .ok_or_else(|| bad("empty front matter".into()))?;
    let releases = doc["releases"]
        .as_vec()
        .ok_or_else(|| bad("no releases: list in the front matter".into()))?;
    let mut out = Vec::with_capacity(releases.len());
    for r in releases {
        let cycle =
            text(&r["releaseCycle"]).ok_or_else(|| bad("a release without releaseCycle".into()))?;
        let pick = |new: &str, old: &str| {
            if matches!(r[new], Yaml::BadValue) {
                &r[old]
            } else {
                &r[new]
            }
        };
        let eol = end(&r["eol"], "eol", file, &cycle)?;
        let eoes = end(pick("eoes", "extendedSupport"), "eoes", file, &cycle)?;
        let latest = text(&r["latest"]);
        let label_given = text(&r["releaseLabel"]);
        let lts = matches!(r["lts"], Yaml::Boolean(true));
        out.push(normalise(
            product,
            cycle,
            label_given,
            latest,
            lts,
            eol,
            eoes,
        ));
    }
    if out.is_empty() {
        return Err(bad("the releases list is empty".into()));
    }
    Ok(out)
}

fn normalise(
    product: Product,
    cycle: String,
    label_given: Option<String>,
    latest: Option<String>,
    lts: bool,
    eol: End,
    eoes: End,
) -> Cycle {
    let lower = cycle.to_ascii_lowercase();
    let mut editions = Editions::default();
    let (major, version, label);
    match product {
        Product::Windows => {
            if let Some(rest) = lower.strip_prefix("windows ") {
                // The old layout: `Windows 10, version 21H2 (E)(W)`, `Windows 8.1`.
                let (name, tags) = rest.split_once('(').map_or((rest, ""), |(n, t)| (n, t));
                let name = name.trim();
                let (m, v) = match name.split_once(", version ") {
                    Some((m, v)) => (m.trim().to_string(), Some(v.trim().to_ascii_uppercase())),
                    None => (
                        name.split_whitespace().next().unwrap_or(name).to_string(),
                        None,
                    ),
                };
                editions.enterprise = tags.contains('e');
                editions.workstation = tags.contains('w');
                editions.ltsc = tags.contains("lts");
                editions.iot = tags.contains("iot");
                major = m;
                version = v;
            } else {
                // Today's layout: `11-24h2-e-lts`, `10-22h2`, `10-1507-iot`, `8.1`, `7-sp1`.
                let parts: Vec<&str> = lower.split('-').collect();
                major = parts[0].to_string();
                version = parts
                    .get(1)
                    .filter(|p| p.bytes().next().is_some_and(|b| b.is_ascii_digit()))
                    .map(|p| p.to_ascii_uppercase());
                for p in &parts[1..] {
                    match *p {
                        "e" => editions.enterprise = true,
                        "w" => editions.workstation = true,
                        "iot" => editions.iot = true,
                        "lts" => editions.ltsc = true,
                        _ => {}
                    }
                }
            }
            if lts && editions.enterprise {
                editions.ltsc = true;
            }
            if !editions.enterprise && !editions.workstation && !editions.iot && !editions.ltsc {
                editions.enterprise = true;
                editions.workstation = true;
            }
            let edition = if editions.iot {
                " IoT"
            } else if editions.ltsc {
                " LTSC"
            } else if editions.enterprise && !editions.workstation {
                " (E)"
            } else if editions.workstation && !editions.enterprise {
                " (W)"
            } else {
                ""
            };
            label = match &version {
                Some(v) => format!("Windows {major} {v}{edition}"),
                None => format!(
                    "Windows {}",
                    label_given
                        .as_deref()
                        .unwrap_or(&major)
                        .to_uppercase()
                        .replace("-SP", " SP")
                ),
            };
        }
        Product::WindowsServer => {
            let name = lower.trim_start_matches("windows server ").to_string();
            major = name.split('-').next().unwrap_or(&name).to_ascii_uppercase();
            version = None;
            label = label_given.unwrap_or_else(|| {
                format!("Windows Server {}", name.to_uppercase().replace('-', " "))
            });
        }
        Product::Macos => {
            major = cycle.clone();
            version = None;
            label = format!("macOS {cycle}");
        }
        Product::Ubuntu => {
            major = cycle.clone();
            version = None;
            label = format!("Ubuntu {cycle}");
        }
    }
    let mut build = latest.as_deref().and_then(windows_build);
    if build.is_none() && product == Product::Windows {
        build = WINDOWS_BUILDS
            .iter()
            .find(|(_, m, v)| *m == major && Some(*v) == version.as_deref())
            .map(|w| w.0);
    }
    if !matches!(product, Product::Windows | Product::WindowsServer) {
        build = None;
    }
    Cycle {
        product,
        cycle,
        label,
        major,
        version,
        editions,
        build,
        eol,
        eoes,
    }
}

/// A device's support status on a day (docs/support.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Past `eol` with no paid extension.
    Unsupported,
    /// Past `eol`, before `eoes`, and the library pays for extended security updates.
    Extended,
    /// Support ends within the warning window.
    Ending,
    Supported,
    /// No OS recorded, or no cycle matches it.
    Unknown,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Unsupported,
        Status::Extended,
        Status::Ending,
        Status::Supported,
        Status::Unknown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::Unsupported => "unsupported",
            Status::Extended => "extended",
            Status::Ending => "ending",
            Status::Supported => "supported",
            Status::Unknown => "unknown",
        }
    }
}

/// The status of a cycle on `day`: support ends on the `eol` day itself (it is the first
/// day without updates). `ending_months` is the warning window; `extended` says whether
/// the library pays for the cycle's extended security updates.
pub fn status(cycle: Option<&Cycle>, day: NaiveDate, ending_months: u32, extended: bool) -> Status {
    let Some(c) = cycle else {
        return Status::Unknown;
    };
    let past = match c.eol {
        End::On(d) => day >= d,
        End::Ended => true,
        End::Open => false,
    };
    if past {
        let covered = extended
            && match c.eoes {
                End::On(d) => day < d,
                End::Open => true,
                End::Ended => false,
            };
        return if covered {
            Status::Extended
        } else {
            Status::Unsupported
        };
    }
    match c.eol {
        End::On(d)
            if day
                .checked_add_months(Months::new(ending_months))
                .is_some_and(|w| d <= w) =>
        {
            Status::Ending
        }
        _ => Status::Supported,
    }
}

/// Whether sites.toml's `[support] extended_updates` names the cycle: an entry is a
/// product (`windows`), or product/cycle as endoflife.date names it (`windows/10-22h2`).
pub fn pays_extended(entries: &[String], cycle: &Cycle) -> bool {
    entries.iter().any(|e| {
        let e = e.trim().to_ascii_lowercase();
        match e.split_once('/') {
            Some((p, c)) => p == cycle.product.name() && c == cycle.cycle.to_ascii_lowercase(),
            None => e == cycle.product.name(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Real OS name and version strings, as AD's `OperatingSystem` /
    /// `OperatingSystemVersion` and Intune's `OS` / `OS version` write them.
    #[test]
    fn real_version_strings_find_their_cycle() {
        let cat = Catalogue::embedded();
        let cases = [
            ("Windows 10 Enterprise", "10.0 (19045)", "10-22h2"),
            ("Windows 10 Pro", "10.0 (19045)", "10-22h2"),
            (
                "Windows 10 Enterprise LTSC",
                "10.0 (19044)",
                "10-21h2-e-lts",
            ),
            (
                "Windows 10 IoT Enterprise LTSC",
                "10.0 (19044)",
                "10-21h2-iot-lts",
            ),
            ("Windows 10 Pro", "10.0 (19044)", "10-21h2-w"),
            ("Windows 10 Education", "10.0 (19044)", "10-21h2-e"),
            ("Windows 11 Pro", "10.0 (22631)", "11-23h2-w"),
            ("Windows 11 Enterprise", "10.0 (22631)", "11-23h2-e"),
            ("Windows 11 Pro", "10.0 (26100)", "11-24h2-w"),
            ("Windows 11 Enterprise", "10.0 (26100)", "11-24h2-e"),
            (
                "Windows 11 Enterprise LTSC",
                "10.0 (26100)",
                "11-24h2-e-lts",
            ),
            ("Windows", "10.0.22631.4460", "11-23h2-w"),
            ("Windows", "10.0.19045.5011", "10-22h2"),
            ("Windows 7 Professional", "6.1 (7601)", "7-sp1"),
            ("Windows 8.1 Pro", "6.3 (9600)", "8.1"),
            ("Windows Server 2019 Standard", "10.0 (17763)", "2019"),
            ("Windows Server 2022 Datacenter", "10.0 (20348)", "2022"),
            ("macOS", "14.5", "14"),
            ("macOS", "10.15.7", "10.15"),
            ("Mac OS X", "10.13.6 (17G14042)", "10.13"),
            ("Ubuntu 22.04.4 LTS", "", "22.04"),
            ("Linux", "", ""),
        ];
        for (os, version, want) in cases {
            let got = cat
                .find(os, version)
                .map(|c| c.cycle.as_str())
                .unwrap_or("");
            assert_eq!(got, want, "{os} / {version}");
        }
    }

    #[test]
    fn the_old_layout_reads() {
        let old = "---\ntitle: Windows\nreleases:\n  - releaseCycle: \"Windows 10, version 21H2 (E)\"\n    release: 2021-11-16\n    support: 2024-06-11\n    eol: 2024-06-11\n  - releaseCycle: \"Windows 10, version 21H1 (E)(W)\"\n    release: 2021-05-18\n    support: 2022-12-13\n    eol: 2022-12-13\n  - releaseCycle: \"Windows 10, version 21H2 (W)\"\n    release: 2021-11-16\n    eol: 2023-06-13\n---\n\n> text\n";
        let cycles = parse(Product::Windows, old, Path::new("windows.md")).unwrap();
        let cat = Catalogue {
            cycles,
            origin: "test".into(),
        };
        let e = cat.find("Windows 10 Enterprise", "10.0 (19044)").unwrap();
        assert_eq!(e.eol, End::On(d("2024-06-11")));
        let w = cat.find("Windows 10 Pro", "10.0 (19044)").unwrap();
        assert_eq!(w.eol, End::On(d("2023-06-13")));
        let both = cat.find("Windows 10 Pro", "10.0 (19043)").unwrap();
        assert_eq!(both.eol, End::On(d("2022-12-13")));
    }

    #[test]
    fn status_turns_on_the_eol_day() {
        let cat = Catalogue::embedded();
        let win10 = cat.find("Windows 10 Pro", "10.0 (19045)");
        assert_eq!(status(win10, d("2025-10-13"), 12, false), Status::Ending);
        assert_eq!(
            status(win10, d("2025-10-14"), 12, false),
            Status::Unsupported
        );
        assert_eq!(status(win10, d("2025-10-14"), 12, true), Status::Extended);
        assert_eq!(
            status(win10, d("2028-10-10"), 12, true),
            Status::Unsupported
        );
        assert_eq!(status(win10, d("2024-10-13"), 12, false), Status::Supported);
        assert_eq!(status(win10, d("2024-10-14"), 12, false), Status::Ending);
        assert_eq!(status(None, d("2025-10-14"), 12, false), Status::Unknown);
        let sonoma = cat.find("macOS", "14.5");
        assert_eq!(
            status(sonoma, d("2026-12-01"), 12, false),
            Status::Supported
        );
    }

    #[test]
    fn extended_updates_name_a_product_or_a_cycle() {
        let cat = Catalogue::embedded();
        let c = cat.find("Windows 10 Pro", "10.0 (19045)").unwrap();
        assert!(pays_extended(&["windows/10-22h2".into()], c));
        assert!(pays_extended(&["Windows".into()], c));
        assert!(!pays_extended(&["windows/11-23h2-w".into()], c));
    }

    #[test]
    fn a_missing_file_names_what_to_copy() {
        let dir = tempfile::tempdir().unwrap();
        let e = Catalogue::read_dir(dir.path()).unwrap_err();
        assert!(e.to_string().contains("products/windows.md"), "{e}");
    }
}
