//! The file moves every change of the lake is made of: write to a temporary name, fsync,
//! rename, fsync the folder. A kill at any point leaves the old file or the new one.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use crate::error::{LakeError, io};

/// fsyncs a folder, so that a rename in it survives a power cut.
pub fn sync_dir(dir: &Path) -> Result<(), LakeError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Writes `bytes` to `dest` atomically through `tmp` (in the same file system), then
/// fsyncs `dest`'s folder `dir`.
pub fn write_atomic(dir: &Path, tmp: &Path, dest: &Path, bytes: &[u8]) -> Result<(), LakeError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    if let Some(parent) = tmp.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let mut f = File::create(tmp).map_err(io(tmp))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io(tmp))?;
    std::fs::rename(tmp, dest).map_err(io(dest))?;
    sync_dir(dest.parent().unwrap_or(dir))
}

/// Renames a staged file into place, creating its folder, and fsyncs the folder.
pub fn move_into_place(staged: &Path, dest: &Path) -> Result<(), LakeError> {
    let parent = dest.parent().expect("lake paths have a parent");
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    std::fs::rename(staged, dest).map_err(io(dest))?;
    sync_dir(parent)
}
