//! What the index already holds for a label, so a re-scan can skip
//! unchanged files without reading them: (size, mtime) by file key, read
//! from fast fields. Paths are streamed from the term dictionary, never
//! held: a re-scan's memory is a few dozen bytes per indexed file.

use std::collections::{BTreeMap, HashMap};

use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Searcher, Term};

use crate::open::RmsIndex;
use crate::rows::matching;
use crate::schema::file_id;
use crate::IndexError;

/// Size and modification time (ns) of an indexed file, and whether its
/// record is an error (a file that could not be read is read again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    pub size: Option<u64>,
    pub mtime_ns: Option<i64>,
    pub error: bool,
}

/// File key ([`file_id`] of label and path) → what was indexed, for every
/// record of `label` that lies under one of `roots` (a root is a folder or
/// an image file; `""` holds everything).
pub fn known_files(
    idx: &RmsIndex,
    label: &str,
    roots: &[String],
) -> Result<HashMap<[u8; 16], Known>, IndexError> {
    let mut out = HashMap::new();
    for_each_indexed(idx, label, |path, known| {
        if roots.iter().any(|root| is_under(path, root)) {
            out.insert(file_id(label, path), known);
        }
    })?;
    Ok(out)
}

/// Whether `path` is `root` or lies below it (`""` holds everything).
fn is_under(path: &str, root: &str) -> bool {
    root.is_empty()
        || path
            .strip_prefix(root)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A searcher and the documents of `label`, by segment.
pub(crate) fn label_docs(
    idx: &RmsIndex,
    label: &str,
) -> Result<(Searcher, BTreeMap<u32, Vec<DocId>>), IndexError> {
    let searcher = crate::searcher(idx)?;
    let q = TermQuery::new(
        Term::from_field_text(idx.fields.label, label),
        IndexRecordOption::Basic,
    );
    let docs =
        matching(&searcher, &q).map_err(|e| IndexError::Tantivy(idx.dir.clone(), e.to_string()))?;
    Ok((searcher, docs))
}

/// Calls `f(path, known)` for every record of `label`, reading each
/// segment's paths in one sorted pass over its dictionary.
pub fn for_each_indexed(
    idx: &RmsIndex,
    label: &str,
    mut f: impl FnMut(&str, Known),
) -> Result<(), IndexError> {
    let (searcher, docs) = label_docs(idx, label)?;
    let fl = &idx.fields;
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let Some(paths) = seg.fast_fields().str(fl.name(fl.path)).ok().flatten() else {
            continue;
        };
        let size = seg.fast_fields().u64(fl.name(fl.size)).ok();
        let mtime = seg.fast_fields().i64(fl.name(fl.mtime_ns)).ok();
        let kind = seg.fast_fields().str(fl.name(fl.kind)).ok().flatten();
        let unreadable = kind
            .as_ref()
            .and_then(|k| k.dictionary().term_ord(b"unreadable").ok().flatten());
        let mut by_ord: Vec<(u64, DocId)> = ids
            .iter()
            .filter_map(|&d| paths.term_ords(d).next().map(|o| (o, d)))
            .collect();
        by_ord.sort_unstable();
        by_ord.dedup_by_key(|p| p.0);
        let mut next = by_ord.iter();
        paths
            .dictionary()
            .sorted_ords_to_term_cb(by_ord.iter().map(|p| p.0), |bytes| {
                if let Some(&(_, doc)) = next.next() {
                    let known = Known {
                        size: size.as_ref().and_then(|c| c.first(doc)),
                        mtime_ns: mtime.as_ref().and_then(|c| c.first(doc)),
                        error: unreadable.is_some()
                            && kind.as_ref().and_then(|k| k.term_ords(doc).next()) == unreadable,
                    };
                    f(&String::from_utf8_lossy(bytes), known);
                }
                Ok(())
            })
            .map_err(|e| IndexError::Tantivy(idx.dir.clone(), e.to_string()))?;
    }
    Ok(())
}
