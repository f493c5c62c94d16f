//! Sites sites.toml does not know: the warning metrics give when they meet one, and
//! `tally sites suggest` (the site values in the lake sites.toml does not know, with
//! their rows, and what to paste into sites.toml for them).

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use tally_lake::Snapshot;
use tally_model::tables::sessions as s;
use tally_model::{Sites, Table};

use crate::base::frame::strings;
use crate::base::grid::Grid;
use crate::base::load::{scan, utc_lit};
use crate::base::request::MetricError;

/// One site value sites.toml does not know.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnknownSite {
    /// As the exports write it.
    pub value: String,
    /// Rows per table.
    pub rows: BTreeMap<String, u64>,
    /// The name a names file gives this value (`--names`), when it does.
    pub named: Option<String>,
    /// The site of sites.toml with that name: the value is an alias of it.
    pub alias_of: Option<String>,
}

/// The site values of every table of the lake that no site of sites.toml has as its
/// code, name or alias, with their rows; and, from a names file (a CSV of the library's
/// branches: Chicago's `Libraries - Locations` has NAME and a WEBSITE ending in the
/// numeric id the other files use), the name each value stands for.
pub fn unknown_sites(
    lake: &Snapshot,
    sites: &Sites,
    names: Option<&Path>,
) -> Result<Vec<UnknownSite>, MetricError> {
    let mut found: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    // Tables whose rows name a site (the survey's peers name libraries, not branches).
    for table in Table::ALL
        .into_iter()
        .filter(|t| t.schema().contains("site"))
    {
        let df = scan(lake, table, None)?
            .filter(col("site").is_not_null())
            .group_by([col("site")])
            .agg([len().cast(DataType::UInt64).alias("n")])
            .collect()?;
        let values = strings(&df, "site")?;
        let counts = df.column("n")?.u64()?.clone();
        for (v, n) in values.into_iter().zip(counts.iter()) {
            let (Some(v), Some(n)) = (v, n) else { continue };
            if sites.site(&v).is_none() {
                *found
                    .entry(v)
                    .or_default()
                    .entry(table.name().to_string())
                    .or_default() += n;
            }
        }
    }
    let named = match names {
        Some(path) => names_file(path)?,
        None => BTreeMap::new(),
    };
    Ok(found
        .into_iter()
        .map(|(value, rows)| {
            let name = named.get(value.trim()).cloned();
            let alias_of = name
                .as_deref()
                .and_then(|n| sites.site(n))
                .map(|s| s.code.clone());
            UnknownSite {
                value,
                rows,
                named: name,
                alias_of,
            }
        })
        .collect())
}

/// Reads a names file: a CSV whose first column named like NAME (NAME, BRANCH, LIBRARY,
/// LOCATION NAME) holds each branch's name, and whose ids are a column named ID, CODE
/// or LOCATION with short values, or the number at the end of a URL column
/// (`.../locations/7/`). Returns id -> name.
fn names_file(path: &Path) -> PolarsResult<BTreeMap<String, String>> {
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.into()))?
        .finish()?;
    let norm = |s: &str| s.trim_start_matches('\u{feff}').trim().to_ascii_lowercase();
    let columns: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let find = |wanted: &[&str]| {
        columns
            .iter()
            .find(|c| wanted.contains(&norm(c).as_str()))
            .cloned()
    };
    let name_col = find(&["name", "branch", "library", "location name", "branch name"])
        .ok_or_else(|| {
            PolarsError::ComputeError(
                format!(
                    "{}: no NAME column (the branches' names); found {columns:?}",
                    path.display()
                )
                .into(),
            )
        })?;
    let names = strings(&df, &name_col)?;
    let mut ids: Vec<Option<String>> = vec![None; df.height()];
    if let Some(id_col) = find(&["id", "code", "location id", "branch id"]) {
        ids = strings(&df, &id_col)?;
    } else {
        for c in &columns {
            let values = strings(&df, c)?;
            let numbers: Vec<Option<String>> = values
                .iter()
                .map(|v| v.as_deref().and_then(url_number))
                .collect();
            if numbers.iter().filter(|n| n.is_some()).count() * 2 > values.len() {
                ids = numbers;
                break;
            }
        }
    }
    Ok(ids
        .into_iter()
        .zip(names)
        .filter_map(|(id, name)| Some((id?.trim().to_string(), name?.trim().to_string())))
        .collect())
}

/// The number that ends a URL's path (`http://www.chipublib.org/locations/7/` -> 7).
fn url_number(s: &str) -> Option<String> {
    if !s.contains("://") {
        return None;
    }
    let last = s.trim().trim_end_matches('/').rsplit('/').next()?;
    (!last.is_empty() && last.chars().all(|c| c.is_ascii_digit())).then(|| last.to_string())
}

/// Warnings for sessions at sites sites.toml does not know.
pub(crate) fn unknown_site_warnings(
    lake: &Snapshot,
    sites: &Sites,
    grid: &Grid,
) -> Result<Vec<String>, MetricError> {
    // A month at a time: the site column of ten million sessions is big, its values few.
    let (a, b) = (grid.start_us(), grid.end_us());
    let mut names = std::collections::BTreeSet::new();
    for (_, part) in crate::base::load::scan_partitions(lake, Table::Sessions, (a, b), 0)? {
        let df = part
            .filter(
                col(s::START)
                    .gt_eq(utc_lit(a))
                    .and(col(s::START).lt(utc_lit(b))),
            )
            .select([col(s::SITE)])
            .unique(None, UniqueKeepStrategy::Any)
            .collect()?;
        names.extend(
            strings(&df, s::SITE)?
                .into_iter()
                .flatten()
                .filter(|n| sites.site(n).is_none()),
        );
    }
    Ok(names
        .into_iter()
        .map(|n| fallback_warning(sites, &n))
        .collect())
}

pub(crate) fn fallback_warning(sites: &Sites, site: &str) -> String {
    format!(
        "site \"{site}\" is not in sites.toml: using time zone {}, the stations seen in the data and round-the-clock opening",
        sites.library.timezone
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_urls() {
        assert_eq!(
            url_number("http://www.chipublib.org/locations/7/").as_deref(),
            Some("7")
        );
        assert_eq!(url_number("Albany Park"), None);
        assert_eq!(url_number("http://x.org/about/"), None);
    }
}
