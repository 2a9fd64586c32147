//! Evidence as examiners hold it, each layout built by the test itself:
//! triage collections, service-account profiles, old Windows, XP, partial
//! copies, several hosts at one mount point, and runs that must leave
//! nothing behind.

use std::collections::BTreeMap;
use std::path::Path;

mod common;
use common::{exit, jsonl, rmsweep};

use rmsweep_fixtures::{write_volume, VolumeSpec};
use serde_json::Value;

fn sample(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/sample-volume")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn machine_cert() -> Vec<u8> {
    sample("Users/bob.V6/AppData/Local/Microsoft/MSIPC/CERT-Machine.drm")
}

fn template() -> Vec<u8> {
    sample("ProgramData/Microsoft/MSIPC/Server/S-1-5-20/11ebe8a3-93ab-46f6-a357-85a64d74f959.xml")
}

/// Writes `bytes` at `root/rel`, creating folders.
fn put(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// `scan ROOT… --jsonl - --quiet EXTRA…`: the records, sorted by volume path.
fn records(roots: &[&Path], extra: &[&str]) -> Vec<Value> {
    let mut args: Vec<&str> = vec!["scan"];
    args.extend(roots.iter().map(|r| r.to_str().unwrap()));
    args.extend_from_slice(&["--jsonl", "-", "--quiet"]);
    args.extend_from_slice(extra);
    let out = rmsweep(&args);
    exit(&out, 0);
    let mut v = jsonl(&out);
    v.sort_by_key(|r| {
        (
            r["label"].to_string(),
            r["drive"].to_string(),
            r["volume_path"].to_string(),
        )
    });
    v
}

/// (label, drive, volume_path, profile, sid) of each record.
fn provenance(rs: &[Value]) -> Vec<(String, String, String, String, String)> {
    let s = |v: &Value| v.as_str().unwrap_or("-").to_string();
    rs.iter()
        .map(|r| {
            (
                s(&r["label"]),
                s(&r["drive"]),
                s(&r["volume_path"]),
                s(&r["profile"]),
                s(&r["sid"]),
            )
        })
        .collect()
}

fn row(
    label: &str,
    drive: &str,
    path: &str,
    profile: &str,
    sid: &str,
) -> (String, String, String, String, String) {
    (
        label.into(),
        drive.into(),
        path.into(),
        profile.into(),
        sid.into(),
    )
}

#[test]
fn a_kape_collection_is_one_host_with_its_drives_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let kape = tmp.path().join("WS01");
    put(
        &kape,
        "C/Users/alice/AppData/Local/Microsoft/MSIPC/CERT-Machine.drm",
        &machine_cert(),
    );
    put(&kape, "C/Windows/System32/notepad.exe", b"MZ");
    put(
        &kape,
        "D/ProgramData/Microsoft/MSIPC/Server/S-1-5-20/t.xml",
        &template(),
    );
    put(
        &kape,
        "D/Users/bob/AppData/Local/Microsoft/MSIPC/Templates/t.xml",
        &template(),
    );
    put(&kape, "E/$MFT", b"not a volume layout");
    let rs = records(&[&kape], &[]);
    assert_eq!(
        provenance(&rs),
        vec![
            row(
                "WS01",
                "C:",
                r"\Users\alice\AppData\Local\Microsoft\MSIPC\CERT-Machine.drm",
                "alice",
                "-"
            ),
            row(
                "WS01",
                "D:",
                r"\ProgramData\Microsoft\MSIPC\Server\S-1-5-20\t.xml",
                "-",
                "S-1-5-20"
            ),
            row(
                "WS01",
                "D:",
                r"\Users\bob\AppData\Local\Microsoft\MSIPC\Templates\t.xml",
                "bob",
                "-"
            ),
        ]
    );
    assert!(rs[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("WS01/C/Users/alice/AppData/Local/Microsoft/MSIPC/CERT-Machine.drm"));
}

#[test]
fn a_velociraptor_collection_decodes_names_and_takes_its_host_name() {
    let tmp = tempfile::tempdir().unwrap();
    let col = tmp
        .path()
        .join("Collection-WS02.contoso.local-2026-01-02T03_04_05Z");
    put(
        &col,
        "uploads/auto/C%3A/Users/alice%20smith/AppData/Local/Microsoft/MSIPC/CERT-Machine.drm",
        &machine_cert(),
    );
    put(
        &col,
        "uploads/ntfs/%5C%5C.%5CC%3A/ProgramData/Microsoft/MSIPC/Server/S-1-5-18/t.xml",
        &template(),
    );
    put(&col, "results/Custom.Windows.RightsManagement.json", b"");
    let rs = records(&[&col], &[]);
    assert_eq!(
        provenance(&rs),
        vec![
            row(
                "WS02.contoso.local",
                "C:",
                r"\ProgramData\Microsoft\MSIPC\Server\S-1-5-18\t.xml",
                "-",
                "S-1-5-18"
            ),
            row(
                "WS02.contoso.local",
                "C:",
                r"\Users\alice smith\AppData\Local\Microsoft\MSIPC\CERT-Machine.drm",
                "alice smith",
                "-"
            ),
        ]
    );
    // The collection's own metadata names the host, when it is there.
    put(
        &col,
        "client_info.json",
        br#"{"ClientId":"C.1234","Hostname":"WS02","Fqdn":"WS02.contoso.local"}"#,
    );
    let rs = records(&[&col], &[]);
    assert!(rs.iter().all(|r| r["label"] == "WS02"), "{rs:?}");
}

#[test]
fn service_profiles_old_windows_and_xp_stores_are_found_without_deep() {
    let tmp = tempfile::tempdir().unwrap();
    let vol = tmp.path().join("srv01");
    let c = machine_cert();
    put(
        &vol,
        "Windows/System32/config/systemprofile/AppData/Local/Microsoft/MSIPC/CERT-Machine.drm",
        &c,
    );
    put(
        &vol,
        "Windows/SysWOW64/config/systemprofile/AppData/Local/Microsoft/MSIPC/CERT-Machine.drm",
        &c,
    );
    put(
        &vol,
        "Windows/ServiceProfiles/NetworkService/AppData/Local/Microsoft/MSIPC/CERT-Machine.drm",
        &c,
    );
    put(
        &vol,
        "Windows/ServiceProfiles/LocalService/AppData/Local/Microsoft/MSIPC/CERT-Machine.drm",
        &c,
    );
    put(
        &vol,
        "Windows.old/ProgramData/Microsoft/MSIPC/Server/S-1-5-20/t.xml",
        &template(),
    );
    put(
        &vol,
        "Documents and Settings/All Users/Application Data/Microsoft/MSIPC/Server/S-1-5-19/t.xml",
        &template(),
    );
    put(&vol, "Documents and Settings/olduser/Local Settings/Application Data/Microsoft/DRM/CERT-Machine.drm", &c);
    let rs = records(&[&vol], &[]);
    let l = "srv01";
    assert_eq!(
        provenance(&rs),
        vec![
            row(
                l,
                "-",
                r"\Documents and Settings\All Users\Application Data\Microsoft\MSIPC\Server\S-1-5-19\t.xml",
                "-",
                "S-1-5-19"
            ),
            row(
                l,
                "-",
                r"\Documents and Settings\olduser\Local Settings\Application Data\Microsoft\DRM\CERT-Machine.drm",
                "olduser",
                "-"
            ),
            row(
                l,
                "-",
                r"\Windows.old\ProgramData\Microsoft\MSIPC\Server\S-1-5-20\t.xml",
                "-",
                "S-1-5-20"
            ),
            row(
                l,
                "-",
                r"\Windows\ServiceProfiles\LocalService\AppData\Local\Microsoft\MSIPC\CERT-Machine.drm",
                "LocalService",
                "S-1-5-19"
            ),
            row(
                l,
                "-",
                r"\Windows\ServiceProfiles\NetworkService\AppData\Local\Microsoft\MSIPC\CERT-Machine.drm",
                "NetworkService",
                "S-1-5-20"
            ),
            row(
                l,
                "-",
                r"\Windows\SysWOW64\config\systemprofile\AppData\Local\Microsoft\MSIPC\CERT-Machine.drm",
                "systemprofile",
                "S-1-5-18"
            ),
            row(
                l,
                "-",
                r"\Windows\System32\config\systemprofile\AppData\Local\Microsoft\MSIPC\CERT-Machine.drm",
                "systemprofile",
                "S-1-5-18"
            ),
        ]
    );
    // XP's profile folder as the root, labelled explicitly.
    let xp = records(
        &[&vol.join("Documents and Settings")],
        &["--label", "srv01"],
    );
    assert_eq!(xp.len(), 2);
    assert_eq!(provenance(&xp)[1], provenance(&rs)[1]);
}

#[test]
fn partial_copies_are_recognised_by_their_names() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("case7");
    put(
        &case,
        "alice/AppData/Local/Microsoft/MSIPC/CERT-Machine.drm",
        &machine_cert(),
    );
    put(
        &case,
        "alice/AppData/Roaming/Microsoft/DRM/Templates/t.xml",
        &template(),
    );
    put(
        &case,
        "ProgramData/Microsoft/MSIPC/Server/S-1-5-20/t.xml",
        &template(),
    );
    put(&case, "MSIPC/Server/Templates/S-1-5-18/t.xml", &template());
    let cases: [(&str, usize, &str); 5] = [
        (
            "alice/AppData",
            2,
            r"\Users\alice\AppData\Local\Microsoft\MSIPC\CERT-Machine.drm",
        ),
        (
            "alice/AppData/Local",
            1,
            r"\Users\alice\AppData\Local\Microsoft\MSIPC\CERT-Machine.drm",
        ),
        (
            "alice/AppData/Local/Microsoft/MSIPC",
            1,
            r"\Users\alice\AppData\Local\Microsoft\MSIPC\CERT-Machine.drm",
        ),
        (
            "ProgramData",
            1,
            r"\ProgramData\Microsoft\MSIPC\Server\S-1-5-20\t.xml",
        ),
        (
            "MSIPC/Server",
            1,
            r"\ProgramData\Microsoft\MSIPC\Server\Templates\S-1-5-18\t.xml",
        ),
    ];
    for (rel, n, first) in cases {
        let rs = records(&[&case.join(rel)], &["--label", "case7"]);
        assert_eq!(rs.len(), n, "{rel}");
        assert_eq!(rs[0]["volume_path"], first, "{rel}");
    }
}

fn export(index: &Path) -> Vec<Value> {
    let out = rmsweep(&[
        "export",
        "--index",
        index.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    exit(&out, 0);
    jsonl(&out)
}

fn labels(rs: &[Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in rs {
        *m.entry(r["label"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    m
}

fn small(seed: u64) -> VolumeSpec {
    VolumeSpec {
        seed,
        profiles: 2,
        euls_per_profile: 1,
        templates_per_profile: 1,
        noise_files_per_profile: 0,
        server_stores: false,
        msdrm_every: 0,
        mixed_case_every: 0,
        windows_old_profiles: 0,
        decoys: false,
        set_times: false,
        real_template: false,
    }
}

#[test]
fn a_second_host_at_the_same_mount_point_never_erases_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let mount = tmp.path().join("windows");
    let index = tmp.path().join("case");
    let (m, i) = (mount.to_str().unwrap(), index.to_str().unwrap());
    let a = write_volume(&mount, &small(1)).unwrap();
    assert!(rmsweep(&["scan", m, "--index", i, "--quiet"])
        .status
        .success());
    let before = export(&index);
    assert_eq!(
        labels(&before),
        BTreeMap::from([("windows".to_string(), a.files.len())])
    );
    let meta = std::fs::read(index.join("meta.json")).unwrap();
    // Host B mounted where host A was.
    std::fs::remove_dir_all(&mount).unwrap();
    let b = write_volume(&mount, &small(2)).unwrap();
    let out = rmsweep(&["scan", m, "--index", i]);
    let err = exit(&out, 1);
    assert!(
        err.contains("label \"windows\" holds another host"),
        "{err}"
    );
    assert!(
        err.contains("Nothing was changed") && err.contains("--label HOST"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(index.join("meta.json")).unwrap(),
        meta,
        "the index changed"
    );
    assert_eq!(export(&index), before);
    // Under its own label, both hosts stay.
    assert!(
        rmsweep(&["scan", m, "--index", i, "--label", "hostB", "--quiet"])
            .status
            .success()
    );
    assert_eq!(
        labels(&export(&index)),
        BTreeMap::from([
            ("hostB".to_string(), b.files.len()),
            ("windows".to_string(), a.files.len())
        ])
    );
    // --replace says the label's host has changed: its records become B's
    // (also when every file is read again and JSON lines are written too).
    assert!(rmsweep(&[
        "scan",
        m,
        "--index",
        i,
        "--replace",
        "--full",
        "--jsonl",
        "/dev/null",
        "--quiet"
    ])
    .status
    .success());
    assert_eq!(
        labels(&export(&index)),
        BTreeMap::from([
            ("hostB".to_string(), b.files.len()),
            ("windows".to_string(), b.files.len())
        ])
    );
}

#[test]
fn drive_folders_of_two_hosts_get_two_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let c1 = tmp.path().join("HOST1/C");
    let c2 = tmp.path().join("HOST2/C");
    let n1 = write_volume(&c1, &small(1)).unwrap().files.len();
    let n2 = write_volume(&c2, &small(2)).unwrap().files.len();
    let rs = records(&[&c1, &c2], &[]);
    assert_eq!(
        labels(&rs),
        BTreeMap::from([("HOST1".to_string(), n1), ("HOST2".to_string(), n2)])
    );
    assert!(rs.iter().all(|r| r["drive"] == "C:"));
    // A drive or mount name alone identifies no host.
    let bare = tmp.path().join("media/mnt/c");
    write_volume(&bare, &small(3)).unwrap();
    let out = rmsweep(&["scan", bare.to_str().unwrap(), "--jsonl", "-"]);
    let err = exit(&out, 1);
    assert!(
        err.contains("cannot tell which host this is") && err.contains("--label HOST"),
        "{err}"
    );
}

#[test]
fn runs_that_never_start_leave_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("new-index");
    let i = index.to_str().unwrap();
    let missing = tmp.path().join("no-such-volume");
    let out = rmsweep(&["scan", missing.to_str().unwrap(), "--index", i]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read this root"));
    assert!(!index.exists(), "a mistyped root created the index");
    // An existing index keeps its history: no entry for a run that never started.
    let vol = tmp.path().join("host9");
    write_volume(&vol, &small(9)).unwrap();
    assert!(
        rmsweep(&["scan", vol.to_str().unwrap(), "--index", i, "--quiet"])
            .status
            .success()
    );
    let meta = std::fs::read(index.join("meta.json")).unwrap();
    let out = rmsweep(&["scan", missing.to_str().unwrap(), "--index", i]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(index.join("meta.json")).unwrap(), meta);
    // A file that is no disk image is told so.
    let file = tmp.path().join("loose/CERT-Machine.drm");
    put(file.parent().unwrap(), "CERT-Machine.drm", &machine_cert());
    let out = rmsweep(&["scan", file.to_str().unwrap(), "--jsonl", "-"]);
    let err = exit(&out, 1);
    assert!(
        err.contains("this file is not a disk image or collection rmsweep reads")
            && err.contains("rmsweep parse FILE")
            && !err.contains("--deep"),
        "{err}"
    );
    // --deep that finds nothing fails.
    let docs = tmp.path().join("docs");
    put(&docs, "a/b/report.docx", b"x");
    let out = rmsweep(&["scan", docs.to_str().unwrap(), "--deep", "--jsonl", "-"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--deep found no"));
    // A merge that cannot open a source creates no output.
    let merged = tmp.path().join("merged");
    let out = rmsweep(&[
        "merge",
        "--index",
        merged.to_str().unwrap(),
        i,
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!merged.exists(), "a failed merge created its output");
}
