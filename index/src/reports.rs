//! The questions examiners ask: which templates exist and where (inventory),
//! who issued what (issuers); what is stale and what foreign issuers issued
//! are in [`crate::findings`] (re-exported here). Aggregated over fast fields, by
//! dictionary ordinal within each segment; strings are read once per distinct
//! value.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use tantivy::schema::Field;

use serde::Serialize;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::Term;

use crate::open::RmsIndex;
use crate::rows::{date_at, date_col, matching, StrLookup};
use crate::IndexError;

fn rfc3339(secs: Option<i64>) -> Option<String> {
    secs.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

pub(crate) fn tantivy_err(idx: &RmsIndex) -> impl Fn(tantivy::TantivyError) -> IndexError + '_ {
    move |e| IndexError::Tantivy(idx.dir.clone(), e.to_string())
}

fn kind_query(idx: &RmsIndex, kind: &str) -> TermQuery {
    TermQuery::new(
        Term::from_field_text(idx.fields.kind, kind),
        IndexRecordOption::Basic,
    )
}

fn label_query(idx: &RmsIndex, label: &str) -> TermQuery {
    TermQuery::new(
        Term::from_field_text(idx.fields.label, label),
        IndexRecordOption::Basic,
    )
}

/// What a summary covers: every record, or one host's (`label`).
fn scoped(idx: &RmsIndex, query: Option<TermQuery>, label: Option<&str>) -> Box<dyn Query> {
    let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    parts.extend(query.map(|q| (Occur::Must, Box::new(q) as Box<dyn Query>)));
    parts.extend(label.map(|l| (Occur::Must, Box::new(label_query(idx, l)) as Box<dyn Query>)));
    match parts.len() {
        0 => Box::new(AllQuery),
        _ => Box::new(BooleanQuery::new(parts)),
    }
}

/// The labels (hosts) the index holds, sorted: from the `label` field's
/// term dictionaries, without reading a document.
pub fn labels(idx: &RmsIndex) -> Result<Vec<String>, IndexError> {
    let searcher = crate::searcher(idx)?;
    let mut out = BTreeSet::new();
    for seg in searcher.segment_readers() {
        let inverted = seg
            .inverted_index(idx.fields.label)
            .map_err(tantivy_err(idx))?;
        let mut terms = inverted
            .terms()
            .stream()
            .map_err(|e| IndexError::Tantivy(idx.dir.clone(), e.to_string()))?;
        while terms.advance() {
            out.insert(String::from_utf8_lossy(terms.key()).into_owned());
        }
    }
    Ok(out.into_iter().collect())
}

/// One row of the template inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateRow {
    pub template_id: Option<String>,
    pub name: Option<String>,
    pub issuer_name: Option<String>,
    pub issuer_host: Option<String>,
    /// Store folders holding it.
    pub stores: usize,
    /// Distinct profiles and service SIDs holding it.
    pub profiles: usize,
    /// Distinct hosts (labels) holding it.
    pub hosts: usize,
    /// Distinct revisions (signature digests).
    pub revisions: usize,
    pub newest_issued: Option<String>,
    pub oldest_modified: Option<String>,
    pub newest_modified: Option<String>,
}

/// What the newest revision says: (issued, name, issuer name, issuer host).
type Newest = (i64, Option<String>, Option<String>, Option<String>);

#[derive(Default)]
struct TemplateAcc {
    newest: Option<Newest>,
    stores: BTreeSet<String>,
    owners: BTreeSet<String>,
    hosts: BTreeSet<String>,
    digests: BTreeSet<String>,
    oldest_modified: Option<i64>,
    newest_modified: Option<i64>,
}

/// Per segment and template ordinal, before strings are read.
#[derive(Default)]
struct SegTemplate {
    newest: Option<(i64, DocIdT)>,
    stores: HashSet<u64>,
    owners: HashSet<u64>,
    hosts: HashSet<u64>,
    digests: HashSet<u64>,
    oldest_modified: Option<i64>,
    newest_modified: Option<i64>,
}

type DocIdT = tantivy::DocId;

fn min_max(lo: &mut Option<i64>, hi: &mut Option<i64>, v: Option<i64>) {
    if let Some(v) = v {
        *lo = Some(lo.map_or(v, |o| o.min(v)));
        *hi = Some(hi.map_or(v, |o| o.max(v)));
    }
}

/// The template inventory: one row per template ID.
pub fn templates(idx: &RmsIndex) -> Result<Vec<TemplateRow>, IndexError> {
    templates_of(idx, None)
}

/// The template inventory of one host (`label`), or of all.
pub fn templates_of(idx: &RmsIndex, label: Option<&str>) -> Result<Vec<TemplateRow>, IndexError> {
    let searcher = crate::searcher(idx)?;
    let f = &idx.fields;
    let query = scoped(idx, Some(kind_query(idx, "template")), label);
    let docs = matching(&searcher, query.as_ref()).map_err(tantivy_err(idx))?;
    let mut acc: BTreeMap<Option<String>, TemplateAcc> = BTreeMap::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let mut tid = StrLookup::new(seg, f.template_id);
        let (store, owner, digest, host) = (
            StrLookup::new(seg, f.store),
            StrLookup::new(seg, f.holder),
            StrLookup::new(seg, f.digest),
            StrLookup::new(seg, f.label),
        );
        let (issued, modified) = (date_col(seg, f.issued), date_col(seg, f.modified));
        let mut by_ord: HashMap<Option<u64>, SegTemplate> = HashMap::new();
        for &doc in ids {
            let t = by_ord.entry(tid.ord(doc)).or_default();
            t.stores.extend(store.ord(doc));
            t.owners.extend(owner.ord(doc));
            t.hosts.extend(host.ord(doc));
            t.digests.extend(digest.ord(doc));
            let when = date_at(&issued, doc).unwrap_or(i64::MIN);
            if t.newest.is_none_or(|(n, _)| when > n) {
                t.newest = Some((when, doc));
            }
            min_max(
                &mut t.oldest_modified,
                &mut t.newest_modified,
                date_at(&modified, doc),
            );
        }
        let (mut store, mut owner, mut digest, mut host) = (store, owner, digest, host);
        let (mut name, mut iname, mut ihost) = (
            StrLookup::new(seg, f.template_name),
            StrLookup::new(seg, f.issuer_name_exact),
            StrLookup::new(seg, f.issuer_host),
        );
        for (ord, t) in by_ord {
            let key = ord.and_then(|o| tid.term(o).map(str::to_string));
            let a = acc.entry(key).or_default();
            a.stores.extend(
                t.stores
                    .iter()
                    .filter_map(|&o| store.term(o).map(str::to_string)),
            );
            a.owners.extend(
                t.owners
                    .iter()
                    .filter_map(|&o| owner.term(o).map(str::to_string)),
            );
            a.digests.extend(
                t.digests
                    .iter()
                    .filter_map(|&o| digest.term(o).map(str::to_string)),
            );
            a.hosts.extend(
                t.hosts
                    .iter()
                    .filter_map(|&o| host.term(o).map(str::to_string)),
            );
            if let Some((when, doc)) = t.newest {
                if a.newest.as_ref().is_none_or(|n| when > n.0) {
                    a.newest = Some((when, name.owned(doc), iname.owned(doc), ihost.owned(doc)));
                }
            }
            min_max(
                &mut a.oldest_modified,
                &mut a.newest_modified,
                t.oldest_modified,
            );
            min_max(
                &mut a.oldest_modified,
                &mut a.newest_modified,
                t.newest_modified,
            );
        }
    }
    let mut rows: Vec<TemplateRow> = acc
        .into_iter()
        .map(|(template_id, a)| {
            let (issued, name, issuer_name, issuer_host) =
                a.newest.unwrap_or((i64::MIN, None, None, None));
            TemplateRow {
                template_id,
                name,
                issuer_name,
                issuer_host,
                stores: a.stores.len(),
                profiles: a.owners.len(),
                hosts: a.hosts.len(),
                revisions: a.digests.len(),
                newest_issued: rfc3339((issued != i64::MIN).then_some(issued)),
                oldest_modified: rfc3339(a.oldest_modified),
                newest_modified: rfc3339(a.newest_modified),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        let key = |r: &TemplateRow| {
            (
                r.name.as_deref().unwrap_or("").to_lowercase(),
                r.template_id.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    Ok(rows)
}

/// One row per issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuerRow {
    pub issuer_id: Option<String>,
    pub issuer_name: Option<String>,
    pub issuer_host: Option<String>,
    pub issuer_kind: Option<String>,
    pub rms_service_id: Option<String>,
    pub region: Option<String>,
    pub tenant_id: Option<String>,
    /// Distinct template IDs it issued.
    pub templates: usize,
    /// Licence and certificate files it issued (RAC, CLC, EUL, PL, JCLC).
    pub licenses: usize,
    /// Distinct profiles and service SIDs holding its files.
    pub profiles: usize,
    /// Distinct hosts (labels) holding its files.
    pub hosts: usize,
}

impl IssuerRow {
    /// What tells issuers apart: the issuer ID, else the host, else the name
    /// (the key of [`crate::findings::Found::foreign_issuers`]).
    pub fn key(&self) -> Option<&str> {
        self.issuer_id
            .as_deref()
            .or(self.issuer_host.as_deref())
            .or(self.issuer_name.as_deref())
    }
}

const LICENSE_KINDS: [&str; 5] = ["rac", "clc", "eul", "publishing_license", "jclc"];

/// The issuers of everything in the index.
pub fn issuers(idx: &RmsIndex) -> Result<Vec<IssuerRow>, IndexError> {
    issuers_of(idx, None)
}

/// The issuers of one host's records (`label`), or of all.
pub fn issuers_of(idx: &RmsIndex, label: Option<&str>) -> Result<Vec<IssuerRow>, IndexError> {
    let searcher = crate::searcher(idx)?;
    let f = &idx.fields;
    let query = scoped(idx, None, label);
    let docs = matching(&searcher, query.as_ref()).map_err(tantivy_err(idx))?;
    #[derive(Default)]
    struct Acc {
        row: Option<IssuerRow>,
        templates: BTreeSet<String>,
        licenses: usize,
        owners: BTreeSet<String>,
        hosts: BTreeSet<String>,
        /// Records per issuer host: the row shows the most common.
        issuer_hosts: BTreeMap<String, usize>,
    }
    #[derive(Default)]
    struct Seg {
        first: DocIdT,
        docs: usize,
        templates: HashSet<u64>,
        licenses: usize,
        owners: HashSet<u64>,
        hosts: HashSet<u64>,
    }
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let l = |n: Field| StrLookup::new(seg, n);
        let (mut iid, mut iname, mut ihost, mut kind, tid, owner, label) = (
            l(f.issuer_id),
            l(f.issuer_name_exact),
            l(f.issuer_host),
            l(f.kind),
            l(f.template_id),
            l(f.holder),
            l(f.label),
        );
        // Keyed by the (issuer ID, host, name) ordinals of this segment.
        let mut groups: HashMap<[Option<u64>; 3], Seg> = HashMap::new();
        for &doc in ids {
            let key = [iid.ord(doc), ihost.ord(doc), iname.ord(doc)];
            if key == [None, None, None] {
                continue;
            }
            let g = groups.entry(key).or_insert_with(|| Seg {
                first: doc,
                ..Seg::default()
            });
            match kind.get(doc) {
                Some("template") => g.templates.extend(tid.ord(doc)),
                Some(k) if LICENSE_KINDS.contains(&k) => g.licenses += 1,
                _ => {}
            }
            g.docs += 1;
            g.owners.extend(owner.ord(doc));
            g.hosts.extend(label.ord(doc));
        }
        let (mut tid, mut owner, mut label) = (tid, owner, label);
        let (mut ikind, mut svc, mut region, mut tenant) = (
            l(f.issuer_kind),
            l(f.rms_service_id),
            l(f.region),
            l(f.tenant_id),
        );
        // In the order of their values, so that what a row takes from its
        // first group does not depend on hashing.
        let mut groups: Vec<_> = groups
            .into_iter()
            .map(|([id_o, host_o, name_o], g)| {
                let id = id_o.and_then(|o| iid.term(o).map(str::to_string));
                let host = host_o.and_then(|o| ihost.term(o).map(str::to_string));
                let name = name_o.and_then(|o| iname.term(o).map(str::to_string));
                ((id, host, name), g)
            })
            .collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        for ((id, host, name), g) in groups {
            let Some(key) = id.clone().or_else(|| host.clone()).or_else(|| name.clone()) else {
                continue;
            };
            let a = acc.entry(key).or_default();
            let row = a.row.get_or_insert(IssuerRow {
                issuer_id: id,
                issuer_name: name,
                issuer_host: None,
                issuer_kind: None,
                rms_service_id: None,
                region: None,
                tenant_id: None,
                templates: 0,
                licenses: 0,
                profiles: 0,
                hosts: 0,
            });
            let doc = g.first;
            if let Some(h) = host {
                *a.issuer_hosts.entry(h).or_default() += g.docs;
            }
            for (slot, value) in [
                (&mut row.issuer_kind, ikind.owned(doc)),
                (&mut row.rms_service_id, svc.owned(doc)),
                (&mut row.region, region.owned(doc)),
                (&mut row.tenant_id, tenant.owned(doc)),
            ] {
                if slot.is_none() {
                    *slot = value;
                }
            }
            a.templates.extend(
                g.templates
                    .iter()
                    .filter_map(|&o| tid.term(o).map(str::to_string)),
            );
            a.licenses += g.licenses;
            a.owners.extend(
                g.owners
                    .iter()
                    .filter_map(|&o| owner.term(o).map(str::to_string)),
            );
            a.hosts.extend(
                g.hosts
                    .iter()
                    .filter_map(|&o| label.term(o).map(str::to_string)),
            );
        }
    }
    let mut rows: Vec<IssuerRow> = acc
        .into_values()
        .filter_map(|a| {
            let mut row = a.row?;
            // The host most of its records name; of equals, the first by name.
            row.issuer_host = a
                .issuer_hosts
                .iter()
                .max_by(|x, y| x.1.cmp(y.1).then_with(|| y.0.cmp(x.0)))
                .map(|(h, _)| h.clone());
            row.templates = a.templates.len();
            row.licenses = a.licenses;
            row.profiles = a.owners.len();
            row.hosts = a.hosts.len();
            Some(row)
        })
        .collect();
    rows.sort_by(|a, b| {
        (
            a.issuer_name.as_deref().map(str::to_lowercase),
            &a.issuer_id,
        )
            .cmp(&(
                b.issuer_name.as_deref().map(str::to_lowercase),
                &b.issuer_id,
            ))
    });
    Ok(rows)
}

pub use crate::findings::{foreign, stale, Found, StaleReason, TrustList};
