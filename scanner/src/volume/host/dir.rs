//! Listing host directories of the evidence without touching them.
//!
//! `std::fs::read_dir` opens a directory without `O_NOATIME`, so on a volume
//! mounted read-write with `relatime` every listing may update the folder's
//! access time. This lister opens each folder with `O_NOATIME` (where the
//! kernel permits it), `O_NOFOLLOW` and `O_DIRECTORY`, and reports entry types
//! from `d_type` (falling back to `lstat` where the filesystem has none).

use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::volume::EntryKind;

/// The kind of a file type (as from `lstat`: a symlink is a symlink).
pub fn kind_of_type(t: &std::fs::FileType) -> EntryKind {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        EntryKind::Dir
    } else if t.is_file() {
        EntryKind::File
    } else if t.is_symlink() {
        EntryKind::Symlink
    } else if t.is_fifo() {
        EntryKind::Fifo
    } else if t.is_socket() {
        EntryKind::Socket
    } else if t.is_block_device() {
        EntryKind::BlockDevice
    } else if t.is_char_device() {
        EntryKind::CharDevice
    } else {
        EntryKind::Unknown
    }
}

/// One entry of a host listing.
#[derive(Debug, Clone)]
pub struct HostEntry {
    pub name: OsString,
    pub path: PathBuf,
    pub kind: EntryKind,
}

impl HostEntry {
    /// The name as text (lossy for non-UTF-8 names).
    pub fn name_lossy(&self) -> std::borrow::Cow<'_, str> {
        self.name.to_string_lossy()
    }
}

struct Dir(*mut libc::DIR);

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: the pointer came from a successful fdopendir and is closed once.
        unsafe { libc::closedir(self.0) };
    }
}

fn open_dir(dir: &Path) -> io::Result<Dir> {
    let c = CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let flags =
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK;
    // SAFETY: plain open(2) on a NUL-terminated path.
    let mut fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_NOATIME) };
    if fd < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) {
        // O_NOATIME needs ownership or CAP_FOWNER.
        // SAFETY: open(2) on the same NUL-terminated path.
        fd = unsafe { libc::open(c.as_ptr(), flags) };
    }
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is an open directory descriptor; fdopendir takes ownership.
    let d = unsafe { libc::fdopendir(fd) };
    if d.is_null() {
        let e = io::Error::last_os_error();
        // SAFETY: fdopendir failed, so fd is still ours to close, once.
        unsafe { libc::close(fd) };
        return Err(e);
    }
    Ok(Dir(d))
}

/// Lists `dir` (without `.` and `..`), sorted by name bytes.
pub fn list(dir: &Path) -> io::Result<Vec<HostEntry>> {
    Ok(list_names(dir)?
        .into_iter()
        .map(|(name, kind)| {
            let name = OsString::from_vec(name);
            HostEntry {
                path: dir.join(&name),
                name,
                kind,
            }
        })
        .collect())
}

/// Lists `dir` as (name bytes, kind), sorted by name bytes: no path is
/// built for an entry unless its type must be asked for.
fn list_names(dir: &Path) -> io::Result<Vec<(Vec<u8>, EntryKind)>> {
    read_entries(open_dir(dir)?, |name| {
        kind_of(&dir.join(OsStr::from_bytes(name)))
    })
}

/// Lists a folder already open for reading (from [`super::beneath`]);
/// entry types the filesystem does not report are asked of the folder's
/// descriptor, never through a path.
pub fn list_names_fd(dir: std::fs::File) -> io::Result<Vec<(Vec<u8>, EntryKind)>> {
    use std::os::fd::IntoRawFd;
    let raw = dir.into_raw_fd();
    // SAFETY: raw is an open directory descriptor; fdopendir takes ownership.
    let d = unsafe { libc::fdopendir(raw) };
    if d.is_null() {
        let e = io::Error::last_os_error();
        // SAFETY: fdopendir failed, so raw is still ours to close, once.
        unsafe { libc::close(raw) };
        return Err(e);
    }
    let d = Dir(d);
    // SAFETY: d.0 is an open DIR stream, owned by `d` for as long as fd is used.
    let fd = unsafe { libc::dirfd(d.0) };
    read_entries(d, |name| kind_at(fd, name))
}

/// The type of `name` in the folder `fd`, without following it.
fn kind_at(fd: libc::c_int, name: &[u8]) -> EntryKind {
    let Ok(c) = CString::new(name) else {
        return EntryKind::Unknown;
    };
    // SAFETY: fstatat(2) on an open folder and one NUL-terminated name.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above: fd is open, c is NUL-terminated, st is a valid out-pointer.
    if unsafe { libc::fstatat(fd, c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) } != 0 {
        return EntryKind::Unknown;
    }
    match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => EntryKind::Dir,
        libc::S_IFREG => EntryKind::File,
        libc::S_IFLNK => EntryKind::Symlink,
        libc::S_IFIFO => EntryKind::Fifo,
        libc::S_IFSOCK => EntryKind::Socket,
        libc::S_IFBLK => EntryKind::BlockDevice,
        libc::S_IFCHR => EntryKind::CharDevice,
        _ => EntryKind::Unknown,
    }
}

fn read_entries(
    d: Dir,
    unknown: impl Fn(&[u8]) -> EntryKind,
) -> io::Result<Vec<(Vec<u8>, EntryKind)>> {
    let mut out = Vec::new();
    loop {
        // SAFETY: errno is reset so end-of-directory and errors can be told apart.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: d.0 is an open DIR stream; the entry is read before the next call.
        let ent = unsafe { libc::readdir64(d.0) };
        if ent.is_null() {
            let e = io::Error::last_os_error();
            if e.raw_os_error().unwrap_or(0) != 0 {
                return Err(e);
            }
            break;
        }
        // SAFETY: d_name is NUL-terminated within the dirent returned by readdir.
        let (name, dtype) = unsafe {
            (
                CStr::from_ptr((*ent).d_name.as_ptr()).to_bytes().to_vec(),
                (*ent).d_type,
            )
        };
        if name == b"." || name == b".." {
            continue;
        }
        let kind = match dtype {
            libc::DT_DIR => EntryKind::Dir,
            libc::DT_REG => EntryKind::File,
            libc::DT_LNK => EntryKind::Symlink,
            libc::DT_FIFO => EntryKind::Fifo,
            libc::DT_SOCK => EntryKind::Socket,
            libc::DT_BLK => EntryKind::BlockDevice,
            libc::DT_CHR => EntryKind::CharDevice,
            _ => unknown(&name),
        };
        out.push((name, kind));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn kind_of(path: &Path) -> EntryKind {
    std::fs::symlink_metadata(path)
        .map(|m| kind_of_type(&m.file_type()))
        .unwrap_or(EntryKind::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_with_types_and_never_follows() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("f.drm"), b"x").unwrap();
        std::os::unix::fs::symlink("/etc", d.path().join("link")).unwrap();
        let names: Vec<(String, EntryKind)> = list(d.path())
            .unwrap()
            .into_iter()
            .map(|e| (e.name_lossy().into_owned(), e.kind))
            .collect();
        assert_eq!(
            names,
            vec![
                ("f.drm".into(), EntryKind::File),
                ("link".into(), EntryKind::Symlink),
                ("sub".into(), EntryKind::Dir)
            ]
        );
        // A symlink is not opened as a directory.
        assert!(list(&d.path().join("link")).is_err());
    }
}
