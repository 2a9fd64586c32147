//! `merge`: indexes made on different machines (one per host or file
//! server) into one. Records are re-indexed from their stored JSON, so the
//! result is exactly what scanning into one index would have produced.

use std::ops::ControlFlow;
use std::path::Path;

use rmsweep_scanner::record::{EvidenceRecord, HiveEntry, HiveRecords, SettingRecord};
use rmsweep_scanner::Record;
use tantivy::query::AllQuery;

use crate::history::Run;
use crate::open::RmsIndex;
use crate::rows::{for_each_in_order, matching};
use crate::writer::{IndexSession, WriteStats};
use crate::IndexError;

/// Merges `sources` into `out` (created if missing). A (label, path) present
/// in several sources keeps the last source's record. Every source is
/// opened first: a merge that cannot read one creates nothing. A new output
/// is built in a hidden sibling folder and renamed into place when complete,
/// so a merge killed midway leaves no output index that looks finished.
pub fn merge(out: &Path, sources: &[&Path]) -> Result<WriteStats, IndexError> {
    let indexes = sources
        .iter()
        .map(|s| RmsIndex::open(s))
        .collect::<Result<Vec<_>, _>>()?;
    let fresh = std::fs::read_dir(out).map_or(true, |mut d| d.next().is_none());
    if !fresh {
        return merge_into(&RmsIndex::open_or_create(out)?, sources, &indexes);
    }
    let staging = staging_dir(out);
    let _ = std::fs::remove_dir_all(&staging);
    let stats = merge_into(&RmsIndex::open_or_create(&staging)?, sources, &indexes);
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

/// A stored record: a registry record (its `kind` is `setting`) or a store file's.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Stored {
    Setting(Box<SettingRecord>),
    Evidence(Box<EvidenceRecord>),
    File(Box<Record>),
}

/// Adds the gathered records of one hive (the hive's own record first).
fn flush(session: &mut IndexSession, hive: &mut Vec<SettingRecord>) -> Result<(), IndexError> {
    if hive.is_empty() {
        return Ok(());
    }
    let mut records = std::mem::take(hive);
    records.sort_by_key(|r| !matches!(r.entry, HiveEntry::Hive(_)));
    session.upsert_hive(&HiveRecords {
        records,
        files: Vec::new(),
    })
}

fn merge_into(
    target: &RmsIndex,
    sources: &[&Path],
    indexes: &[RmsIndex],
) -> Result<WriteStats, IndexError> {
    let run = Run::new(
        "merge",
        sources.iter().map(|s| s.display().to_string()).collect(),
        None,
    );
    // The merged index keeps the scan history of every source.
    let mut inherited = Vec::new();
    for idx in indexes {
        inherited.extend(crate::history::runs(idx)?);
    }
    let mut session = IndexSession::start_inheriting(target, 2, run, inherited)?;
    for idx in indexes {
        let searcher = crate::searcher(idx)?;
        let docs = matching(&searcher, &AllQuery)
            .map_err(|e| IndexError::Tantivy(idx.dir.clone(), e.to_string()))?;
        let mut failed = None;
        // A hive's records (adjacent: they share label and path) are
        // replaced together, so they are gathered before they are added.
        let mut hive: Vec<SettingRecord> = Vec::new();
        let corrupt = |e: serde_json::Error| IndexError::Corrupt(idx.dir.clone(), e.to_string());
        for_each_in_order(idx, &searcher, &docs, None, |_, json| {
            let added = match serde_json::from_str::<Stored>(json.get()).map_err(corrupt) {
                Ok(Stored::Setting(r)) => {
                    let same = hive
                        .first()
                        .is_none_or(|h| h.label == r.label && h.path == r.path);
                    let flushed = if same {
                        Ok(())
                    } else {
                        flush(&mut session, &mut hive)
                    };
                    hive.push(*r);
                    flushed
                }
                Ok(Stored::Evidence(record)) => {
                    flush(&mut session, &mut hive).and_then(|()| session.upsert_evidence(&record))
                }
                Ok(Stored::File(record)) => {
                    flush(&mut session, &mut hive).and_then(|()| session.upsert(&record))
                }
                Err(e) => Err(e),
            };
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
        flush(&mut session, &mut hive)?;
    }
    session.finish()
}
