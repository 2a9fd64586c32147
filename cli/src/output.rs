//! Rows out: table (fits the terminal), JSON, JSON lines, CSV. Every command
//! turns its results into JSON objects and hands them here with the columns
//! a table should show.

use std::io::{self, IsTerminal, Write};

use serde_json::Value;

use crate::args::Format;

/// The format to use: the flag, else table on a terminal and JSON lines otherwise.
pub fn pick(flag: Option<Format>) -> Format {
    flag.unwrap_or(if io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Jsonl
    })
}

/// Like [`emit`] for records read back as JSON text: JSON and JSON lines copy
/// the text; only tables and CSV parse it.
pub fn emit_raw(
    rows: &[Box<serde_json::value::RawValue>],
    format: Format,
    table_columns: &[&str],
) -> Result<std::process::ExitCode, String> {
    let result = match format {
        Format::Jsonl | Format::Json => write_raw(rows, format == Format::Json),
        Format::Table | Format::Csv | Format::Timesketch => {
            let values: Vec<Value> = rows
                .iter()
                .map(|r| serde_json::from_str(r.get()).unwrap_or(Value::Null))
                .collect();
            write(&values, format, table_columns)
        }
    };
    match result {
        Ok(()) => Ok(std::process::ExitCode::SUCCESS),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(std::process::ExitCode::SUCCESS),
        Err(e) => Err(format!("cannot write to standard output: {e}")),
    }
}

fn write_raw(rows: &[Box<serde_json::value::RawValue>], array: bool) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if array {
        writeln!(out, "[")?;
    }
    for (i, r) in rows.iter().enumerate() {
        let sep = if array && i + 1 < rows.len() { "," } else { "" };
        writeln!(out, "{}{sep}", r.get())?;
    }
    if array {
        writeln!(out, "]")?;
    }
    out.flush()
}

/// Writes `rows` to standard output for a command: a reader that went away
/// (`| head`) ends the output quietly, as in other Unix tools.
pub fn emit(
    rows: &[Value],
    format: Format,
    table_columns: &[&str],
) -> Result<std::process::ExitCode, String> {
    match write(rows, format, table_columns) {
        Ok(()) => Ok(std::process::ExitCode::SUCCESS),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(std::process::ExitCode::SUCCESS),
        Err(e) => Err(format!("cannot write to standard output: {e}")),
    }
}

/// Writes `rows` to standard output.
pub fn write(rows: &[Value], format: Format, table_columns: &[&str]) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, rows)?;
            writeln!(out)?;
        }
        Format::Jsonl => {
            for r in rows {
                serde_json::to_writer(&mut out, r)?;
                writeln!(out)?;
            }
        }
        Format::Csv => write_csv(&mut out, rows)?,
        Format::Table => write_table(&mut out, rows, table_columns, terminal_width())?,
        Format::Timesketch => {
            for r in rows {
                if r.get("path").is_none() {
                    return Err(io::Error::new(io::ErrorKind::InvalidInput, "the timesketch format is for records (search, stale, foreign, export), not for summaries"));
                }
                for e in crate::timeline::events(r) {
                    serde_json::to_writer(&mut out, &e)?;
                    writeln!(out)?;
                }
            }
        }
    }
    out.flush()
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

fn write_csv(out: &mut impl Write, rows: &[Value]) -> io::Result<()> {
    let mut columns: Vec<String> = Vec::new();
    for r in rows {
        if let Some(obj) = r.as_object() {
            for k in obj.keys() {
                if !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
    }
    writeln!(
        out,
        "{}",
        columns
            .iter()
            .map(|c| csv_safe(c))
            .collect::<Vec<_>>()
            .join(",")
    )?;
    for r in rows {
        let line: Vec<String> = columns.iter().map(|c| csv_safe(&cell(r.get(c)))).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}

fn terminal_width() -> usize {
    if let Some(w) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return w;
    }
    // SAFETY: TIOCGWINSZ fills a winsize struct; nothing else is touched.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    if unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_col > 0
    {
        ws.ws_col as usize
    } else {
        160
    }
}

/// Control characters never reach the terminal (names are attacker-controlled);
/// RFC 3339 times are shown to the minute (JSON and CSV keep them whole).
fn printable(s: &str) -> String {
    let b = s.as_bytes();
    let is_time = b.len() >= 17
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':';
    if is_time {
        return format!("{} {}", &s[..10], &s[11..16]);
    }
    s.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

fn write_table(
    out: &mut impl Write,
    rows: &[Value],
    columns: &[&str],
    width: usize,
) -> io::Result<()> {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| columns.iter().map(|c| printable(&column(r, c))).collect())
        .collect();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    // Shrink the widest columns until the table fits the terminal.
    let budget = width
        .saturating_sub(2 * columns.len().saturating_sub(1))
        .max(columns.len() * 4);
    while widths.iter().sum::<usize>() > budget {
        let (i, &w) = widths
            .iter()
            .enumerate()
            .max_by_key(|(_, w)| **w)
            .unwrap_or((0, &0));
        if w <= 8 {
            break;
        }
        widths[i] = w - 1;
    }
    // Paths keep their end (the file name), everything else its start.
    let fit = |s: &str, w: usize, keep_end: bool| {
        let n = s.chars().count();
        if n <= w {
            format!("{s:<w$}")
        } else if keep_end {
            let tail: String = s.chars().skip(n - w.saturating_sub(1)).collect();
            format!("…{tail}")
        } else {
            let cut: String = s.chars().take(w.saturating_sub(1)).collect();
            format!("{cut}…")
        }
    };
    let header: Vec<String> = columns
        .iter()
        .zip(&widths)
        .map(|(c, &w)| fit(&c.to_uppercase(), w, false))
        .collect();
    writeln!(out, "{}", header.join("  ").trim_end())?;
    for row in &cells {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .zip(columns)
            .map(|((c, &w), name)| fit(c, w, *name == "path"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    writeln!(out, "({} rows)", rows.len())
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
    fn tables_fit_and_never_print_control_characters() {
        let rows = vec![serde_json::json!({"a": "x".repeat(300), "b": "evil\u{1b}[31mred"})];
        let mut out = Vec::new();
        write_table(&mut out, &rows, &["a", "b"], 80).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        assert!(!text.contains('\u{1b}'));
    }
}
