//! What kind of file system a root lies on. A share across a network (SMB,
//! NFS) or a FUSE file system answers every listing, `stat` and `open` a
//! round trip late; the scan keeps many requests in flight there, and only
//! as many as it has threads on a local disk. `statfs` tells which.

use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// The file systems whose every request may cross a network, by the magic
/// number `statfs` gives (linux/magic.h and the file systems' own headers).
const REMOTE: &[(i64, &str)] = &[
    (0xFF53_4D42, "cifs"),
    (0xFE53_4D42, "smb2"),
    (0x517B, "smb"),
    (0x6969, "nfs"),
    (0x6573_5546, "fuse"),
    (0x0102_1997, "9p"),
    (0x00C3_6400, "ceph"),
    (0x5346_414F, "afs"),
    (0x6B41_4653, "kafs"),
    (0x7375_7245, "coda"),
    (0x0BD0_0BD0, "lustre"),
    (0x0116_1970, "gfs2"),
    (0x4750_4653, "gpfs"),
];

/// Where a folder's requests go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileSystem {
    /// A disk of this machine (or a file system `statfs` does not name as remote).
    Local,
    /// A network or FUSE file system, by its usual name.
    Remote(&'static str),
}

/// The file system `path` lies on (the path itself is opened `O_PATH`,
/// which reads nothing).
pub fn file_system(path: &Path) -> io::Result<FileSystem> {
    let fd = super::beneath::open_base(path)?;
    // SAFETY: fstatfs fills a zeroed struct for an open descriptor (O_PATH
    // descriptors are allowed since Linux 3.12); nothing else is touched.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above: an open descriptor and a valid out-pointer.
    if unsafe { libc::fstatfs(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(of_magic(st.f_type as i64))
}

/// The kind of file system with `statfs`'s magic number `magic`.
pub fn of_magic(magic: i64) -> FileSystem {
    // f_type is signed on some targets: compare the low 32 bits.
    let magic = magic & 0xFFFF_FFFF;
    REMOTE
        .iter()
        .find(|(m, _)| *m == magic)
        .map_or(FileSystem::Local, |&(_, name)| FileSystem::Remote(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_fuse_are_remote_and_disks_are_local() {
        assert_eq!(of_magic(0xFE53_4D42), FileSystem::Remote("smb2"));
        // The same magic as a sign-extended 32-bit value.
        assert_eq!(
            of_magic(0xFE53_4D42_u32 as i32 as i64),
            FileSystem::Remote("smb2")
        );
        assert_eq!(of_magic(0x6969), FileSystem::Remote("nfs"));
        assert_eq!(of_magic(0x6573_5546), FileSystem::Remote("fuse"));
        assert_eq!(of_magic(0xEF53), FileSystem::Local); // ext4
        assert_eq!(of_magic(0x5346_544E), FileSystem::Local); // ntfs3
    }

    #[test]
    fn a_folder_of_this_machine_is_read_and_a_missing_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(file_system(dir.path()).is_ok());
        let missing = dir.path().join("missing");
        assert_eq!(
            file_system(&missing).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
