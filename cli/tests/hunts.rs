//! A Velociraptor hunt's results as one root: the server's hunt download
//! (zipped or not) and its file store give one label per client, named by
//! the client's own metadata, with the records of a single collection.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;
use common::{copy_tree, exit, jsonl, per_label, rmsweep};
use rmsweep_fixtures::collections::{self, HUNT};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// `scan ROOT --jsonl - --quiet`, with the exit status it must give.
fn scan(root: &Path, code: i32) -> Vec<Value> {
    let out = rmsweep(&["scan", root.to_str().unwrap(), "--jsonl", "-", "--quiet"]);
    exit(&out, code);
    jsonl(&out)
}

fn key(label: &str, kind: &str) -> (String, String) {
    (label.to_string(), kind.to_string())
}

/// The NetworkService server store (4 templates) copied into the drive
/// folder `c`, with the SYSTEM hive (computer name WS01) if asked.
fn server_store(c: &Path, with_system_hive: bool) {
    copy_tree(
        &fixtures().join("sample-volume/ProgramData/Microsoft/MSIPC/Server/S-1-5-20"),
        &c.join("ProgramData/Microsoft/MSIPC/Server/S-1-5-20"),
        false,
    );
    if with_system_hive {
        let config = c.join("Windows/System32/config");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::copy(fixtures().join("hives/SYSTEM"), config.join("SYSTEM")).unwrap();
    }
}

#[test]
fn a_hunt_download_zip_gives_one_label_per_client() {
    let zip = collections::zip(HUNT);
    let rs = scan(&zip, 0);
    // Store files per client folder, as the script put them in.
    let stores = |folder: &str| {
        collections::contents(HUNT)
            .keys()
            .filter(|m| m.starts_with(&format!("{folder}/")))
            .count()
    };
    assert_eq!(
        per_label(&rs),
        BTreeMap::from([
            // Two machines call themselves WS04: their client ids tell them apart.
            (key("WS04-C.0123456789abcdef", "setting"), 32),
            (
                key("WS04-C.0123456789abcdef", "store"),
                stores("WS04-C.0123456789abcdef")
            ),
            (
                key("WS04-C.fedcba9876543210", "store"),
                stores("WS04-C.fedcba9876543210")
            ),
            // client_info.json names the host, not the SYSTEM hive's WS01.
            (key("WS07", "setting"), 5),
            (key("WS07", "store"), stores("WS07-C.00112233aabbccdd")),
        ])
    );
    // Every store file of the hunt, byte for byte, with its drive and
    // its path inside the host's volume.
    let prefix = format!("{}/", zip.canonicalize().unwrap().display());
    let read: BTreeMap<String, (String, u64)> = rs
        .iter()
        .filter(|r| r["kind"] != "setting")
        .map(|r| {
            assert_eq!(r["drive"], "C:");
            assert_eq!(r["container_kind"], "archive");
            let member = r["path"].as_str().unwrap().strip_prefix(&prefix).unwrap();
            let volume_path = member.split_once("C%3A/").unwrap().1.replace('/', "\\");
            assert_eq!(
                r["volume_path"].as_str().unwrap(),
                format!("\\{volume_path}").replace("%20", " ")
            );
            let sha = r["sha256"].as_str().unwrap().to_string();
            (member.to_string(), (sha, r["size"].as_u64().unwrap()))
        })
        .collect();
    assert_eq!(read, collections::contents(HUNT));
    // One label cannot name many clients.
    let out = rmsweep(&[
        "scan",
        zip.to_str().unwrap(),
        "--label",
        "X",
        "--jsonl",
        "-",
    ]);
    let err = exit(&out, 1);
    assert!(
        err.contains("this hunt download holds the collections of 3 clients, each labelled by its own host name: drop --label"),
        "{err}"
    );
}

/// A client's folder of an unzipped hunt download, as the server writes it.
fn hunt_client(hunt: &Path, host: &str, id: &str, with_system_hive: bool) {
    let dir = hunt.join(format!("{host}-{id}"));
    server_store(&dir.join("uploads/auto/C%3A"), with_system_hive);
    std::fs::write(
        dir.join("client_info.json"),
        format!(r#"{{"client_id":"{id}","hostname":"{host}","fqdn":"{host}.contoso.local"}}"#),
    )
    .unwrap();
    std::fs::write(
        dir.join("collection_context.json"),
        br#"{"session_id":"F.1"}"#,
    )
    .unwrap();
}

#[test]
fn an_unzipped_hunt_download_gives_one_label_per_client() {
    let tmp = tempfile::tempdir().unwrap();
    let hunt = tmp.path().join("H.CT5000");
    hunt_client(&hunt, "WS11", "C.1111111111111111", true);
    hunt_client(&hunt, "WS12", "C.2222222222222222", false);
    hunt_client(&hunt, "WS12", "C.3333333333333333", false);
    std::fs::write(hunt.join("hunt_info.json"), br#"{"hunt_id":"H.CT5000"}"#).unwrap();
    std::fs::create_dir_all(hunt.join("results")).unwrap();
    std::fs::write(hunt.join("results/All Custom.json"), b"{}\n").unwrap();
    let rs = scan(&hunt, 0);
    assert_eq!(
        per_label(&rs),
        BTreeMap::from([
            (key("WS11", "setting"), 5),
            (key("WS11", "store"), 4),
            (key("WS12-C.2222222222222222", "store"), 4),
            (key("WS12-C.3333333333333333", "store"), 4),
        ])
    );
    let ws11 = rs.iter().find(|r| r["label"] == "WS11").unwrap();
    assert_eq!(ws11["drive"], "C:");
    assert_eq!(
        ws11["volume_path"],
        r"\ProgramData\Microsoft\MSIPC\Server\S-1-5-20\11ebe8a3-93ab-46f6-a357-85a64d74f959.xml"
    );
}

/// A collection folder in a server's file store.
fn flow(store: &Path, client: &str, flow: &str) -> PathBuf {
    store
        .join("clients")
        .join(client)
        .join("collections")
        .join(flow)
}

#[test]
fn a_velociraptor_file_store_gives_one_label_per_client() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("datastore");
    const A: &str = "C.aaaaaaaaaaaaaaaa";
    const B: &str = "C.bbbbbbbbbbbbbbbb";
    // A: two collections; only the first holds its SYSTEM hive.
    server_store(&flow(&store, A, "F.CT1").join("uploads/auto/C%3A"), true);
    server_store(&flow(&store, A, "F.CT2").join("uploads/auto/C%3A"), false);
    // B: no hive; a flow that uploaded something else; a flow with no uploads.
    server_store(&flow(&store, B, "F.CT1").join("uploads/auto/C%3A"), false);
    let other = flow(&store, B, "F.CT3").join("uploads/auto/C%3A/Temp");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("memory.dmp"), b"not ours").unwrap();
    std::fs::create_dir_all(flow(&store, B, "F.CT4")).unwrap();
    std::fs::create_dir_all(store.join("clients").join(format!("{B}/ping.json.db"))).unwrap();
    std::fs::create_dir_all(store.join("hunts")).unwrap();
    let expected = BTreeMap::from([
        // The host name A's SYSTEM hive gives, for both its collections.
        (key("WS01", "setting"), 5),
        (key("WS01", "store"), 8),
        // B names no host: its client id labels it.
        (key(B, "store"), 4),
    ]);
    let rs = scan(&store, 0);
    assert_eq!(per_label(&rs), expected);
    let paths: Vec<&str> = rs
        .iter()
        .filter(|r| r["label"] == "WS01" && r["kind"] != "setting")
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 8);
    assert!(paths[0]
        .contains("/clients/C.aaaaaaaaaaaaaaaa/collections/F.CT1/uploads/auto/C%3A/ProgramData/"));
    assert!(paths[4]
        .contains("/clients/C.aaaaaaaaaaaaaaaa/collections/F.CT2/uploads/auto/C%3A/ProgramData/"));
    // The `clients` folder as the root gives the same.
    assert_eq!(per_label(&scan(&store.join("clients"), 0)), expected);
}

#[test]
fn a_hunt_of_many_clients_needs_few_file_descriptors() {
    // 300 clients of two drive folders each, scanned with 128 descriptors
    // allowed: each drive folder's descriptor is held only while it is read.
    let tmp = tempfile::tempdir().unwrap();
    let hunt = tmp.path().join("H.MANY");
    let one = tmp.path().join("one");
    server_store(&one.join("auto"), false);
    for i in 0..300 {
        let dir = hunt.join(format!("H{i}-C.{i:016x}"));
        copy_tree(&one.join("auto"), &dir.join("uploads/auto/C%3A"), true);
        copy_tree(
            &one.join("auto"),
            &dir.join("uploads/ntfs/%5C%5C.%5CD%3A"),
            true,
        );
        std::fs::write(
            dir.join("client_info.json"),
            format!(r#"{{"client_id":"C.{i:016x}","hostname":"H{i}"}}"#),
        )
        .unwrap();
    }
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 128 && exec "$0" scan "$1" --jsonl - --quiet"#)
        .arg(env!("CARGO_BIN_EXE_rmsweep"))
        .arg(&hunt)
        .output()
        .unwrap();
    exit(&out, 0);
    let rs = jsonl(&out);
    assert_eq!(rs.len(), 300 * 2 * 4);
    assert!(
        rs.iter().all(|r| r["error"].is_null()),
        "{:?}",
        rs.iter().find(|r| !r["error"].is_null())
    );
    let labels: std::collections::BTreeSet<&str> =
        rs.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(labels.len(), 300);
}
