//! License-store file names, decoded.
//!
//! MSIPC names such as `GIC-{U}-{H}-{{ISS}}-{{GICID}}.drm` carry the issuer
//! and document GUIDs and base64(SHA-1(UTF-16LE(x))) hashes of the user's
//! e-mail (`{U}`) and the server host (`{H}`), escaped with `;e`→`/`, `;j`→`-`.
//! MSDRM names carry the e-mail in clear, escaped with the longer table from
//! Exchange's DrmClientUtils (`;k`→`-`, `;j`→`;`, …). Reference §1.2, §1.4.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use super::guid;

/// Which escape table a store uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameTable {
    /// RMS client 2 (`…\Microsoft\MSIPC`).
    Msipc,
    /// RMS client 1 (`…\Microsoft\DRM`).
    Msdrm,
}

/// What a license file's name says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameInfo {
    /// `GIC`, `CLC`, `EUL`, `JCLC` or `CERT`.
    pub prefix: String,
    /// GUIDs in the order they occur (EUL: content ID, then licence ID, then issuer).
    pub guids: Vec<String>,
    /// base64 SHA-1 hash tokens in the order they occur.
    pub hashes: Vec<String>,
    /// The hash of the user's e-mail (first hash after `GIC`).
    pub user_hash: Option<String>,
    /// The hash of the RMS server's host name (second hash after `GIC`).
    pub server_hash: Option<String>,
    /// Clear-text e-mail addresses (MSDRM names).
    pub emails: Vec<String>,
    /// Tokens that are none of the above (e.g. `Default`, `Machine`, `2048`).
    pub other: Vec<String>,
}

const PREFIXES: &[&str] = &["GIC", "CLC", "EUL", "JCLC", "CERT"];

/// Decodes a license file name. `None` for names that are not license-store
/// names (templates have free names). The flag is true when an escape outside
/// the table was met (kept verbatim).
pub fn decode_file_name(file_name: &str, table: NameTable) -> Option<(NameInfo, bool)> {
    let stem = strip_extension(file_name);
    let prefix = stem.split('-').next()?;
    let prefix = PREFIXES.iter().find(|p| p.eq_ignore_ascii_case(prefix))?;
    let mut info = NameInfo {
        prefix: prefix.to_string(),
        guids: Vec::new(),
        hashes: Vec::new(),
        user_hash: None,
        server_hash: None,
        emails: Vec::new(),
        other: Vec::new(),
    };
    let mut unknown_escape = false;
    let mut after_gic: Option<usize> = None;
    for (i, raw) in split_outside_braces(stem).into_iter().enumerate() {
        if i == 0 {
            if info.prefix == "GIC" {
                after_gic = Some(0);
            }
            continue;
        }
        let (token, unknown) = unescape(raw, table);
        unknown_escape |= unknown;
        let inner = token.trim_start_matches('{').trim_end_matches('}');
        if let Some(g) = guid::normalize(inner) {
            info.guids.push(g);
        } else if inner.contains('@') {
            info.emails.push(inner.to_string());
        } else if token.starts_with('{') && is_sha1_base64(inner) {
            info.hashes.push(inner.to_string());
            if let Some(n) = after_gic.as_mut() {
                match n {
                    0 => info.user_hash = Some(inner.to_string()),
                    1 => info.server_hash = Some(inner.to_string()),
                    _ => {}
                }
                *n += 1;
            }
        } else if token.eq_ignore_ascii_case("GIC") {
            after_gic = Some(0);
        } else {
            info.other.push(token);
        }
    }
    Some((info, unknown_escape))
}

/// base64(SHA-1(UTF-16LE(text))): how MSIPC hashes e-mails and host names.
pub fn name_hash(text: &str) -> String {
    let mut h = Sha1::new();
    for u in text.encode_utf16() {
        h.update(u.to_le_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

fn strip_extension(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((stem, ext)) if ext.eq_ignore_ascii_case("drm") => stem,
        _ => name,
    }
}

fn split_outside_braces(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            '-' if depth <= 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn unescape(s: &str, table: NameTable) -> (String, bool) {
    let mut out = String::with_capacity(s.len());
    let mut unknown = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != ';' {
            out.push(c);
            continue;
        }
        let Some(code) = chars.next() else {
            out.push(';');
            unknown = true;
            break;
        };
        let mapped = match (table, code) {
            (NameTable::Msipc, 'e') => Some('/'),
            (NameTable::Msipc, 'j') => Some('-'),
            (NameTable::Msdrm, 'a') => Some('<'),
            (NameTable::Msdrm, 'b') => Some('>'),
            (NameTable::Msdrm, 'c') => Some(':'),
            (NameTable::Msdrm, 'd') => Some('"'),
            (NameTable::Msdrm, 'e') => Some('/'),
            (NameTable::Msdrm, 'f') => Some('\\'),
            (NameTable::Msdrm, 'g') => Some('|'),
            (NameTable::Msdrm, 'h') => Some('?'),
            (NameTable::Msdrm, 'i') => Some('*'),
            (NameTable::Msdrm, 'j') => Some(';'),
            (NameTable::Msdrm, 'k') => Some('-'),
            _ => None,
        };
        match mapped {
            Some(m) => out.push(m),
            None => {
                unknown = true;
                out.push(';');
                out.push(code);
            }
        }
    }
    (out, unknown)
}

fn is_sha1_base64(s: &str) -> bool {
    s.len() == 28
        && s.ends_with('=')
        && s[..27]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_the_reference() {
        assert_eq!(name_hash("eve@aip.com"), "ONZFKQGeVibD53okHMiCNuBl8ps=");
        assert_eq!(name_hash("dc1.aip.com"), "N/qk4EBPIds2SCC2mmZJa0ZMVjM=");
        assert_eq!(
            name_hash("d527de2a-b7c1-4a64-9900-1433176c4a84.rms.eu.aadrm.com"),
            "6hYIR/5g7C4q8+6MsyqtuHq1/5c="
        );
    }

    #[test]
    fn msipc_eul_name() {
        let (n, unknown) = decode_file_name(
            "EUL-{{597E0191;jB4B1;j4024;j933A;j1FBD56B7243C}}-{{97f52dba;j5fd3;j4f9a;j866e;j415cb5f18c0f}}-GIC-{ONZFKQGeVibD53okHMiCNuBl8ps=}-{N;eqk4EBPIds2SCC2mmZJa0ZMVjM=}-{{b5a7ab3e;jc702;j4a23;j9592;j74d92564996f}}.drm",
            NameTable::Msipc,
        )
        .unwrap();
        assert!(!unknown);
        assert_eq!(n.prefix, "EUL");
        assert_eq!(
            n.guids,
            vec![
                "597e0191-b4b1-4024-933a-1fbd56b7243c",
                "97f52dba-5fd3-4f9a-866e-415cb5f18c0f",
                "b5a7ab3e-c702-4a23-9592-74d92564996f"
            ]
        );
        assert_eq!(n.user_hash.as_deref(), Some("ONZFKQGeVibD53okHMiCNuBl8ps="));
        assert_eq!(
            n.server_hash.as_deref(),
            Some("N/qk4EBPIds2SCC2mmZJa0ZMVjM=")
        );
    }

    #[test]
    fn msdrm_clc_name() {
        let (n, unknown) = decode_file_name(
            "CLC-alice@isvtenant999.onmicrosoft.com-{1b9cfccf;k5b11;k4a10;kac15;k29b2b6980f4c}.drm",
            NameTable::Msdrm,
        )
        .unwrap();
        assert!(!unknown);
        assert_eq!(n.emails, vec!["alice@isvtenant999.onmicrosoft.com"]);
        assert_eq!(n.guids, vec!["1b9cfccf-5b11-4a10-ac15-29b2b6980f4c"]);
    }

    #[test]
    fn machine_and_template_names() {
        let (n, _) = decode_file_name("CERT-Machine-2048.drm", NameTable::Msipc).unwrap();
        assert_eq!(n.other, vec!["Machine", "2048"]);
        assert_eq!(
            decode_file_name("Contoso-Confidential.xml", NameTable::Msipc),
            None
        );
        let (_, unknown) = decode_file_name("GIC-{a;zb}.drm", NameTable::Msipc).unwrap();
        assert!(unknown);
    }
}
