//! The run: planned stores → files → records, in parallel, in a stable order.
//!
//! ```text
//!  plan (this thread)    dispatcher               workers (max(N, io depth))       sink (this thread)
//!  read roots,      ──▶  stores listed ahead, ──▶  stat · read · [hash · parse, ──▶  reorder by sequence,
//!  discover stores       handed on in order,      N at a time]                     hand each record on
//!                        files numbered           (bounded channel)
//! ```
//! Stores are sorted by (label, folder) and listed when the dispatcher
//! nears them (up to the I/O depth at once: on a share each listing is a
//! round trip); each store's files are sorted and numbered, so the sink
//! emits records in (label, store, path) order whatever the thread count or
//! depth. Only the store list is held for the whole run, never the file
//! list, and a window of permits bounds how far ahead workers may run: memory
//! stays flat however many files the volume holds. There are as many workers
//! as requests the file system should have in flight; only `threads` of them
//! hash and parse at once ([`Gate`]). The pipeline knows no format and no
//! source: [`crate::process`] reads one file through its volume.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;

use crate::gate::Gate;
use crate::parse::{ChainCache, Kind};
use crate::plan::{Job, Plan, ScanConfig};
use crate::process::process;
use crate::record::Found;
use crate::store::{RmsClient, StoreArea, StoreMode};
use crate::volume::Stat;

/// Stops a run: set from a signal handler or another thread; what was
/// already read still reaches the sink.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    /// The flag itself, for a signal handler to set.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }
}

/// Why a run failed (as opposed to a file that could not be read, which is a record).
#[derive(Debug, thiserror::Error)]
pub enum RunError<E> {
    /// The sink refused a record (it says why).
    #[error("the output refused a record")]
    Sink(E),
    /// The thread listing the stores died: the files it never handed on
    /// were not read, so the run is incomplete.
    #[error("the store lister failed ({0}) after {1} files: the scan is incomplete; run it again, and report this if it repeats")]
    Dispatcher(String, usize),
}

/// Decides, from a file's label, stored path and stat, that it is already
/// indexed unchanged and need not be read. Called on the worker threads.
pub type UnchangedCheck<'a> = dyn Fn(&str, &Path, &Stat) -> bool + Sync + 'a;

/// Counts for the summary.
#[derive(Debug, Default, Clone)]
pub struct ScanSummary {
    pub roots: usize,
    pub profiles: usize,
    /// Stores by (mode, area, client).
    pub stores: BTreeMap<(StoreMode, StoreArea, RmsClient), usize>,
    pub files_by_kind: BTreeMap<Kind, usize>,
    /// Registry hives read, and the setting records they gave.
    pub hives: usize,
    pub settings: usize,
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
    /// Images, containers and volumes in them that could not be read
    /// (each an `evidence` record, counted in `records` and `errors`).
    pub unread: usize,
    pub distinct_chain_documents: usize,
    pub elapsed: Duration,
}

/// Reads, hashes and parses every planned file on `config.threads` threads and
/// hands the records to `sink` in plan order. A sink error stops the scan.
pub fn run<E>(
    plan: &Plan,
    config: &ScanConfig,
    sink: impl FnMut(Found) -> Result<(), E>,
) -> Result<ScanSummary, RunError<E>> {
    run_incremental(plan, config, None, &|r| r, sink)
}

/// Like [`run`], with two hooks that run on the worker threads: `unchanged`
/// says from a file's stat that it need not be read (it is counted in
/// [`ScanSummary::unchanged`] and produces nothing), and `prepare` turns each
/// record into what the sink consumes (e.g. an index document and a JSON
/// line), so that work is parallel too.
pub fn run_incremental<T: Send, E>(
    plan: &Plan,
    config: &ScanConfig,
    unchanged: Option<&UnchangedCheck<'_>>,
    prepare: &(dyn Fn(Found) -> T + Sync),
    mut sink: impl FnMut(T) -> Result<(), E>,
) -> Result<ScanSummary, RunError<E>> {
    let started = Instant::now();
    let threads = config.threads.max(1);
    let cache = Arc::new(ChainCache::new());
    let mut summary = ScanSummary {
        roots: plan.roots.len(),
        profiles: plan.profiles,
        ..ScanSummary::default()
    };
    for s in &plan.stores {
        let s = &s.store;
        *summary
            .stores
            .entry((s.mode, s.area, s.client))
            .or_default() += 1;
    }
    // Requests in flight: as many workers as the file system wants reads
    // outstanding, of which only `threads` parse at a time.
    let io_depth = plan.io.depth.max(1);
    let workers = threads.max(io_depth);
    let cpu = Gate::new(threads);
    let cpu = &cpu;
    let window = (threads * 64).max(workers * 8);
    // Channels as deep as the window: threads that find them full or empty
    // spin (sched_yield) before they sleep, and shallow ones made that the
    // common case (24,604 yields for 7,058 files with one reader).
    let (job_tx, job_rx) = bounded::<(usize, Job)>(window);
    let (out_tx, out_rx) = bounded::<(usize, Option<Done<T>>)>(window);
    let (permit_tx, permit_rx) = bounded::<()>(window);
    let dispatched = std::sync::atomic::AtomicUsize::new(0);
    let dispatched = &dispatched;
    let result = std::thread::scope(|s| {
        // Owned by this closure: dropped when it returns, so that an early
        // return (a sink error) unblocks the workers and the dispatcher.
        let (out_rx, permit_rx) = (out_rx, permit_rx);
        // The dispatcher: hands the stores' files on in plan order.
        let dispatcher = s.spawn(move || {
            let (mut logs, mut errors) = (0, Vec::new());
            let dispatch = |jobs: Vec<Job>| {
                for job in jobs {
                    if config.cancel.is_cancelled() {
                        return false;
                    }
                    let seq = dispatched.load(Ordering::Relaxed);
                    if permit_tx.send(()).is_err() || job_tx.send((seq, job)).is_err() {
                        return false; // the sink stopped
                    }
                    dispatched.store(seq + 1, Ordering::Relaxed);
                }
                true
            };
            let all_listed = plan.list_ahead(io_depth, |_, listing| {
                logs += listing.logs_skipped;
                errors.extend(listing.errors);
                dispatch(listing.jobs)
            });
            if all_listed {
                dispatch(plan.unread_jobs().collect());
            }
            (logs, errors)
        });
        for _ in 0..workers {
            let job_rx = job_rx.clone();
            let out_tx = out_tx.clone();
            let cache = Arc::clone(&cache);
            s.spawn(move || {
                let mut buf = Vec::with_capacity(64 * 1024);
                for (seq, job) in job_rx {
                    let skip = match unchanged {
                        Some(check) if job.error.is_none() => {
                            plan.root_of_job(&job).is_some_and(|root| {
                                root.volume.stat(&job.path).is_ok_and(|st| {
                                    check(&root.label, &root.volume.stored_path(&job.path), &st)
                                })
                            })
                        }
                        _ => false,
                    };
                    let done = (!skip).then(|| {
                        let found = process(&job, plan, &config.read, &cache, cpu, &mut buf);
                        let counted = Counted::of(&found);
                        Done {
                            counted,
                            item: prepare(found),
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
                let Counted {
                    files,
                    hive,
                    evidence,
                } = d.counted;
                summary.records += files.len() + usize::from(hive.is_some());
                summary.records += usize::from(evidence);
                summary.unread += usize::from(evidence);
                for (kind, error, size) in files {
                    *summary.files_by_kind.entry(kind).or_default() += 1;
                    summary.errors += usize::from(error);
                    summary.bytes += size;
                }
                if let Some((settings, error, size)) = hive {
                    summary.hives += 1;
                    summary.settings += settings;
                    summary.errors += usize::from(error);
                    summary.bytes += size;
                }
                sink(d.item).map_err(RunError::Sink)?;
            }
        }
        let (logs, errors) = dispatcher.join().map_err(|panic| {
            let why = crate::panic_message(panic.as_ref());
            RunError::Dispatcher(why, dispatched.load(Ordering::Relaxed))
        })?;
        summary.logs_skipped = logs;
        summary.listing_errors = plan.listing_errors.clone();
        summary.listing_errors.extend(errors);
        summary.listing_errors.sort();
        summary.listing_errors.dedup();
        Ok(())
    });
    result?;
    summary.interrupted = config.cancel.is_cancelled();
    summary.distinct_chain_documents = cache.len();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// A processed file on its way to the sink.
struct Done<T> {
    counted: Counted,
    item: T,
}

/// What the summary counts of a processed file: store files (kind,
/// error, size) and a hive (settings, error, size), whose template folders
/// give store files too.
struct Counted {
    files: Vec<(Kind, bool, u64)>,
    hive: Option<(usize, bool, u64)>,
    /// An image or container that could not be read.
    evidence: bool,
}

impl Counted {
    fn of(found: &Found) -> Counted {
        let file = |r: &crate::record::Record| {
            (
                r.content.kind,
                r.content.error.is_some(),
                r.size.unwrap_or(0),
            )
        };
        match found {
            Found::File(r) => Counted {
                files: vec![file(r)],
                hive: None,
                evidence: false,
            },
            Found::Evidence(_) => Counted {
                files: Vec::new(),
                hive: None,
                evidence: true,
            },
            Found::Hive(h) => {
                let hive = h.hive();
                let error =
                    matches!(&hive.entry, crate::record::HiveEntry::Hive(s) if s.error.is_some());
                Counted {
                    files: h.files.iter().map(file).collect(),
                    hive: Some((h.records.len() - 1, error, hive.size.unwrap_or(0))),
                    evidence: false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::locate::RootKind;
    use crate::plan::{PlannedRoot, PlannedStore};
    use crate::store::Store;
    use crate::volume::memory::MemoryVolume;
    use crate::volume::{ReadOptions, VPath};

    #[test]
    fn a_dispatcher_that_dies_fails_the_run_and_says_how_far_it_got() {
        // Listed one store at a time, and several at once (as on a share).
        for io_depth in [1, 4] {
            dispatcher_dies(io_depth);
        }
    }

    fn dispatcher_dies(io_depth: usize) {
        // Listing `boom` panics (a bug in a future source).
        let vol = MemoryVolume::new()
            .file("a/1.drm", b"x")
            .file("a/2.drm", b"y")
            .file("boom/3.drm", b"z")
            .on_every_request(|p| assert_ne!(p.as_bytes(), b"boom", "listing failed"));
        let mut plan = Plan::default();
        plan.io.depth = io_depth;
        plan.roots.push(PlannedRoot {
            given: PathBuf::from("/memory"),
            label: "h".into(),
            kind: RootKind::StoreFolder,
            collector: None,
            drive: None,
            prefix: None,
            image: Default::default(),
            owner: Default::default(),
            client_id: None,
            volume: Box::new(vol),
        });
        for dir in ["a", "boom"] {
            plan.stores.push(PlannedStore {
                root: 0,
                store: Store {
                    dir: VPath::from_bytes(dir),
                    mode: StoreMode::Client,
                    area: StoreArea::Licenses,
                    client: RmsClient::Msipc,
                    profile: None,
                    sid: None,
                    recursive: false,
                },
                stored: PathBuf::from(dir),
            });
        }
        let config = ScanConfig {
            roots: Vec::new(),
            deep: false,
            threads: 2,
            read: ReadOptions::default(),
            cancel: CancelToken::default(),
            io: Default::default(),
        };
        let mut seen = 0;
        let result = run(&plan, &config, |_| {
            seen += 1;
            Ok::<(), ()>(())
        });
        match result {
            Err(RunError::Dispatcher(why, dispatched)) => {
                assert!(why.contains("listing failed"), "{why}");
                assert_eq!((dispatched, seen), (2, 2), "io depth {io_depth}");
            }
            other => panic!("expected a dispatcher error, got {other:?}"),
        }
    }
}
