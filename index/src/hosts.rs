//! What identifies the host behind a label: the machine IDs of the machine
//! certificates (and RACs) its records hold. A scan compares the evidence it
//! is about to write under a label with this, so that a second host mounted
//! where the first was, or scanned under the first one's label, cannot
//! replace the first one's records.

use std::collections::BTreeSet;

use crate::open::RmsIndex;
use crate::IndexError;

/// The machine IDs of every record of `label` (empty: the index cannot tell
/// which host the label is).
pub fn machine_ids(idx: &RmsIndex, label: &str) -> Result<BTreeSet<String>, IndexError> {
    let (searcher, docs) = crate::incremental::label_docs(idx, label)?;
    let f = &idx.fields;
    let mut out = BTreeSet::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let Some(col) = seg.fast_fields().str(f.name(f.machine_id)).ok().flatten() else {
            continue;
        };
        let mut ords: Vec<u64> = ids.iter().flat_map(|&d| col.term_ords(d)).collect();
        ords.sort_unstable();
        ords.dedup();
        col.dictionary()
            .sorted_ords_to_term_cb(ords.into_iter(), |bytes| {
                out.insert(String::from_utf8_lossy(bytes).into_owned());
                Ok(())
            })
            .map_err(|e| IndexError::Tantivy(idx.dir.clone(), e.to_string()))?;
    }
    Ok(out)
}
