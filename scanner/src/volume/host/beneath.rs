//! Opening paths of a host volume relative to its base folder, never
//! through a symbolic link in any component, and never opening what is not
//! a regular file or folder.
//!
//! A folder swapped for a link after it was listed (`MSIPC -> /etc`) must
//! not lead outside the evidence, and a file swapped for a FIFO or a device
//! must not be opened at all (opening a FIFO releases a blocked writer;
//! opening a device runs its driver). So every path is resolved from the
//! base folder's descriptor with `openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS)` (component by component with `O_NOFOLLOW` where
//! the kernel lacks `openat2`). A file is first opened `O_PATH`, which opens
//! nothing; its type is checked on that descriptor, and only a regular file
//! is then opened for reading, through the same inode (`/proc/self/fd`). A
//! folder is opened `O_DIRECTORY`, which the kernel refuses for anything
//! else before opening it.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

/// Flags every read-only open of the evidence carries.
pub const READ_FLAGS: libc::c_int =
    libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;

fn cstr(b: &[u8]) -> io::Result<CString> {
    CString::new(b).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

fn check(fd: libc::c_int) -> io::Result<OwnedFd> {
    if fd < 0 {
        Err(io::Error::last_os_error())
    } else {
        // SAFETY: a new descriptor, owned from here on.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// Opens a folder of this machine as `O_PATH` (the base of a volume).
pub fn open_base(path: &Path) -> io::Result<OwnedFd> {
    use std::os::unix::ffi::OsStrExt;
    let c = cstr(path.as_os_str().as_bytes())?;
    // SAFETY: open(2) on a NUL-terminated path.
    check(unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    })
}

/// Opens `rel` (names joined by `/`) beneath `base` as `O_PATH`, never
/// through a symbolic link; a link as the last component is opened as the
/// link itself (its type then says so).
pub fn open_path(base: BorrowedFd<'_>, rel: &[u8]) -> io::Result<OwnedFd> {
    if rel.is_empty() {
        // SAFETY: openat(2) of "." relative to an open descriptor.
        return check(unsafe {
            libc::openat(
                base.as_raw_fd(),
                c".".as_ptr(),
                libc::O_PATH | libc::O_CLOEXEC,
            )
        });
    }
    beneath(base, rel, libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC)
}

/// `rel` beneath `base`, never through a link: `openat2` where the kernel
/// (or a seccomp filter, which answers `EPERM`) allows it, else [`walk`].
fn beneath(base: BorrowedFd<'_>, rel: &[u8], flags: libc::c_int) -> io::Result<OwnedFd> {
    match openat2(base, rel, flags) {
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {
            walk(base, rel, flags)
        }
        other => other,
    }
}

fn openat2(base: BorrowedFd<'_>, rel: &[u8], flags: libc::c_int) -> io::Result<OwnedFd> {
    let c = cstr(rel)?;
    // SAFETY: open_how is plain data; all zeroes is a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
    // The kernel answers EAGAIN when a rename elsewhere raced the lookup.
    for _ in 0..4 {
        // SAFETY: openat2(2) with a valid descriptor, a NUL-terminated path
        // and an open_how of the size passed.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                base.as_raw_fd(),
                c.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        match check(fd as libc::c_int) {
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => continue,
            other => return other,
        }
    }
    Err(io::Error::from_raw_os_error(libc::EAGAIN))
}

/// `openat2`'s guarantee without it: each folder on the way opened with
/// `O_NOFOLLOW|O_DIRECTORY` from the one before.
fn walk(base: BorrowedFd<'_>, rel: &[u8], flags: libc::c_int) -> io::Result<OwnedFd> {
    let parts: Vec<&[u8]> = rel
        .split(|&b| b == b'/')
        .filter(|p| !p.is_empty())
        .collect();
    let mut held: Option<OwnedFd> = None;
    for (i, part) in parts.iter().enumerate() {
        if *part == b".." || *part == b"." {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let at = held.as_ref().map_or(base.as_raw_fd(), |f| f.as_raw_fd());
        let last = i + 1 == parts.len();
        let f = if last {
            flags
        } else {
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC
        };
        let c = cstr(part)?;
        // SAFETY: openat(2) relative to an open descriptor, one name, no links.
        held = Some(check(unsafe { libc::openat(at, c.as_ptr(), f) })?);
    }
    held.ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))
}

/// Opens the folder `rel` beneath `base` for listing, never through a link.
/// One call suffices: with `O_DIRECTORY` the kernel refuses anything that is
/// not a folder before opening it, so no FIFO or device is ever opened.
pub fn open_dir(base: BorrowedFd<'_>, rel: &[u8]) -> io::Result<File> {
    let flags =
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
    if rel.is_empty() {
        // SAFETY: openat(2) of "." relative to an open descriptor.
        return check(unsafe { libc::openat(base.as_raw_fd(), c".".as_ptr(), flags) })
            .map(File::from);
    }
    let fd = match beneath(base, rel, flags | libc::O_NOATIME) {
        // O_NOATIME needs ownership or CAP_FOWNER.
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => beneath(base, rel, flags),
        other => other,
    };
    fd.map(File::from)
}

/// What opening a file for reading found.
pub enum Opened {
    /// A regular file, open for reading.
    Open(File, std::fs::Metadata),
    /// Something else, left unopened: its type.
    Not(std::fs::FileType),
}

/// Opens `rel` beneath `base` for reading with `flags` if it is a regular
/// file; anything else is never opened. The check and the open concern the
/// same inode.
pub fn open_checked(base: BorrowedFd<'_>, rel: &[u8], flags: libc::c_int) -> io::Result<Opened> {
    let path_fd = File::from(open_path(base, rel)?);
    let meta = path_fd.metadata()?;
    if !meta.is_file() {
        return Ok(Opened::Not(meta.file_type()));
    }
    let file = match reopen(&path_fd, flags) {
        Err(e) if e.kind() == io::ErrorKind::NotFound && !Path::new("/proc/self/fd").exists() => {
            // No procfs: open the path again, one folder at a time, and make
            // sure it is the same inode.
            let file = File::from(walk(base, rel, flags)?);
            let now = file.metadata()?;
            use std::os::unix::fs::MetadataExt;
            if (now.dev(), now.ino()) != (meta.dev(), meta.ino()) {
                return Err(io::Error::other(
                    "the entry was replaced while it was opened",
                ));
            }
            file
        }
        other => other?,
    };
    let meta = file.metadata()?;
    Ok(Opened::Open(file, meta))
}

/// Opens for reading the inode an `O_PATH` descriptor refers to (never a
/// path that could have changed since), without updating its access time
/// where the kernel allows that.
fn reopen(path_fd: &File, flags: libc::c_int) -> io::Result<File> {
    let proc = cstr(format!("/proc/self/fd/{}", path_fd.as_raw_fd()).as_bytes())?;
    // The magic link is followed on purpose: it is the inode, not a path.
    let flags = flags & !libc::O_NOFOLLOW;
    // SAFETY: open(2) on a NUL-terminated path.
    let mut fd = unsafe { libc::open(proc.as_ptr(), flags | libc::O_NOATIME) };
    if fd < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) {
        // O_NOATIME needs ownership or CAP_FOWNER.
        // SAFETY: open(2) on the same NUL-terminated path.
        fd = unsafe { libc::open(proc.as_ptr(), flags) };
    }
    Ok(File::from(check(fd)?))
}
