//! Content sniffing and decoding of store files.
//!
//! Store files are never trusted by name or extension. MSIPC writes UTF-16LE
//! with no BOM; exported templates, Office `0x06Primary` streams and `.pfile`
//! containers are UTF-8, sometimes behind a binary header. quick-xml's own
//! detection misreads BOM-less UTF-16LE, so we sniff and decode here and hand
//! the XML layer plain `&str`.

use std::borrow::Cow;

use super::anomaly::Anomaly;

/// The text encoding a file was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    /// UTF-16 little endian without a byte-order mark: every MSIPC `.drm`.
    Utf16le,
    /// UTF-16 little endian with a byte-order mark.
    Utf16leBom,
    /// UTF-16 big endian (with or without a byte-order mark).
    Utf16be,
    /// UTF-8 without a byte-order mark (an `<?xml?>` declaration is allowed).
    Utf8,
    /// UTF-8 with a byte-order mark.
    Utf8Bom,
}

/// A decoded file: its text (with leading container bytes and trailing NULs
/// removed), how it was encoded, and what was tolerated on the way.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub encoding: TextEncoding,
    pub anomalies: Vec<Anomaly>,
}

const XRML_UTF8: &[u8] = b"<XrML";
const XRML_UTF16LE: &[u8] = b"<\0X\0r\0M\0L\0";

/// Sniffs the encoding of `bytes` and decodes them. Never fails: invalid
/// sequences become U+FFFD and an [`Anomaly::InvalidEncoding`].
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    let mut anomalies = Vec::new();
    let (encoding, body) = sniff(bytes, &mut anomalies);
    let (text, had_errors) = match encoding {
        TextEncoding::Utf16le | TextEncoding::Utf16leBom => {
            let (t, e) = encoding_rs::UTF_16LE.decode_without_bom_handling(body);
            (t, e)
        }
        TextEncoding::Utf16be => {
            let (t, e) = encoding_rs::UTF_16BE.decode_without_bom_handling(body);
            (t, e)
        }
        TextEncoding::Utf8 | TextEncoding::Utf8Bom => {
            // Containers carry binary (encrypted content) after the chain:
            // decode only up to the end of the last complete document.
            let end = memrfind(body, b"</XrML>")
                .map(|i| i + b"</XrML>".len())
                .unwrap_or(body.len());
            let rest = &body[end..];
            if rest.iter().any(|&b| !is_padding(b)) {
                anomalies.push(Anomaly::TrailingBytes);
            }
            let (t, e) = encoding_rs::UTF_8.decode_without_bom_handling(&body[..end]);
            (t, e)
        }
    };
    if had_errors {
        anomalies.push(Anomaly::InvalidEncoding);
    }
    let text = trim_trailing_nuls(text);
    Decoded {
        text,
        encoding,
        anomalies,
    }
}

fn is_padding(b: u8) -> bool {
    matches!(b, 0 | b' ' | b'\t' | b'\r' | b'\n')
}

fn sniff<'a>(bytes: &'a [u8], anomalies: &mut Vec<Anomaly>) -> (TextEncoding, &'a [u8]) {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return (TextEncoding::Utf16leBom, rest);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return (TextEncoding::Utf16be, rest);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return (TextEncoding::Utf8Bom, rest);
    }
    // UTF-16LE: ASCII code units with a zero high byte, starting with `<` or
    // `{` after optional white space. UTF-16BE is the mirror image.
    let first_16le = bytes
        .chunks_exact(2)
        .find(|u| !(u[1] == 0 && matches!(u[0], b' ' | b'\t' | b'\r' | b'\n')));
    if let Some([lo, 0]) = first_16le {
        if matches!(lo, b'<' | b'{') {
            return (TextEncoding::Utf16le, bytes);
        }
    }
    let first_16be = bytes
        .chunks_exact(2)
        .find(|u| !(u[0] == 0 && matches!(u[1], b' ' | b'\t' | b'\r' | b'\n')));
    if let Some([0, hi]) = first_16be {
        if matches!(hi, b'<' | b'{') {
            return (TextEncoding::Utf16be, bytes);
        }
    }
    let first_8 = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first_8, Some(b'<' | b'{') | None) {
        return (TextEncoding::Utf8, bytes);
    }
    // A container (Office 0x06Primary, .pfile) or junk: the chain starts at
    // the first `<XrML`, in whichever encoding it occurs first.
    let at8 = memfind(bytes, XRML_UTF8);
    let at16 = memfind(bytes, XRML_UTF16LE).map(|i| i - i % 2);
    match (at8, at16) {
        (Some(a), Some(b)) if b < a => {
            anomalies.push(Anomaly::LeadingBytes);
            (TextEncoding::Utf16le, &bytes[b..])
        }
        (Some(a), _) => {
            anomalies.push(Anomaly::LeadingBytes);
            (TextEncoding::Utf8, &bytes[a..])
        }
        (None, Some(b)) => {
            anomalies.push(Anomaly::LeadingBytes);
            (TextEncoding::Utf16le, &bytes[b..])
        }
        (None, None) => (TextEncoding::Utf8, bytes),
    }
}

fn trim_trailing_nuls(text: Cow<'_, str>) -> Cow<'_, str> {
    let trimmed_len = text
        .trim_end_matches(|c: char| c == '\0' || c.is_ascii_whitespace())
        .len();
    if trimmed_len == text.len() {
        return text;
    }
    match text {
        Cow::Borrowed(s) => Cow::Borrowed(&s[..trimmed_len]),
        Cow::Owned(mut s) => {
            s.truncate(trimmed_len);
            Cow::Owned(s)
        }
    }
}

fn memfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

fn memrfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    #[test]
    fn bomless_utf16le_with_trailing_nul() {
        let mut b = utf16le("<XrML/>");
        b.extend([0, 0]);
        let d = decode(&b);
        assert_eq!(d.encoding, TextEncoding::Utf16le);
        assert_eq!(d.text, "<XrML/>");
        assert!(d.anomalies.is_empty());
    }

    #[test]
    fn utf16_with_boms_and_be() {
        let mut le = vec![0xFF, 0xFE];
        le.extend(utf16le("<a/>"));
        assert_eq!(decode(&le).encoding, TextEncoding::Utf16leBom);
        assert_eq!(decode(&le).text, "<a/>");
        let be: Vec<u8> = "<a/>"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        assert_eq!(decode(&be).encoding, TextEncoding::Utf16be);
        assert_eq!(decode(&be).text, "<a/>");
    }

    #[test]
    fn utf8_variants() {
        assert_eq!(
            decode(b"<?xml version=\"1.0\"?><a/>").encoding,
            TextEncoding::Utf8
        );
        assert_eq!(decode(b"\xEF\xBB\xBF<a/>").encoding, TextEncoding::Utf8Bom);
        assert_eq!(decode(b"\xEF\xBB\xBF<a/>").text, "<a/>");
    }

    #[test]
    fn invalid_surrogate_is_an_anomaly() {
        let mut b = utf16le("<a>");
        b.extend([0x00, 0xD8]); // lone high surrogate
        b.extend(utf16le("</a>"));
        let d = decode(&b);
        assert_eq!(d.text, "<a>\u{FFFD}</a>");
        assert_eq!(d.anomalies, vec![Anomaly::InvalidEncoding]);
    }

    #[test]
    fn container_header_is_skipped() {
        let mut b = vec![0x58, 0, 0, 0, 1, 0, 0, 0];
        b.extend(b"<XrML></XrML>\x01\x02binary");
        let d = decode(&b);
        assert_eq!(d.encoding, TextEncoding::Utf8);
        assert_eq!(d.text, "<XrML></XrML>");
        assert_eq!(
            d.anomalies,
            vec![Anomaly::LeadingBytes, Anomaly::TrailingBytes]
        );
    }
}
