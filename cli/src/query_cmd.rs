//! The query commands: search, templates, issuers, stale, foreign, export,
//! merge. Each opens the index, asks the index library, and hands rows to
//! [`crate::output`].

use chrono::{DateTime, NaiveDate, Utc};
use rmsweep_index::reports::{self, TrustList};
use rmsweep_index::{hostconfig, query, RmsIndex};
use serde_json::Value;

use crate::args::{
    ForeignArgs, ImportArgs, MergeArgs, QueryArgs, SearchArgs, SettingsArgs, StaleArgs,
    StaleWindow, SummaryArgs, TrustArgs,
};
use crate::error::{CliError, Status};
use crate::output;

/// Columns a table shows for stale records: the reasons, then a record's.
const STALE_COLUMNS: &[&str] = &[
    "reasons",
    "kind",
    "owner",
    "name",
    "issuer_name",
    "issued",
    "valid_until",
    "path",
];

/// Columns a table shows for record lists.
pub(crate) const RECORD_COLUMNS: &[&str] = STALE_COLUMNS.split_at(1).1;

fn open(a: &QueryArgs) -> Result<RmsIndex, CliError> {
    Ok(RmsIndex::open(&a.index.index)?)
}

/// Report rows as JSON objects for output.
fn to_rows<T: serde::Serialize>(items: Vec<T>) -> Vec<Value> {
    items
        .iter()
        .map(|r| serde_json::to_value(r).unwrap_or_default())
        .collect()
}

fn emit(rows: Vec<Value>, a: &QueryArgs, columns: &[&'static str]) -> Result<Status, CliError> {
    output::emit(rows, output::pick(a.format), columns, a.wide)
}

/// Streams records to the output as the index hands them over; a table
/// names each record's host where the index holds several.
fn stream(
    idx: &RmsIndex,
    a: &QueryArgs,
    columns: &'static [&'static str],
    read: impl FnOnce(&mut output::RowSink) -> Result<(), rmsweep_index::IndexError>,
) -> Result<Status, CliError> {
    let mut shown = columns.to_vec();
    let hosts = reports::labels(idx)?.len();
    if hosts > 1 && !shown.contains(&"label") {
        shown.insert(0, "label");
    }
    let mut sink = output::RowSink::new(output::pick(a.format), &shown, a.wide);
    read(&mut sink)?;
    sink.finish()
}

/// Records a search shows when neither `--limit` nor `--all` is given and
/// the output is a table on a terminal; elsewhere (files, pipes) every match.
const SCREENFUL: usize = 100;

pub fn search(a: SearchArgs) -> Result<Status, CliError> {
    let idx = open(&a.out)?;
    let format = output::pick(a.out.format);
    let limit = match (a.all, a.limit) {
        (true, _) => None,
        (false, Some(n)) => Some(n),
        (false, None) if format == crate::args::Format::Table => Some(SCREENFUL),
        (false, None) => None,
    };
    let mut matched = 0;
    let code = stream(&idx, &a.out, RECORD_COLUMNS, |sink| {
        matched = query::search_each(&idx, &a.query, limit, |r| sink.raw(&r))?;
        Ok(())
    })?;
    // Never a silent cut: say how many matched and how to get them all.
    if let Some(n) = limit.filter(|&n| matched > n) {
        eprintln!(
            "rmsweep: {n} of {matched} matching records shown: pass --all for every one (or --limit N)"
        );
    }
    Ok(code)
}

pub fn export(a: QueryArgs) -> Result<Status, CliError> {
    let idx = open(&a)?;
    stream(&idx, &a, RECORD_COLUMNS, |sink| {
        query::export_each(&idx, |r| sink.raw(&r))
    })
}

/// Columns a table shows for settings.
const SETTING_COLUMNS: &[&str] = &[
    "label",
    "profile",
    "hive",
    "setting",
    "key",
    "value",
    "data",
    "server",
    "key_last_write",
    "recovered",
];

pub fn settings(a: SettingsArgs) -> Result<Status, CliError> {
    let idx = open(&a.out)?;
    // Each hive's own record (`setting:hive`) is left out: it is a file, not a setting.
    let mut q = "+kind:setting -setting:hive".to_string();
    if let Some(user) = &a.query {
        q = format!("{q} +({user})");
    }
    // A table shows what a client access licence says; other formats keep its bytes.
    let table = output::pick(a.out.format) == crate::args::Format::Table;
    stream(&idx, &a.out, SETTING_COLUMNS, |sink| {
        query::search_each(&idx, &q, None, |r| {
            if !table {
                return sink.raw(&r);
            }
            let mut row: Value = serde_json::from_str(r.get()).unwrap_or(Value::Null);
            crate::cal::summarise(&mut row);
            sink.value(row)
        })
        .map(|_| ())
    })
}

/// A summary's rows, for the whole index or (`--by-host`) host by host with
/// a `label` first.
fn summary_rows<T: serde::Serialize>(
    idx: &rmsweep_index::RmsIndex,
    by_host: bool,
    of: impl Fn(&rmsweep_index::RmsIndex, Option<&str>) -> Result<Vec<T>, rmsweep_index::IndexError>,
) -> Result<Vec<Value>, CliError> {
    if !by_host {
        return Ok(to_rows(of(idx, None)?));
    }
    let mut rows = Vec::new();
    for label in reports::labels(idx)? {
        for row in to_rows(of(idx, Some(&label))?) {
            let mut with = serde_json::Map::new();
            with.insert("label".into(), Value::String(label.clone()));
            with.extend(row.as_object().cloned().unwrap_or_default());
            rows.push(Value::Object(with));
        }
    }
    Ok(rows)
}

/// A summary's table columns, with the host first when it is by host.
fn summary_columns(by_host: bool, columns: &[&'static str]) -> Vec<&'static str> {
    by_host
        .then_some("label")
        .into_iter()
        .chain(columns.iter().copied())
        .collect()
}

pub fn templates(a: SummaryArgs) -> Result<Status, CliError> {
    let by_host = a.by_host;
    let a = a.query();
    let idx = open(&a)?;
    let rows = summary_rows(&idx, by_host, reports::templates_of)?;
    let columns = [
        "name",
        "issuer_name",
        "issuer_host",
        "stores",
        "profiles",
        "hosts",
        "revisions",
        "newest_issued",
        "newest_modified",
        "template_id",
    ];
    emit(rows, &a, &summary_columns(by_host, &columns))
}

pub fn issuers(a: SummaryArgs) -> Result<Status, CliError> {
    let by_host = a.by_host;
    let a = a.query();
    let idx = open(&a)?;
    let rows = summary_rows(&idx, by_host, reports::issuers_of)?;
    let columns = [
        "issuer_name",
        "issuer_host",
        "issuer_kind",
        "region",
        "templates",
        "licenses",
        "profiles",
        "hosts",
        "tenant_id",
        "issuer_id",
    ];
    emit(rows, &a, &summary_columns(by_host, &columns))
}

pub fn stale(a: StaleArgs) -> Result<Status, CliError> {
    let idx = open(&a.out)?;
    let (as_of, window) = stale_window(&a.window)?;
    let configs = hostconfig::load(&idx)?;
    let found = reports::stale(&idx, &configs, as_of.timestamp(), window)?;
    stream(&idx, &a.out, STALE_COLUMNS, |sink| {
        found.for_each(&idx, None, |r| sink.value(r))
    })
}

/// The `--as-of` date (default now) and the `--older-than` window in seconds.
pub fn stale_window(w: &StaleWindow) -> Result<(DateTime<Utc>, i64), CliError> {
    let as_of = match &w.as_of {
        Some(s) => parse_date(s)?,
        None => Utc::now(),
    };
    Ok((as_of, parse_duration(&w.older_than)?))
}

/// The trusted patterns of `--trust` and `--trust-file` (possibly none).
pub fn trust_list(a: &TrustArgs) -> Result<TrustList, CliError> {
    let mut patterns = a.trust.clone();
    if let Some(f) = &a.trust_file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("{}: cannot read the trust file: {e}", f.display()))?;
        patterns.extend(text.lines().map(str::to_string));
    }
    if let Some(why) = patterns.iter().find_map(|p| TrustList::refuse(p)) {
        return Err(why.into());
    }
    Ok(TrustList::new(patterns))
}

/// What a `--trust` pattern that matched no issuer judged says on stderr.
pub fn unmatched_trust_note(unmatched: &[String]) -> Option<String> {
    (!unmatched.is_empty()).then(|| {
        format!(
            "--trust {} matched no issuer in this index: a pattern is a host or domain (contoso.com, *.contoso.com, a URL), an issuer, RMS service or tenant ID, or an exact issuer name (CONTOSO-RMS); `rmsweep issuers` lists them",
            unmatched.join(" ")
        )
    })
}

pub fn foreign(a: ForeignArgs) -> Result<Status, CliError> {
    let trust = trust_list(&a.trust)?;
    let idx = open(&a.out)?;
    let configs = hostconfig::load(&idx)?;
    if trust.is_empty() && configs.values().all(|c| c.trusted.is_empty()) {
        return Err("say what is trusted: no scanned host's registry names trusted servers or service locations, so pass --trust PATTERN… (host or domain, issuer ID, RMS service ID, tenant ID, issuer name) or --trust-file FILE".into());
    }
    let found = reports::foreign(&idx, &configs, &trust)?;
    if let Some(note) = unmatched_trust_note(&found.unmatched_trust) {
        eprintln!("rmsweep: {note}");
    }
    stream(&idx, &a.out, RECORD_COLUMNS, |sink| {
        found.for_each(&idx, None, |r| sink.value(r))
    })
}

pub fn merge(a: MergeArgs) -> Result<Status, CliError> {
    let sources: Vec<&std::path::Path> = a.sources.iter().map(|p| p.as_path()).collect();
    let stats = rmsweep_index::merge::merge(&a.index, &sources)?;
    eprintln!(
        "merged {} records from {} indexes into {}",
        stats.upserted,
        sources.len(),
        a.index.display()
    );
    Ok(Status::Success)
}

/// `import`: every input is opened before the index is touched, so a
/// mistyped name leaves nothing behind.
pub fn import(a: ImportArgs) -> Result<Status, CliError> {
    use std::io::BufReader;
    let mut sources: Vec<(String, Box<dyn std::io::BufRead>)> = Vec::new();
    for f in &a.files {
        let name = f.display().to_string();
        if name == "-" {
            sources.push((name, Box::new(BufReader::new(std::io::stdin()))));
            continue;
        }
        let file = std::fs::File::open(f).map_err(|e| {
            format!(
                "{name}: cannot read it: {e}: give JSON lines written by `rmsweep scan --jsonl`"
            )
        })?;
        sources.push((name, Box::new(BufReader::new(file))));
    }
    let stats = rmsweep_index::import::import(&a.index, sources)?;
    for s in stats.skipped.iter().take(10) {
        eprintln!(
            "{}:{}: not a record rmsweep wrote ({}): skipped",
            s.source, s.line, s.error
        );
    }
    if stats.skipped.len() > 10 {
        eprintln!("… and {} more lines skipped", stats.skipped.len() - 10);
    }
    eprintln!(
        "imported {} records of {} host{} ({}) into {}{}",
        stats.records,
        stats.labels.len(),
        if stats.labels.len() == 1 { "" } else { "s" },
        output::some_hosts(stats.labels.iter().map(String::as_str), 5),
        a.index.display(),
        if stats.skipped.is_empty() {
            String::new()
        } else {
            format!("; {} lines skipped", stats.skipped.len())
        }
    );
    Ok(Status::partial_if(!stats.skipped.is_empty()))
}

/// `2025-06-01` or an RFC 3339 time.
pub fn parse_date(s: &str) -> Result<DateTime<Utc>, CliError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            format!("--as-of {s:?}: expected a date like 2025-06-01 or 2025-06-01T12:00:00Z").into()
        })
}

/// `30d`, `12h`, `2w`, `90m`, `45s` (a bare number is days) → seconds.
pub fn parse_duration(s: &str) -> Result<i64, CliError> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("--older-than {s:?}: expected a duration like 30d, 12h or 2w"))?;
    let mult = match unit {
        "" | "d" => 86_400,
        "w" => 7 * 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => {
            return Err(
                format!("--older-than {s:?}: unknown unit {unit:?} (use s, m, h, d or w)").into(),
            )
        }
    };
    Ok(n * mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_help_names_every_queryable_field() {
        let fields = rmsweep_index::schema::Fields::new();
        assert_eq!(crate::args::SEARCH_FIELDS, fields.queryable().join(", "));
    }

    #[test]
    fn durations_and_dates() {
        assert_eq!(parse_duration("30d").unwrap(), 30 * 86_400);
        assert_eq!(parse_duration("2w").unwrap(), 14 * 86_400);
        assert_eq!(parse_duration("7").unwrap(), 7 * 86_400);
        assert_eq!(
            parse_duration("3y").unwrap_err().to_string(),
            "--older-than \"3y\": unknown unit \"y\" (use s, m, h, d or w)"
        );
        assert_eq!(
            parse_date("2025-06-01").unwrap().to_rfc3339(),
            "2025-06-01T00:00:00+00:00"
        );
        assert!(parse_date("June").is_err());
    }
}
