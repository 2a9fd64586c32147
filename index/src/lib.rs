//! rmsweep's index: the only crate that knows tantivy.
//!
//! - [`schema`]: field handles and the schema version.
//! - [`document`]: the record → document mapping.
//! - [`open`]: creating and opening an index, version-checked.
//! - [`writer`]: the single writer thread, batched commits.
//! - [`incremental`]: what is already indexed, for skipping unchanged files.
//! - [`query`]: `search` and `export`.
//! - [`reports`]: `templates`, `issuers`, `stale`, `foreign`.
//! - [`merge`]: several indexes into one.
//! - [`history`]: which runs wrote the index, in its commit payload.
//! - [`hosts`]: what identifies the host behind a label (machine IDs).
//! - [`rows`]: reading stored records one at a time, in order.
//! - [`readonly`]: reading an index on read-only media.
//! - [`summary`]: the overview an HTML report draws (counts, dates).

pub mod document;
pub mod findings;
pub mod history;
pub mod hostconfig;
pub mod hosts;
pub mod import;
pub mod incremental;
pub mod merge;
pub mod open;
pub mod query;
pub mod readonly;
pub mod reports;
pub mod rescan;
pub mod restore;
pub mod rows;
pub mod schema;
pub mod summary;
pub mod writer;

use std::path::PathBuf;

pub use open::RmsIndex;
pub use writer::{prepare, IndexSession, Prepared, WriteStats};

/// Everything that can go wrong with an index, each naming what to do.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{0}: no index here: run `rmsweep scan ROOT --index {0}` first")]
    Missing(PathBuf),
    #[error("{0}: not an rmsweep index (no rmsweep-index.json): point --index at an rmsweep index, or at an empty or new folder to create one")]
    NotAnIndex(PathBuf),
    #[error("{0}: its rmsweep-index.json is damaged ({1}): restore the index from a copy, or rebuild it by scanning into a new folder")]
    DamagedMeta(PathBuf, String),
    #[error("{path}: this index has schema version {found}; this rmsweep uses version {expected}. Rebuild it: scan the evidence again into a new folder (`rmsweep scan ROOT --index NEWDIR`), or delete {path} and scan again")]
    Version {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("{0}: another rmsweep is writing to this index; wait for it to finish (the lock is released when that process exits)")]
    Busy(PathBuf),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("{0}: a mount point (or a folder in use) cannot be replaced by a new index: point --index at a folder inside it, e.g. {0}/rmsweep-index")]
    MountPoint(PathBuf),
    #[error("{0}: cannot write to the index ({1}). Free space or make the folder writable, then scan again: the index still holds its last commit")]
    Write(PathBuf, String),
    #[error("{0}: the index could not be read or written ({1}); if this repeats it may be damaged: rebuild it by scanning the evidence into a new folder (`rmsweep scan ROOT --index NEWDIR`)")]
    Tantivy(PathBuf, String),
    #[error("{0}: damaged record in the index ({1}): rebuild the index by scanning again")]
    Corrupt(PathBuf, String),
    #[error("{0}")]
    BadQuery(String),
    #[error("the index writer stopped unexpectedly")]
    WriterStopped,
}

/// A searcher on the index's last commit (as of the first search through `idx`).
/// On read-only media, where tantivy cannot create its reader lock, the index
/// is read through [`readonly::ReadOnlyDirectory`].
pub fn searcher(idx: &RmsIndex) -> Result<tantivy::Searcher, IndexError> {
    if let Some(r) = idx.reader.get() {
        return Ok(r.searcher());
    }
    let err = |e: tantivy::TantivyError| IndexError::Tantivy(idx.dir.clone(), e.to_string());
    let open = |index: &tantivy::Index| -> tantivy::Result<tantivy::IndexReader> {
        index
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()
    };
    let reader = match open(&idx.index) {
        Err(tantivy::TantivyError::LockFailure(
            tantivy::directory::error::LockError::IoError(_),
            _,
        )) => {
            let dir = readonly::ReadOnlyDirectory::open(&idx.dir).map_err(err)?;
            let index = tantivy::Index::open(dir).map_err(err)?;
            schema::register_tokenizers(&index);
            open(&index).map_err(err)?
        }
        other => other.map_err(err)?,
    };
    Ok(idx.reader.get_or_init(|| reader).searcher())
}
