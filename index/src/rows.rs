//! Reading matching documents column by column (fast fields), so reports over
//! a million documents never decompress the document store; and reading
//! stored records back for output.

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

/// A segment's string column, if the field has values in it.
pub fn str_col(seg: &SegmentReader, name: &str) -> Option<StrColumn> {
    seg.fast_fields().str(name).ok().flatten()
}

/// The first string value of `doc` in `col`.
pub fn str_at(col: &Option<StrColumn>, doc: DocId) -> Option<String> {
    let col = col.as_ref()?;
    let ord = col.term_ords(doc).next()?;
    let mut s = String::new();
    col.ord_to_str(ord, &mut s).ok()?;
    Some(s)
}

/// A segment's date column.
pub fn date_col(seg: &SegmentReader, name: &str) -> Option<Column<tantivy::DateTime>> {
    seg.fast_fields().date(name).ok()
}

/// The first date of `doc` in `col`, as seconds since the epoch.
pub fn date_at(col: &Option<Column<tantivy::DateTime>>, doc: DocId) -> Option<i64> {
    col.as_ref()?.first(doc).map(|d| d.into_timestamp_secs())
}

/// Sorts document addresses by (label, path): output order is stable
/// whatever the segment layout.
pub fn sort_by_label_path(
    searcher: &Searcher,
    docs: &BTreeMap<u32, Vec<DocId>>,
) -> Vec<(String, String, DocAddress)> {
    let mut out = Vec::new();
    for (&seg_ord, ids) in docs {
        let seg = searcher.segment_reader(seg_ord);
        let (label, path) = (str_col(seg, "label"), str_col(seg, "path"));
        for &doc in ids {
            out.push((
                str_at(&label, doc).unwrap_or_default(),
                str_at(&path, doc).unwrap_or_default(),
                DocAddress::new(seg_ord, doc),
            ));
        }
    }
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
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
