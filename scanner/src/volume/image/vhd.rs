//! VHD (Virtual PC / Hyper-V generation 1 disks): fixed and dynamic.
//!
//! Read here rather than through `vhd-core` 0.1.4, whose `open_reader`
//! reads the whole container into memory to parse its footer (a 30 GB
//! FSLogix container would be a 30 GB allocation). The format is a 512-byte
//! footer, and for dynamic disks a header and a block allocation table.

use std::io;
use std::sync::Arc;

use super::{read_exact_at, ImageSource};

const FOOTER: u64 = 512;
const UNALLOCATED: u32 = 0xFFFF_FFFF;

/// An opened VHD.
pub struct Vhd {
    src: Arc<dyn ImageSource>,
    size: u64,
    layout: Layout,
}

enum Layout {
    Fixed,
    Dynamic {
        /// Sector of each block (after its bitmap), or unallocated.
        bat: Vec<u32>,
        block_size: u64,
        bitmap_bytes: u64,
    },
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
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
                })
            }
            t @ (3 | 4) => {
                let mut header = [0u8; 1024];
                read_exact_at(src.as_ref(), be64(&footer, 16), &mut header)?;
                if &header[..8] != b"cxsparse" {
                    return Err(bad("VHD dynamic header cookie missing".into()));
                }
                if t == 4 {
                    let name: Vec<u16> = header[64..576]
                        .chunks_exact(2)
                        .map(|c| u16::from_be_bytes([c[0], c[1]]))
                        .take_while(|&c| c != 0)
                        .collect();
                    return Err(bad(format!(
                        "differencing VHD: its parent disk {} is needed, and rmsweep does not read VHD parents: scan the parent, or merge the disks with your own tools on a copy",
                        String::from_utf16_lossy(&name)
                    )));
                }
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
                })
            }
            t => Err(bad(format!(
                "VHD disk type {t} is not fixed (2), dynamic (3) or differencing (4)"
            ))),
        }
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
                match bat.get(block).copied() {
                    None | Some(UNALLOCATED) => buf[..n].fill(0),
                    Some(sector) => {
                        let at = sector as u64 * 512 + bitmap_bytes + within;
                        read_exact_at(self.src.as_ref(), at, &mut buf[..n])?;
                    }
                }
                Ok(n)
            }
        }
    }
}
