//! Reading host files of the evidence without touching them.
//!
//! Files are opened read-only with `O_NOFOLLOW` (a symlink is never followed),
//! `O_NONBLOCK` (a FIFO named `x.drm` cannot hang the scan), and `O_NOATIME`
//! where the kernel permits it (the access time stays as the suspect left it;
//! retried without when the caller does not own the file). Type and size are
//! checked on the open descriptor, so a file swapped for a FIFO after listing
//! is still refused. Small files are read into a reused buffer; files at or
//! above the mmap threshold are mapped (see `benches/benches/read.rs`), but
//! only from read-only mounts: a file truncated under a mapping raises SIGBUS
//! and kills the process, so on a writable (live) filesystem every file is
//! read, and a file that shrinks or grows meanwhile is returned as read.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::dir::kind_of_type;
use crate::volume::{Bytes, ReadError, ReadOptions};

/// Opens a file of the evidence read-only, without following a final
/// symlink, without blocking, and without updating its access time when the
/// kernel allows that.
pub fn open_evidence(path: &Path) -> io::Result<File> {
    let flags = libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;
    match OpenOptions::new()
        .read(true)
        .custom_flags(flags | libc::O_NOATIME)
        .open(path)
    {
        // O_NOATIME needs ownership or CAP_FOWNER.
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            OpenOptions::new().read(true).custom_flags(flags).open(path)
        }
        other => other,
    }
}

/// Maps `len` bytes of an open file, read-only and private to this process.
///
/// # Safety
/// Nothing may truncate the file while the map lives (a file on a read-only
/// mount, or one the caller controls): touching a page past a truncation
/// raises SIGBUS and kills the process.
pub unsafe fn map(file: &File, len: u64) -> io::Result<memmap2::Mmap> {
    // SAFETY: the caller guarantees the file is not truncated while mapped.
    unsafe { memmap2::MmapOptions::new().len(len as usize).map(file) }
}

/// Whether `file` lies on a filesystem mounted read-only (`ST_RDONLY`).
fn on_read_only_mount(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: fstatvfs fills the struct for an open descriptor; nothing else is touched.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above: an open descriptor and a valid out-pointer.
    let ok = unsafe { libc::fstatvfs(file.as_raw_fd(), &mut st) } == 0;
    ok && st.f_flag & libc::ST_RDONLY != 0
}

/// Reads a file of the evidence. `buf` is reused between calls.
pub fn read_file<'b>(
    path: &Path,
    opts: &ReadOptions,
    buf: &'b mut Vec<u8>,
) -> Result<(Metadata, Bytes<'b>), ReadError> {
    let file = open_evidence(path).map_err(read_error)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(
            kind_of_type(&meta.file_type()).describe(),
        ));
    }
    read_opened(file, meta, opts, buf)
}

/// Reads a regular file already open (its metadata taken from the
/// descriptor). `buf` is reused between calls; nothing is allocated for the
/// file's size up front beyond a bounded first guess.
pub fn read_opened<'b>(
    file: File,
    meta: Metadata,
    opts: &ReadOptions,
    buf: &'b mut Vec<u8>,
) -> Result<(Metadata, Bytes<'b>), ReadError> {
    let size = meta.len();
    opts.admit(size)?;
    if let Some(threshold) = opts.mmap_threshold {
        if size >= threshold && size > 0 && on_read_only_mount(&file) {
            // SAFETY: the file is on a read-only mount, so it cannot be
            // truncated under the map through it.
            let map = unsafe { map(&file, size)? };
            return Ok((meta, Bytes::Mapped(map)));
        }
    }
    buf.clear();
    // A sparse file may claim any size: reserve at most 64 MiB up front.
    buf.reserve(size.min(64 << 20) as usize + READ_ALIGN);
    let pad = aligned_start(buf);
    buf.resize(pad, 0);
    file.take(opts.max_file_size + 1).read_to_end(buf)?;
    if (buf.len() - pad) as u64 > opts.max_file_size {
        return Err(ReadError::GrewPastCap {
            max: opts.max_file_size,
        });
    }
    Ok((meta, Bytes::Buffer(&buf[pad..])))
}

/// Where a read's bytes start in the buffer: at a 64-byte boundary. The
/// kernel copies a file's page-cache pages into the buffer with `rep movsb`,
/// which on AMD Zen runs at a quarter of its speed when the destination's
/// offset in its page is 1–31 bytes, and glibc puts a large allocation's
/// first byte 16 bytes into its page: reading 1.3 GB of hives took 0.51 s
/// into such a buffer and 0.11 s at any 32-byte-aligned offset (measured on
/// this project's build machine, an AMD EPYC).
fn aligned_start(buf: &[u8]) -> usize {
    let addr = buf.as_ptr() as usize;
    (READ_ALIGN - addr % READ_ALIGN) % READ_ALIGN
}

const READ_ALIGN: usize = 64;

/// Reads up to `buf.len()` bytes of an open file from `offset`.
pub fn read_range_opened(file: &File, offset: u64, buf: &mut [u8]) -> Result<usize, ReadError> {
    use std::os::unix::fs::FileExt;
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(done)
}

/// A failed open or read, named: `O_NOFOLLOW` on a symbolic link fails with `ELOOP`.
pub fn read_error(e: io::Error) -> ReadError {
    match e.raw_os_error() {
        Some(libc::ELOOP) => ReadError::NotRegular("symbolic link"),
        _ => ReadError::from(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What is read starts 64-byte aligned and is the file, whatever the
    /// buffer held before; the size cap counts the file's bytes, not the padding.
    #[test]
    fn reads_land_aligned_and_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.drm");
        let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let opts = ReadOptions {
            max_file_size: content.len() as u64,
            mmap_threshold: None,
        };
        for before in [Vec::new(), vec![7u8; 5], Vec::with_capacity(1 << 20)] {
            let mut buf = before;
            let (_, bytes) = read_file(&path, &opts, &mut buf).unwrap();
            assert_eq!(bytes.as_ptr() as usize % READ_ALIGN, 0);
            assert_eq!(&bytes[..], &content[..]);
        }
        let capped = ReadOptions {
            max_file_size: content.len() as u64 - 1,
            mmap_threshold: None,
        };
        std::fs::write(&path, &content[..content.len() - 1]).unwrap();
        let file = open_evidence(&path).unwrap();
        let meta = file.metadata().unwrap();
        std::fs::write(&path, &content).unwrap(); // grew after its size was taken
        let got = read_opened(file, meta, &capped, &mut Vec::new()).map(|_| ());
        assert!(matches!(got, Err(ReadError::GrewPastCap { .. })), "{got:?}");
    }
}
