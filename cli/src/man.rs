//! `rmsweep man`: one manual page that holds everything, since nothing
//! installs per-command pages: every command with its synopsis and options,
//! the query fields and syntax, and the exit status. (clap_mangen alone
//! renders the top command and points at `rmsweep-scan(1)` and the like.)

use std::io::{self, Write};

use clap::CommandFactory;
use clap_mangen::Man;

use crate::args::{Cli, SEARCH_HELP};

/// Writes the page (roff) to `out`.
pub fn render(out: &mut impl Write) -> io::Result<()> {
    let cmd = Cli::command();
    let top = Man::new(cmd.clone());
    top.render_title(out)?;
    top.render_name_section(out)?;
    top.render_synopsis_section(out)?;
    top.render_description_section(out)?;
    top.render_options_section(out)?;
    writeln!(out, ".SH COMMANDS")?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("rmsweep {}", sub.get_name());
        writeln!(out, ".SS \"{name}\"")?;
        let page = Man::new(sub.clone().bin_name(name.clone()).display_name(name));
        let mut buf = Vec::new();
        page.render_synopsis_section(&mut buf)?;
        page.render_description_section(&mut buf)?;
        page.render_options_section(&mut buf)?;
        out.write_all(demoted(&String::from_utf8_lossy(&buf)).as_bytes())?;
    }
    writeln!(out, ".SH \"QUERY SYNTAX AND FIELDS\"")?;
    writeln!(
        out,
        "search, settings and report queries use tantivy's query syntax (AND, OR, +/\\-, field:value, ranges [a TO b])."
    )?;
    for line in SEARCH_HELP.lines() {
        writeln!(out, ".br\n{}", roff_text(line))?;
    }
    top.render_extra_section(out)?;
    top.render_version_section(out)
}

/// A command's own `.SH` headings as bold paragraphs under its `.SS`.
fn demoted(roff: &str) -> String {
    roff.lines()
        .map(|l| match l.strip_prefix(".SH ") {
            Some(h) => {
                let h = h.trim_matches('"').to_lowercase();
                let mut c = h.chars();
                let first = c.next().map(|f| f.to_uppercase().collect::<String>());
                format!(".PP\n.B {}{}\n.br\n", first.unwrap_or_default(), c.as_str())
            }
            None => format!("{l}\n"),
        })
        .collect()
}

/// Plain text as a roff line: backslashes escaped, a leading dot or quote
/// kept from being read as a request.
fn roff_text(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    match s.starts_with(['.', '\'']) {
        true => format!("\\&{s}"),
        false => s,
    }
}
