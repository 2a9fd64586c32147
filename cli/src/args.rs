//! Command-line arguments (clap derive). Nothing here does work: the command
//! modules turn these into the libraries' plain config structs.

use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "rmsweep",
    version,
    about = "Sweep Microsoft Rights Management (MSIPC/MSDRM) license and template stores on mounted Windows volumes",
    after_help = "Exit status: 0 all read; 2 finished, but some files had errors (each is a record); 1 nothing could be done; 130/143 interrupted (Ctrl-C, SIGTERM) after committing what was read; 141 standard output closed before the scan finished."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The fields a query may name (a test keeps this equal to the schema's).
macro_rules! search_fields {
    () => {
        "label, path, drive, machine_id, owner, content_id, principal_id, rights, kind, store_mode, \
         store_area, rms_client, profile, sid, sha256, template_id, digest, issuer_id, issuer_host, \
         issuer_kind, rms_service_id, region, tenant_id, principal, anomalies, template_names, \
         issuer_name, error, setting, hive, key, value, server, url, data, container, \
         container_kind, partition, issued, valid_from, valid_until, content_expiry_date, modified, \
         size"
    };
}

#[cfg(test)]
pub const SEARCH_FIELDS: &str = search_fields!();

pub(crate) const SEARCH_HELP: &str = concat!(
    "Fields: ",
    search_fields!(),
    ".\nA bare word searches template_names and issuer_name (words, any case). Keyword fields \
     (kind, profile, sid, GUIDs, hosts, principal, owner, rights…) match the whole value ignoring case; label and \
     path match exactly. GUIDs may keep their braces. Dates: RFC 3339 or a day (midnight UTC).\n\
     Examples:\n  rmsweep search 'issuer_host:rms.contoso.com AND kind:template'\n  \
     rmsweep search 'template_id:{8AC65B31-C233-4791-A2E9-0123456789AB}'\n  \
     rmsweep search 'kind:rac AND valid_until:[* TO 2025-06-01]' --all --format csv"
);

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find and parse every MSIPC/MSDRM store file under the roots, into the index.
    Scan(ScanArgs),
    /// Query the index (tantivy query syntax), e.g. `issuer_host:rms.contoso.com AND kind:template`.
    #[command(after_help = SEARCH_HELP)]
    Search(SearchArgs),
    /// Template inventory: one row per template ID, where it is and how many revisions.
    Templates(SummaryArgs),
    /// One row per issuer (AD RMS cluster, Azure RMS tenant, Microsoft CA).
    Issuers(SummaryArgs),
    /// Records that are stale: templates not refreshed or superseded, expired certificates and content.
    Stale(StaleArgs),
    /// Records issued by an RMS server or tenant that matches none of the trusted patterns.
    Foreign(ForeignArgs),
    /// Every record in the index.
    Export(QueryArgs),
    /// Registry settings per host and profile (refresh intervals, last template refresh per
    /// server, service locations, trusted servers, redirections, Remote Desktop licensing).
    Settings(SettingsArgs),
    /// A self-contained HTML report (summary, charts, inventories) to hand over.
    Report(ReportArgs),
    /// Merge indexes made on different machines into one.
    Merge(MergeArgs),
    /// Add JSON lines written by `scan --jsonl` elsewhere to an index; each
    /// host in them replaces that host's records, the others are kept.
    Import(ImportArgs),
    /// Parse single files (carved or exported) and print their records.
    Parse(ParseArgs),
    /// Shell completions for SHELL (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The manual page (roff), e.g. `rmsweep man > rmsweep.1`.
    Man,
}

impl Command {
    /// The index a command reads or writes, if any.
    pub fn index(&self) -> Option<&std::path::Path> {
        match self {
            Command::Scan(a) => a.index.as_deref(),
            Command::Search(a) => Some(&a.out.index.index),
            Command::Templates(a) | Command::Issuers(a) => Some(&a.index.index),
            Command::Export(a) => Some(&a.index.index),
            Command::Settings(a) => Some(&a.out.index.index),
            Command::Stale(a) => Some(&a.out.index.index),
            Command::Foreign(a) => Some(&a.out.index.index),
            Command::Report(a) => Some(&a.index.index),
            Command::Merge(a) => Some(&a.index),
            Command::Import(a) => Some(&a.index),
            Command::Parse(_) | Command::Completions { .. } | Command::Man => None,
        }
    }
}

/// Output formats, the same flag on every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
    /// Timesketch JSON lines: one event per meaningful time of each record.
    Timesketch,
    /// OpenSearch/Elasticsearch bulk API body: an `index` action (a stable
    /// `_id`) and the record, for each record; post it to `/<index>/_bulk`.
    Bulk,
}

#[derive(Debug, Args)]
pub struct IndexArg {
    /// The index folder.
    #[arg(long, value_name = "DIR", default_value = "rmsweep-index")]
    pub index: PathBuf,
}

/// Formats for summaries (one row per template or issuer): Timesketch is
/// for records, which have times, so it is not offered here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    Table,
    Json,
    Jsonl,
    Csv,
}

impl From<SummaryFormat> for Format {
    fn from(f: SummaryFormat) -> Format {
        match f {
            SummaryFormat::Table => Format::Table,
            SummaryFormat::Json => Format::Json,
            SummaryFormat::Jsonl => Format::Jsonl,
            SummaryFormat::Csv => Format::Csv,
        }
    }
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub index: IndexArg,
    /// Output format (default: table on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    pub format: Option<SummaryFormat>,
    /// One set of rows per host (label), with a `label` column: what each
    /// host of a fleet holds.
    #[arg(long)]
    pub by_host: bool,
    /// Tables: every column, however wide the terminal.
    #[arg(long)]
    pub wide: bool,
}

impl SummaryArgs {
    /// As the record commands' arguments.
    pub fn query(&self) -> QueryArgs {
        QueryArgs {
            index: IndexArg {
                index: self.index.index.clone(),
            },
            format: self.format.map(Format::from),
            wide: self.wide,
        }
    }
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub index: IndexArg,
    /// Output format (default: table on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Tables: whole paths and every column, however wide the terminal.
    #[arg(long)]
    pub wide: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Mounted volumes, KAPE or Velociraptor collections, profile shares, profiles,
    /// parts of them (AppData, ProgramData, MSIPC/Server), store folders (anything with --deep).
    #[arg(required = true, value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    /// The index to write (created if missing). Default ./rmsweep-index unless only --jsonl is given.
    #[arg(long, value_name = "DIR")]
    pub index: Option<PathBuf>,
    /// Also (or only) write one JSON object per store file to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,
    /// Host or case name carried by every record (default: the collection's host
    /// name, else the root folder's name; never a drive letter or a mount point's name).
    #[arg(long)]
    pub label: Option<String>,
    /// The label's evidence is another host now (its machine certificates differ
    /// from the index's): replace every record of the label with this scan's.
    #[arg(long)]
    pub replace: bool,
    /// Walk the whole tree for Microsoft/MSIPC and Microsoft/DRM folders (unusual layouts).
    #[arg(long)]
    pub deep: bool,
    /// Parser threads, 1 to 1024 (default: the number of cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024).map(usize::from))]
    pub threads: Option<usize>,
    /// File-system requests in flight (listings and reads), 1 to 1024 (default: 32 when a root
    /// is on a network or FUSE file system such as an SMB or NFS share, else --threads).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024).map(usize::from))]
    pub io_depth: Option<usize>,
    /// Seconds one request to a network or FUSE file system may take before the file or folder
    /// becomes an error record and the scan goes on (a hung share); 0: wait for ever.
    #[arg(long, value_name = "SECS", default_value_t = rmsweep_scanner::plan::DEFAULT_IO_TIMEOUT.as_secs())]
    pub io_timeout: u64,
    /// Never memory-map files (by default files of 1 MiB or more are mapped, from read-only mounts only).
    #[arg(long)]
    pub no_mmap: bool,
    /// Larger files become an unreadable record instead of being read (at most 1 GiB).
    #[arg(long, value_name = "BYTES", default_value_t = rmsweep_scanner::volume::DEFAULT_MAX_FILE_SIZE,
          value_parser = clap::value_parser!(u64).range(1..=rmsweep_scanner::volume::LARGEST_MAX_FILE_SIZE))]
    pub max_file_size: u64,
    /// Documents between index commits (at least 1): a scan killed midway keeps what was committed.
    #[arg(long, value_name = "N", default_value_t = rmsweep_index::writer::COMMIT_EVERY,
          value_parser = clap::value_parser!(u64).range(1..).map(|n| n as usize))]
    pub commit_every: usize,
    /// List the store files that would be read (one path per line) and stop:
    /// nothing is read and no index is written.
    #[arg(long)]
    pub dry_run: bool,
    /// Re-read every file even when the index holds it unchanged.
    #[arg(long)]
    pub full: bool,
    /// No summary on standard error.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// A tantivy query over the index fields.
    pub query: String,
    #[command(flatten)]
    pub out: QueryArgs,
    /// At most N records (default: 100 in a table on a terminal, every match otherwise).
    #[arg(long, value_name = "N", conflicts_with = "all")]
    pub limit: Option<usize>,
    /// Every matching record.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// Only the settings this query also matches, e.g. `setting:rds.licensing_mode` or `hive:usrclass`.
    pub query: Option<String>,
    #[command(flatten)]
    pub out: QueryArgs,
}

/// What counts as stale.
#[derive(Debug, Args)]
pub struct StaleWindow {
    /// A managed template file untouched this long is not refreshed (e.g. 30d, 12h, 2w).
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub older_than: String,
    /// Judge as of this date (RFC 3339 or YYYY-MM-DD; for a disk image, the acquisition date). Default: now.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

/// Who is trusted to issue templates and licences.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Trusted: a host or domain suffix, an issuer ID, an RMS service ID, a tenant ID, or an exact issuer name.
    #[arg(long, value_name = "PATTERN", num_args = 1..)]
    pub trust: Vec<String>,
    /// A file of trusted patterns, one per line (# starts a comment).
    #[arg(long, value_name = "FILE")]
    pub trust_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StaleArgs {
    #[command(flatten)]
    pub out: QueryArgs,
    #[command(flatten)]
    pub window: StaleWindow,
}

#[derive(Debug, Args)]
pub struct ForeignArgs {
    #[command(flatten)]
    pub out: QueryArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub index: IndexArg,
    /// The HTML file to write (replaced if it exists).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub window: StaleWindow,
    /// With trusted patterns, issuers matching none are marked foreign and their records listed.
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Rows per table at most (the page says how to get the rest).
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub max_rows: usize,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The merged index (created if missing).
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// Indexes to merge into it.
    #[arg(required = true, value_name = "IDX")]
    pub sources: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The index to import into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// JSON lines files (`-`: standard input).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Files to parse.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// File names use the MSDRM (RMS client 1) escape table.
    #[arg(long)]
    pub msdrm: bool,
    /// Output format (default: table on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Tables: whole paths and every column, however wide the terminal.
    #[arg(long)]
    pub wide: bool,
}
