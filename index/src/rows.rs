//! Reading matching documents column by column (fast fields), so reports over
//! a million documents never decompress the document store; and reading
//! stored records back for output.
//!
//! String columns are dictionary-encoded: a term's ordinal follows the byte
//! order of the terms, so within a segment documents sort by ordinal, and a
//! string is materialised once per distinct ordinal ([`StrLookup`]).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::ops::ControlFlow;
use tantivy::schema::Field;

use serde_json::value::RawValue;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::Query;
use tantivy::schema::Value;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentReader, TantivyDocument};

use crate::open::RmsIndex;
use crate::IndexError;

/// Every record of a store file: the registry's `setting` records left out
/// (the overview counts files, stores and profiles).
pub fn store_files(idx: &RmsIndex) -> impl Query {
    use tantivy::query::{AllQuery, BooleanQuery, Occur, TermQuery};
    let setting = tantivy::Term::from_field_text(idx.fields.kind, "setting");
    BooleanQuery::new(vec![
        (Occur::Must, Box::new(AllQuery) as Box<dyn Query>),
        (
            Occur::MustNot,
            Box::new(TermQuery::new(
                setting,
                tantivy::schema::IndexRecordOption::Basic,
            )),
        ),
    ])
}

/// The matching documents of each segment, in doc-id order.
pub fn matching(
    searcher: &Searcher,
    query: &dyn Query,
) -> tantivy::Result<BTreeMap<u32, Vec<DocId>>> {
    searcher.search(query, &DocsBySegment)
}

/// Collects matching doc ids per segment into plain vectors (tantivy hands
/// them over in increasing order), without scoring or hashing.
struct DocsBySegment;

struct SegmentDocs {
    segment: u32,
    docs: Vec<DocId>,
}

impl Collector for DocsBySegment {
    type Fruit = BTreeMap<u32, Vec<DocId>>;
    type Child = SegmentDocs;

    fn for_segment(&self, segment: u32, _reader: &SegmentReader) -> tantivy::Result<SegmentDocs> {
        Ok(SegmentDocs {
            segment,
            docs: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<(u32, Vec<DocId>)>) -> tantivy::Result<Self::Fruit> {
        Ok(fruits.into_iter().filter(|(_, d)| !d.is_empty()).collect())
    }
}

impl SegmentCollector for SegmentDocs {
    type Fruit = (u32, Vec<DocId>);

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.docs.push(doc);
    }

    fn harvest(self) -> Self::Fruit {
        (self.segment, self.docs)
    }
}

/// A segment's string column with a cache of the strings already read.
pub struct StrLookup {
    col: Option<StrColumn>,
    cache: Vec<Option<Option<String>>>,
}

impl StrLookup {
    pub fn new(seg: &SegmentReader, field: Field) -> StrLookup {
        let name = seg.schema().get_field_name(field);
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

    /// Reads the strings of many ordinals in one sorted pass over the
    /// dictionary (one block decode per block instead of one per ordinal).
    pub fn prefetch(&mut self, ords: impl IntoIterator<Item = u64>) {
        let Some(col) = self.col.as_ref() else { return };
        let mut wanted: Vec<u64> = ords
            .into_iter()
            .filter(|&o| self.cache.get(o as usize).is_none_or(Option::is_none))
            .collect();
        if wanted.is_empty() {
            return;
        }
        wanted.sort_unstable();
        wanted.dedup();
        let max = *wanted.last().unwrap_or(&0) as usize;
        if self.cache.len() <= max {
            self.cache.resize(max + 1, None);
        }
        let mut it = wanted.iter();
        let cache = &mut self.cache;
        let _ = col
            .dictionary()
            .sorted_ords_to_term_cb(wanted.iter().copied(), |bytes| {
                if let Some(&o) = it.next() {
                    cache[o as usize] = Some(Some(String::from_utf8_lossy(bytes).into_owned()));
                }
                Ok(())
            });
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
pub fn date_col(seg: &SegmentReader, field: Field) -> Option<Column<tantivy::DateTime>> {
    seg.fast_fields()
        .date(seg.schema().get_field_name(field))
        .ok()
}

/// The first date of `doc` in `col`, as seconds since the epoch.
pub fn date_at(col: &Option<Column<tantivy::DateTime>>, doc: DocId) -> Option<i64> {
    col.as_ref()?.first(doc).map(|d| d.into_timestamp_secs())
}

/// One segment's matches keyed by (label ordinal, path ordinal), in that
/// order — which is (label, path) string order, since dictionary ordinals
/// follow the terms' byte order. With `limit`, only the first `limit`.
pub fn segment_order(
    seg: &SegmentReader,
    f: &crate::schema::Fields,
    ids: &[DocId],
    limit: Option<usize>,
) -> Vec<(u64, u64, DocId)> {
    let (label, path) = (StrLookup::new(seg, f.label), StrLookup::new(seg, f.path));
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
    if let Some(limit) = limit {
        if keyed.len() > limit {
            if limit == 0 {
                return Vec::new();
            }
            keyed.select_nth_unstable(limit - 1);
            keyed.truncate(limit);
        }
    }
    keyed.sort_unstable();
    keyed
}

/// Visits the stored records of `docs` in (label, path) order, at most
/// `limit`, one at a time: output order is stable whatever the segment
/// layout, and memory holds a few integers per document, never the records.
/// Within a segment, dictionary ordinals sort like the strings, so each
/// segment's documents are ordered without reading a string; segments are
/// merged on the label and path of the stored records, read as they are
/// visited. `f` returns `Break` to stop early.
pub fn for_each_in_order(
    idx: &RmsIndex,
    searcher: &Searcher,
    docs: &BTreeMap<u32, Vec<DocId>>,
    limit: Option<usize>,
    mut f: impl FnMut(DocAddress, Box<RawValue>) -> ControlFlow<()>,
) -> Result<(), IndexError> {
    // Each lane: a segment's documents in order, reversed for popping.
    let mut lanes: Vec<(u32, Vec<DocId>)> = docs
        .iter()
        .map(|(&seg_ord, ids)| {
            let keyed = segment_order(searcher.segment_reader(seg_ord), &idx.fields, ids, limit);
            (seg_ord, keyed.into_iter().map(|k| k.2).rev().collect())
        })
        .collect();
    // One segment: its order is the order; nothing to merge, no keys to read.
    if let [(seg, ids)] = &mut lanes[..] {
        while let Some(doc) = ids.pop() {
            let addr = DocAddress::new(*seg, doc);
            if f(addr, stored_json(idx, searcher, addr)?).is_break() {
                break;
            }
        }
        return Ok(());
    }
    #[derive(serde::Deserialize)]
    struct Key {
        label: String,
        path: String,
    }
    let fetch =
        |lane: usize, lanes: &mut Vec<(u32, Vec<DocId>)>| -> Result<Option<Head>, IndexError> {
            let (seg, ids) = &mut lanes[lane];
            let Some(doc) = ids.pop() else {
                return Ok(None);
            };
            let addr = DocAddress::new(*seg, doc);
            let raw = stored_json(idx, searcher, addr)?;
            let key: Key = serde_json::from_str(raw.get())
                .map_err(|e| IndexError::Corrupt(idx.dir.clone(), e.to_string()))?;
            Ok(Some(((key.label, key.path), lane, Unordered((addr, raw)))))
        };
    let mut heads = BinaryHeap::new();
    for lane in 0..lanes.len() {
        if let Some(head) = fetch(lane, &mut lanes)? {
            heads.push(Reverse(head));
        }
    }
    let mut visited = 0;
    while limit.is_none_or(|l| visited < l) {
        let Some(Reverse((_, lane, Unordered((addr, raw))))) = heads.pop() else {
            break;
        };
        visited += 1;
        if f(addr, raw).is_break() {
            break;
        }
        if let Some(head) = fetch(lane, &mut lanes)? {
            heads.push(Reverse(head));
        }
    }
    Ok(())
}

/// A lane's next record: its (label, path), its lane, its address and JSON.
type Head = (
    (String, String),
    usize,
    Unordered<(DocAddress, Box<RawValue>)>,
);

/// A payload that never decides an order (keys and lanes do).
struct Unordered<T>(T);

impl<T> PartialEq for Unordered<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<T> Eq for Unordered<T> {}
impl<T> PartialOrd for Unordered<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Unordered<T> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

/// The stored record of a document, as JSON text (not parsed: output that
/// only copies it never pays for parsing).
pub fn stored_json(
    idx: &RmsIndex,
    searcher: &Searcher,
    addr: DocAddress,
) -> Result<Box<RawValue>, IndexError> {
    let doc: TantivyDocument = searcher
        .doc(addr)
        .map_err(|e| IndexError::Tantivy(idx.dir.clone(), e.to_string()))?;
    let text = doc
        .get_first(idx.fields.record)
        .and_then(|v| v.as_str())
        .unwrap_or("{}");
    RawValue::from_string(text.to_string())
        .map_err(|e| IndexError::Corrupt(idx.dir.clone(), e.to_string()))
}
