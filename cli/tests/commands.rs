//! End-to-end: the `rmsweep` binary over generated volumes, asserting exact
//! rows for scan, templates, issuers, stale, foreign, search, export, merge,
//! incremental re-scans, concurrent scans, and a killed scan.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rmsweep_fixtures::{write_volume, VolumeSpec};
use serde_json::Value;

fn rmsweep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rmsweep"))
        .args(args)
        .output()
        .expect("run rmsweep")
}

/// `rmsweep scan VOLUME --index INDEX EXTRA…`.
fn scan(volume: &str, index: &str, extra: &[&str]) -> Output {
    let mut args = vec!["scan", volume, "--index", index];
    args.extend_from_slice(extra);
    rmsweep(&args)
}

fn ok_json(args: &[&str]) -> Vec<Value> {
    let out = rmsweep(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// 11 profiles so that issuer 0's first template appears in all three revisions.
fn spec() -> VolumeSpec {
    VolumeSpec {
        seed: 1,
        profiles: 11,
        euls_per_profile: 1,
        templates_per_profile: 4,
        noise_files_per_profile: 2,
        server_stores: true,
        msdrm_every: 0,
        mixed_case_every: 0,
        windows_old_profiles: 0,
        decoys: false,
        set_times: true,
        real_template: false,
    }
}

struct World {
    _tmp: tempfile::TempDir,
    volume: PathBuf,
    index: PathBuf,
}

fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let volume = tmp.path().join("host1");
    write_volume(&volume, &spec()).unwrap();
    let index = tmp.path().join("idx");
    let out = scan(
        volume.to_str().unwrap(),
        index.to_str().unwrap(),
        &["--quiet"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    World {
        _tmp: tmp,
        volume,
        index,
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn templates_inventory_has_exact_rows() {
    let w = world();
    let rows = ok_json(&["templates", "--index", s(&w.index), "--format", "jsonl"]);
    // 5 home issuers × 4 templates, plus the foreign Woodgrove template.
    assert_eq!(rows.len(), 21);
    let confidential = rows
        .iter()
        .find(|r| r["name"] == "CONTOSO-RMS - Confidential")
        .unwrap();
    assert_eq!(confidential["issuer_name"], "CONTOSO-RMS");
    assert_eq!(confidential["issuer_host"], "rms.contoso.com");
    // Profiles 0, 5, 10 and two service SIDs hold it, in three revisions.
    assert_eq!(confidential["profiles"], 5);
    assert_eq!(confidential["stores"], 5);
    assert_eq!(confidential["revisions"], 3);
    assert_eq!(confidential["hosts"], 1);
    assert_eq!(confidential["newest_issued"], "2025-05-02T09:12:00Z");
    let keys: Vec<&str> = confidential
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        vec![
            "template_id",
            "name",
            "issuer_name",
            "issuer_host",
            "stores",
            "profiles",
            "hosts",
            "revisions",
            "newest_issued",
            "oldest_modified",
            "newest_modified"
        ]
    );
    let foreign = rows
        .iter()
        .find(|r| r["issuer_name"] == "Woodgrove Bank")
        .unwrap();
    assert_eq!(
        (foreign["profiles"].as_u64(), foreign["stores"].as_u64()),
        (Some(3), Some(3))
    );
}

#[test]
fn issuers_have_exact_counts() {
    let w = world();
    let rows = ok_json(&["issuers", "--index", s(&w.index), "--format", "jsonl"]);
    let by = |name: &str| {
        rows.iter()
            .find(|r| r["issuer_name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let contoso = by("Contoso Ltd");
    assert_eq!(contoso["issuer_kind"], "azure_rms");
    assert_eq!(
        contoso["rms_service_id"],
        "3f2c7a10-5b1e-4c8e-9d2a-6e7f8a9b0c1d"
    );
    assert_eq!(contoso["region"], "eu");
    assert_eq!(contoso["tenant_id"], "b1e2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d");
    // Profiles 2 and 7: a RAC, a CLC and an EUL each; four templates.
    assert_eq!(
        (
            contoso["templates"].as_u64(),
            contoso["licenses"].as_u64(),
            contoso["profiles"].as_u64()
        ),
        (Some(4), Some(6), Some(2))
    );
    let onprem = by("CONTOSO-RMS");
    assert_eq!(onprem["issuer_kind"], "adrms");
    // Profiles 0, 5, 10 (3 licences each) and the S-1-5-20 service account (RAC, CLC).
    assert_eq!(
        (
            onprem["templates"].as_u64(),
            onprem["licenses"].as_u64(),
            onprem["profiles"].as_u64()
        ),
        (Some(4), Some(11), Some(5))
    );
    assert_eq!(by("Tailspin Federal")["issuer_kind"], "azure_rms_gov");
    assert_eq!(
        by("Microsoft DRM Production Desktop Security Processor Activation Certificate")
            ["issuer_kind"],
        "microsoft_ca"
    );
}

#[test]
fn stale_reasons_are_exact() {
    let w = world();
    let rows = ok_json(&[
        "stale",
        "--index",
        s(&w.index),
        "--as-of",
        "2025-06-01",
        "--older-than",
        "30d",
        "--format",
        "jsonl",
    ]);
    let with = |reason: &str| {
        rows.iter()
            .filter(|r| r["reasons"].as_array().unwrap().iter().any(|x| x == reason))
            .count()
    };
    // Profile 6 stopped refreshing: its 4 managed templates are 60 days old.
    assert_eq!(with("not_refreshed"), 4);
    // Every issuer's first template has three revisions (profile i holds revision i % 3).
    // CONTOSO-RMS: revision 0 (profile 0, S-1-5-18) and 1 (profile 10) are older than
    // revision 2; each other issuer's two profiles hold two revisions: one superseded.
    assert_eq!(with("superseded"), 3 + 4);
    // Content expiry passed on every copy of the third template (11 profiles +
    // S-1-5-18), and profile 5's RAC and CLC expired 40 days before.
    assert_eq!(with("expired"), 14);
    // Profile 6's superseded and expired templates are also not refreshed.
    assert_eq!(rows.len(), 4 + 7 + 14 - 2);
    let rac = rows.iter().find(|r| r["kind"] == "rac").unwrap();
    assert_eq!(rac["profile"], "frank");
    assert_eq!(rac["reasons"], serde_json::json!(["expired"]));
    // A year earlier nothing had expired and nothing was old.
    let early = ok_json(&[
        "stale",
        "--index",
        s(&w.index),
        "--as-of",
        "2022-01-01",
        "--format",
        "jsonl",
    ]);
    assert!(
        early
            .iter()
            .all(|r| r["reasons"] == serde_json::json!(["superseded"])),
        "{early:#?}"
    );
}

#[test]
fn foreign_with_trust_by_domain_service_id_and_tenant() {
    let w = world();
    let rows = ok_json(&[
        "foreign",
        "--index",
        s(&w.index),
        "--format",
        "jsonl",
        "--trust",
        "contoso.com",
        "fabrikam.local",
        "3f2c7a10-5b1e-4c8e-9d2a-6e7f8a9b0c1d", // Contoso Ltd by RMS service ID
        "{C2D3E4F5-A6B7-4C8D-9E0F-1A2B3C4D5E6F}", // Northwind by tenant ID, braced, upper case
        "Tailspin Federal",                     // by exact issuer name
    ]);
    // Only the Woodgrove templates in UnmanagedTemplates (profiles 3 and 7, one service SID).
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["issuer_name"] == "Woodgrove Bank"
        && r["store_area"] == "unmanaged_templates"
        && r["reason"] == "untrusted_issuer"));
    // Without the service ID, Contoso Ltd's templates and licences are foreign too.
    let rows = ok_json(&[
        "foreign",
        "--index",
        s(&w.index),
        "--format",
        "jsonl",
        "--trust",
        "contoso.com",
        "fabrikam.local",
        "c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f",
        "Tailspin Federal",
    ]);
    assert_eq!(rows.len(), 3 + 2 * 4 + 2 * 3);
    // Machine certificates are never foreign.
    assert!(rows.iter().all(|r| r["kind"] != "machine_cert"));
    let out = rmsweep(&["foreign", "--index", s(&w.index)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--trust"));
}

#[test]
fn search_queries_and_bad_queries() {
    let w = world();
    let rows = ok_json(&[
        "search",
        "issuer_host:rms.contoso.com AND kind:template",
        "--index",
        s(&w.index),
        "--all",
        "--format",
        "jsonl",
    ]);
    // Profiles 0, 5, 10 (4 each) + S-1-5-20 (2) + S-1-5-18 (3).
    assert_eq!(rows.len(), 17);
    let paths: Vec<&str> = rows.iter().map(|r| r["path"].as_str().unwrap()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    assert_eq!(
        ok_json(&[
            "search",
            "template_names:woodgrove",
            "--index",
            s(&w.index),
            "--format",
            "jsonl"
        ])
        .len(),
        3
    );
    assert_eq!(
        ok_json(&[
            "search",
            "kind:rac AND valid_until:[* TO 2025-06-01T00:00:00Z]",
            "--index",
            s(&w.index),
            "--format",
            "jsonl"
        ])
        .len(),
        1
    );
    // Keyword fields match ignoring case; a GUID may keep its XrML braces.
    let count = |q: &str| {
        ok_json(&[
            "search",
            q,
            "--index",
            s(&w.index),
            "--all",
            "--format",
            "jsonl",
        ])
        .len()
    };
    assert_eq!(count("issuer_host:RMS.CONTOSO.COM AND kind:TEMPLATE"), 17);
    assert_eq!(count("kind:EUL"), 11);
    // Who holds a licence for this document: by content ID, as XrML writes it.
    let euls = ok_json(&[
        "search",
        "kind:eul",
        "--index",
        s(&w.index),
        "--all",
        "--format",
        "jsonl",
    ]);
    let cid = euls
        .iter()
        .find_map(|r| r["content_id"].as_str())
        .expect("an EUL with a content ID");
    let holders = ok_json(&[
        "search",
        &format!("content_id:\"{}\"", cid.to_uppercase()),
        "--index",
        s(&w.index),
        "--all",
        "--format",
        "jsonl",
    ]);
    let want = euls.iter().filter(|r| r["content_id"] == cid).count();
    assert_eq!(holders.len(), want);
    assert!(want > 0);
    let viewable = count("kind:template AND rights:VIEW");
    assert!(viewable > 0 && viewable <= count("kind:template"));
    let all = ok_json(&["export", "--index", s(&w.index), "--format", "jsonl"]);
    let dated = all.iter().filter(|r| !r["valid_from"].is_null()).count();
    assert!(dated > 0);
    assert_eq!(count("valid_from:[1900-01-01 TO 2100-01-01]"), dated);
    // A day without a time is midnight UTC.
    assert_eq!(count("kind:rac AND valid_until:[* TO 2025-06-01]"), 1);
    let tid = rows[0]["template_id"].as_str().unwrap().to_uppercase();
    let by_id = count(&format!("template_id:{{{tid}}}"));
    assert_eq!(by_id, count(&format!("template_id:{}", tid.to_lowercase())));
    assert!(by_id > 0);
    // A limited search says so; to a file or pipe every match is the default.
    let limited = rmsweep(&[
        "search",
        "kind:eul",
        "--index",
        s(&w.index),
        "--limit",
        "4",
        "--format",
        "jsonl",
    ]);
    assert_eq!(String::from_utf8_lossy(&limited.stdout).lines().count(), 4);
    assert_eq!(
        String::from_utf8_lossy(&limited.stderr),
        "rmsweep: 4 of 11 matching records shown: pass --all for every one (or --limit N)\n"
    );
    let csv = rmsweep(&[
        "search",
        "kind:eul",
        "--index",
        s(&w.index),
        "--format",
        "csv",
    ]);
    assert!(csv.status.success() && csv.stderr.is_empty());
    assert_eq!(String::from_utf8_lossy(&csv.stdout).lines().count(), 1 + 11);
    let bad = rmsweep(&["search", "nosuchfield:x", "--index", s(&w.index)]);
    assert_eq!(bad.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert!(
        msg.contains("nosuchfield") && msg.contains("Fields: "),
        "{msg}"
    );
    let bad = rmsweep(&["search", "kind:(template", "--index", s(&w.index)]);
    assert_eq!(bad.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert!(
        msg.starts_with("rmsweep: bad query \"kind:(template\": ")
            && msg.contains("(the `(` at character 6 is never closed). Examples: "),
        "{msg}"
    );
}

#[test]
fn incremental_rescan_adds_changes_and_deletes() {
    let w = world();
    let before = ok_json(&["export", "--index", s(&w.index), "--format", "jsonl"]);
    assert_eq!(before.len(), spec_files());
    let store = w.volume.join("Users/bob.V6/AppData/Local/Microsoft/MSIPC");
    // Add a template, change one, delete a licence.
    let tpl_dir = store.join("Templates");
    let first = std::fs::read_dir(&tpl_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();
    std::fs::copy(&first, tpl_dir.join("copy.xml")).unwrap();
    let mut bytes = std::fs::read(&first).unwrap();
    bytes.extend_from_slice(&[b' ', 0]);
    std::fs::write(&first, &bytes).unwrap();
    let gone = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("EUL-"))
        .unwrap();
    std::fs::remove_file(&gone).unwrap();
    let out = scan(s(&w.volume), s(&w.index), &[]);
    assert!(out.status.success());
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(summary.contains("files:    2 read"), "{summary}");
    assert!(
        summary.contains(&format!("{} unchanged", spec_files() - 2)),
        "{summary}"
    );
    assert!(summary.contains("1 removed"), "{summary}");
    let after = ok_json(&["export", "--index", s(&w.index), "--format", "jsonl"]);
    assert_eq!(after.len(), spec_files());
    assert!(after.iter().all(|r| r["path"] != gone.to_str().unwrap()));
    let changed = after
        .iter()
        .find(|r| r["path"] == first.to_str().unwrap())
        .unwrap();
    assert_eq!(changed["size"].as_u64(), Some(bytes.len() as u64));
    // `--full` re-reads everything and replaces each record, never adds a second.
    let full = scan(s(&w.volume), s(&w.index), &["--full", "--quiet"]);
    assert!(full.status.success());
    let refreshed = ok_json(&["export", "--index", s(&w.index), "--format", "jsonl"]);
    assert_eq!(strip_times(refreshed), strip_times(after.clone()));
    // A fresh scan into a new index gives the same records.
    let fresh = w.index.with_file_name("fresh");
    assert!(scan(s(&w.volume), s(&fresh), &["--quiet"]).status.success());
    assert_eq!(
        strip_times(ok_json(&[
            "export",
            "--index",
            s(&fresh),
            "--format",
            "jsonl"
        ])),
        strip_times(after)
    );
}

/// Files the spec writes: 11 profiles × (2 machine certs + RAC + CLC + EUL + 4
/// templates) + 3 Woodgrove templates in profiles 3 and 7 + 9 server-mode files less 2
/// (3 Woodgrove = 2 client + 1 server; server: RAC, CLC, 2 + 3 templates).
fn spec_files() -> usize {
    11 * 9 + 2 + (2 + 2 + 3 + 1)
}

/// Access times change when a file is read without O_NOATIME (not root's own files).
fn strip_times(rows: Vec<Value>) -> Vec<Value> {
    rows.into_iter()
        .map(|mut r| {
            r.as_object_mut().unwrap().remove("accessed");
            r
        })
        .collect()
}

#[test]
fn a_second_scan_on_the_same_index_fails_at_once() {
    let w = world();
    let idx = rmsweep_index::RmsIndex::open(&w.index).unwrap();
    let _held = rmsweep_index::IndexSession::start(
        &idx,
        1,
        rmsweep_index::history::Run::new("test", vec![], None),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = scan(s(&w.volume), s(&w.index), &[]);
    assert_eq!(out.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("another rmsweep is writing to this index"),
        "{msg}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn merge_two_hosts_into_one_index() {
    let a = world();
    let b = world();
    let out_dir = a.index.with_file_name("merged");
    let relabel = b.index.with_file_name("host2-idx");
    assert!(
        scan(s(&b.volume), s(&relabel), &["--label", "host2", "--quiet"])
            .status
            .success()
    );
    let out = rmsweep(&["merge", "--index", s(&out_dir), s(&a.index), s(&relabel)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged = ok_json(&["export", "--index", s(&out_dir), "--format", "jsonl"]);
    assert_eq!(merged.len(), 2 * spec_files());
    assert_eq!(
        merged.iter().filter(|r| r["label"] == "host1").count(),
        spec_files()
    );
    assert_eq!(
        merged.iter().filter(|r| r["label"] == "host2").count(),
        spec_files()
    );
    let inv = ok_json(&["templates", "--index", s(&out_dir), "--format", "jsonl"]);
    let c = inv
        .iter()
        .find(|r| r["name"] == "CONTOSO-RMS - Confidential")
        .unwrap();
    assert_eq!(c["profiles"], 10);
    // The new output was built aside and renamed into place: nothing is left beside it.
    let beside: Vec<String> = std::fs::read_dir(out_dir.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("merging") || n.contains("creating"))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}

#[test]
fn index_errors_say_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let out = rmsweep(&["templates", "--index", s(&missing)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `rmsweep scan ROOT --index"));
    std::fs::write(tmp.path().join("somefile"), b"x").unwrap();
    let out = rmsweep(&["templates", "--index", s(tmp.path())]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an rmsweep index"));
    let w = world();
    std::fs::write(
        w.index.join("rmsweep-index.json"),
        br#"{"format":"rmsweep-index","schema_version":999}"#,
    )
    .unwrap();
    let out = rmsweep(&["templates", "--index", s(&w.index)]);
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("schema version 999") && msg.contains("Rebuild it"),
        "{msg}"
    );
    let out = scan(s(tmp.path()), s(&tmp.path().join("i2")), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--deep"));
}

#[test]
fn csv_export_neutralises_formulas() {
    let tmp = tempfile::tempdir().unwrap();
    // The index lies beside the volume: never inside the evidence.
    let vol = tmp.path().join("vol");
    let store = vol.join("Users/mallory/AppData/Local/Microsoft/MSIPC/UnmanagedTemplates");
    std::fs::create_dir_all(&store).unwrap();
    let tpl = "<XrML version=\"1.2\"><BODY type=\"Microsoft Official Rights Template\"><ISSUEDTIME>2025-01-01T00:00</ISSUEDTIME><DESCRIPTOR><OBJECT><ID type=\"MS-GUID\">{11111111-2222-3333-4444-555555555555}</ID><NAME>LCID 1033:NAME =HYPERLINK(\"http://evil\"):DESCRIPTION @SUM(1);</NAME></OBJECT></DESCRIPTOR><ISSUER><OBJECT type=\"MS-DRM-Server\"><ID type=\"MS-GUID\">{66666666-2222-3333-4444-555555555555}</ID><NAME>+evil</NAME><ADDRESS type=\"URL\">https://rms.evil.example/_wmcs</ADDRESS></OBJECT></ISSUER></BODY></XrML>";
    std::fs::write(store.join("evil.xml"), tpl).unwrap();
    let idx = tmp.path().join("idx");
    assert_eq!(scan(s(&vol), s(&idx), &["--quiet"]).status.code(), Some(0));
    let out = rmsweep(&["templates", "--index", s(&idx), "--format", "csv"]);
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
        "{csv}"
    );
    assert!(csv.contains(",'+evil,"), "{csv}");
}

#[test]
fn killed_scans_leave_a_usable_index_that_the_next_scan_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let volume = tmp.path().join("host1");
    write_volume(
        &volume,
        &VolumeSpec {
            profiles: 120,
            euls_per_profile: 6,
            noise_files_per_profile: 0,
            ..spec()
        },
    )
    .unwrap();
    let clean = tmp.path().join("clean");
    assert!(scan(s(&volume), s(&clean), &["--quiet"]).status.success());
    let expected = strip_times(ok_json(&[
        "export",
        "--index",
        s(&clean),
        "--format",
        "jsonl",
    ]));
    let killed = tmp.path().join("killed");
    for delay_ms in [5, 30, 80, 150, 250, 400] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rmsweep"))
            .args([
                "scan",
                s(&volume),
                "--index",
                s(&killed),
                "--quiet",
                "--commit-every",
                "97",
                "--threads",
                "1",
            ])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // Killed before the index was created: there is none. Otherwise it
        // opens at its last commit, whatever the moment of the kill.
        if killed.exists() {
            let partial = ok_json(&["export", "--index", s(&killed), "--format", "jsonl"]);
            assert!(partial.len() <= expected.len());
        }
    }
    let out = scan(s(&volume), s(&killed), &["--quiet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        strip_times(ok_json(&[
            "export",
            "--index",
            s(&killed),
            "--format",
            "jsonl"
        ])),
        expected
    );
}

#[test]
fn scans_of_two_roots_under_one_label_keep_each_other() {
    // A re-scan removes records of files gone from the roots it scans, never
    // from another root that shares its label.
    let w = world();
    let other = w.volume.with_file_name("host1-d-drive");
    write_volume(&other, &spec()).unwrap();
    for root in [&w.volume, &other] {
        let out = scan(s(root), s(&w.index), &["--label", "HOST1", "--quiet"]);
        assert!(out.status.success(), "{out:?}");
    }
    let out = scan(s(&w.volume), s(&w.index), &["--label", "HOST1"]);
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(summary.contains(", 0 removed)"), "{summary}");
    let labelled = ok_json(&[
        "search",
        "label:HOST1",
        "--all",
        "--index",
        s(&w.index),
        "--format",
        "jsonl",
    ]);
    assert_eq!(labelled.len(), 2 * spec_files());
}

#[test]
fn a_killed_merge_leaves_no_output_or_a_complete_one() {
    let w = world();
    let expected = ok_json(&["export", "--index", s(&w.index), "--format", "jsonl"]).len();
    for (i, delay_ms) in [0u64, 2, 5, 10, 20, 40, 80].into_iter().enumerate() {
        let out = w.index.with_file_name(format!("merged{i}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_rmsweep"))
            .args(["merge", "--index", s(&out), s(&w.index)])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        if out.exists() {
            let n = ok_json(&["export", "--index", s(&out), "--format", "jsonl"]).len();
            assert_eq!(
                n, expected,
                "a killed merge left a partial output ({delay_ms} ms)"
            );
        }
    }
}
