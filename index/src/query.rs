//! `search` and `export`: documents in (label, path) order, with their
//! records as stored JSON text, read one at a time.

use std::ops::ControlFlow;

use serde_json::value::RawValue;
use tantivy::query::{AllQuery, Query, QueryParser};

use crate::open::RmsIndex;
use crate::rows::{for_each_in_order, matching};
use crate::IndexError;

/// Records matching a tantivy query, in (label, path) order, at most `limit`.
pub fn search(
    idx: &RmsIndex,
    query: &str,
    limit: Option<usize>,
) -> Result<Vec<Box<RawValue>>, IndexError> {
    let mut out = Vec::new();
    search_each(idx, query, limit, |r| {
        out.push(r);
        ControlFlow::Continue(())
    })?;
    Ok(out)
}

/// Like [`search`], handing each record to `f` as it is read (memory does
/// not grow with the number of records); `f` returns `Break` to stop.
/// Returns how many records matched (all of them, whatever `limit` kept).
pub fn search_each(
    idx: &RmsIndex,
    query: &str,
    limit: Option<usize>,
    f: impl FnMut(Box<RawValue>) -> ControlFlow<()>,
) -> Result<usize, IndexError> {
    let mut parser = QueryParser::for_index(&idx.index, idx.fields.default_search());
    parser.set_conjunction_by_default();
    let q = parser.parse_query(query).map_err(|e| {
        let mut msg = format!("bad query {query:?}: {e}");
        if matches!(e, tantivy::query::QueryParserError::FieldDoesNotExist(_)) {
            msg.push_str(&format!(". Fields: {}", idx.fields.queryable().join(", ")));
        }
        IndexError::BadQuery(msg)
    })?;
    each(idx, &*q, limit, f)
}

/// Every record, in (label, path) order, handed to `f` as it is read.
pub fn export_each(
    idx: &RmsIndex,
    f: impl FnMut(Box<RawValue>) -> ControlFlow<()>,
) -> Result<(), IndexError> {
    each(idx, &AllQuery, None, f).map(|_| ())
}

fn each(
    idx: &RmsIndex,
    q: &dyn Query,
    limit: Option<usize>,
    mut f: impl FnMut(Box<RawValue>) -> ControlFlow<()>,
) -> Result<usize, IndexError> {
    let searcher = crate::searcher(idx)?;
    let docs =
        matching(&searcher, q).map_err(|e| IndexError::Tantivy(idx.dir.clone(), e.to_string()))?;
    for_each_in_order(idx, &searcher, &docs, limit, |_, raw| f(raw))?;
    Ok(docs.values().map(Vec::len).sum())
}
