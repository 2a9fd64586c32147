//! GUID normalisation: XrML writes GUIDs braced or bare, in any case; the
//! index wants one form (lower case, hyphenated, no braces).

/// Normalises a GUID to `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`. `None` when the
/// text is not a GUID.
pub fn normalize(raw: &str) -> Option<String> {
    let s = raw.trim();
    let s = s.strip_prefix('{').unwrap_or(s);
    let s = s.strip_suffix('}').unwrap_or(s).trim();
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    for (i, c) in b.iter().enumerate() {
        let ok = if matches!(i, 8 | 13 | 18 | 23) {
            *c == b'-'
        } else {
            c.is_ascii_hexdigit()
        };
        if !ok {
            return None;
        }
    }
    Some(s.to_ascii_lowercase())
}

/// Normalises a GUID, or keeps the trimmed raw text when it is not one.
pub fn normalize_or_raw(raw: &str) -> (String, bool) {
    match normalize(raw) {
        Some(g) => (g, true),
        None => (raw.trim().to_string(), false),
    }
}

/// A GUID from its 16 bytes as Windows stores them (the first three fields
/// little-endian), in the normal form.
pub fn from_le_bytes(b: &[u8]) -> Option<String> {
    let b: &[u8; 16] = b.try_into().ok()?;
    let d1 = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let d2 = u16::from_le_bytes([b[4], b[5]]);
    let d3 = u16::from_le_bytes([b[6], b[7]]);
    let tail: String = b[10..].iter().map(|x| format!("{x:02x}")).collect();
    Some(format!(
        "{d1:08x}-{d2:04x}-{d3:04x}-{:02x}{:02x}-{tail}",
        b[8], b[9]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let g = Some("8ba9ea80-99e4-4a2b-9764-4cd84f77c3a0".to_string());
        assert_eq!(normalize("{8BA9EA80-99E4-4a2b-9764-4CD84F77C3A0}"), g);
        assert_eq!(normalize(" 8ba9ea80-99e4-4a2b-9764-4cd84f77c3a0 "), g);
        assert_eq!(normalize("{8BA9EA80-99E4-4a2b-9764-4CD84F77C3A}"), None);
        assert_eq!(normalize("S-1-5-21-1"), None);
    }
}
