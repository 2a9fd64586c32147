//! What an evidence file is, by its content (never its extension), and the
//! disk it holds: raw (also split `.001`, `.002`, …), VHD, VHDX, E01.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

use super::vhd::{self, Vhd};
use super::{Concat, ImageSource, ParentLocator, SourceReader};
use crate::volume::{ReadError, VPath, Volume};

/// A container format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A raw disk or volume (a partition table or an NTFS boot sector at 0).
    Raw,
    Vhd,
    Vhdx,
    /// EnCase (EWF) E01.
    Ewf,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Vhd => "VHD",
            Format::Vhdx => "VHDX",
            Format::Ewf => "E01",
        }
    }
}

/// Why an image could not be read. Each says what was damaged or missing.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot read the image file: {0}")]
    Read(#[from] ReadError),
    /// A differencing disk whose parent is missing, changed or unreadable.
    #[error("{0}")]
    Parent(String),
    #[error("damaged {format} container: {source}")]
    Damaged {
        format: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    Unsupported(String),
    #[error("damaged partition table: {0}")]
    PartitionTable(String),
    /// Reading the disk failed below the partition table (the container).
    #[error("cannot read the disk: {0}")]
    Unreadable(#[source] io::Error),
    #[error("no NTFS volume on this disk ({0})")]
    NoNtfs(String),
    #[error("damaged NTFS volume{}: {detail}", partition.map(|p| format!(" (partition {p})")).unwrap_or_default())]
    Ntfs {
        partition: Option<u32>,
        detail: String,
    },
}

const EWF_MAGIC: &[u8] = b"EVF\x09\x0d\x0a\xff\x00";
const EWF2_MAGIC: &[u8] = b"EVF2\x0d\x0a\x81\x00";

/// The format of `src`, or `None` when it is no image rmsweep reads.
pub fn sniff(src: &dyn ImageSource) -> Option<Format> {
    let mut head = [0u8; 1024];
    let n = src.read_at(0, &mut head).ok()?;
    let head = &head[..n];
    if head.starts_with(b"vhdxfile") {
        Some(Format::Vhdx)
    } else if head.starts_with(EWF_MAGIC) || head.starts_with(EWF2_MAGIC) {
        Some(Format::Ewf)
    } else if vhd::is_vhd(src) {
        Some(Format::Vhd)
    } else if n >= 512
        && (head[510..512] == [0x55, 0xAA] || head.get(512..520) == Some(b"EFI PART"))
    {
        // An MBR, a protective MBR, or a boot sector (NTFS, BitLocker).
        Some(Format::Raw)
    } else {
        // A GPT disk whose first sectors were lost: its backup header.
        let mut tail = [0u8; 8];
        let at = src.len().checked_sub(512)?;
        (src.read_at(at, &mut tail).ok()? == 8 && &tail == b"EFI PART").then_some(Format::Raw)
    }
}

/// A disk read out of its container.
pub struct Disk {
    pub format: Format,
    pub source: Arc<dyn ImageSource>,
    /// The evidence files it was read from (several for split images).
    pub pieces: Vec<VPath>,
    /// What a differencing child calls it (VHDX DataWriteGuid, VHD unique id).
    pub identity: Option<String>,
}

/// Parents of parents followed at most this deep (a loop ends here too).
const MAX_PARENTS: usize = 16;

/// Opens the image whose first piece is `path` on `vol` (a differencing
/// disk through its parent beside it). `Ok(None)`: not an image.
pub fn open(vol: &dyn Volume, path: &VPath) -> Result<Option<Disk>, ImageError> {
    open_chain(vol, path, 0)
}

fn open_chain(vol: &dyn Volume, path: &VPath, depth: usize) -> Result<Option<Disk>, ImageError> {
    let first = vol.open_source(path)?;
    let Some(format) = sniff(first.as_ref()) else {
        return Ok(None);
    };
    let damaged = |source: io::Error| ImageError::Damaged {
        format: format.as_str(),
        source,
    };
    let mut pieces = vec![path.clone()];
    let mut identity = None;
    let source: Arc<dyn ImageSource> = match format {
        Format::Raw => {
            let more = following_pieces(vol, path, RAW_PIECES);
            if more.is_empty() {
                first
            } else {
                let mut sources = vec![first];
                for p in &more {
                    sources.push(vol.open_source(p)?);
                }
                pieces.extend(more);
                Arc::new(Concat::new(sources))
            }
        }
        Format::Vhd => {
            let mut v = Vhd::open(first).map_err(damaged)?;
            identity = Some(v.identity.clone());
            if let Some(locator) = &v.locator {
                v.set_parent(parent(vol, path, format, locator, depth)?);
            }
            Arc::new(v)
        }
        Format::Vhdx => match super::vhdx::Vhdx::open(first.clone()).map_err(damaged)? {
            super::vhdx::Opened::Clean(mut v) => {
                identity = Some(v.identity.clone());
                if let Some(locator) = &v.locator {
                    v.set_parent(parent(vol, path, format, locator, depth)?);
                }
                Arc::new(v)
            }
            super::vhdx::Opened::NeedsLibrary => Arc::new(open_vhdx(first).map_err(damaged)?),
        },
        Format::Ewf => {
            let more = following_pieces(vol, path, EWF_PIECES);
            let mut sources = vec![ewf::SegmentSource::Backing(Arc::new(EwfPiece(first)))];
            for p in &more {
                sources.push(ewf::SegmentSource::Backing(Arc::new(EwfPiece(
                    vol.open_source(p)?,
                ))));
            }
            pieces.extend(more);
            let reader = ewf::EwfReader::open_from_sources(sources)
                .map_err(|e| damaged(io::Error::other(e.to_string())))?;
            // Segments missing at the end leave chunks no table describes.
            let covered = reader.chunk_count() as u64 * reader.chunk_size();
            if covered < reader.total_size() {
                let last =
                    String::from_utf8_lossy(pieces[pieces.len() - 1].file_name()).into_owned();
                return Err(damaged(io::Error::other(format!(
                    "its chunk tables cover {covered} of {} bytes: segments are missing or truncated (the last one found is {last})",
                    reader.total_size()
                ))));
            }
            Arc::new(Ewf(reader))
        }
    };
    Ok(Some(Disk {
        format,
        source,
        pieces,
        identity,
    }))
}

/// The parent of the differencing disk `child` on `vol`: the file its
/// locator names, looked for beside it (Windows names, case ignored), of
/// the same format, the one the child was made from.
fn parent(
    vol: &dyn Volume,
    child: &VPath,
    format: Format,
    locator: &ParentLocator,
    depth: usize,
) -> Result<Arc<dyn ImageSource>, ImageError> {
    let kind = format!("differencing {}", format.as_str());
    if depth >= MAX_PARENTS {
        return Err(ImageError::Parent(format!(
            "{kind}: its chain of parents is over {MAX_PARENTS} disks long (or loops)"
        )));
    }
    let file_name = |n: &str| n.rsplit(['\\', '/']).next().unwrap_or(n).to_string();
    let wanted: Vec<String> = locator.names.iter().map(|n| file_name(n)).collect();
    let dir = child.parent();
    let beside = vol.list(&dir).unwrap_or_default();
    let found = wanted.iter().find_map(|w| {
        beside.iter().find(|e| {
            e.kind == crate::volume::EntryKind::File
                && e.name.eq_ignore_ascii_case(w)
                && e.path != *child
        })
    });
    let Some(found) = found else {
        return Err(ImageError::Parent(format!(
            "{kind} (an FSLogix RW.VHDX, a snapshot .avhdx): its parent disk {} is not beside it in {}: put the parent there under that name and scan again",
            wanted.first().map(String::as_str).unwrap_or("(unnamed)"),
            vol.stored_path(&dir).display()
        )));
    };
    let name = &found.name;
    let disk = match open_chain(vol, &found.path, depth + 1) {
        Ok(Some(d)) if d.format == format => d,
        Ok(_) => {
            return Err(ImageError::Parent(format!(
                "{kind}: its parent {name} is not a {} disk",
                format.as_str()
            )))
        }
        Err(e) => {
            return Err(ImageError::Parent(format!(
                "{kind}: its parent {name}: {e}"
            )))
        }
    };
    if let (Some(want), Some(is)) = (&locator.linkage, &disk.identity) {
        if !want.eq_ignore_ascii_case(is) {
            return Err(ImageError::Parent(format!(
                "{kind}: its parent {name} is not the disk it was made from (the child names {want}, {name} is {is}): reading through it would mix two disks"
            )));
        }
    }
    Ok(disk.source)
}

/// How the pieces after the first are named: the first's extension (lower
/// case) and the next extensions in order.
struct PieceNames {
    first: &'static str,
    next: fn(usize) -> Option<String>,
}

const RAW_PIECES: PieceNames = PieceNames {
    first: "001",
    next: |i| (i < 999).then(|| format!("{:03}", i + 1)),
};

/// `E02`…`E99`, then `EAA`…`EZZ` (EnCase's order).
const EWF_PIECES: PieceNames = PieceNames {
    first: "e01",
    next: |i| {
        if i < 99 {
            Some(format!("E{:02}", i + 1))
        } else {
            let k = i - 99;
            (k < 26 * 26).then(|| {
                format!(
                    "E{}{}",
                    (b'A' + (k / 26) as u8) as char,
                    (b'A' + (k % 26) as u8) as char
                )
            })
        }
    },
};

/// The pieces that follow `path` (`x.001` → `x.002`, …; `x.E01` → `x.E02`,
/// …), as long as each exists as a regular file beside it.
fn following_pieces(vol: &dyn Volume, path: &VPath, names: PieceNames) -> Vec<VPath> {
    let name = String::from_utf8_lossy(path.file_name()).into_owned();
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return Vec::new();
    };
    if !ext.eq_ignore_ascii_case(names.first) {
        return Vec::new();
    }
    let upper = ext.starts_with(|c: char| c.is_ascii_uppercase());
    let dir = path.parent();
    let mut out = Vec::new();
    let mut i = 1;
    while let Some(next) = (names.next)(i) {
        let next = if upper {
            next
        } else {
            next.to_ascii_lowercase()
        };
        let p = dir.join(format!("{stem}.{next}").as_bytes());
        match vol.stat(&p) {
            Ok(st) if st.kind == Some(crate::volume::EntryKind::File) => out.push(p),
            _ => break,
        }
        i += 1;
    }
    out
}

fn open_vhdx(src: Arc<dyn ImageSource>) -> io::Result<VhdxSource> {
    let reader = vhdx::VhdxReader::open_reader(Box::new(SourceReader::new(src))).map_err(|e| match e {
        vhdx::VhdxError::DifferencingNotSupported => io::Error::other(
            "differencing VHDX whose log holds changes to replay (it was not closed cleanly): rmsweep reads a differencing VHDX through its parent only when its log is empty; scan the parent, or replay and merge the disks with your own tools on a copy",
        ),
        e => io::Error::other(e.to_string()),
    })?;
    Ok(VhdxSource {
        len: reader.virtual_disk_size(),
        reader: Mutex::new(reader),
    })
}

/// A VHDX (the library reads through a cursor, so reads take turns).
struct VhdxSource {
    reader: Mutex<vhdx::VhdxReader>,
    len: u64,
}

impl ImageSource for VhdxSource {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let n = super::readable(self.len, offset, buf.len());
        if n == 0 {
            return Ok(0);
        }
        let mut r = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        r.seek(SeekFrom::Start(offset))?;
        r.read_exact(&mut buf[..n])?;
        Ok(n)
    }
}

/// An E01 segment as the EWF library reads it.
struct EwfPiece(Arc<dyn ImageSource>);

impl ewf::SegmentBacking for EwfPiece {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.0.read_at(offset, buf)
    }
    fn len(&self) -> u64 {
        self.0.len()
    }
}

/// An E01 image (the library's positioned reads are thread-safe).
struct Ewf(ewf::EwfReader);

impl ImageSource for Ewf {
    fn len(&self) -> u64 {
        self.0.total_size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.0
            .read_at(buf, offset)
            .map_err(|e| io::Error::other(e.to_string()))
    }
}
