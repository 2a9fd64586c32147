//! `--format bulk`: the OpenSearch/Elasticsearch bulk API body, checked
//! line by line against the bulk format and against the index mapping in
//! `contrib/opensearch/rmsweep-mapping.json`.

use std::collections::HashSet;
use std::path::Path;

mod common;
use common::{exit, jsonl, rmsweep};
use rmsweep_fixtures::{collections, images};
use serde_json::Value;

fn mapping() -> serde_json::Map<String, Value> {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../contrib/opensearch/rmsweep-mapping.json");
    let m: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    m["mappings"]["properties"].as_object().unwrap().clone()
}

/// Whether `v` is a value the mapping type `t` takes.
fn fits(t: &Value, v: &Value) -> bool {
    if v.is_null() {
        return true;
    }
    if let Some(props) = t.get("properties").and_then(Value::as_object) {
        let one = |o: &Value| {
            o.as_object().is_some_and(|o| {
                o.iter()
                    .all(|(k, v)| props.get(k).is_some_and(|t| fits(t, v)))
            })
        };
        return match v {
            Value::Array(items) => items.iter().all(one),
            o => one(o),
        };
    }
    let scalar = |v: &Value| match t["type"].as_str().unwrap() {
        "keyword" | "text" => v.is_string(),
        "long" => v.is_i64() || v.is_u64(),
        "boolean" => v.is_boolean(),
        "date" => v
            .as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
        "object" => t["enabled"] == false,
        other => panic!("unexpected mapping type {other}"),
    };
    match v {
        Value::Array(items) if t["type"] != "object" => items.iter().all(scalar),
        v => scalar(v),
    }
}

#[test]
fn bulk_export_is_action_and_record_lines_the_mapping_types() {
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("case");
    let i = index.to_str().unwrap();
    images::unpack(tmp.path(), &["ws01-gpt.vhdx"]).unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sample-volume");
    let junk = tmp.path().join("Collection-WS07-2026-01-01T00_00_00Z.zip");
    std::fs::write(&junk, b"PK\x03\x04junk").unwrap();
    let roots = [
        (sample, vec!["--label", "S"], 0),
        (tmp.path().join("ws01-gpt.vhdx"), vec![], 2),
        (collections::zip(collections::WS04), vec![], 0),
        (junk, vec![], 2),
    ];
    for (root, extra, code) in &roots {
        let mut args = vec!["scan", root.to_str().unwrap(), "--index", i, "--quiet"];
        args.extend(extra);
        exit(&rmsweep(&args), *code);
    }
    let records = jsonl(&rmsweep(&["export", "--index", i, "--format", "jsonl"]));
    let out = rmsweep(&["export", "--index", i, "--format", "bulk"]);
    exit(&out, 0);
    let lines: Vec<Value> = jsonl(&out);
    assert_eq!(lines.len(), 2 * records.len());
    assert!(records.len() > 500, "{}", records.len());
    let kinds: HashSet<&str> = records
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    for k in ["template", "setting", "evidence", "eul", "unreadable"] {
        assert!(kinds.contains(k), "no {k} record to check");
    }
    let mapping = mapping();
    let mut ids = HashSet::new();
    for (pair, record) in lines.chunks(2).zip(&records) {
        let action = pair[0].as_object().unwrap();
        assert_eq!(action.len(), 1);
        let id = action["index"]["_id"].as_str().unwrap();
        assert_eq!(id.len(), 32);
        assert!(ids.insert(id.to_string()), "_id {id} twice");
        assert_eq!(&pair[1], record, "the document is the record");
        for (k, v) in record.as_object().unwrap() {
            let t = mapping
                .get(k)
                .unwrap_or_else(|| panic!("{k} is not in the mapping"));
            assert!(fits(t, v), "{k}: {v} does not fit {t}");
        }
    }
    // The same records exported again get the same ids.
    let again = jsonl(&rmsweep(&["export", "--index", i, "--format", "bulk"]));
    assert_eq!(again, lines);
    // Summaries have no documents to index.
    let out = rmsweep(&["templates", "--index", i, "--format", "bulk"]);
    assert_ne!(out.status.code(), Some(0));
}
