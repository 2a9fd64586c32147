//! Operator slips and hostile names: outputs pointed into the evidence, an
//! index folder's mode, a reader that goes away, folders too deep to read,
//! names that would split lines or drive the terminal, absurd options.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::{exit, jsonl, rmsweep};

fn sample() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/sample-volume")
        .to_string_lossy()
        .into_owned()
}

fn template() -> Vec<u8> {
    std::fs::read(Path::new(&sample()).join(
        "ProgramData/Microsoft/MSIPC/Server/S-1-5-20/11ebe8a3-93ab-46f6-a357-85a64d74f959.xml",
    ))
    .unwrap()
}

/// A copy of a small store tree to scan: one profile with one template.
fn volume(root: &Path) -> std::path::PathBuf {
    let store = root.join("host3/Users/amy/AppData/Local/Microsoft/MSIPC/Templates");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::write(store.join("t.xml"), template()).unwrap();
    root.join("host3")
}

#[test]
fn outputs_inside_the_evidence_are_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let vol = volume(tmp.path());
    let target = vol.join("Users/amy/AppData/Local/Microsoft/MSIPC/Templates/t.xml");
    let before = std::fs::read(&target).unwrap();
    let v = vol.to_str().unwrap();
    let out = rmsweep(&["scan", v, "--jsonl", target.to_str().unwrap()]);
    let err = exit(&out, 1);
    assert!(
        err.contains("--jsonl points inside the scanned evidence"),
        "{err}"
    );
    assert_eq!(std::fs::read(&target).unwrap(), before);
    // Through a link to the evidence, and for the index.
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&vol, &link).unwrap();
    let idx = link.join("Users/case-index");
    let out = rmsweep(&["scan", v, "--index", idx.to_str().unwrap()]);
    let err = exit(&out, 1);
    assert!(
        err.contains("--index points inside the scanned evidence"),
        "{err}"
    );
    assert!(!vol.join("Users/case-index").exists());
    let names: Vec<_> = std::fs::read_dir(vol.join("Users")).unwrap().collect();
    assert_eq!(names.len(), 1, "something was created in the evidence");
}

#[test]
fn an_existing_empty_index_folder_keeps_its_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let vol = volume(tmp.path());
    let idx = tmp.path().join("case");
    std::fs::create_dir(&idx).unwrap();
    std::fs::set_permissions(&idx, std::fs::Permissions::from_mode(0o700)).unwrap();
    let owner = std::fs::metadata(&idx).unwrap().uid();
    let out = rmsweep(&[
        "scan",
        vol.to_str().unwrap(),
        "--index",
        idx.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = std::fs::metadata(&idx).unwrap();
    assert_eq!((m.mode() & 0o7777, m.uid()), (0o700, owner));
    assert!(idx.join("rmsweep-index.json").exists());
}

#[test]
fn a_reader_that_goes_away_stops_the_scan_with_a_message_and_no_zero_exit() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rmsweep"))
        .args([
            "scan",
            &sample(),
            "--index",
            idx.to_str().unwrap(),
            "--jsonl",
            "-",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("{\"path\""));
    // The reader is gone (the pipe's read end is closed).
    let out = child.wait_with_output().unwrap();
    let err = exit(&out, 141);
    assert!(
        err.contains("standard output was closed before the scan finished"),
        "{err}"
    );
    assert!(err.contains("run the scan again to finish it"), "{err}");
}

#[test]
fn folders_too_deep_in_a_template_store_are_named_not_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let vol = volume(tmp.path());
    let deep = vol.join("Users/amy/AppData/Local/Microsoft/MSIPC/Templates/a/b/c/d/e");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("t.xml"), template()).unwrap();
    let out = rmsweep(&["scan", vol.to_str().unwrap(), "--jsonl", "-", "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    let rows = jsonl(&out);
    assert_eq!(rows.len(), 2);
    let named = rows.iter().find(|r| !r["error"].is_null()).unwrap();
    assert!(named["path"]
        .as_str()
        .unwrap()
        .ends_with("Templates/a/b/c/d/e"));
    assert_eq!(
        named["error"],
        "a folder more than 4 levels below its template store: not read"
    );
}

#[test]
fn line_output_never_carries_raw_control_characters() {
    let tmp = tempfile::tempdir().unwrap();
    let vol = volume(tmp.path());
    let store = vol.join("Users/amy/AppData/Local/Microsoft/MSIPC/Templates");
    std::fs::write(store.join("evil\n\u{1b}]0;pwned\u{7}.xml"), b"x").unwrap();
    let out = rmsweep(&["scan", vol.to_str().unwrap(), "--dry-run", "--quiet"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(
        stdout.contains("evil\\x0a\\x1b]0;pwned\\x07.xml"),
        "{stdout}"
    );
    assert!(!stdout
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t'));
}

#[test]
fn absurd_options_and_damaged_index_metadata_are_refused_with_reasons() {
    for (flag, value) in [
        ("--threads", "0"),
        ("--threads", "100000"),
        ("--commit-every", "0"),
    ] {
        let out = rmsweep(&["scan", &sample(), flag, value, "--jsonl", "/dev/null"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(
            err.contains(&format!("invalid value '{value}' for '{flag}")),
            "{err}"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let i = idx.to_str().unwrap();
    assert!(rmsweep(&["scan", &sample(), "--index", i, "--quiet"])
        .status
        .success());
    std::fs::write(idx.join("rmsweep-index.json"), b"\x00garbage").unwrap();
    let out = rmsweep(&["templates", "--index", i]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("rmsweep-index.json is damaged"), "{err}");
}

#[test]
fn a_damaged_index_is_named_never_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let i = idx.to_str().unwrap();
    assert!(rmsweep(&["scan", &sample(), "--index", i, "--quiet"])
        .status
        .success());
    // The first half of every segment's fast fields zeroed.
    let fast: Vec<_> = std::fs::read_dir(&idx)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "fast"))
        .collect();
    assert!(!fast.is_empty());
    for f in fast {
        let mut bytes = std::fs::read(&f).unwrap();
        let n = bytes.len() / 2;
        bytes[..n].fill(0);
        std::fs::write(&f, bytes).unwrap();
    }
    let mut named = 0;
    for cmd in ["templates", "issuers", "export"] {
        let out = rmsweep(&[cmd, "--index", i, "--format", "jsonl"]);
        named += usize::from(out.status.code() == Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        // What does not touch the damaged bytes may still answer; anything
        // that does fails with a message, never a panic (exit 101).
        match out.status.code() {
            Some(0) => assert!(err.is_empty(), "{cmd}: {err}"),
            Some(1) => assert!(err.contains("may be damaged: rebuild it"), "{cmd}: {err}"),
            other => panic!("{cmd}: exit {other:?}: {err}"),
        }
        assert!(!err.contains("panicked"), "{cmd}: {err}");
    }
    assert!(named > 0, "no command noticed the damage");
}

#[test]
fn a_sparse_100_gb_store_file_is_a_record_never_an_allocation() {
    let tmp = tempfile::tempdir().unwrap();
    let vol = volume(tmp.path());
    let f = vol.join("Users/amy/AppData/Local/Microsoft/MSIPC/EUL-huge.drm");
    std::fs::File::create(&f)
        .unwrap()
        .set_len(100 * 1024 * 1024 * 1024)
        .unwrap();
    let out = rmsweep(&["scan", vol.to_str().unwrap(), "--jsonl", "-", "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    let rows = jsonl(&out);
    let huge = rows
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("EUL-huge.drm"))
        .unwrap();
    assert_eq!(huge["size"], 107374182400u64);
    assert!(
        huge["error"]
            .as_str()
            .unwrap()
            .contains("over the largest size rmsweep reads"),
        "{huge}"
    );
    // Asking for it anyway is refused before anything is read.
    let out = rmsweep(&[
        "scan",
        vol.to_str().unwrap(),
        "--jsonl",
        "-",
        "--max-file-size",
        "107374182400",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("invalid value '107374182400' for '--max-file-size"));
}

#[test]
fn an_output_file_that_cannot_be_made_leaves_no_index() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let jsonl = tmp.path().join("no-such-folder/out.jsonl");
    let out = rmsweep(&[
        "scan",
        &sample(),
        "--index",
        idx.to_str().unwrap(),
        "--jsonl",
        jsonl.to_str().unwrap(),
    ]);
    let err = exit(&out, 1);
    assert!(err.contains("cannot create the output file"), "{err}");
    assert!(
        !idx.exists(),
        "an index was created for a run that never started"
    );
}

#[test]
fn two_scans_creating_one_new_index_at_once_both_finish() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let i = idx.to_str().unwrap().to_string();
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_rmsweep"))
            .args(["scan", &sample(), "--index", &i, "--quiet"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        // One writes; the other finds the index and either writes after it
        // or is told plainly that another rmsweep is writing.
        assert!(
            out.status.success() || err.contains("another rmsweep is writing to this index"),
            "{err}"
        );
        assert!(!err.contains("os error 39"), "{err}");
    }
    assert!(idx.join("rmsweep-index.json").exists());
}

#[test]
fn an_unchanged_rescan_reads_again_what_could_not_be_read() {
    let tmp = tempfile::tempdir().unwrap();
    let vol = volume(tmp.path());
    let idx = tmp.path().join("idx");
    let (v, i) = (vol.to_str().unwrap(), idx.to_str().unwrap());
    // The first scan cannot read the template (over a tiny cap): an error record.
    let out = rmsweep(&["scan", v, "--index", i, "--max-file-size", "10", "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    // Nothing changed on disk, but the error is not kept as if it were a result.
    let out = rmsweep(&["scan", v, "--index", i]);
    let err = exit(&out, 0);
    assert!(
        err.contains("files:    1 read (template 1); 0 unchanged"),
        "{err}"
    );
    let rows = rmsweep(&["export", "--index", i, "--format", "jsonl"]);
    let rows = jsonl(&rows);
    assert_eq!(rows.len(), 1);
    assert!(rows[0]["error"].is_null(), "{}", rows[0]);
    assert_eq!(rows[0]["kind"], "template");
}

#[test]
fn a_report_is_never_written_inside_the_evidence_the_index_was_made_from() {
    let tmp = tempfile::tempdir().unwrap();
    let vol = volume(tmp.path());
    let idx = tmp.path().join("idx");
    let i = idx.to_str().unwrap();
    assert!(
        rmsweep(&["scan", vol.to_str().unwrap(), "--index", i, "--quiet"])
            .status
            .success()
    );
    let inside = vol.join("Users/amy/report.html");
    let out = rmsweep(&["report", "--index", i, "--out", inside.to_str().unwrap()]);
    let err = exit(&out, 1);
    assert!(
        err.contains("--out points inside the scanned evidence"),
        "{err}"
    );
    assert!(!inside.exists());
    let beside = tmp.path().join("report.html");
    let out = rmsweep(&["report", "--index", i, "--out", beside.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_empty_mount_point_as_the_index_is_named() {
    if !rmsweep_fixtures::sandbox::is_root() {
        eprintln!("not root: cannot mount a tmpfs; mount-point test not run");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("usb");
    std::fs::create_dir(&mnt).unwrap();
    rmsweep_fixtures::sandbox::with_tmpfs(&mnt, 1024, |mnt| {
        let out = rmsweep(&[
            "scan",
            &sample(),
            "--index",
            mnt.to_str().unwrap(),
            "--quiet",
        ]);
        let err = exit(&out, 1);
        assert!(
            err.contains("a mount point (or a folder in use) cannot be replaced"),
            "{err}"
        );
        assert!(err.contains("/rmsweep-index"), "{err}");
    });
}
