//! `rmsweep scan`: plan, run, write records to the index and/or JSON lines,
//! print the summary.
//!
//! Incremental: when writing only to the index, files whose size and
//! modification time match what the index holds for the same label are not
//! read again, and records of files gone from the scanned roots are removed
//! (the policy is the index library's [`Rescan`]).

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, OnceLock};

use rmsweep_index::history::Run;
use rmsweep_index::rescan::Rescan;
use rmsweep_index::{IndexSession, RmsIndex};
use rmsweep_scanner::locate::collection;
use rmsweep_scanner::pipeline::UnchangedCheck;
use rmsweep_scanner::volume::{ReadOptions, Stat, MMAP_THRESHOLD};
use rmsweep_scanner::{
    CancelToken, Found, IoConfig, Plan, Root, RunError, ScanConfig, ScanSummary,
};

use crate::args::ScanArgs;
use crate::error::{CliError, Status};
use crate::output::escaped;

/// The plain configuration the scan runs with.
pub fn config(a: &ScanArgs) -> ScanConfig {
    ScanConfig {
        roots: a
            .roots
            .iter()
            .map(|p| Root {
                path: p.clone(),
                label: a.label.clone(),
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
        cancel: CancelToken::default(),
        io: IoConfig {
            depth: a.io_depth,
            timeout: std::time::Duration::from_secs(a.io_timeout),
        },
    }
}

/// The scan's cancel flag, set by SIGINT/SIGTERM: stop reading, commit what
/// was read, exit.
static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();
static STOP_SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_stop_signal(sig: libc::c_int) {
    // Only atomics (and a set OnceLock's load): async-signal-safe.
    STOP_SIGNAL.store(sig, Ordering::SeqCst);
    if let Some(stop) = STOP.get() {
        stop.store(true, Ordering::SeqCst);
    }
}

/// Ctrl-C (or SIGTERM) once: finish gracefully. Twice: the default action.
fn install_stop_handler(cancel: &CancelToken) {
    let _ = STOP.set(cancel.flag());
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction with a handler that only stores atomics.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_stop_signal as *const () as usize;
            sa.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// Why the sink stopped the scan.
enum Stop {
    /// Standard output was closed by its reader.
    Closed,
    Failed(String),
}

/// Where records go.
struct Outputs {
    index: Option<(PathBuf, IndexSession)>,
    jsonl: Option<(PathBuf, Box<dyn Write>)>,
}

pub fn run(a: ScanArgs) -> Result<Status, CliError> {
    let config = config(&a);
    if a.dry_run {
        return dry_run(&config, a.quiet);
    }
    // Every root is read before anything is created: a mistyped root leaves
    // no index, no output file and no history entry.
    let plan = rmsweep_scanner::plan(&config)?;
    let index_dir = match (&a.index, &a.jsonl) {
        (Some(dir), _) => Some(dir.clone()),
        (None, None) => Some(PathBuf::from("rmsweep-index")),
        (None, Some(_)) => None,
    };
    if let Some(dir) = &index_dir {
        refuse_inside_roots(&plan, "--index", dir)?;
        check_hosts(dir, &plan, &config, a.replace)?;
    }
    if let Some(target) = a.jsonl.as_ref().filter(|t| t.as_os_str() != "-") {
        refuse_inside_roots(&plan, "--jsonl", target)?;
    }
    let jsonl = match &a.jsonl {
        Some(target) if target.as_os_str() == "-" => Some((
            target.clone(),
            Box::new(BufWriter::new(io::stdout())) as Box<dyn Write>,
        )),
        Some(target) => {
            let f = File::create(target)
                .map_err(|e| format!("{}: cannot create the output file: {e}", target.display()))?;
            Some((
                target.clone(),
                Box::new(BufWriter::new(f)) as Box<dyn Write>,
            ))
        }
        None => None,
    };
    // The index lock: a second scan on the same index fails here, at once.
    let index = match &index_dir {
        Some(dir) => {
            let idx = RmsIndex::open_or_create(dir)?;
            let mut run = Run::new(
                "scan",
                a.roots.iter().map(|r| r.display().to_string()).collect(),
                a.label.clone(),
            );
            run.profiles_examined = Some(plan.profiles as u64);
            run.evidence = plan
                .roots
                .iter()
                .map(|r| r.stored().to_string_lossy().into_owned())
                .collect();
            let session =
                IndexSession::start_with(&idx, config.threads.clamp(1, 4), a.commit_every, run)?;
            Some((idx, session))
        }
        None => None,
    };
    install_stop_handler(&config.cancel);
    // Skipping unchanged files only makes sense when the index is the sole output.
    let incremental = index.is_some() && jsonl.is_none() && !a.full;
    // What the index holds under the scanned roots (every record of the
    // label with --replace): to skip unchanged files and to remove gone ones.
    let tracked = incremental || (index.is_some() && a.replace);
    let rescan = match (&index, tracked) {
        (Some((idx, _)), true) => {
            let labels = plan.labels();
            let scopes = labels
                .iter()
                .map(|l| (l.clone(), scanned_roots(&plan, l, a.replace)));
            Rescan::load(idx, scopes)?
        }
        _ => Rescan::untracked(),
    };
    // The index stays open for reading: a re-scan names the files gone from it.
    let (index_for_gone, session) = match index {
        Some((idx, s)) => (Some(idx), Some(s)),
        None => (None, None),
    };
    let mut outputs = Outputs {
        index: index_for_gone.as_ref().map(|i| i.dir.clone()).zip(session),
        jsonl,
    };
    // Records carry the path lossily when it is not UTF-8; so do the keys.
    let unchanged = |label: &str, path: &Path, st: &Stat| {
        rescan.unchanged(label, &path.to_string_lossy(), st.size, st.mtime_ns)
    };
    // A fresh index holds nothing: no file needs an `lstat` to be compared.
    let check: Option<&UnchangedCheck> = if incremental && rescan.knows_anything() {
        Some(&unchanged)
    } else {
        None
    };
    // Built on the worker threads: the index document and the JSON line.
    let fields = outputs.index.as_ref().map(|(_, s)| s.fields().clone());
    let want_line = outputs.jsonl.is_some();
    let prepare = |found: Found| {
        let line = want_line.then(|| json_lines(&found));
        // Each key's (label, path), in the order `prepare` gives its documents.
        let keys: Vec<(&str, &str)> = match &found {
            Found::File(r) => vec![(&r.label, &r.path)],
            Found::Evidence(r) => vec![(&r.label, &r.path)],
            Found::Hive(h) => std::iter::once((&h.hive().label, &h.hive().path))
                .chain(h.files.iter().map(|r| (&r.label, &r.path)))
                .map(|(l, p)| (l.as_str(), p.as_str()))
                .collect(),
        };
        let docs = fields.as_ref().map(|f| {
            rmsweep_index::prepare(f, &found)
                .into_iter()
                .zip(&keys)
                .map(|(doc, (label, path))| rescan.mark(doc, label, path))
                .collect::<Vec<_>>()
        });
        (line, docs)
    };
    // A progress bar on a terminal only (never in pipes or logs), without colour.
    let bar = (!a.quiet && io::stderr().is_terminal()).then(|| {
        // Files are listed store by store as the scan goes: no total to show.
        let bar = indicatif::ProgressBar::new_spinner();
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{elapsed_precise} {spinner} {pos} files read, {rate}, {msg}",
        ) {
            // Whole files per second (indicatif's own prints four decimals).
            bar.set_style(style.with_key(
                "rate",
                |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} files/s", s.per_sec());
                },
            ));
        }
        bar.set_message(format!(
            "{} stores of {} profiles",
            plan.stores.len(),
            plan.profiles
        ));
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar
    });
    let mut handed = 0usize;
    let summary =
        rmsweep_scanner::run_incremental(&plan, &config, check, &prepare, |(line, docs)| {
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            handed += 1;
            if let (Some((path, out)), Some(line)) = (&mut outputs.jsonl, line) {
                out.write_all(&line).map_err(|e| match e.kind() {
                    // The reader went away (`| head`).
                    io::ErrorKind::BrokenPipe => Stop::Closed,
                    _ => Stop::Failed(format!("{}: cannot write records: {e}", path.display())),
                })?;
            }
            if let (Some((_, session)), Some(docs)) = (&mut outputs.index, docs) {
                for doc in docs {
                    session
                        .upsert_prepared(doc)
                        .map_err(|e| Stop::Failed(e.to_string()))?;
                }
            }
            Ok::<(), Stop>(())
        });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let summary = match summary {
        Ok(s) => s,
        Err(RunError::Sink(Stop::Failed(message))) => return Err(message.into()),
        Err(RunError::Sink(Stop::Closed)) => {
            // A scan that stopped early says so, and does not exit 0.
            let kept = match outputs.index.take() {
                Some((dir, session)) => {
                    session.finish_interrupted()?;
                    format!(
                        "; the index {} holds the {} records read before that: run the scan again to finish it",
                        dir.display(),
                        handed.saturating_sub(1)
                    )
                }
                None => String::new(),
            };
            eprintln!("rmsweep: standard output was closed before the scan finished{kept}");
            return Ok(Status::OutputClosed);
        }
        Err(e @ RunError::Dispatcher(..)) => {
            if let Some((_, session)) = outputs.index.take() {
                let _ = session.finish_interrupted();
            }
            return Err(e.to_string().into());
        }
    };
    let deleted = match (&mut outputs.index, tracked && !summary.interrupted) {
        (Some((_, session)), true) => {
            let idx = index_for_gone.as_ref().ok_or("the index went away")?;
            let unlisted: Vec<PathBuf> = summary
                .listing_errors
                .iter()
                .map(|(p, _)| p.clone())
                .collect();
            rescan.remove_gone(idx, &unlisted, session)?
        }
        _ => 0,
    };
    if let Some((path, out)) = &mut outputs.jsonl {
        out.flush()
            .map_err(|e| format!("{}: cannot write records: {e}", path.display()))?;
    }
    let written = match outputs.index.take() {
        Some((dir, session)) => {
            let stats = if summary.interrupted {
                session.finish_interrupted()
            } else {
                session.finish()
            };
            Some((dir, stats?))
        }
        None => None,
    };
    for (path, why) in &summary.listing_errors {
        eprintln!(
            "rmsweep: {}: cannot list: {why}",
            escaped(&path.to_string_lossy())
        );
    }
    if !a.quiet {
        print_summary(
            &plan,
            &summary,
            deleted,
            written.as_ref().map(|(d, _)| d.as_path()),
        );
    }
    if summary.interrupted {
        let sig = STOP_SIGNAL.load(Ordering::SeqCst);
        let kept = match &written {
            Some((dir, _)) => format!(
                "the {} records read were committed to {}",
                summary.records,
                dir.display()
            ),
            None => format!("the {} records read were written", summary.records),
        };
        eprintln!("rmsweep: interrupted: {kept}; run the same command again to finish (unchanged files are skipped)");
        return Ok(Status::Interrupted(sig));
    }
    Ok(Status::partial_if(
        summary.errors > 0 || summary.unread > 0 || !summary.listing_errors.is_empty(),
    ))
}

/// Lists what a scan would read.
/// What a file gave as JSON lines (a hive's records one per line).
fn json_lines(found: &Found) -> Vec<u8> {
    fn line(v: &mut Vec<u8>, r: &impl serde::Serialize) {
        // Records are plain data: serialising them cannot fail.
        let _ = serde_json::to_writer(&mut *v, r);
        v.push(b'\n');
    }
    let mut v = Vec::new();
    match found {
        Found::File(r) => line(&mut v, r),
        Found::Evidence(r) => line(&mut v, r),
        Found::Hive(h) => {
            h.records.iter().for_each(|r| line(&mut v, r));
            h.files.iter().for_each(|r| line(&mut v, r));
        }
    }
    v
}

fn dry_run(config: &ScanConfig, quiet: bool) -> Result<Status, CliError> {
    let plan = rmsweep_scanner::plan(config)?;
    let mut out = BufWriter::new(io::stdout().lock());
    let mut closed = false;
    let counts = plan.for_each_file(
        |label, path| {
            // A reader that went away (`| head`) ends the listing.
            let (label, path) = (escaped(label), escaped(&path.to_string_lossy()));
            closed = writeln!(out, "{label}\t{path}").is_err();
            !closed
        },
        |path, why| {
            eprintln!(
                "rmsweep: {}: cannot list: {why}",
                escaped(&path.to_string_lossy())
            )
        },
    );
    if closed {
        return Ok(Status::Success);
    }
    let _ = out.flush();
    if !quiet {
        eprintln!(
            "{} store files in {} stores of {} profiles ({} logs skipped), {} registry hives; {} folders could not be listed",
            counts.files,
            plan.stores.len(),
            plan.profiles,
            counts.logs_skipped,
            counts.hives,
            counts.listing_errors
        );
        let ntuser = plan
            .hives
            .iter()
            .filter(|h| h.hive.kind == rmsweep_scanner::registry::HiveKind::Ntuser)
            .count();
        if ntuser > 0 {
            let hives = if ntuser == 1 { "hive is" } else { "hives are" };
            eprintln!(
                "(template folders that Office's AdminTemplatePath names are found when the {ntuser} NTUSER.DAT {hives} read: not listed here)"
            );
        }
    }
    Ok(Status::partial_if(counts.listing_errors > 0))
}

/// Each root of `label` as scanned: the index records under them are those
/// a re-scan may remove (every record of the label with `--replace`).
fn scanned_roots(plan: &Plan, label: &str, replace: bool) -> Vec<String> {
    if replace {
        return vec![String::new()];
    }
    plan.scanned
        .iter()
        .filter(|(l, _)| l == label)
        .map(|(_, root)| root.to_string_lossy().into_owned())
        .collect()
}

/// Refuses an output inside a scanned root.
fn refuse_inside_roots(plan: &Plan, flag: &str, target: &Path) -> Result<(), CliError> {
    let roots: Vec<PathBuf> = plan.roots.iter().map(|r| r.stored()).collect();
    crate::paths::refuse_inside(flag, target, &roots)
}

/// Stops a scan whose evidence is another host than the one the index
/// holds under the same label, before anything is written.
fn check_hosts(
    dir: &Path,
    plan: &Plan,
    config: &ScanConfig,
    replace: bool,
) -> Result<(), CliError> {
    if replace || !dir.join(rmsweep_index::open::META_FILE).exists() {
        return Ok(());
    }
    let idx = RmsIndex::open(dir)?;
    let configs = rmsweep_index::hostconfig::load(&idx)?;
    let list = |s: &std::collections::BTreeSet<String>| {
        s.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
    };
    let refuse = |label: &str, what: &str, known: &str, found: &str| {
        format!(
            "{}: label {label:?} holds another host ({what} {known}) than this evidence ({what} {found}). \
             Nothing was changed. Scan it under its own label (--label HOST), or pass --replace to replace \
             every record of {label:?} with this scan's",
            dir.display()
        )
    };
    for label in plan.labels() {
        let known = rmsweep_index::hosts::machine_ids(&idx, &label)?;
        if !known.is_empty() {
            let found = rmsweep_scanner::identity::sample_machine_ids(plan, &label, &config.read);
            if !found.is_empty() && found.is_disjoint(&known) {
                return Err(refuse(&label, "machine IDs", &list(&known), &list(&found)).into());
            }
        }
        // The computer name, where both the index and the evidence have a SYSTEM hive.
        let known = configs.get(&label).map(|c| &c.computer_names);
        if let Some(known) = known.filter(|k| !k.is_empty()) {
            let found = rmsweep_scanner::identity::computer_names(plan, &label);
            if !found.is_empty() && found.is_disjoint(known) {
                return Err(refuse(&label, "computer name", &list(known), &list(&found)).into());
            }
        }
    }
    Ok(())
}

fn print_summary(plan: &Plan, s: &ScanSummary, deleted: usize, index: Option<&Path>) {
    let mut e = io::stderr().lock();
    let roots: Vec<String> = plan
        .roots
        .iter()
        .map(|r| {
            let drive = r
                .drive
                .as_deref()
                .map(|d| format!(", drive {d}"))
                .unwrap_or_default();
            let container = match r.image.container_kind {
                Some(k) => format!(" in {}", k.describe()),
                None => String::new(),
            };
            format!(
                "{} ({}{container}, label {}{drive})",
                escaped(&r.stored().to_string_lossy()),
                collection::describe(r.kind, r.collector),
                escaped(&r.label)
            )
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
        "files:    {} read ({}); {} unchanged; {} logs skipped",
        s.records - s.hives - s.unread,
        kinds.join(", "),
        s.unchanged,
        s.logs_skipped
    );
    let _ = writeln!(
        e,
        "registry: {} hives read of {} found, {} settings",
        s.hives,
        plan.hives.len(),
        s.settings
    );
    let _ = writeln!(
        e,
        "errors:   {} files, {} folders, {} images or containers (kind:evidence)",
        s.errors,
        s.listing_errors.len(),
        s.unread
    );
    if let Some(dir) = index {
        let _ = writeln!(
            e,
            "index:    {} ({} records written, {} removed)",
            dir.display(),
            s.records,
            deleted
        );
    }
    let secs = s.elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        (s.records + s.unchanged) as f64 / secs
    } else {
        0.0
    };
    let _ = writeln!(
        e,
        "elapsed:  {:.2} s, {} bytes read ({:.0} files/s, {} distinct chain documents)",
        secs, s.bytes, rate, s.distinct_chain_documents
    );
    if let Some(fs) = plan.io.remote {
        let limit = match plan.io.timeout.as_secs() {
            0 => "no limit".to_string(),
            n => format!("each given up after {n} s"),
        };
        let _ = writeln!(
            e,
            "share:    a {fs} file system: {} requests in flight ({limit}; --io-depth, --io-timeout)",
            plan.io.depth
        );
    }
}
