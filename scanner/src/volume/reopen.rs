//! A volume opened when it is used and closed when others need the room.
//!
//! A profile share holds thousands of containers; each opened container
//! holds a file descriptor, its block table and its NTFS `$UpCase` table.
//! Planning opens each to find its stores, the run opens it again to read
//! them: a [`Pool`] keeps at most its budget open at once (the longest
//! unused closed first), so memory and descriptors stay flat with the
//! number of containers. A reader that holds a volume keeps it alive after
//! it is closed here.

use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

use super::image::ImageSource;
use super::{Bytes, Entry, Names, ReadError, ReadOptions, Stat, VPath, Volume};

/// How to open the volume again.
pub type Opener = Box<dyn Fn() -> io::Result<Arc<dyn Volume>> + Send + Sync>;

/// An open volume and the admission it was opened under.
type Slot = Mutex<Option<(u64, Arc<dyn Volume>)>>;

/// The volumes open at once, oldest admission first.
pub struct Pool {
    budget: usize,
    open: Mutex<Admissions>,
}

/// The last admission's number, and the open slots by admission.
#[derive(Default)]
struct Admissions {
    last: u64,
    open: VecDeque<(u64, Weak<Slot>)>,
}

impl Pool {
    pub fn new(budget: usize) -> Arc<Pool> {
        Arc::new(Pool {
            budget: budget.max(1),
            open: Mutex::new(Admissions::default()),
        })
    }

    /// Records that `slot` was opened; closes the oldest beyond the budget.
    /// Returns the admission number the slot must hold.
    fn admit(&self, slot: &Arc<Slot>) -> u64 {
        let (generation, evicted) = {
            let mut a = self.open.lock().unwrap_or_else(|p| p.into_inner());
            a.last += 1;
            let generation = a.last;
            a.open.push_back((generation, Arc::downgrade(slot)));
            let mut evicted = Vec::new();
            while a.open.len() > self.budget {
                evicted.extend(a.open.pop_front());
            }
            (generation, evicted)
        };
        // Closed outside the pool's lock; only the admission that opened it.
        for (generation, slot) in evicted {
            if let Some(slot) = slot.upgrade() {
                let mut s = slot.lock().unwrap_or_else(|p| p.into_inner());
                if s.as_ref().is_some_and(|(g, _)| *g == generation) {
                    *s = None;
                }
            }
        }
        generation
    }
}

/// A volume reopened on use.
pub struct Reopening {
    opener: Opener,
    /// The stored path of its root, for paths without opening it.
    stored_root: PathBuf,
    origin: String,
    slot: Arc<Slot>,
    pool: Arc<Pool>,
    /// How its stored names spell Windows names (known without opening it).
    names: Names,
}

impl Reopening {
    /// `opened` is the volume as already opened (planning read it).
    pub fn new(opened: Arc<dyn Volume>, opener: Opener, pool: Arc<Pool>) -> Reopening {
        let r = Reopening {
            stored_root: opened.stored_path(&VPath::root()),
            origin: opened.origin(),
            opener,
            slot: Arc::new(Mutex::new(None)),
            pool,
            names: Names::AsStored,
        };
        r.hold(opened);
        r
    }

    /// A volume whose stored names are encoded (a collection zip's).
    pub fn with_names(mut self, names: Names) -> Reopening {
        self.names = names;
        self
    }

    fn hold(&self, vol: Arc<dyn Volume>) -> Arc<dyn Volume> {
        let generation = self.pool.admit(&self.slot);
        let mut s = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        match s.as_ref() {
            Some((_, open)) => open.clone(), // opened meanwhile by another thread
            None => {
                *s = Some((generation, vol.clone()));
                vol
            }
        }
    }

    fn get(&self) -> io::Result<Arc<dyn Volume>> {
        if let Some((_, v)) = self.slot.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            return Ok(v.clone());
        }
        let vol = (self.opener)().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{} could not be opened again: {e}", self.origin),
            )
        })?;
        Ok(self.hold(vol))
    }
}

impl Volume for Reopening {
    fn list(&self, dir: &VPath) -> io::Result<Vec<Entry>> {
        self.get()?.list(dir)
    }
    fn stat(&self, path: &VPath) -> io::Result<Stat> {
        self.get()?.stat(path)
    }
    fn read<'b>(
        &self,
        path: &VPath,
        opts: &ReadOptions,
        buf: &'b mut Vec<u8>,
    ) -> Result<(Stat, Bytes<'b>), ReadError> {
        self.get()?.read(path, opts, buf)
    }
    fn read_at(&self, path: &VPath, offset: u64, buf: &mut [u8]) -> Result<usize, ReadError> {
        self.get()?.read_at(path, offset, buf)
    }
    fn open_source(&self, path: &VPath) -> Result<Arc<dyn ImageSource>, ReadError> {
        self.get()?.open_source(path)
    }
    fn origin(&self) -> String {
        self.origin.clone()
    }
    fn stored_path(&self, path: &VPath) -> PathBuf {
        path.below(&self.stored_root)
    }
    fn windows_names(&self, path: &VPath) -> Vec<String> {
        self.names.windows_names(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::memory::MemoryVolume;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn at_most_the_budget_stays_open_and_a_closed_volume_reopens() {
        let pool = Pool::new(2);
        let opened = Arc::new(AtomicUsize::new(0));
        let volumes: Vec<Reopening> = (0..3)
            .map(|_| {
                let count = opened.clone();
                let opener: Opener = Box::new(move || {
                    count.fetch_add(1, Ordering::SeqCst);
                    Ok(Arc::new(MemoryVolume::new().file("a/x.drm", b"x")) as Arc<dyn Volume>)
                });
                let first: Arc<dyn Volume> = Arc::new(MemoryVolume::new().file("a/x.drm", b"x"));
                Reopening::new(first, opener, pool.clone())
            })
            .collect();
        let open = |v: &Reopening| v.slot.lock().unwrap().is_some();
        // The third admission closed the first.
        assert_eq!(
            volumes.iter().map(open).collect::<Vec<_>>(),
            [false, true, true]
        );
        assert_eq!(volumes[0].list(&VPath::from_bytes("a")).unwrap().len(), 1);
        assert_eq!(opened.load(Ordering::SeqCst), 1);
        assert_eq!(
            volumes.iter().map(open).collect::<Vec<_>>(),
            [true, false, true]
        );
        // Paths need no opening.
        assert_eq!(
            volumes[1].stored_path(&VPath::from_bytes("a/x.drm")),
            PathBuf::from("/memory/a/x.drm")
        );
        assert_eq!(opened.load(Ordering::SeqCst), 1);
    }
}
