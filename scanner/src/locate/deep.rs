//! `--deep`: the fallback for unusual layouts. A parallel walk of the whole
//! volume (one thread per core, a shared stack of folders) that takes every
//! `Microsoft/MSIPC` and `Microsoft/DRM` folder as a store folder, reads it
//! with the location table as a root would be read, and does not descend
//! into it. Links are never followed.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard};

use super::resolve::Discovery;
use super::root::{by_name, resolve_readings};
use crate::volume::{EntryKind, VPath, Volume};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Walks `vol` and reads every store folder it finds.
pub fn deep(vol: &dyn Volume) -> Discovery {
    let found: Mutex<Vec<VPath>> = Mutex::new(Vec::new());
    let errors: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());
    let work = Mutex::new((vec![VPath::root()], 0usize)); // (stack, folders being listed)
    let ready = Condvar::new();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let next = {
                    let mut w = lock(&work);
                    loop {
                        if let Some(p) = w.0.pop() {
                            w.1 += 1;
                            break Some(p);
                        }
                        if w.1 == 0 {
                            break None;
                        }
                        w = ready.wait(w).unwrap_or_else(|p| p.into_inner());
                    }
                };
                let Some(dir) = next else {
                    ready.notify_all();
                    return;
                };
                let subdirs = walk_one(vol, &dir, &found, &errors);
                let mut w = lock(&work);
                w.0.extend(subdirs);
                w.1 -= 1;
                drop(w);
                ready.notify_all();
            });
        }
    });
    let mut found = found.into_inner().unwrap_or_else(|p| p.into_inner());
    found.sort();
    let mut d = Discovery::default();
    for dir in found {
        read_store_folder(vol, &dir, &mut d);
    }
    let profiles: BTreeSet<&String> = d.stores.iter().filter_map(|s| s.profile.as_ref()).collect();
    d.profiles = profiles.len();
    let mut errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
    errors.sort();
    d.errors.extend(errors);
    d
}

/// Lists one folder: store folders go to `found`, other folders are returned.
fn walk_one(
    vol: &dyn Volume,
    dir: &VPath,
    found: &Mutex<Vec<VPath>>,
    errors: &Mutex<Vec<(PathBuf, String)>>,
) -> Vec<VPath> {
    let entries = match vol.list(dir) {
        Ok(e) => e,
        Err(e) => {
            lock(errors).push((vol.stored_path(dir), e.to_string()));
            return Vec::new();
        }
    };
    // `Microsoft` is never percent-encoded: the stored name is enough.
    let in_microsoft = dir.file_name().eq_ignore_ascii_case(b"Microsoft");
    let mut subdirs = Vec::new();
    for e in entries.into_iter().filter(|e| e.kind == EntryKind::Dir) {
        if in_microsoft && (e.is("MSIPC") || e.is("DRM")) {
            lock(found).push(e.path);
        } else {
            subdirs.push(e.path);
        }
    }
    subdirs
}

/// Reads a found store folder by the names on its path, as a root would be
/// read; the reading that finds the most stores below it wins.
fn read_store_folder(vol: &dyn Volume, dir: &VPath, d: &mut Discovery) {
    let all = by_name(&vol.windows_names(dir));
    if all.is_empty() {
        return;
    }
    let (best, mut found) = resolve_readings(vol, dir, &all);
    let found = found.swap_remove(best);
    d.stores.extend(found.stores);
    d.errors.extend(found.errors);
}
