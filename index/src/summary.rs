//! The overview a report opens with: per label (host or case) how many
//! files, profiles, stores, bytes and errors; files by kind; files per
//! profile; and the issued and content-expiry dates of every distinct
//! template revision. One pass over fast fields, strings read once per
//! distinct value in each segment.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use tantivy::schema::Field;

use serde::Serialize;

use crate::open::RmsIndex;
use crate::rows::{date_at, date_col, matching, store_files, StrLookup};
use crate::IndexError;

/// Totals for one label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LabelSummary {
    pub label: String,
    pub files: u64,
    /// Distinct profiles and service SIDs.
    pub profiles: u64,
    /// Distinct store folders.
    pub stores: u64,
    pub bytes: u64,
    /// Files that could not be read or parsed.
    pub errors: u64,
}

/// Store files of one profile or service SID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerFiles {
    pub label: String,
    /// The profile folder name or the service SID (empty for machine-wide stores).
    pub owner: String,
    pub files: u64,
}

/// One distinct template revision (template ID and signature digest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateDates {
    pub template_id: Option<String>,
    /// Seconds since the epoch, UTC.
    pub issued: Option<i64>,
    pub content_expiry: Option<i64>,
}

/// What the whole index holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Overview {
    /// One per label, by label.
    pub labels: Vec<LabelSummary>,
    /// All labels together.
    pub total: LabelSummary,
    /// Files per kind, most first (then by kind).
    pub kinds: Vec<(String, u64)>,
    /// Files per profile or SID, most first (then by label and owner).
    pub owners: Vec<OwnerFiles>,
    /// Distinct template revisions, by template ID, then issued.
    pub revisions: Vec<TemplateDates>,
}

/// (template ID, digest, issued, content expiry): by ordinal in a segment, then by string.
type Revision<T> = (Option<T>, Option<T>, Option<i64>, Option<i64>);

/// One label within one segment, by ordinal.
#[derive(Default)]
struct SegLabel {
    files: u64,
    bytes: u64,
    errors: u64,
    owners: HashSet<u64>,
    stores: HashSet<u64>,
}

#[derive(Default)]
struct LabelAcc {
    files: u64,
    bytes: u64,
    errors: u64,
    owners: BTreeSet<String>,
    stores: BTreeSet<String>,
}

/// Reads the overview of the index's last commit.
pub fn overview(idx: &RmsIndex) -> Result<Overview, IndexError> {
    let searcher = crate::searcher(idx)?;
    let f = &idx.fields;
    let docs = matching(&searcher, &store_files(idx))
        .map_err(|e| IndexError::Tantivy(idx.dir.clone(), e.to_string()))?;
    let mut labels: BTreeMap<String, LabelAcc> = BTreeMap::new();
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut owners: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut revisions: BTreeSet<Revision<String>> = BTreeSet::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let l = |n: Field| StrLookup::new(seg, n);
        let (mut label, mut kind, mut owner, mut store) =
            (l(f.label), l(f.kind), l(f.holder), l(f.store));
        let (mut tid, mut digest) = (l(f.template_id), l(f.digest));
        let (issued, expiry) = (
            date_col(seg, f.issued),
            date_col(seg, f.content_expiry_date),
        );
        let size = seg.fast_fields().u64(f.name(f.size)).ok();
        // By ordinal first; strings once per distinct ordinal at the end.
        let mut per_label: HashMap<Option<u64>, SegLabel> = HashMap::new();
        let mut per_kind: HashMap<Option<u64>, u64> = HashMap::new();
        let mut per_owner: HashMap<Option<u64>, u64> = HashMap::new();
        let mut revs: HashSet<Revision<u64>> = HashSet::new();
        for &doc in ids {
            let k = kind.ord(doc);
            *per_kind.entry(k).or_default() += 1;
            let o = owner.ord(doc);
            *per_owner.entry(o).or_default() += 1;
            let acc = per_label.entry(label.ord(doc)).or_default();
            acc.files += 1;
            acc.bytes += size.as_ref().and_then(|c| c.first(doc)).unwrap_or(0);
            let k = k.and_then(|k| kind.term(k));
            acc.errors += u64::from(k == Some("unreadable"));
            acc.owners.extend(o);
            acc.stores.extend(store.ord(doc));
            if k == Some("template") {
                revs.insert((
                    tid.ord(doc),
                    digest.ord(doc),
                    date_at(&issued, doc),
                    date_at(&expiry, doc),
                ));
            }
        }
        for (ord, n) in per_kind {
            let name = ord.and_then(|o| kind.term(o)).unwrap_or_default();
            *kinds.entry(name.to_string()).or_default() += n;
        }
        for (ord, n) in per_owner {
            let key = split_label(ord.and_then(|o| owner.term(o)).unwrap_or_default());
            *owners.entry(key).or_default() += n;
        }
        for (ord, seg_label) in per_label {
            let SegLabel {
                files,
                bytes,
                errors,
                owners: os,
                stores: ss,
            } = seg_label;
            let name = ord.and_then(|o| label.term(o)).unwrap_or_default();
            let acc = labels.entry(name.to_string()).or_default();
            acc.files += files;
            acc.bytes += bytes;
            acc.errors += errors;
            owner.prefetch(os.iter().copied());
            acc.owners.extend(
                os.into_iter()
                    .filter_map(|o| owner.term(o).map(str::to_string)),
            );
            store.prefetch(ss.iter().copied());
            acc.stores.extend(
                ss.into_iter()
                    .filter_map(|s| store.term(s).map(str::to_string)),
            );
        }
        for (t, d, i, e) in revs {
            revisions.insert((
                t.and_then(|t| tid.term(t)).map(str::to_string),
                d.and_then(|d| digest.term(d)).map(str::to_string),
                i,
                e,
            ));
        }
    }
    let mut total = LabelSummary::default();
    let (mut all_owners, mut all_stores) = (0, 0);
    let labels: Vec<LabelSummary> = labels
        .into_iter()
        .map(|(label, a)| {
            total.files += a.files;
            total.bytes += a.bytes;
            total.errors += a.errors;
            all_owners += a.owners.len() as u64;
            all_stores += a.stores.len() as u64;
            LabelSummary {
                label,
                files: a.files,
                profiles: a.owners.len() as u64,
                stores: a.stores.len() as u64,
                bytes: a.bytes,
                errors: a.errors,
            }
        })
        .collect();
    // Owners and stores are keyed by label, so the per-label sets are disjoint.
    total.profiles = all_owners;
    total.stores = all_stores;
    let mut kinds: Vec<(String, u64)> = kinds.into_iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut owners: Vec<OwnerFiles> = owners
        .into_iter()
        .map(|((label, owner), files)| OwnerFiles {
            label,
            owner,
            files,
        })
        .collect();
    owners.sort_by_key(|o| std::cmp::Reverse(o.files));
    // One revision per (template ID, digest): the same file in many profiles counts once.
    let mut seen = HashSet::new();
    let revisions = revisions
        .into_iter()
        .filter(|(t, d, _, _)| d.is_none() || seen.insert((t.clone(), d.clone())))
        .map(|(template_id, _, issued, content_expiry)| TemplateDates {
            template_id,
            issued,
            content_expiry,
        })
        .collect();
    Ok(Overview {
        labels,
        total,
        kinds,
        owners,
        revisions,
    })
}

/// `label` NUL `owner` → (label, owner).
fn split_label(key: &str) -> (String, String) {
    match key.split_once('\u{0}') {
        Some((l, o)) => (l.to_string(), o.to_string()),
        None => (String::new(), key.to_string()),
    }
}
