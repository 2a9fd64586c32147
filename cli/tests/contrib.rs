//! The collector definitions in contrib/ parse as YAML in their project's
//! shape, and cover exactly the store locations and hive files the scanner
//! knows (each hive with its logs: `NAME*`).

use std::path::Path;

use rmsweep_scanner::locate::locations::collection_roots;
use rmsweep_scanner::registry::locate::collection_files;
use serde_yaml::Value;

fn load(rel: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../contrib")
        .join(rel);
    serde_yaml::from_str(&std::fs::read_to_string(&p).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A collector's path in the scanner's form: `/`-separated, `*` for a user,
/// no drive letter, no trailing glob.
fn normalise(p: &str) -> String {
    let p = p
        .replace('\\', "/")
        .replace("%%users.localappdata%%", "Users/*/AppData/Local")
        .replace("%%users.appdata%%", "Users/*/AppData/Roaming")
        .replace("%%environ_allusersappdata%%", "ProgramData")
        .replace("%%environ_systemdrive%%", "")
        .replace("%user%", "*");
    let p = p.trim_start_matches("C:").trim_start_matches('/');
    p.trim_end_matches("**").trim_end_matches('/').to_string()
}

fn assert_covers(name: &str, paths: &[String]) {
    let got: Vec<String> = paths.iter().map(|p| normalise(p)).collect();
    let mut want = collection_roots();
    want.extend(collection_files().into_iter().map(|f| format!("{f}*")));
    assert_eq!(
        got, want,
        "{name}: the collector's paths and the scanner's store locations differ"
    );
}

#[test]
fn kape_target() {
    let t = load("kape/RightsManagementStores.tkape");
    for key in ["Description", "Author", "Version", "Id", "Targets"] {
        assert!(!t[key].is_null(), "tkape lacks {key}");
    }
    let targets = t["Targets"].as_sequence().unwrap();
    // Folders are copied whole; hives by a file mask that takes their logs.
    let paths: Vec<String> = targets
        .iter()
        .map(|x| {
            let path = x["Path"].as_str().unwrap();
            match x["FileMask"].as_str() {
                Some(mask) => format!("{path}{mask}"),
                None => path.to_string(),
            }
        })
        .collect();
    assert!(targets.iter().all(|x| {
        x["Recursive"] == Value::Bool(x["FileMask"].is_null()) && x["Category"].as_str().is_some()
    }));
    assert_covers("KAPE target", &paths);
}

#[test]
fn kape_module() {
    let m = load("kape/rmsweep.mkape");
    for key in [
        "Description",
        "Category",
        "Author",
        "Version",
        "Id",
        "ExportFormat",
        "Processors",
    ] {
        assert!(!m[key].is_null(), "mkape lacks {key}");
    }
    let p = &m["Processors"][0];
    assert!(p["CommandLine"].as_str().unwrap().contains("rmsweep scan"));
    assert!(p["CommandLine"]
        .as_str()
        .unwrap()
        .contains("%sourceDirectory%"));
}

#[test]
fn velociraptor_artifact() {
    let a = load("velociraptor/Custom.Windows.RightsManagement.Stores.yaml");
    assert_eq!(a["type"], Value::String("CLIENT".into()));
    assert!(a["name"].as_str().unwrap().starts_with("Custom."));
    let query = a["sources"][0]["query"].as_str().unwrap();
    assert!(query.contains("\"--jsonl\", \"-\"") && query.contains("parse_json"));
    let paths: Vec<String> = query
        .lines()
        .filter_map(|l| l.trim().strip_prefix("--   "))
        .map(str::to_string)
        .collect();
    assert_covers("Velociraptor artifact", &paths);
}

#[test]
fn velociraptor_windows_artifact_collects_with_plain_vql() {
    let a = load("velociraptor/Custom.Windows.RightsManagement.Collect.yaml");
    assert_eq!(a["type"], Value::String("CLIENT".into()));
    assert!(a["precondition"]
        .as_str()
        .unwrap()
        .contains("OS = 'windows'"));
    let query = a["sources"][0]["query"].as_str().unwrap();
    // No rmsweep on the endpoint: the engine globs and uploads.
    assert!(!query.contains("execve") && !query.contains("FetchBinary"));
    assert!(query.contains("FROM glob(globs=store_globs + hive_globs, accessor=\"auto\")"));
    assert!(query.contains("upload(file=OSPath, accessor=\"auto\""));
    let paths: Vec<String> = query
        .lines()
        .filter_map(|l| {
            l.trim()
                .trim_end_matches(',')
                .strip_prefix('"')?
                .strip_suffix('"')
        })
        .map(str::to_string)
        .collect();
    assert_covers("Velociraptor Windows artifact", &paths);
}

#[test]
fn forensic_artifacts_definition() {
    let d = load("forensic-artifacts/rights_management.yaml");
    for key in ["name", "doc", "sources", "supported_os"] {
        assert!(!d[key].is_null(), "definition lacks {key}");
    }
    assert_eq!(d["sources"][0]["type"], Value::String("FILE".into()));
    let paths: Vec<String> = d["sources"][0]["attributes"]["paths"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    assert_covers("ForensicArtifacts definition", &paths);
}
