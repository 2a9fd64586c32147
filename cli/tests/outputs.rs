//! Outputs examiners use: the Timesketch timeline, shell completions, the man page.

use std::process::Command;

use serde_json::Value;

fn rmsweep(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rmsweep"))
        .args(args)
        .output()
        .unwrap()
}

fn sample() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/sample-volume")
        .display()
        .to_string()
}

#[test]
fn timesketch_events_have_the_required_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    assert_eq!(
        rmsweep(&[
            "scan",
            &sample(),
            "--index",
            idx.to_str().unwrap(),
            "--quiet"
        ])
        .status
        .code(),
        Some(0)
    );
    let records: Vec<Value> = String::from_utf8(
        rmsweep(&[
            "export",
            "--index",
            idx.to_str().unwrap(),
            "--format",
            "jsonl",
        ])
        .stdout,
    )
    .unwrap()
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    let out = rmsweep(&[
        "export",
        "--index",
        idx.to_str().unwrap(),
        "--format",
        "timesketch",
    ]);
    assert!(out.status.success());
    let events: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // One event per time a record has.
    let expected: usize = records
        .iter()
        .map(|r| {
            [
                "issued",
                "valid_from",
                "valid_until",
                "modified",
                "changed",
                "created",
            ]
            .iter()
            .filter(|k| r[**k].is_string())
            .count()
                + usize::from(r["content_expiry"]["date"].is_string())
        })
        .sum();
    assert_eq!(events.len(), expected);
    for e in &events {
        let message = e["message"].as_str().unwrap();
        assert!(!message.is_empty());
        let datetime =
            chrono::DateTime::parse_from_rfc3339(e["datetime"].as_str().unwrap()).unwrap();
        assert_eq!(e["timestamp"].as_i64(), Some(datetime.timestamp_micros()));
        assert!(!e["timestamp_desc"].as_str().unwrap().is_empty());
        // Record fields come along, flattened to scalars.
        assert!(e["path"].is_string() && e["kind"].is_string());
        assert!(e
            .as_object()
            .unwrap()
            .values()
            .all(|v| !v.is_array() && !v.is_object()));
    }
    let issued = events
        .iter()
        .find(|e| {
            e["template_id"] == "4b1010c0-92b8-4169-8493-b5137c6fe168"
                && e["timestamp_desc"] == "Issued"
        })
        .unwrap();
    assert_eq!(issued["datetime"], "2010-06-11T21:44:00.000000Z");
    assert_eq!(issued["message"], "template \"CONTOSO Template\" by CONTOSO-RMS (rms), profile bob.V6 on sample-volume: Issued");
    // Summaries are not records: the format is not offered for them.
    let bad = rmsweep(&[
        "templates",
        "--index",
        idx.to_str().unwrap(),
        "--format",
        "timesketch",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("[possible values: table, json, jsonl, csv]"),
        "{err}"
    );
}

#[test]
fn completions_and_man_page_generate() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = rmsweep(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("rmsweep") && text.contains("templates") && text.contains("foreign"),
            "{shell}"
        );
    }
    let man = String::from_utf8(rmsweep(&["man"]).stdout).unwrap();
    assert!(
        man.starts_with(".ie") || man.starts_with(".TH"),
        "{}",
        &man[..80.min(man.len())]
    );
    assert!(man.contains("rmsweep") && man.contains("scan"));
    // One page holds every command's options and the query fields; it
    // names no page that does not exist.
    for held in [
        ".SS \"rmsweep scan\"",
        ".SS \"rmsweep stale\"",
        "\\-\\-older\\-than",
        "\\-\\-trust\\-file",
        ".SH \"QUERY SYNTAX AND FIELDS\"",
        "template_id",
        "Exit status",
    ] {
        assert!(man.contains(held), "{held}");
    }
    assert!(!man.contains("rmsweep\\-scan(1)"));
}
