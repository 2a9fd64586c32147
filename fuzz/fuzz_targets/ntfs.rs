//! Any bytes as a bare NTFS volume, walked (bounded) and every file read,
//! and as one LZNT1 compression unit. Nothing may panic.
#![no_main]
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use rmsweep_scanner::volume::image::{lznt1, ntfs::NtfsVolume};

#[path = "walk.rs"]
mod walk;

fuzz_target!(|data: &[u8]| {
    let _ = lznt1::decompress(data, &mut Vec::new(), 65_536);
    if let Ok(vol) = NtfsVolume::open(Arc::new(data.to_vec()), "/fuzz".into(), "fuzz".into()) {
        walk::walk(&vol);
    }
});
