//! Rows out: table (fits the terminal, [`crate::table`]), JSON, JSON lines,
//! CSV, bulk, Timesketch. Every command turns its results into JSON objects
//! and hands them here with the columns a table should show; every format
//! streams.

use std::io::{self, IsTerminal, Write};
use std::ops::ControlFlow;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::args::Format;
use crate::error::{CliError, Status};
use crate::table::{Table, SAMPLE};

/// The format to use: the flag, else table on a terminal and JSON lines otherwise.
pub fn pick(flag: Option<Format>) -> Format {
    flag.unwrap_or(if io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Jsonl
    })
}

/// Rows written as they come: every format streams (memory does not grow
/// with the number of rows). A table takes its column widths and CSV its
/// columns from the first [`crate::table::SAMPLE`] rows, held until then.
pub struct RowSink {
    format: Format,
    out: io::BufWriter<io::StdoutLock<'static>>,
    /// Rows written so far (JSON separators).
    written: usize,
    table: Table,
    csv: Csv,
    failed: Option<io::Error>,
}

impl RowSink {
    /// `columns`: what a table shows; `wide`: a table shows whole paths and
    /// every column, however wide.
    pub fn new(format: Format, columns: &[&'static str], wide: bool) -> RowSink {
        RowSink {
            format,
            out: io::BufWriter::new(io::stdout().lock()),
            written: 0,
            table: Table::new(columns, terminal_width(), wide),
            csv: Csv::default(),
            failed: None,
        }
    }

    fn stop(&mut self, r: io::Result<()>) -> ControlFlow<()> {
        match r {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                self.failed = Some(e);
                ControlFlow::Break(())
            }
        }
    }

    fn separator(&mut self) -> io::Result<()> {
        let sep = match (self.written, self.format) {
            (0, Format::Json) => "[\n",
            (_, Format::Json) => ",\n",
            _ => "",
        };
        self.written += 1;
        self.out.write_all(sep.as_bytes())
    }

    /// A record as stored JSON text: JSON and JSON lines copy it unparsed.
    pub fn raw(&mut self, row: &RawValue) -> ControlFlow<()> {
        match self.format {
            Format::Jsonl | Format::Json => {
                let r = self
                    .separator()
                    .and_then(|()| self.out.write_all(row.get().as_bytes()))
                    .and_then(|()| match self.format {
                        Format::Jsonl => self.out.write_all(b"\n"),
                        _ => Ok(()),
                    });
                self.stop(r)
            }
            _ => self.value(serde_json::from_str(row.get()).unwrap_or(Value::Null)),
        }
    }

    /// A row.
    pub fn value(&mut self, row: Value) -> ControlFlow<()> {
        let r = match self.format {
            Format::Table => self.table.push(&mut self.out, &row),
            Format::Csv => self.csv.push(&mut self.out, row),
            Format::Jsonl => serde_json::to_writer(&mut self.out, &row)
                .map_err(io::Error::from)
                .and_then(|()| self.out.write_all(b"\n")),
            Format::Json => self.separator().and_then(|()| {
                serde_json::to_writer_pretty(&mut self.out, &row).map_err(io::Error::from)
            }),
            Format::Bulk => match row.get("path") {
                None => Err(io::Error::new(io::ErrorKind::InvalidInput, "the bulk format is for records (search, stale, foreign, export), not for summaries")),
                Some(_) => bulk_lines(&row).and_then(|lines| self.out.write_all(&lines)),
            },
            Format::Timesketch => {
                if row.get("path").is_none() {
                    Err(io::Error::new(io::ErrorKind::InvalidInput, "the timesketch format is for records (search, stale, foreign, export), not for summaries"))
                } else {
                    crate::timeline::events(&row).iter().try_for_each(|e| {
                        serde_json::to_writer(&mut self.out, e)?;
                        self.out.write_all(b"\n")
                    })
                }
            }
        };
        self.stop(r)
    }

    /// Writes what was collected and closes the output: a reader that went
    /// away (`| head`) ends it quietly, as in other Unix tools.
    pub fn finish(mut self) -> Result<Status, CliError> {
        let r = match self.failed.take() {
            Some(e) => Err(e),
            None => self.write_end(),
        };
        match r {
            Ok(()) => Ok(Status::Success),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(Status::Success),
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => Err(e.to_string().into()),
            Err(e) => Err(format!("cannot write to standard output: {e}").into()),
        }
    }

    fn write_end(&mut self) -> io::Result<()> {
        match self.format {
            Format::Json if self.written == 0 => self.out.write_all(b"[]\n")?,
            Format::Json => self.out.write_all(b"\n]\n")?,
            Format::Csv => std::mem::take(&mut self.csv).finish(&mut self.out)?,
            Format::Table => {
                let table = std::mem::replace(&mut self.table, Table::new(&[], 0, false));
                table.finish(&mut self.out)?
            }
            Format::Jsonl | Format::Timesketch | Format::Bulk => {}
        }
        self.out.flush()
    }
}

/// A record as the bulk API takes it: its `index` action, then itself.
fn bulk_lines(row: &Value) -> io::Result<Vec<u8>> {
    let action = serde_json::json!({"index": {"_id": bulk_id(row)}});
    let mut lines = serde_json::to_vec(&action)?;
    lines.push(b'\n');
    serde_json::to_writer(&mut lines, row)?;
    lines.push(b'\n');
    Ok(lines)
}

/// A record's document id in a search cluster: the same record exported
/// again gets the same id (re-ingesting replaces, never duplicates). What
/// identifies a record: its host and file, and for a registry record the
/// setting, key, value and whether it was recovered.
fn bulk_id(row: &Value) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for k in [
        "label",
        "path",
        "kind",
        "setting",
        "key",
        "value",
        "recovered",
    ] {
        h.update(row.get(k).map(|v| v.to_string()).unwrap_or_default());
        h.update([0]);
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `rows` to standard output for a command.
pub fn emit(
    rows: Vec<Value>,
    format: Format,
    table_columns: &[&'static str],
    wide: bool,
) -> Result<Status, CliError> {
    let mut sink = RowSink::new(format, table_columns, wide);
    for row in rows {
        if sink.value(row).is_break() {
            break;
        }
    }
    sink.finish()
}

/// Host names for a message or title: the first `shown`, then how many more
/// (`H1, H2, H3, 4997 more hosts`): a fleet has thousands.
pub fn some_hosts<'a>(names: impl IntoIterator<Item = &'a str>, shown: usize) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut more = 0;
    for n in names {
        if out.len() < shown {
            out.push(n);
        } else {
            more += 1;
        }
    }
    let rest = format!("{more} more hosts");
    if more > 0 {
        out.push(&rest);
    }
    out.join(", ")
}

/// A cell as text: strings as they are, lists joined, objects as JSON.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| cell(Some(i)))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

/// A column's value: a top-level key, or for records a few derived ones.
pub(crate) fn column(row: &Value, name: &str) -> String {
    match name {
        "owner" => {
            let p = cell(row.get("profile"));
            if p.is_empty() {
                cell(row.get("sid"))
            } else {
                p
            }
        }
        "name" if row.get("name").is_none() => {
            // A record: its best template name, else its principal.
            let names = row.get("template_names").and_then(Value::as_array);
            let best = names.and_then(|n| n.iter().find(|x| x["lcid"] == 1033).or(n.first()));
            best.map(|b| cell(b.get("name")))
                .unwrap_or_else(|| cell(row.get("principal")))
        }
        _ => cell(row.get(name)),
    }
}

/// Neutralises a cell a spreadsheet would run as a formula (template names
/// come from attackers as often as from admins).
pub fn csv_safe(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// CSV written as rows come: its columns are every key of the first
/// [`SAMPLE`] rows; when more rows follow, a last column `other` holds, as
/// JSON, any key first seen after them.
#[derive(Default)]
struct Csv {
    held: Vec<Value>,
    columns: Option<Columns>,
}

/// CSV columns in order, and as a set for the `other` check.
struct Columns {
    names: Vec<String>,
    known: std::collections::HashSet<String>,
    /// Whether the last column is `other` (rows came after the sample).
    other: bool,
}

impl Csv {
    fn push(&mut self, out: &mut impl Write, row: Value) -> io::Result<()> {
        if let Some(columns) = &self.columns {
            return write_csv_row(out, columns, &row);
        }
        self.held.push(row);
        if self.held.len() < SAMPLE {
            return Ok(());
        }
        self.start(out, true)
    }

    /// Writes the header and the held rows.
    fn start(&mut self, out: &mut impl Write, more: bool) -> io::Result<()> {
        let mut columns: Vec<String> = Vec::new();
        for r in &self.held {
            for k in r.as_object().into_iter().flat_map(|o| o.keys()) {
                if !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
        let mut header: Vec<String> = columns.iter().map(|c| csv_safe(c)).collect();
        if more {
            header.push("other".into());
        }
        writeln!(out, "{}", header.join(","))?;
        let columns = Columns {
            known: columns.iter().cloned().collect(),
            names: columns,
            other: more,
        };
        for r in std::mem::take(&mut self.held) {
            write_csv_row(out, &columns, &r)?;
        }
        self.columns = Some(columns);
        Ok(())
    }

    fn finish(mut self, out: &mut impl Write) -> io::Result<()> {
        if self.columns.is_none() {
            self.start(out, false)?;
        }
        Ok(())
    }
}

fn write_csv_row(out: &mut impl Write, columns: &Columns, row: &Value) -> io::Result<()> {
    let mut line: Vec<String> = columns
        .names
        .iter()
        .map(|c| csv_safe(&cell(row.get(c))))
        .collect();
    if columns.other {
        let other: serde_json::Map<String, Value> = row
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| !columns.known.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        line.push(if other.is_empty() {
            String::new()
        } else {
            csv_safe(&Value::Object(other).to_string())
        });
    }
    writeln!(out, "{}", line.join(","))
}

fn terminal_width() -> usize {
    if let Some(w) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return w;
    }
    // SAFETY: TIOCGWINSZ fills a winsize struct; nothing else is touched.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: as above: standard output's descriptor and a valid out-pointer.
    if unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_col > 0
    {
        ws.ws_col as usize
    } else {
        160
    }
}

/// A path or name for a line of text output or a message: control
/// characters (newlines, ESC…) written as [`push_control`] writes them, so a
/// crafted name can neither split a line nor drive the terminal.
pub fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            push_control(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

/// The one way rmsweep shows a control character: `\x1b` (ASCII) or
/// `\u{0085}`.
pub fn push_control(out: &mut String, c: char) {
    use std::fmt::Write as _;
    let _ = if (c as u32) < 0x80 {
        write!(out, "\\x{:02x}", c as u32)
    } else {
        write!(out, "\\u{{{:04x}}}", c as u32)
    };
}

/// Control characters never reach the terminal (names are attacker-controlled);
/// RFC 3339 times are shown to the minute (JSON and CSV keep them whole).
pub(crate) fn printable(s: &str) -> String {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    // `YYYY-MM-DDTHH:MM:` exactly: a name that only looks like a time (a
    // multi-byte character or a control character inside) is no time.
    let is_time = b.len() >= 17
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':';
    if is_time {
        return format!("{} {}", &s[..10], &s[11..16]);
    }
    s.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_neutralises_formulas_and_quotes() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_safe("+1"), "'+1");
        assert_eq!(csv_safe("-2"), "'-2");
        assert_eq!(csv_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_safe("\tx"), "'\tx");
        assert_eq!(csv_safe("plain"), "plain");
        assert_eq!(csv_safe("a,b"), "\"a,b\"");
    }

    #[test]
    fn csv_streams_after_the_sample_and_keeps_late_fields() {
        let mut csv = Csv::default();
        let mut out = Vec::new();
        for i in 0..SAMPLE {
            csv.push(
                &mut out,
                serde_json::json!({"path": format!("p{i}"), "kind": "eul"}),
            )
            .unwrap();
        }
        // The header and every held row are out before the next row comes.
        assert_eq!(String::from_utf8_lossy(&out).lines().count(), SAMPLE + 1);
        csv.push(
            &mut out,
            serde_json::json!({"path": "late", "kind": "setting", "setting": "x"}),
        )
        .unwrap();
        csv.finish(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "path,kind,other");
        assert_eq!(lines[1], "p0,eul,");
        assert_eq!(
            lines[SAMPLE + 1],
            "late,setting,\"{\"\"setting\"\":\"\"x\"\"}\""
        );
    }

    #[test]
    fn line_output_escapes_control_characters() {
        assert_eq!(escaped("a\nb\u{1b}c\td"), "a\\x0ab\\x1bc\\x09d");
        assert_eq!(escaped("Ä/ok"), "Ä/ok");
    }

    #[test]
    fn names_that_look_like_times_are_never_cut_inside_a_character() {
        assert_eq!(
            printable("2024-01-01T00:0é accent"),
            "2024-01-01T00:0é accent"
        );
        assert_eq!(
            printable("2024-01-01T\u{1b}c:00:00"),
            "2024-01-01T\u{FFFD}c:00:00"
        );
        assert_eq!(printable("2024-05-02T09:12:00Z"), "2024-05-02 09:12");
    }
}
