//! VHD (Virtual PC / Hyper-V generation 1 disks): fixed, dynamic and
//! differencing (read through the parent the caller opens).
//!
//! Read here rather than through `vhd-core` 0.1.4, whose `open_reader`
//! reads the whole container into memory to parse its footer (a 30 GB
//! FSLogix container would be a 30 GB allocation). The format is a 512-byte
//! footer, and for dynamic disks a header and a block allocation table.

use std::io;
use std::sync::Arc;

use super::{be32, be64, guid, read_by_sector_bitmap, read_exact_at, ImageSource, ParentLocator};

const FOOTER: u64 = 512;
const UNALLOCATED: u32 = 0xFFFF_FFFF;

/// An opened VHD.
pub struct Vhd {
    src: Arc<dyn ImageSource>,
    size: u64,
    layout: Layout,
    /// Where the parent is, for a differencing disk.
    pub locator: Option<ParentLocator>,
    parent: Option<Arc<dyn ImageSource>>,
    /// The footer's unique id: a child's parent unique id.
    pub identity: String,
}

enum Layout {
    Fixed,
    Dynamic {
        /// Sector of each block's bitmap, or unallocated.
        bat: Vec<u32>,
        block_size: u64,
        bitmap_bytes: u64,
    },
}

/// Whether the last 512 bytes of a file of `len` bytes are a VHD footer.
pub fn is_vhd(src: &dyn ImageSource) -> bool {
    let mut cookie = [0u8; 8];
    src.len() >= FOOTER
        && read_exact_at(src, src.len() - FOOTER, &mut cookie).is_ok()
        && &cookie == b"conectix"
}

fn bad(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

impl Vhd {
    /// Opens a fixed or dynamic VHD; a differencing disk is refused with the
    /// name of the parent it needs.
    pub fn open(src: Arc<dyn ImageSource>) -> io::Result<Vhd> {
        let mut footer = [0u8; FOOTER as usize];
        read_exact_at(src.as_ref(), src.len().saturating_sub(FOOTER), &mut footer)?;
        if &footer[..8] != b"conectix" {
            return Err(bad("VHD footer cookie missing".into()));
        }
        let size = be64(&footer, 48);
        let identity = guid(footer[68..84].try_into().expect("16 bytes"), false);
        match be32(&footer, 60) {
            2 => {
                if size > src.len() - FOOTER {
                    return Err(bad(format!(
                        "fixed VHD says {size} bytes but holds {}: truncated",
                        src.len() - FOOTER
                    )));
                }
                Ok(Vhd {
                    src,
                    size,
                    layout: Layout::Fixed,
                    locator: None,
                    parent: None,
                    identity,
                })
            }
            t @ (3 | 4) => {
                let mut header = [0u8; 1024];
                read_exact_at(src.as_ref(), be64(&footer, 16), &mut header)?;
                if &header[..8] != b"cxsparse" {
                    return Err(bad("VHD dynamic header cookie missing".into()));
                }
                let locator = (t == 4).then(|| parent_locator(src.as_ref(), &header));
                let entries = be32(&header, 28) as u64;
                let block_size = be32(&header, 32) as u64;
                if block_size == 0 || block_size & 511 != 0 || entries * block_size < size {
                    return Err(bad(format!(
                        "VHD header is inconsistent (block size {block_size}, {entries} blocks for {size} bytes)"
                    )));
                }
                let mut raw = vec![0u8; (entries * 4) as usize];
                read_exact_at(src.as_ref(), be64(&header, 16), &mut raw)?;
                let bat = raw.chunks_exact(4).map(|c| be32(c, 0)).collect();
                let bitmap_bytes = (block_size / 512).div_ceil(8).div_ceil(512) * 512;
                Ok(Vhd {
                    src,
                    size,
                    layout: Layout::Dynamic {
                        bat,
                        block_size,
                        bitmap_bytes,
                    },
                    locator,
                    parent: None,
                    identity,
                })
            }
            t => Err(bad(format!(
                "VHD disk type {t} is not fixed (2), dynamic (3) or differencing (4)"
            ))),
        }
    }

    /// Reads what this differencing disk does not hold from `parent`.
    pub fn set_parent(&mut self, parent: Arc<dyn ImageSource>) {
        self.parent = Some(parent);
    }
}

/// A differencing disk's parent: its locators' relative and absolute
/// Windows paths (UTF-16LE), then the header's parent name (UTF-16BE), and
/// the parent's unique id.
fn parent_locator(src: &dyn ImageSource, header: &[u8]) -> ParentLocator {
    let utf16 = |b: &[u8], big: bool| {
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| match big {
                true => u16::from_be_bytes([c[0], c[1]]),
                false => u16::from_le_bytes([c[0], c[1]]),
            })
            .take_while(|&c| c != 0)
            .collect();
        String::from_utf16_lossy(&units)
    };
    let mut names = Vec::new();
    for code in [b"W2ru", b"W2ku"] {
        for e in header[576..768].chunks_exact(24) {
            let len = be32(e, 8) as usize;
            if &e[..4] != code || len == 0 || len > 64 * 1024 {
                continue;
            }
            let mut value = vec![0u8; len];
            if read_exact_at(src, be64(e, 16), &mut value).is_ok() {
                names.push(utf16(&value, false));
            }
        }
    }
    names.push(utf16(&header[64..576], true));
    names.retain(|n| !n.is_empty());
    ParentLocator {
        names,
        linkage: Some(guid(header[40..56].try_into().expect("16 bytes"), false)),
    }
}

impl ImageSource for Vhd {
    fn len(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let want = super::readable(self.size, offset, buf.len());
        if want == 0 {
            return Ok(0);
        }
        match &self.layout {
            Layout::Fixed => self.src.read_at(offset, &mut buf[..want]),
            Layout::Dynamic {
                bat,
                block_size,
                bitmap_bytes,
            } => {
                let block = (offset / block_size) as usize;
                let within = offset % block_size;
                let n = want.min((block_size - within) as usize);
                let out = &mut buf[..n];
                match (bat.get(block).copied(), &self.parent) {
                    (None | Some(UNALLOCATED), None) => out.fill(0),
                    (None | Some(UNALLOCATED), Some(parent)) => {
                        read_exact_at(parent.as_ref(), offset, out)?
                    }
                    (Some(sector), None) => {
                        let at = sector as u64 * 512 + bitmap_bytes + within;
                        read_exact_at(self.src.as_ref(), at, out)?;
                    }
                    (Some(sector), Some(parent)) => {
                        // One bit per sector, most significant bit first.
                        let bitmap_at = sector as u64 * 512;
                        let (first, last) = (within / 512, (within + n as u64 - 1) / 512);
                        let mut bits = vec![0u8; (last / 8 - first / 8 + 1) as usize];
                        read_exact_at(self.src.as_ref(), bitmap_at + first / 8, &mut bits)?;
                        let base = first - first % 8;
                        let present =
                            |s: u64| bits[((s - base) / 8) as usize] & (0x80 >> (s % 8)) != 0;
                        let data_at = bitmap_at + bitmap_bytes;
                        let block_at = block as u64 * block_size;
                        read_by_sector_bitmap(
                            out,
                            within,
                            512,
                            present,
                            |at, o| read_exact_at(self.src.as_ref(), data_at + at, o),
                            |at, o| read_exact_at(parent.as_ref(), block_at + at, o),
                        )?;
                    }
                }
                Ok(n)
            }
        }
    }
}
