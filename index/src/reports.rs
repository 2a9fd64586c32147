//! The questions examiners ask: which templates exist and where (inventory),
//! who issued what (issuers), what is stale, and what was issued by someone
//! outside the trusted list (foreign). Aggregated over fast fields, by
//! dictionary ordinal within each segment; strings are read once per distinct
//! value.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::ControlFlow;

use serde::Serialize;
use tantivy::query::{AllQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Searcher, Term};

use crate::open::RmsIndex;
use crate::rows::{date_at, date_col, for_each_in_order, matching, StrLookup};
use crate::IndexError;

fn rfc3339(secs: Option<i64>) -> Option<String> {
    secs.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn tantivy_err(idx: &RmsIndex) -> impl Fn(tantivy::TantivyError) -> IndexError + '_ {
    move |e| IndexError::Tantivy(idx.dir.clone(), e.to_string())
}

fn kind_query(idx: &RmsIndex, kind: &str) -> TermQuery {
    TermQuery::new(
        Term::from_field_text(idx.fields.kind, kind),
        IndexRecordOption::Basic,
    )
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
    stores: BTreeSet<String>,
    owners: BTreeSet<String>,
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
    let searcher = crate::searcher(idx)?;
    let docs = matching(&searcher, &kind_query(idx, "template")).map_err(tantivy_err(idx))?;
    let mut acc: BTreeMap<Option<String>, TemplateAcc> = BTreeMap::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let mut tid = StrLookup::new(seg, "template_id");
        let (store, owner, digest) = (
            StrLookup::new(seg, "store"),
            StrLookup::new(seg, "holder"),
            StrLookup::new(seg, "digest"),
        );
        let (issued, modified) = (date_col(seg, "issued"), date_col(seg, "modified"));
        let mut by_ord: HashMap<Option<u64>, SegTemplate> = HashMap::new();
        for &doc in ids {
            let t = by_ord.entry(tid.ord(doc)).or_default();
            t.stores.extend(store.ord(doc));
            t.owners.extend(owner.ord(doc));
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
        let (mut store, mut owner, mut digest) = (store, owner, digest);
        let (mut name, mut iname, mut ihost) = (
            StrLookup::new(seg, "template_name"),
            StrLookup::new(seg, "issuer_name_exact"),
            StrLookup::new(seg, "issuer_host"),
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

impl IssuerRow {
    /// Whether `trust` leaves this issuer untrusted, as [`foreign`] judges its
    /// records (Microsoft's CA chain is never foreign).
    pub fn is_foreign(&self, trust: &TrustList) -> bool {
        let ids = [
            self.issuer_id.as_deref(),
            self.rms_service_id.as_deref(),
            self.tenant_id.as_deref(),
        ];
        let anything = self.issuer_host.is_some()
            || self.issuer_name.is_some()
            || ids.iter().any(Option::is_some);
        self.issuer_kind.as_deref() != Some("microsoft_ca")
            && anything
            && !trust.trusts(
                self.issuer_host.as_deref(),
                &ids,
                self.issuer_name.as_deref(),
            )
    }
}

const LICENSE_KINDS: [&str; 5] = ["rac", "clc", "eul", "publishing_license", "jclc"];

/// The issuers of everything in the index.
pub fn issuers(idx: &RmsIndex) -> Result<Vec<IssuerRow>, IndexError> {
    let searcher = crate::searcher(idx)?;
    let docs = matching(&searcher, &AllQuery).map_err(tantivy_err(idx))?;
    #[derive(Default)]
    struct Acc {
        row: Option<IssuerRow>,
        templates: BTreeSet<String>,
        licenses: usize,
        owners: BTreeSet<String>,
    }
    #[derive(Default)]
    struct Seg {
        first: DocIdT,
        templates: HashSet<u64>,
        licenses: usize,
        owners: HashSet<u64>,
    }
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let l = |n| StrLookup::new(seg, n);
        let (mut iid, mut iname, mut ihost, mut kind, tid, owner) = (
            l("issuer_id"),
            l("issuer_name_exact"),
            l("issuer_host"),
            l("kind"),
            l("template_id"),
            l("holder"),
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
            g.owners.extend(owner.ord(doc));
        }
        let (mut tid, mut owner) = (tid, owner);
        let (mut ikind, mut svc, mut region, mut tenant) = (
            l("issuer_kind"),
            l("rms_service_id"),
            l("region"),
            l("tenant_id"),
        );
        for ([id_o, host_o, name_o], g) in groups {
            let id = id_o.and_then(|o| iid.term(o).map(str::to_string));
            let host = host_o.and_then(|o| ihost.term(o).map(str::to_string));
            let name = name_o.and_then(|o| iname.term(o).map(str::to_string));
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
            });
            let doc = g.first;
            for (slot, value) in [
                (&mut row.issuer_host, host),
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
    /// A template of a server the host's registry redirects licensing away from.
    Redirected,
}

/// Records a report found: how many, per reason, and the way to read them.
pub struct Found {
    pub total: usize,
    /// Records per reason (a record may have several reasons).
    pub by_reason: BTreeMap<String, usize>,
    /// The key under which each record carries its reasons.
    key: &'static str,
    hits: BTreeMap<DocAddress, serde_json::Value>,
    /// What judged a record, where more than its own fields did (the
    /// host's registry): carried as `evidence`.
    evidence: HashMap<DocAddress, Vec<String>>,
    searcher: Searcher,
}

impl Found {
    /// Hands the records to `f` in (label, path) order, each with its
    /// reasons, at most `limit`, reading one stored record at a time.
    pub fn for_each(
        &self,
        idx: &RmsIndex,
        limit: Option<usize>,
        mut f: impl FnMut(serde_json::Value) -> ControlFlow<()>,
    ) -> Result<(), IndexError> {
        let mut by_seg: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for a in self.hits.keys() {
            by_seg.entry(a.segment_ord).or_default().push(a.doc_id);
        }
        let mut bad = None;
        for_each_in_order(idx, &self.searcher, &by_seg, limit, |addr, raw| {
            let mut rec: serde_json::Value = match serde_json::from_str(raw.get()) {
                Ok(v) => v,
                Err(e) => {
                    bad = Some(IndexError::Corrupt(idx.dir.clone(), e.to_string()));
                    return ControlFlow::Break(());
                }
            };
            if let (Some(obj), Some(reasons)) = (rec.as_object_mut(), self.hits.get(&addr)) {
                obj.insert(self.key.to_string(), reasons.clone());
                if let Some(e) = self.evidence.get(&addr) {
                    obj.insert("evidence".into(), serde_json::Value::from(e.clone()));
                }
            }
            f(rec)
        })?;
        bad.map_or(Ok(()), Err)
    }

    /// The first `limit` records (all with `None`), collected.
    pub fn rows(
        &self,
        idx: &RmsIndex,
        limit: Option<usize>,
    ) -> Result<Vec<serde_json::Value>, IndexError> {
        let mut out = Vec::new();
        self.for_each(idx, limit, |r| {
            out.push(r);
            ControlFlow::Continue(())
        })?;
        Ok(out)
    }
}

fn reason_name(r: impl Serialize) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Records that are stale, with their reasons.
pub fn stale(idx: &RmsIndex, as_of: i64, older_than_secs: i64) -> Result<Found, IndexError> {
    let searcher = crate::searcher(idx)?;
    let docs = matching(&searcher, &AllQuery).map_err(tantivy_err(idx))?;
    // Newest revision of every template ID, anywhere in the index.
    let mut newest: HashMap<String, i64> = HashMap::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let (mut kind, mut tid, issued) = (
            StrLookup::new(seg, "kind"),
            StrLookup::new(seg, "template_id"),
            date_col(seg, "issued"),
        );
        for &doc in ids {
            if kind.get(doc) != Some("template") {
                continue;
            }
            if let (Some(id), Some(i)) = (tid.get(doc), date_at(&issued, doc)) {
                match newest.get_mut(id) {
                    Some(n) => *n = (*n).max(i),
                    None => {
                        newest.insert(id.to_string(), i);
                    }
                }
            }
        }
    }
    let config = crate::hostconfig::load(idx)?;
    let no_config = crate::hostconfig::HostConfig::default();
    let mut hits: BTreeMap<DocAddress, Vec<StaleReason>> = BTreeMap::new();
    let mut evidence: HashMap<DocAddress, Vec<String>> = HashMap::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let l = |n| StrLookup::new(seg, n);
        let (mut kind, mut area, mut tid) = (l("kind"), l("store_area"), l("template_id"));
        let (mut label, mut profile, mut sid, mut host) =
            (l("label"), l("profile"), l("sid"), l("issuer_host"));
        let (issued, modified, until, expiry) = (
            date_col(seg, "issued"),
            date_col(seg, "modified"),
            date_col(seg, "valid_until"),
            date_col(seg, "content_expiry_date"),
        );
        for &doc in ids {
            let mut reasons = Vec::new();
            let mut why = Vec::new();
            let is_template = kind.get(doc) == Some("template");
            let server = host.get(doc).map(str::to_string);
            if is_template {
                let cfg = label
                    .get(doc)
                    .and_then(|l| config.get(l))
                    .unwrap_or(&no_config);
                let holder = profile.get(doc).or(sid.get(doc)).map(str::to_string);
                let managed = area.get(doc) == Some("templates");
                // The registry's last refresh from this server, where it has one.
                let refresh = holder
                    .as_deref()
                    .zip(server.as_deref())
                    .and_then(|(h, s)| cfg.last_refresh(h, s).map(|r| (h, r)));
                match refresh {
                    Some((h, (at, read))) if managed => {
                        let interval = cfg.interval(h);
                        if at.timestamp() < as_of - interval.secs {
                            reasons.push(StaleReason::NotRefreshed);
                            why.push(format!(
                                "registry: last refresh {read}; refresh interval {} s ({})",
                                interval.secs, interval.source
                            ));
                        }
                    }
                    _ => {
                        if managed
                            && date_at(&modified, doc).is_some_and(|m| m < as_of - older_than_secs)
                        {
                            reasons.push(StaleReason::NotRefreshed);
                        }
                    }
                }
                if let Some((id, i)) = tid.get(doc).zip(date_at(&issued, doc)) {
                    if newest.get(id).is_some_and(|&n| i < n) {
                        reasons.push(StaleReason::Superseded);
                    }
                }
                if let Some(read) = server.as_deref().and_then(|s| cfg.redirected.get(s)) {
                    reasons.push(StaleReason::Redirected);
                    why.push(format!("registry: licensing redirected: {read}"));
                }
            }
            if date_at(&until, doc).is_some_and(|u| u < as_of)
                || date_at(&expiry, doc).is_some_and(|e| e < as_of)
            {
                reasons.push(StaleReason::Expired);
            }
            if !reasons.is_empty() {
                let at = DocAddress::new(seg_ord, doc);
                hits.insert(at, reasons);
                if !why.is_empty() {
                    evidence.insert(at, why);
                }
            }
        }
    }
    let mut by_reason = BTreeMap::new();
    for reason in hits.values().flatten() {
        *by_reason.entry(reason_name(reason)).or_default() += 1;
    }
    Ok(Found {
        total: hits.len(),
        by_reason,
        key: "reasons",
        hits: hits
            .into_iter()
            .map(|(a, r)| (a, serde_json::to_value(r).unwrap_or_default()))
            .collect(),
        evidence,
        searcher,
    })
}

/// What an examiner trusts: host names or domain suffixes, issuer IDs, RMS
/// service IDs, tenant IDs, or exact issuer names.
#[derive(Debug, Clone, Default)]
pub struct TrustList {
    /// (pattern as given, lower-cased, `.`-prefixed suffix, bare GUID form)
    patterns: Vec<(String, String, String, String)>,
}

impl TrustList {
    pub fn new(patterns: impl IntoIterator<Item = String>) -> TrustList {
        TrustList {
            patterns: patterns
                .into_iter()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty() && !p.starts_with('#'))
                .map(|p| {
                    let lower = p.to_ascii_lowercase();
                    let suffix = format!(".{lower}");
                    let guid = lower
                        .trim_start_matches('{')
                        .trim_end_matches('}')
                        .to_string();
                    (p, lower, suffix, guid)
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns as given.
    pub fn patterns(&self) -> Vec<&str> {
        self.patterns.iter().map(|p| p.0.as_str()).collect()
    }

    /// Whether an issuer is trusted.
    pub fn trusts(&self, host: Option<&str>, ids: &[Option<&str>], name: Option<&str>) -> bool {
        self.patterns.iter().any(|(p, lower, suffix, guid)| {
            host.is_some_and(|h| h == lower || h.ends_with(suffix.as_str()))
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

/// Records whose issuer matches none of the trusted patterns: `trust`
/// (the examiner's `--trust`) and what the record's own host trusts in its
/// registry (trusted servers, service locations, redirection targets).
/// Records of a host with neither are not judged.
pub fn foreign(idx: &RmsIndex, trust: &TrustList) -> Result<Found, IndexError> {
    let searcher = crate::searcher(idx)?;
    let docs = matching(&searcher, &AllQuery).map_err(tantivy_err(idx))?;
    let config = crate::hostconfig::load(idx)?;
    // Each label's list, and what it says judged the row.
    let judge = |label: &str| -> (TrustList, String) {
        let trusted: Vec<String> = config
            .get(label)
            .map(|c| c.trusted.iter().cloned().collect())
            .unwrap_or_default();
        let mut by = Vec::new();
        if !trusted.is_empty() {
            by.push(format!("{label}'s registry trusts {}", trusted.join(", ")));
        }
        if !trust.is_empty() {
            by.push(format!("--trust {}", trust.patterns().join(" ")));
        }
        let mut patterns: Vec<String> = trust.patterns().iter().map(|p| p.to_string()).collect();
        patterns.extend(trusted);
        (TrustList::new(patterns), by.join("; "))
    };
    let mut judges: HashMap<String, (TrustList, String)> = HashMap::new();
    let mut hits: BTreeMap<DocAddress, &str> = BTreeMap::new();
    let mut evidence: HashMap<DocAddress, Vec<String>> = HashMap::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let l = |n| StrLookup::new(seg, n);
        let (mut kind, mut ikind, mut label) = (l("kind"), l("issuer_kind"), l("label"));
        let (host, iid, svc, tenant, name) = (
            l("issuer_host"),
            l("issuer_id"),
            l("rms_service_id"),
            l("tenant_id"),
            l("issuer_name_exact"),
        );
        let mut verdicts: HashMap<(Option<u64>, [Option<u64>; 5]), bool> = HashMap::new();
        let mut cols = [host, iid, svc, tenant, name];
        for &doc in ids {
            let k = kind.get(doc).unwrap_or_default();
            if !RMS_ISSUED.contains(&k) || ikind.get(doc) == Some("microsoft_ca") {
                continue;
            }
            let key = [
                cols[0].ord(doc),
                cols[1].ord(doc),
                cols[2].ord(doc),
                cols[3].ord(doc),
                cols[4].ord(doc),
            ];
            if key.iter().all(Option::is_none) {
                continue; // no issuer: not foreign, just unknown
            }
            let label_ord = label.ord(doc);
            let who = label.get(doc).unwrap_or_default().to_string();
            let (list, by) = judges.entry(who.clone()).or_insert_with(|| judge(&who));
            if list.is_empty() {
                continue; // nothing says what this host trusts
            }
            let foreign = *verdicts.entry((label_ord, key)).or_insert_with(|| {
                let mut s: Vec<Option<String>> = Vec::with_capacity(5);
                for (col, ord) in cols.iter_mut().zip(key) {
                    s.push(ord.and_then(|o| col.term(o).map(str::to_string)));
                }
                !list.trusts(
                    s[0].as_deref(),
                    &[s[1].as_deref(), s[2].as_deref(), s[3].as_deref()],
                    s[4].as_deref(),
                )
            });
            if foreign {
                let at = DocAddress::new(seg_ord, doc);
                hits.insert(at, "untrusted_issuer");
                evidence.insert(at, vec![format!("judged by {by}")]);
            }
        }
    }
    Ok(Found {
        total: hits.len(),
        by_reason: BTreeMap::from([("untrusted_issuer".to_string(), hits.len())]),
        key: "reason",
        hits: hits
            .into_keys()
            .map(|a| (a, serde_json::Value::from("untrusted_issuer")))
            .collect(),
        evidence,
        searcher,
    })
}
