//! Any bytes through the whole store-file parser: must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmsweep_scanner::parse::{parse_store_file, ChainCache, NameTable};

fuzz_target!(|data: &[u8]| {
    let cache = ChainCache::new();
    let c = parse_store_file(data, &cache, Some("GIC-{a}-{b}-{{c}}.drm"), NameTable::Msipc);
    // Serialising must not panic either (it is what every output does).
    let _ = c.clone();
});
