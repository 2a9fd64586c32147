//! Any bytes as an evidence file: sniffed, opened as its container (raw,
//! VHD, VHDX, E01), its partition table read and every NTFS volume walked
//! (bounded) and read. Nothing may panic: damaged images are errors.
#![no_main]
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use rmsweep_scanner::volume::image::{container, ntfs::NtfsVolume, partition};
use rmsweep_scanner::volume::memory::MemoryVolume;
use rmsweep_scanner::volume::{VPath, Volume};

#[path = "walk.rs"]
mod walk;

fuzz_target!(|data: &[u8]| {
    let vol = MemoryVolume::new().file("disk", data);
    let Ok(Some(disk)) = container::open(&vol, &VPath::from_bytes("disk")) else {
        return;
    };
    let Ok(parts) = partition::partitions(&disk.source) else {
        return;
    };
    for p in parts.into_iter().filter(|p| p.kind == partition::VolumeKind::Ntfs) {
        if let Ok(ntfs) = NtfsVolume::open(Arc::clone(&p.source), "/fuzz".into(), "fuzz".into()) {
            walk::walk(&ntfs as &dyn Volume);
        }
    }
});
