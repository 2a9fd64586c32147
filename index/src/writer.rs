//! The one thread that owns tantivy's `IndexWriter`.
//!
//! Records come from the scan's sink through a bounded channel (backpressure:
//! a slow index slows the scan instead of filling memory). Commits happen in
//! batches, never per document; tantivy's commit is atomic, so a scan killed
//! at any moment leaves the index at its last commit and the next
//! (incremental) scan completes it.

use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Sender};
use rmsweep_scanner::record::{EvidenceRecord, HiveEntry, HiveRecords};
use rmsweep_scanner::{Found, Record};
use tantivy::{IndexWriter, TantivyDocument, Term};

use crate::document::{evidence_document, setting_document, to_document};
use crate::history::{self, Run, RunStatus};
use crate::open::RmsIndex;
use crate::schema::{file_id, Fields};
use crate::IndexError;

/// Documents between commits, unless told otherwise. Large on purpose: each
/// commit writes one segment per indexing thread, and past eight segments
/// tantivy merges them, which a scan would then wait for (measured on the
/// 2,000-profile scale volume: 20,000 cost 1.3× the scan time of 100,000).
pub const COMMIT_EVERY: usize = 100_000;
/// A commit at least this often, whatever the count: a long sweep over a slow
/// share keeps its progress if killed.
pub const COMMIT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);
/// Memory for tantivy's indexing threads, in total.
const WRITER_HEAP: usize = 96 * 1024 * 1024;

enum Op {
    /// A file's documents; with `true`, any earlier document of the same
    /// file is deleted first.
    Upsert([u8; 16], Vec<TantivyDocument>, bool),
    Delete([u8; 16]),
    /// Every document of a label (an imported host's earlier records).
    DeleteLabel(String),
    Commit,
    /// How the run ended; the final commit records it.
    Finish(RunStatus),
}

/// What the writer did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    pub upserted: usize,
    pub deleted: usize,
    pub commits: usize,
}

/// A file's records turned into index documents, ready for the writer.
/// Built with [`prepare`] on any thread (the scan's workers), so the writer
/// thread only adds.
pub struct Prepared {
    key: [u8; 16],
    docs: Vec<TantivyDocument>,
    replace: bool,
}

/// Builds the index documents of what a file gave, one `Prepared` per key:
/// a store file; or a hive (one document per record, replacing every
/// earlier record of the hive) and each file of the template folders it
/// names.
pub fn prepare(fields: &Fields, found: &Found) -> Vec<Prepared> {
    match found {
        Found::File(r) => vec![prepare_record(fields, r)],
        Found::Evidence(r) => vec![prepare_evidence(fields, r)],
        Found::Hive(h) => std::iter::once(prepare_hive(fields, h))
            .chain(h.files.iter().map(|r| prepare_record(fields, r)))
            .collect(),
    }
}

/// The documents of one store file's record.
pub fn prepare_record(fields: &Fields, record: &Record) -> Prepared {
    Prepared {
        key: file_id(&record.label, &record.path),
        docs: vec![to_document(fields, record)],
        replace: true,
    }
}

pub(crate) fn prepare_evidence(fields: &Fields, r: &EvidenceRecord) -> Prepared {
    Prepared {
        key: file_id(&r.label, &r.path),
        docs: vec![evidence_document(fields, r)],
        replace: true,
    }
}

pub(crate) fn prepare_hive(fields: &Fields, hive: &HiveRecords) -> Prepared {
    let first = hive.hive();
    // A hive that names template folders is read again on every scan (its
    // documents get no modification time to compare).
    let rescan = !hive.files.is_empty()
        || matches!(&first.entry, HiveEntry::Hive(s) if !s.template_folders.is_empty());
    Prepared {
        key: file_id(&first.label, &first.path),
        docs: hive
            .records
            .iter()
            .map(|r| setting_document(fields, r, rescan))
            .collect(),
        replace: true,
    }
}

impl Prepared {
    /// The file the documents are of.
    pub(crate) fn key(&self) -> [u8; 16] {
        self.key
    }

    /// For a file the index is known not to hold (a fresh index, or a file
    /// new since the last scan): no delete is queued. tantivy keeps every
    /// queued delete in memory until the next commit (about 1.2 KB each,
    /// measured with heaptrack: 78 MiB for the 68,508 files of the
    /// 2,000-profile scale volume), so a fresh scan queues none.
    pub fn new_file(mut self) -> Prepared {
        self.replace = false;
        self
    }
}

/// An open writing session: one writer thread, fed through a channel.
pub struct IndexSession {
    tx: Option<Sender<Op>>,
    fields: Fields,
    handle: Option<JoinHandle<Result<WriteStats, IndexError>>>,
}

impl IndexSession {
    /// Takes the index's writer lock (failing at once when another process
    /// holds it) and starts the writer thread. Every commit records `run` in
    /// the index's [`history`].
    pub fn start(
        idx: &RmsIndex,
        indexing_threads: usize,
        run: Run,
    ) -> Result<IndexSession, IndexError> {
        Self::start_with(idx, indexing_threads, COMMIT_EVERY, run)
    }

    /// Like [`IndexSession::start`], committing every `commit_every` documents.
    pub fn start_with(
        idx: &RmsIndex,
        indexing_threads: usize,
        commit_every: usize,
        run: Run,
    ) -> Result<IndexSession, IndexError> {
        Self::spawn(idx, indexing_threads, commit_every, run, Vec::new())
    }

    /// For `merge`: the index's history also gains `inherited`, the runs
    /// that wrote the merged indexes (those it does not hold yet), before `run`.
    pub fn start_inheriting(
        idx: &RmsIndex,
        indexing_threads: usize,
        run: Run,
        inherited: Vec<Run>,
    ) -> Result<IndexSession, IndexError> {
        Self::spawn(idx, indexing_threads, COMMIT_EVERY, run, inherited)
    }

    fn spawn(
        idx: &RmsIndex,
        indexing_threads: usize,
        commit_every: usize,
        run: Run,
        inherited: Vec<Run>,
    ) -> Result<IndexSession, IndexError> {
        let commit_every = commit_every.max(1);
        let threads = indexing_threads.clamp(1, 8);
        let writer: IndexWriter = idx
            .index
            .writer_with_num_threads(threads, WRITER_HEAP.max(threads * 16 * 1024 * 1024))
            .map_err(|e| match e {
                tantivy::TantivyError::LockFailure(
                    tantivy::directory::error::LockError::LockBusy,
                    _,
                ) => IndexError::Busy(idx.dir.clone()),
                other => IndexError::Write(idx.dir.clone(), other.to_string()),
            })?;
        let mut earlier = history::runs(idx)?;
        for r in inherited {
            if !earlier.contains(&r) {
                earlier.push(r);
            }
        }
        let (tx, rx) = bounded::<Op>(1024);
        let fields = idx.fields.clone();
        let dir = idx.dir.clone();
        let key_field = fields.file_id;
        let label_field = fields.label;
        let handle = std::thread::Builder::new()
            .name("rmsweep-index-writer".into())
            .spawn(move || {
                let mut writer = writer;
                let mut run = run;
                let mut stats = WriteStats::default();
                let mut since_commit = 0;
                let mut last_commit = std::time::Instant::now();
                // Dropped without `finish`: the caller stopped early.
                let mut outcome = RunStatus::Interrupted;
                let err = |e: tantivy::TantivyError| IndexError::Write(dir.clone(), e.to_string());
                let mut commit = |writer: &mut IndexWriter,
                                  stats: &mut WriteStats,
                                  status: RunStatus|
                 -> Result<(), IndexError> {
                    run.committed = Some(history::now());
                    run.status = status;
                    run.upserted = stats.upserted as u64;
                    run.deleted = stats.deleted as u64;
                    let mut prepared = writer.prepare_commit().map_err(err)?;
                    prepared.set_payload(&history::encode(&earlier, &run));
                    prepared.commit().map_err(err)?;
                    stats.commits += 1;
                    Ok(())
                };
                for op in rx {
                    match op {
                        Op::Upsert(key, docs, replace) => {
                            if replace {
                                writer.delete_term(Term::from_field_bytes(key_field, &key));
                            }
                            // One record (document) per count: a hive gives several.
                            let count = docs.len();
                            for doc in docs {
                                writer.add_document(doc).map_err(err)?;
                            }
                            stats.upserted += count;
                            since_commit += count.saturating_sub(1);
                        }
                        Op::Delete(key) => {
                            writer.delete_term(Term::from_field_bytes(key_field, &key));
                            stats.deleted += 1;
                        }
                        Op::DeleteLabel(label) => {
                            writer.delete_term(Term::from_field_text(label_field, &label));
                        }
                        Op::Finish(status) => {
                            outcome = status;
                            continue;
                        }
                        Op::Commit => {
                            commit(&mut writer, &mut stats, RunStatus::Incomplete)?;
                            since_commit = 0;
                            last_commit = std::time::Instant::now();
                            continue;
                        }
                    }
                    since_commit += 1;
                    if since_commit >= commit_every || last_commit.elapsed() >= COMMIT_INTERVAL {
                        commit(&mut writer, &mut stats, RunStatus::Incomplete)?;
                        since_commit = 0;
                        last_commit = std::time::Instant::now();
                    }
                }
                commit(&mut writer, &mut stats, outcome)?;
                writer.wait_merging_threads().map_err(err)?;
                Ok(stats)
            })
            .map_err(|e| IndexError::Io(idx.dir.clone(), e))?;
        Ok(IndexSession {
            tx: Some(tx),
            fields,
            handle: Some(handle),
        })
    }

    fn send(&mut self, op: Op) -> Result<(), IndexError> {
        let sent = self
            .tx
            .as_ref()
            .map(|tx| tx.send(op).is_ok())
            .unwrap_or(false);
        if sent {
            Ok(())
        } else {
            // The writer stopped: its error says why.
            Err(self.join().err().unwrap_or(IndexError::WriterStopped))
        }
    }

    /// Adds a record, replacing any earlier record of the same label and path.
    pub fn upsert(&mut self, record: &Record) -> Result<(), IndexError> {
        let p = prepare_record(&self.fields, record);
        self.upsert_prepared(p)
    }

    /// Adds a hive's records, replacing every earlier record of the hive
    /// (its template folders' files are added with [`IndexSession::upsert`]).
    pub fn upsert_hive(&mut self, hive: &HiveRecords) -> Result<(), IndexError> {
        let p = prepare_hive(&self.fields, hive);
        self.upsert_prepared(p)
    }

    /// Adds the record of an image or container that could not be read.
    pub fn upsert_evidence(&mut self, r: &EvidenceRecord) -> Result<(), IndexError> {
        let p = prepare_evidence(&self.fields, r);
        self.upsert_prepared(p)
    }

    /// Adds records prepared elsewhere with [`prepare`].
    pub fn upsert_prepared(&mut self, p: Prepared) -> Result<(), IndexError> {
        self.send(Op::Upsert(p.key, p.docs, p.replace))
    }

    /// The schema's fields, for [`prepare`].
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// Removes the record of a file.
    pub fn delete(&mut self, label: &str, path: &str) -> Result<(), IndexError> {
        self.send(Op::Delete(file_id(label, path)))
    }

    /// Removes every record of `label`: what is sent after it stays.
    pub fn delete_label(&mut self, label: &str) -> Result<(), IndexError> {
        self.send(Op::DeleteLabel(label.to_string()))
    }

    /// Commits what was sent so far (e.g. on Ctrl-C before exiting).
    pub fn commit(&mut self) -> Result<(), IndexError> {
        self.send(Op::Commit)
    }

    fn join(&mut self) -> Result<WriteStats, IndexError> {
        self.tx = None;
        match self.handle.take() {
            Some(h) => h.join().unwrap_or(Err(IndexError::WriterStopped)),
            None => Err(IndexError::WriterStopped),
        }
    }

    /// Final commit, recording the run as complete; waits for the writer.
    pub fn finish(self) -> Result<WriteStats, IndexError> {
        self.finish_as(RunStatus::Complete)
    }

    /// Final commit of a run stopped early (Ctrl-C, SIGTERM): what was sent
    /// is kept and the run is recorded as interrupted.
    pub fn finish_interrupted(self) -> Result<WriteStats, IndexError> {
        self.finish_as(RunStatus::Interrupted)
    }

    fn finish_as(mut self, status: RunStatus) -> Result<WriteStats, IndexError> {
        self.send(Op::Finish(status))?;
        self.join()
    }
}

impl Drop for IndexSession {
    fn drop(&mut self) {
        if self.handle.is_some() {
            let _ = self.join();
        }
    }
}
