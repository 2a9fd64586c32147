//! What a run reads, and in which order: each store's files listed when
//! the run reaches it (the volume's file list is never held), each hive in
//! its place by path, the evidence that could not be read last.

use super::{Job, ListingCounts, Plan, PlannedStore, Source, StoreListing, MAX_STORE_DEPTH};
use crate::store::StoreArea;
use crate::volume::{EntryKind, VPath};
use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use crossbeam_channel::unbounded;

/// A store's listing, or the panic of the thread that made it.
type Listed = std::thread::Result<StoreListing>;

impl Plan {
    /// The jobs of the evidence that could not be read, in plan order.
    pub fn unread_jobs(&self) -> impl Iterator<Item = Job> + '_ {
        self.unread.iter().enumerate().map(|(i, u)| Job {
            source: Source::Unread(i),
            path: VPath::root(),
            error: Some(u.error.clone()),
        })
    }

    /// The job of hive `i`.
    pub fn hive_job(&self, i: usize) -> Job {
        Job {
            source: Source::Hive(i),
            path: self.hives[i].hive.path.clone(),
            error: None,
        }
    }

    /// What a run reads, in order: the stores (each listed when reached)
    /// and the hives, merged by (label, stored path), so that a volume's
    /// hives are read beside its stores (a profile container is open then,
    /// and not opened again for them).
    pub fn run_order<'a>(&'a self) -> impl Iterator<Item = Source> + 'a {
        let key = |root: usize, stored: &'a PathBuf| {
            (
                self.roots[root].label.as_str(),
                stored.as_os_str().as_bytes(),
            )
        };
        let (mut s, mut h) = (0, 0);
        std::iter::from_fn(move || {
            let store = self.stores.get(s).map(|p| key(p.root, &p.stored));
            let hive = self.hives.get(h).map(|p| key(p.root, &p.stored));
            match (store, hive) {
                (Some(a), Some(b)) if b < a => {
                    h += 1;
                    Some(Source::Hive(h - 1))
                }
                (Some(_), _) => {
                    s += 1;
                    Some(Source::Store(s - 1))
                }
                (None, Some(_)) => {
                    h += 1;
                    Some(Source::Hive(h - 1))
                }
                (None, None) => None,
            }
        })
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
        self.list_ahead(self.io.depth, |source, listing| match source {
            Source::Store(i) => {
                counts.logs_skipped += listing.logs_skipped;
                counts.listing_errors += listing.errors.len();
                for (path, why) in &listing.errors {
                    on_error(path, why);
                }
                let root = self.root_of(i);
                for job in listing.jobs.iter().filter(|j| j.error.is_none()) {
                    counts.files += 1;
                    if !f(&root.label, &root.volume.stored_path(&job.path)) {
                        return false;
                    }
                }
                true
            }
            Source::Hive(i) => {
                let h = &self.hives[i];
                counts.hives += 1;
                f(&self.roots[h.root].label, &h.stored)
            }
            Source::Unread(_) => true,
        });
        counts
    }

    /// Lists what a run reads ([`Plan::run_order`]) with up to `listers`
    /// store listings in flight on as many threads (on a share each folder
    /// is a round trip), and hands each to `each` in run order (a hive's
    /// listing is its one job). Stops when `each` returns false; returns
    /// whether every source was handed on. A listing that panics panics
    /// here, with its message, once its turn comes.
    pub fn list_ahead(
        &self,
        listers: usize,
        mut each: impl FnMut(Source, StoreListing) -> bool,
    ) -> bool {
        let listing = |source: Source| match source {
            Source::Store(i) => self.list(i),
            Source::Hive(i) => StoreListing {
                jobs: vec![self.hive_job(i)],
                ..StoreListing::default()
            },
            Source::Unread(_) => StoreListing::default(),
        };
        let mut order = self.run_order();
        if listers <= 1 {
            return order.all(|source| each(source, listing(source)));
        }
        std::thread::scope(|s| {
            let (ask_tx, ask_rx) = unbounded::<(usize, Source)>();
            let (got_tx, got_rx) = unbounded::<(usize, Source, Listed)>();
            for _ in 0..listers {
                let (ask_rx, got_tx) = (ask_rx.clone(), got_tx.clone());
                s.spawn(move || {
                    for (n, source) in ask_rx {
                        let listed = catch_unwind(AssertUnwindSafe(|| listing(source)));
                        if got_tx.send((n, source, listed)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(got_tx);
            // At most `2 × listers` listings asked for and not yet handed on.
            let mut asked = 0;
            let mut ask = |asked: &mut usize| match order.next() {
                Some(source) => {
                    let _ = ask_tx.send((*asked, source));
                    *asked += 1;
                    true
                }
                None => false,
            };
            while asked < 2 * listers && ask(&mut asked) {}
            let mut ready = BTreeMap::new();
            let mut next = 0;
            while next < asked {
                let Ok((n, source, listed)) = got_rx.recv() else {
                    return false; // listers end only when asked no more
                };
                ready.insert(n, (source, listed));
                while let Some((source, listed)) = ready.remove(&next) {
                    next += 1;
                    let listing = listed.unwrap_or_else(|panic| resume_unwind(panic));
                    if !each(source, listing) {
                        return false;
                    }
                    ask(&mut asked);
                }
            }
            true
        })
    }

    /// Lists store `i`: its files sorted by path; an unlistable folder is a
    /// job carrying the error (it becomes a record).
    pub fn list(&self, i: usize) -> StoreListing {
        let mut out = StoreListing::default();
        self.list_dir(i, &self.stores[i].store.dir.clone(), 0, &mut out);
        out.jobs.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    fn list_dir(&self, i: usize, dir: &VPath, depth: usize, out: &mut StoreListing) {
        let PlannedStore { root, store, .. } = &self.stores[i];
        let volume = &self.roots[*root].volume;
        let job = |path: VPath, error: Option<String>| Job {
            source: Source::Store(i),
            path,
            error,
        };
        let entries = match volume.list(dir) {
            Ok(e) => e,
            Err(e) => {
                // An unlistable store folder is a record: nothing is dropped silently.
                out.jobs.push(job(
                    dir.clone(),
                    Some(format!("cannot list this store folder: {e}")),
                ));
                out.errors.push((volume.stored_path(dir), e.to_string()));
                return;
            }
        };
        for entry in entries {
            match entry.kind {
                EntryKind::Dir => {
                    if depth == 0 && store.area == StoreArea::Licenses && entry.is("Logs") {
                        out.logs_skipped += volume.list(&entry.path).map(|d| d.len()).unwrap_or(0);
                    } else if store.recursive
                        && !self.store_dirs.contains(&(*root, entry.path.clone()))
                    {
                        if depth < MAX_STORE_DEPTH {
                            self.list_dir(i, &entry.path, depth + 1, out);
                        } else {
                            // Named, never dropped silently.
                            out.jobs.push(job(
                                entry.path,
                                Some(format!(
                                    "a folder more than {MAX_STORE_DEPTH} levels below its template store: not read"
                                )),
                            ));
                        }
                    }
                }
                EntryKind::File => out.jobs.push(job(entry.path, None)),
                other => out.jobs.push(job(
                    entry.path,
                    Some(format!(
                        "not a regular file ({}): not opened",
                        other.describe()
                    )),
                )),
            }
        }
    }
}
