//! Records → Timesketch events: one event per meaningful time of a record
//! (template issued, content expiry, certificate valid from/until, file
//! modified/changed/created), each with Timesketch's required `message`,
//! `datetime` (ISO 8601), `timestamp` (integer microseconds) and
//! `timestamp_desc`, plus the record's fields flattened to scalars.

use chrono::DateTime;
use serde_json::{Map, Value};

/// The times of a record that become events: (where, description).
const TIMES: [(&str, &str); 7] = [
    ("issued", "Issued"),
    ("valid_from", "Valid from"),
    ("valid_until", "Valid until"),
    ("content_expiry", "Content expiry"),
    ("modified", "File modified"),
    ("changed", "File metadata changed"),
    ("created", "File created"),
];

/// The events of one record.
pub fn events(record: &Value) -> Vec<Value> {
    let Some(obj) = record.as_object() else {
        return Vec::new();
    };
    let base = flatten(obj);
    let mut out = Vec::new();
    for (field, desc) in TIMES {
        let raw = match field {
            "content_expiry" => obj
                .get("content_expiry")
                .and_then(|c| c.get("date"))
                .and_then(Value::as_str),
            f => obj.get(f).and_then(Value::as_str),
        };
        let Some(raw) = raw else { continue };
        let Ok(t) = DateTime::parse_from_rfc3339(raw) else {
            continue;
        };
        let mut e = Map::new();
        e.insert("message".into(), Value::String(message(obj, desc)));
        e.insert(
            "datetime".into(),
            Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        e.insert("timestamp".into(), Value::from(t.timestamp_micros()));
        e.insert("timestamp_desc".into(), Value::String(desc.to_string()));
        for (k, v) in &base {
            e.entry(k.clone()).or_insert_with(|| v.clone());
        }
        out.push(Value::Object(e));
    }
    out
}

fn text<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// `template "Confidential" by CONTOSO-RMS (rms.contoso.com), profile alice on host1: Issued`
fn message(obj: &Map<String, Value>, desc: &str) -> String {
    let kind = text(obj, "kind").unwrap_or("file");
    let name = obj
        .get("template_names")
        .and_then(Value::as_array)
        .and_then(|n| n.iter().find(|x| x["lcid"] == 1033).or(n.first()))
        .and_then(|n| n["name"].as_str())
        .map(|n| format!(" \"{n}\""))
        .or_else(|| text(obj, "principal").map(|p| format!(" of {p}")))
        .unwrap_or_default();
    let issuer = match (text(obj, "issuer_name"), text(obj, "issuer_host")) {
        (Some(n), Some(h)) => format!(" by {n} ({h})"),
        (Some(n), None) => format!(" by {n}"),
        (None, Some(h)) => format!(" by {h}"),
        (None, None) => String::new(),
    };
    let owner = text(obj, "profile")
        .map(|p| format!("profile {p}"))
        .or_else(|| text(obj, "sid").map(|s| format!("SID {s}")))
        .unwrap_or_else(|| "store".into());
    let label = text(obj, "label").unwrap_or("");
    format!("{kind}{name}{issuer}, {owner} on {label}: {desc}")
}

/// Top-level fields as scalars: lists and objects become compact JSON text.
fn flatten(obj: &Map<String, Value>) -> Map<String, Value> {
    obj.iter()
        .map(|(k, v)| {
            let v = match v {
                Value::Array(_) | Value::Object(_) => Value::String(v.to_string()),
                other => other.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}
