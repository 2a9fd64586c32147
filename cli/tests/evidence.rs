//! Forensic integrity: a scan changes nothing under the root (contents,
//! sizes, modification and change times, access times where the kernel
//! honours O_NOATIME for the caller, the set of entries), and an interrupted
//! scan commits what it read.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use rmsweep_fixtures::{sandbox, write_volume, VolumeSpec};

#[derive(Debug, PartialEq, Eq)]
struct State {
    kind: &'static str,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    atime: (i64, i64),
    sha256: Option<String>,
}

/// Every entry under `root`, read without touching access times.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, State> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in rmsweep_scanner::volume::host::list(&dir).unwrap() {
            let m = std::fs::symlink_metadata(&e.path).unwrap();
            let (kind, sha256) = if m.is_dir() {
                stack.push(e.path.clone());
                ("dir", None)
            } else if m.is_file() {
                let mut f = rmsweep_scanner::volume::host::open_evidence(&e.path).unwrap();
                let mut bytes = Vec::new();
                f.read_to_end(&mut bytes).unwrap();
                use sha2::Digest;
                (
                    "file",
                    Some(rmsweep_scanner::process::hex(&sha2::Sha256::digest(&bytes))),
                )
            } else {
                ("other", None)
            };
            out.insert(
                e.path,
                State {
                    kind,
                    size: if m.is_dir() { 0 } else { m.len() },
                    mtime: (m.mtime(), m.mtime_nsec()),
                    ctime: (m.ctime(), m.ctime_nsec()),
                    atime: (m.atime(), m.atime_nsec()),
                    sha256,
                },
            );
        }
    }
    out
}

#[test]
fn a_scan_changes_nothing_under_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let volume = tmp.path().join("evidence");
    write_volume(
        &volume,
        &VolumeSpec {
            set_times: true,
            ..VolumeSpec::sample()
        },
    )
    .unwrap();
    // Hostile entries too: a FIFO and a symlink out of the root inside a store.
    let store = volume.join("Users/bob.V6/AppData/Local/Microsoft/MSIPC");
    let fifo = std::ffi::CString::new(store.join("x.drm").to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::symlink(tmp.path().join("outside.txt"), store.join("out.xml")).unwrap();
    std::fs::write(tmp.path().join("outside.txt"), b"outside").unwrap();
    // Access times older than modification times, so that any read without
    // O_NOATIME would update them under relatime.
    let before = snapshot(&volume);
    let outside_before = std::fs::metadata(tmp.path().join("outside.txt"))
        .unwrap()
        .atime();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let index = tmp.path().join("index");
    for extra in [&[][..], &["--deep"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_rmsweep"))
            .args([
                "scan",
                volume.to_str().unwrap(),
                "--index",
                index.to_str().unwrap(),
                "--full",
                "--quiet",
            ])
            .args(extra)
            .output()
            .unwrap();
        // The FIFO and the symlink are error records: exit 2, all else read.
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let after = snapshot(&volume);
    assert_eq!(
        before.len(),
        after.len(),
        "entries were created or removed under the root"
    );
    for (path, state) in &before {
        assert_eq!(Some(state), after.get(path), "{} changed", path.display());
    }
    assert_eq!(
        std::fs::metadata(tmp.path().join("outside.txt"))
            .unwrap()
            .atime(),
        outside_before
    );
}

#[test]
fn image_and_container_roots_are_never_written() {
    use rmsweep_fixtures::images;
    let tmp = tempfile::tempdir().unwrap();
    let evidence = tmp.path().join("evidence");
    let mut names: Vec<&str> = vec!["ws01-gpt.E01", "ws01-gpt.vhdx", "fileserver.raw"];
    names.extend(images::WS02_PIECES);
    images::unpack(&evidence, &names).unwrap();
    images::unpack(&evidence.join("share"), &images::SHARES).unwrap();
    use rmsweep_fixtures::collections::{self, WS04, WS05, WS06};
    for name in [WS04, WS05, WS06] {
        std::fs::copy(collections::zip(name), evidence.join(format!("{name}.zip"))).unwrap();
    }
    // Access times a day old: a read without O_NOATIME would move them.
    let day_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400);
    let mut stack = vec![evidence.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let f = std::fs::File::options().write(true).open(&p).unwrap();
                f.set_times(std::fs::FileTimes::new().set_accessed(day_ago))
                    .unwrap();
            }
        }
    }
    let before = snapshot(&evidence);
    let index = tmp.path().join("index");
    let zips = [WS04, WS05, WS06].map(|n| format!("{n}.zip"));
    let mut roots = vec![
        "ws01-gpt.E01",
        "ws01-gpt.vhdx",
        "fileserver.raw",
        "ws02-mbr.001",
        "share",
    ];
    roots.extend(zips.iter().map(String::as_str));
    for root in roots {
        let out = Command::new(env!("CARGO_BIN_EXE_rmsweep"))
            .args(["scan", evidence.join(root).to_str().unwrap()])
            .args([
                "--index",
                index.to_str().unwrap(),
                "--label",
                root,
                "--quiet",
            ])
            .output()
            .unwrap();
        // ws01 holds three files that cannot be read (two NTFS-compressed,
        // one not XrML), WS05's are encrypted and WS06 is cut short: exit 2,
        // all else read.
        let partial = ["ws01", "Collection-WS05", "Collection-WS06"];
        let want = if partial.iter().any(|p| root.starts_with(p)) {
            2
        } else {
            0
        };
        assert_eq!(
            out.status.code(),
            Some(want),
            "{root}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(before, snapshot(&evidence), "a scan changed the evidence");
}

#[test]
fn ctrl_c_commits_what_was_read_and_exits_130() {
    let tmp = tempfile::tempdir().unwrap();
    let volume = tmp.path().join("host1");
    write_volume(
        &volume,
        &VolumeSpec {
            profiles: 300,
            euls_per_profile: 8,
            noise_files_per_profile: 0,
            msdrm_every: 0,
            decoys: false,
            real_template: false,
            ..VolumeSpec::sample()
        },
    )
    .unwrap();
    let index = tmp.path().join("index");
    let child = Command::new(env!("CARGO_BIN_EXE_rmsweep"))
        .args([
            "scan",
            volume.to_str().unwrap(),
            "--index",
            index.to_str().unwrap(),
            "--threads",
            "1",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the scan is under way (the index exists before files are read).
    let started = std::time::Instant::now();
    while !index.join("rmsweep-index.json").exists()
        && started.elapsed() < std::time::Duration::from_secs(60)
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: kill(2) of our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: the ") && stderr.contains("run the same command again"),
        "{stderr}"
    );
    let exported = Command::new(env!("CARGO_BIN_EXE_rmsweep"))
        .args([
            "export",
            "--index",
            index.to_str().unwrap(),
            "--format",
            "jsonl",
        ])
        .output()
        .unwrap();
    let committed = String::from_utf8_lossy(&exported.stdout).lines().count();
    let said: usize = stderr
        .split("interrupted: the ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(committed, said);
    assert!(committed > 0);
    // The next scan completes it.
    let done = Command::new(env!("CARGO_BIN_EXE_rmsweep"))
        .args([
            "scan",
            volume.to_str().unwrap(),
            "--index",
            index.to_str().unwrap(),
            "--quiet",
        ])
        .status()
        .unwrap();
    assert_eq!(done.code(), Some(0));
    let total = Command::new(env!("CARGO_BIN_EXE_rmsweep"))
        .args([
            "export",
            "--index",
            index.to_str().unwrap(),
            "--format",
            "jsonl",
        ])
        .output()
        .unwrap();
    // 300 profiles × (2 machine certs, RAC, CLC, 8 EULs, 4 templates), 75 Woodgrove templates, 8 server-mode files.
    assert_eq!(
        String::from_utf8_lossy(&total.stdout).lines().count(),
        300 * 16 + 75 + 8
    );
}

/// Runs `f` with a tmpfs of `kib` KiB mounted at a fresh folder. As root the
/// mount must work (CI runs as root, so this test cannot pass vacuously
/// there); as another user the test says so and does nothing.
fn with_tmpfs(kib: usize, f: impl FnOnce(&std::path::Path)) {
    if !sandbox::is_root() {
        eprintln!("not root: cannot mount a tmpfs to fill; full-disk test not run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    sandbox::with_tmpfs(dir.path(), kib, f);
}

fn export_count(index: &Path) -> usize {
    let out = Command::new(env!("CARGO_BIN_EXE_rmsweep"))
        .args([
            "export",
            "--index",
            index.to_str().unwrap(),
            "--format",
            "jsonl",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().count()
}

#[test]
fn a_full_disk_or_read_only_index_fails_clearly_and_keeps_the_last_commit() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sample-volume");
    let big = tempfile::tempdir().unwrap();
    write_volume(
        big.path(),
        &VolumeSpec {
            profiles: 40,
            euls_per_profile: 20,
            ..VolumeSpec::sample()
        },
    )
    .unwrap();
    with_tmpfs(4096, |mnt| {
        let index = mnt.join("idx");
        let scan = |root: &Path, label: &str| {
            Command::new(env!("CARGO_BIN_EXE_rmsweep"))
                .args([
                    "scan",
                    root.to_str().unwrap(),
                    "--index",
                    index.to_str().unwrap(),
                    "--label",
                    label,
                    "--quiet",
                ])
                .output()
                .unwrap()
        };
        assert_eq!(scan(&sample, "first").status.code(), Some(0));
        assert_eq!(export_count(&index), 79);
        // Fill the rest of the disk.
        let mut filler = std::fs::File::create(mnt.join("filler")).unwrap();
        let block = vec![0u8; 64 * 1024];
        while std::io::Write::write_all(&mut filler, &block).is_ok() {}
        drop(filler);
        let out = scan(big.path(), "second");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let msg = String::from_utf8_lossy(&out.stderr);
        assert!(
            msg.contains("cannot write to the index")
                && msg.contains("still holds its last commit"),
            "{msg}"
        );
        // The previous commit is intact.
        std::fs::remove_file(mnt.join("filler")).unwrap();
        assert_eq!(export_count(&index), 79);
        // Read-only: refused at once, clearly, nothing lost.
        sandbox::remount_read_only(mnt);
        let out = scan(&sample, "first");
        assert_eq!(out.status.code(), Some(1));
        let msg = String::from_utf8_lossy(&out.stderr);
        assert!(
            msg.contains("cannot write to the index") && msg.contains("Read-only file system"),
            "{msg}"
        );
        // An index on read-only media can still be queried.
        assert_eq!(export_count(&index), 79);
    });
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap()
}

#[test]
fn folders_that_cannot_be_listed_are_reported_and_the_rest_is_read() {
    // As root, permissions do not bite: the scan runs as `nobody` then.
    let tmp = tempfile::tempdir().unwrap();
    set_mode(tmp.path(), 0o755);
    let vol = tmp.path().join("vol");
    let m = write_volume(&vol, &VolumeSpec::sample()).unwrap();
    let store = vol.join("Users/carol.CONTOSO/AppData/Local/Microsoft/MSIPC/Templates");
    let profile = vol.join("Users/frank");
    let under = |dir: &Path| {
        let rel = dir
            .strip_prefix(&vol)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
            + "/";
        m.count(|f| f.rel_path.starts_with(&rel))
    };
    let (lost_in_store, lost_in_profile) = (under(&store), under(&profile));
    assert!(lost_in_store > 0 && lost_in_profile > 0);
    set_mode(&store, 0o000);
    set_mode(&profile, 0o000);
    let bin = Path::new(env!("CARGO_BIN_EXE_rmsweep"));
    let out = sandbox::unprivileged(bin, tmp.path())
        .args(["scan", vol.to_str().unwrap(), "--jsonl", "-"])
        .output()
        .unwrap();
    set_mode(&store, 0o755);
    set_mode(&profile, 0o755);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let records: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Everything else was read; the store folder is a record with its error.
    assert_eq!(
        records.len(),
        m.files.len() - lost_in_store - lost_in_profile + 1
    );
    let errors: Vec<&serde_json::Value> =
        records.iter().filter(|r| r["error"].is_string()).collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["path"], store.to_str().unwrap());
    assert_eq!(
        errors[0]["error"],
        "cannot list this store folder: Permission denied (os error 13)"
    );
    // The profile folder (which may hold stores) is named on stderr.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: cannot list: Permission denied",
            profile.display()
        )),
        "{stderr}"
    );
}

#[test]
fn a_rescan_keeps_records_it_cannot_list_or_name_in_utf8() {
    // Re-scans remove the records of files gone from the volume; a file is
    // not gone because its folder could not be listed this time, nor because
    // its name is not UTF-8 (records carry such paths lossily).
    let tmp = tempfile::tempdir().unwrap();
    set_mode(tmp.path(), 0o755);
    let vol = tmp.path().join("vol");
    rmsweep_fixtures::write_adversarial(&vol, 6).unwrap();
    write_volume(&vol, &VolumeSpec::sample()).unwrap();
    let index = tmp.path().join("idx");
    let scan = |unprivileged: bool| {
        let bin = Path::new(env!("CARGO_BIN_EXE_rmsweep"));
        let mut cmd = if unprivileged {
            sandbox::unprivileged(bin, tmp.path())
        } else {
            Command::new(bin)
        };
        cmd.args([
            "scan",
            vol.to_str().unwrap(),
            "--index",
            index.to_str().unwrap(),
        ]);
        cmd.output().unwrap()
    };
    let first = scan(false);
    assert_eq!(first.status.code(), Some(2), "{first:?}"); // the hostile files
    let before = export_count(&index);
    let again = scan(false);
    let summary = String::from_utf8_lossy(&again.stderr);
    assert!(summary.contains(", 0 removed)"), "{summary}");
    assert_eq!(export_count(&index), before);

    let store = vol.join("Users/carol.CONTOSO/AppData/Local/Microsoft/MSIPC/Templates");
    set_mode(&store, 0o000);
    if sandbox::is_root() {
        let st = Command::new("chown")
            .args(["-R", "65534:65534", index.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(st.success());
    }
    let third = scan(true);
    set_mode(&store, 0o755);
    let summary = String::from_utf8_lossy(&third.stderr);
    assert_eq!(third.status.code(), Some(2), "{summary}");
    assert!(summary.contains(", 0 removed)"), "{summary}");
    // The folder's error record is added; its files' records stay.
    assert_eq!(export_count(&index), before + 1);
}
