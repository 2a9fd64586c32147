//! Where evidence bytes come from: a read-only Windows volume of one host.
//!
//! Discovery, planning, the pipeline and re-scans see evidence only through
//! [`Volume`]: list a folder, stat an entry without following it, read a
//! file. [`host::HostVolume`] is a folder on this machine (a mounted volume,
//! a profile share, one drive of a triage collection); all `unsafe` and libc
//! lives there. [`memory::MemoryVolume`] is a volume held in memory, so
//! discovery can be tested without temporary folders. Image-backed volumes
//! (NTFS inside raw, VHD(X), E01) are further implementations of the same
//! trait.
//!
//! Paths inside a volume are [`VPath`]s: the names as the source stores them,
//! joined by `/`. Each entry also has its Windows name (a triage collector's
//! percent-encoding undone), which is what discovery matches and what the
//! record's `volume_path` shows.

pub mod host;
pub mod image;
pub mod memory;
pub mod reopen;
pub mod sub;
pub mod timed;
pub mod zip;

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::parse::time::serde_rfc3339;

/// A read-only volume, shared by many worker threads.
pub trait Volume: Send + Sync {
    /// Lists a folder (without `.` and `..`), sorted by stored name bytes.
    /// Never lists through a link.
    fn list(&self, dir: &VPath) -> io::Result<Vec<Entry>>;
    /// What an entry is, without following it.
    fn stat(&self, path: &VPath) -> io::Result<Stat>;
    /// Reads a regular file; its type and size are checked on what is read.
    fn read<'b>(
        &self,
        path: &VPath,
        opts: &ReadOptions,
        buf: &'b mut Vec<u8>,
    ) -> Result<(Stat, Bytes<'b>), ReadError>;
    /// Reads up to `buf.len()` bytes of a regular file from `offset` (a
    /// hive's header, a container's footer); returns how many were read.
    fn read_at(&self, path: &VPath, offset: u64, buf: &mut [u8]) -> Result<usize, ReadError>;
    /// A regular file's bytes as a source of their own, held open (a disk
    /// image or profile container found on this volume).
    fn open_source(&self, path: &VPath) -> Result<Arc<dyn image::ImageSource>, ReadError>;
    /// Where the volume comes from, for messages (`folder /mnt/ws01`).
    fn origin(&self) -> String;
    /// The path as stored where the evidence lies (a host path for a mounted
    /// folder): the record's `path`.
    fn stored_path(&self, path: &VPath) -> PathBuf;
    /// The Windows names of a path's components (decoded where the source
    /// encodes them), for `volume_path`.
    fn windows_names(&self, path: &VPath) -> Vec<String>;
}

/// A path inside a volume: stored names joined by `/`; empty is the volume's
/// root folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VPath(Vec<u8>);

impl VPath {
    /// The volume's root folder.
    pub fn root() -> VPath {
        VPath(Vec::new())
    }
    /// A path from stored name bytes joined by `/`.
    pub fn from_bytes(b: impl Into<Vec<u8>>) -> VPath {
        VPath(b.into())
    }
    /// This path with one more component.
    pub fn join(&self, name: &[u8]) -> VPath {
        let mut v = Vec::with_capacity(self.0.len() + 1 + name.len());
        v.extend_from_slice(&self.0);
        if !v.is_empty() {
            v.push(b'/');
        }
        v.extend_from_slice(name);
        VPath(v)
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
    /// The stored names, outermost first.
    pub fn components(&self) -> impl DoubleEndedIterator<Item = &[u8]> {
        self.0.split(|&b| b == b'/').filter(|c| !c.is_empty())
    }
    /// The last stored name (empty for the root).
    pub fn file_name(&self) -> &[u8] {
        self.components().next_back().unwrap_or(b"")
    }
    /// The path's names as text (lossy UTF-8): the Windows names on a volume
    /// that stores names as they are (NTFS read from an image).
    pub fn lossy_names(&self) -> Vec<String> {
        self.components()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    }

    /// `base` with this path below it (`base` itself for the root).
    pub fn below(&self, base: &std::path::Path) -> PathBuf {
        if self.is_root() {
            return base.to_path_buf();
        }
        base.join(String::from_utf8_lossy(&self.0).as_ref())
    }

    /// The folder this path lies in (the root for the root).
    pub fn parent(&self) -> VPath {
        match self.0.iter().rposition(|&b| b == b'/') {
            Some(at) => VPath(self.0[..at].to_vec()),
            None => VPath::root(),
        }
    }
}

/// What an entry is (never following a symlink).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File,
    Symlink,
    Fifo,
    Socket,
    BlockDevice,
    CharDevice,
    Unknown,
}

impl EntryKind {
    /// How a non-regular entry is described in a record.
    pub fn describe(self) -> &'static str {
        match self {
            EntryKind::Dir => "directory",
            EntryKind::File => "regular file",
            EntryKind::Symlink => "symbolic link",
            EntryKind::Fifo => "FIFO",
            EntryKind::Socket => "socket",
            EntryKind::BlockDevice => "block device",
            EntryKind::CharDevice => "character device",
            EntryKind::Unknown => "special file",
        }
    }
}

/// One entry of a listing.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The Windows name (decoded where the source encodes names; lossy UTF-8).
    pub name: String,
    pub path: VPath,
    pub kind: EntryKind,
}

impl Entry {
    /// Whether the Windows name equals `want`, ignoring ASCII case as Windows does.
    pub fn is(&self, want: &str) -> bool {
        self.name.eq_ignore_ascii_case(want)
    }
}

/// Size and times of an entry, as the source records them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stat {
    pub kind: Option<EntryKind>,
    pub size: u64,
    pub modified: Option<DateTime<Utc>>,
    pub accessed: Option<DateTime<Utc>>,
    /// Metadata change time (inode ctime; the MFT change time on NTFS).
    pub changed: Option<DateTime<Utc>>,
    pub created: Option<DateTime<Utc>>,
    /// Modification time in nanoseconds since the epoch: the re-scan check.
    pub mtime_ns: Option<i64>,
    /// What NTFS records besides, when the volume is read from an image.
    pub ntfs: Option<Box<NtfsMeta>>,
}

/// A file's NTFS metadata (read from an image): its MFT entry, and the
/// `$FILE_NAME` times beside the `$STANDARD_INFORMATION` ones in [`Stat`]
/// (a tool that backdates a file usually changes only the latter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NtfsMeta {
    pub mft_entry: u64,
    pub mft_sequence: u16,
    #[serde(with = "serde_rfc3339::option")]
    pub fn_created: Option<DateTime<Utc>>,
    #[serde(with = "serde_rfc3339::option")]
    pub fn_modified: Option<DateTime<Utc>>,
    /// The volume serial number, hexadecimal.
    pub volume_serial: String,
    /// NTFS stored the file compressed (it was read decompressed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compressed: bool,
}

/// Refuse to read files larger than this unless told otherwise (64 MiB:
/// real store files are 3–60 KB).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// The largest `--max-file-size`: a file is held whole while it is parsed,
/// so a sparse file claiming 100 GB must never be read (store files are
/// 3–60 KB).
pub const LARGEST_MAX_FILE_SIZE: u64 = 1024 * 1024 * 1024;

/// Files of at least this size are memory-mapped instead of read. Measured by
/// `cargo bench -p rmsweep-benches --bench read` on the 2-core reference
/// machine: for 4 KB and 64 KB files a plain read into a reused buffer was
/// faster than mapping (mapping costs an mmap/munmap pair and page faults and
/// scales worse across threads); from 1 MB up mapping avoided the copy and won.
pub const MMAP_THRESHOLD: u64 = 1024 * 1024;

/// How files are read.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    pub max_file_size: u64,
    /// Files at least this large are mapped when their filesystem is
    /// mounted read-only. `None`: never map (`--no-mmap`).
    pub mmap_threshold: Option<u64>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            mmap_threshold: Some(MMAP_THRESHOLD),
        }
    }
}

impl ReadOptions {
    /// Whether a file of `size` bytes may be read: the cap every volume
    /// checks before reading.
    pub fn admit(&self, size: u64) -> Result<(), ReadError> {
        if size > self.max_file_size {
            return Err(ReadError::TooLarge {
                size,
                max: self.max_file_size,
            });
        }
        Ok(())
    }
}

/// A file's bytes: in the caller's buffer, or mapped.
pub enum Bytes<'a> {
    Buffer(&'a [u8]),
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for Bytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Buffer(b) => b,
            Bytes::Mapped(m) => m,
        }
    }
}

/// Why a file was not read. The message names what to do where there is
/// something to do.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not a regular file ({0}): not opened")]
    NotRegular(&'static str),
    #[error("the file vanished between listing and reading")]
    Vanished,
    #[error("permission denied: rerun as a user who can read it (e.g. root), or scan an image of the volume")]
    PermissionDenied,
    #[error("{}", too_large(*size, *max))]
    TooLarge { size: u64, max: u64 },
    #[error("the file grew past the {max}-byte cap while being read")]
    GrewPastCap { max: u64 },
    #[error("read error: {0}")]
    Io(io::Error),
    /// Stored in a way rmsweep cannot read (NTFS compression, EFS).
    #[error("{0}")]
    Unsupported(&'static str),
}

fn too_large(size: u64, max: u64) -> String {
    if size <= LARGEST_MAX_FILE_SIZE {
        format!("file is {size} bytes, over the {max}-byte cap: rerun with --max-file-size {size} to read it")
    } else {
        format!("file is {size} bytes, over the largest size rmsweep reads ({LARGEST_MAX_FILE_SIZE} bytes): not read (a store file is a few KB; this may be a sparse or planted file)")
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => ReadError::Vanished,
            io::ErrorKind::PermissionDenied => ReadError::PermissionDenied,
            _ => ReadError::Io(e),
        }
    }
}

/// How a source spells Windows names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// As Windows wrote them (a mounted volume, a KAPE copy).
    AsStored,
    /// Percent-encoded (Velociraptor's `uploads/auto/C%3A/…`).
    PercentEncoded,
}

impl Names {
    /// The Windows name a stored name stands for (lossy UTF-8).
    pub fn windows_name(self, stored: &[u8]) -> String {
        match self {
            Names::AsStored => String::from_utf8_lossy(stored).into_owned(),
            Names::PercentEncoded => String::from_utf8_lossy(&percent_decode(stored)).into_owned(),
        }
    }

    /// The Windows names of a path's components.
    pub fn windows_names(self, path: &VPath) -> Vec<String> {
        path.components().map(|c| self.windows_name(c)).collect()
    }
}

/// A small JSON file of the evidence (a collector's metadata), read like
/// any evidence file; `None` when absent, unreadable or not JSON.
pub fn read_small_json(vol: &dyn Volume, path: &VPath) -> Option<serde_json::Value> {
    let opts = ReadOptions {
        max_file_size: 1024 * 1024,
        mmap_threshold: None,
    };
    let mut buf = Vec::new();
    let (_, bytes) = vol.read(path, &opts, &mut buf).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Undoes the percent-encoding triage collectors apply to names
/// (Velociraptor: `C%3A`, `%5C%5C.%5CC%3A`). Invalid escapes stay as written.
pub fn percent_decode(name: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(name.len());
    let mut i = 0;
    while i < name.len() {
        if name[i] == b'%' && i + 2 < name.len() {
            if let (Some(h), Some(l)) = (hex(name[i + 1]), hex(name[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(name[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_undoes_collector_escapes_and_keeps_invalid_ones() {
        assert_eq!(percent_decode(b"C%3A"), b"C:");
        assert_eq!(percent_decode(b"%5C%5C.%5CC%3A"), b"\\\\.\\C:");
        assert_eq!(percent_decode(b"100%"), b"100%");
        assert_eq!(percent_decode(b"a%zzb%4"), b"a%zzb%4");
        assert_eq!(
            percent_decode(b"Documents%20and%20Settings"),
            b"Documents and Settings"
        );
    }

    #[test]
    fn vpaths_join_and_split() {
        let p = VPath::root().join(b"Users").join(b"alice");
        assert_eq!(p.as_bytes(), b"Users/alice");
        assert_eq!(p.file_name(), b"alice");
        assert_eq!(p.components().count(), 2);
        assert!(VPath::root().is_root());
        assert_eq!(VPath::root().file_name(), b"");
    }

    #[test]
    fn ranges_are_read_from_any_volume() {
        let vol = memory::MemoryVolume::new().file("f", b"0123456789");
        let mut buf = [0u8; 4];
        assert_eq!(
            vol.read_at(&VPath::from_bytes("f"), 8, &mut buf).unwrap(),
            2
        );
        assert_eq!(&buf[..2], b"89");
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("f"), b"0123456789").unwrap();
        let host = host::HostVolume::new(tmp.path(), host::Names::AsStored).unwrap();
        assert_eq!(
            host.read_at(&VPath::from_bytes("f"), 3, &mut buf).unwrap(),
            4
        );
        assert_eq!(&buf, b"3456");
        assert!(host.read_at(&VPath::root(), 0, &mut buf).is_err());
        assert_eq!(host.origin(), format!("folder {}", tmp.path().display()));
    }
}
