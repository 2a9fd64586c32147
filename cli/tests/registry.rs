//! The registry through the command line: a host whose hives sit beside its
//! stores. `stale` judges templates by the registry's last refresh and
//! redirections (file times only where the registry says nothing),
//! `foreign` with no `--trust` by the host's own trusted servers, and no
//! key material reaches any output. Hives: `fixtures/hives` (hivex-made).

use std::path::{Path, PathBuf};

mod common;
use common::{exit, jsonl, rmsweep};

use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn copy(from: &Path, root: &Path, rel: &str) {
    let to = root.join(rel);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
}

/// WS01: the four hives, and alice's template store holding rms.contoso.com
/// templates (frank's in the sample volume) and adrms.fabrikam.local ones
/// (bob's). The files are new: only the registry can call them stale.
fn host() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("WS01");
    let hives = fixtures().join("hives");
    copy(
        &hives.join("SOFTWARE"),
        &root,
        "Windows/System32/config/SOFTWARE",
    );
    copy(
        &hives.join("SYSTEM"),
        &root,
        "Windows/System32/config/SYSTEM",
    );
    copy(&hives.join("NTUSER.DAT"), &root, "Users/alice/NTUSER.DAT");
    copy(
        &hives.join("UsrClass.dat"),
        &root,
        "Users/alice/AppData/Local/Microsoft/Windows/UsrClass.dat",
    );
    let store = "Users/alice/AppData/Local/Microsoft/MSIPC/Templates";
    for from in ["Users/frank", "Users/bob.V6"] {
        let dir = fixtures()
            .join("sample-volume")
            .join(from)
            .join("AppData/Local/Microsoft/MSIPC/Templates");
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap().path();
            let name = e.file_name().unwrap().to_str().unwrap().to_string();
            copy(&e, &root, &format!("{store}/{name}"));
        }
    }
    tmp
}

fn index(tmp: &Path) -> String {
    let idx = tmp.join("idx");
    let root = tmp.join("WS01");
    exit(
        &rmsweep(&[
            "scan",
            root.to_str().unwrap(),
            "--index",
            idx.to_str().unwrap(),
            "--quiet",
        ]),
        0,
    );
    idx.to_str().unwrap().to_string()
}

/// (issuer host, reasons or reason, evidence) of each row, sorted; `expired`
/// left out (some sample templates carry a past content-expiry date).
fn judged(rows: &[Value], key: &str) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            let mut reasons = r[key].clone();
            if let Some(list) = reasons.as_array_mut() {
                list.retain(|x| x != "expired");
            }
            (
                r["issuer_host"].as_str().unwrap_or_default().to_string(),
                reasons.to_string(),
                r["evidence"].to_string(),
            )
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn stale_follows_the_registry_not_the_file_times() {
    let tmp = host();
    let idx = index(tmp.path());
    // Four hours after fabrikam's refresh; the files are days newer than that
    // and --older-than is ten years: file times would flag nothing.
    let out = rmsweep(&[
        "stale",
        "--index",
        &idx,
        "--as-of",
        "2026-11-28T12:00:00Z",
        "--older-than",
        "3650d",
        "--format",
        "jsonl",
    ]);
    exit(&out, 0);
    let rows = jsonl(&out);
    let usrclass = r"UsrClass.dat Local Settings\\Software\\Microsoft\\MSIPC";
    let contoso = format!(
        r#"["registry: last refresh {usrclass}\\rms.contoso.com\\Template LastUpdatedTime = 2015-04-20T15:52; refresh interval 86400 s ({usrclass} TemplateUpdateFrequencyInSeconds = 86400)"]"#
    );
    let redirected = r#"["registry: licensing redirected: SOFTWARE Microsoft\\MSIPC\\ServiceLocation\\LicensingRedirection https://adrms.fabrikam.local/_wmcs/licensing = https://rms.contoso.com/_wmcs/licensing"]"#;
    assert_eq!(
        judged(&rows, "reasons"),
        vec![
            (
                "adrms.fabrikam.local".into(),
                r#"["redirected"]"#.into(),
                redirected.into()
            ),
            (
                "rms.contoso.com".into(),
                r#"["not_refreshed"]"#.into(),
                contoso
            ),
        ]
    );
    // Four contoso templates (frank's) and four fabrikam ones (bob's).
    assert_eq!(rows.len(), 8);
    // alice's store records carry her SID, from her UsrClass.dat's root key.
    assert!(rows
        .iter()
        .all(|r| r["sid"] == "S-1-5-21-1111111111-2222222222-3333333333-1001"));
}

#[test]
fn foreign_without_trust_follows_the_hosts_own_configuration() {
    let tmp = host();
    let idx = index(tmp.path());
    let out = rmsweep(&["foreign", "--index", &idx, "--format", "jsonl"]);
    exit(&out, 0);
    let rows = jsonl(&out);
    assert_eq!(
        judged(&rows, "reason"),
        vec![(
            "adrms.fabrikam.local".into(),
            r#""untrusted_issuer""#.into(),
            r#"["judged by WS01's registry trusts rms.contoso.com, rms.woodgrove.example"]"#.into()
        )]
    );
    assert_eq!(rows.len(), 4);
    // --trust adds to the host's list.
    let out = rmsweep(&[
        "foreign",
        "--index",
        &idx,
        "--trust",
        "fabrikam.local",
        "--format",
        "jsonl",
    ]);
    exit(&out, 0);
    assert_eq!(jsonl(&out).len(), 0);
}

#[test]
fn settings_are_listed_per_host_and_no_key_material_reaches_any_output() {
    let tmp = host();
    let idx = index(tmp.path());
    let out = rmsweep(&["settings", "--index", &idx, "--format", "jsonl"]);
    exit(&out, 0);
    let rows = jsonl(&out);
    assert_eq!(rows.len(), 33);
    assert!(rows
        .iter()
        .all(|r| r["kind"] == "setting" && r["label"] == "WS01"));
    let out = rmsweep(&[
        "settings",
        "setting:rds.licensing_mode",
        "--index",
        &idx,
        "--format",
        "csv",
    ]);
    exit(&out, 0);
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(
        csv.contains(",per user,") && csv.contains(",per device,"),
        "{csv}"
    );
    let root = tmp.path().join("WS01");
    let mut outputs = Vec::new();
    for args in [
        vec!["scan", root.to_str().unwrap(), "--jsonl", "-", "--quiet"],
        vec!["export", "--index", &idx, "--format", "jsonl"],
        vec!["export", "--index", &idx, "--format", "csv"],
        vec!["settings", "--index", &idx, "--format", "table"],
    ] {
        let out = rmsweep(&args);
        exit(&out, 0);
        outputs.push(out.stdout);
    }
    let report = tmp.path().join("r.html");
    exit(
        &rmsweep(&["report", "--index", &idx, "--out", report.to_str().unwrap()]),
        0,
    );
    outputs.push(std::fs::read(&report).unwrap());
    for out in outputs {
        let text = String::from_utf8_lossy(&out);
        for secret in ["SECRET-USER-KEY", "SECRET-GRACE-END"] {
            let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
            assert!(!text.contains(secret) && !text.contains(&hex));
        }
    }
}

/// `NOT` takes from every record: tantivy alone answers `a AND NOT b` and
/// `NOT b` with nothing.
#[test]
fn negations_take_from_every_record() {
    let tmp = host();
    let idx = index(tmp.path());
    let count = |query: &str| {
        let out = rmsweep(&[
            "search", query, "--index", &idx, "--format", "jsonl", "--all",
        ]);
        exit(&out, 0);
        jsonl(&out)
    };
    let with_minus = count("kind:setting -setting:hive");
    assert_eq!(with_minus.len(), 33);
    assert_eq!(count("kind:setting AND NOT setting:hive"), with_minus);
    // 4 hive records, 33 settings, 8 templates.
    let not_settings = count("NOT kind:setting");
    assert_eq!(not_settings.len(), 8);
    assert!(not_settings.iter().all(|r| r["kind"] == "template"));
    assert_eq!(count("setting:hive OR NOT kind:setting").len(), 12);
    let out = rmsweep(&[
        "settings",
        "setting:rds.client_license AND NOT data:temporary",
        "--index",
        &idx,
        "--format",
        "jsonl",
    ]);
    exit(&out, 0);
    let keys: Vec<Value> = jsonl(&out).iter().map(|r| r["key"].clone()).collect();
    assert_eq!(keys, [r"Microsoft\MSLicensing\Store\LICENSE000"]);
}

/// A dry run lists the hives with the store files, and says that folders
/// an NTUSER.DAT names are found only when it is read.
#[test]
fn a_dry_run_lists_the_hives_and_says_what_it_cannot_list() {
    let tmp = host();
    let root = tmp.path().join("WS01");
    let out = rmsweep(&["scan", root.to_str().unwrap(), "--dry-run"]);
    exit(&out, 0);
    let listed = String::from_utf8(out.stdout).unwrap();
    let hives: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.strip_prefix("WS01\t"))
        .filter(|p| p.ends_with(".DAT") || p.ends_with(".dat") || p.contains("config"))
        .collect();
    let at = |p: &str| root.join(p).to_str().unwrap().to_string();
    assert_eq!(
        hives,
        [
            at("Users/alice/AppData/Local/Microsoft/Windows/UsrClass.dat"),
            at("Users/alice/NTUSER.DAT"),
            at("Windows/System32/config/SOFTWARE"),
            at("Windows/System32/config/SYSTEM"),
        ]
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("4 registry hives; 0 folders could not be listed\n(template folders that Office's AdminTemplatePath names are found when the 1 NTUSER.DAT hive is read: not listed here)"),
        "{err}"
    );
}

/// A client access licence reads, in a table and in the report, as what
/// make-hives.sh put into it (`fixtures/hives/cal-temporary.expected`), and
/// its licence server finds it.
#[test]
fn a_client_access_licence_reads_as_what_it_says() {
    let tmp = host();
    let idx = index(tmp.path());
    let expected =
        std::fs::read_to_string(fixtures().join("hives/cal-temporary.expected")).unwrap();
    let given = |k: &str| {
        expected
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap()
            .trim()
            .replace("CN = ", "")
            .replace(' ', "T")
    };
    let line = format!(
        "temporary licence {} (Remote Desktop {}.{}) from {} ({}) to {}, valid {} to {}",
        given("product"),
        given("major"),
        given("minor"),
        given("server"),
        given("scope"),
        given("subject"),
        given("notBefore"),
        given("notAfter"),
    );
    let query = format!("server:{}", given("server"));
    let out = rmsweep(&[
        "settings", &query, "--index", &idx, "--format", "table", "--wide",
    ]);
    exit(&out, 0);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains(&line), "{table}");
    assert!(table.ends_with("(1 row)\n"), "{table}");
    let report = tmp.path().join("r.html");
    exit(
        &rmsweep(&["report", "--index", &idx, "--out", report.to_str().unwrap()]),
        0,
    );
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains(&line), "the report's configuration section");
    // Licences are found by what they say: temporary ones across a fleet.
    for (query, key) in [
        ("data:temporary", r"Microsoft\MSLicensing\Store\LICENSE001"),
        ("data:permanent", r"Microsoft\MSLicensing\Store\LICENSE000"),
    ] {
        let out = rmsweep(&["settings", query, "--index", &idx, "--format", "jsonl"]);
        exit(&out, 0);
        let keys: Vec<Value> = jsonl(&out).iter().map(|r| r["key"].clone()).collect();
        assert_eq!(keys, [key], "{query}");
    }
}

#[test]
fn another_computer_under_the_same_label_is_refused_by_its_computer_name() {
    let tmp = host();
    let idx = index(tmp.path());
    // WS99: WS01's SYSTEM hive with the computer name's UTF-16 bytes changed.
    let other = tmp.path().join("WS99");
    let system = std::fs::read(fixtures().join("hives/SYSTEM")).unwrap();
    let from: Vec<u8> = "WS01".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let to: Vec<u8> = "WS99".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let at: Vec<usize> = system
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == &from[..])
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1);
    let mut patched = system.clone();
    patched[at[0]..at[0] + to.len()].copy_from_slice(&to);
    std::fs::create_dir_all(other.join("Windows/System32/config")).unwrap();
    std::fs::write(other.join("Windows/System32/config/SYSTEM"), patched).unwrap();
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            other.to_str().unwrap(),
            "--index",
            &idx,
            "--label",
            "WS01",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        rmsweep(&args)
    };
    let err = exit(&scan(&[]), 1);
    assert!(
        err.contains(
            "holds another host (computer name WS01) than this evidence (computer name WS99)"
        ) && err.contains("Nothing was changed"),
        "{err}"
    );
    // WS01's records are all still there.
    let out = rmsweep(&[
        "settings",
        "setting:host.computer_name",
        "--index",
        &idx,
        "--format",
        "jsonl",
    ]);
    let names: Vec<Value> = jsonl(&out).into_iter().map(|r| r["data"].clone()).collect();
    assert_eq!(names, vec![Value::from("WS01")]);
    exit(&scan(&["--replace"]), 0);
}

#[test]
fn a_volume_named_only_by_its_mount_point_is_labelled_by_its_computer_name() {
    let tmp = tempfile::tempdir().unwrap();
    // As in layouts.rs, where such a root without a SYSTEM hive asks for --label.
    let bare = tmp.path().join("media/mnt/c");
    copy(
        &fixtures().join("hives/SYSTEM"),
        &bare,
        "Windows/System32/config/SYSTEM",
    );
    let out = rmsweep(&["scan", bare.to_str().unwrap(), "--jsonl", "-", "--quiet"]);
    exit(&out, 0);
    let labels: Vec<Value> = jsonl(&out)
        .into_iter()
        .map(|r| r["label"].clone())
        .collect();
    assert_eq!(labels, vec![Value::from("WS01"); 5]);
}

#[test]
fn a_template_folder_named_by_admin_template_path_is_read_with_its_hive() {
    let tmp = host();
    let root = tmp.path().join("WS01");
    let template = fixtures().join(
        "sample-volume/ProgramData/Microsoft/MSIPC/Server/S-1-5-20/11ebe8a3-93ab-46f6-a357-85a64d74f959.xml",
    );
    // alice's NTUSER.DAT names C:\RMS\Templates (fixtures/hives/src/ntuser.reg).
    copy(&template, &root, "RMS/Templates/corp.xml");
    let out = rmsweep(&["scan", root.to_str().unwrap(), "--jsonl", "-", "--quiet"]);
    exit(&out, 0);
    let rows = jsonl(&out);
    let corp: Vec<&Value> = rows
        .iter()
        .filter(|r| r["volume_path"] == r"\RMS\Templates\corp.xml")
        .collect();
    assert_eq!(corp.len(), 1);
    let r = corp[0];
    assert_eq!(
        (
            &r["kind"],
            &r["store_mode"],
            &r["store_area"],
            &r["rms_client"],
            &r["profile"],
            &r["sid"]
        ),
        (
            &Value::from("template"),
            &Value::from("client"),
            &Value::from("templates"),
            &Value::from("msdrm"),
            &Value::from("alice"),
            &Value::from("S-1-5-21-1111111111-2222222222-3333333333-1001")
        )
    );
    let ntuser = rows
        .iter()
        .find(|r| r["setting"] == "hive" && r["hive"] == "ntuser")
        .unwrap();
    assert_eq!(
        ntuser["template_folders"],
        serde_json::json!([r"\RMS\Templates"])
    );
    // A re-scan reads the hive again (it names a folder), so the folder's
    // record stays; once the file is gone, its record goes.
    let idx = index(tmp.path());
    let count = || {
        let out = rmsweep(&[
            "search",
            "rms_client:msdrm",
            "--index",
            &idx,
            "--format",
            "jsonl",
        ]);
        jsonl(&out).len()
    };
    assert_eq!(count(), 1);
    exit(
        &rmsweep(&["scan", root.to_str().unwrap(), "--index", &idx, "--quiet"]),
        0,
    );
    assert_eq!(count(), 1);
    std::fs::remove_file(root.join("RMS/Templates/corp.xml")).unwrap();
    exit(
        &rmsweep(&["scan", root.to_str().unwrap(), "--index", &idx, "--quiet"]),
        0,
    );
    assert_eq!(count(), 0);
}

#[test]
fn merging_keeps_every_registry_record() {
    let tmp = host();
    let idx = index(tmp.path());
    let merged = tmp.path().join("merged");
    let m = merged.to_str().unwrap();
    exit(&rmsweep(&["merge", "--index", m, &idx]), 0);
    let export = |i: &str| {
        let out = rmsweep(&["export", "--index", i, "--format", "jsonl"]);
        let mut lines: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    };
    let (a, b) = (export(&idx), export(m));
    assert_eq!(a, b);
    // 4 hive records, 33 settings, 8 templates.
    assert_eq!(a.len(), 45);
}
