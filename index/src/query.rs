//! `search` and `export`: documents in (label, path) order, with their
//! records as stored JSON text.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde_json::value::RawValue;
use tantivy::query::{AllQuery, Query, QueryParser};
use tantivy::{DocAddress, DocId};

use crate::open::RmsIndex;
use crate::rows::{matching, segment_order, sort_by_label_path, stored_json};
use crate::IndexError;

/// Records matching a tantivy query, in (label, path) order, at most `limit`.
pub fn search(
    idx: &RmsIndex,
    query: &str,
    limit: Option<usize>,
) -> Result<Vec<Box<RawValue>>, IndexError> {
    let mut parser = QueryParser::for_index(&idx.index, idx.fields.default_search());
    parser.set_conjunction_by_default();
    let q = parser.parse_query(query).map_err(|e| {
        let mut msg = format!("bad query {query:?}: {e}");
        if matches!(e, tantivy::query::QueryParserError::FieldDoesNotExist(_)) {
            msg.push_str(&format!(". Fields: {}", idx.fields.queryable().join(", ")));
        }
        IndexError::BadQuery(msg)
    })?;
    records(idx, &*q, limit)
}

/// Every record, in (label, path) order.
pub fn export(idx: &RmsIndex) -> Result<Vec<Box<RawValue>>, IndexError> {
    records(idx, &AllQuery, None)
}

fn records(
    idx: &RmsIndex,
    q: &dyn Query,
    limit: Option<usize>,
) -> Result<Vec<Box<RawValue>>, IndexError> {
    let searcher = crate::searcher(idx)?;
    let docs =
        matching(&searcher, q).map_err(|e| IndexError::Tantivy(idx.dir.clone(), e.to_string()))?;
    let Some(limit) = limit else {
        // Everything: resolve the columns in sorted passes, then fetch.
        return sort_by_label_path(&searcher, &docs)
            .iter()
            .map(|(_, _, addr)| stored_json(idx, &searcher, *addr))
            .collect();
    };
    // The first `limit`: within a segment, dictionary ordinals sort like the
    // strings, so each segment's candidates are ordered without reading a
    // string; segments are then merged on the label and path of the stored
    // records, which are fetched for output anyway.
    let mut lanes: Vec<(u32, Vec<DocId>)> = Vec::new();
    for (&seg_ord, ids) in &docs {
        let keyed = segment_order(searcher.segment_reader(seg_ord), ids, Some(limit));
        lanes.push((seg_ord, keyed.into_iter().map(|k| k.2).rev().collect()));
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
            let raw = stored_json(idx, &searcher, DocAddress::new(*seg, doc))?;
            let key: Key = serde_json::from_str(raw.get())
                .map_err(|e| IndexError::Corrupt(idx.dir.clone(), e.to_string()))?;
            Ok(Some(((key.label, key.path), lane, raw)))
        };
    let mut heads = BinaryHeap::new();
    for lane in 0..lanes.len() {
        if let Some((key, lane, raw)) = fetch(lane, &mut lanes)? {
            heads.push(Reverse((key, lane, RawOrd(raw))));
        }
    }
    let mut out = Vec::with_capacity(limit.min(1024));
    while out.len() < limit {
        let Some(Reverse((_, lane, RawOrd(raw)))) = heads.pop() else {
            break;
        };
        out.push(raw);
        if let Some((key, lane, raw)) = fetch(lane, &mut lanes)? {
            heads.push(Reverse((key, lane, RawOrd(raw))));
        }
    }
    Ok(out)
}

/// A lane's next record: its (label, path), its lane, its JSON.
type Head = ((String, String), usize, Box<RawValue>);

/// Raw JSON that never decides an order (keys and lanes do).
struct RawOrd(Box<RawValue>);

impl PartialEq for RawOrd {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for RawOrd {}
impl PartialOrd for RawOrd {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for RawOrd {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}
