//! VHDX, the common case read here: a clean container (an empty log)
//! needs its two headers, a region table, the metadata and the block
//! allocation table, a few KiB. `vhdx-core` (which rmsweep uses for
//! containers whose log must be replayed) reads and zeroes 2.3 MiB twice to
//! open any container: on a share of thousands of FSLogix containers that
//! was three quarters of the scan. MS-VHDX §2.2–2.5.

use std::io;
use std::sync::Arc;

use super::{
    guid, le16, le32, le64, read_by_sector_bitmap, read_exact_at, ImageSource, ParentLocator,
};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const BAT_GUID: [u8; 16] = [
    0x66, 0x77, 0xC2, 0x2D, 0x23, 0xF6, 0x00, 0x42, 0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08,
];
const METADATA_GUID: [u8; 16] = [
    0x06, 0xA2, 0x7C, 0x8B, 0x90, 0x47, 0x9A, 0x4B, 0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E,
];
const FILE_PARAMETERS: [u8; 16] = [
    0x37, 0x67, 0xA1, 0xCA, 0x36, 0xFA, 0x43, 0x4D, 0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B,
];
/// 2FA54224-CD1B-4876-B211-5DBED83BF4B8, and the value qemu ≤ 5.2 wrote.
const VIRTUAL_DISK_SIZE: [[u8; 16]; 2] = [
    [
        0x24, 0x42, 0xA5, 0x2F, 0x1B, 0xCD, 0x76, 0x48, 0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4,
        0xB8,
    ],
    [
        0x24, 0x42, 0xA5, 0x2F, 0x1B, 0xCD, 0x76, 0x48, 0xB2, 0x11, 0x5B, 0xE0, 0x7A, 0x6C, 0xE3,
        0x2C,
    ],
];
const LOGICAL_SECTOR_SIZE: [u8; 16] = [
    0x1D, 0xBF, 0x41, 0x81, 0x6F, 0xA9, 0x09, 0x47, 0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F,
];
/// A payload block whose data the parent holds (or zeros without one).
const NOT_PRESENT: u64 = 0;
/// A payload block whose data is in the file.
const FULLY_PRESENT: u64 = 6;
/// Some sectors here, the others the parent's: the sector bitmap says which.
const PARTIALLY_PRESENT: u64 = 7;
/// A sector bitmap block that is in the file.
const SB_BLOCK_PRESENT: u64 = 6;

// Slice-by-16: the region table alone is 64 KiB, checked on every open.
const CRC32C: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);

/// Whether a structure's CRC-32C (stored at byte 4, computed with it zeroed) holds.
fn checksum_ok(block: &[u8]) -> bool {
    let mut d = CRC32C.digest();
    d.update(&block[..4]);
    d.update(&[0; 4]);
    d.update(&block[8..]);
    d.finalize() == le32(block, 4)
}

fn bad(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// A clean VHDX.
pub struct Vhdx {
    src: Arc<dyn ImageSource>,
    size: u64,
    block_size: u64,
    sector: u64,
    /// Payload blocks per sector bitmap block.
    chunk_ratio: u64,
    /// Each payload block's BAT entry (sector bitmap entries left out).
    payload: Vec<u64>,
    /// Each chunk's sector bitmap BAT entry (a differencing disk's).
    bitmaps: Vec<u64>,
    /// Where the parent is, for a differencing disk.
    pub locator: Option<ParentLocator>,
    parent: Option<Arc<dyn ImageSource>>,
    /// The current header's DataWriteGuid: a child's `parent_linkage`.
    pub identity: String,
}

/// What opening found.
pub enum Opened {
    Clean(Vhdx),
    /// The log holds entries to replay (or the structures need the slow
    /// path's tolerance): open with `vhdx-core`.
    NeedsLibrary,
}

/// Where the BAT and the metadata region lie: (offset, length) each.
struct Regions {
    bat: (u64, u64),
    meta: (u64, u64),
}

/// What the metadata says of the disk.
struct Geometry {
    block_size: u64,
    size: u64,
    sector: u64,
    parent: Option<ParentLocator>,
}

/// The parent locator's item (MS-VHDX §2.6.2.6).
const PARENT_LOCATOR: [u8; 16] = [
    0x2D, 0x5F, 0xD3, 0xA8, 0x0B, 0xB3, 0x4D, 0x45, 0xAB, 0xF7, 0xD3, 0xD8, 0x48, 0x34, 0xAB, 0x0C,
];

impl Vhdx {
    pub fn open(src: Arc<dyn ImageSource>) -> io::Result<Opened> {
        let Some(header) = current_header(src.as_ref()) else {
            return Ok(Opened::NeedsLibrary);
        };
        if header[48..64].iter().any(|&b| b != 0) {
            return Ok(Opened::NeedsLibrary); // a log to replay
        }
        let Some(regions) = regions(src.as_ref())? else {
            return Ok(Opened::NeedsLibrary);
        };
        let g = geometry(src.as_ref(), regions.meta)?;
        let chunk_ratio = (1u64 << 23) * g.sector / g.block_size;
        let blocks = g.size.div_ceil(g.block_size);
        let chunks = blocks.div_ceil(chunk_ratio);
        // Only the entries the disk's size needs (the region is larger); a
        // differencing disk's last sector bitmap entry closes its chunk.
        let needed = match g.parent {
            Some(_) => chunks * (chunk_ratio + 1),
            None => blocks + chunks,
        };
        let (bat_at, bat_len) = regions.bat;
        let mut raw = vec![0u8; (needed * 8).min(bat_len) as usize];
        read_exact_at(src.as_ref(), bat_at, &mut raw)?;
        let entries: Vec<u64> = raw.chunks_exact(8).map(|c| le64(c, 0)).collect();
        // Every chunk_ratio payload entries, one sector bitmap entry.
        let per_chunk = chunk_ratio as usize + 1;
        let payload: Vec<u64> = entries
            .chunks(per_chunk)
            .flat_map(|c| c.iter().take(chunk_ratio as usize))
            .take(blocks as usize)
            .copied()
            .collect();
        if (payload.len() as u64) < blocks {
            return Err(bad(format!(
                "VHDX BAT holds {} of {blocks} blocks",
                payload.len()
            )));
        }
        let bitmaps = entries
            .chunks_exact(per_chunk)
            .map(|c| c[chunk_ratio as usize])
            .collect();
        Ok(Opened::Clean(Vhdx {
            src,
            size: g.size,
            block_size: g.block_size,
            sector: g.sector,
            chunk_ratio,
            payload,
            bitmaps,
            locator: g.parent,
            parent: None,
            identity: guid(header[32..48].try_into().expect("16 bytes"), true),
        }))
    }

    /// Reads what this differencing disk does not hold from `parent`.
    pub fn set_parent(&mut self, parent: Arc<dyn ImageSource>) {
        self.parent = Some(parent);
    }

    /// A partly present block's bytes from `within`: the sector bitmap says
    /// which sectors are the child's.
    fn read_partial(&self, block: u64, within: u64, entry: u64, buf: &mut [u8]) -> io::Result<()> {
        let parent = self
            .parent
            .as_ref()
            .ok_or_else(|| bad("VHDX block partially present in a disk without a parent"))?;
        let bitmap = self
            .bitmaps
            .get((block / self.chunk_ratio) as usize)
            .filter(|e| *e & 7 == SB_BLOCK_PRESENT)
            .ok_or_else(|| bad("VHDX sector bitmap block missing for a partially present block"))?;
        // One bit per sector of the chunk, least significant bit first.
        let sectors_per_block = self.block_size / self.sector;
        let first_bit = (block % self.chunk_ratio) * sectors_per_block + within / self.sector;
        let last_bit = first_bit + (within % self.sector + buf.len() as u64 - 1) / self.sector;
        let mut bits = vec![0u8; (last_bit / 8 - first_bit / 8 + 1) as usize];
        read_exact_at(
            self.src.as_ref(),
            (bitmap >> 20) * MIB + first_bit / 8,
            &mut bits,
        )?;
        let base_bit = first_bit - first_bit % 8;
        let block_first = (block % self.chunk_ratio) * sectors_per_block;
        let present = |s: u64| {
            let bit = block_first + s - base_bit;
            bits[(bit / 8) as usize] >> (bit % 8) & 1 == 1
        };
        let file_at = (entry >> 20) * MIB;
        let parent_at = block * self.block_size;
        read_by_sector_bitmap(
            buf,
            within,
            self.sector,
            present,
            |at, out| read_exact_at(self.src.as_ref(), file_at + at, out),
            |at, out| read_exact_at(parent.as_ref(), parent_at + at, out),
        )
    }
}

/// The header with the highest sequence number whose checksum holds.
fn current_header(src: &dyn ImageSource) -> Option<[u8; 4096]> {
    let mut best: Option<(u64, [u8; 4096])> = None;
    for at in [64 * KIB, 128 * KIB] {
        let mut h = [0u8; 4096];
        if read_exact_at(src, at, &mut h).is_err() || &h[..4] != b"head" || !checksum_ok(&h) {
            continue;
        }
        let seq = le64(&h, 8);
        if best.as_ref().is_none_or(|(s, _)| seq > *s) {
            best = Some((seq, h));
        }
    }
    best.map(|(_, h)| h)
}

/// The region table (the first whose checksum holds); `None` when neither
/// does or a required region is one rmsweep does not know.
fn regions(src: &dyn ImageSource) -> io::Result<Option<Regions>> {
    let mut table = None;
    for at in [192 * KIB, 256 * KIB] {
        let mut r = vec![0u8; 64 * KIB as usize];
        if read_exact_at(src, at, &mut r).is_ok() && &r[..4] == b"regi" && checksum_ok(&r) {
            table = Some(r);
            break;
        }
    }
    let Some(table) = table else {
        return Ok(None);
    };
    let (mut bat, mut meta) = (None, None);
    for i in 0..(le32(&table, 8) as usize).min(2047) {
        let e = &table[16 + i * 32..16 + (i + 1) * 32];
        let place = (le64(e, 16), le32(e, 24) as u64);
        match e[..16].try_into().expect("16 bytes") {
            BAT_GUID => bat = Some(place),
            METADATA_GUID => meta = Some(place),
            _ if le32(e, 28) & 1 != 0 => return Ok(None),
            _ => {}
        }
    }
    let (Some(bat), Some(meta)) = (bat, meta) else {
        return Err(bad(
            "VHDX region table lacks the BAT or the metadata region",
        ));
    };
    if meta.1 > 16 * MIB || bat.1 > 512 * MIB {
        return Err(bad(format!(
            "VHDX regions are implausibly large (metadata {} bytes, BAT {} bytes)",
            meta.1, bat.1
        )));
    }
    Ok(Some(Regions { bat, meta }))
}

/// The block size, disk size and sector size the metadata gives, and a
/// differencing disk's parent locator.
fn geometry(src: &dyn ImageSource, (meta_at, meta_len): (u64, u64)) -> io::Result<Geometry> {
    // The table is the region's first 64 KiB; items are read one by one.
    let mut m = vec![0u8; meta_len.min(64 * KIB) as usize];
    read_exact_at(src, meta_at, &mut m)?;
    if m.len() < 32 || &m[..8] != b"metadata" {
        return Err(bad("VHDX metadata table signature missing"));
    }
    let (mut block_size, mut has_parent, mut size, mut sector) = (None, false, None, None);
    let mut parent = None;
    for i in 0..le16(&m, 10) as usize {
        let Some(e) = m.get(32 + i * 32..32 + (i + 1) * 32) else {
            break;
        };
        let (off, len) = (le32(e, 16) as u64, le32(e, 20) as u64);
        if off + len > meta_len || len > 64 * KIB {
            continue;
        }
        let mut item = vec![0u8; len as usize];
        read_exact_at(src, meta_at + off, &mut item)?;
        let id: [u8; 16] = e[..16].try_into().expect("16 bytes");
        if id == FILE_PARAMETERS && len >= 8 {
            block_size = Some(le32(&item, 0) as u64);
            has_parent = le32(&item, 4) & 2 != 0;
        } else if VIRTUAL_DISK_SIZE.contains(&id) && len >= 8 {
            size = Some(le64(&item, 0));
        } else if id == LOGICAL_SECTOR_SIZE && len >= 4 {
            sector = Some(le32(&item, 0) as u64);
        } else if id == PARENT_LOCATOR {
            parent = parent_locator(&item);
        }
    }
    let parent = match (has_parent, parent) {
        (false, _) => None,
        (true, Some(p)) if !p.names.is_empty() => Some(p),
        (true, _) => {
            return Err(bad(
                "differencing VHDX whose parent locator names no parent file",
            ))
        }
    };
    let (Some(block_size), Some(size), Some(sector)) = (block_size, size, sector) else {
        return Err(bad(
            "VHDX metadata lacks the block size, disk size or sector size",
        ));
    };
    if !(MIB..=256 * MIB).contains(&block_size)
        || !block_size.is_power_of_two()
        || !matches!(sector, 512 | 4096)
    {
        return Err(bad(format!(
            "VHDX metadata is invalid (block size {block_size}, sector size {sector})"
        )));
    }
    Ok(Geometry {
        block_size,
        size,
        sector,
        parent,
    })
}

/// The parent a locator names (`relative_path`, `absolute_win32_path`,
/// `volume_path`, in that order) and its `parent_linkage` (UTF-16 keys and
/// values, offsets from the item).
fn parent_locator(item: &[u8]) -> Option<ParentLocator> {
    let utf16 = |at: usize, len: usize| -> Option<String> {
        let bytes = item.get(at..at + len)?;
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        Some(String::from_utf16_lossy(&units))
    };
    let count = le16(item.get(..20)?, 18) as usize;
    let mut found = Vec::new();
    for i in 0..count.min(256) {
        let e = item.get(20 + i * 12..20 + (i + 1) * 12)?;
        let key = utf16(le32(e, 0) as usize, le16(e, 8) as usize)?;
        let value = utf16(le32(e, 4) as usize, le16(e, 10) as usize)?;
        found.push((key, value));
    }
    let value = |k: &str| {
        found
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    Some(ParentLocator {
        names: ["relative_path", "absolute_win32_path", "volume_path"]
            .iter()
            .filter_map(|k| value(k))
            .collect(),
        linkage: value("parent_linkage"),
    })
}

impl ImageSource for Vhdx {
    fn len(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let want = super::readable(self.size, offset, buf.len());
        if want == 0 {
            return Ok(0);
        }
        let mut done = 0;
        while done < want {
            let at = offset + done as u64;
            let (block, within) = (at / self.block_size, at % self.block_size);
            let n = (want - done).min((self.block_size - within) as usize);
            let entry = self.payload[block as usize];
            let out = &mut buf[done..done + n];
            match (entry & 7, &self.parent) {
                (FULLY_PRESENT, _) => {
                    read_exact_at(self.src.as_ref(), (entry >> 20) * MIB + within, out)?;
                }
                (PARTIALLY_PRESENT, _) => self.read_partial(block, within, entry, out)?,
                (NOT_PRESENT, Some(parent)) => read_exact_at(parent.as_ref(), at, out)?,
                // Undefined, zero, unmapped (and not present without a
                // parent): zeros.
                _ => out.fill(0),
            }
            done += n;
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parent_locator_names_the_parent() {
        // Two entries: parent_linkage and relative_path.
        let pairs = [
            ("parent_linkage", "{83ec1a5b-0000-0000-0000-000000000000}"),
            ("relative_path", ".\\Profile_alice.VHDX"),
        ];
        let mut item = vec![0u8; 20 + 12 * pairs.len()];
        item[18..20].copy_from_slice(&(pairs.len() as u16).to_le_bytes());
        for (i, (k, v)) in pairs.iter().enumerate() {
            let mut put = |s: &str| {
                let at = item.len();
                item.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
                (at as u32, (item.len() - at) as u16)
            };
            let (ko, kl) = put(k);
            let (vo, vl) = put(v);
            let e = 20 + i * 12;
            item[e..e + 4].copy_from_slice(&ko.to_le_bytes());
            item[e + 4..e + 8].copy_from_slice(&vo.to_le_bytes());
            item[e + 8..e + 10].copy_from_slice(&kl.to_le_bytes());
            item[e + 10..e + 12].copy_from_slice(&vl.to_le_bytes());
        }
        let found = parent_locator(&item).unwrap();
        assert_eq!(found.names, [".\\Profile_alice.VHDX"]);
        assert_eq!(
            found.linkage.as_deref(),
            Some("{83ec1a5b-0000-0000-0000-000000000000}")
        );
        assert_eq!(parent_locator(&item[..10]), None);
    }
}
