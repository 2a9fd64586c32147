//! `rmsweep report`: one self-contained HTML page to hand to a client or
//! keep with the case: a summary of what the index holds (hosts, profiles,
//! stores, files by kind, errors, scan times), four charts (issuers, the
//! template timeline, stale records per reason, files per profile; for many
//! hosts also hosts per issuer and hosts with findings) and the
//! inventories behind them. No scripts, no network: inline CSS and SVG,
//! readable offline years later.

mod charts;
mod fleet;
mod html;
mod sections;

use std::path::Path;

use rmsweep_index::history;
use rmsweep_index::reports::{self, Found, IssuerRow, TemplateRow, TrustList};
use rmsweep_index::summary::{self, Overview};
use rmsweep_index::{query, RmsIndex};
use serde_json::Value;

use crate::args::ReportArgs;
use crate::error::{CliError, Status};
use crate::output::column;
use crate::query_cmd::{stale_window, trust_list, RECORD_COLUMNS};
use html::{cell, esc, text, time, Page};

/// Headings of the record tables, one per column of [`RECORD_COLUMNS`].
const RECORD_HEADINGS: [html::Col; 7] = [
    text("kind"),
    text("profile or SID"),
    text("name"),
    text("issuer"),
    text("issued"),
    text("valid until"),
    text("path"),
];

/// Bars in the issuer and files-per-profile charts.
const CHART_ROWS: usize = 25;

pub fn run(a: ReportArgs) -> Result<Status, CliError> {
    let (as_of, window) = stale_window(&a.window)?;
    let trust = trust_list(&a.trust)?;
    if a.out.is_dir() {
        return Err(format!(
            "{}: is a folder; --out takes the HTML file to write, e.g. --out report.html",
            a.out.display()
        )
        .into());
    }
    let dir = &a.index.index;
    let idx = RmsIndex::open(dir)?;
    let e = |e: rmsweep_index::IndexError| e.to_string();
    // Every hit counted; only the rows the tables show read.
    let listed = |found: Found| -> Result<Listed, CliError> {
        let rows = found.rows(&idx, Some(a.max_rows)).map_err(e)?;
        Ok(Listed { found, rows })
    };
    let runs = history::runs(&idx).map_err(e)?;
    // Never written inside the evidence the index was made from.
    let roots: Vec<std::path::PathBuf> = runs
        .iter()
        .flat_map(|r| r.evidence.iter().map(std::path::PathBuf::from))
        .collect();
    crate::paths::refuse_inside("--out", &a.out, &roots)?;
    // Foreign is judged where something says what is trusted: --trust, or
    // a host's own registry.
    let configs = rmsweep_index::hostconfig::load(&idx).map_err(e)?;
    let host_trust = configs.values().any(|c| !c.trusted.is_empty());
    let mut settings = Vec::new();
    let settings_total = query::search_each(&idx, CONFIGURATION_QUERY, Some(a.max_rows), |r| {
        settings.push(serde_json::from_str(r.get()).unwrap_or(Value::Null));
        std::ops::ControlFlow::Continue(())
    })
    .map_err(e)?;
    let data = Data {
        overview: summary::overview(&idx).map_err(e)?,
        settings,
        settings_total,
        runs,
        templates: reports::templates(&idx).map_err(e)?,
        issuers: reports::issuers(&idx).map_err(e)?,
        stale: listed(reports::stale(&idx, &configs, as_of.timestamp(), window).map_err(e)?)?,
        foreign: if trust.is_empty() && !host_trust {
            None
        } else {
            Some(listed(
                reports::foreign(&idx, &configs, &trust).map_err(e)?,
            )?)
        },
        unreadable: query::search(&idx, "kind:unreadable", Some(a.max_rows))
            .map_err(e)?
            .iter()
            .map(|r| serde_json::from_str(r.get()).unwrap_or(Value::Null))
            .collect(),
    };
    let trust_args = match (&a.trust.trust_file, a.trust.trust.is_empty()) {
        (Some(f), _) => format!(" --trust-file {}", shell_word(&f.to_string_lossy())),
        (None, false) => format!(
            " --trust {}",
            a.trust
                .trust
                .iter()
                .map(|t| shell_word(t))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        (None, true) => String::new(),
    };
    let context = Context {
        index: dir,
        index_arg: format!("--index {}", shell_word(&dir.to_string_lossy())),
        trust_args,
        as_of: as_of.timestamp(),
        as_of_text: as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        older_than: &a.window.older_than,
        trust: &trust,
        max_rows: a.max_rows,
    };
    let page = sections::render(&data, &context)?;
    write_atomically(&a.out, page.as_bytes())?;
    eprintln!(
        "rmsweep: wrote {} ({} files, {} templates, {} stale, {} unreadable)",
        a.out.display(),
        data.overview.total.files,
        data.templates.len(),
        data.stale.found.total,
        data.overview.total.errors
    );
    Ok(Status::Success)
}

/// The settings the configuration section shows: named ones, not each
/// hive's own record nor unnamed (`other`) values.
const CONFIGURATION_QUERY: &str = "+kind:setting -setting:hive -setting:other";

/// What the report shows, read from the index.
struct Data {
    overview: Overview,
    runs: Vec<history::Run>,
    templates: Vec<TemplateRow>,
    issuers: Vec<IssuerRow>,
    stale: Listed,
    /// With trusted patterns (`--trust` or a host's registry) only.
    foreign: Option<Listed>,
    /// The first registry settings (`CONFIGURATION_QUERY`), and how many there are.
    settings: Vec<Value>,
    settings_total: usize,
    /// The first unreadable records (their number is in the overview).
    unreadable: Vec<Value>,
}

impl Data {
    /// The hosts where `r`'s records are judged foreign (the `foreign` rule:
    /// each host's registry and --trust); 0 when nothing says what is trusted.
    fn foreign_on(&self, r: &IssuerRow) -> usize {
        let (Some(f), Some(key)) = (&self.foreign, r.key()) else {
            return 0;
        };
        f.found.foreign_issuers.get(key).map_or(0, |h| h.len())
    }
}

/// A report's hits and the first of their records.
struct Listed {
    found: Found,
    rows: Vec<Value>,
}

struct Context<'a> {
    index: &'a Path,
    /// `--index DIR`, quoted for a shell: the report's hints are runnable.
    index_arg: String,
    /// ` --trust …` or ` --trust-file F` as given, quoted; empty without.
    trust_args: String,
    as_of: i64,
    as_of_text: String,
    older_than: &'a str,
    trust: &'a TrustList,
    max_rows: usize,
}

/// A word as a POSIX shell reads it: quoted unless it is plain.
/// The hosts a title names: up to three, then how many more (a fleet's
/// thousands of labels are in the hosts table).
fn hosts_named(labels: &[rmsweep_index::summary::LabelSummary]) -> String {
    crate::output::some_hosts(labels.iter().map(|l| l.label.as_str()), 3)
}

fn shell_word(w: &str) -> String {
    let plain = !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:@%+=-,".contains(&b));
    if plain {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// Writes next to `path`, then renames: a reader never sees half a report.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report.html".into());
    let tmp = path.with_file_name(format!(".{name}.writing-{}", std::process::id()));
    let fail = |e: std::io::Error| format!("{}: cannot write the report: {e}", path.display());
    std::fs::write(&tmp, bytes).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })?;
    Ok(())
}

fn opt(s: &Option<String>) -> String {
    s.as_deref().map(cell).unwrap_or_default()
}

fn opt_time(s: &Option<String>) -> String {
    s.as_deref().map(time).map(|t| esc(&t)).unwrap_or_default()
}

/// An issuer's name in a chart: two issuers of one name (a cluster and a
/// tenant, say) told apart by host or ID, a foreign one marked.
fn issuer_chart_name(r: &IssuerRow, d: &Data) -> String {
    let label = issuer_label(r);
    let twins = d
        .issuers
        .iter()
        .filter(|o| issuer_label(o) == label)
        .count();
    let label = match (&r.issuer_host, &r.issuer_id) {
        (Some(h), _) | (None, Some(h)) if twins > 1 => format!("{label} ({h})"),
        _ => label,
    };
    match d.foreign_on(r) > 0 {
        true => format!("{label} (foreign)"),
        false => label,
    }
}

/// Bar labels for issuers: the chart's width, never two alike.
fn issuer_chart_names(rows: &[&IssuerRow], d: &Data) -> Vec<String> {
    let names: Vec<String> = rows.iter().map(|r| issuer_chart_name(r, d)).collect();
    charts::chart_labels(&names, 34)
}

fn issuer_label(r: &IssuerRow) -> String {
    r.issuer_name
        .clone()
        .or_else(|| r.issuer_host.clone())
        .or_else(|| r.issuer_id.clone())
        .unwrap_or_else(|| "(no issuer)".into())
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn card(page: &mut Page, label: &str, value: impl std::fmt::Display, bad: bool) {
    let class = if bad { "card bad" } else { "card" };
    page.raw(&format!(
        "<div class=\"{class}\"><b>{}</b>{}</div>",
        esc(&value.to_string()),
        esc(label)
    ));
}

/// Record cells for the record tables, by column name.
/// A record's cells for `cols`: times to the minute; the path as its store
/// and file name (the whole path on hover), so it does not squeeze the
/// other columns.
fn record_cells(r: &Value, cols: &[&str]) -> Vec<String> {
    cols.iter()
        .map(|c| {
            let v = column(r, c);
            match *c {
                "issued" | "valid_until" | "modified" => esc(&time(&v)),
                "path" => format!(
                    "<span title=\"{}\">{}</span>",
                    esc(&v),
                    cell(&crate::table::short_path(r))
                ),
                _ => cell(&v),
            }
        })
        .collect()
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
