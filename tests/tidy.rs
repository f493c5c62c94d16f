//! The repository checks itself: dependency arrows as ARCHITECTURE.md draws them, every
//! file its code map names, README's counts, and every `ALL` list complete.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::walk;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The allowed tally dependencies of each crate, from ARCHITECTURE.md's block.
fn allowed_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let doc = read("ARCHITECTURE.md");
    let start = doc
        .find("  ```text\n  model:")
        .expect("ARCHITECTURE.md has the crate dependency block");
    let block = &doc[start + "  ```text\n".len()..];
    let block = &block[..block.find("```").expect("the block ends")];
    block
        .lines()
        .filter_map(|l| l.trim().split_once(':'))
        .map(|(krate, deps)| {
            (
                krate.trim().to_string(),
                deps.split_whitespace().map(str::to_string).collect(),
            )
        })
        .collect()
}

/// The tally crates a Cargo.toml's `[dependencies]` (not dev or build) names.
fn tally_dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let value: toml::Value = toml::from_str(&text).unwrap();
    value
        .get("dependencies")
        .and_then(|d| d.as_table())
        .map(|t| {
            t.keys()
                .filter_map(|k| k.strip_prefix("tally-"))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Arrows that ARCHITECTURE.md does not allow: (crate, dependency).
fn wrong_arrows(manifests: &[(String, PathBuf)]) -> Vec<(String, String)> {
    let allowed = allowed_dependencies();
    let mut wrong = Vec::new();
    for (krate, manifest) in manifests {
        let ok = allowed
            .get(krate)
            .unwrap_or_else(|| panic!("ARCHITECTURE.md's block has no line for {krate}"));
        for dep in tally_dependencies(manifest) {
            if !ok.contains(&dep) {
                wrong.push((krate.clone(), dep));
            }
        }
    }
    wrong
}

fn manifests() -> Vec<(String, PathBuf)> {
    let mut out = vec![("tally".to_string(), root().join("Cargo.toml"))];
    for e in std::fs::read_dir(root().join("crates")).unwrap() {
        let dir = e.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        out.push((name, dir.join("Cargo.toml")));
    }
    out.sort();
    out
}

#[test]
fn dependencies_point_the_way_architecture_md_draws_them() {
    let manifests = manifests();
    assert!(manifests.len() >= 8, "{manifests:?}");
    assert_eq!(wrong_arrows(&manifests), Vec::<(String, String)>::new());

    // An arrow the wrong way (metrics depending on report) is caught.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("Cargo.toml");
    let mut text = read("crates/metrics/Cargo.toml");
    text = text.replacen(
        "[dependencies]\n",
        "[dependencies]\ntally-report.workspace = true\n",
        1,
    );
    std::fs::write(&bad, text).unwrap();
    assert_eq!(
        wrong_arrows(&[("metrics".to_string(), bad)]),
        vec![("metrics".to_string(), "report".to_string())]
    );
}

#[test]
fn every_file_the_code_map_names_exists() {
    let doc = read("ARCHITECTURE.md");
    let map = &doc[doc.find("## Code map").unwrap()..];
    let map = &map[..map[3..].find("\n## ").unwrap()];
    let mut missing = Vec::new();
    let mut checked = 0;
    // One bullet per crate or folder: its first backticked path is where its files are.
    for bullet in map.split("\n- ").skip(1) {
        let names: Vec<&str> = bullet.split('`').skip(1).step_by(2).collect();
        let Some(base) = names.first() else { continue };
        let base = if base.starts_with("crates/") {
            format!("{base}/src")
        } else {
            base.trim_end_matches('/').to_string()
        };
        if !root().join(&base).exists() {
            missing.push(base.clone());
        }
        for name in &names[1..] {
            let is_file = [".rs", ".md", ".toml"].iter().any(|x| name.ends_with(x));
            if !is_file || name.contains('*') || name.contains('<') {
                continue;
            }
            checked += 1;
            let at_root = ["docs/", "pipelines/", "data/", "tests/", "bench/"]
                .iter()
                .any(|d| name.starts_with(d));
            let path = if at_root {
                root().join(name)
            } else {
                root().join(&base).join(name)
            };
            if !path.exists() {
                missing.push(path.display().to_string());
            }
        }
    }
    assert!(checked > 40, "{checked} files checked");
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names files that do not exist: {missing:?}"
    );
}

/// The number before `word` in README's text, e.g. "36 metrics".
fn readme_number(before: &str) -> usize {
    let readme = read("README.md");
    let at = readme
        .find(before)
        .unwrap_or_else(|| panic!("README.md says \"{before}\""));
    let head = readme[..at].trim_end();
    let digits: String = head
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().expect("a number")
}

#[test]
fn readme_counts_what_the_code_has() {
    assert_eq!(
        readme_number(" metrics: public-computer use"),
        tally_metrics::Metric::ALL.len(),
        "README's count of metrics"
    );
}

/// The `crate::` paths a file of tally-metrics uses (its layer's arrows).
fn metric_arrows(file: &Path) -> BTreeSet<String> {
    let src = std::fs::read_to_string(file).unwrap();
    // Tests inside a file may reach anywhere.
    let src = src.split("#[cfg(test)]").next().unwrap_or_default();
    src.match_indices("crate::")
        .map(|(i, _)| {
            src[i + "crate::".len()..]
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// Arrows of tally-metrics' files that point up its layers (ARCHITECTURE.md: catalogue
/// and dispatcher at the top, engines and derived metrics below, base at the bottom).
fn upward_metric_arrows(src: &Path) -> Vec<(String, String)> {
    let forbidden = |layer: &str| -> &'static [&'static str] {
        match layer {
            "base" => &["compute", "engines", "derived", "query"],
            "engines" => &["compute", "derived", "query"],
            "derived" => &["compute", "query"],
            _ => &[],
        }
    };
    let mut wrong = Vec::new();
    for layer in ["base", "engines", "derived"] {
        for file in walk(&src.join(layer)) {
            for to in metric_arrows(&file) {
                if forbidden(layer).contains(&to.as_str()) {
                    wrong.push((file.display().to_string(), to));
                }
            }
        }
    }
    wrong
}

#[test]
fn metric_layers_point_down() {
    let src = root().join("crates/metrics/src");
    assert!(walk(&src.join("engines")).len() >= 5);
    assert_eq!(upward_metric_arrows(&src), Vec::<(String, String)>::new());

    // An engine that calls the dispatcher is caught.
    let dir = tempfile::tempdir().unwrap();
    for layer in ["base", "engines", "derived"] {
        std::fs::create_dir_all(dir.path().join(layer)).unwrap();
    }
    std::fs::write(
        dir.path().join("engines/x.rs"),
        "use crate::base::grid::Grid;\nfn f() { crate::compute::compute(); }\n",
    )
    .unwrap();
    assert_eq!(
        upward_metric_arrows(dir.path()),
        vec![(
            dir.path().join("engines/x.rs").display().to_string(),
            "compute".to_string()
        )]
    );
}

/// Vendor names in the code (not the comments) of a file.
fn vendor_words(src: &str) -> Vec<String> {
    const VENDORS: [&str; 13] = [
        "papercut",
        "symphony",
        "envisionware",
        "snipe",
        "libki",
        "koha",
        "evergreen",
        "meraki",
        "osticket",
        "glpi",
        "jira",
        "intune",
        "nessus",
    ];
    src.split("#[cfg(test)]")
        .next()
        .unwrap_or_default()
        .lines()
        .map(|l| {
            l.split("//")
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
        .flat_map(|code| {
            VENDORS
                .iter()
                .filter(|v| code.contains(**v))
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn vendor_knowledge_is_in_the_formats_declarations() {
    // Ingest's shared core (everything but adapters/) knows no vendor: what a vendor's
    // export needs is its format's declaration (preamble, lookalikes, settings, site
    // policy) or its adapter.
    let core = root().join("crates/ingest/src");
    let mut found = Vec::new();
    for e in std::fs::read_dir(&core).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "rs") {
            for v in vendor_words(&read(&format!(
                "crates/ingest/src/{}",
                path.file_name().unwrap().to_string_lossy()
            ))) {
                found.push(format!("{}: {v}", path.display()));
            }
        }
    }
    assert_eq!(found, Vec::<String>::new());
    assert_eq!(
        vendor_words("let x = 1; // PaperCut's banner\nif line.starts_with(\"PaperCut\") {}"),
        vec!["papercut".to_string()]
    );
}

#[test]
fn adapters_borrow_only_from_their_family_or_the_shared_modules() {
    // A format's module uses another module of adapters/ only when it is its family's
    // (declared below) or shared by all (mod.rs, shared.rs, site.rs).
    let family: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("ad_computers", &["assets", "directory"][..]),
        ("intune", &["assets", "directory"][..]),
        ("directory", &["assets"][..]),
        ("inventory", &["assets"][..]),
        ("snipe_it", &["assets"][..]),
        ("evergreen_circ", &["loans"][..]),
        ("koha_old_issues", &["loans"][..]),
        ("libki", &["libki_actions"][..]),
        ("libki_history", &["libki_actions"][..]),
        ("totals_long", &["totals"][..]),
        ("totals_wide", &["totals"][..]),
        ("osticket", &["tickets"][..]),
        ("rt", &["tickets"][..]),
        ("glpi", &["tickets"][..]),
        ("jira", &["tickets"][..]),
    ]);
    let dir = root().join("crates/ingest/src/adapters");
    let mut wrong = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let src = std::fs::read_to_string(&path).unwrap();
        for (i, _) in src.match_indices("adapters::") {
            let used: String = src[i + "adapters::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let is_module = dir.join(format!("{used}.rs")).exists();
            let allowed = ["shared", "site", name.as_str()].contains(&used.as_str())
                || family
                    .get(name.as_str())
                    .is_some_and(|f| f.contains(&used.as_str()));
            if is_module && !allowed {
                wrong.push(format!("{name} uses {used}"));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert_eq!(wrong, Vec::<String>::new());
}

#[test]
fn every_metric_is_checked_by_a_test() {
    // A metric no test names is a definition nobody checks: each must appear in a test
    // (as Metric::Variant or by its name in quotes).
    let tests: String = walk(&root().join("tests"))
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let catalogue = read("crates/metrics/src/catalogue.rs");
    let unchecked: Vec<&str> = tally_metrics::Metric::ALL
        .iter()
        .filter(|m| {
            let variant = catalogue
                .split(&format!("name: \"{}\",", m.name()))
                .next()
                .and_then(|before| before.rsplit("=> MetricInfo").nth(1))
                .and_then(|before| before.split_whitespace().last())
                .unwrap_or_default()
                .to_string();
            !tests.contains(&format!("Metric::{variant},"))
                && !tests.contains(&format!("Metric::{variant})"))
                && !tests.contains(&format!("\"{}\"", m.name()))
        })
        .map(|m| m.name())
        .collect();
    assert_eq!(unchecked, Vec::<&str>::new());
}

#[test]
fn the_by_help_names_every_dimension() {
    let cli = read("src/cli.rs");
    for d in tally_metrics::Dim::ALL {
        assert!(
            cli.contains(&format!(" {},", d.column()))
                || cli.contains(&format!(" {}.", d.column())),
            "src/cli.rs: --by's help does not name {}",
            d.column()
        );
    }
}

/// The variants of `pub enum name` in `file`, and the names in its `ALL` list.
fn variants_and_all(file: &str, name: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let src = read(file);
    let start = src
        .find(&format!("pub enum {name} {{"))
        .unwrap_or_else(|| panic!("{file}: no enum {name}"));
    let body = &src[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find("\n}").unwrap()];
    let variants = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            l.split(|c: char| !c.is_alphanumeric() && c != '_')
                .next()
                .unwrap()
                .to_string()
        })
        .filter(|v| !v.is_empty())
        .collect();
    let all_at = src
        .find(&format!("pub const ALL: [{name};"))
        .unwrap_or_else(|| panic!("{file}: no {name}::ALL"));
    let list = &src[all_at..];
    let list = &list[list.find("= [").unwrap()..list.find("];").unwrap()];
    let prefix = format!("{name}::");
    let all = list
        .split(&prefix)
        .skip(1)
        .map(|s| {
            s.split(|c: char| !c.is_alphanumeric() && c != '_')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    (variants, all)
}

#[test]
fn every_all_list_names_every_variant() {
    for (file, name) in [
        ("crates/model/src/bucket.rs", "BucketKind"),
        ("crates/model/src/tables.rs", "Table"),
        ("crates/model/src/tables.rs", "UserType"),
        ("crates/metrics/src/catalogue.rs", "Dim"),
        ("crates/report/src/doc.rs", "Format"),
        ("crates/report/src/plot.rs", "Kind"),
    ] {
        let (variants, all) = variants_and_all(file, name);
        assert!(!variants.is_empty(), "{name}");
        assert_eq!(
            variants, all,
            "{file}: {name}::ALL against the enum's variants"
        );
    }
}

#[test]
fn every_crate_example_is_run_by_tests_examples_rs() {
    let run: BTreeSet<String> = read("tests/examples.rs")
        .lines()
        .map(|l| l.trim().to_string())
        .collect();
    let mut examples = 0;
    for e in std::fs::read_dir(root().join("crates")).unwrap() {
        let lib = e.unwrap().path().join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap();
        let mut inside = false;
        for line in text.lines() {
            let Some(doc) = line.strip_prefix("//!") else {
                continue;
            };
            let doc = doc.trim();
            if doc.starts_with("```") {
                inside = !inside;
                examples += usize::from(inside);
                continue;
            }
            if inside && !doc.starts_with("//") && !doc.is_empty() {
                assert!(
                    run.contains(doc),
                    "{}: the example line `{doc}` is not run by tests/examples.rs",
                    lib.display()
                );
            }
        }
    }
    assert!(examples >= 7, "{examples} examples");
}
