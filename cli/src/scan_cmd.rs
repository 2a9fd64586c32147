//! `rmsweep scan`: plan, run, write records, print the summary.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use rmsweep_scanner::read::{ReadOptions, MMAP_THRESHOLD};
use rmsweep_scanner::{Root, ScanConfig, ScanSummary};

use crate::args::ScanArgs;

/// The plain configuration the scan runs with.
pub fn config(a: &ScanArgs) -> ScanConfig {
    ScanConfig {
        roots: a
            .roots
            .iter()
            .map(|p| match &a.label {
                Some(l) => Root {
                    path: p.clone(),
                    label: l.clone(),
                },
                None => Root::new(p),
            })
            .collect(),
        deep: a.deep,
        threads: a.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        }),
        read: ReadOptions {
            max_file_size: a.max_file_size,
            mmap_threshold: (!a.no_mmap).then_some(MMAP_THRESHOLD),
        },
    }
}

pub fn run(a: ScanArgs) -> Result<ExitCode, String> {
    let config = config(&a);
    let Some(target) = &a.jsonl else {
        return Err(
            "nowhere to write records: pass --jsonl FILE (or - for standard output)".into(),
        );
    };
    let plan = rmsweep_scanner::plan(&config).map_err(|e| e.to_string())?;
    let mut out: Box<dyn Write> = if target.as_os_str() == "-" {
        Box::new(BufWriter::new(io::stdout().lock()))
    } else {
        let f = File::create(target)
            .map_err(|e| format!("{}: cannot create the output file: {e}", target.display()))?;
        Box::new(BufWriter::new(f))
    };
    let summary = rmsweep_scanner::run(&plan, &config, |record| {
        serde_json::to_writer(&mut out, &record).map_err(io::Error::from)?;
        out.write_all(b"\n")
    })
    .and_then(|s| out.flush().map(|_| s))
    .map_err(|e| format!("{}: cannot write records: {e}", target.display()))?;
    for (path, why) in &plan.listing_errors {
        eprintln!("rmsweep: {}: cannot list: {why}", path.display());
    }
    if !a.quiet {
        print_summary(&plan, &summary);
    }
    Ok(if summary.errors > 0 || summary.listing_errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_summary(plan: &rmsweep_scanner::scan::Plan, s: &ScanSummary) {
    let mut e = io::stderr().lock();
    let roots: Vec<String> = plan
        .roots
        .iter()
        .map(|(p, label, kind)| {
            format!("{} ({:?}, label {label})", p.display(), kind).to_lowercase()
        })
        .collect();
    let _ = writeln!(e, "roots:    {}", roots.join(", "));
    let _ = writeln!(e, "profiles: {}", s.profiles);
    let stores: Vec<String> = s
        .stores
        .iter()
        .map(|((m, a, c), n)| format!("{}/{}/{} {n}", c.as_str(), m.as_str(), a.as_str()))
        .collect();
    let _ = writeln!(
        e,
        "stores:   {} ({})",
        s.stores.values().sum::<usize>(),
        stores.join(", ")
    );
    let kinds: Vec<String> = s
        .files_by_kind
        .iter()
        .map(|(k, n)| format!("{} {n}", k.as_str()))
        .collect();
    let _ = writeln!(
        e,
        "files:    {} ({}); {} logs skipped",
        s.records,
        kinds.join(", "),
        s.logs_skipped
    );
    let _ = writeln!(
        e,
        "errors:   {} files, {} folders",
        s.errors, s.listing_errors
    );
    let secs = s.elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        s.records as f64 / secs
    } else {
        0.0
    };
    let _ = writeln!(
        e,
        "read:     {} bytes in {:.2} s ({:.0} files/s, {} distinct chain documents)",
        s.bytes, secs, rate, s.distinct_chain_documents
    );
}
