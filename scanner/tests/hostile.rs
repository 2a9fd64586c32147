//! A live tree changed between listing and reading: a folder swapped for a
//! link out of the evidence is never followed, and a file swapped for a FIFO
//! or a device is never opened (opening a FIFO would release a blocked
//! writer; opening a device runs its driver).

use std::os::unix::fs::{symlink, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use rmsweep_scanner::volume::host::{HostVolume, Names};
use rmsweep_scanner::volume::{ReadError, ReadOptions, VPath, Volume};

fn store_path() -> &'static str {
    "Users/alice/AppData/Local/Microsoft/MSIPC"
}

/// A store file written, listed through a volume, then removed (for the
/// test to put something else in its place): the volume, the listed path
/// and the host path.
fn listed_then_removed(root: &Path, name: &str) -> (HostVolume, VPath, PathBuf) {
    let store = root.join(store_path());
    std::fs::create_dir_all(&store).unwrap();
    let f = store.join(name);
    std::fs::write(&f, b"x").unwrap();
    let vol = HostVolume::new(root, Names::AsStored).unwrap();
    let file = vol.list(&VPath::from_bytes(store_path())).unwrap()[0]
        .path
        .clone();
    std::fs::remove_file(&f).unwrap();
    (vol, file, f)
}

/// Reading `file` must fail; the error.
fn read_err(vol: &HostVolume, file: &VPath) -> ReadError {
    let mut buf = Vec::new();
    match vol.read(file, &ReadOptions::default(), &mut buf) {
        Err(e) => e,
        Ok((_, bytes)) => panic!("read {} bytes it must not read", bytes.len()),
    }
}

fn mkfifo(p: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: mkfifo(3) on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn a_folder_swapped_for_a_link_after_listing_is_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let vol_dir = tmp.path().join("host1");
    let store = vol_dir.join(store_path());
    std::fs::create_dir_all(&store).unwrap();
    std::fs::write(store.join("GIC-a.drm"), b"evidence").unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("GIC-a.drm"), b"not evidence").unwrap();

    let vol = HostVolume::new(&vol_dir, Names::AsStored).unwrap();
    let listed = vol.list(&VPath::from_bytes(store_path())).unwrap();
    assert_eq!(listed.len(), 1);
    let file = listed[0].path.clone();
    let mut buf = Vec::new();
    let (_, bytes) = vol.read(&file, &ReadOptions::default(), &mut buf).unwrap();
    assert_eq!(&bytes[..], b"evidence");

    // MSIPC becomes a link out of the evidence; so does a folder higher up.
    std::fs::rename(&store, vol_dir.join("moved")).unwrap();
    symlink(&outside, &store).unwrap();
    let err = read_err(&vol, &file);
    assert!(
        matches!(err, ReadError::NotRegular("symbolic link")),
        "{err}"
    );
    assert!(vol.list(&VPath::from_bytes(store_path())).is_err());
    assert!(vol.stat(&file).is_err());
    std::fs::remove_file(&store).unwrap();
    let local = vol_dir.join("Users/alice/AppData/Local");
    std::fs::rename(&local, vol_dir.join("moved-local")).unwrap();
    symlink(&outside, &local).unwrap();
    let err = read_err(&vol, &file);
    assert!(
        matches!(err, ReadError::NotRegular("symbolic link")),
        "{err}"
    );
    let mut range = [0u8; 4];
    assert!(vol.read_at(&file, 0, &mut range).is_err());
}

#[test]
fn a_file_swapped_for_a_fifo_with_a_blocked_writer_is_never_opened() {
    let tmp = tempfile::tempdir().unwrap();
    let (vol, file, f) = listed_then_removed(tmp.path(), "EUL-a.drm");
    mkfifo(&f);
    // A writer on the live system, blocked until a reader opens the FIFO.
    let (tx, rx) = mpsc::channel();
    let writer = {
        let f = f.clone();
        std::thread::spawn(move || {
            let w = std::fs::OpenOptions::new().write(true).open(&f);
            tx.send(()).unwrap();
            drop(w);
        })
    };
    let err = read_err(&vol, &file);
    assert!(matches!(err, ReadError::NotRegular("FIFO")), "{err}");
    let st = vol.stat(&file).unwrap();
    assert_eq!(st.kind, Some(rmsweep_scanner::volume::EntryKind::Fifo));
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "the FIFO was opened: its blocked writer was released"
    );
    // Release the writer ourselves.
    let _reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&f)
        .unwrap();
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
    writer.join().unwrap();
}

#[test]
fn a_file_swapped_for_a_device_is_never_opened() {
    // SAFETY: geteuid(2) takes nothing and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: cannot make a device node; this test ran nothing");
        return;
    }
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let (vol, file, f) = listed_then_removed(tmp.path(), "CERT-Machine.drm");
    let c = std::ffi::CString::new(f.as_os_str().as_bytes()).unwrap();
    // SAFETY: mknod(2) of /dev/null's numbers (1, 3) on a NUL-terminated path.
    let made = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(1, 3)) };
    assert_eq!(made, 0);
    let err = read_err(&vol, &file);
    assert!(
        matches!(err, ReadError::NotRegular("character device")),
        "{err}"
    );
}
