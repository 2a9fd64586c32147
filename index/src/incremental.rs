//! What the index already holds for a label: (path → size, mtime) from fast
//! fields, so a re-scan can skip unchanged files without reading them.

use std::collections::HashMap;

use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::Term;

use crate::open::RmsIndex;
use crate::rows::{matching, StrLookup};
use crate::IndexError;

/// Size and modification time (ns) of an indexed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub size: Option<u64>,
    pub mtime_ns: Option<i64>,
}

/// path → what was indexed, for every record of `label`.
pub fn known_files(idx: &RmsIndex, label: &str) -> Result<HashMap<String, Known>, IndexError> {
    let searcher = crate::searcher(idx)?;
    let q = TermQuery::new(
        Term::from_field_text(idx.fields.label, label),
        IndexRecordOption::Basic,
    );
    let docs =
        matching(&searcher, &q).map_err(|e| IndexError::Tantivy(idx.dir.clone(), e.to_string()))?;
    let mut out = HashMap::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let mut path = StrLookup::new(seg, "path");
        let size = seg.fast_fields().u64("size").ok();
        let mtime = seg.fast_fields().i64("mtime_ns").ok();
        // Every path of the label is needed: read the dictionary in one
        // sorted pass instead of one block decode per document.
        let ords: Vec<u64> = ids.iter().filter_map(|&d| path.ord(d)).collect();
        path.prefetch(ords);
        for &doc in ids {
            if let Some(p) = path.owned(doc) {
                out.insert(
                    p,
                    Known {
                        size: size.as_ref().and_then(|c| c.first(doc)),
                        mtime_ns: mtime.as_ref().and_then(|c| c.first(doc)),
                    },
                );
            }
        }
    }
    Ok(out)
}
