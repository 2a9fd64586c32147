//! Command-line arguments (clap derive). Nothing here does work: `main`
//! turns these into the libraries' plain config structs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "rmsweep",
    version,
    about = "Sweep Microsoft Rights Management (MSIPC/MSDRM) license and template stores on mounted Windows volumes"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find and parse every MSIPC/MSDRM store file under the roots.
    Scan(ScanArgs),
    /// Parse single files (carved or exported) and print their records as JSON lines.
    Parse(ParseArgs),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Mounted volumes, profile shares, profiles, store folders (or anything with --deep).
    #[arg(required = true, value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    /// Write one JSON object per store file to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,
    /// Host or case name carried by every record (default: each root's folder name).
    #[arg(long)]
    pub label: Option<String>,
    /// Walk the whole tree for Microsoft/MSIPC and Microsoft/DRM folders (unusual layouts).
    #[arg(long)]
    pub deep: bool,
    /// Reader/parser threads (default: the number of cores; more helps on slow shares).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Never memory-map files (for network shares: a file truncated under a map kills the process).
    #[arg(long)]
    pub no_mmap: bool,
    /// Larger files become an unreadable record instead of being read.
    #[arg(long, value_name = "BYTES", default_value_t = rmsweep_scanner::read::DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// No summary on standard error.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Files to parse.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// File names use the MSDRM (RMS client 1) escape table.
    #[arg(long)]
    pub msdrm: bool,
}
