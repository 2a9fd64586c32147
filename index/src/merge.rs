//! `merge`: indexes made on different machines (one per host or file
//! server) into one. Records are re-indexed from their stored JSON, so the
//! result is exactly what scanning into one index would have produced.

use std::ops::ControlFlow;
use std::path::Path;

use tantivy::query::AllQuery;

use crate::history::Run;
use crate::open::RmsIndex;
use crate::restore::{Restorer, Stored};
use crate::rows::{for_each_in_order, matching};
use crate::writer::{IndexSession, WriteStats};
use crate::IndexError;

/// Merges `sources` into `out` (created if missing). A (label, path) present
/// in several sources keeps the last source's record. Every source is
/// opened (and its history read) first: a merge that cannot read one
/// creates nothing. Then one source at a time is open, so memory does not
/// grow with their number. A new output is built in a hidden sibling folder
/// and renamed into place when complete, so a merge killed midway leaves no
/// output index that looks finished.
pub fn merge(out: &Path, sources: &[&Path]) -> Result<WriteStats, IndexError> {
    // The merged index keeps the scan history of every source.
    let mut inherited = Vec::new();
    for s in sources {
        inherited.extend(crate::history::runs(&RmsIndex::open(s)?)?);
    }
    let fresh = std::fs::read_dir(out).map_or(true, |mut d| d.next().is_none());
    if !fresh {
        return merge_into(&RmsIndex::open_or_create(out)?, sources, inherited);
    }
    let staging = staging_dir(out);
    let _ = std::fs::remove_dir_all(&staging);
    let stats = merge_into(&RmsIndex::open_or_create(&staging)?, sources, inherited);
    let stats = match stats {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    // rename(2) replaces an empty folder atomically.
    std::fs::rename(&staging, out).map_err(|e| IndexError::Io(out.to_path_buf(), e))?;
    Ok(stats)
}

/// `.NAME.merging` beside `out`.
fn staging_dir(out: &Path) -> std::path::PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    parent.join(format!(".{name}.merging"))
}

fn merge_into(
    target: &RmsIndex,
    sources: &[&Path],
    inherited: Vec<Run>,
) -> Result<WriteStats, IndexError> {
    let run = Run::new(
        "merge",
        sources.iter().map(|s| s.display().to_string()).collect(),
        None,
    );
    let mut session = IndexSession::start_inheriting(target, 2, run, inherited)?;
    // Hosts the target does not hold yet need no delete before their records.
    let held = crate::reports::labels(target)?;
    let mut fresh = if held.is_empty() {
        Restorer::for_new_index()
    } else {
        Restorer::default()
    };
    for source in sources {
        let idx = &RmsIndex::open(source)?;
        for label in crate::reports::labels(idx)? {
            if !held.contains(&label) {
                fresh.fresh_label(&label);
            }
        }
        let searcher = crate::searcher(idx)?;
        let docs = matching(&searcher, &AllQuery)
            .map_err(|e| IndexError::Tantivy(idx.dir.clone(), e.to_string()))?;
        let mut failed = None;
        let restorer = &mut fresh;
        let corrupt = |e: serde_json::Error| IndexError::Corrupt(idx.dir.clone(), e.to_string());
        for_each_in_order(idx, &searcher, &docs, None, |_, json| {
            let added = serde_json::from_str::<Stored>(json.get())
                .map_err(corrupt)
                .and_then(|r| restorer.add(&mut session, r));
            match added {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    failed = Some(e);
                    ControlFlow::Break(())
                }
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        restorer.flush(&mut session)?;
    }
    session.finish()
}
