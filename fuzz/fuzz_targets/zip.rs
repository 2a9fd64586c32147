//! Any bytes as a collection's zip archive: its central directory read (or
//! its local headers walked when that is lost), every member listed, read
//! and read at an offset. Nothing may panic: damaged archives are errors.
#![no_main]
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use rmsweep_scanner::volume::zip::ZipVolume;
use rmsweep_scanner::volume::{Names, VPath, Volume};

#[path = "walk.rs"]
mod walk;

fuzz_target!(|data: &[u8]| {
    let Ok(Some(zip)) = ZipVolume::open(Arc::new(data.to_vec()), "/fuzz".into(), Names::PercentEncoded)
    else {
        return;
    };
    walk::walk(&zip as &dyn Volume);
    let mut buf = [0u8; 64];
    if let Ok(entries) = zip.list(&VPath::root()) {
        for e in entries {
            let _ = zip.read_at(&e.path, 16, &mut buf);
            let _ = zip.open_source(&e.path);
        }
    }
});
