//! Disk images and profile containers, read without mounting.
//!
//! A disk is a stack of read-only byte sources: the evidence file (or its
//! split pieces) → the container format (VHD, VHDX, E01, or none for raw)
//! → a partition (GPT, MBR, or the whole disk for a bare volume) → NTFS,
//! which [`ntfs::NtfsVolume`] turns into a [`Volume`](super::Volume) so that
//! discovery, planning and the pipeline run on it unchanged. Every layer is
//! an [`ImageSource`] (positioned reads through `&self`), so any layer can
//! sit on any other: a VHDX read out of an NTFS volume inside an E01 is the
//! same code as one on a mounted share.
//!
//! Nothing here opens a host path: the evidence file comes from the volume
//! that holds it ([`Volume::open_source`](super::Volume::open_source)), so
//! the host volume's rules (read-only, `O_NOATIME`, no links) hold.

pub mod container;
pub mod lznt1;
pub mod ntfs;
pub mod partition;
mod vhd;
mod vhdx;

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

/// Read-only bytes with positioned reads, shared by many threads.
pub trait ImageSource: Send + Sync {
    /// The size in bytes.
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Reads up to `buf.len()` bytes at `offset`; short only at the end.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
}

/// Integers of on-disk structures, read at a byte offset of a buffer the
/// caller has checked is long enough.
pub(crate) fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
pub(crate) fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
pub(crate) fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
pub(crate) fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// How many of `want` bytes at `offset` lie within `len` (0 at or past the end).
pub fn readable(len: u64, offset: u64, want: usize) -> usize {
    want.min(len.saturating_sub(offset).try_into().unwrap_or(usize::MAX))
}

/// Fills `buf` from `offset`, or fails with `UnexpectedEof`.
pub fn read_exact_at(src: &dyn ImageSource, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        let n = src.read_at(offset + done as u64, &mut buf[done..])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "truncated: it ends at byte {}, {} bytes short of what it describes",
                    offset + done as u64,
                    buf.len() - done
                ),
            ));
        }
        done += n;
    }
    Ok(())
}

/// Where a differencing disk's parent is, as the child names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParentLocator {
    /// The paths it gives, best first (relative, then absolute).
    pub names: Vec<String>,
    /// What the parent must be: its VHDX DataWriteGuid or VHD unique id
    /// (compared with [`container::Disk::identity`]).
    pub linkage: Option<String>,
}

/// A GUID as Windows writes it, `{xxxxxxxx-xxxx-…}`, from its 16 bytes
/// (`mixed`: the first three fields little-endian, as in VHDX).
pub fn guid(b: &[u8; 16], mixed: bool) -> String {
    let mut o = *b;
    if mixed {
        o[..4].reverse();
        o[4..6].reverse();
        o[6..8].reverse();
    }
    let h: String = o.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{{{}-{}-{}-{}-{}}}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Fills `buf`, which starts `within` bytes into a block of a
/// differencing disk, sector by sector from the child (`own`) or the parent
/// as `present(sector of the block)` says, a run of like sectors per read.
/// Both readers take the offset in the block.
pub(crate) fn read_by_sector_bitmap(
    buf: &mut [u8],
    within: u64,
    sector: u64,
    present: impl Fn(u64) -> bool,
    mut own: impl FnMut(u64, &mut [u8]) -> io::Result<()>,
    mut parent: impl FnMut(u64, &mut [u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut done = 0usize;
    while done < buf.len() {
        let at = within + done as u64;
        let here = present(at / sector);
        let mut end = done;
        while end < buf.len() && present((within + end as u64) / sector) == here {
            let next_sector = ((within + end as u64) / sector + 1) * sector;
            end = ((next_sector - within) as usize).min(buf.len());
        }
        if here {
            own(at, &mut buf[done..end])?;
        } else {
            parent(at, &mut buf[done..end])?;
        }
        done = end;
    }
    Ok(())
}

/// `len` bytes of `inner` from `start`: a partition.
pub struct Slice {
    pub inner: Arc<dyn ImageSource>,
    pub start: u64,
    pub len: u64,
}

impl ImageSource for Slice {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let n = readable(self.len, offset, buf.len());
        if n == 0 {
            return Ok(0);
        }
        self.inner.read_at(self.start + offset, &mut buf[..n])
    }
}

/// Pieces one after the other: a split raw image (`.001`, `.002`, …).
pub struct Concat {
    /// Each piece with the offset it starts at.
    pieces: Vec<(u64, Arc<dyn ImageSource>)>,
    len: u64,
}

impl Concat {
    pub fn new(pieces: Vec<Arc<dyn ImageSource>>) -> Concat {
        let mut at = 0;
        let pieces = pieces
            .into_iter()
            .map(|p| {
                let start = at;
                at += p.len();
                (start, p)
            })
            .collect();
        Concat { pieces, len: at }
    }
}

impl ImageSource for Concat {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut done = 0;
        while done < buf.len() {
            let at = offset + done as u64;
            let i = self.pieces.partition_point(|(start, _)| *start <= at);
            let Some((start, piece)) = i.checked_sub(1).map(|i| &self.pieces[i]) else {
                break;
            };
            match piece.read_at(at - start, &mut buf[done..])? {
                0 => break,
                n => done += n,
            }
        }
        Ok(done)
    }
}

/// A source as `Read + Seek`, for the libraries that want one. Reads go
/// through a buffer of whole aligned blocks: the NTFS library reads records
/// and index nodes in small pieces.
pub struct SourceReader {
    src: Arc<dyn ImageSource>,
    pos: u64,
    /// Reads past the end give zeros instead of an end of file.
    zero_padded: bool,
    /// The size of a buffered block.
    block: u64,
    buf: Vec<u8>,
    /// Where `buf` starts in the source (`buf` empty: nothing buffered).
    buf_at: u64,
}

/// The buffered block: 64 KiB (an NTFS index record is 4 KiB, a file
/// record 1 KiB; neighbours are usually read next).
const READ_BLOCK: u64 = 64 * 1024;

impl SourceReader {
    pub fn new(src: Arc<dyn ImageSource>) -> SourceReader {
        SourceReader {
            src,
            pos: 0,
            zero_padded: false,
            block: READ_BLOCK,
            buf: Vec::new(),
            buf_at: 0,
        }
    }

    /// A reader whose reads past the end give zeros: for the `ntfs` crate,
    /// which panics (`unreachable!`) on an end of file inside a structure
    /// of a truncated volume; zeros parse as a damaged structure instead.
    /// Its blocks are 4 KiB: the crate reads a 1 KiB file record or a
    /// 4 KiB index record at a time, seldom the next.
    pub fn zero_padded(src: Arc<dyn ImageSource>) -> SourceReader {
        SourceReader {
            zero_padded: true,
            block: 4096,
            ..SourceReader::new(src)
        }
    }
}

impl Read for SourceReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.pos >= self.src.len() {
            if !self.zero_padded {
                return Ok(0);
            }
            out.fill(0);
            self.pos += out.len() as u64;
            return Ok(out.len());
        }
        // Large reads bypass the buffer.
        if out.len() as u64 >= self.block {
            let n = self.src.read_at(self.pos, out)?;
            self.pos += n as u64;
            return Ok(n);
        }
        let in_buf = self.pos >= self.buf_at && self.pos < self.buf_at + self.buf.len() as u64;
        if !in_buf {
            let start = self.pos - self.pos % self.block;
            let len = self.block.min(self.src.len() - start) as usize;
            self.buf.resize(len, 0);
            let n = self.src.read_at(start, &mut self.buf)?;
            self.buf.truncate(n);
            self.buf_at = start;
            if self.pos >= start + n as u64 {
                return Ok(0);
            }
        }
        let from = (self.pos - self.buf_at) as usize;
        let n = out.len().min(self.buf.len() - from);
        out[..n].copy_from_slice(&self.buf[from..from + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SourceReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.src.len().checked_add_signed(d),
        };
        self.pos = pos
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

/// A file on this machine, read with `pread` (opened by the host volume).
pub struct FileSource {
    file: std::fs::File,
    len: u64,
}

impl FileSource {
    pub fn new(file: std::fs::File, len: u64) -> FileSource {
        FileSource { file, len }
    }
}

impl ImageSource for FileSource {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let n = readable(self.len, offset, buf.len());
        if n == 0 {
            return Ok(0);
        }
        let mut done = 0;
        while done < n {
            match self.file.read_at(&mut buf[done..n], offset + done as u64) {
                Ok(0) => break,
                Ok(k) => done += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }
}

/// A source held in memory (tests, fuzzing).
impl ImageSource for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let Some(rest) = self.get(offset.min(self.as_slice().len() as u64) as usize..) else {
            return Ok(0);
        };
        let n = buf.len().min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_and_pieces_read_across_their_bounds() {
        let a: Arc<dyn ImageSource> = Arc::new(b"0123".to_vec());
        let b: Arc<dyn ImageSource> = Arc::new(b"4567".to_vec());
        let c = Arc::new(Concat::new(vec![a, b]));
        assert_eq!(c.len(), 8);
        let mut buf = [0u8; 6];
        read_exact_at(c.as_ref(), 1, &mut buf).unwrap();
        assert_eq!(&buf, b"123456");
        let s = Slice {
            inner: c,
            start: 2,
            len: 4,
        };
        let mut all = Vec::new();
        SourceReader::new(Arc::new(s))
            .read_to_end(&mut all)
            .unwrap();
        assert_eq!(all, b"2345");
        assert!(read_exact_at(&b"01".to_vec(), 1, &mut [0u8; 2]).is_err());
    }

    #[test]
    fn the_reader_seeks_and_reads_through_its_block_buffer() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut r = SourceReader::new(Arc::new(data.clone()));
        let mut buf = [0u8; 10];
        r.seek(SeekFrom::Start(65_530)).unwrap();
        r.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, &data[65_530..65_540]);
        r.seek(SeekFrom::End(-3)).unwrap();
        let mut tail = Vec::new();
        r.read_to_end(&mut tail).unwrap();
        assert_eq!(tail, &data[199_997..]);
        assert!(r.seek(SeekFrom::Current(-300_000)).is_err());
    }
}
