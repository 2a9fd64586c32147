//! `rmsweep`: a thin binary over the scanner and index libraries.
//!
//! Exit status: 0 everything was read; 2 the run finished but some files had
//! errors (each is a record); 1 nothing could be done (bad arguments, an
//! unrecognised root, an output that cannot be written).

mod args;
mod scan_cmd;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(a) => scan_cmd::run(a),
        Command::Parse(a) => parse_files(a),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "rmsweep: {message}");
            ExitCode::from(1)
        }
    }
}

fn parse_files(a: args::ParseArgs) -> Result<ExitCode, String> {
    use rmsweep_scanner::parse::{parse_store_file, ChainCache, Content, NameTable};
    use rmsweep_scanner::read;
    let cache = ChainCache::new();
    let table = if a.msdrm {
        NameTable::Msdrm
    } else {
        NameTable::Msipc
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut errors = 0;
    let mut buf = Vec::new();
    for path in &a.files {
        let content = match read::read_file(path, &read::ReadOptions::default(), &mut buf) {
            Ok((_, bytes)) => {
                let name = path.file_name().and_then(|n| n.to_str());
                parse_store_file(&bytes, &cache, name, table)
            }
            Err(e) => Content::unreadable(e.to_string()),
        };
        if content.error.is_some() {
            errors += 1;
        }
        let line = serde_json::json!({ "path": path.display().to_string(), "record": content });
        writeln!(out, "{line}").map_err(|e| format!("cannot write to standard output: {e}"))?;
    }
    out.flush()
        .map_err(|e| format!("cannot write to standard output: {e}"))?;
    Ok(if errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
