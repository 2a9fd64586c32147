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

/// `n` records for the index benches: the sample volume's records, repeated
/// with distinct labels, profiles and paths (and their issuer chains dropped,
/// which keeps a million stored documents to a reasonable size).
pub fn synthetic_records(n: usize) -> Vec<rmsweep_scanner::Record> {
    use rmsweep_scanner::{plan, run, Root, ScanConfig};
    let config = ScanConfig {
        roots: vec![Root::new(sample_volume())],
        deep: false,
        threads: 2,
        read: Default::default(),
        cancel: Default::default(),
        io: Default::default(),
    };
    let mut base = Vec::new();
    run(&plan(&config).unwrap(), &config, |found| {
        if let rmsweep_scanner::Found::File(r) = found {
            base.push(r);
        }
        Ok::<(), ()>(())
    })
    .unwrap();
    (0..n)
        .map(|i| {
            let mut r = base[i % base.len()].clone();
            let copy = i / base.len();
            r.label = format!("host{:03}", copy % 50);
            r.path = format!("{}#{copy}", r.path);
            if r.profile.is_some() {
                r.profile = Some(format!("user{:05}", copy % 20_000));
            }
            if r.content.principal.is_some() {
                r.content.principal = Some(format!("user{:05}@contoso.com", copy % 20_000));
            }
            r.content.chain.clear();
            r
        })
        .collect()
}

/// An index of `n` synthetic documents, built once and reused.
pub fn large_index(n: usize) -> rmsweep_index::RmsIndex {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../target/rmsweep-bench-index-{n}"));
    if let Ok(idx) = rmsweep_index::RmsIndex::open(&dir) {
        if rmsweep_index::searcher(&idx).is_ok_and(|s| s.num_docs() as usize == n) {
            return idx;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "benches: building a {n}-document index at {} (once)",
        dir.display()
    );
    let idx = rmsweep_index::RmsIndex::open_or_create(&dir).unwrap();
    let mut session = rmsweep_index::IndexSession::start(
        &idx,
        2,
        rmsweep_index::history::Run::new("bench", vec![], None),
    )
    .unwrap();
    for chunk_start in (0..n).step_by(100_000) {
        for r in synthetic_records((n - chunk_start).min(100_000))
            .iter_mut()
            .enumerate()
            .map(|(i, r)| {
                r.path = format!("{}~{}", r.path, chunk_start + i);
                r
            })
        {
            session.upsert(r).unwrap();
        }
    }
    session.finish().unwrap();
    idx
}
