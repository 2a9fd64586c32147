//! Velociraptor collections kept as zip archives, read in place: the same
//! records as the unzipped collection, the archive as their container, and
//! what cannot be read (encrypted members, a collection cut short) as
//! records, never lost.

use std::collections::BTreeMap;
use std::path::Path;

mod common;
use common::{copy_tree, exit, jsonl, per_label, rmsweep};
use rmsweep_fixtures::collections::{self, WS04, WS04_TWIN, WS05, WS06};
use serde_json::Value;

/// `scan ROOT --jsonl - --quiet`, with the exit status it must give.
fn scan(root: &Path, code: i32) -> Vec<Value> {
    let out = rmsweep(&["scan", root.to_str().unwrap(), "--jsonl", "-", "--quiet"]);
    exit(&out, code);
    jsonl(&out)
}

fn of_kind(rs: &[Value], pick: impl Fn(&str) -> bool) -> Vec<&Value> {
    rs.iter()
        .filter(|r| pick(r["kind"].as_str().unwrap()))
        .collect()
}

/// Store records by member name (the path after `<zip>/`): (SHA-256, size).
fn members(rs: &[Value], zip: &Path) -> BTreeMap<String, (String, u64)> {
    let prefix = format!("{}/", zip.canonicalize().unwrap().display());
    of_kind(rs, |k| k != "setting" && k != "evidence")
        .into_iter()
        .map(|r| {
            let path = r["path"].as_str().unwrap();
            let member = path.strip_prefix(&prefix).unwrap_or(path).to_string();
            let sha = r["sha256"].as_str().unwrap_or("-").to_string();
            (member, (sha, r["size"].as_u64().unwrap()))
        })
        .collect()
}

/// WS04's collection unzipped, built here from the files the script put in.
fn unzipped_ws04(dir: &Path) -> std::path::PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let col = dir.join(WS04);
    let c = col.join("uploads/auto/C%3A");
    let frank = c.join("Users/frank%20smith");
    copy_tree(
        &fixtures.join("sample-volume/Users/frank/AppData/Local/Microsoft/MSIPC"),
        &frank.join("AppData/Local/Microsoft/MSIPC"),
        false,
    );
    std::fs::remove_dir_all(frank.join("AppData/Local/Microsoft/MSIPC/Logs")).unwrap();
    copy_tree(
        &fixtures.join("sample-volume/ProgramData/Microsoft/MSIPC/Server/S-1-5-20"),
        &col.join("uploads/ntfs/%5C%5C.%5CC%3A/ProgramData/Microsoft/MSIPC/Server/S-1-5-20"),
        false,
    );
    let hive = |name: &str, to: &Path| {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fixtures.join("hives").join(name), to).unwrap();
    };
    hive("NTUSER.DAT", &frank.join("NTUSER.DAT"));
    hive(
        "UsrClass.dat",
        &frank.join("AppData/Local/Microsoft/Windows/UsrClass.dat"),
    );
    hive("SOFTWARE", &c.join("Windows/System32/config/SOFTWARE"));
    std::fs::write(
        col.join("client_info.json"),
        br#"{"ClientId":"C.0123456789abcdef","Hostname":"WS04","Fqdn":"WS04.contoso.local","OS":"windows"}"#,
    )
    .unwrap();
    col
}

/// A record without what differs between the archive and its unzipped
/// form: where the bytes lie and the file times.
fn content(r: &Value) -> String {
    const WHERE: [&str; 8] = [
        "path",
        "container",
        "container_kind",
        "container_format",
        "modified",
        "accessed",
        "changed",
        "created",
    ];
    let fields: BTreeMap<&String, &Value> = r
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !WHERE.contains(&k.as_str()))
        .collect();
    serde_json::to_string(&fields).unwrap()
}

#[test]
fn a_velociraptor_zip_gives_the_records_of_its_unzipped_form() {
    let zip = collections::zip(WS04);
    let rs = scan(&zip, 0);
    // Every store file put in, with the bytes that were put in.
    assert_eq!(members(&rs, &zip), collections::contents(WS04));
    let canonical = zip.canonicalize().unwrap();
    for r in &rs {
        assert_eq!(r["label"], "WS04", "client_info.json names the host");
        assert_eq!(r["drive"], "C:");
        assert_eq!(r["container"], canonical.to_str().unwrap());
        assert_eq!(r["container_kind"], "archive");
        assert_eq!(r["container_format"], "zip");
    }
    let cert = rs
        .iter()
        .find(|r| {
            r["volume_path"] == r"\Users\frank smith\AppData\Local\Microsoft\MSIPC\CERT-Machine.drm"
        })
        .expect("names are percent-decoded");
    assert_eq!(cert["profile"], "frank smith");
    assert_eq!(
        cert["modified"], "2025-12-24T18:30:00Z",
        "the member's own time"
    );
    assert_eq!(
        cert["sid"],
        "S-1-5-21-1111111111-2222222222-3333333333-1001"
    );
    let mut hives: Vec<&str> = of_kind(&rs, |k| k == "setting")
        .iter()
        .map(|r| r["hive"].as_str().unwrap())
        .collect();
    hives.dedup();
    assert_eq!(hives, ["usrclass", "ntuser", "software"]);

    // The same collection unzipped gives the same records.
    let tmp = tempfile::tempdir().unwrap();
    let unzipped = scan(&unzipped_ws04(tmp.path()), 0);
    let mut a: Vec<String> = rs.iter().map(content).collect();
    let mut b: Vec<String> = unzipped.iter().map(content).collect();
    a.sort();
    b.sort();
    assert_eq!((a.len(), b.len()), (46, 46));
    let only = |x: &[String], y: &[String]| -> Vec<String> {
        x.iter().filter(|r| !y.contains(r)).cloned().collect()
    };
    assert_eq!(
        (only(&a, &b), only(&b, &a)),
        (vec![], vec![]),
        "records only from the archive, only from the folder"
    );
}

#[test]
fn encrypted_members_are_records_that_say_so() {
    let zip = collections::zip(WS05);
    let rs = scan(&zip, 2);
    assert_eq!(rs.len(), collections::contents(WS05).len());
    for r in &rs {
        assert_eq!(r["label"], "WS05", "the host from the archive's name");
        assert_eq!(r["kind"], "unreadable");
        assert_eq!(r["sha256"], Value::Null);
        assert_eq!(
            r["error"],
            "encrypted in its zip archive (a Velociraptor collection protected by a password or certificate): decrypt the collection with Velociraptor first, then scan the result"
        );
    }
}

#[test]
fn a_collection_cut_short_keeps_what_was_written_before_the_cut() {
    let zip = collections::zip(WS06);
    let rs = scan(&zip, 2);
    assert_eq!(members(&rs, &zip), collections::contents(WS06));
    let evidence = of_kind(&rs, |k| k == "evidence");
    assert_eq!(evidence.len(), 1);
    assert_eq!(
        evidence[0]["error"],
        "zip archive without its central directory (truncated: a collection interrupted while it was written?): 8 members recovered from their local headers; the member at byte 54467 is lost: its deflate stream is cut off by the archive's end"
    );
    assert_eq!(evidence[0]["label"], "WS06");
    // A stream writer's MS-DOS times name no zone: no time is made up.
    assert!(of_kind(&rs, |k| k != "evidence")
        .iter()
        .all(|r| r["modified"].is_null()));
}

/// The one record with an error: its volume path and the error.
fn only_error(rs: &[Value]) -> (&str, &str) {
    let bad: Vec<&Value> = rs.iter().filter(|r| !r["error"].is_null()).collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    (
        bad[0]["volume_path"].as_str().unwrap(),
        bad[0]["error"].as_str().unwrap(),
    )
}

#[test]
fn damaged_and_foreign_archives_say_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(collections::zip(WS04)).unwrap();
    // The central directory's first entry loses its signature.
    let at = bytes
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .expect("a central directory");
    let mut broken = bytes.clone();
    broken[at] = b'X';
    let path = tmp.path().join("Collection-WS07-2026-01-01T00_00_00Z.zip");
    std::fs::write(&path, &broken).unwrap();
    let rs = scan(&path, 2);
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0]["kind"], "evidence");
    assert_eq!(rs[0]["label"], "WS07");
    assert_eq!(
        rs[0]["error"],
        "damaged zip archive: its central directory is damaged (an entry's signature is wrong)"
    );
    // A member whose bytes were changed: its record says so, the rest are read.
    let cert = bytes
        .windows(14)
        .position(|w| w == b"CERT-Machine.d")
        .unwrap();
    let mut flipped = bytes.clone();
    flipped[cert + 200] ^= 0xff; // inside the first CERT-Machine member's data
    let path = tmp.path().join(format!("{WS04}.zip"));
    std::fs::write(&path, &flipped).unwrap();
    let rs = scan(&path, 2);
    assert_eq!(
        only_error(&rs),
        (
            r"\Users\frank smith\AppData\Local\Microsoft\MSIPC\CERT-Machine.drm",
            "read error: the zip member is damaged: it holds 28171 bytes where its directory says 28170"
        )
    );
    assert_eq!(rs.len(), 46);
    // A stored member with a byte changed: its CRC-32 tells.
    let template = bytes
        .windows(40)
        .position(|w| w == b"11ebe8a3-93ab-46f6-a357-85a64d74f959.xml")
        .unwrap();
    let mut flipped = bytes.clone();
    flipped[template + 300] ^= 0xff;
    std::fs::write(&path, &flipped).unwrap();
    let rs = scan(&path, 2);
    assert_eq!(
        only_error(&rs),
        (
            r"\Users\frank smith\AppData\Local\Microsoft\MSIPC\Templates\11ebe8a3-93ab-46f6-a357-85a64d74f959.xml",
            "read error: the zip member is damaged: its CRC-32 does not match its content"
        )
    );
    // A zip that is no collection: refused with advice, nothing written.
    let other = tmp.path().join("photos.zip");
    let mut z = bytes.clone();
    for w in 0..z.len() - 7 {
        if &z[w..w + 7] == b"uploads" {
            z[w..w + 7].copy_from_slice(b"upload_");
        }
    }
    std::fs::write(&other, &z).unwrap();
    let out = rmsweep(&["scan", other.to_str().unwrap(), "--jsonl", "-"]);
    let err = exit(&out, 1);
    assert!(
        err.contains("a zip archive that is not a Velociraptor collection or hunt download (no uploads/<accessor>/<drive> folders): unzip it and scan the folder"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_folder_of_collections_gives_one_label_per_host() {
    let tmp = tempfile::tempdir().unwrap();
    let hunt = tmp.path().join("hunt-2026-03");
    std::fs::create_dir(&hunt).unwrap();
    for name in [WS04, WS06] {
        std::fs::copy(collections::zip(name), hunt.join(format!("{name}.zip"))).unwrap();
    }
    // A KAPE collection of a third host, and a zip that is no collection.
    let kape = hunt.join("WS09/C/Users/amy/AppData/Local/Microsoft/MSIPC");
    std::fs::create_dir_all(&kape).unwrap();
    let cert = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../fixtures/sample-volume/Users/frank/AppData/Local/Microsoft/MSIPC/CERT-Machine.drm",
    );
    std::fs::copy(&cert, kape.join("CERT-Machine.drm")).unwrap();
    std::fs::write(hunt.join("notes.txt"), b"not evidence").unwrap();
    let rs = scan(&hunt, 2);
    let per = per_label(&rs);
    let key = |l: &str, k: &str| (l.to_string(), k.to_string());
    assert_eq!(
        per,
        BTreeMap::from([
            (key("WS04", "setting"), 32),
            (key("WS04", "store"), collections::contents(WS04).len()),
            (key("WS06", "evidence"), 1),
            (key("WS06", "store"), collections::contents(WS06).len()),
            (key("WS09", "store"), 1),
        ])
    );
    // Each host's records are its own collection's.
    let ws09 = rs.iter().find(|r| r["label"] == "WS09").unwrap();
    assert_eq!(ws09["drive"], "C:");
    assert_eq!(
        ws09["volume_path"],
        r"\Users\amy\AppData\Local\Microsoft\MSIPC\CERT-Machine.drm"
    );
    // One label cannot name many hosts.
    let out = rmsweep(&[
        "scan",
        hunt.to_str().unwrap(),
        "--label",
        "X",
        "--jsonl",
        "-",
    ]);
    let err = exit(&out, 1);
    assert!(
        err.contains("this folder holds 3 collections or images, one per host, each labelled by its own host name: drop --label"),
        "{err}"
    );
    // A member that cannot be read is a record; the others are still read.
    std::fs::write(
        hunt.join("Collection-WS10-2026-01-01T00_00_00Z.zip"),
        b"PK\x03\x04junk",
    )
    .unwrap();
    let rs = scan(&hunt, 2);
    let ws10: Vec<&Value> = rs.iter().filter(|r| r["label"] == "WS10").collect();
    assert_eq!(ws10.len(), 1);
    assert_eq!(
        ws10[0]["error"],
        "zip archive without its central directory (truncated: a collection interrupted while it was written?): 0 members recovered from their local headers; no member header at its start"
    );
    assert_eq!(rs.iter().filter(|r| r["label"] == "WS04").count(), 46);
    // Another machine that calls itself WS04: the client ids tell them apart.
    std::fs::copy(
        collections::zip(WS04_TWIN),
        hunt.join(format!("{WS04_TWIN}.zip")),
    )
    .unwrap();
    let rs = scan(&hunt, 2);
    let count = |l: &str| rs.iter().filter(|r| r["label"] == l).count();
    assert_eq!(count("WS04"), 0);
    assert_eq!(count("WS04-C.0123456789abcdef"), 46);
    assert_eq!(
        count("WS04-C.fedcba9876543210"),
        collections::contents(WS04_TWIN).len()
    );
    assert_eq!(count("WS09"), 1);
}
