//! The adversarial fixture set (generated, seeded): every hostile file becomes
//! the record it must, the scan completes, and nothing else is lost.

use std::path::Path;

use rmsweep_fixtures::{write_adversarial, Expect};
use rmsweep_scanner::volume::ReadOptions;
use rmsweep_scanner::{plan, run, Record, Root, ScanConfig};

fn anomaly_codes(r: &Record) -> Vec<String> {
    let mut v: Vec<String> = r
        .content
        .anomalies
        .iter()
        .map(|a| {
            serde_json::to_value(a)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_hostile_file_becomes_the_record_it_must() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = write_adversarial(tmp.path(), 6).unwrap();
    let config = ScanConfig {
        roots: vec![Root::new(tmp.path())],
        deep: false,
        threads: 2,
        read: ReadOptions::default(),
        cancel: Default::default(),
        io: Default::default(),
    };
    let p = plan(&config).unwrap();
    let mut records: Vec<Record> = Vec::new();
    let summary = run(&p, &config, |r| {
        records.extend(r.into_file());
        Ok::<(), ()>(())
    })
    .unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    for case in &cases {
        let want = root.join(case.path.strip_prefix(tmp.path()).unwrap());
        let r = records
            .iter()
            .find(|r| match &r.path_hex {
                Some(hex) => {
                    hex == &rmsweep_scanner::process::hex(std::os::unix::ffi::OsStrExt::as_bytes(
                        want.as_os_str(),
                    ))
                }
                None => Path::new(&r.path) == want,
            })
            .unwrap_or_else(|| panic!("{}: no record", case.name));
        match &case.expect {
            Expect::Parsed { kind, anomalies } => {
                assert_eq!(
                    r.content.kind.as_str(),
                    *kind,
                    "{}: {:?}",
                    case.name,
                    r.content.error
                );
                let mut want: Vec<String> = anomalies.iter().map(|s| s.to_string()).collect();
                want.sort();
                assert_eq!(anomaly_codes(r), want, "{}", case.name);
            }
            Expect::Unreadable(text) => {
                assert_eq!(r.content.kind.as_str(), "unreadable", "{}", case.name);
                let e = r.content.error.as_deref().unwrap_or("");
                assert!(e.contains(text), "{}: {e}", case.name);
            }
        }
    }
    // One record per case, nothing else, nothing lost.
    assert_eq!(records.len(), cases.len());
    let unreadable = cases
        .iter()
        .filter(|c| matches!(c.expect, Expect::Unreadable(_)))
        .count();
    assert_eq!(summary.errors, unreadable);
    let clean = cases
        .iter()
        .filter(|c| matches!(&c.expect, Expect::Parsed { anomalies, .. } if anomalies.is_empty()))
        .count();
    assert_eq!(
        records
            .iter()
            .filter(|r| r.content.error.is_none() && r.content.anomalies.is_empty())
            .count(),
        clean
    );
    // Exact counts for the set as generated (the device node needs CAP_MKNOD).
    let device = usize::from(cases.iter().any(|c| c.name == "device-node"));
    assert_eq!(
        (cases.len(), unreadable, clean),
        (31 + device, 10 + device, 8)
    );
    // Key material and entity bombs never reach the output.
    let json = serde_json::to_string(&records).unwrap();
    assert!(!json.contains("root:x:0:0"));
    assert!(!json.contains("aaaaaaaaaaaaaaaaaaaa"));
}
