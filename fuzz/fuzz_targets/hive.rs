//! Any bytes as each kind of hive, with and without a transaction log: the
//! hive reader must never panic (under libFuzzer a panic aborts, so one in
//! the hive library is found here even though rmsweep catches it).
#![no_main]
use libfuzzer_sys::fuzz_target;
use rmsweep_scanner::registry::{read_hive, HiveKind};

fuzz_target!(|data: &[u8]| {
    for kind in [HiveKind::Usrclass, HiveKind::Ntuser, HiveKind::Software, HiveKind::System] {
        let _ = read_hive(kind, data, &[]);
    }
    // The same bytes as their own log: replay over garbage must hold too.
    let _ = read_hive(HiveKind::Usrclass, data, &[data.to_vec()]);
});
