//! `import`: JSON lines written by `scan --jsonl` on other machines become
//! the same index a scan would have built; importing a host again replaces
//! that host only.

use std::path::Path;

mod common;
use common::{exit, rmsweep};
use rmsweep_fixtures::collections::{self, WS04};

fn sample() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sample-volume")
}

/// `export --format jsonl`, sorted.
fn exported(index: &Path) -> Vec<String> {
    let out = rmsweep(&[
        "export",
        "--index",
        index.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    exit(&out, 0);
    let mut lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// `scan ROOT OUTPUT… [--label LABEL] --quiet`, which must succeed.
fn scan_to(root: &Path, label: Option<&str>, output: [&str; 2]) {
    let mut args = vec![
        "scan",
        root.to_str().unwrap(),
        output[0],
        output[1],
        "--quiet",
    ];
    if let Some(l) = label {
        args.extend(["--label", l]);
    }
    exit(&rmsweep(&args), 0);
}

/// `import --index INDEX FILES…`.
fn import(index: &Path, files: &[&Path]) -> std::process::Output {
    let mut args = vec!["import", "--index", index.to_str().unwrap()];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    rmsweep(&args)
}

fn scan_jsonl(root: &Path, label: Option<&str>, out: &Path) {
    scan_to(root, label, ["--jsonl", out.to_str().unwrap()]);
}

#[test]
fn imported_lines_give_the_index_a_scan_would_have_built() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a.jsonl"), tmp.path().join("b.jsonl"));
    scan_jsonl(&sample(), Some("HOSTA"), &a);
    scan_jsonl(&collections::zip(WS04), None, &b);
    let direct = tmp.path().join("direct");
    for (root, label) in [(sample(), Some("HOSTA")), (collections::zip(WS04), None)] {
        scan_to(&root, label, ["--index", direct.to_str().unwrap()]);
    }
    let imported = tmp.path().join("imported");
    let out = import(&imported, &[&a, &b]);
    let err = exit(&out, 0);
    let want = exported(&direct);
    assert_eq!(want.len(), 125);
    assert!(
        err.contains(&format!(
            "imported 125 records of 2 hosts (HOSTA, WS04) into {}",
            imported.display()
        )),
        "{err}"
    );
    assert_eq!(exported(&imported), want);
}

#[test]
fn importing_a_host_again_replaces_that_host_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a.jsonl"), tmp.path().join("b.jsonl"));
    scan_jsonl(&sample(), Some("HOSTA"), &a);
    scan_jsonl(&collections::zip(WS04), None, &b);
    let index = tmp.path().join("case");
    exit(&import(&index, &[&a, &b]), 0);
    let ws04: Vec<String> = exported(&index)
        .into_iter()
        .filter(|l| l.contains(r#""label":"WS04""#))
        .collect();
    assert_eq!(ws04.len(), 46);
    // HOSTA scanned again, from one profile only: its other records go.
    let bob = sample().join("Users/bob.V6");
    let a2 = tmp.path().join("a2.jsonl");
    scan_jsonl(&bob, Some("HOSTA"), &a2);
    let hosta_now = std::fs::read_to_string(&a2).unwrap().lines().count();
    assert_eq!(hosta_now, 11);
    exit(&import(&index, &[&a2]), 0);
    let after = exported(&index);
    assert_eq!(after.len(), 46 + hosta_now);
    let kept: Vec<&String> = after
        .iter()
        .filter(|l| l.contains(r#""label":"WS04""#))
        .collect();
    assert_eq!(kept.len(), 46);
    assert!(kept.iter().zip(&ws04).all(|(k, w)| *k == w));
}

#[test]
fn lines_that_are_no_records_are_skipped_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let b = tmp.path().join("b.jsonl");
    scan_jsonl(&collections::zip(WS04), None, &b);
    let mut text = std::fs::read_to_string(&b).unwrap();
    text.insert_str(0, "{\"not\":\"a record\"}\n\n");
    std::fs::write(&b, text).unwrap();
    let index = tmp.path().join("case");
    let out = import(&index, &[&b]);
    let err = exit(&out, 2);
    assert!(
        err.contains(&format!("{}:1: not a record rmsweep wrote (", b.display())),
        "{err}"
    );
    assert!(
        err.contains("imported 46 records of 1 host (WS04)"),
        "{err}"
    );
    assert!(err.contains("; 1 lines skipped"), "{err}");
    assert_eq!(exported(&index).len(), 46);
    // A missing input: nothing is created.
    let fresh = tmp.path().join("fresh");
    let out = import(&fresh, &[&b, &tmp.path().join("missing.jsonl")]);
    let err = exit(&out, 1);
    assert!(err.contains("missing.jsonl: cannot read it"), "{err}");
    assert!(!fresh.exists());
}

#[test]
fn summaries_by_host_are_each_hosts_own() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a.jsonl"), tmp.path().join("b.jsonl"));
    scan_jsonl(&sample(), Some("HOSTA"), &a);
    scan_jsonl(&collections::zip(WS04), None, &b);
    let both = tmp.path().join("both");
    exit(&import(&both, &[&a, &b]), 0);
    let rows = |index: &Path, command: &str, by_host: bool| -> Vec<serde_json::Value> {
        let mut args = vec![
            command,
            "--index",
            index.to_str().unwrap(),
            "--format",
            "jsonl",
        ];
        if by_host {
            args.push("--by-host");
        }
        let out = rmsweep(&args);
        exit(&out, 0);
        common::jsonl(&out)
    };
    for command in ["templates", "issuers"] {
        let grouped = rows(&both, command, true);
        let mut per_host = Vec::new();
        for (label, lines) in [("HOSTA", &a), ("WS04", &b)] {
            let alone = tmp.path().join(format!("{command}-{label}"));
            exit(&import(&alone, &[lines]), 0);
            for mut row in rows(&alone, command, false) {
                let mut with = serde_json::Map::new();
                with.insert("label".into(), label.into());
                with.append(row.as_object_mut().unwrap());
                per_host.push(serde_json::Value::Object(with));
            }
        }
        assert!(per_host.len() > 2, "{command}");
        assert_eq!(grouped, per_host, "{command} --by-host");
    }
    // Over every host: how many hosts hold each template.
    let templates = rows(&both, "templates", false);
    let hosts = |id: &str| {
        templates
            .iter()
            .find(|r| r["template_id"] == id)
            .map(|r| r["hosts"].clone())
    };
    assert_eq!(
        hosts("9b336a35-bcea-441f-b11b-613649fd751d"),
        Some(2.into())
    );
    assert_eq!(
        hosts("d4a06dde-2f58-47b1-bd05-a9fa7b19387b"),
        Some(1.into())
    );
}

#[test]
fn a_report_over_many_hosts_names_three_and_counts_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.jsonl");
    scan_jsonl(&sample(), Some("HOSTA"), &a);
    let one = std::fs::read_to_string(&a).unwrap();
    // Five hosts with the same stores.
    let many: String = (1..=5)
        .map(|i| one.replace(r#""label":"HOSTA""#, &format!(r#""label":"H{i}""#)))
        .collect();
    let lines = tmp.path().join("fleet.jsonl");
    std::fs::write(&lines, many).unwrap();
    let index = tmp.path().join("case");
    let i = index.to_str().unwrap();
    exit(&import(&index, &[&lines]), 0);
    let html = tmp.path().join("report.html");
    exit(
        &rmsweep(&["report", "--index", i, "--out", html.to_str().unwrap()]),
        0,
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<h1>rmsweep report: H1, H2, H3, 2 more hosts</h1>"),
        "{}",
        &page[..page.len().min(600)]
    );
    // Each template and issuer row counts the hosts holding it.
    let rows = common::jsonl(&rmsweep(&["templates", "--index", i, "--format", "jsonl"]));
    assert!(rows.iter().all(|r| r["hosts"] == 5), "{rows:?}");
}

#[test]
fn an_issuer_shows_the_host_most_of_its_records_name() {
    // HOSTA's records as scanned, and one record of a second host whose copy
    // names another server of the same cluster (same issuer ID).
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.jsonl");
    scan_jsonl(&sample(), Some("HOSTA"), &a);
    let lines = std::fs::read_to_string(&a).unwrap();
    let one = lines
        .lines()
        .find(|l| {
            l.contains(r#""issuer_host":"rms.contoso.com""#) && l.contains(r#""kind":"template""#)
        })
        .unwrap()
        .replace(r#""label":"HOSTA""#, r#""label":"HOSTB""#)
        .replace(
            r#""issuer_host":"rms.contoso.com""#,
            r#""issuer_host":"rms2.contoso.com""#,
        );
    let b = tmp.path().join("b.jsonl");
    std::fs::write(&b, format!("{one}\n")).unwrap();
    let index = tmp.path().join("case");
    let i = index.to_str().unwrap();
    exit(&import(&index, &[&a, &b]), 0);
    // Every run gives the same host, the one most records name.
    for _ in 0..3 {
        let rows = common::jsonl(&rmsweep(&["issuers", "--index", i, "--format", "jsonl"]));
        let contoso: Vec<&serde_json::Value> = rows
            .iter()
            .filter(|r| r["issuer_name"] == "CONTOSO-RMS")
            .collect();
        let hosts: Vec<&str> = contoso
            .iter()
            .filter(|r| r["hosts"] == 2)
            .map(|r| r["issuer_host"].as_str().unwrap())
            .collect();
        assert_eq!(hosts, ["rms.contoso.com"], "{contoso:?}");
    }
}
