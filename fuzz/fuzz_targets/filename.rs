//! Any file name through the licence-name decoder, with both escape tables.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmsweep_scanner::parse::filename::{decode_file_name, NameTable};

fuzz_target!(|data: &[u8]| {
    if let Ok(name) = std::str::from_utf8(data) {
        let _ = decode_file_name(name, NameTable::Msipc);
        let _ = decode_file_name(name, NameTable::Msdrm);
    }
});
