//! The scan: roots → stores → files → records, in parallel, in a stable order.
//!
//! ```text
//!  plan (this thread)             workers (N threads)            sink (this thread)
//!  classify roots, discover  ──▶  open · read · hash · parse ──▶  reorder by sequence,
//!  stores, list and sort files    (bounded channel)               hand each record on
//! ```
//! Files are sorted by (label, path) before dispatch and numbered; the sink
//! emits them in that order whatever the thread count. A window of permits
//! bounds how far ahead workers may run, so memory stays flat however large
//! the volume: nothing holds more than the window's records.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use sha2::{Digest, Sha256};

use crate::dir::EntryKind;
use crate::discover::{self, RootError, RootKind};
use crate::parse::{self, ChainCache, Content, Kind, NameTable};
use crate::read::{self, ReadOptions};
use crate::record::Record;
use crate::store::{RmsClient, Store, StoreArea, StoreMode};

/// One root to scan and the label its records carry.
#[derive(Debug, Clone)]
pub struct Root {
    pub path: PathBuf,
    pub label: String,
}

impl Root {
    /// A root labelled with its folder name (the host or case name).
    pub fn new(path: impl Into<PathBuf>) -> Root {
        let path = path.into();
        let label = fs::canonicalize(&path)
            .ok()
            .as_deref()
            .and_then(Path::file_name)
            .or_else(|| path.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Root { path, label }
    }
}

/// What to scan and how (the CLI's arguments, as plain data).
#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub roots: Vec<Root>,
    pub deep: bool,
    /// Reader/parser threads; may exceed the core count for slow disks and shares.
    pub threads: usize,
    pub read: ReadOptions,
    /// Set (e.g. from a signal handler) to stop dispatching files: what was
    /// already read is still handed to the sink, then the run ends.
    pub cancel: Option<&'static AtomicBool>,
}

/// One file to read.
#[derive(Debug)]
struct Job {
    label: usize,
    store: usize,
    path: PathBuf,
    /// Set when the entry must not or cannot be opened (not a regular file,
    /// an unlistable folder): the record carries this error.
    error: Option<String>,
}

/// Roots classified, stores found, files listed and sorted.
#[derive(Debug, Default)]
pub struct Plan {
    labels: Vec<String>,
    stores: Vec<Store>,
    jobs: Vec<Job>,
    /// Per root: its path, label and what it was recognised as.
    pub roots: Vec<(PathBuf, String, RootKind)>,
    pub profiles: usize,
    pub logs_skipped: usize,
    /// Folders that could not be listed: each also becomes an error record.
    pub listing_errors: Vec<(PathBuf, String)>,
}

impl Plan {
    pub fn stores(&self) -> &[Store] {
        &self.stores
    }
    pub fn files(&self) -> usize {
        self.jobs.len()
    }
    /// The labels of the roots, sorted.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }
    /// (label, path) of every planned file, in output order.
    pub fn file_paths(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.jobs
            .iter()
            .map(|j| (self.labels[j.label].as_str(), j.path.as_path()))
    }
}

/// Decides, from a file's `lstat`, that it is already indexed unchanged and
/// need not be read. Called on the worker threads.
pub type UnchangedCheck<'a> = dyn Fn(&str, &Path, &fs::Metadata) -> bool + Sync + 'a;

/// Counts for the summary.
#[derive(Debug, Default, Clone)]
pub struct ScanSummary {
    pub roots: usize,
    pub profiles: usize,
    /// Stores by (mode, area, client).
    pub stores: BTreeMap<(StoreMode, StoreArea, RmsClient), usize>,
    pub files_by_kind: BTreeMap<Kind, usize>,
    /// Records with an error (unreadable or not read).
    pub errors: usize,
    /// Folders that could not be listed.
    pub listing_errors: usize,
    pub logs_skipped: usize,
    pub bytes: u64,
    /// The run stopped early because `cancel` was set.
    pub interrupted: bool,
    pub records: usize,
    /// Files skipped because the index already holds them unchanged.
    pub unchanged: usize,
    pub distinct_chain_documents: usize,
    pub elapsed: Duration,
}

/// Classifies the roots and lists every store file, sorted by (label, path).
pub fn plan(config: &ScanConfig) -> Result<Plan, RootError> {
    let mut plan = Plan::default();
    let mut kinds = Vec::new();
    let mut roots = Vec::new();
    for root in &config.roots {
        // Records carry absolute paths, so a re-scan through another spelling
        // of the same root finds the same records.
        let path = fs::canonicalize(&root.path).map_err(|source| RootError::Unreadable {
            path: root.path.clone(),
            source,
        })?;
        kinds.push(discover::classify_root(&path, config.deep)?);
        roots.push(Root {
            path,
            label: root.label.clone(),
        });
    }
    let mut labels: Vec<String> = config
        .roots
        .iter()
        .map(|r| r.label.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    labels.sort();
    for (root, kind) in roots.iter().zip(kinds) {
        let label = labels.binary_search(&root.label).unwrap_or(0);
        let d = discover::discover(&root.path, kind);
        plan.profiles += d.profiles;
        plan.listing_errors.extend(d.errors);
        plan.roots
            .push((root.path.clone(), root.label.clone(), kind));
        for store in d.stores {
            let idx = plan.stores.len();
            list_store(&store.dir.clone(), &store, idx, label, 0, &mut plan);
            plan.stores.push(store);
        }
    }
    plan.labels = labels;
    plan.jobs.sort_by(|a, b| {
        (a.label, a.path.as_os_str().as_bytes()).cmp(&(b.label, b.path.as_os_str().as_bytes()))
    });
    // The same file reached twice (overlapping roots) is one record.
    plan.jobs
        .dedup_by(|a, b| a.label == b.label && a.path == b.path);
    // A folder that discovery and the store listing both failed on, once.
    plan.listing_errors.sort();
    plan.listing_errors.dedup();
    Ok(plan)
}

/// Template stores may hold per-server sub-folders; not deeper than this.
const MAX_STORE_DEPTH: usize = 4;

fn list_store(dir: &Path, store: &Store, idx: usize, label: usize, depth: usize, plan: &mut Plan) {
    let entries = match crate::dir::list(dir) {
        Ok(e) => e,
        Err(e) => {
            // An unlistable store folder is a record: nothing is dropped silently.
            let error = Some(format!("cannot list this store folder: {e}"));
            plan.jobs.push(Job {
                label,
                store: idx,
                path: dir.to_path_buf(),
                error,
            });
            plan.listing_errors.push((dir.to_path_buf(), e.to_string()));
            return;
        }
    };
    for entry in entries {
        match entry.kind {
            EntryKind::Dir => {
                if depth == 0
                    && store.area == StoreArea::Licenses
                    && crate::dir::name_is(&entry.name, "Logs")
                {
                    plan.logs_skipped +=
                        crate::dir::list(&entry.path).map(|d| d.len()).unwrap_or(0);
                } else if store.recursive && depth < MAX_STORE_DEPTH {
                    list_store(&entry.path, store, idx, label, depth + 1, plan);
                }
            }
            EntryKind::File => plan.jobs.push(Job {
                label,
                store: idx,
                path: entry.path,
                error: None,
            }),
            other => {
                let error = Some(format!(
                    "not a regular file ({}): not opened",
                    other.describe()
                ));
                plan.jobs.push(Job {
                    label,
                    store: idx,
                    path: entry.path,
                    error,
                });
            }
        }
    }
}

/// Reads, hashes and parses every planned file on `config.threads` threads and
/// hands the records to `sink` in plan order. A sink error stops the scan.
pub fn run<E>(
    plan: &Plan,
    config: &ScanConfig,
    sink: impl FnMut(Record) -> Result<(), E>,
) -> Result<ScanSummary, E> {
    run_incremental(plan, config, None, &|r| r, sink)
}

/// Like [`run`], with two hooks that run on the worker threads: `unchanged`
/// says from a file's `lstat` that it need not be read (it is counted in
/// [`ScanSummary::unchanged`] and produces nothing), and `prepare` turns each
/// record into what the sink consumes (e.g. an index document and a JSON
/// line), so that work is parallel too.
pub fn run_incremental<T: Send, E>(
    plan: &Plan,
    config: &ScanConfig,
    unchanged: Option<&UnchangedCheck<'_>>,
    prepare: &(dyn Fn(Record) -> T + Sync),
    mut sink: impl FnMut(T) -> Result<(), E>,
) -> Result<ScanSummary, E> {
    let started = Instant::now();
    let threads = config.threads.max(1);
    let cache = Arc::new(ChainCache::new());
    let mut summary = ScanSummary {
        roots: plan.roots.len(),
        profiles: plan.profiles,
        logs_skipped: plan.logs_skipped,
        listing_errors: plan.listing_errors.len(),
        ..ScanSummary::default()
    };
    for s in &plan.stores {
        *summary
            .stores
            .entry((s.mode, s.area, s.client))
            .or_default() += 1;
    }
    let window = threads * 64;
    let (job_tx, job_rx) = bounded::<(usize, &Job)>(threads * 4);
    let (out_tx, out_rx) = bounded::<(usize, Option<Done<T>>)>(threads * 4);
    let (permit_tx, permit_rx) = bounded::<()>(window);
    let result = std::thread::scope(|s| {
        // Owned by this closure: dropped when it returns, so that an early
        // return (a sink error) unblocks the workers and the dispatcher.
        let (out_rx, permit_rx) = (out_rx, permit_rx);
        s.spawn(move || {
            for (seq, job) in plan.jobs.iter().enumerate() {
                if config.cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
                    return;
                }
                if permit_tx.send(()).is_err() || job_tx.send((seq, job)).is_err() {
                    return; // the sink stopped
                }
            }
        });
        for _ in 0..threads {
            let job_rx = job_rx.clone();
            let out_tx = out_tx.clone();
            let cache = Arc::clone(&cache);
            s.spawn(move || {
                let mut buf = Vec::with_capacity(64 * 1024);
                for (seq, job) in job_rx {
                    let skip = match unchanged {
                        Some(check) if job.error.is_none() => fs::symlink_metadata(&job.path)
                            .is_ok_and(|m| check(&plan.labels[job.label], &job.path, &m)),
                        _ => false,
                    };
                    let done = (!skip).then(|| {
                        let r = process(job, plan, &config.read, &cache, &mut buf);
                        Done {
                            kind: r.content.kind,
                            error: r.content.error.is_some(),
                            size: r.size.unwrap_or(0),
                            item: prepare(r),
                        }
                    });
                    if out_tx.send((seq, done)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(out_tx);
        drop(job_rx);
        let mut pending: BTreeMap<usize, Option<Done<T>>> = BTreeMap::new();
        let mut next = 0;
        for (seq, done) in out_rx.iter() {
            pending.insert(seq, done);
            while let Some(d) = pending.remove(&next) {
                next += 1;
                let _ = permit_rx.recv();
                let Some(d) = d else {
                    summary.unchanged += 1;
                    continue;
                };
                summary.records += 1;
                *summary.files_by_kind.entry(d.kind).or_default() += 1;
                summary.errors += usize::from(d.error);
                summary.bytes += d.size;
                sink(d.item)?;
            }
        }
        Ok(())
    });
    result?;
    summary.interrupted = config.cancel.is_some_and(|c| c.load(Ordering::SeqCst));
    summary.distinct_chain_documents = cache.len();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// A processed file on its way to the sink.
struct Done<T> {
    kind: Kind,
    error: bool,
    size: u64,
    item: T,
}

fn process(
    job: &Job,
    plan: &Plan,
    opts: &ReadOptions,
    cache: &ChainCache,
    buf: &mut Vec<u8>,
) -> Record {
    let store = &plan.stores[job.store];
    let label = &plan.labels[job.label];
    if let Some(error) = &job.error {
        let mut r = Record::new(&job.path, label, store, Content::unreadable(error.clone()));
        if let Ok(m) = fs::symlink_metadata(&job.path) {
            r.set_metadata(&m);
            r.size = None;
        }
        return r;
    }
    match read::read_file(&job.path, opts, buf) {
        Ok((meta, bytes)) => {
            let table = match store.client {
                RmsClient::Msipc => NameTable::Msipc,
                RmsClient::Msdrm => NameTable::Msdrm,
            };
            let name = job.path.file_name().and_then(|n| n.to_str());
            let content = parse::parse_store_file(&bytes, cache, name, table);
            let mut r = Record::new(&job.path, label, store, content);
            r.set_metadata(&meta);
            if bytes.len() as u64 != meta.len() {
                r.content
                    .anomalies
                    .push(parse::Anomaly::ChangedWhileReading);
                r.content.anomalies.sort();
            }
            r.sha256 = Some(hex(&Sha256::digest(&bytes[..])));
            r
        }
        Err(e) => {
            let mut r = Record::new(&job.path, label, store, Content::unreadable(e.to_string()));
            if let Ok(m) = fs::symlink_metadata(&job.path) {
                r.set_metadata(&m);
            }
            r
        }
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}
