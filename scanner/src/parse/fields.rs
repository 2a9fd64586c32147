//! Interpretation: raw XrML values → typed record fields.
//!
//! Decides the document kind (reference §2.2), which object is "the issuer"
//! (the `MS-DRM-Server` in ISSUER, or in ISSUEDPRINCIPALS for publishing
//! licences whose ISSUER is the author), and normalises GUIDs, hosts, times.

use chrono::{DateTime, Utc};

use super::anomaly::Anomaly;
use super::guid;
use super::issuer::{self, IssuerKind};
use super::model::{
    AppData, ChainEntry, Content, ContentExpiry, Digest, Kind, LicensingUrl, Right, UrlScope,
};
use super::names::{self, TemplateName};
use super::time::parse_xrml_time;
use super::xrml::{RawDoc, RawExpiry, XObject};

const MS_DRM_SERVER: &str = "MS-DRM-Server";
/// Longest application-data value kept.
const MAX_APP_DATA: usize = 4096;

/// The document kind from BODY@type, XrML@purpose and DESCRIPTOR/OBJECT@type.
pub fn kind_of(doc: &RawDoc) -> Kind {
    let body = doc.body_type.as_deref().unwrap_or("");
    let desc = doc.descriptor.otype.as_deref().unwrap_or("");
    if doc.purpose.as_deref() == Some("Content-License") || desc == "Content-License" {
        return Kind::Eul;
    }
    match body {
        "Microsoft Official Rights Template" | "Microsoft Rights Template" => {
            return Kind::Template
        }
        "Microsoft Rights Label" => return Kind::PublishingLicense,
        _ => {}
    }
    match desc {
        "Group-Identity-Credential" => Kind::Rac,
        "Client-Licensor-Certificate" => Kind::Clc,
        "Machine-Certificate" => Kind::MachineCert,
        "Server-Licensor-Certificate" => Kind::Slc,
        _ => Kind::Other,
    }
}

/// Fills `c` with everything the leaf document says.
pub fn fill_leaf(c: &mut Content, doc: &RawDoc) {
    c.kind = kind_of(doc);
    if c.kind == Kind::Other && doc.descriptor.otype.as_deref() != Some("DRM-CA-Certificate") {
        c.add_anomaly(Anomaly::UnknownDocumentType);
    }
    c.doc_type = doc
        .descriptor
        .otype
        .clone()
        .or_else(|| doc.body_type.clone());
    c.doc_id = norm_guid(c, doc.descriptor.id.as_deref());
    c.issued = time(c, doc.issued.as_deref());
    let (from, until) = validity(doc);
    c.valid_from = time(c, from);
    c.valid_until = time(c, until);

    match c.kind {
        Kind::Template | Kind::PublishingLicense => {
            c.template_id = c.doc_id.clone();
            c.template_version = doc.descriptor.id_version.clone();
            if let Some(name) = &doc.descriptor.name {
                let (names, tolerated) = names::parse_lcid_names(name);
                if tolerated {
                    c.add_anomaly(Anomaly::NameGrammar);
                }
                c.template_names = names;
            }
        }
        Kind::Eul => {
            let get = |n: &str| {
                doc.app_data
                    .iter()
                    .find(|(_, name, _)| name == n)
                    .map(|(_, _, v)| v.as_str())
            };
            if let Some(name) = get("MSOTPLNAME") {
                c.template_names = vec![TemplateName {
                    lcid: None,
                    name: names::clean(name).0,
                    description: get("MSOTPLDESC").map(|d| names::clean(d).0),
                }];
            }
        }
        _ => {}
    }
    if c.kind == Kind::Template {
        c.content_expiry = Some(match &doc.content_expiry {
            None => ContentExpiry::Never,
            Some(RawExpiry::Until(t)) => match parse_xrml_time(t) {
                Some(date) => ContentExpiry::Date { date },
                None => {
                    c.add_anomaly(Anomaly::BadTime);
                    ContentExpiry::Never
                }
            },
            Some(RawExpiry::Days(d)) => match d.trim().parse() {
                Ok(days) => ContentExpiry::Days { days },
                Err(_) => {
                    c.add_anomaly(Anomaly::BadTime);
                    ContentExpiry::Never
                }
            },
        });
    }

    fill_issuer(c, doc);
    fill_urls(c, doc);
    fill_principal(c, doc);

    if matches!(c.kind, Kind::Eul | Kind::PublishingLicense) {
        c.content_id = norm_guid(c, doc.work.id.as_deref());
    }
    c.owner = doc.owner.clone();
    let (rights, cut) = rights(doc);
    c.rights = rights;
    if cut {
        c.add_anomaly(Anomaly::FieldTruncated);
    }
    c.app_data = doc
        .app_data
        .iter()
        .map(|(id, name, value)| {
            let mut value = value.clone();
            if truncate_at_char(&mut value, MAX_APP_DATA) {
                c.add_anomaly(Anomaly::FieldTruncated);
            }
            AppData {
                id: id.clone(),
                name: name.clone(),
                value,
            }
        })
        .collect();
    c.digest = doc.digest_value.as_ref().map(|v| Digest {
        algorithm: doc.digest_algorithm.clone(),
        value: v.split_whitespace().collect(),
    });
    if c.digest.is_none() {
        c.add_anomaly(Anomaly::MissingSignature);
    }
    for a in &doc.anomalies {
        c.add_anomaly(*a);
    }
}

/// What is kept of a chain document.
pub fn chain_entry(doc: &RawDoc) -> ChainEntry {
    let (from, until) = validity(doc);
    let damaged = !doc.anomalies.is_empty();
    let t = |s: Option<&str>| s.and_then(parse_xrml_time);
    ChainEntry {
        kind: kind_of(doc),
        doc_type: doc
            .descriptor
            .otype
            .clone()
            .or_else(|| doc.body_type.clone()),
        doc_id: doc
            .descriptor
            .id
            .as_deref()
            .map(|g| guid::normalize_or_raw(g).0),
        subject_name: doc.principals.first().and_then(|p| p.object.name.clone()),
        issuer_id: doc
            .issuer
            .id
            .as_deref()
            .map(|g| guid::normalize_or_raw(g).0),
        issuer_name: doc.issuer.name.clone(),
        issuer_url: doc.issuer.address("URL").map(|u| u.trim().to_string()),
        issued: t(doc.issued.as_deref()),
        valid_from: t(from),
        valid_until: t(until),
        damaged,
    }
}

/// VALIDITYTIME (RAC, PL), else the ISSUE right's RANGETIME (CLC, SLC, CA).
fn validity(doc: &RawDoc) -> (Option<&str>, Option<&str>) {
    if doc.validity_from.is_some() || doc.validity_until.is_some() {
        return (doc.validity_from.as_deref(), doc.validity_until.as_deref());
    }
    match doc.rights.iter().find(|r| r.name == "ISSUE") {
        Some(r) => (r.from.as_deref(), r.until.as_deref()),
        None => (None, None),
    }
}

fn time(c: &mut Content, raw: Option<&str>) -> Option<DateTime<Utc>> {
    let raw = raw?;
    let t = parse_xrml_time(raw);
    if t.is_none() {
        c.add_anomaly(Anomaly::BadTime);
    }
    t
}

fn norm_guid(c: &mut Content, raw: Option<&str>) -> Option<String> {
    let (g, ok) = guid::normalize_or_raw(raw?);
    if g.is_empty() {
        return None;
    }
    if !ok {
        c.add_anomaly(Anomaly::BadGuid);
    }
    Some(g)
}

fn fill_issuer(c: &mut Content, doc: &RawDoc) {
    let is_server = |o: &XObject| o.otype.as_deref() == Some(MS_DRM_SERVER);
    let (obj, security): (&XObject, &[(String, String)]) = if is_server(&doc.issuer) {
        (&doc.issuer, &doc.issuer_security)
    } else if let Some(p) = doc.principals.iter().find(|p| is_server(&p.object)) {
        (&p.object, &p.security)
    } else {
        (&doc.issuer, &doc.issuer_security)
    };
    c.issuer_id = obj.id.as_deref().map(|g| guid::normalize_or_raw(g).0);
    c.issuer_name = obj.name.clone();
    c.issuer_url = obj.address("URL").map(|u| u.trim().to_string());
    c.issuer_host = c.issuer_url.as_deref().and_then(issuer::url_host);
    let level = |name: &str| {
        security
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim().to_string())
    };
    c.server_version = level("Server-Version");
    c.server_sku = level("Server-SKU");
    c.tenant_id = level("Tenant-ID")
        .or_else(|| {
            doc.principals
                .iter()
                .find_map(|p| p.object.address("home_tenantId").map(str::to_string))
        })
        .or_else(|| doc.issuer.address("home_tenantId").map(str::to_string))
        .map(|t| guid::normalize_or_raw(&t).0);

    let otype = obj.otype.as_deref().unwrap_or("");
    c.issuer_kind = if issuer::is_microsoft_ca_type(otype)
        || obj.name.as_deref() == Some(issuer::SELF_ENROLLMENT_SERVICE)
    {
        Some(IssuerKind::MicrosoftCa)
    } else if let Some(host) = &c.issuer_host {
        let class = issuer::classify_host(host);
        c.rms_service_id = class.rms_service_id;
        c.region = class.region;
        Some(class.kind)
    } else if obj.id.is_some() || obj.name.is_some() {
        Some(IssuerKind::Unknown)
    } else {
        None
    };
}

/// A licence a user issued offline with their client licensor certificate
/// names the user as its issuer; the RMS server or tenant that stands
/// behind it is the issuer of that CLC, next in the chain. Its issuer fields
/// are taken from there (the chain keeps the CLC, whose subject is the user).
pub fn issuer_from_licensor(c: &mut Content) {
    let offline = matches!(c.kind, Kind::Eul | Kind::PublishingLicense)
        && c.issuer_kind == Some(IssuerKind::Unknown)
        && c.issuer_name.is_some();
    if !offline {
        return;
    }
    let Some(clc) = c
        .chain
        .iter()
        .find(|e| e.kind == Kind::Clc && e.subject_name == c.issuer_name)
    else {
        return;
    };
    c.issuer_id = clc.issuer_id.clone();
    c.issuer_name = clc.issuer_name.clone();
    c.issuer_url = clc.issuer_url.clone();
    c.issuer_host = c.issuer_url.as_deref().and_then(issuer::url_host);
    let class = c.issuer_host.as_deref().map(issuer::classify_host);
    c.issuer_kind = Some(class.as_ref().map_or(IssuerKind::Unknown, |k| k.kind));
    if let Some(class) = class {
        c.rms_service_id = class.rms_service_id;
        c.region = class.region;
    }
}

fn fill_urls(c: &mut Content, doc: &RawDoc) {
    c.licensing_urls = doc
        .distribution_points
        .iter()
        .filter_map(|dp| {
            let url = dp.address.as_deref()?.trim().to_string();
            let url_type = dp.dp_type.clone().unwrap_or_default();
            let scope = if url_type.starts_with("Extranet-") {
                UrlScope::Extranet
            } else if url_type == "Referral-Info" {
                UrlScope::Referral
            } else {
                UrlScope::Intranet
            };
            let host = issuer::url_host(&url);
            let issuer_kind = match scope {
                UrlScope::Referral => None,
                _ => host.as_deref().map(|h| issuer::classify_host(h).kind),
            };
            Some(LicensingUrl {
                url_type,
                url,
                scope,
                host,
                issuer_kind,
            })
        })
        .collect();
}

fn fill_principal(c: &mut Content, doc: &RawDoc) {
    let identity = |o: &XObject| o.otype.as_deref() == Some("Group-Identity");
    let who = match c.kind {
        Kind::Rac | Kind::Clc | Kind::Eul => doc
            .principals
            .iter()
            .map(|p| &p.object)
            .find(|o| identity(o)),
        Kind::PublishingLicense => Some(&doc.issuer).filter(|o| identity(o)),
        _ => None,
    };
    if let Some(o) = who {
        c.principal_id = o.id.as_deref().map(|s| s.trim().to_string());
        c.principal = o
            .name
            .as_deref()
            .map(|s| s.trim().to_string())
            .or_else(|| c.principal_id.clone());
    }
    if c.kind == Kind::PublishingLicense && c.principal.is_none() {
        c.principal = doc.owner.clone();
    }
    let machine = |o: &XObject| o.otype.as_deref() == Some("Machine-Unique-Identifier");
    c.machine_id = doc
        .principals
        .iter()
        .map(|p| &p.object)
        .chain(doc.federation_principals.iter())
        .find(|o| machine(o))
        .and_then(|o| o.id.as_deref())
        .map(|g| guid::normalize_or_raw(g).0);
}

/// Cuts `s` to at most `max` bytes at a character boundary; whether it cut.
fn truncate_at_char(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    true
}

/// A right's name is a word (`VIEW`, `EDIT`, `OWNER`…): longer ones are cut.
const MAX_RIGHT_NAME: usize = 256;
/// A grantee is an e-mail address, a group or `ANYONE`: longer ones are cut.
const MAX_PRINCIPAL: usize = 1024;
/// Grants kept per document: real templates grant tens; a crafted one
/// granting a huge name to thousands of principals must not become a
/// gigabyte record.
const MAX_GRANTS: usize = 4096;

/// The grants of a document, and whether any was cut or left out.
fn rights(doc: &RawDoc) -> (Vec<Right>, bool) {
    let mut out = Vec::new();
    let mut cut = false;
    for r in &doc.rights {
        if r.name == "ISSUE" {
            continue; // certificate validity, not a grant to a user
        }
        let mut name = r.name.clone();
        cut |= truncate_at_char(&mut name, MAX_RIGHT_NAME);
        let days = r.days.as_deref().and_then(|d| d.trim().parse().ok());
        let principals: Vec<Option<String>> = if r.principals.is_empty() {
            vec![None]
        } else {
            r.principals
                .iter()
                .map(|p| {
                    let mut p = p.trim().to_string();
                    cut |= truncate_at_char(&mut p, MAX_PRINCIPAL);
                    Some(p)
                })
                .collect()
        };
        for principal in principals {
            if out.len() == MAX_GRANTS {
                return (out, true);
            }
            out.push(Right {
                right: name.clone(),
                principal,
                days,
            });
        }
    }
    (out, cut)
}
