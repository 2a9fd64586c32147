//! A live filesystem under the reader: a file truncated and rewritten while
//! it is being read must never crash the scan (a memory map of it would
//! raise SIGBUS); what was read is returned, and the scanner flags a size
//! that moved (`changed_while_reading`).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rmsweep_scanner::volume::host::read_file;
use rmsweep_scanner::volume::{Bytes, ReadOptions, MMAP_THRESHOLD};

#[test]
fn a_file_truncated_while_being_read_never_crashes() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("CLC-big.drm");
    let size = 4 * MMAP_THRESHOLD as usize; // above the mapping threshold
    let content: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let (path, stop, content) = (path.clone(), stop.clone(), content.clone());
        std::thread::spawn(move || {
            let mut rounds = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                f.set_len(0).unwrap();
                f.write_all(&content).unwrap();
                rounds += 1;
            }
            rounds
        })
    };
    let mut buf = Vec::new();
    let (mut whole, mut partial) = (0, 0);
    for _ in 0..300 {
        let (meta, bytes) = read_file(&path, &ReadOptions::default(), &mut buf).unwrap();
        assert!(
            matches!(bytes, Bytes::Buffer(_)),
            "mapped on a writable filesystem"
        );
        // Every byte returned is a byte of the file as written.
        assert!(bytes.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
        if bytes.len() == size && meta.len() == size as u64 {
            whole += 1;
        } else {
            partial += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let rounds = churn.join().unwrap();
    assert_eq!(whole + partial, 300);
    assert!(rounds > 0);
    eprintln!("{whole} whole reads, {partial} partial, {rounds} truncate-and-rewrite rounds");
}

#[test]
fn large_files_are_mapped_only_from_read_only_mounts() {
    // As root the mount must work (CI runs as root); as another user the
    // writable half still runs.
    let tmp = tempfile::tempdir().unwrap();
    let check = |dir: &std::path::Path, want_mapped: bool| {
        let path = dir.join("big.drm");
        let mut buf = Vec::new();
        let (_, bytes) = read_file(&path, &ReadOptions::default(), &mut buf).unwrap();
        assert_eq!(matches!(bytes, Bytes::Mapped(_)), want_mapped);
        assert_eq!(bytes.len(), 2 * MMAP_THRESHOLD as usize);
        assert!(bytes.iter().all(|&b| b == 7));
    };
    let content = vec![7u8; 2 * MMAP_THRESHOLD as usize];
    std::fs::write(tmp.path().join("big.drm"), &content).unwrap();
    check(tmp.path(), false);
    if !rmsweep_fixtures::sandbox::is_root() {
        eprintln!("not root: cannot mount a read-only tmpfs; the mapped half is not run");
        return;
    }
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    rmsweep_fixtures::sandbox::with_tmpfs(&mnt, 8192, |mnt| {
        std::fs::write(mnt.join("big.drm"), &content).unwrap();
        check(mnt, false);
        rmsweep_fixtures::sandbox::remount_read_only(mnt);
        check(mnt, true);
    });
}
