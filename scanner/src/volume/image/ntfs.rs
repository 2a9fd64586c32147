//! An NTFS volume inside an image, as a [`Volume`]: the same discovery,
//! planning and pipeline as for a mounted folder.
//!
//! Names are looked up the way Windows does (the volume's own `$UpCase`
//! table, through the `ntfs` crate's B-tree search), then checked for the
//! exact stored name, so case twins (POSIX-namespace names that differ in
//! case) each resolve to themselves. Only the unnamed `$DATA` stream is a
//! file's content: alternate data streams are never listed. Files whose
//! data NTFS compressed or encrypted (EFS) are refused by name, never read
//! as if their stored bytes were the content; sparse runs read as zeros;
//! reparse points (links, junctions) are reported as links and never
//! followed. Every library call runs behind `catch_unwind`.

use std::io::{self, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ntfs::structured_values::{NtfsFileAttributeFlags, NtfsFileNamespace};
use ntfs::{Ntfs, NtfsAttributeFlags, NtfsFile};

use super::{ImageSource, SourceReader};
use crate::volume::{
    Bytes, Entry, EntryKind, NtfsMeta, ReadError, ReadOptions, Stat, VPath, Volume,
};

/// The root directory's file record number.
const ROOT_RECORD: u64 = 5;
/// Records below this are NTFS's own metadata files (`$MFT`, `$UpCase`, …).
const FIRST_USER_RECORD: u64 = 16;

struct Inner {
    src: Arc<dyn ImageSource>,
    ntfs: Ntfs,
    /// Folders already resolved → their file record numbers: every list,
    /// stat and read resolves its path, and most share their folders.
    folders: std::sync::Mutex<std::collections::HashMap<VPath, u64>>,
}

/// Folders remembered per volume before the memory is started afresh.
const MAX_REMEMBERED_FOLDERS: usize = 4096;

/// An NTFS volume read from an image source (cheap to clone: clones share it).
#[derive(Clone)]
pub struct NtfsVolume {
    inner: Arc<Inner>,
    /// The stored path of the volume's root folder (`/cases/ws01.E01/p2`).
    base: PathBuf,
    origin: String,
    serial: u64,
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Runs `f`, turning a panic in the NTFS library into an error.
fn guarded<T>(what: &str, f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        Err(io::Error::other(format!(
            "the NTFS reader failed on {what}: {}",
            crate::panic_message(&p)
        )))
    })
}

/// Runs a read through the NTFS library, turning a panic in it into an error.
fn guarded_read<T>(f: impl FnOnce() -> Result<T, ReadError>) -> Result<T, ReadError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        Err(ReadError::Io(io::Error::other(format!(
            "the NTFS reader failed: {}",
            crate::panic_message(&p)
        ))))
    })
}

fn time(t: ntfs::NtfsTime) -> Option<DateTime<Utc>> {
    crate::parse::time::filetime(t.nt_timestamp())
}

impl NtfsVolume {
    /// Reads the boot sector, `$MFT`'s record and `$UpCase` of the volume in `src`.
    pub fn open(
        src: Arc<dyn ImageSource>,
        base: PathBuf,
        origin: String,
    ) -> io::Result<NtfsVolume> {
        guarded("the volume's boot sector", || {
            let mut fs = SourceReader::zero_padded(src.clone());
            let mut ntfs = Ntfs::new(&mut fs).map_err(other)?;
            ntfs.read_upcase_table(&mut fs).map_err(other)?;
            let serial = ntfs.serial_number();
            Ok(NtfsVolume {
                inner: Arc::new(Inner {
                    src,
                    ntfs,
                    folders: Default::default(),
                }),
                base,
                origin,
                serial,
            })
        })
    }

    /// The volume serial number.
    pub fn serial(&self) -> u64 {
        self.serial
    }

    fn reader(&self) -> SourceReader {
        SourceReader::zero_padded(self.inner.src.clone())
    }
}

impl Inner {
    /// The file at `path`, each name looked up as Windows does, then held to
    /// the exact stored name.
    fn resolve<'n>(&'n self, fs: &mut SourceReader, path: &VPath) -> io::Result<NtfsFile<'n>> {
        // Start from the deepest folder on the path already resolved.
        let names: Vec<&[u8]> = path.components().collect();
        let (mut at, mut record) = (0, ROOT_RECORD);
        let mut prefix = VPath::root();
        {
            let folders = self.folders.lock().unwrap_or_else(|p| p.into_inner());
            let mut p = VPath::root();
            for (i, name) in names.iter().enumerate() {
                p = p.join(name);
                match folders.get(&p) {
                    Some(&r) => (at, record, prefix) = (i + 1, r, p.clone()),
                    None => break,
                }
            }
        }
        let mut file = self.ntfs.file(fs, record).map_err(other)?;
        for (i, name) in names.iter().enumerate().skip(at) {
            // Each folder passed on the way is remembered.
            if i > at {
                self.remember(&prefix, file.file_record_number());
            }
            prefix = prefix.join(name);
            let name = std::str::from_utf8(name)
                .map_err(|_| io::Error::new(io::ErrorKind::NotFound, "not a name NTFS stores"))?;
            let next = {
                let index = file.directory_index(fs).map_err(|e| match e {
                    ntfs::NtfsError::NotADirectory { .. } => {
                        io::Error::from(io::ErrorKind::NotFound)
                    }
                    e => other(e),
                })?;
                let mut finder = index.finder();
                let found =
                    ntfs::indexes::NtfsFileNameIndex::find(&mut finder, &self.ntfs, fs, name)
                        .transpose()
                        .map_err(other)?;
                let exact = match &found {
                    Some(e) => {
                        e.key()
                            .transpose()
                            .map_err(other)?
                            .map(|k| k.name().to_string_lossy())
                            == Some(name.to_string())
                    }
                    None => false,
                };
                if exact {
                    found
                        .expect("checked")
                        .to_file(&self.ntfs, fs)
                        .map_err(other)?
                } else if found.is_none() {
                    return Err(io::ErrorKind::NotFound.into());
                } else {
                    // A case twin, or a name only the POSIX namespace holds: look
                    // through the folder for the exact name.
                    let mut entries = index.entries();
                    let mut hit = None;
                    while let Some(e) = entries.next(fs) {
                        let e = e.map_err(other)?;
                        if let Some(Ok(k)) = e.key() {
                            if k.name().to_string_lossy() == name {
                                hit = Some(e.file_reference());
                                break;
                            }
                        }
                    }
                    // No exact name: the one Windows would find, if any.
                    let hit = match hit {
                        Some(r) => Some(r),
                        None => ntfs::indexes::NtfsFileNameIndex::find(
                            &mut finder,
                            &self.ntfs,
                            fs,
                            name,
                        )
                        .transpose()
                        .map_err(other)?
                        .map(|e| e.file_reference()),
                    };
                    match hit {
                        Some(r) => r.to_file(&self.ntfs, fs).map_err(other)?,
                        None => return Err(io::ErrorKind::NotFound.into()),
                    }
                }
            };
            file = next;
        }
        if file.is_directory() && names.len() > at {
            self.remember(&prefix, file.file_record_number());
        }
        Ok(file)
    }

    fn remember(&self, folder: &VPath, record: u64) {
        let mut folders = self.folders.lock().unwrap_or_else(|p| p.into_inner());
        if folders.len() >= MAX_REMEMBERED_FOLDERS {
            folders.clear();
        }
        folders.insert(folder.clone(), record);
    }

    fn stat_of(&self, fs: &mut SourceReader, file: &NtfsFile<'_>, serial: u64) -> io::Result<Stat> {
        let info = file.info().map_err(other)?;
        let kind = if info
            .file_attributes()
            .contains(NtfsFileAttributeFlags::REPARSE_POINT)
        {
            EntryKind::Symlink
        } else if file.is_directory() {
            EntryKind::Dir
        } else {
            EntryKind::File
        };
        let size = match (kind, file.data(fs, "")) {
            (EntryKind::File, Some(item)) => item
                .map_err(other)?
                .to_attribute()
                .map_err(other)?
                .value_length(),
            _ => 0,
        };
        let name = file
            .name(fs, Some(NtfsFileNamespace::Win32), None)
            .or_else(|| file.name(fs, Some(NtfsFileNamespace::Win32AndDos), None))
            .or_else(|| file.name(fs, None, None))
            .transpose()
            .map_err(other)?;
        let modified = time(info.modification_time());
        Ok(Stat {
            kind: Some(kind),
            size,
            modified,
            accessed: time(info.access_time()),
            changed: time(info.mft_record_modification_time()),
            created: time(info.creation_time()),
            mtime_ns: modified.and_then(|t| t.timestamp_nanos_opt()),
            ntfs: Some(Box::new(NtfsMeta {
                mft_entry: file.file_record_number(),
                mft_sequence: file.sequence_number(),
                fn_created: name.as_ref().and_then(|n| time(n.creation_time())),
                fn_modified: name.as_ref().and_then(|n| time(n.modification_time())),
                volume_serial: format!("{serial:016X}"),
                compressed: info
                    .file_attributes()
                    .contains(NtfsFileAttributeFlags::COMPRESSED),
            })),
        })
    }

    /// Calls `f` with a reader over the unnamed data stream and its length;
    /// refused when NTFS compressed or encrypted it.
    fn with_data<R>(
        &self,
        fs: &mut SourceReader,
        file: &NtfsFile<'_>,
        f: impl FnOnce(&mut dyn ReadSeek, u64) -> io::Result<R>,
    ) -> Result<R, ReadError> {
        let io = |e: ntfs::NtfsError| ReadError::Io(other(e));
        let Some(item) = file.data(fs, "") else {
            return Ok(f(&mut io::Cursor::new(&[][..]), 0)?);
        };
        let item = item.map_err(io)?;
        let attr = item.to_attribute().map_err(io)?;
        if attr.flags().contains(NtfsAttributeFlags::ENCRYPTED) {
            return Err(ReadError::Unsupported(
                "EFS-encrypted file: not readable without its owner's key",
            ));
        }
        let len = attr.value_length();
        let value = attr.value(fs).map_err(io)?;
        if attr.flags().contains(NtfsAttributeFlags::COMPRESSED) {
            // The stored bytes are LZNT1 units, not the content.
            let plain = self.decompressed(value, len)?;
            return Ok(f(&mut io::Cursor::new(&plain[..]), len)?);
        }
        let mut attached = value.attach(fs);
        Ok(f(&mut attached, len)?)
    }

    /// The content of an NTFS-compressed data stream of `len` bytes: each
    /// compression unit (16 clusters) is stored plain when it fills all its
    /// clusters, as zeros when none is allocated, and LZNT1-compressed in
    /// its first clusters otherwise.
    fn decompressed(
        &self,
        value: ntfs::attribute_value::NtfsAttributeValue<'_, '_>,
        len: u64,
    ) -> Result<Vec<u8>, ReadError> {
        use ntfs::attribute_value::NtfsAttributeValue;
        let unsupported = |what| Err(ReadError::Unsupported(what));
        if len > crate::volume::LARGEST_MAX_FILE_SIZE {
            return unsupported("NTFS-compressed file over 1 GiB: not decompressed");
        }
        let runs: Vec<(Option<u64>, u64)> = match &value {
            NtfsAttributeValue::NonResident(v) => v
                .data_runs()
                .map(|r| {
                    r.map(|r| {
                        (
                            r.data_position().value().map(|p| p.get()),
                            r.allocated_size(),
                        )
                    })
                })
                .collect::<Result<_, _>>()
                .map_err(|e| ReadError::Io(other(e)))?,
            NtfsAttributeValue::Resident(_) => {
                return unsupported("NTFS-compressed resident data: not read")
            }
            NtfsAttributeValue::AttributeListNonResident(_) => {
                return unsupported(
                    "NTFS-compressed file spread over an attribute list: not read yet",
                )
            }
        };
        let unit = 16 * self.ntfs.cluster_size() as u64;
        let mut out = Vec::with_capacity(len as usize);
        let mut stored = Vec::new();
        let mut runs = runs.into_iter().peekable();
        let mut left_in_run = 0u64;
        let mut run_pos: Option<u64> = None;
        while (out.len() as u64) < len {
            // Gather one unit's clusters: where each allocated piece lies.
            stored.clear();
            let (mut need, mut sparse) = (unit, 0u64);
            while need > 0 {
                if left_in_run == 0 {
                    let Some((pos, size)) = runs.next() else {
                        break;
                    };
                    (run_pos, left_in_run) = (pos, size);
                    continue;
                }
                let take = need.min(left_in_run);
                match run_pos {
                    Some(p) => {
                        let at = stored.len();
                        stored.resize(at + take as usize, 0);
                        super::read_exact_at(self.src.as_ref(), p, &mut stored[at..])?;
                        run_pos = Some(p + take);
                    }
                    None => sparse += take,
                }
                left_in_run -= take;
                need -= take;
            }
            let want = unit.min(len - out.len() as u64) as usize;
            if sparse == 0 && need == 0 {
                out.extend_from_slice(&stored[..want]);
            } else if stored.is_empty() {
                out.resize(out.len() + want, 0);
            } else {
                let before = out.len();
                super::lznt1::decompress(&stored, &mut out, want)
                    .map_err(|e| ReadError::Io(io::Error::new(io::ErrorKind::InvalidData, e)))?;
                // A unit whose chunks end early stands for zeros after them.
                out.resize(before + want, 0);
            }
            if need > 0 && runs.peek().is_none() && left_in_run == 0 {
                break; // the runs end before the data does: what is left is zeros
            }
        }
        out.resize(len as usize, 0);
        Ok(out)
    }
}

/// What the data stream reader offers.
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

impl Volume for NtfsVolume {
    fn list(&self, dir: &VPath) -> io::Result<Vec<Entry>> {
        let inner = &self.inner;
        guarded("a folder listing", || {
            let mut fs = self.reader();
            let file = inner.resolve(&mut fs, dir)?;
            let own = file.file_record_number();
            let index = file.directory_index(&mut fs).map_err(|e| match e {
                ntfs::NtfsError::NotADirectory { .. } => {
                    io::Error::from(io::ErrorKind::NotADirectory)
                }
                e => other(e),
            })?;
            let mut out = Vec::new();
            let mut entries = index.entries();
            while let Some(e) = entries.next(&mut fs) {
                let e = e.map_err(other)?;
                let Some(key) = e.key().transpose().map_err(other)? else {
                    continue;
                };
                let number = e.file_reference().file_record_number();
                // DOS 8.3 aliases name a file that is listed under its long
                // name too; the root lists itself (".") and the metadata files.
                if key.namespace() == NtfsFileNamespace::Dos
                    || number == own
                    || (dir.is_root() && number < FIRST_USER_RECORD)
                {
                    continue;
                }
                let name = key.name().to_string_lossy();
                let attrs = key.file_attributes();
                let kind = if attrs.contains(NtfsFileAttributeFlags::REPARSE_POINT) {
                    EntryKind::Symlink
                } else if key.is_directory() {
                    EntryKind::Dir
                } else {
                    EntryKind::File
                };
                out.push(Entry {
                    path: dir.join(name.as_bytes()),
                    name,
                    kind,
                });
            }
            out.sort_by(|a, b| a.path.cmp(&b.path));
            out.dedup_by(|a, b| a.path == b.path);
            Ok(out)
        })
    }

    fn stat(&self, path: &VPath) -> io::Result<Stat> {
        guarded("a file record", || {
            let mut fs = self.reader();
            let file = self.inner.resolve(&mut fs, path)?;
            self.inner.stat_of(&mut fs, &file, self.serial)
        })
    }

    fn read<'b>(
        &self,
        path: &VPath,
        opts: &ReadOptions,
        buf: &'b mut Vec<u8>,
    ) -> Result<(Stat, Bytes<'b>), ReadError> {
        let stat = guarded_read(|| {
            let mut fs = self.reader();
            let file = self.inner.resolve(&mut fs, path)?;
            let stat = self.inner.stat_of(&mut fs, &file, self.serial)?;
            match stat.kind {
                Some(EntryKind::File) => {}
                Some(k) => return Err(ReadError::NotRegular(k.describe())),
                None => return Err(ReadError::NotRegular("special file")),
            }
            opts.admit(stat.size)?;
            buf.clear();
            self.inner.with_data(&mut fs, &file, |r, len| {
                buf.reserve(len as usize);
                r.take(len).read_to_end(buf).map(|_| ())
            })?;
            Ok(stat)
        })?;
        Ok((stat, Bytes::Buffer(&buf[..])))
    }

    fn read_at(&self, path: &VPath, offset: u64, buf: &mut [u8]) -> Result<usize, ReadError> {
        guarded_read(|| {
            let mut fs = self.reader();
            let file = self.inner.resolve(&mut fs, path)?;
            if file.is_directory() {
                return Err(ReadError::NotRegular("directory"));
            }
            self.inner.with_data(&mut fs, &file, |r, len| {
                if offset >= len {
                    return Ok(0);
                }
                r.seek(SeekFrom::Start(offset))?;
                let want = buf.len().min((len - offset) as usize);
                r.read_exact(&mut buf[..want])?;
                Ok(want)
            })
        })
    }

    fn open_source(&self, path: &VPath) -> Result<Arc<dyn ImageSource>, ReadError> {
        guarded_read(|| self.file_source(path))
    }

    fn origin(&self) -> String {
        self.origin.clone()
    }

    fn stored_path(&self, path: &VPath) -> PathBuf {
        path.below(&self.base)
    }

    fn windows_names(&self, path: &VPath) -> Vec<String> {
        path.lossy_names()
    }
}

impl NtfsVolume {
    /// A file's data as a source of its own (a container on this volume).
    fn file_source(&self, path: &VPath) -> Result<Arc<dyn ImageSource>, ReadError> {
        let mut fs = self.reader();
        let file = self.inner.resolve(&mut fs, path)?;
        if let Some(Ok(item)) = file.data(&mut fs, "") {
            if item
                .to_attribute()
                .is_ok_and(|a| a.flags().contains(NtfsAttributeFlags::COMPRESSED))
            {
                return Err(ReadError::Unsupported(
                    "an NTFS-compressed disk image or container: not read through its compression (copy it out with your own tools and scan the copy)",
                ));
            }
        }
        let record = file.file_record_number();
        let len = self.inner.with_data(&mut fs, &file, |_, len| Ok(len))?;
        Ok(Arc::new(FileInVolume {
            inner: self.inner.clone(),
            record,
            len,
        }))
    }
}

/// A file's data inside an NTFS volume, as a source of its own (a profile
/// container on a file server's volume), read without copying it out.
struct FileInVolume {
    inner: Arc<Inner>,
    record: u64,
    len: u64,
}

impl ImageSource for FileInVolume {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        guarded("a file inside the volume", || {
            let mut fs = SourceReader::zero_padded(self.inner.src.clone());
            let file = self.inner.ntfs.file(&mut fs, self.record).map_err(other)?;
            self.inner
                .with_data(&mut fs, &file, |r, len| {
                    let want = buf.len().min((len.saturating_sub(offset)) as usize);
                    r.seek(SeekFrom::Start(offset))?;
                    r.read_exact(&mut buf[..want])?;
                    Ok(want)
                })
                .map_err(|e| match e {
                    ReadError::Io(e) => e,
                    e => io::Error::other(e.to_string()),
                })
        })
    }
}
