//! Reading matching documents column by column (fast fields), so reports over
//! a million documents never decompress the document store; and reading
//! stored records back for output.
//!
//! String columns are dictionary-encoded: a term's ordinal follows the byte
//! order of the terms, so within a segment documents sort by ordinal, and a
//! string is materialised once per distinct ordinal ([`StrLookup`]).

use std::collections::BTreeMap;

use tantivy::collector::DocSetCollector;
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::Query;
use tantivy::schema::Value;
use tantivy::{DocAddress, DocId, Searcher, SegmentReader, TantivyDocument};

use crate::open::RmsIndex;
use crate::IndexError;

/// The matching documents of each segment, in doc-id order.
pub fn matching(
    searcher: &Searcher,
    query: &dyn Query,
) -> tantivy::Result<BTreeMap<u32, Vec<DocId>>> {
    let set = searcher.search(query, &DocSetCollector)?;
    let mut by_segment: BTreeMap<u32, Vec<DocId>> = BTreeMap::new();
    for addr in set {
        by_segment
            .entry(addr.segment_ord)
            .or_default()
            .push(addr.doc_id);
    }
    for docs in by_segment.values_mut() {
        docs.sort_unstable();
    }
    Ok(by_segment)
}

/// A segment's string column with a cache of the strings already read.
pub struct StrLookup {
    col: Option<StrColumn>,
    cache: Vec<Option<Option<String>>>,
}

impl StrLookup {
    pub fn new(seg: &SegmentReader, name: &str) -> StrLookup {
        let col = seg.fast_fields().str(name).ok().flatten();
        StrLookup {
            col,
            cache: Vec::new(),
        }
    }

    /// The ordinal of `doc`'s first value (its rank in the term dictionary).
    pub fn ord(&self, doc: DocId) -> Option<u64> {
        self.col.as_ref()?.term_ords(doc).next()
    }

    /// The string of an ordinal.
    pub fn term(&mut self, ord: u64) -> Option<&str> {
        let col = self.col.as_ref()?;
        let i = ord as usize;
        if self.cache.len() <= i {
            self.cache.resize(i + 1, None);
        }
        if self.cache[i].is_none() {
            let mut s = String::new();
            let found = col.ord_to_str(ord, &mut s).unwrap_or(false);
            self.cache[i] = Some(found.then_some(s));
        }
        self.cache[i].as_ref().and_then(|v| v.as_deref())
    }

    /// `doc`'s first value.
    pub fn get(&mut self, doc: DocId) -> Option<&str> {
        let ord = self.ord(doc)?;
        self.term(ord)
    }

    /// `doc`'s first value, owned.
    pub fn owned(&mut self, doc: DocId) -> Option<String> {
        self.get(doc).map(str::to_string)
    }
}

/// A segment's date column.
pub fn date_col(seg: &SegmentReader, name: &str) -> Option<Column<tantivy::DateTime>> {
    seg.fast_fields().date(name).ok()
}

/// The first date of `doc` in `col`, as seconds since the epoch.
pub fn date_at(col: &Option<Column<tantivy::DateTime>>, doc: DocId) -> Option<i64> {
    col.as_ref()?.first(doc).map(|d| d.into_timestamp_secs())
}

/// The first `limit` document addresses in (label, path) order: output order
/// is stable whatever the segment layout. Sorting is by ordinals within each
/// segment; strings are read only for each segment's first `limit`.
pub fn sort_by_label_path(
    searcher: &Searcher,
    docs: &BTreeMap<u32, Vec<DocId>>,
    limit: Option<usize>,
) -> Vec<(String, String, DocAddress)> {
    let limit = limit.unwrap_or(usize::MAX);
    let mut out = Vec::new();
    if limit == 0 {
        return out;
    }
    for (&seg_ord, ids) in docs {
        let seg = searcher.segment_reader(seg_ord);
        let (mut label, mut path) = (StrLookup::new(seg, "label"), StrLookup::new(seg, "path"));
        let mut keyed: Vec<(u64, u64, DocId)> = ids
            .iter()
            .map(|&d| {
                (
                    label.ord(d).unwrap_or(u64::MAX),
                    path.ord(d).unwrap_or(u64::MAX),
                    d,
                )
            })
            .collect();
        if keyed.len() > limit {
            keyed.select_nth_unstable(limit - 1);
            keyed.truncate(limit);
        }
        keyed.sort_unstable();
        for (lo, po, doc) in keyed {
            let l = label.term(lo).unwrap_or_default().to_string();
            let p = path.term(po).unwrap_or_default().to_string();
            out.push((l, p, DocAddress::new(seg_ord, doc)));
        }
    }
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out.truncate(limit);
    out
}

/// The stored record of a document, as JSON.
pub fn stored_record(
    idx: &RmsIndex,
    searcher: &Searcher,
    addr: DocAddress,
) -> Result<serde_json::Value, IndexError> {
    let doc: TantivyDocument = searcher
        .doc(addr)
        .map_err(|e| IndexError::Tantivy(idx.dir.clone(), e.to_string()))?;
    let text = doc
        .get_first(idx.fields.record)
        .and_then(|v| v.as_str())
        .unwrap_or("{}");
    serde_json::from_str(text).map_err(|e| IndexError::Corrupt(idx.dir.clone(), e.to_string()))
}
