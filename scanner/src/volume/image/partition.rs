//! The volumes on a disk: a GPT or MBR partition table, or a bare volume
//! (a User Profile Disk, a volume image). Each partition is told by its
//! boot sector, never by its type code (FSLogix tools make MSR + data,
//! data alone, or MBR; converters leave odd type codes).

use std::sync::Arc;

use super::container::ImageError;
use super::{ImageSource, Slice, SourceReader};

/// What a volume's boot sector says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeKind {
    Ntfs,
    /// BitLocker (`-FVE-FS-`): not readable without its key.
    BitLocker,
    /// Anything else (an MSR, FAT, an empty partition).
    Other,
}

/// A volume on a disk.
#[derive(Clone)]
pub struct Partition {
    /// 1-based partition number; `None` for a bare volume (no table).
    pub number: Option<u32>,
    pub start: u64,
    pub kind: VolumeKind,
    pub source: Arc<dyn ImageSource>,
}

impl std::fmt::Debug for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Partition")
            .field("number", &self.number)
            .field("start", &self.start)
            .field("len", &self.source.len())
            .field("kind", &self.kind)
            .finish()
    }
}

/// The kind of the volume whose boot sector is `boot`.
pub fn volume_kind(boot: &[u8]) -> VolumeKind {
    match boot.get(3..11) {
        Some(b"NTFS    ") => VolumeKind::Ntfs,
        Some(b"-FVE-FS-") => VolumeKind::BitLocker,
        _ => VolumeKind::Other,
    }
}

fn kind_at(disk: &dyn ImageSource, start: u64) -> VolumeKind {
    let mut boot = [0u8; 512];
    match super::read_exact_at(disk, start, &mut boot) {
        Ok(()) => volume_kind(&boot),
        Err(_) => VolumeKind::Other,
    }
}

/// Every volume of `disk`, in table order.
pub fn partitions(disk: &Arc<dyn ImageSource>) -> Result<Vec<Partition>, ImageError> {
    let bare = kind_at(disk.as_ref(), 0);
    if bare != VolumeKind::Other {
        return Ok(vec![Partition {
            number: None,
            start: 0,
            kind: bare,
            source: disk.clone(),
        }]);
    }
    let mut ranges = gpt_ranges(disk).unwrap_or_default();
    if ranges.is_empty() {
        ranges = mbr_ranges(disk)?;
    }
    let len = disk.len();
    Ok(ranges
        .into_iter()
        .filter(|&(_, start, plen)| plen > 0 && start < len)
        .map(|(number, start, plen)| Partition {
            number: Some(number),
            start,
            kind: kind_at(disk.as_ref(), start),
            source: Arc::new(Slice {
                inner: disk.clone(),
                start,
                len: plen.min(len - start),
            }),
        })
        .collect())
}

/// (number, start, length) of each used GPT entry; `None` when there is no
/// GPT. The header is looked for at 512 and 4096 bytes (the sector sizes
/// disks use), then as the backup at the disk's last sector. Read here:
/// `gptman` checks both CRCs and reads the entry array twice on every open,
/// which a share of thousands of containers paid for on each.
fn gpt_ranges(disk: &Arc<dyn ImageSource>) -> Option<Vec<(u32, u64, u64)>> {
    let len = disk.len();
    let le32 = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"));
    let le64 = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
    let mut header = [0u8; 92];
    let found = [
        (512u64, 512u64),
        (4096, 4096),
        (len.saturating_sub(512), 512),
        (len.saturating_sub(4096), 4096),
    ]
    .into_iter()
    .find(|&(at, _)| {
        super::read_exact_at(disk.as_ref(), at, &mut header).is_ok() && &header[..8] == b"EFI PART"
    })?;
    let sector = found.1;
    let (entries_lba, count, size) = (
        le64(&header, 72),
        le32(&header, 80) as u64,
        le32(&header, 84) as u64,
    );
    if !(128..=4096).contains(&size) || count == 0 || count > 1024 {
        return None;
    }
    let mut table = vec![0u8; (count * size) as usize];
    super::read_exact_at(disk.as_ref(), entries_lba.checked_mul(sector)?, &mut table).ok()?;
    Some(
        table
            .chunks_exact(size as usize)
            .enumerate()
            .filter(|(_, e)| e[..16].iter().any(|&b| b != 0))
            .filter_map(|(i, e)| {
                let (first, last) = (le64(e, 32), le64(e, 40));
                (last >= first).then(|| {
                    (
                        i as u32 + 1,
                        first.saturating_mul(sector),
                        (last - first + 1).saturating_mul(sector),
                    )
                })
            })
            .collect(),
    )
}

fn mbr_ranges(disk: &Arc<dyn ImageSource>) -> Result<Vec<(u32, u64, u64)>, ImageError> {
    let mut sig = [0u8; 2];
    super::read_exact_at(disk.as_ref(), 510, &mut sig).map_err(ImageError::Unreadable)?;
    if sig != [0x55, 0xAA] {
        return Err(ImageError::PartitionTable(
            "neither a GPT, an MBR nor a volume boot sector at the start of the disk".into(),
        ));
    }
    let mut r = SourceReader::new(disk.clone());
    let mbr = mbrman::MBR::read_from(&mut r, 512).map_err(|e| match e {
        mbrman::Error::Io(e) => ImageError::Unreadable(e),
        e => ImageError::PartitionTable(format!("MBR: {e}")),
    })?;
    Ok(mbr
        .iter()
        .filter(|(_, e)| e.is_used() && !matches!(e.sys, 0x05 | 0x0F | 0x85 | 0xEE))
        .map(|(i, e)| {
            (
                i as u32,
                e.starting_lba as u64 * 512,
                e.sectors as u64 * 512,
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_sectors_tell_the_volume_kind() {
        let mut boot = vec![0u8; 512];
        boot[3..11].copy_from_slice(b"NTFS    ");
        assert_eq!(volume_kind(&boot), VolumeKind::Ntfs);
        boot[3..11].copy_from_slice(b"-FVE-FS-");
        assert_eq!(volume_kind(&boot), VolumeKind::BitLocker);
        assert_eq!(volume_kind(&boot[..5]), VolumeKind::Other);
    }

    #[test]
    fn a_disk_without_any_table_is_refused_with_what_was_missing() {
        let disk: Arc<dyn ImageSource> = Arc::new(vec![0u8; 4096]);
        let e = partitions(&disk).unwrap_err().to_string();
        assert_eq!(
            e,
            "damaged partition table: neither a GPT, an MBR nor a volume boot sector at the start of the disk"
        );
    }
}
