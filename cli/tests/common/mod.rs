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
