//! A metric as SQL: the small tables that travel with it (the buckets of the request,
//! the library's calendar, kept counts...), named subqueries, and the final SELECT.
//! Rendered as one statement with every small table inline (`tally sql`), or as a job
//! whose small tables are Parquet files beside it (`tally spark-job`).

use std::fmt::Write;

use crate::sql::dialect::Dialect;

/// A column type both engines spell the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    BigInt,
    Double,
    Text,
    Bool,
}

impl Ty {
    pub fn sql(self) -> &'static str {
        match self {
            Ty::BigInt => "BIGINT",
            Ty::Double => "DOUBLE",
            Ty::Text => "STRING",
            Ty::Bool => "BOOLEAN",
        }
    }
}

/// One value of a small table.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
    Null,
}

impl Value {
    fn sql(&self, ty: Ty, d: Dialect) -> String {
        match self {
            Value::Null => d.null(ty.sql()),
            Value::Int(v) => d.int(*v),
            Value::Float(v) => d.double(*v),
            Value::Text(s) => d.text(s),
            Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        }
    }
}

/// A small table the SQL needs beyond the lake's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct SmallTable {
    pub name: String,
    pub columns: Vec<(String, Ty)>,
    pub rows: Vec<Vec<Value>>,
}

impl SmallTable {
    pub fn new(name: &str, columns: &[(&str, Ty)]) -> SmallTable {
        SmallTable {
            name: name.into(),
            columns: columns.iter().map(|(c, t)| (c.to_string(), *t)).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Value>) {
        debug_assert_eq!(row.len(), self.columns.len(), "{}", self.name);
        self.rows.push(row);
    }

    /// The table as a SELECT of literal rows (typed, so every engine reads the same
    /// types), or of no row.
    pub fn inline(&self, d: Dialect) -> String {
        let names: Vec<&str> = self.columns.iter().map(|(c, _)| c.as_str()).collect();
        if self.rows.is_empty() {
            let cols: Vec<String> = self
                .columns
                .iter()
                .map(|(c, t)| format!("{} AS {c}", d.null(t.sql())))
                .collect();
            return format!("SELECT {} WHERE 1 = 0", cols.join(", "));
        }
        let mut s = String::from("SELECT * FROM (VALUES ");
        for (i, row) in self.rows.iter().enumerate() {
            if i > 0 {
                s.push_str(",\n  ");
            }
            s.push('(');
            for (j, (v, (_, t))) in row.iter().zip(&self.columns).enumerate() {
                if j > 0 {
                    s.push_str(", ");
                }
                s.push_str(&v.sql(*t, d));
            }
            s.push(')');
        }
        let _ = write!(s, ") AS v({})", names.join(", "));
        s
    }
}

/// The final SELECT of a plan: its columns (expression, name), what it reads (the FROM
/// clause and after: joins, WHERE), and its row order. Kept apart so a metric built on
/// another (minutes at capacity a week on time at capacity) or a shape (`--top`,
/// `--complete-only`) can take it as a subquery and keep its order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Select {
    pub cols: Vec<(String, String)>,
    pub from: String,
    pub order: Vec<String>,
}

impl Select {
    /// A metric's table over buckets (`bk`, the `buckets` table, in the FROM): the
    /// dimensions, the bucket's label, the value, any extra columns, then the bucket's
    /// partial-bucket columns.
    pub fn bucketed(
        dims: &[(String, String)],
        value: (String, String),
        extra: &[(String, String)],
        from: String,
        order: Vec<String>,
    ) -> Select {
        let mut cols: Vec<(String, String)> = dims.to_vec();
        cols.push(("bk.label".into(), "bucket".into()));
        cols.push(value);
        cols.extend(extra.iter().cloned());
        for c in ["partial", "days_covered", "bucket_days"] {
            cols.push((format!("bk.{c}"), c.into()));
        }
        Select { cols, from, order }
    }

    /// The SELECT as text (each column's name quoted: a trend has a column `from`).
    pub fn render(&self, d: Dialect) -> String {
        let cols: Vec<String> = self
            .cols
            .iter()
            .map(|(e, name)| format!("{e} AS {}", d.ident(name)))
            .collect();
        let mut s = format!("SELECT {} FROM {}", cols.join(", "), self.from);
        if !self.order.is_empty() {
            s.push_str(&format!(" ORDER BY {}", self.order.join(", ")));
        }
        s
    }

    /// This SELECT with its order keys as columns (`o_0`, ...) and no ORDER BY, and a
    /// SELECT of its columns from it (named `name`, as `w`) in the same order.
    pub fn ordered(&self, d: Dialect, name: &str) -> (String, Select) {
        let mut inner = self.clone();
        let order = std::mem::take(&mut inner.order);
        let mut directions = Vec::new();
        for (i, o) in order.iter().enumerate() {
            let (key, direction) = split_direction(o);
            inner.cols.push((key.to_string(), format!("o_{i}")));
            directions.push(direction);
        }
        let outer = Select {
            cols: self
                .cols
                .iter()
                .map(|(_, n)| (format!("w.{}", d.ident(n)), n.clone()))
                .collect(),
            from: format!("{name} w"),
            order: directions
                .iter()
                .enumerate()
                .map(|(i, dir)| format!("w.o_{i}{dir}"))
                .collect(),
        };
        (inner.render(d), outer)
    }

    /// The column named `name`'s expression.
    pub fn col_mut(&mut self, name: &str) -> Option<&mut String> {
        self.cols
            .iter_mut()
            .find(|(_, n)| n == name)
            .map(|(e, _)| e)
    }
}

/// An ORDER BY key split into its expression and its direction (` DESC NULLS LAST`, or
/// empty), so the key can become a column and the direction stay in the ORDER BY.
fn split_direction(key: &str) -> (&str, &str) {
    let upper = key.to_ascii_uppercase();
    for suffix in [
        " ASC NULLS LAST",
        " ASC NULLS FIRST",
        " DESC NULLS LAST",
        " DESC NULLS FIRST",
        " ASC",
        " DESC",
    ] {
        if upper.ends_with(suffix) {
            let at = key.len() - suffix.len();
            return (&key[..at], &key[at..]);
        }
    }
    (key, "")
}

/// A metric as SQL, before it is written out.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Small tables, referred to by name from the subqueries.
    pub tables: Vec<SmallTable>,
    /// Named subqueries, in order, each referring only to tables and earlier ones.
    pub ctes: Vec<(String, String)>,
    /// Plans this one reads as named subqueries, each whole (its own small tables):
    /// the same metric a year before, beside this year's.
    pub children: Vec<(String, Plan)>,
    /// The final SELECT: the columns of `tally metric --format csv`, in its row order.
    pub select: Select,
}

impl Plan {
    pub fn table(&mut self, t: SmallTable) {
        self.tables.push(t);
    }

    pub fn cte(&mut self, name: &str, body: impl Into<String>) {
        self.ctes.push((name.into(), body.into()));
    }

    /// Turns the final SELECT into the subquery `name`, each of its order keys a column
    /// (`o_0`, `o_1`, ...), and returns a SELECT of its columns from it (as `w`) in the same
    /// order, for a caller to change.
    pub fn wrap(&mut self, d: Dialect, name: &str) -> Select {
        let (body, select) = self.select.ordered(d, name);
        self.cte(name, body);
        select
    }

    /// One statement: every small table inline, then the subqueries, then the SELECT.
    pub fn statement(&self, d: Dialect) -> String {
        self.render(d, &self.select.render(d), &Tables::Inline, "")
    }

    /// The statement with the small tables read from Parquet files: `path(name)` is where
    /// each was written (a job writes them beside its SQL; a child's tables are named
    /// `child.table`).
    pub fn statement_with_files(&self, d: Dialect, path: &dyn Fn(&str) -> String) -> String {
        self.render(d, &self.select.render(d), &Tables::Files(path), "")
    }

    /// Every small table of the plan and of its children, with the name a job's file of
    /// it has (`table`, `child.table`).
    pub fn all_tables(&self) -> Vec<(String, &SmallTable)> {
        let mut out: Vec<(String, &SmallTable)> = Vec::new();
        for (name, child) in &self.children {
            out.extend(
                child
                    .all_tables()
                    .into_iter()
                    .map(|(n, t)| (format!("{name}.{n}"), t)),
            );
        }
        out.extend(self.tables.iter().map(|t| (t.name.clone(), t)));
        out
    }

    fn render(&self, d: Dialect, select: &str, tables: &Tables<'_>, prefix: &str) -> String {
        let mut parts: Vec<String> = self
            .children
            .iter()
            .map(|(name, child)| {
                let (body, _) = child.select.ordered(d, name);
                let inner = child.render(d, &body, tables, &format!("{prefix}{name}."));
                format!("{name} AS (\n{inner}\n)")
            })
            .collect();
        parts.extend(self.tables.iter().map(|t| {
            let body = match tables {
                Tables::Inline => t.inline(d),
                Tables::Files(path) => {
                    let names: Vec<&str> = t.columns.iter().map(|(c, _)| c.as_str()).collect();
                    d.files(&[path(&format!("{prefix}{}", t.name))], &names)
                }
            };
            format!("{} AS (\n{body}\n)", t.name)
        }));
        parts.extend(
            self.ctes
                .iter()
                .map(|(name, body)| format!("{name} AS (\n{body}\n)")),
        );
        if parts.is_empty() {
            return select.to_string();
        }
        format!("WITH\n{}\n{select}", parts.join(",\n"))
    }
}

/// Where a statement's small tables come from.
enum Tables<'a> {
    Inline,
    Files(&'a dyn Fn(&str) -> String),
}
