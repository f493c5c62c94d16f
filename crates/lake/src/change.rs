//! Changes of the lake that rewrite committed files (`tally lake upgrade`, `tally purge`):
//! every new file is staged under `_staging/<change>/` and fsynced, then `plan.json` is
//! written (the commit point), then the files are renamed over the old ones and
//! `_lake.json` is written last. A kill before `plan.json` leaves the old lake (the next
//! writer deletes the staging); a kill after it is finished by the next writer
//! ([`finish_interrupted_changes`]). Readers refuse the lake while a plan is pending, so
//! none sees half of a change.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{LakeError, io};
use crate::fsio::{move_into_place, write_atomic};
use crate::layout::{Lake, LakeMeta, PENDING_CHANGES};

/// The plan of a change that stages its files (`upgrade`, `purge`), written when every
/// file is staged: its commit point.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Plan {
    /// The format an upgrade writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_format: Option<u32>,
    /// The lake's metadata once the change is applied (a purge's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<LakeMeta>,
    /// (staged file, final path relative to the lake root).
    pub moves: Vec<(PathBuf, String)>,
}

/// Finishes a change (upgrade or purge) a kill interrupted after its commit point, or
/// drops one that was interrupted before it. Called with the lake's lock held.
pub(crate) fn finish_interrupted_changes(lake: &Lake) -> Result<(), LakeError> {
    for change in PENDING_CHANGES {
        let dir = lake.change_dir(change);
        let plan_path = dir.join("plan.json");
        if plan_path.exists() {
            let bytes = std::fs::read(&plan_path).map_err(io(&plan_path))?;
            let plan: Plan = serde_json::from_slice(&bytes).map_err(|e| LakeError::Malformed {
                path: plan_path.clone(),
                message: format!("not a change's plan: {e}"),
            })?;
            tracing::warn!(lake = %lake.root().display(), change, "finishing an interrupted change of the lake");
            apply(lake, change, &plan)?;
        } else if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
    }
    Ok(())
}

/// Writes `plan.json` (temp, fsync, rename, fsync of the folder): the commit point, from
/// which a kill is finished by the next writer. Then applies it.
pub(crate) fn commit(lake: &Lake, change: &str, plan: &Plan) -> Result<(), LakeError> {
    let dir = lake.change_dir(change);
    let json = serde_json::to_vec_pretty(plan).expect("the plan serialises");
    write_atomic(
        &dir,
        &dir.join("plan.json.tmp"),
        &dir.join("plan.json"),
        &json,
    )?;
    apply(lake, change, plan)
}

/// Renames the staged files into place (those not moved yet), writes the new metadata,
/// and removes the staging folder.
fn apply(lake: &Lake, change: &str, plan: &Plan) -> Result<(), LakeError> {
    for (staged, rel) in &plan.moves {
        if staged.exists() {
            move_into_place(staged, &lake.root().join(rel))?;
        }
    }
    let mut meta = match &plan.meta {
        Some(meta) => meta.clone(),
        None => lake.meta()?.unwrap_or_default(),
    };
    if let Some(format) = plan.to_format {
        meta.format = format;
    }
    lake.write_meta(&meta)?;
    let dir = lake.change_dir(change);
    std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
    let _ = std::fs::remove_dir(lake.staging_dir());
    Ok(())
}
