//! `search` and `export`: documents in (label, path) order, with their records.

use tantivy::query::{AllQuery, QueryParser};

use crate::open::RmsIndex;
use crate::rows::{matching, sort_by_label_path, stored_record};
use crate::IndexError;

/// Records matching a tantivy query, in (label, path) order, at most `limit`.
pub fn search(
    idx: &RmsIndex,
    query: &str,
    limit: Option<usize>,
) -> Result<Vec<serde_json::Value>, IndexError> {
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
pub fn export(idx: &RmsIndex) -> Result<Vec<serde_json::Value>, IndexError> {
    records(idx, &AllQuery, None)
}

fn records(
    idx: &RmsIndex,
    q: &dyn tantivy::query::Query,
    limit: Option<usize>,
) -> Result<Vec<serde_json::Value>, IndexError> {
    let searcher = crate::searcher(idx)?;
    let t = |e: tantivy::TantivyError| IndexError::Tantivy(idx.dir.clone(), e.to_string());
    let docs = matching(&searcher, q).map_err(t)?;
    sort_by_label_path(&searcher, &docs, limit)
        .iter()
        .map(|(_, _, addr)| stored_record(idx, &searcher, *addr))
        .collect()
}
