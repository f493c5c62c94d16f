//! consortium.toml: the members of a consortium, each with its own lake (and key: tally
//! reads only aggregates from it), sites.toml and population. docs/consortium.md shows
//! the file.
//!
//! ```toml
//! [consortium]
//! name = "Prairie Library Consortium"
//!
//! [[members]]
//! code = "ash"                      # short, unique: a folder name in results
//! name = "Ashford Public Library"
//! lake = "members/ash/lake"         # relative to this file
//! lake_uri = "s3a://plc/ash/lake"   # where Spark sees it (optional)
//! sites = "members/ash/sites.toml"
//! population = 48200                # residents of the service area
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    consortium: RawConsortium,
    #[serde(default)]
    members: Vec<RawMember>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConsortium {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    code: String,
    name: String,
    lake: String,
    lake_uri: Option<String>,
    sites: String,
    population: u64,
}

/// A consortium as its file describes it, paths resolved against the file's folder.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsortiumFile {
    pub name: String,
    pub members: Vec<MemberFile>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemberFile {
    pub code: String,
    pub name: String,
    pub lake: PathBuf,
    pub lake_uri: Option<String>,
    pub sites: PathBuf,
    pub population: u64,
}

/// Reads and checks consortium.toml: every problem named, with the member it is in.
pub fn load_consortium(path: &Path) -> Result<ConsortiumFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let raw: RawFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut problems = Vec::new();
    if raw.members.is_empty() {
        problems.push("no [[members]]".to_string());
    }
    let mut members = Vec::new();
    for (i, m) in raw.members.iter().enumerate() {
        let at = format!("members[{i}] ({})", m.code);
        let code_ok = !m.code.is_empty()
            && m.code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !code_ok {
            problems.push(format!(
                "{at}: code must be letters, digits, - or _ (it names a folder of results)"
            ));
        }
        if raw.members[..i].iter().any(|o| o.code == m.code) {
            problems.push(format!("{at}: code {} is used twice", m.code));
        }
        if m.population == 0 {
            problems.push(format!(
                "{at}: population must be above 0 (figures are per 1,000 residents)"
            ));
        }
        let lake = base.join(&m.lake);
        if !lake.exists() {
            problems.push(format!("{at}: lake {} does not exist", lake.display()));
        }
        let sites = base.join(&m.sites);
        if !sites.exists() {
            problems.push(format!("{at}: sites {} does not exist", sites.display()));
        }
        members.push(MemberFile {
            code: m.code.clone(),
            name: m.name.clone(),
            lake,
            lake_uri: m.lake_uri.clone(),
            sites,
            population: m.population,
        });
    }
    if !problems.is_empty() {
        return Err(format!("{}:\n  {}", path.display(), problems.join("\n  ")));
    }
    Ok(ConsortiumFile {
        name: raw.consortium.name,
        members,
    })
}
