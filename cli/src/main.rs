//! `rmsweep`: a thin binary over the scanner and index libraries.
//!
//! Exit status: 0 everything was read; 2 the run finished but some files had
//! errors (each is a record); 1 nothing could be done (bad arguments, an
//! unrecognised root, an index that cannot be opened or written).

mod args;
mod cal;
mod error;
mod man;
mod output;
mod paths;
mod query_cmd;
mod report;
mod scan_cmd;
mod table;
mod timeline;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::error::{CliError, Status};
use args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let index = cli.command.index().map(|p| p.to_path_buf());
    // A panic (a damaged index can make tantivy panic while reading it) ends
    // with a message and exit 1, never a backtrace and exit 101.
    let caught = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    {
        let caught = std::sync::Arc::clone(&caught);
        std::panic::set_hook(Box::new(move |info| {
            let what = rmsweep_scanner::panic_message(info.payload());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            // The last panic: one the hive reader caught and survived must
            // not stand for the one that ends the run.
            if let Ok(mut c) = caught.lock() {
                *c = Some(format!("{what}{at}"));
            }
        }));
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dispatch(cli)))
        .unwrap_or_else(|_| {
            let what = caught
                .lock()
                .ok()
                .and_then(|c| c.clone())
                .unwrap_or_default();
            Err(match &index {
                Some(dir) => format!(
                    "{}: the index could not be read ({what}); it may be damaged: rebuild it by scanning the evidence into a new folder (`rmsweep scan ROOT --index NEWDIR`)",
                    dir.display()
                ).into(),
                None => format!("internal error ({what}); please report it").into(),
            })
        });
    match result {
        Ok(code) => code.into(),
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "rmsweep: {message}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli) -> Result<Status, CliError> {
    match cli.command {
        Command::Scan(a) => scan_cmd::run(a),
        Command::Search(a) => query_cmd::search(a),
        Command::Templates(a) => query_cmd::templates(a),
        Command::Issuers(a) => query_cmd::issuers(a),
        Command::Stale(a) => query_cmd::stale(a),
        Command::Foreign(a) => query_cmd::foreign(a),
        Command::Export(a) => query_cmd::export(a),
        Command::Settings(a) => query_cmd::settings(a),
        Command::Merge(a) => query_cmd::merge(a),
        Command::Import(a) => query_cmd::import(a),
        Command::Report(a) => report::run(a),
        Command::Parse(a) => parse_files(a),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "rmsweep", &mut std::io::stdout());
            Ok(Status::Success)
        }
        Command::Man => man::render(&mut std::io::stdout().lock())
            .map(|_| Status::Success)
            .map_err(|e| format!("cannot write the manual page: {e}").into()),
    }
}

fn parse_files(a: args::ParseArgs) -> Result<Status, CliError> {
    use rmsweep_scanner::parse::{parse_store_file, ChainCache, Content, NameTable};
    use rmsweep_scanner::volume::{host, ReadError, ReadOptions};
    let cache = ChainCache::new();
    let table = if a.msdrm {
        NameTable::Msdrm
    } else {
        NameTable::Msipc
    };
    let mut rows = Vec::new();
    let mut errors = 0;
    let mut buf = Vec::new();
    for path in &a.files {
        let content = match host::read_file(path, &ReadOptions::default(), &mut buf) {
            Ok((_, bytes)) => parse_store_file(
                &bytes,
                &cache,
                path.file_name().and_then(|n| n.to_str()),
                table,
            ),
            // Nothing was listed before: a missing file is missing, not vanished.
            Err(ReadError::Vanished) => Content::unreadable(
                "no such file: check the path (a carved or exported store file)",
            ),
            Err(e) => Content::unreadable(e.to_string()),
        };
        if content.error.is_some() {
            errors += 1;
        }
        let mut v = serde_json::to_value(&content).unwrap_or_default();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("path".into(), path.display().to_string().into());
        }
        rows.push(v);
    }
    output::emit(
        rows,
        output::pick(a.format),
        &[
            "kind",
            "name",
            "issuer_name",
            "issuer_host",
            "issued",
            "valid_until",
            "error",
            "path",
        ],
        a.wide,
    )?;
    Ok(Status::partial_if(errors > 0))
}
