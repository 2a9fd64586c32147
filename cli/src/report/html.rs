//! Writing the report's HTML: escaping, cut-short cells, tables. Every value
//! that comes from the evidence passes through [`esc`] (template and issuer
//! names are attacker-controlled); the page also forbids scripts by its
//! Content-Security-Policy, so a value that slipped through could not run.

use std::fmt::Write;

/// Cells longer than this many characters are cut (a template name may be 1 MB).
const MAX_CELL: usize = 300;

/// `s` HTML-escaped, control characters shown as `\xNN` / `\u{NNNN}`.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => crate::output::push_control(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// An escaped cell, cut at [`MAX_CELL`] characters with a note of how much was left out.
pub fn cell(s: &str) -> String {
    let n = s.chars().count();
    if n <= MAX_CELL {
        return esc(s);
    }
    let cut: String = s.chars().take(MAX_CELL).collect();
    format!(
        "{}<span class=\"cut\">… ({} more characters)</span>",
        esc(&cut),
        n - MAX_CELL
    )
}

/// RFC 3339 times shown to the second in UTC, without the `T`.
pub fn time(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() >= 20 && b[10] == b'T' && s.ends_with('Z') {
        format!("{} {}", &s[..10], &s[11..19])
    } else {
        s.to_string()
    }
}

/// A table column: heading and whether its cells are numbers (right-aligned).
#[derive(Clone, Copy)]
pub struct Col<'a> {
    pub heading: &'a str,
    pub numeric: bool,
}

pub const fn text(heading: &str) -> Col<'_> {
    Col {
        heading,
        numeric: false,
    }
}

pub const fn num(heading: &str) -> Col<'_> {
    Col {
        heading,
        numeric: true,
    }
}

/// The page under construction.
#[derive(Default)]
pub struct Page {
    pub body: String,
}

impl Page {
    /// Trusted markup (built by rmsweep, never from the evidence).
    pub fn raw(&mut self, markup: &str) {
        self.body.push_str(markup);
    }

    pub fn section(&mut self, id: &str, title: &str) {
        let _ = writeln!(self.body, "<h2 id=\"{id}\">{}</h2>", esc(title));
    }

    pub fn para(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p>{}</p>", esc(text));
    }

    /// A table of already-escaped cells; `total` rows existed, `rows` holds
    /// at most the first `max`, and a note says how to get the rest.
    pub fn table(
        &mut self,
        class: &str,
        cols: &[Col],
        rows: impl IntoIterator<Item = Vec<String>>,
        total: usize,
        max: usize,
        rest_command: &str,
    ) {
        if total == 0 {
            self.body.push_str("<p class=\"none\">None.</p>\n");
            return;
        }
        let _ = write!(self.body, "<table class=\"{class}\"><thead><tr>");
        for c in cols {
            let align = if c.numeric { " class=\"n\"" } else { "" };
            let _ = write!(self.body, "<th{align}>{}</th>", esc(c.heading));
        }
        self.body.push_str("</tr></thead>\n<tbody>\n");
        for row in rows.into_iter().take(max) {
            self.body.push_str("<tr>");
            for (c, v) in cols.iter().zip(row) {
                let align = if c.numeric { " class=\"n\"" } else { "" };
                let _ = write!(self.body, "<td{align}>{v}</td>");
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</tbody></table>\n");
        if total > max {
            let _ = writeln!(
                self.body,
                "<p class=\"more\">Showing {max} of {total} rows; all of them: <code>{}</code></p>",
                esc(rest_command)
            );
        }
    }

    /// A chart with its caption.
    pub fn figure(&mut self, id: &str, svg: &str, caption: &str) {
        let _ = writeln!(
            self.body,
            "<figure id=\"{id}\">{svg}<figcaption>{}</figcaption></figure>",
            esc(caption)
        );
    }

    /// The whole document.
    pub fn finish(self, title: &str) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
            esc(title),
            self.body
        )
    }
}

const STYLE: &str = "
body { font-family: system-ui, sans-serif; font-size: 14px; color: #222; margin: 24px auto; max-width: 1200px; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ccc; padding-bottom: 4px; }
.meta { color: #555; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: 8px 16px; min-width: 110px; }
.card b { display: block; font-size: 22px; }
.card.bad b { color: #b00020; }
table { border-collapse: collapse; margin: 8px 0; width: 100%; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f3f3f3; }
td.n, th.n { text-align: right; white-space: nowrap; }
tr.foreign td { background: #fff0e0; }
.tag { font-size: 12px; border-radius: 3px; padding: 0 4px; background: #d55e00; color: #fff; white-space: nowrap; }
.cut, .more, .none { color: #666; font-style: italic; }
figure { margin: 16px 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; }
nav a { margin-right: 12px; }
code { font-size: 13px; }
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            esc("<img src=x onerror='a()'>&\"\u{1}\u{85}"),
            "&lt;img src=x onerror=&#39;a()&#39;&gt;&amp;&quot;\\x01\\u{0085}"
        );
    }

    #[test]
    fn long_cells_are_cut_with_a_note() {
        let c = cell(&"x".repeat(MAX_CELL + 5));
        assert!(c.starts_with(&"x".repeat(MAX_CELL)));
        assert!(c.ends_with("… (5 more characters)</span>"));
        assert_eq!(cell("<b>"), "&lt;b&gt;");
    }

    #[test]
    fn tables_cap_their_rows_and_say_how_to_get_the_rest() {
        let mut p = Page::default();
        let rows = (0..5).map(|i| vec![i.to_string()]);
        p.table("t", &[num("n")], rows, 5, 2, "rmsweep export");
        assert_eq!(p.body.matches("<tr>").count(), 3); // heading + 2 rows
        assert!(p
            .body
            .contains("Showing 2 of 5 rows; all of them: <code>rmsweep export</code>"));
    }
}
