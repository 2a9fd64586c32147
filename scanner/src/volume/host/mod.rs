//! A volume that is a folder on this machine: a mounted Windows volume, a
//! profile share, one drive folder of a KAPE or Velociraptor collection.
//!
//! All host access of the scanner lives under this module, and with it all
//! `unsafe`: every path of the volume is opened from the base folder's
//! descriptor, never through a link, and only once its type is known to be
//! a regular file or folder ([`beneath`]); folders are listed with
//! `O_NOATIME` ([`dir`]); files are read with `O_NONBLOCK|O_NOATIME` and
//! mapped only from read-only mounts ([`read`]).

pub mod beneath;
pub mod dir;
pub mod fs;
pub mod read;

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use beneath::{open_checked, open_path, Opened, READ_FLAGS};

use chrono::{DateTime, TimeZone, Utc};

pub use dir::{kind_of_type, list, HostEntry};
pub use read::{map, open_evidence, read_file};

use super::image::{FileSource, ImageSource};
pub use super::Names;
use super::{Bytes, Entry, ReadError, ReadOptions, Stat, VPath, Volume};

/// A folder of this machine seen as a volume.
#[derive(Debug, Clone)]
pub struct HostVolume {
    base: PathBuf,
    /// The base folder, opened once (`O_PATH`): every path is resolved from it.
    base_fd: Arc<OwnedFd>,
    names: Names,
}

impl HostVolume {
    /// `base` is the folder that is the volume's (or the scanned part's) root.
    pub fn new(base: impl Into<PathBuf>, names: Names) -> io::Result<HostVolume> {
        let base = base.into();
        let base_fd = Arc::new(beneath::open_base(&base)?);
        Ok(HostVolume {
            base,
            base_fd,
            names,
        })
    }

    pub fn base(&self) -> &Path {
        &self.base
    }

    fn host(&self, p: &VPath) -> PathBuf {
        if p.is_root() {
            self.base.clone()
        } else {
            self.base
                .join(std::ffi::OsString::from_vec(p.as_bytes().to_vec()))
        }
    }

    /// Opens a regular file of the volume for reading; anything else is
    /// refused unopened.
    fn open_file(&self, path: &VPath) -> Result<(std::fs::File, std::fs::Metadata), ReadError> {
        match open_checked(self.base_fd.as_fd(), path.as_bytes(), READ_FLAGS)
            .map_err(read::read_error)?
        {
            Opened::Open(f, m) => Ok((f, m)),
            Opened::Not(t) => Err(ReadError::NotRegular(kind_of_type(&t).describe())),
        }
    }
}

impl Volume for HostVolume {
    fn list(&self, dir: &VPath) -> io::Result<Vec<Entry>> {
        let folder = beneath::open_dir(self.base_fd.as_fd(), dir.as_bytes())?;
        Ok(dir::list_names_fd(folder)?
            .into_iter()
            .map(|(name, kind)| Entry {
                name: self.names.windows_name(&name),
                path: dir.join(&name),
                kind,
            })
            .collect())
    }

    fn stat(&self, path: &VPath) -> io::Result<Stat> {
        let fd = std::fs::File::from(open_path(self.base_fd.as_fd(), path.as_bytes())?);
        fd.metadata().map(|m| stat_of(&m))
    }

    fn read<'b>(
        &self,
        path: &VPath,
        opts: &ReadOptions,
        buf: &'b mut Vec<u8>,
    ) -> Result<(Stat, Bytes<'b>), ReadError> {
        let (file, meta) = self.open_file(path)?;
        let (meta, bytes) = read::read_opened(file, meta, opts, buf)?;
        Ok((stat_of(&meta), bytes))
    }

    fn read_at(&self, path: &VPath, offset: u64, buf: &mut [u8]) -> Result<usize, ReadError> {
        let (file, _) = self.open_file(path)?;
        read::read_range_opened(&file, offset, buf)
    }

    fn open_source(&self, path: &VPath) -> Result<Arc<dyn ImageSource>, ReadError> {
        let (file, meta) = self.open_file(path)?;
        Ok(Arc::new(FileSource::new(file, meta.len())))
    }

    fn origin(&self) -> String {
        format!("folder {}", self.base.display())
    }

    fn stored_path(&self, path: &VPath) -> PathBuf {
        self.host(path)
    }

    fn windows_names(&self, path: &VPath) -> Vec<String> {
        self.names.windows_names(path)
    }
}

/// Size and times from host metadata.
pub fn stat_of(m: &std::fs::Metadata) -> Stat {
    Stat {
        kind: Some(kind_of_type(&m.file_type())),
        size: m.len(),
        modified: ts(m.mtime(), m.mtime_nsec()),
        accessed: ts(m.atime(), m.atime_nsec()),
        changed: ts(m.ctime(), m.ctime_nsec()),
        created: m.created().ok().map(DateTime::<Utc>::from),
        mtime_ns: m
            .mtime()
            .checked_mul(1_000_000_000)
            .and_then(|s| s.checked_add(m.mtime_nsec())),
        ntfs: None,
    }
}

fn ts(secs: i64, nsecs: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(secs, nsecs.clamp(0, 999_999_999) as u32)
        .single()
}
