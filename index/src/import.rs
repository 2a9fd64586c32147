//! `import`: JSON lines written by `scan --jsonl` on other machines (or
//! returned as rows by a fleet engine) into an index, streamed, with their
//! provenance as written. Each host (label) in the input replaces that
//! host's records in the index; other hosts are untouched.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;

use crate::history::Run;
use crate::open::RmsIndex;
use crate::restore::{Restorer, Stored};
use crate::writer::{IndexSession, WriteStats};
use crate::IndexError;

/// A line that is no record rmsweep wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The input as named on the command line.
    pub source: String,
    /// 1-based.
    pub line: usize,
    pub error: String,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportStats {
    pub records: usize,
    /// The hosts whose records were replaced, in order of appearance.
    pub labels: Vec<String>,
    pub skipped: Vec<Skipped>,
    pub write: WriteStats,
}

/// Imports `sources` (a name for messages, and the opened input) into `out`
/// (created if missing). A line that does not parse is skipped and
/// reported; the lines around it are imported.
pub fn import(
    out: &Path,
    sources: Vec<(String, Box<dyn BufRead>)>,
) -> Result<ImportStats, IndexError> {
    let idx = RmsIndex::open_or_create(out)?;
    let names = sources.iter().map(|(n, _)| n.clone()).collect();
    let mut session = IndexSession::start(&idx, 2, Run::new("import", names, None))?;
    let mut stats = ImportStats::default();
    let mut replaced: HashSet<String> = HashSet::new();
    let mut restorer = Restorer::default();
    for (name, input) in sources {
        for (i, line) in input.lines().enumerate() {
            let line = line.map_err(|e| IndexError::Io(name.clone().into(), e))?;
            if line.trim().is_empty() {
                continue;
            }
            let record = match serde_json::from_str::<Stored>(&line) {
                Ok(r) => r,
                Err(e) => {
                    stats.skipped.push(Skipped {
                        source: name.clone(),
                        line: i + 1,
                        error: e.to_string(),
                    });
                    continue;
                }
            };
            // The first record of a host replaces what the index held of it.
            if replaced.insert(record.label().to_string()) {
                restorer.flush(&mut session)?;
                session.delete_label(record.label())?;
                restorer.fresh_label(record.label());
                stats.labels.push(record.label().to_string());
            }
            restorer.add(&mut session, record)?;
            stats.records += 1;
        }
    }
    restorer.flush(&mut session)?;
    stats.write = session.finish()?;
    Ok(stats)
}
