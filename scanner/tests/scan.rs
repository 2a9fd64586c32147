//! End-to-end scans of generated volumes: counts per store and record kind,
//! profile and SID must equal what the generator says it wrote.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rmsweep_fixtures::{write_volume, Manifest, VolumeSpec};
use rmsweep_scanner::locate::RootKind;
use rmsweep_scanner::volume::ReadOptions;
use rmsweep_scanner::{plan, run, IoConfig, Record, Root, ScanConfig};

fn config(roots: Vec<Root>, deep: bool, threads: usize) -> ScanConfig {
    ScanConfig {
        roots,
        deep,
        threads,
        read: ReadOptions::default(),
        cancel: Default::default(),
        io: Default::default(),
    }
}

fn scan(root: &Path, deep: bool, threads: usize) -> Vec<Record> {
    scan_with(root, deep, threads, None)
}

/// A scan with `io_depth` requests in flight (`None`: the default).
fn scan_with(root: &Path, deep: bool, threads: usize, io_depth: Option<usize>) -> Vec<Record> {
    let mut cfg = config(vec![Root::labelled(root, "host1")], deep, threads);
    cfg.io = IoConfig {
        depth: io_depth,
        ..IoConfig::default()
    };
    let p = plan(&cfg).expect("plan");
    let mut out = Vec::new();
    run(&p, &cfg, |r| {
        out.extend(r.into_file());
        Ok::<(), ()>(())
    })
    .unwrap();
    out
}

type Key = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn manifest_counts(m: &Manifest) -> BTreeMap<Key, usize> {
    let mut c = BTreeMap::new();
    for f in &m.files {
        let key = (
            f.kind.to_string(),
            f.store_mode.to_string(),
            f.store_area.to_string(),
            f.rms_client.to_string(),
            f.profile.clone(),
            f.sid.clone(),
        );
        *c.entry(key).or_default() += 1;
    }
    c
}

fn record_counts(records: &[Record]) -> BTreeMap<Key, usize> {
    let mut c = BTreeMap::new();
    for r in records {
        let key = (
            r.content.kind.as_str().to_string(),
            r.store_mode.as_str().to_string(),
            r.store_area.as_str().to_string(),
            r.rms_client.as_str().to_string(),
            r.profile.clone(),
            r.sid.clone(),
        );
        *c.entry(key).or_default() += 1;
    }
    c
}

fn volume(spec: &VolumeSpec) -> (tempfile::TempDir, Manifest) {
    let dir = tempfile::tempdir().unwrap();
    let m = write_volume(dir.path(), spec).unwrap();
    (dir, m)
}

#[test]
fn sample_volume_counts_match_the_manifest() {
    let spec = VolumeSpec {
        set_times: true,
        ..VolumeSpec::sample()
    };
    let (dir, m) = volume(&spec);
    let records = scan(dir.path(), false, 2);
    assert_eq!(records.len(), 79);
    assert_eq!(m.files.len(), 79);
    assert_eq!(record_counts(&records), manifest_counts(&m));
    assert!(
        records
            .iter()
            .all(|r| r.content.error.is_none() && r.content.anomalies.is_empty()),
        "{records:#?}"
    );
    // Decoys outside the stores are never records.
    assert!(records.iter().all(|r| !r.path.contains("/Documents/")
        && !r.path.contains("/Downloads/")
        && !r.path.contains("/Backup/")));
    // Provenance: every record has its size, times and a SHA-256 of the bytes.
    for r in &records {
        let bytes = std::fs::read(&r.path).unwrap();
        assert_eq!(r.size, Some(bytes.len() as u64));
        use sha2::Digest;
        assert_eq!(
            r.sha256.as_deref(),
            Some(&*rmsweep_scanner::process::hex(&sha2::Sha256::digest(
                &bytes
            )))
        );
        assert!(r.modified.is_some() && r.accessed.is_some() && r.changed.is_some());
        assert_eq!(r.label, "host1");
    }
}

#[test]
fn exact_counts_per_kind_store_profile_and_sid() {
    let (dir, _) = volume(&VolumeSpec::sample());
    let records = scan(dir.path(), false, 2);
    let count = |f: &dyn Fn(&Record) -> bool| records.iter().filter(|r| f(r)).count();
    assert_eq!(count(&|r| r.content.kind.as_str() == "template"), 36);
    assert_eq!(count(&|r| r.content.kind.as_str() == "rac"), 9);
    assert_eq!(count(&|r| r.content.kind.as_str() == "clc"), 8);
    assert_eq!(count(&|r| r.content.kind.as_str() == "eul"), 12);
    assert_eq!(count(&|r| r.content.kind.as_str() == "machine_cert"), 14);
    // Windows.old profile, share-style profile names, mixed-case stores.
    assert_eq!(
        count(&|r| r.profile.as_deref() == Some("alice")
            && r.path.contains("/Windows.old/Users/alice/")),
        14
    );
    assert_eq!(count(&|r| r.profile.as_deref() == Some("bob.V6")), 11);
    assert_eq!(
        count(&|r| r.path.contains("/appdata/local/microsoft/msipc/")),
        11
    );
    assert_eq!(count(&|r| r.path.contains("/msipc/TEMPLATES/")), 4);
    // Server mode in all three layouts, with SID names.
    assert_eq!(
        count(&|r| r.sid.as_deref() == Some("S-1-5-20") && r.rms_client.as_str() == "msipc"),
        4
    );
    assert_eq!(
        count(&|r| r.sid.as_deref() == Some("S-1-5-20") && r.store_area.as_str() == "templates"),
        2
    );
    assert_eq!(
        count(&|r| r.sid.as_deref() == Some("S-1-5-18")
            && r.sid_name.as_deref() == Some("LocalSystem")),
        3
    );
    assert_eq!(
        count(
            &|r| r.sid.as_deref() == Some("S-1-5-21-1004336348-1177238915-682003330-1105")
                && r.store_area.as_str() == "unmanaged_templates"
        ),
        1
    );
    // MSDRM: client stores of two profiles (local and roaming templates), one server lockbox.
    assert_eq!(
        count(&|r| r.rms_client.as_str() == "msdrm" && r.store_mode.as_str() == "client"),
        8
    );
    assert_eq!(
        count(&|r| r.rms_client.as_str() == "msdrm" && r.store_mode.as_str() == "server"),
        1
    );
    let msdrm_rac = records
        .iter()
        .find(|r| {
            r.rms_client.as_str() == "msdrm"
                && r.content.kind.as_str() == "rac"
                && r.profile.as_deref() == Some("alice")
        })
        .unwrap();
    assert_eq!(
        msdrm_rac.content.file_name.as_ref().unwrap().emails,
        vec!["alice@contoso.com"]
    );
}

#[test]
fn output_order_is_the_same_whatever_the_thread_count() {
    let (dir, _) = volume(&VolumeSpec::sample());
    let lines = |threads, io_depth| -> Vec<String> {
        scan_with(dir.path(), false, threads, io_depth)
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect()
    };
    let one = lines(1, Some(1));
    assert_eq!(one.len(), 79);
    assert_eq!(one, lines(7, None));
    // Many listings and reads in flight (as on a share), one parser.
    assert_eq!(one, lines(1, Some(24)));
    assert_eq!(one, lines(3, Some(64)));
    let mut sorted = one.clone();
    sorted.sort_by_key(|l| {
        serde_json::from_str::<serde_json::Value>(l).unwrap()["path"]
            .as_str()
            .unwrap()
            .to_string()
    });
    assert_eq!(one, sorted);
}

#[test]
fn deep_walk_finds_the_same_files() {
    let (dir, m) = volume(&VolumeSpec::sample());
    let targeted: Vec<String> = scan(dir.path(), false, 2)
        .into_iter()
        .map(|r| r.path)
        .collect();
    let deep: Vec<String> = scan(dir.path(), true, 2)
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(deep.len(), m.files.len());
    assert_eq!(targeted, deep);
}

#[test]
fn every_root_layout_is_recognised() {
    let (dir, _) = volume(&VolumeSpec::sample());
    let root = dir.path();
    let kind = |p: PathBuf| {
        let cfg = config(vec![Root::labelled(p, "host1")], false, 1);
        plan(&cfg).unwrap().roots[0].kind
    };
    assert_eq!(kind(root.to_path_buf()), RootKind::Volume);
    assert_eq!(kind(root.join("Users")), RootKind::ProfileFolder);
    assert_eq!(kind(root.join("Users/bob.V6")), RootKind::Profile);
    assert_eq!(
        kind(root.join("Users/bob.V6/AppData/Local/Microsoft/MSIPC")),
        RootKind::StoreFolder
    );
    assert_eq!(
        kind(root.join("ProgramData/Microsoft/MSIPC/Server/S-1-5-20")),
        RootKind::StoreFolder
    );
    // A profile share: profiles only.
    // 79 files less alice (Windows.old: 10 MSIPC + 4 MSDRM) less the 9 server-mode files.
    assert_eq!(scan(&root.join("Users"), false, 2).len(), 79 - 14 - 9);
    assert_eq!(scan(&root.join("Users/bob.V6"), false, 2).len(), 11);
    let store = scan(
        &root.join("Users/bob.V6/AppData/Local/Microsoft/MSIPC"),
        false,
        2,
    );
    assert_eq!(store.len(), 11);
    assert!(store.iter().all(|r| r.profile.as_deref() == Some("bob.V6")));
    let sid = scan(
        &root.join("ProgramData/Microsoft/MSIPC/Server/S-1-5-20"),
        false,
        2,
    );
    assert_eq!(sid.len(), 4);
    assert!(sid.iter().all(|r| r.sid.as_deref() == Some("S-1-5-20")));
    let cfg = config(
        vec![Root::labelled(root.join("Users/bob.V6/Documents"), "host1")],
        false,
        1,
    );
    let err = plan(&cfg).unwrap_err();
    assert!(err.to_string().contains("--deep"), "{err}");
}

#[test]
fn hostile_entries_inside_a_store_are_records_never_opened() {
    let (dir, _) = volume(&VolumeSpec {
        profiles: 1,
        msdrm_every: 0,
        server_stores: false,
        decoys: false,
        ..VolumeSpec::sample()
    });
    let store = dir
        .path()
        .join("Windows.old/Users/alice/AppData/Local/Microsoft/MSIPC");
    let fifo = store.join("GIC-fifo.drm");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::symlink(store.join("loop-b.drm"), store.join("loop-a.drm")).unwrap();
    std::os::unix::fs::symlink(store.join("loop-a.drm"), store.join("loop-b.drm")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", store.join("outside.xml")).unwrap();
    std::os::unix::fs::symlink("/etc", store.join("Templates/escape")).unwrap();
    std::fs::write(store.join("empty.drm"), b"").unwrap();
    let records = scan(dir.path(), false, 2);
    let by_name = |n: &str| {
        records
            .iter()
            .find(|r| r.path.ends_with(n))
            .unwrap_or_else(|| panic!("no record for {n}"))
    };
    assert_eq!(
        by_name("GIC-fifo.drm").content.error.as_deref(),
        Some("not a regular file (FIFO): not opened")
    );
    for n in [
        "loop-a.drm",
        "loop-b.drm",
        "outside.xml",
        "Templates/escape",
    ] {
        assert_eq!(
            by_name(n).content.error.as_deref(),
            Some("not a regular file (symbolic link): not opened"),
            "{n}"
        );
    }
    assert_eq!(
        by_name("empty.drm").content.error.as_deref(),
        Some("empty file (0 bytes)")
    );
    assert!(records.iter().all(|r| !r.path.starts_with("/etc")));
    assert_eq!(
        records.iter().filter(|r| r.content.error.is_some()).count(),
        6
    );
    // One profile: 2 machine certificates, RAC, CLC, 2 EULs, 4 templates.
    assert_eq!(records.len(), 10 + 6);
}

#[test]
fn a_file_that_vanishes_after_listing_is_an_error_record() {
    let (dir, _) = volume(&VolumeSpec {
        profiles: 1,
        msdrm_every: 0,
        server_stores: false,
        decoys: false,
        ..VolumeSpec::sample()
    });
    let cfg = config(vec![Root::new(dir.path())], false, 2);
    let p = plan(&cfg).unwrap();
    let victim = dir
        .path()
        .join("Windows.old/Users/alice/AppData/Local/Microsoft/MSIPC/CERT-Machine.drm");
    // Files are listed as the run reaches their store; the hook that runs
    // between listing and reading removes the victim there.
    let vanish = |_: &str, path: &Path, _: &rmsweep_scanner::volume::Stat| {
        if path == victim {
            std::fs::remove_file(path).unwrap();
        }
        false
    };
    let mut records = Vec::new();
    let summary = rmsweep_scanner::run_incremental(&p, &cfg, Some(&vanish), &|r| r, |r| {
        records.extend(r.into_file());
        Ok::<(), ()>(())
    })
    .unwrap();
    let r = records
        .iter()
        .find(|r| Path::new(&r.path) == victim)
        .unwrap();
    assert_eq!(
        r.content.error.as_deref(),
        Some("the file vanished between listing and reading")
    );
    assert_eq!(summary.errors, 1);
    assert_eq!(summary.records, 10);
}

#[test]
fn oversized_files_are_refused_with_the_cap_named() {
    let (dir, _) = volume(&VolumeSpec {
        profiles: 1,
        msdrm_every: 0,
        server_stores: false,
        decoys: false,
        ..VolumeSpec::sample()
    });
    let mut cfg = config(vec![Root::new(dir.path())], false, 2);
    cfg.read.max_file_size = 20_000;
    let p = plan(&cfg).unwrap();
    let mut records = Vec::new();
    run(&p, &cfg, |r| {
        records.extend(r.into_file());
        Ok::<(), ()>(())
    })
    .unwrap();
    let big: Vec<&Record> = records
        .iter()
        .filter(|r| r.content.error.is_some())
        .collect();
    // Every .drm (about 30 KB) is over the cap; templates (about 6 KB) are not.
    assert_eq!(big.len(), 6);
    let e = big[0].content.error.as_deref().unwrap();
    assert!(
        e.contains("over the 20000-byte cap: rerun with --max-file-size"),
        "{e}"
    );
}

#[test]
fn the_committed_sample_volume_is_what_the_generator_writes() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sample-volume");
    let (fresh, _) = volume(&VolumeSpec::sample());
    let list = |root: &Path| {
        let mut v: Vec<(String, Vec<u8>)> = walk(root)
            .into_iter()
            .map(|p| {
                (
                    p.strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let (a, b) = (list(&committed), list(fresh.path()));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.0, y.0);
        assert!(x.1 == y.1, "{} differs: regenerate with `cargo run -p rmsweep-fixtures -- sample fixtures/sample-volume`", x.0);
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}
