//! Splitting a file into its XrML documents, and the cache of chain documents.
//!
//! A `.drm` file is a leaf document followed by its issuer chain (server
//! licensor certificate, Microsoft CAs). The chain documents are byte-for-byte
//! the same in thousands of files, so each distinct one is parsed once: the
//! cache maps a 128-bit hash of the document text to what we keep of it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use xxhash_rust::xxh3::xxh3_128;

use super::fields;
use super::model::ChainEntry;
use super::xrml;

/// More documents than any real chain (real files hold 5 to 8).
pub const MAX_DOCUMENTS: usize = 64;

/// A file's text cut into documents.
#[derive(Debug, Default, PartialEq)]
pub struct Split<'a> {
    pub docs: Vec<&'a str>,
    /// The last document has no `</XrML>`, or another document starts inside it.
    pub truncated: bool,
    /// Non-white-space text before the first document (other than `<?xml?>`).
    pub leading: bool,
    /// Non-white-space text between documents.
    pub between: bool,
    /// Non-white-space text after the last document.
    pub trailing: bool,
    /// Documents beyond [`MAX_DOCUMENTS`] were dropped.
    pub too_many: bool,
}

const OPEN: &str = "<XrML";
const CLOSE: &str = "</XrML>";

/// Cuts `text` into `<XrML …>…</XrML>` documents. A case-sensitive search is
/// enough: XrML never nests and the tag is always written this way.
pub fn split_chain(text: &str) -> Split<'_> {
    let mut s = Split::default();
    let mut pos = 0;
    while let Some(found) = find_open(text, pos) {
        let gap = &text[pos..found];
        if !is_blank(gap) {
            if s.docs.is_empty() {
                s.leading |= !is_blank(strip_declaration(gap));
            } else {
                s.between = true;
            }
        }
        if s.docs.len() == MAX_DOCUMENTS {
            s.too_many = true;
            return s;
        }
        let next_open = find_open(text, found + OPEN.len());
        let close = text[found..].find(CLOSE).map(|i| found + i + CLOSE.len());
        match (close, next_open) {
            (Some(end), Some(next)) if next < end => {
                s.docs.push(&text[found..next]);
                s.truncated = true;
                pos = next;
            }
            (Some(end), _) => {
                s.docs.push(&text[found..end]);
                pos = end;
            }
            (None, Some(next)) => {
                s.docs.push(&text[found..next]);
                s.truncated = true;
                pos = next;
            }
            (None, None) => {
                s.docs.push(&text[found..]);
                s.truncated = true;
                pos = text.len();
            }
        }
    }
    let rest = &text[pos..];
    if !is_blank(rest) {
        if s.docs.is_empty() {
            s.leading = true;
        } else {
            s.trailing = true;
        }
    }
    s
}

fn find_open(text: &str, from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = text.get(at..)?.find(OPEN) {
        let start = at + i;
        let next = text.as_bytes().get(start + OPEN.len());
        if matches!(
            next,
            None | Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')
        ) {
            return Some(start);
        }
        at = start + OPEN.len();
    }
    None
}

fn is_blank(s: &str) -> bool {
    s.chars().all(|c| c.is_whitespace() || c == '\0')
}

fn strip_declaration(s: &str) -> &str {
    let t = s.trim_start_matches(|c: char| c.is_whitespace() || c == '\0');
    if t.starts_with("<?xml") {
        if let Some(end) = t.find("?>") {
            return &t[end + 2..];
        }
    }
    s
}

const SHARDS: usize = 16;
/// Entries kept per shard; beyond this (hostile input with endless distinct
/// chains) documents are parsed without being cached, so memory stays bounded.
const MAX_PER_SHARD: usize = 4096;

/// Shared by all parser threads: parsed chain documents by content hash.
pub struct ChainCache {
    shards: Vec<Mutex<HashMap<u128, Arc<ChainEntry>>>>,
}

impl Default for ChainCache {
    fn default() -> Self {
        ChainCache {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }
}

impl ChainCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// What we keep of a chain document, parsing it only the first time its
    /// exact text is seen.
    pub fn entry(&self, doc: &str) -> Arc<ChainEntry> {
        let key = xxh3_128(doc.as_bytes());
        let shard = &self.shards[(key as usize) % SHARDS];
        if let Some(e) = lock(shard).get(&key) {
            return Arc::clone(e);
        }
        let entry = Arc::new(fields::chain_entry(&xrml::parse_document(doc)));
        let mut map = lock(shard);
        if map.len() < MAX_PER_SHARD {
            map.insert(key, Arc::clone(&entry));
        }
        entry
    }

    /// Number of distinct chain documents parsed and kept.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere cannot leave a half-written entry: inserts are atomic.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_back_to_back_and_crlf_separated() {
        let s = split_chain("<XrML a=\"1\"></XrML><XrML></XrML>\r\n<XrML></XrML>");
        assert_eq!(
            s.docs,
            vec!["<XrML a=\"1\"></XrML>", "<XrML></XrML>", "<XrML></XrML>"]
        );
        assert!(!s.truncated && !s.between && !s.leading && !s.trailing);
    }

    #[test]
    fn truncated_inside_the_chain() {
        let s = split_chain("<XrML><BODY></XrML><XrML><BO<XrML></XrML>");
        assert_eq!(s.docs.len(), 3);
        assert_eq!(s.docs[1], "<XrML><BO");
        assert!(s.truncated);
    }

    #[test]
    fn declaration_is_not_leading_garbage() {
        let s = split_chain("<?xml version=\"1.0\"?>\n<XrML></XrML> junk");
        assert_eq!(s.docs.len(), 1);
        assert!(!s.leading);
        assert!(s.trailing);
    }
}
