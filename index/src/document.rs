//! Record → tantivy document: the one place that maps record fields to index
//! fields. Everything else reads the stored record back.

use chrono::{DateTime, Utc};
use rmsweep_scanner::parse::model::ContentExpiry;
use rmsweep_scanner::parse::names::best_name;
use rmsweep_scanner::record::{EvidenceRecord, HiveEntry, ImageOrigin, SettingRecord};
use rmsweep_scanner::Record;
use tantivy::{DateTime as TDate, TantivyDocument};

use crate::schema::{file_id, Fields};

fn date(t: &DateTime<Utc>) -> TDate {
    TDate::from_timestamp_secs(t.timestamp())
}

/// Builds the document of a record.
pub fn to_document(f: &Fields, r: &Record) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    let c = &r.content;
    d.add_bytes(f.file_id, &file_id(&r.label, &r.path));
    d.add_text(f.label, &r.label);
    d.add_text(f.path, &r.path);
    let folder = r.path.rsplit_once('/').map(|(dir, _)| dir).unwrap_or("");
    d.add_text(f.store, format!("{}\u{0}{folder}", r.label));
    let who = r.profile.as_deref().or(r.sid.as_deref()).unwrap_or("");
    d.add_text(f.holder, format!("{}\u{0}{who}", r.label));
    d.add_text(f.kind, c.kind.as_str());
    d.add_text(f.store_mode, r.store_mode.as_str());
    d.add_text(f.store_area, r.store_area.as_str());
    d.add_text(f.rms_client, r.rms_client.as_str());
    let mut text = |field, v: &Option<String>| {
        if let Some(v) = v {
            d.add_text(field, v);
        }
    };
    // `volume_path` is in the stored record only: a unique term per file
    // cost 14% of a fresh scan's time (A/B against the field left out).
    text(f.drive, &r.drive);
    text(f.machine_id, &c.machine_id);
    text(f.profile, &r.profile);
    text(f.sid, &r.sid);
    text(f.sha256, &r.sha256);
    text(f.template_id, &c.template_id);
    text(f.issuer_id, &c.issuer_id);
    text(f.issuer_host, &c.issuer_host);
    text(f.rms_service_id, &c.rms_service_id);
    text(f.region, &c.region);
    text(f.tenant_id, &c.tenant_id);
    text(f.issuer_name, &c.issuer_name);
    text(f.issuer_name_exact, &c.issuer_name);
    text(f.error, &c.error);
    // Keyword fields are lower-cased by their tokenizer.
    text(f.principal, &c.principal);
    text(f.principal_id, &c.principal_id);
    text(f.content_id, &c.content_id);
    text(f.owner, &c.owner);
    text(f.digest, &c.digest.as_ref().map(|d| d.value.clone()));
    for right in &c.rights {
        d.add_text(f.rights, &right.right);
    }
    if let Some(k) = c.issuer_kind {
        d.add_text(f.issuer_kind, k.as_str());
    }
    for a in &c.anomalies {
        if let Ok(serde_json::Value::String(s)) = serde_json::to_value(a) {
            d.add_text(f.anomalies, s);
        }
    }
    for n in &c.template_names {
        d.add_text(f.template_names, &n.name);
        if let Some(desc) = &n.description {
            d.add_text(f.template_names, desc);
        }
    }
    if let Some(n) = best_name(&c.template_names) {
        d.add_text(f.template_name, &n.name);
    }
    for (field, t) in [
        (f.issued, &c.issued),
        (f.valid_from, &c.valid_from),
        (f.valid_until, &c.valid_until),
        (f.modified, &r.modified),
    ] {
        if let Some(t) = t {
            d.add_date(field, date(t));
        }
    }
    if let Some(ContentExpiry::Date { date: t }) = &c.content_expiry {
        d.add_date(f.content_expiry_date, date(t));
    }
    if let Some(size) = r.size {
        d.add_u64(f.size, size);
    }
    if let Some(m) = r.modified {
        d.add_i64(f.mtime_ns, m.timestamp_nanos_opt().unwrap_or(i64::MAX));
    }
    add_image(f, &mut d, &r.image);
    d.add_text(f.record, serde_json::to_string(r).unwrap_or_default());
    d
}

/// Builds the document of an image or container that could not be read
/// (`kind` `evidence`). It has no modification time: a re-scan tries again.
pub fn evidence_document(f: &Fields, r: &EvidenceRecord) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    d.add_bytes(f.file_id, &file_id(&r.label, &r.path));
    d.add_text(f.label, &r.label);
    d.add_text(f.path, &r.path);
    d.add_text(f.kind, "evidence");
    d.add_text(f.error, &r.error);
    for (field, v) in [(f.profile, &r.profile), (f.sid, &r.sid)] {
        if let Some(v) = v {
            d.add_text(field, v);
        }
    }
    add_image(f, &mut d, &r.image);
    if let Some(size) = r.size {
        d.add_u64(f.size, size);
    }
    if let Some(m) = r.modified {
        d.add_date(f.modified, date(&m));
    }
    d.add_text(f.record, serde_json::to_string(r).unwrap_or_default());
    d
}

/// The image fields every kind of record may carry.
fn add_image(f: &Fields, d: &mut TantivyDocument, image: &ImageOrigin) {
    if let Some(c) = &image.container {
        d.add_text(f.container, c);
    }
    if let Some(k) = image.container_kind {
        d.add_text(f.container_kind, k.as_str());
    }
    if let Some(p) = image.partition {
        d.add_u64(f.partition, p.into());
    }
}

/// Builds the document of a registry record. Every record of a hive shares
/// the hive's key (label and path), size and time, so a re-scan replaces
/// and skips a hive as a whole; with `rescan`, it gets no modification time,
/// so a re-scan reads it again.
pub fn setting_document(f: &Fields, r: &SettingRecord, rescan: bool) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    d.add_bytes(f.file_id, &file_id(&r.label, &r.path));
    d.add_text(f.label, &r.label);
    d.add_text(f.path, &r.path);
    d.add_text(f.kind, "setting");
    d.add_text(f.hive, r.hive.as_str());
    let mut text = |field, v: Option<&str>| {
        if let Some(v) = v {
            d.add_text(field, v);
        }
    };
    text(f.drive, r.drive.as_deref());
    text(f.profile, r.profile.as_deref());
    text(f.sid, r.sid.as_deref());
    text(f.sha256, r.sha256.as_deref());
    add_image(f, &mut d, &r.image);
    let mut unreadable = false;
    match &r.entry {
        HiveEntry::Hive(h) => {
            d.add_text(f.setting, "hive");
            if let Some(e) = &h.error {
                d.add_text(f.error, e);
                unreadable = true;
            }
        }
        HiveEntry::Setting(s) => {
            d.add_text(f.setting, &s.setting);
            d.add_text(f.key, &s.key);
            d.add_text(f.value, &s.value);
            let detail = &s.detail;
            if let Some(server) = &detail.server {
                d.add_text(f.server, server);
            }
            for url in [&detail.url, &detail.from_url, &detail.to_url]
                .into_iter()
                .flatten()
            {
                d.add_text(f.url, url);
            }
            // A client access licence is found by what it says, not its hex.
            match (&detail.cal, &s.data) {
                (Some(cal), _) => d.add_text(f.data, cal.words()),
                (None, Some(data)) => d.add_text(f.data, data.text()),
                (None, None) => {}
            }
            if let Some(cal) = &detail.cal {
                for (field, t) in [
                    (f.valid_from, &cal.valid_from),
                    (f.valid_until, &cal.valid_until),
                ] {
                    if let Some(t) = t {
                        d.add_date(field, date(t));
                    }
                }
            }
        }
    }
    if let Some(size) = r.size {
        d.add_u64(f.size, size);
    }
    if let Some(m) = r.modified {
        d.add_date(f.modified, date(&m));
        // A hive that could not be read has no time: a re-scan reads it again.
        if !unreadable && !rescan {
            d.add_i64(f.mtime_ns, m.timestamp_nanos_opt().unwrap_or(i64::MAX));
        }
    }
    d.add_text(f.record, serde_json::to_string(r).unwrap_or_default());
    d
}
