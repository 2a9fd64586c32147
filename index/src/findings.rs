//! What the answers find beyond inventories: stale records (not refreshed,
//! superseded, redirected, expired) and records from foreign issuers, each
//! judged over fast fields and, where a host's registry says more, by its
//! configuration (`hostconfig`), with the evidence named on the row.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::ControlFlow;
use tantivy::schema::Field;

use serde::Serialize;
use tantivy::query::AllQuery;
use tantivy::{DocAddress, Searcher};

use crate::hostconfig::{HostConfig, HostConfigs};
use crate::open::RmsIndex;
use crate::reports::tantivy_err;
use crate::rows::{date_at, date_col, for_each_in_order, matching, StrLookup};
use crate::IndexError;

/// Why a record is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StaleReason {
    /// A managed template file untouched for longer than the window: the
    /// profile or service stopped refreshing (the client refreshes every 1–7 days).
    NotRefreshed,
    /// An older revision of a template whose newer revision is in the index.
    Superseded,
    /// A template of a server the host's registry redirects licensing away from.
    Redirected,
    /// `valid_until` or a template's content-expiry date has passed.
    Expired,
}

/// Records a report found: how many, per reason, and the way to read them.
pub struct Found {
    pub total: usize,
    /// Records per reason (a record may have several reasons).
    pub by_reason: BTreeMap<String, usize>,
    /// The labels (hosts) holding records of each reason.
    pub hosts_by_reason: BTreeMap<String, BTreeSet<String>>,
    /// For [`foreign`]: each issuer (by [`crate::reports::IssuerRow::key`])
    /// with the hosts where its records are judged foreign. The issuer
    /// tables and charts mark issuers from this, so that one rule decides
    /// everywhere.
    pub foreign_issuers: BTreeMap<String, BTreeSet<String>>,
    /// For [`foreign`]: the `--trust` patterns that matched no issuer
    /// judged (a typo, or a word that is no host, ID or exact name).
    pub unmatched_trust: Vec<String>,
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

/// The newest `issued` of every template ID, anywhere in the index.
fn newest_revisions(
    searcher: &Searcher,
    f: &crate::schema::Fields,
    docs: &BTreeMap<u32, Vec<u32>>,
) -> HashMap<String, i64> {
    let mut newest: HashMap<String, i64> = HashMap::new();
    for (&seg_ord, ids) in docs {
        let seg = searcher.segment_reader(seg_ord);
        let (mut kind, mut tid, issued) = (
            StrLookup::new(seg, f.kind),
            StrLookup::new(seg, f.template_id),
            date_col(seg, f.issued),
        );
        for &doc in ids {
            if kind.get(doc) != Some("template") {
                continue;
            }
            if let (Some(id), Some(i)) = (tid.get(doc), date_at(&issued, doc)) {
                let n = newest.entry(id.to_string()).or_insert(i);
                *n = (*n).max(i);
            }
        }
    }
    newest
}

/// What `stale` knows of one template besides its dates.
struct TemplateAt<'a> {
    config: &'a HostConfig,
    /// The profile or SID whose store holds it.
    holder: Option<&'a str>,
    server: Option<&'a str>,
    /// In a managed template store (refreshed by the client).
    managed: bool,
    modified: Option<i64>,
}

/// Why a template is stale by its refresh and its server: the registry's
/// last refresh from its server against the interval in force where the
/// host's registry has one, else the file time; and a redirection away
/// from its server. Reasons, and the registry evidence they rest on.
fn refresh_and_redirection(
    t: &TemplateAt<'_>,
    as_of: i64,
    older_than_secs: i64,
) -> (Vec<StaleReason>, Vec<String>) {
    let (mut reasons, mut why) = (Vec::new(), Vec::new());
    let refresh = t
        .holder
        .zip(t.server)
        .and_then(|(h, s)| t.config.last_refresh(h, s).map(|r| (h, r)));
    match refresh {
        Some((holder, (at, read))) if t.managed => {
            let interval = t.config.interval(holder);
            if at.timestamp() < as_of - interval.secs {
                reasons.push(StaleReason::NotRefreshed);
                why.push(format!(
                    "registry: last refresh {read}; refresh interval {} s ({})",
                    interval.secs, interval.source
                ));
            }
        }
        _ => {
            if t.managed && t.modified.is_some_and(|m| m < as_of - older_than_secs) {
                reasons.push(StaleReason::NotRefreshed);
            }
        }
    }
    if let Some(read) = t.server.and_then(|s| t.config.redirected.get(s)) {
        reasons.push(StaleReason::Redirected);
        why.push(format!("registry: licensing redirected: {read}"));
    }
    (reasons, why)
}

/// Records that are stale, with their reasons; `config`: every host's
/// registry configuration ([`crate::hostconfig::load`]).
pub fn stale(
    idx: &RmsIndex,
    config: &HostConfigs,
    as_of: i64,
    older_than_secs: i64,
) -> Result<Found, IndexError> {
    let searcher = crate::searcher(idx)?;
    let f = &idx.fields;
    let docs = matching(&searcher, &AllQuery).map_err(tantivy_err(idx))?;
    let newest = newest_revisions(&searcher, f, &docs);
    let no_config = HostConfig::default();
    let mut hits: BTreeMap<DocAddress, Vec<StaleReason>> = BTreeMap::new();
    let mut evidence: HashMap<DocAddress, Vec<String>> = HashMap::new();
    let mut hosts: BTreeMap<StaleReason, BTreeSet<String>> = BTreeMap::new();
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let l = |n: Field| StrLookup::new(seg, n);
        let (mut kind, mut area, mut tid) = (l(f.kind), l(f.store_area), l(f.template_id));
        let (mut label, mut profile, mut sid, mut host) =
            (l(f.label), l(f.profile), l(f.sid), l(f.issuer_host));
        let (issued, modified, until, expiry) = (
            date_col(seg, f.issued),
            date_col(seg, f.modified),
            date_col(seg, f.valid_until),
            date_col(seg, f.content_expiry_date),
        );
        for &doc in ids {
            let (mut reasons, mut why) = (Vec::new(), Vec::new());
            if kind.get(doc) == Some("template") {
                let managed = area.get(doc) == Some("templates");
                let config = label
                    .get(doc)
                    .and_then(|l| config.get(l))
                    .unwrap_or(&no_config);
                let holder = profile.get(doc).or(sid.get(doc)).map(str::to_string);
                let server = host.get(doc).map(str::to_string);
                let at = TemplateAt {
                    config,
                    holder: holder.as_deref(),
                    server: server.as_deref(),
                    managed,
                    modified: date_at(&modified, doc),
                };
                (reasons, why) = refresh_and_redirection(&at, as_of, older_than_secs);
                if let Some((id, i)) = tid.get(doc).zip(date_at(&issued, doc)) {
                    if newest.get(id).is_some_and(|&n| i < n) {
                        reasons.push(StaleReason::Superseded);
                    }
                }
            }
            if date_at(&until, doc).is_some_and(|u| u < as_of)
                || date_at(&expiry, doc).is_some_and(|e| e < as_of)
            {
                reasons.push(StaleReason::Expired);
            }
            if !reasons.is_empty() {
                reasons.sort();
                let who = label.get(doc).unwrap_or_default();
                for &reason in &reasons {
                    let holders = hosts.entry(reason).or_default();
                    if !holders.contains(who) {
                        holders.insert(who.to_string());
                    }
                }
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
        hosts_by_reason: hosts
            .into_iter()
            .map(|(r, h)| (reason_name(r), h))
            .collect(),
        foreign_issuers: BTreeMap::new(),
        unmatched_trust: Vec::new(),
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

/// What a trust pattern matches, lower-cased: a URL's host
/// (`https://rms.contoso.com/_wmcs` → `rms.contoso.com`), a wildcard domain
/// as its suffix (`*.contoso.com` → `contoso.com`), anything else as given.
fn normalised(p: &str) -> String {
    let lower = p.to_ascii_lowercase();
    if let Some((_, rest)) = lower.split_once("://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        let host = host.rsplit('@').next().unwrap_or(host);
        return host.split(':').next().unwrap_or(host).to_string();
    }
    lower.strip_prefix("*.").unwrap_or(&lower).to_string()
}

impl TrustList {
    pub fn new(patterns: impl IntoIterator<Item = String>) -> TrustList {
        TrustList {
            patterns: patterns
                .into_iter()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty() && !p.starts_with('#'))
                .map(|p| {
                    let lower = normalised(&p);
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

    /// A pattern an examiner typed that cannot match as written: a
    /// wildcard anywhere but a leading `*.`. `None` when it is fine.
    pub fn refuse(pattern: &str) -> Option<String> {
        let rest = pattern.trim().strip_prefix("*.").unwrap_or(pattern.trim());
        rest.contains(['*', '?']).then(|| {
            format!("--trust {pattern:?}: a wildcard is only understood as a leading `*.` (a domain and its subdomains: *.contoso.com); otherwise give a host or domain (contoso.com), a URL, an issuer, service or tenant ID, or an exact issuer name")
        })
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
        self.matching(host, ids, name).next().is_some()
    }

    /// The indexes of the patterns an issuer matches.
    fn matching<'a>(
        &'a self,
        host: Option<&'a str>,
        ids: &'a [Option<&'a str>],
        name: Option<&'a str>,
    ) -> impl Iterator<Item = usize> + 'a {
        self.patterns
            .iter()
            .enumerate()
            .filter(move |(_, (p, lower, suffix, guid))| {
                host.is_some_and(|h| h == lower || h.ends_with(suffix.as_str()))
                    || ids.iter().flatten().any(|id| id == guid)
                    || name == Some(p.as_str())
            })
            .map(|(i, _)| i)
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
pub fn foreign(
    idx: &RmsIndex,
    config: &HostConfigs,
    trust: &TrustList,
) -> Result<Found, IndexError> {
    let searcher = crate::searcher(idx)?;
    let f = &idx.fields;
    let docs = matching(&searcher, &AllQuery).map_err(tantivy_err(idx))?;
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
    let mut hosts = BTreeSet::new();
    let mut foreign_issuers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Which of --trust's patterns matched an issuer.
    let mut used = vec![false; trust.patterns.len()];
    for (&seg_ord, ids) in &docs {
        let seg = searcher.segment_reader(seg_ord);
        let l = |n: Field| StrLookup::new(seg, n);
        let (mut kind, mut ikind, mut label) = (l(f.kind), l(f.issuer_kind), l(f.label));
        let (host, iid, svc, tenant, name) = (
            l(f.issuer_host),
            l(f.issuer_id),
            l(f.rms_service_id),
            l(f.tenant_id),
            l(f.issuer_name_exact),
        );
        // Per (label, issuer): foreign, and the issuer's key.
        type Issuer = (Option<u64>, [Option<u64>; 5]);
        let mut verdicts: HashMap<Issuer, (bool, Option<String>)> = HashMap::new();
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
            let (foreign, issuer) = verdicts.entry((label_ord, key)).or_insert_with(|| {
                let mut s: Vec<Option<String>> = Vec::with_capacity(5);
                for (col, ord) in cols.iter_mut().zip(key) {
                    s.push(ord.and_then(|o| col.term(o).map(str::to_string)));
                }
                let ids = [s[1].as_deref(), s[2].as_deref(), s[3].as_deref()];
                let mut foreign = true;
                for i in list.matching(s[0].as_deref(), &ids, s[4].as_deref()) {
                    foreign = false;
                    // --trust's patterns come first in each host's list.
                    if let Some(u) = used.get_mut(i) {
                        *u = true;
                    }
                }
                // As the issuers report keys an issuer: ID, else host, else name.
                (foreign, s[1].take().or(s[0].take()).or(s[4].take()))
            });
            if *foreign {
                let at = DocAddress::new(seg_ord, doc);
                if let Some(issuer) = issuer {
                    let on = foreign_issuers.entry(issuer.clone()).or_default();
                    if !on.contains(&who) {
                        on.insert(who.clone());
                    }
                }
                hosts.insert(who);
                hits.insert(at, "untrusted_issuer");
                evidence.insert(at, vec![format!("judged by {by}")]);
            }
        }
    }
    Ok(Found {
        total: hits.len(),
        by_reason: BTreeMap::from([("untrusted_issuer".to_string(), hits.len())]),
        hosts_by_reason: BTreeMap::from([("untrusted_issuer".to_string(), hosts)]),
        foreign_issuers,
        unmatched_trust: trust
            .patterns()
            .into_iter()
            .zip(used)
            .filter(|(_, u)| !u)
            .map(|(p, _)| p.to_string())
            .collect(),
        key: "reason",
        hits: hits
            .into_keys()
            .map(|a| (a, serde_json::Value::from("untrusted_issuer")))
            .collect(),
        evidence,
        searcher,
    })
}
