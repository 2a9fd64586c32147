//! A volume held in memory: discovery and planning tested without temporary
//! folders, with every listing counted (each folder on the way to a store
//! must be listed once), and a hook on every request (a test's stand-in for
//! a source that fails or a share that hangs).

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::image::ImageSource;
use super::{Bytes, Entry, EntryKind, ReadError, ReadOptions, Stat, VPath, Volume};

/// Files, folders and other entries by path (`a/b/c`); parent folders are
/// implied by their contents.
#[derive(Debug, Default)]
pub struct MemoryVolume {
    entries: BTreeMap<Vec<u8>, Node>,
    listings: Mutex<BTreeMap<Vec<u8>, usize>>,
    hook: Hook,
}

/// What runs before every request, with its path.
#[derive(Default)]
struct Hook(Option<Box<OnRequest>>);

type OnRequest = dyn Fn(&VPath) + Send + Sync;

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Hook(set)"
        } else {
            "Hook(none)"
        })
    }
}

#[derive(Debug, Clone)]
enum Node {
    Dir,
    File(Vec<u8>),
    Other(EntryKind),
}

impl MemoryVolume {
    pub fn new() -> MemoryVolume {
        MemoryVolume::default()
    }

    /// Adds a file (and the folders above it).
    pub fn file(mut self, path: &str, bytes: &[u8]) -> Self {
        self.parents(path);
        self.entries
            .insert(path.as_bytes().to_vec(), Node::File(bytes.to_vec()));
        self
    }

    /// Adds an empty folder (and the folders above it).
    pub fn dir(mut self, path: &str) -> Self {
        self.parents(path);
        self.entries.insert(path.as_bytes().to_vec(), Node::Dir);
        self
    }

    /// Adds an entry that is neither file nor folder (a symlink, a FIFO…).
    pub fn other(mut self, path: &str, kind: EntryKind) -> Self {
        self.parents(path);
        self.entries
            .insert(path.as_bytes().to_vec(), Node::Other(kind));
        self
    }

    fn parents(&mut self, path: &str) {
        let mut at = 0;
        while let Some(i) = path[at..].find('/') {
            self.entries
                .insert(path.as_bytes()[..at + i].to_vec(), Node::Dir);
            at += i + 1;
        }
    }

    /// Runs `hook` with the path of every request (list, stat, read…)
    /// before answering it: it may panic, or never return.
    pub fn on_every_request(mut self, hook: impl Fn(&VPath) + Send + Sync + 'static) -> Self {
        self.hook = Hook(Some(Box::new(hook)));
        self
    }

    /// How often each folder was listed, by path (`""` is the root).
    pub fn listings(&self) -> BTreeMap<String, usize> {
        self.listings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, n)| (String::from_utf8_lossy(k).into_owned(), *n))
            .collect()
    }

    fn node(&self, p: &VPath) -> io::Result<&Node> {
        if let Some(hook) = &self.hook.0 {
            hook(p);
        }
        if p.is_root() {
            return Ok(&Node::Dir);
        }
        self.entries
            .get(p.as_bytes())
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
}

fn kind(n: &Node) -> EntryKind {
    match n {
        Node::Dir => EntryKind::Dir,
        Node::File(_) => EntryKind::File,
        Node::Other(k) => *k,
    }
}

impl Volume for MemoryVolume {
    fn list(&self, dir: &VPath) -> io::Result<Vec<Entry>> {
        if !matches!(self.node(dir)?, Node::Dir) {
            return Err(io::Error::from(io::ErrorKind::NotADirectory));
        }
        *self
            .listings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(dir.as_bytes().to_vec())
            .or_default() += 1;
        let prefix = if dir.is_root() {
            Vec::new()
        } else {
            [dir.as_bytes(), b"/"].concat()
        };
        Ok(self
            .entries
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| !k[prefix.len()..].contains(&b'/'))
            .map(|(k, n)| Entry {
                name: String::from_utf8_lossy(&k[prefix.len()..]).into_owned(),
                path: VPath::from_bytes(k.clone()),
                kind: kind(n),
            })
            .collect())
    }

    fn stat(&self, path: &VPath) -> io::Result<Stat> {
        let n = self.node(path)?;
        Ok(Stat {
            kind: Some(kind(n)),
            size: match n {
                Node::File(b) => b.len() as u64,
                _ => 0,
            },
            ..Stat::default()
        })
    }

    fn read<'b>(
        &self,
        path: &VPath,
        opts: &ReadOptions,
        buf: &'b mut Vec<u8>,
    ) -> Result<(Stat, Bytes<'b>), ReadError> {
        let stat = self.stat(path)?;
        let Node::File(bytes) = self.node(path)? else {
            let k = stat.kind.unwrap_or(EntryKind::Unknown);
            return Err(ReadError::NotRegular(k.describe()));
        };
        opts.admit(stat.size)?;
        buf.clear();
        buf.extend_from_slice(bytes);
        Ok((stat, Bytes::Buffer(buf)))
    }

    fn open_source(&self, path: &VPath) -> Result<Arc<dyn ImageSource>, ReadError> {
        match self.node(path)? {
            Node::File(bytes) => Ok(Arc::new(bytes.to_vec())),
            node => Err(ReadError::NotRegular(kind(node).describe())),
        }
    }

    fn read_at(&self, path: &VPath, offset: u64, buf: &mut [u8]) -> Result<usize, ReadError> {
        let node = self.node(path)?;
        let Node::File(bytes) = node else {
            return Err(ReadError::NotRegular(kind(node).describe()));
        };
        let from = (offset as usize).min(bytes.len());
        let n = buf.len().min(bytes.len() - from);
        buf[..n].copy_from_slice(&bytes[from..from + n]);
        Ok(n)
    }

    fn origin(&self) -> String {
        "memory".into()
    }

    fn stored_path(&self, path: &VPath) -> PathBuf {
        PathBuf::from(format!(
            "/memory/{}",
            String::from_utf8_lossy(path.as_bytes())
        ))
    }

    fn windows_names(&self, path: &VPath) -> Vec<String> {
        path.lossy_names()
    }
}
