//! What a re-scan knows of the index, so that it reads only what changed:
//! the files each label holds under the scanned roots. A file whose size and
//! modification time match its record (and whose record is no error) is not
//! read again; a file the index does not hold gets its documents without a
//! queued delete (tantivy keeps each in memory until the commit); the files
//! the scan did not see are gone, and their records are removed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::incremental::{for_each_indexed, known_files, Known};
use crate::open::RmsIndex;
use crate::schema::file_id;
use crate::writer::{IndexSession, Prepared};
use crate::IndexError;

/// A file the index holds, and whether this scan saw it.
struct Indexed {
    known: Known,
    seen: AtomicBool,
}

/// The files the index holds under the scanned roots, per label.
pub struct Rescan {
    /// label → file key → what the index holds.
    known: HashMap<String, HashMap<[u8; 16], Indexed>>,
    /// Whether `known` is all the index holds there (else nothing is assumed).
    tracked: bool,
}

impl Rescan {
    /// Nothing is assumed of the index: every file is read and every
    /// document replaces any earlier one (JSON lines besides, `--full`).
    pub fn untracked() -> Rescan {
        Rescan {
            known: HashMap::new(),
            tracked: false,
        }
    }

    /// What `idx` holds, for each label, under its scanned roots (a folder or
    /// an image file as stored; `""` for every record of the label).
    pub fn load(
        idx: &RmsIndex,
        scopes: impl IntoIterator<Item = (String, Vec<String>)>,
    ) -> Result<Rescan, IndexError> {
        let mut known = HashMap::new();
        for (label, roots) in scopes {
            let files = known_files(idx, &label, &roots)?
                .into_iter()
                .map(|(key, known)| {
                    let seen = AtomicBool::new(false);
                    (key, Indexed { known, seen })
                })
                .collect();
            known.insert(label, files);
        }
        Ok(Rescan {
            known,
            tracked: true,
        })
    }

    /// Whether the index holds any file under the roots (a fresh index holds
    /// none: no file then needs comparing).
    pub fn knows_anything(&self) -> bool {
        self.known.values().any(|files| !files.is_empty())
    }

    /// What the index holds of a file, marking it seen.
    fn indexed(&self, label: &str, path: &str) -> Option<Known> {
        let hit = self.known.get(label)?.get(&file_id(label, path))?;
        hit.seen.store(true, Ordering::Relaxed);
        Some(hit.known)
    }

    /// Whether the file is as indexed: same size and modification time, and
    /// a record that is no error (an unreadable file may be readable now).
    pub fn unchanged(&self, label: &str, path: &str, size: u64, mtime_ns: Option<i64>) -> bool {
        self.indexed(label, path)
            .is_some_and(|k| !k.error && k.size == Some(size) && k.mtime_ns == mtime_ns)
    }

    /// `doc` (of the file at `label`, `path`) without a queued delete when
    /// the index does not hold that file.
    pub fn mark(&self, doc: Prepared, label: &str, path: &str) -> Prepared {
        if self.tracked && self.indexed(label, path).is_none() {
            doc.new_file()
        } else {
            doc
        }
    }

    /// Deletes the records of files the index held under the roots and the
    /// scan did not see, except under the folders it could not list (a file
    /// there is not known to be gone). Returns how many.
    pub fn remove_gone(
        &self,
        idx: &RmsIndex,
        unlisted: &[PathBuf],
        session: &mut IndexSession,
    ) -> Result<usize, IndexError> {
        let unlisted: Vec<String> = unlisted
            .iter()
            .map(|p| format!("{}/", p.display()))
            .collect();
        let mut deleted = 0;
        for (label, files) in &self.known {
            if files.values().all(|i| i.seen.load(Ordering::Relaxed)) {
                continue;
            }
            // The map keeps keys only: a second pass over the index names the unseen.
            let mut gone = Vec::new();
            for_each_indexed(idx, label, |path, _| {
                let unseen = files
                    .get(&file_id(label, path))
                    .is_some_and(|i| !i.seen.load(Ordering::Relaxed));
                if unseen && !unlisted.iter().any(|u| path.starts_with(u.as_str())) {
                    gone.push(path.to_string());
                }
            })?;
            gone.sort();
            for p in gone {
                session.delete(label, &p)?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}
