//! The scan: roots → stores → files → records, in parallel, in a stable order.
//!
//! ```text
//!  plan (this thread)        dispatcher               workers (N threads)            sink (this thread)
//!  classify roots,      ──▶  list one store,    ──▶  open · read · hash · parse ──▶  reorder by sequence,
//!  discover stores           sort, number files      (bounded channel)               hand each record on
//! ```
//! Stores are sorted by (label, folder) and listed one at a time, when the
//! dispatcher reaches them; each store's files are sorted and numbered, so
//! the sink emits records in (label, store, path) order whatever the thread
//! count. Only the store list is held for the whole run, never the file
//! list, and a window of permits bounds how far ahead workers may run: memory
//! stays flat however many files the volume holds.

use std::collections::{BTreeMap, BTreeSet, HashSet};
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

/// Roots classified and stores found; files are listed store by store when
/// a run reaches them.
#[derive(Debug, Default)]
pub struct Plan {
    labels: Vec<String>,
    /// (label, store), sorted by (label, folder), each folder once.
    stores: Vec<(usize, Store)>,
    /// Every store folder by label: a recursive store does not descend into
    /// a folder that is a store of its own.
    store_dirs: HashSet<(usize, PathBuf)>,
    /// Per root: its path, label and what it was recognised as.
    pub roots: Vec<(PathBuf, String, RootKind)>,
    pub profiles: usize,
    /// Folders discovery could not list (they may hold stores).
    pub listing_errors: Vec<(PathBuf, String)>,
}

/// One store's files, sorted, and what listing it found besides.
#[derive(Debug, Default)]
struct StoreListing {
    jobs: Vec<Job>,
    logs_skipped: usize,
    errors: Vec<(PathBuf, String)>,
}

/// What listing every store found (for `--dry-run`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ListingCounts {
    pub files: usize,
    pub logs_skipped: usize,
    /// Folders that could not be listed, discovery's included.
    pub listing_errors: usize,
}

impl Plan {
    pub fn stores(&self) -> impl ExactSizeIterator<Item = &Store> {
        self.stores.iter().map(|(_, s)| s)
    }
    /// The labels of the roots, sorted.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Lists every store in run order, calling `f(label, path)` for each file
    /// a run would read, until `f` returns false. Listing errors are
    /// reported to `on_error`.
    pub fn for_each_file(
        &self,
        mut f: impl FnMut(&str, &Path) -> bool,
        mut on_error: impl FnMut(&Path, &str),
    ) -> ListingCounts {
        let mut counts = ListingCounts {
            listing_errors: self.listing_errors.len(),
            ..ListingCounts::default()
        };
        for (path, why) in &self.listing_errors {
            on_error(path, why);
        }
        for i in 0..self.stores.len() {
            let listing = self.list(i);
            counts.logs_skipped += listing.logs_skipped;
            counts.listing_errors += listing.errors.len();
            for (path, why) in &listing.errors {
                on_error(path, why);
            }
            for job in listing.jobs.iter().filter(|j| j.error.is_none()) {
                counts.files += 1;
                if !f(&self.labels[job.label], &job.path) {
                    return counts;
                }
            }
        }
        counts
    }

    /// Lists store `i`: its files sorted by path; an unlistable folder is a
    /// job carrying the error (it becomes a record).
    fn list(&self, i: usize) -> StoreListing {
        let (label, store) = &self.stores[i];
        let mut out = StoreListing::default();
        self.list_dir(&store.dir, store, i, *label, 0, &mut out);
        out.jobs.sort_by(|a, b| {
            a.path
                .as_os_str()
                .as_bytes()
                .cmp(b.path.as_os_str().as_bytes())
        });
        out
    }

    fn list_dir(
        &self,
        dir: &Path,
        store: &Store,
        idx: usize,
        label: usize,
        depth: usize,
        out: &mut StoreListing,
    ) {
        let entries = match crate::dir::list(dir) {
            Ok(e) => e,
            Err(e) => {
                // An unlistable store folder is a record: nothing is dropped silently.
                out.jobs.push(Job {
                    label,
                    store: idx,
                    path: dir.to_path_buf(),
                    error: Some(format!("cannot list this store folder: {e}")),
                });
                out.errors.push((dir.to_path_buf(), e.to_string()));
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
                        out.logs_skipped +=
                            crate::dir::list(&entry.path).map(|d| d.len()).unwrap_or(0);
                    } else if store.recursive
                        && depth < MAX_STORE_DEPTH
                        && !self.store_dirs.contains(&(label, entry.path.clone()))
                    {
                        self.list_dir(&entry.path, store, idx, label, depth + 1, out);
                    }
                }
                EntryKind::File => out.jobs.push(Job {
                    label,
                    store: idx,
                    path: entry.path,
                    error: None,
                }),
                other => out.jobs.push(Job {
                    label,
                    store: idx,
                    path: entry.path,
                    error: Some(format!(
                        "not a regular file ({}): not opened",
                        other.describe()
                    )),
                }),
            }
        }
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
    /// Folders that could not be listed (discovery's and stores'), sorted.
    pub listing_errors: Vec<(PathBuf, String)>,
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

/// Classifies the roots and finds their stores, sorted by (label, folder).
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
        plan.stores
            .extend(d.stores.into_iter().map(|store| (label, store)));
    }
    plan.labels = labels;
    plan.stores.sort_by(|(la, a), (lb, b)| {
        (la, a.dir.as_os_str().as_bytes()).cmp(&(lb, b.dir.as_os_str().as_bytes()))
    });
    // The same store reached twice (overlapping roots) is listed once.
    plan.stores
        .dedup_by(|(la, a), (lb, b)| la == lb && a.dir == b.dir);
    plan.store_dirs = plan
        .stores
        .iter()
        .map(|(l, s)| (*l, s.dir.clone()))
        .collect();
    plan.listing_errors.sort();
    plan.listing_errors.dedup();
    Ok(plan)
}

/// Template stores may hold per-server sub-folders; not deeper than this.
const MAX_STORE_DEPTH: usize = 4;

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
        ..ScanSummary::default()
    };
    for (_, s) in &plan.stores {
        *summary
            .stores
            .entry((s.mode, s.area, s.client))
            .or_default() += 1;
    }
    let window = threads * 64;
    // Channels as deep as the window: threads that find them full or empty
    // spin (sched_yield) before they sleep, and shallow ones made that the
    // common case (24,604 yields for 7,058 files with one reader).
    let (job_tx, job_rx) = bounded::<(usize, Job)>(window);
    let (out_tx, out_rx) = bounded::<(usize, Option<Done<T>>)>(window);
    let (permit_tx, permit_rx) = bounded::<()>(window);
    let result = std::thread::scope(|s| {
        // Owned by this closure: dropped when it returns, so that an early
        // return (a sink error) unblocks the workers and the dispatcher.
        let (out_rx, permit_rx) = (out_rx, permit_rx);
        // The dispatcher: lists one store at a time, in plan order.
        let dispatcher = s.spawn(move || {
            let (mut logs, mut errors) = (0, Vec::new());
            let mut seq = 0;
            'stores: for i in 0..plan.stores.len() {
                let listing = plan.list(i);
                logs += listing.logs_skipped;
                errors.extend(listing.errors);
                for job in listing.jobs {
                    if config.cancel.is_some_and(|c| c.load(Ordering::SeqCst)) {
                        break 'stores;
                    }
                    if permit_tx.send(()).is_err() || job_tx.send((seq, job)).is_err() {
                        break 'stores; // the sink stopped
                    }
                    seq += 1;
                }
            }
            (logs, errors)
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
                        let r = process(&job, plan, &config.read, &cache, &mut buf);
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
        let (logs, errors) = dispatcher.join().unwrap_or_default();
        summary.logs_skipped = logs;
        summary.listing_errors = plan.listing_errors.clone();
        summary.listing_errors.extend(errors);
        summary.listing_errors.sort();
        summary.listing_errors.dedup();
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
    let store = &plan.stores[job.store].1;
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
