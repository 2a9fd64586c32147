//! Helpers shared by the command-line tests: run the binary, check its exit
//! status, read its JSON lines.

#![allow(dead_code)] // each test file uses some of them

use std::process::{Command, Output};

/// Runs `rmsweep ARGS…` to completion.
pub fn rmsweep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rmsweep"))
        .args(args)
        .output()
        .expect("run rmsweep")
}

/// Asserts the exit status; the standard error, for more checks.
pub fn exit(out: &Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{err}");
    err
}

/// The JSON lines a command printed.
pub fn jsonl(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `from` copied below `to`, folders and files (hard links with `link`).
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path, link: bool) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()), link);
        } else if link {
            std::fs::hard_link(e.path(), to.join(e.file_name())).unwrap();
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Records counted by label and kind (`setting`, `evidence`, or `store`
/// for every store file).
pub fn per_label(rs: &[serde_json::Value]) -> std::collections::BTreeMap<(String, String), usize> {
    let mut per = std::collections::BTreeMap::new();
    for r in rs {
        let kind = match r["kind"].as_str().unwrap() {
            k @ ("setting" | "evidence") => k,
            _ => "store",
        };
        *per.entry((r["label"].as_str().unwrap().to_string(), kind.to_string()))
            .or_default() += 1;
    }
    per
}
