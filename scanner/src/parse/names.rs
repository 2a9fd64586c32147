//! The `LCID n:NAME x:DESCRIPTION y;` grammar of template and label names.
//!
//! Names and descriptions cannot contain `:` or `;` (SDK remarks); real data
//! has leading spaces and, pretty-printed, embedded newlines: white space is
//! trimmed and collapsed. Dozens of LCIDs occur in one NAME.

use serde::{Deserialize, Serialize};

/// Longest name or description kept, in characters.
pub const MAX_NAME_CHARS: usize = 4096;

/// One localised name of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateName {
    /// Windows locale ID (1033 = en-US); `None` when the source has none
    /// (an EUL's MSOTPLNAME, a NAME outside the grammar).
    pub lcid: Option<u32>,
    pub name: String,
    pub description: Option<String>,
}

/// Parses a NAME value. Returns the names and whether anything had to be
/// tolerated (text outside the grammar, over-long values).
pub fn parse_lcid_names(raw: &str) -> (Vec<TemplateName>, bool) {
    let mut out = Vec::new();
    let mut tolerated = false;
    for entry in raw.split(';') {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        match parse_entry(entry) {
            Some((lcid, name, description)) => {
                let (name, cut1) = clean(name);
                let (description, cut2) = clean(description);
                tolerated |= cut1 | cut2;
                out.push(TemplateName {
                    lcid: Some(lcid),
                    name,
                    description: Some(description).filter(|d| !d.is_empty()),
                });
            }
            None => {
                tolerated = true;
                let (name, _) = clean(entry);
                out.push(TemplateName {
                    lcid: None,
                    name,
                    description: None,
                });
            }
        }
    }
    (out, tolerated)
}

fn parse_entry(entry: &str) -> Option<(u32, &str, &str)> {
    let rest = entry.strip_prefix("LCID")?.trim_start();
    let (lcid, rest) = rest.split_once(':')?;
    let lcid: u32 = lcid.trim().parse().ok()?;
    let rest = rest.trim_start().strip_prefix("NAME")?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    match rest.split_once(":DESCRIPTION") {
        Some((name, description)) => Some((lcid, name, description)),
        None => Some((lcid, rest, "")),
    }
}

/// Trims, collapses white space and caps length. Returns (text, was_cut).
pub fn clean(s: &str) -> (String, bool) {
    let mut out = String::with_capacity(s.len().min(MAX_NAME_CHARS));
    let mut chars = 0;
    let mut cut = false;
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
            chars += 1;
        }
        for c in word.chars() {
            if chars >= MAX_NAME_CHARS {
                cut = true;
                break;
            }
            out.push(c);
            chars += 1;
        }
        if cut {
            break;
        }
    }
    (out, cut)
}

/// The best display name: LCID 1033 first, then the first one.
pub fn best_name(names: &[TemplateName]) -> Option<&TemplateName> {
    names
        .iter()
        .find(|n| n.lcid == Some(1033))
        .or_else(|| names.first())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        let (n, bad) = parse_lcid_names(
            " LCID 1033:NAME CONTOSO Template:DESCRIPTION Template for CONTOSO;LCID 1031:NAME\n   Vertraulich  :DESCRIPTION ;",
        );
        assert!(!bad);
        assert_eq!(
            n,
            vec![
                TemplateName {
                    lcid: Some(1033),
                    name: "CONTOSO Template".into(),
                    description: Some("Template for CONTOSO".into())
                },
                TemplateName {
                    lcid: Some(1031),
                    name: "Vertraulich".into(),
                    description: None
                },
            ]
        );
    }

    #[test]
    fn outside_grammar() {
        let (n, bad) = parse_lcid_names("Just a name");
        assert!(bad);
        assert_eq!(
            n[0],
            TemplateName {
                lcid: None,
                name: "Just a name".into(),
                description: None
            }
        );
    }
}
