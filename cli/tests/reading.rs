//! Reading an index back as an examiner does: tables readable at 80 and
//! 120 columns with the host named, CSV that streams, and trust patterns
//! that either work as documented or say why they cannot.

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::exit;
use rmsweep_fixtures::collections::{self, HUNT};

/// The three-client hunt download scanned into an index under `dir`.
fn hunt_index(dir: &Path) -> String {
    let idx = dir.join("idx");
    let hunt = collections::zip(HUNT);
    let out = common::rmsweep(&[
        "scan",
        hunt.to_str().unwrap(),
        "--index",
        idx.to_str().unwrap(),
        "--quiet",
    ]);
    exit(&out, 0);
    idx.to_str().unwrap().to_string()
}

/// `rmsweep ARGS…` with the terminal `columns` wide.
fn at_width(columns: usize, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rmsweep"))
        .args(args)
        .env("COLUMNS", columns.to_string())
        .output()
        .unwrap()
}

#[test]
fn tables_name_the_host_and_the_store_and_fit_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = hunt_index(tmp.path());
    let args = [
        "stale",
        "--index",
        &idx,
        "--as-of",
        "2026-06-01",
        "--format",
        "table",
    ];
    let out = at_width(80, &args);
    exit(&out, 0);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "LABEL                    REASONS             KIND      NAME"
    );
    assert_eq!(
        lines[1],
        "WS04-C.0123456789abcdef  expired             clc       frank@contoso.com"
    );
    assert!(lines
        .iter()
        .all(|l| l.chars().count() <= 80 || l.starts_with('(')));
    assert_eq!(
        lines.last().unwrap(),
        &"(18 rows; left out at 80 columns: valid_until, issuer_name, issued, owner, path (--wide shows every column, --format csv every field))"
    );
    // Every host shows under its own label.
    let labels: std::collections::BTreeSet<&str> = lines[1..lines.len() - 1]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        labels.into_iter().collect::<Vec<_>>(),
        ["WS04-C.0123456789abcdef", "WS04-C.fedcba9876543210", "WS07"]
    );
    // At 120 columns the owner and the store come back; --wide shows every
    // column and whole paths.
    let out = at_width(120, &args);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("LABEL                    REASONS           KIND      OWNER        NAME                    STORE/FILE\n"),
        "{text}"
    );
    let mut wide = args.to_vec();
    wide.push("--wide");
    let out = at_width(80, &wide);
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().nth(1).unwrap();
    assert!(
        first.contains("  2024-04-22 00:00  2025-04-22 00:00  /"),
        "{first}"
    );
    assert!(first.ends_with("}}-Default.drm"), "{first}");
}

#[test]
fn every_table_command_takes_wide() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = hunt_index(tmp.path());
    for cmd in ["templates", "issuers", "search", "export", "settings"] {
        let mut args = vec![cmd, "--index", &idx, "--format", "table"];
        if cmd == "search" {
            args.insert(1, "kind:template");
        }
        let narrow = at_width(80, &args);
        exit(&narrow, 0);
        args.push("--wide");
        let wide = at_width(80, &args);
        exit(&wide, 0);
        let last = |o: &std::process::Output| {
            let t = String::from_utf8_lossy(&o.stdout).into_owned();
            t.lines().last().unwrap_or_default().to_string()
        };
        assert!(!last(&wide).contains("left out"), "{cmd}: {}", last(&wide));
        assert!(
            last(&narrow).contains("left out at 80 columns"),
            "{cmd}: {}",
            last(&narrow)
        );
    }
}

#[test]
fn csv_has_every_field_of_every_row() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = hunt_index(tmp.path());
    let out = common::rmsweep(&["export", "--index", &idx, "--format", "csv"]);
    exit(&out, 0);
    let text = String::from_utf8(out.stdout).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    // Store records' fields, then those only setting records have.
    assert_eq!(&header[..3], ["path", "label", "volume_path"]);
    assert!(header.contains(&"setting") && header.contains(&"template_id"));
    assert!(
        !header.contains(&"other"),
        "fewer rows than the sample: no `other`"
    );
    let jsonl = common::rmsweep(&["export", "--index", &idx, "--format", "jsonl"]);
    assert_eq!(text.lines().count() - 1, common::jsonl(&jsonl).len());
}

#[test]
fn trust_patterns_work_as_documented_or_say_why_not() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = hunt_index(tmp.path());
    let foreign = |pattern: &str| {
        let out = common::rmsweep(&[
            "foreign", "--index", &idx, "--trust", pattern, "--format", "jsonl",
        ]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), common::jsonl(&out).len(), err)
    };
    // A domain, its wildcard form and a URL of a server in it all trust
    // CONTOSO-RMS (rms.contoso.com), as does its exact name.
    for p in [
        "contoso.com",
        "*.contoso.com",
        "https://rms.contoso.com/_wmcs",
        "CONTOSO-RMS",
    ] {
        assert_eq!(foreign(p), (Some(0), 0, String::new()), "{p}");
    }
    // A bare word matches nothing: the hosts whose own registry does not
    // trust CONTOSO-RMS list its records, and stderr says why.
    let (code, rows, err) = foreign("contoso");
    assert_eq!((code, rows), (Some(0), 8));
    assert_eq!(
        err,
        "rmsweep: --trust contoso matched no issuer in this index: a pattern is a host or domain (contoso.com, *.contoso.com, a URL), an issuer, RMS service or tenant ID, or an exact issuer name (CONTOSO-RMS); `rmsweep issuers` lists them\n"
    );
    // Any other wildcard is refused before anything is read.
    let (code, rows, err) = foreign("contoso.*");
    assert_eq!((code, rows), (Some(1), 0));
    assert!(
        err.contains("--trust \"contoso.*\": a wildcard is only understood as a leading `*.`"),
        "{err}"
    );
}
