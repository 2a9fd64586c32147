//! The questions examiners ask: which templates exist and where (inventory),
//! who issued what (issuers), what is stale, and what was issued by someone
//! outside the trusted list (foreign). Aggregated over fast fields.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tantivy::query::{AllQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Term};

use crate::open::RmsIndex;
use crate::rows::{
    date_at, date_col, matching, sort_by_label_path, stored_record, str_at, str_col,
};
use crate::IndexError;

fn rfc3339(secs: Option<i64>) -> Option<String> {
    secs.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
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
    stores: BTreeSet<(String, String)>,
    owners: BTreeSet<(String, String)>,
    digests: BTreeSet<String>,
    oldest_modified: Option<i64>,
    newest_modified: Option<i64>,
}

fn kind_query(idx: &RmsIndex, kind: &str) -> TermQuery {
    TermQuery::new(
        Term::from_field_text(idx.fields.kind, kind),
        IndexRecordOption::Basic,
    )
}

/// The template inventory: one row per template ID.
pub fn templates(idx: &RmsIndex) -> Result<Vec<TemplateRow>, IndexError> {
    let searcher = crate::searcher(idx)?;
    let t = |e: tantivy::TantivyError| IndexError::Tantivy(idx.dir.clone(), e.to_string());
    let docs = matching(&searcher, &kind_query(idx, "template")).map_err(t)?;
    let mut acc: BTreeMap<Option<String>, TemplateAcc> = BTreeMap::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let c = |n| str_col(seg, n);
        let (tid, name, iname, ihost, label, path, profile, sid, digest) = (
            c("template_id"),
            c("template_name"),
            c("issuer_name_exact"),
            c("issuer_host"),
            c("label"),
            c("path"),
            c("profile"),
            c("sid"),
            c("digest"),
        );
        let (issued, modified) = (date_col(seg, "issued"), date_col(seg, "modified"));
        for &doc in ids {
            let a = acc.entry(str_at(&tid, doc)).or_default();
            let label = str_at(&label, doc).unwrap_or_default();
            let path = str_at(&path, doc).unwrap_or_default();
            a.stores
                .insert((label.clone(), parent_dir(&path).to_string()));
            let owner = str_at(&profile, doc)
                .or_else(|| str_at(&sid, doc))
                .unwrap_or_default();
            a.owners.insert((label, owner));
            if let Some(d) = str_at(&digest, doc) {
                a.digests.insert(d);
            }
            let when = date_at(&issued, doc).unwrap_or(i64::MIN);
            if a.newest.as_ref().is_none_or(|n| when > n.0) {
                a.newest = Some((
                    when,
                    str_at(&name, doc),
                    str_at(&iname, doc),
                    str_at(&ihost, doc),
                ));
            }
            if let Some(m) = date_at(&modified, doc) {
                a.oldest_modified = Some(a.oldest_modified.map_or(m, |o| o.min(m)));
                a.newest_modified = Some(a.newest_modified.map_or(m, |o| o.max(m)));
            }
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
}

const LICENSE_KINDS: [&str; 5] = ["rac", "clc", "eul", "publishing_license", "jclc"];

/// The issuers of everything in the index.
pub fn issuers(idx: &RmsIndex) -> Result<Vec<IssuerRow>, IndexError> {
    let searcher = crate::searcher(idx)?;
    let t = |e: tantivy::TantivyError| IndexError::Tantivy(idx.dir.clone(), e.to_string());
    let docs = matching(&searcher, &AllQuery).map_err(t)?;
    #[derive(Default)]
    struct Acc {
        row: Option<IssuerRow>,
        templates: BTreeSet<String>,
        licenses: usize,
        owners: BTreeSet<(String, String)>,
    }
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let c = |n| str_col(seg, n);
        let (iid, iname, ihost, ikind, svc, region, tenant, kind, tid, label, profile, sid) = (
            c("issuer_id"),
            c("issuer_name_exact"),
            c("issuer_host"),
            c("issuer_kind"),
            c("rms_service_id"),
            c("region"),
            c("tenant_id"),
            c("kind"),
            c("template_id"),
            c("label"),
            c("profile"),
            c("sid"),
        );
        for &doc in ids {
            let (id, name, host) = (str_at(&iid, doc), str_at(&iname, doc), str_at(&ihost, doc));
            let Some(key) = id.clone().or_else(|| host.clone()).or_else(|| name.clone()) else {
                continue;
            };
            let a = acc.entry(key).or_default();
            let row = a.row.get_or_insert(IssuerRow {
                issuer_id: id,
                issuer_name: name,
                issuer_host: host,
                issuer_kind: None,
                rms_service_id: None,
                region: None,
                tenant_id: None,
                templates: 0,
                licenses: 0,
                profiles: 0,
            });
            for (slot, col) in [
                (&mut row.issuer_kind, &ikind),
                (&mut row.rms_service_id, &svc),
                (&mut row.region, &region),
                (&mut row.tenant_id, &tenant),
            ] {
                if slot.is_none() {
                    *slot = str_at(col, doc);
                }
            }
            if row.issuer_host.is_none() {
                row.issuer_host = str_at(&ihost, doc);
            }
            let kind = str_at(&kind, doc).unwrap_or_default();
            if kind == "template" {
                if let Some(t) = str_at(&tid, doc) {
                    a.templates.insert(t);
                }
            } else if LICENSE_KINDS.contains(&kind.as_str()) {
                a.licenses += 1;
            }
            let owner = str_at(&profile, doc)
                .or_else(|| str_at(&sid, doc))
                .unwrap_or_default();
            a.owners
                .insert((str_at(&label, doc).unwrap_or_default(), owner));
        }
    }
    let mut rows: Vec<IssuerRow> = acc
        .into_values()
        .filter_map(|a| {
            let mut row = a.row?;
            row.templates = a.templates.len();
            row.licenses = a.licenses;
            row.profiles = a.owners.len();
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

/// Why a record is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StaleReason {
    /// A managed template file untouched for longer than the window: the
    /// profile or service stopped refreshing (the client refreshes every 1–7 days).
    NotRefreshed,
    /// An older revision of a template whose newer revision is in the index.
    Superseded,
    /// `valid_until` or a template's content-expiry date has passed.
    Expired,
}

/// Records with the reasons they are stale, in (label, path) order.
pub fn stale(
    idx: &RmsIndex,
    as_of: i64,
    older_than_secs: i64,
) -> Result<Vec<serde_json::Value>, IndexError> {
    let searcher = crate::searcher(idx)?;
    let t = |e: tantivy::TantivyError| IndexError::Tantivy(idx.dir.clone(), e.to_string());
    let docs = matching(&searcher, &AllQuery).map_err(t)?;
    // Newest revision of every template ID, anywhere in the index.
    let mut newest: BTreeMap<String, i64> = BTreeMap::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let (kind, tid, issued) = (
            str_col(seg, "kind"),
            str_col(seg, "template_id"),
            date_col(seg, "issued"),
        );
        for &doc in ids {
            if str_at(&kind, doc).as_deref() != Some("template") {
                continue;
            }
            if let (Some(id), Some(i)) = (str_at(&tid, doc), date_at(&issued, doc)) {
                let e = newest.entry(id).or_insert(i);
                *e = (*e).max(i);
            }
        }
    }
    let mut hits: BTreeMap<DocAddress, Vec<StaleReason>> = BTreeMap::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let (kind, area, tid) = (
            str_col(seg, "kind"),
            str_col(seg, "store_area"),
            str_col(seg, "template_id"),
        );
        let (issued, modified, until, expiry) = (
            date_col(seg, "issued"),
            date_col(seg, "modified"),
            date_col(seg, "valid_until"),
            date_col(seg, "content_expiry_date"),
        );
        for &doc in ids {
            let mut reasons = Vec::new();
            let is_template = str_at(&kind, doc).as_deref() == Some("template");
            if is_template && str_at(&area, doc).as_deref() == Some("templates") {
                if let Some(m) = date_at(&modified, doc) {
                    if m < as_of - older_than_secs {
                        reasons.push(StaleReason::NotRefreshed);
                    }
                }
            }
            if is_template {
                if let (Some(id), Some(i)) = (str_at(&tid, doc), date_at(&issued, doc)) {
                    if newest.get(&id).is_some_and(|&n| i < n) {
                        reasons.push(StaleReason::Superseded);
                    }
                }
            }
            let expired = date_at(&until, doc).is_some_and(|u| u < as_of)
                || date_at(&expiry, doc).is_some_and(|e| e < as_of);
            if expired {
                reasons.push(StaleReason::Expired);
            }
            if !reasons.is_empty() {
                hits.insert(DocAddress::new(seg_ord, doc), reasons);
            }
        }
    }
    with_reasons(idx, &searcher, hits, "reasons")
}

fn with_reasons<T: Serialize>(
    idx: &RmsIndex,
    searcher: &tantivy::Searcher,
    hits: BTreeMap<DocAddress, T>,
    key: &str,
) -> Result<Vec<serde_json::Value>, IndexError> {
    let mut by_seg: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for a in hits.keys() {
        by_seg.entry(a.segment_ord).or_default().push(a.doc_id);
    }
    let mut out = Vec::new();
    for (_, _, addr) in sort_by_label_path(searcher, &by_seg) {
        let mut rec = stored_record(idx, searcher, addr)?;
        if let (Some(obj), Some(extra)) = (rec.as_object_mut(), hits.get(&addr)) {
            obj.insert(
                key.to_string(),
                serde_json::to_value(extra).unwrap_or_default(),
            );
        }
        out.push(rec);
    }
    Ok(out)
}

/// What an examiner trusts: host names or domain suffixes, issuer IDs, RMS
/// service IDs, tenant IDs, or exact issuer names.
#[derive(Debug, Clone, Default)]
pub struct TrustList {
    patterns: Vec<String>,
}

impl TrustList {
    pub fn new(patterns: impl IntoIterator<Item = String>) -> TrustList {
        TrustList {
            patterns: patterns
                .into_iter()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty() && !p.starts_with('#'))
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether an issuer is trusted.
    pub fn trusts(&self, host: Option<&str>, ids: &[Option<String>], name: Option<&str>) -> bool {
        self.patterns.iter().any(|p| {
            let lp = p.to_ascii_lowercase();
            let guid = lp.trim_start_matches('{').trim_end_matches('}');
            host.is_some_and(|h| h == lp || h.ends_with(&format!(".{lp}")))
                || ids.iter().flatten().any(|id| id == guid)
                || name == Some(p.as_str())
        })
    }
}

/// Kinds issued by an RMS server or tenant (machine certificates and the CA
/// chain come from Microsoft's activation service by design).
const RMS_ISSUED: [&str; 6] = [
    "template",
    "rac",
    "clc",
    "eul",
    "publishing_license",
    "jclc",
];

/// Records whose issuer matches none of the trusted patterns.
pub fn foreign(idx: &RmsIndex, trust: &TrustList) -> Result<Vec<serde_json::Value>, IndexError> {
    let searcher = crate::searcher(idx)?;
    let t = |e: tantivy::TantivyError| IndexError::Tantivy(idx.dir.clone(), e.to_string());
    let docs = matching(&searcher, &AllQuery).map_err(t)?;
    let mut hits: BTreeMap<DocAddress, &str> = BTreeMap::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let c = |n| str_col(seg, n);
        let (kind, ikind, host, iid, svc, tenant, name) = (
            c("kind"),
            c("issuer_kind"),
            c("issuer_host"),
            c("issuer_id"),
            c("rms_service_id"),
            c("tenant_id"),
            c("issuer_name_exact"),
        );
        for &doc in ids {
            let k = str_at(&kind, doc).unwrap_or_default();
            if !RMS_ISSUED.contains(&k.as_str())
                || str_at(&ikind, doc).as_deref() == Some("microsoft_ca")
            {
                continue;
            }
            let (h, n) = (str_at(&host, doc), str_at(&name, doc));
            let ids = [str_at(&iid, doc), str_at(&svc, doc), str_at(&tenant, doc)];
            if h.is_none() && n.is_none() && ids.iter().all(Option::is_none) {
                continue; // no issuer: not foreign, just unknown
            }
            if !trust.trusts(h.as_deref(), &ids, n.as_deref()) {
                hits.insert(DocAddress::new(seg_ord, doc), "untrusted_issuer");
            }
        }
    }
    with_reasons(idx, &searcher, hits, "reason")
}
