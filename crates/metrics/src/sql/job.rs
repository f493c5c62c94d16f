//! A Spark job: one SQL script that answers many requests and writes each answer as
//! Parquet, with the small tables it needs written beside it as Parquet (not inline: a
//! cluster reads them as it reads the lake). `spark-sql -f job.sql` runs it unchanged.
//!
//! Each result goes to `RESULTS/<folder>/` with one column more than tally's table,
//! [`ROW_COLUMN`] (the row's place in tally's order); `RESULTS/_index` names each
//! folder's request ([`request_key`]). `tally run --results` reads them back
//! (`answers::Results`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::answers::{INDEX, ROW_COLUMN, request_key};
use crate::base::request::{MetricError, Request};
use crate::sql::dialect::Dialect;
use crate::sql::plan::{Plan, SmallTable, Ty, Value};

/// The requests of a job, each with its plan and the folder its result goes to: under
/// its group's folder (a consortium member's code; empty for one library), which has its
/// own index.
#[derive(Default)]
pub struct Job {
    entries: Vec<(String, String, Request, Plan)>,
}

impl Job {
    pub fn new() -> Job {
        Job::default()
    }

    /// Adds a request's plan, its result to go to `group/folder` (`folder` unique in the
    /// group, and each request once in it).
    pub fn add(
        &mut self,
        group: &str,
        folder: &str,
        req: &Request,
        plan: Plan,
    ) -> Result<(), MetricError> {
        let key = request_key(req);
        if let Some((_, f, _, _)) = self
            .entries
            .iter()
            .find(|(g, f, r, _)| g == group && (f == folder || request_key(r) == key))
        {
            return Err(MetricError::Invalid(format!(
                "the job already has {} (as {f}): each result folder and request once",
                if f == folder { folder.to_string() } else { key }
            )));
        }
        self.entries
            .push((group.to_string(), folder.to_string(), req.clone(), plan));
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes `out/job.sql` and `out/tables/<folder>/<table>.parquet`. `results` is where
    /// Spark writes the answers; `bundle` is where Spark sees `out` (the small tables);
    /// `header` is said at the top of the script, as comments. Returns the files written.
    pub fn write(
        &self,
        out: &Path,
        results: &str,
        bundle: &str,
        header: &[String],
    ) -> Result<Vec<PathBuf>, MetricError> {
        let d = Dialect::Spark;
        let io =
            |p: &Path, e: std::io::Error| MetricError::Invalid(format!("{}: {e}", p.display()));
        std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
        let mut written = Vec::new();
        let mut sql = String::new();
        for line in header {
            let _ = writeln!(sql, "-- {line}");
        }
        sql.push_str(&d.preamble());
        let results = results.trim_end_matches('/');
        let bundle = bundle.trim_end_matches('/');
        let join = |a: &str, b: &str| {
            if a.is_empty() {
                b.to_string()
            } else {
                format!("{a}/{b}")
            }
        };
        let mut groups: Vec<&str> = Vec::new();
        for (g, ..) in &self.entries {
            if !groups.contains(&g.as_str()) {
                groups.push(g);
            }
        }
        let mut indexes: Vec<SmallTable> = groups
            .iter()
            .map(|_| {
                SmallTable::new(
                    "tally_index",
                    &[("request", Ty::Text), ("folder", Ty::Text)],
                )
            })
            .collect();
        for (i, (group, own, req, plan)) in self.entries.iter().enumerate() {
            let folder = join(group, own);
            let tables_dir = out.join("tables").join(&folder);
            std::fs::create_dir_all(&tables_dir).map_err(|e| io(&tables_dir, e))?;
            for (name, table) in plan.all_tables() {
                let path = tables_dir.join(format!("{name}.parquet"));
                let mut df = frame_of(table)?;
                tally_lake::write_parquet(&path, &mut df)
                    .map_err(|e| MetricError::Invalid(format!("{}: {e}", path.display())))?;
                written.push(path);
            }
            let mut plan = plan.clone();
            let mut select = plan.wrap(d, "answer");
            select.cols.push((
                format!("ROW_NUMBER() OVER (ORDER BY {})", select.order.join(", ")),
                ROW_COLUMN.into(),
            ));
            plan.select = select;
            let path_of = |name: &str| format!("{bundle}/tables/{folder}/{name}.parquet");
            let view = format!("tally_result_{}", i + 1);
            let _ = write!(
                sql,
                "\n-- {key}\nCREATE OR REPLACE TEMPORARY VIEW {view} AS\n{body};\n\
                 INSERT OVERWRITE DIRECTORY {dir} USING parquet\nSELECT /*+ COALESCE(1) */ * FROM {view};\n",
                key = request_key(req),
                body = plan.statement_with_files(d, &path_of),
                dir = d.text(&format!("{results}/{folder}")),
            );
            let g = groups.iter().position(|x| x == group).unwrap_or(0);
            indexes[g].push(vec![
                Value::Text(request_key(req)),
                Value::Text(own.clone()),
            ]);
        }
        for (group, index) in groups.iter().zip(&indexes) {
            let _ = write!(
                sql,
                "\n-- which request each folder answers (tally run --results reads it)\n\
                 INSERT OVERWRITE DIRECTORY {dir} USING parquet\n{body};\n",
                dir = d.text(&format!("{results}/{}", join(group, INDEX))),
                body = index.inline(d),
            );
        }
        let path = out.join("job.sql");
        std::fs::write(&path, sql).map_err(|e| io(&path, e))?;
        written.push(path);
        Ok(written)
    }
}

/// A small table as a frame of its declared types.
fn frame_of(t: &SmallTable) -> Result<DataFrame, MetricError> {
    let columns = t
        .columns
        .iter()
        .enumerate()
        .map(|(j, (name, ty))| {
            let cells = t.rows.iter().map(|r| &r[j]);
            let name = PlSmallStr::from(name.as_str());
            match ty {
                Ty::BigInt => Column::new(
                    name,
                    cells
                        .map(|v| match v {
                            Value::Int(x) => Some(*x),
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                ),
                Ty::Double => Column::new(
                    name,
                    cells
                        .map(|v| match v {
                            Value::Float(x) => Some(*x),
                            Value::Int(x) => Some(*x as f64),
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                ),
                Ty::Text => Column::new(
                    name,
                    cells
                        .map(|v| match v {
                            Value::Text(x) => Some(x.clone()),
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                ),
                Ty::Bool => Column::new(
                    name,
                    cells
                        .map(|v| match v {
                            Value::Bool(x) => Some(*x),
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                ),
            }
        })
        .collect::<Vec<_>>();
    Ok(DataFrame::new_infer_height(columns)?)
}
