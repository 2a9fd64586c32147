//! Inputs shared by the benches: real store files from the corpus beside the
//! clone (`../shared/corpus/real` or `$RMSWEEP_CORPUS`) and files of the
//! committed sample volume.

use std::path::{Path, PathBuf};

/// The real corpus, if it is there.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("RMSWEEP_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/real"));
    dir.join("SOURCES.md").is_file().then_some(dir)
}

/// The committed sample volume.
pub fn sample_volume() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sample-volume")
}

/// The first file in `dir` whose name starts with `prefix`.
pub fn file_starting(dir: &Path, prefix: &str) -> Option<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    v.sort();
    v.into_iter().next()
}

/// (name, bytes) of the parse bench's inputs: the real UTF-16LE chains where
/// the corpus is present, else the sample volume's generated ones.
pub fn parse_inputs() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let (dir, origin) = match corpus() {
        Some(c) => (
            c.join("kaedo-ms-aip-attacks/adrms-onprem-dc1.aip.com"),
            "real",
        ),
        None => {
            eprintln!("benches: real corpus not found; using the sample volume's generated chains");
            (
                sample_volume().join("Users/bob.V6/AppData/Local/Microsoft/MSIPC"),
                "generated",
            )
        }
    };
    for (label, prefix) in [
        ("rac", "GIC-"),
        ("clc", "CLC-"),
        ("eul", "EUL-"),
        ("machine_cert", "CERT-Machine-2048"),
    ] {
        if let Some(p) = file_starting(&dir, prefix) {
            out.push((
                format!("{origin}_utf16le_{label}"),
                std::fs::read(p).unwrap(),
            ));
        }
    }
    out.push((
        "real_utf8_template".to_string(),
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../fixtures/real/MS-RMPR_4.5.7_rights-policy-template.xml"),
        )
        .unwrap(),
    ));
    let lcid40 = match corpus() {
        Some(c) => std::fs::read(c.join("azuread-rms-sdk-for-cpp/android_template_01.ptxt")).ok(),
        None => None,
    };
    if let Some(b) = lcid40 {
        out.push(("real_pl_40_lcids".to_string(), b));
    }
    out
}
