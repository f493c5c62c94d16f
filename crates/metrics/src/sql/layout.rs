//! The table a metric's SQL ends in, as `assemble` (base/frame.rs) lays it out: every
//! group seen in the rows with every bucket, in order, zeros where nothing happened, small
//! cells suppressed where the breakdown could single a patron out, then the bucket's
//! partial-bucket columns.

use crate::base::frame::suppressible;
use crate::base::request::MetricError;
use crate::sql::Ask;
use crate::sql::plan::{Plan, Select};

/// A column some metrics carry beside their value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extra {
    /// os_support by os: the day the cycle's support ends (`eol_text` of the rows).
    Eol,
    /// os_support not by site: how many sites a cell's devices are at (`at_site`).
    Sites,
}

/// Lays out the CTE `rows` (the dimensions' columns, `b` the bucket, and what `agg`
/// reads): `agg` per (group, bucket), zero where a group has no row in a bucket; a whole
/// number when `integral`; with `running`, each cell is its sum with the group's earlier
/// buckets.
pub(crate) fn filled(
    a: &Ask<'_>,
    p: &mut Plan,
    dims: &[&str],
    agg: &str,
    integral: bool,
    running: bool,
    extra: &[Extra],
) -> Result<(), MetricError> {
    let d = a.d;
    let metric = a.req.metric;
    let keys: Vec<String> = dims
        .iter()
        .map(|c| c.to_string())
        .chain(["b".into()])
        .collect();
    p.cte(
        "agg",
        format!(
            "SELECT {keys}, {agg} AS v FROM rows GROUP BY {keys}",
            keys = keys.join(", ")
        ),
    );
    if dims.is_empty() {
        p.cte("groups", "SELECT 1 AS one");
    } else {
        p.cte(
            "groups",
            format!("SELECT DISTINCT {} FROM rows", dims.join(", ")),
        );
    }
    let on = |rel: &str| -> String {
        dims.iter()
            .map(|c| format!("{rel}.{c} IS NOT DISTINCT FROM g.{c} AND "))
            .collect()
    };
    let mut joins = format!(" LEFT JOIN agg a ON {}a.b = bk.b", on("a"));
    let mut extras: Vec<(String, String)> = Vec::new();
    for e in extra {
        match e {
            Extra::Eol => {
                p.cte(
                    "eols",
                    "SELECT os, MIN(eol_text) AS eol FROM rows GROUP BY os",
                );
                joins.push_str(" LEFT JOIN eols e ON e.os = g.os");
                extras.push(("e.eol".into(), "eol".into()));
            }
            Extra::Sites => {
                let keys = keys.join(", ");
                p.cte(
                    "sites_at",
                    format!(
                        "SELECT {keys}, CAST(COUNT(DISTINCT at_site) AS BIGINT) AS n FROM rows GROUP BY {keys}"
                    ),
                );
                joins.push_str(&format!(
                    " LEFT JOIN sites_at sa ON {}sa.b = bk.b",
                    on("sa")
                ));
                extras.push(("COALESCE(sa.n, CAST(0 AS BIGINT))".into(), "sites".into()));
            }
        }
    }
    let cell = "COALESCE(a.v, 0E0)";
    let cell = if running {
        let partition = if dims.is_empty() {
            String::new()
        } else {
            format!(
                "PARTITION BY {} ",
                dims.iter()
                    .map(|c| format!("g.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        format!(
            "SUM({cell}) OVER ({partition}ORDER BY bk.b ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
        )
    } else {
        cell.to_string()
    };
    let value = if integral {
        let v = format!("CAST({cell} AS BIGINT)");
        if suppressible(metric, &a.dims) {
            let min = a.sites.library.min_cell_size as i64;
            format!(
                "CASE WHEN {cell} > 0E0 AND {cell} < {min}E0 THEN {} ELSE {v} END",
                d.null("BIGINT")
            )
        } else {
            v
        }
    } else {
        cell
    };
    let out_dims: Vec<(String, String)> = dims
        .iter()
        .map(|c| (format!("g.{c}"), c.to_string()))
        .collect();
    let order: Vec<String> = dims
        .iter()
        .map(|c| format!("g.{c} ASC NULLS LAST"))
        .chain(["bk.b".into()])
        .collect();
    p.select = Select::bucketed(
        &out_dims,
        (value, metric.name().into()),
        &extras,
        format!("groups g CROSS JOIN buckets bk{joins}"),
        order,
    );
    Ok(())
}
