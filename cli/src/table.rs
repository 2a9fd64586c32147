//! Tables that fit the terminal, written as rows come. Column widths are
//! taken from the first [`SAMPLE`] rows, so a million-row export holds a
//! thousand rows, not a million; later cells wider than their column are
//! cut. When the terminal is too narrow for every column at a readable
//! width, the least important columns are left out (and the footer says
//! which) rather than cutting every column to a few characters: dates and
//! GUIDs are never cut, paths show their client, store area and file name
//! (`--wide` shows whole paths and every column). Widths are display widths
//! (East Asian wide characters take two cells).

use std::io::{self, Write};

use serde_json::Value;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Rows the column widths are taken from before rows are streamed.
pub const SAMPLE: usize = 1000;

/// Columns holding a time shown to the minute: never cut.
const TIMES: &[&str] = &[
    "issued",
    "valid_from",
    "valid_until",
    "modified",
    "key_last_write",
    "newest_issued",
    "newest_modified",
    "first_issued",
    "last_issued",
    "time",
];

/// How much a column is worth keeping at a narrow width: lower is kept
/// longer; unlisted columns rank after these.
const RANKS: &[&str] = &[
    "label",
    "kind",
    "reasons",
    "name",
    "setting",
    "path",
    "template_id",
    "owner",
    "issued",
    "newest_issued",
    "data",
    "issuer_name",
    "valid_until",
    "profile",
];

fn rank(name: &str) -> usize {
    RANKS.iter().position(|r| *r == name).unwrap_or(RANKS.len())
}

/// The narrowest a column is shown before it is left out instead.
fn min_width(name: &str, natural: usize) -> usize {
    if TIMES.contains(&name) {
        return natural;
    }
    if name.ends_with("_id") && natural <= 38 {
        return natural; // a cut GUID names nothing
    }
    if name == "label" {
        // Twins differ only at the end (`WS04-C.0123…`): labels stay whole.
        return natural.min(32);
    }
    let readable = match name {
        "path" => 28,
        "name" => 20,
        "issuer_name" | "issuer_host" | "data" | "key" => 14,
        "owner" | "profile" | "setting" => 10,
        "reasons" => 13,
        "kind" => 12,
        _ => 8,
    };
    natural.min(readable)
}

/// A column's heading.
fn heading(name: &str, wide: bool) -> String {
    match name {
        "path" if !wide => "STORE/FILE".to_string(),
        _ => name.to_uppercase(),
    }
}

/// The table's cell for column `name` of a row: paths shortened to their
/// client, store area and file name unless `wide`.
fn cell_text(row: &Value, name: &str, wide: bool) -> String {
    match name {
        "path" if !wide => crate::output::printable(&short_path(row)),
        _ => crate::output::printable(&crate::output::column(row, name)),
    }
}

/// A record's path as its client, store area and file name
/// (`msipc/templates/…`, `msdrm/templates/…`): which store it is in.
pub(crate) fn short_path(row: &Value) -> String {
    let path = crate::output::column(row, "path");
    let file = path.rsplit(['/', '\\']).next().unwrap_or(&path);
    let store: Vec<&str> = ["rms_client", "store_area"]
        .iter()
        .filter_map(|k| row.get(*k).and_then(Value::as_str))
        .collect();
    match store.is_empty() {
        false => format!("{}/{file}", store.join("/")),
        true => file.to_string(),
    }
}

/// `s` in exactly `w` display cells: padded, or cut with `…` (at the start
/// when `keep_end`, so a file name stays whole).
fn fit(s: &str, w: usize, keep_end: bool) -> String {
    let n = s.width();
    if n <= w {
        return format!("{s}{}", " ".repeat(w - n));
    }
    let room = w.saturating_sub(1);
    let mut kept = Vec::new();
    let mut used = 0;
    let chars: Box<dyn Iterator<Item = char>> = if keep_end {
        Box::new(s.chars().rev())
    } else {
        Box::new(s.chars())
    };
    for c in chars {
        let cw = c.width().unwrap_or(0);
        if used + cw > room {
            break;
        }
        used += cw;
        kept.push(c);
    }
    if keep_end {
        kept.reverse();
    }
    let body: String = kept.into_iter().collect();
    let pad = " ".repeat(room - used);
    if keep_end {
        format!("…{body}{pad}")
    } else {
        format!("{body}…{pad}")
    }
}

/// The columns shown and their widths, from a sample of rows' cells.
#[derive(Debug, PartialEq)]
struct Layout {
    /// (column index, width), in the order given.
    shown: Vec<(usize, usize)>,
    /// Columns left out at this width.
    dropped: Vec<String>,
}

fn layout(
    headings: &[String],
    names: &[&str],
    sample: &[Vec<String>],
    width: usize,
    wide: bool,
) -> Layout {
    let mut natural: Vec<usize> = headings.iter().map(|h| h.width()).collect();
    for row in sample {
        for (n, c) in natural.iter_mut().zip(row) {
            *n = (*n).max(c.width());
        }
    }
    let mins: Vec<usize> = names
        .iter()
        .zip(&natural)
        .map(|(name, &n)| min_width(name, n))
        .collect();
    let mut kept: Vec<usize> = (0..names.len()).collect();
    let total = |cols: &[usize], w: &dyn Fn(usize) -> usize| -> usize {
        cols.iter().map(|&i| w(i)).sum::<usize>() + 2 * cols.len().saturating_sub(1)
    };
    let mut dropped = Vec::new();
    while !wide && kept.len() > 1 && total(&kept, &|i| mins[i]) > width {
        // The least important column, the rightmost of equals.
        let (at, _) = kept
            .iter()
            .enumerate()
            .max_by_key(|&(pos, &i)| (rank(names[i]), pos))
            .unwrap_or((0, &0));
        dropped.push(names[kept.remove(at)].to_string());
    }
    let mut widths: Vec<usize> = kept.iter().map(|&i| natural[i]).collect();
    let gaps = 2 * kept.len().saturating_sub(1);
    while !wide && widths.iter().sum::<usize>() + gaps > width {
        // Shrink the column furthest above its minimum.
        let Some(j) = (0..kept.len())
            .filter(|&j| widths[j] > mins[kept[j]])
            .max_by_key(|&j| widths[j] - mins[kept[j]])
        else {
            break;
        };
        widths[j] -= 1;
    }
    Layout {
        shown: kept.into_iter().zip(widths).collect(),
        dropped,
    }
}

/// A table written as rows come: the first [`SAMPLE`] rows are held to lay
/// it out, the rest written straight away.
pub struct Table {
    names: Vec<&'static str>,
    headings: Vec<String>,
    width: usize,
    wide: bool,
    held: Vec<Vec<String>>,
    layout: Option<Layout>,
    rows: usize,
}

impl Table {
    pub fn new(names: &[&'static str], width: usize, wide: bool) -> Table {
        Table {
            headings: names.iter().map(|n| heading(n, wide)).collect(),
            names: names.to_vec(),
            width,
            wide,
            held: Vec::new(),
            layout: None,
            rows: 0,
        }
    }

    pub fn push(&mut self, out: &mut impl Write, row: &Value) -> io::Result<()> {
        let cells: Vec<String> = self
            .names
            .iter()
            .map(|n| cell_text(row, n, self.wide))
            .collect();
        self.rows += 1;
        match &self.layout {
            Some(l) => write_row(out, l, &cells, &self.names),
            None if self.held.len() + 1 < SAMPLE => {
                self.held.push(cells);
                Ok(())
            }
            None => {
                self.held.push(cells);
                self.lay_out(out)
            }
        }
    }

    fn lay_out(&mut self, out: &mut impl Write) -> io::Result<()> {
        let l = layout(
            &self.headings,
            &self.names,
            &self.held,
            self.width,
            self.wide,
        );
        let header: Vec<String> = l
            .shown
            .iter()
            .map(|&(i, _)| self.headings[i].clone())
            .collect();
        write_row(
            out,
            &l,
            &header_cells(&l, &header, self.names.len()),
            &self.names,
        )?;
        for cells in std::mem::take(&mut self.held) {
            write_row(out, &l, &cells, &self.names)?;
        }
        self.layout = Some(l);
        Ok(())
    }

    pub fn finish(mut self, out: &mut impl Write) -> io::Result<()> {
        if self.layout.is_none() {
            self.lay_out(out)?;
        }
        let mut notes = vec![match self.rows {
            1 => "1 row".to_string(),
            n => format!("{n} rows"),
        }];
        if let Some(l) = &self.layout {
            if !l.dropped.is_empty() {
                notes.push(format!(
                    "left out at {} columns: {} (--wide shows every column, --format csv every field)",
                    self.width,
                    l.dropped.join(", ")
                ));
            }
        }
        let path_shown = self
            .layout
            .as_ref()
            .is_some_and(|l| l.shown.iter().any(|&(i, _)| self.names[i] == "path"));
        if path_shown && !self.wide {
            notes
                .push("paths shown as client/store area/file name: --wide shows them whole".into());
        }
        writeln!(out, "({})", notes.join("; "))
    }
}

/// The header's cells placed at their columns' indexes.
fn header_cells(l: &Layout, header: &[String], n: usize) -> Vec<String> {
    let mut cells = vec![String::new(); n];
    for (&(i, _), h) in l.shown.iter().zip(header) {
        cells[i] = h.clone();
    }
    cells
}

/// A path cell in `w` cells: its store (`msipc/templates/`) kept, then as
/// much of the file name's end as fits.
fn fit_path(s: &str, w: usize) -> String {
    match s.rsplit_once('/') {
        Some((store, file)) if s.width() > w && w >= store.width() + 9 => {
            let head = format!("{store}/");
            format!("{head}{}", fit(file, w - head.width(), true))
        }
        _ => fit(s, w, true),
    }
}

fn write_row(out: &mut impl Write, l: &Layout, cells: &[String], names: &[&str]) -> io::Result<()> {
    let line: Vec<String> = l
        .shown
        .iter()
        .map(|&(i, w)| match names[i] {
            "path" => fit_path(&cells[i], w),
            _ => fit(&cells[i], w, false),
        })
        .collect();
    writeln!(out, "{}", line.join("  ").trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(rows: &[Value], names: &[&'static str], width: usize, wide: bool) -> String {
        let mut out = Vec::new();
        let mut t = Table::new(names, width, wide);
        for r in rows {
            t.push(&mut out, r).unwrap();
        }
        t.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn tables_fit_and_never_print_control_characters() {
        let rows = vec![json!({"a": "x".repeat(300), "b": "evil\u{1b}[31mred"})];
        let text = render(&rows, &["a", "b"], 80, false);
        assert!(text.lines().all(|l| l.width() <= 80), "{text}");
        assert!(!text.contains('\u{1b}'));
    }

    #[test]
    fn wide_characters_take_two_cells() {
        assert_eq!(fit("転送禁止", 8, false), "転送禁止");
        assert_eq!(fit("転送禁止", 6, false), "転送… ");
        assert_eq!(fit("a転送", 4, true), "…送 ");
        let rows = vec![
            json!({"name": "転送禁止", "kind": "template"}),
            json!({"name": "abc", "kind": "eul"}),
        ];
        let text = render(&rows, &["name", "kind"], 80, false);
        let kind_at: Vec<usize> = text
            .lines()
            .take(3)
            .map(|l| l[..l.find(['K', 't', 'e']).unwrap()].width())
            .collect();
        assert_eq!(kind_at, [10, 10, 10], "{text}");
    }

    #[test]
    fn narrow_terminals_drop_columns_and_never_cut_dates() {
        let row = json!({
            "label": "WS04-C.0123456789abcdef", "kind": "template", "profile": "frank smith",
            "name": "CONTOSO-RMS - Highly Confidential", "issuer_name": "CONTOSO-RMS",
            "issued": "2024-04-10T09:12:00Z", "valid_until": "2025-04-22T00:00:00Z",
            "store_area": "templates", "rms_client": "msipc",
            "path": "/e/WS04/uploads/auto/C%3A/Users/frank/AppData/Local/Microsoft/MSIPC/Templates/11ebe8a3-93ab-46f6-a357-85a64d74f959.xml",
        });
        let names = [
            "label",
            "kind",
            "owner",
            "name",
            "issuer_name",
            "issued",
            "valid_until",
            "path",
        ];
        let text = render(std::slice::from_ref(&row), &names, 80, false);
        assert_eq!(
            text,
            "LABEL                    KIND      NAME\n\
             WS04-C.0123456789abcdef  template  CONTOSO-RMS - Highly Confidential\n\
             (1 row; left out at 80 columns: valid_until, issuer_name, issued, owner, path (--wide shows every column, --format csv every field))\n"
        );
        // One host: no label column, room for the owner.
        let text = render(std::slice::from_ref(&row), &names[1..], 80, false);
        assert_eq!(
            text.lines().take(2).collect::<Vec<_>>(),
            [
                "KIND      OWNER        NAME                      STORE/FILE",
                "template  frank smith  CONTOSO-RMS - Highly Co…  msipc/templates/…a64d74f959.xml"
            ]
        );
        let text = render(std::slice::from_ref(&row), &names, 120, false);
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "WS04-C.0123456789abcdef  template  frank smith  CONTOSO-RMS - Highly …  2024-04-10 09:12  msipc/templates/…64d74f959.xml"
        );
        let text = render(&[row], &names, 80, true);
        assert!(text
            .lines()
            .nth(1)
            .unwrap()
            .ends_with("/Templates/11ebe8a3-93ab-46f6-a357-85a64d74f959.xml"));
    }

    #[test]
    fn rows_after_the_sample_are_streamed_with_its_widths() {
        let mut rows: Vec<Value> = (0..SAMPLE).map(|i| json!({"a": format!("{i}")})).collect();
        rows.push(json!({"a": "a much longer value than any before"}));
        let text = render(&rows, &["a"], 80, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "A");
        assert_eq!(lines[SAMPLE + 1], "a …");
        assert_eq!(lines[SAMPLE + 2], format!("({} rows)", SAMPLE + 1));
    }
}
