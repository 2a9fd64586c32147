//! The JSON client licensor certificate (`JCLC-*.drm`, UTF-16LE JSON).
//!
//! It holds the CLC's RSA private key in clear (`pri.prik`). Only issue and
//! expiry times and licensing URLs are read out; the JSON tree is dropped
//! before this function returns and no other value reaches any record.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use super::issuer;
use super::model::{Content, Kind, LicensingUrl, UrlScope};
use super::time::parse_xrml_time;

/// Values nested as stringified JSON are followed this deep at most.
const MAX_NESTING: usize = 8;

/// Parses JSON text as a JCLC. `None` when it is not JSON or has none of the
/// JCLC's keys.
pub fn parse_jclc(text: &str) -> Option<Content> {
    let root: Value = serde_json::from_str(text).ok()?;
    let mut found = Found::default();
    walk(&root, 0, &mut found);
    if !found.any {
        return None;
    }
    let mut c = Content::empty(Kind::Jclc);
    c.issued = found.issued;
    c.valid_until = found.expires;
    for (url_type, url, scope) in [
        (
            "License-Acquisition-URL",
            found.intranet_url,
            UrlScope::Intranet,
        ),
        (
            "Extranet-License-Acquisition-URL",
            found.extranet_url,
            UrlScope::Extranet,
        ),
    ] {
        if let Some(url) = url {
            let host = issuer::url_host(&url);
            let issuer_kind = host.as_deref().map(|h| issuer::classify_host(h).kind);
            c.licensing_urls.push(LicensingUrl {
                url_type: url_type.to_string(),
                url,
                scope,
                host,
                issuer_kind,
            });
        }
    }
    if let Some(first) = c.licensing_urls.first() {
        c.issuer_host = first.host.clone();
        if let Some(h) = &c.issuer_host {
            let class = issuer::classify_host(h);
            c.issuer_kind = Some(class.kind);
            c.rms_service_id = class.rms_service_id;
            c.region = class.region;
        }
    }
    Some(c)
}

#[derive(Default)]
struct Found {
    any: bool,
    issued: Option<DateTime<Utc>>,
    expires: Option<DateTime<Utc>>,
    intranet_url: Option<String>,
    extranet_url: Option<String>,
}

fn walk(v: &Value, depth: usize, found: &mut Found) {
    if depth > MAX_NESTING {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match k.as_str() {
                    // The private key is never looked at, let alone copied.
                    "prik" => continue,
                    "pld" | "pub" | "pri" | "sig" | "iss" | "issto" => found.any = true,
                    "issd" => found.issued = found.issued.or_else(|| time(v)),
                    "exp" => found.expires = found.expires.or_else(|| time(v)),
                    "iurl" if found.intranet_url.is_none() => {
                        found.intranet_url = v.as_str().map(str::to_string);
                    }
                    "eurl" if found.extranet_url.is_none() => {
                        found.extranet_url = v.as_str().map(str::to_string);
                    }
                    _ => {}
                }
                walk(v, depth + 1, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| walk(i, depth + 1, found)),
        // Values are themselves stringified JSON.
        Value::String(s) if s.trim_start().starts_with(['{', '[']) => {
            if let Ok(inner) = serde_json::from_str::<Value>(s) {
                walk(&inner, depth + 1, found);
            }
        }
        _ => {}
    }
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => parse_xrml_time(s).or_else(|| {
            DateTime::parse_from_rfc3339(s.trim())
                .ok()
                .map(|t| t.with_timezone(&Utc))
        }),
        Value::Number(n) => {
            let n = n.as_i64()?;
            // Epoch milliseconds or seconds.
            if n.abs() > 100_000_000_000 {
                Utc.timestamp_millis_opt(n).single()
            } else {
                Utc.timestamp_opt(n, 0).single()
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_times_and_urls_never_the_key() {
        let pri = r#"{"issd":"2021-06-24T16:14:00Z","exp":"2022-06-24T16:14:00Z","prik":"SECRET-PRIVATE-KEY","id":"x"}"#;
        let pub_ = r#"{"iss":{"iurl":"http://dc1.aip.com/_wmcs/licensing","eurl":"https://rms.aip.com/_wmcs/licensing","fname":"DC1"}}"#;
        let pld = serde_json::json!({"pub": pub_, "pri": pri}).to_string();
        let text = serde_json::json!({"pld": pld, "sig": {"alg": "RS256"}}).to_string();
        let c = parse_jclc(&text).unwrap();
        assert_eq!(c.kind, Kind::Jclc);
        assert_eq!(
            c.issued.map(|t| t.to_rfc3339()).as_deref(),
            Some("2021-06-24T16:14:00+00:00")
        );
        assert_eq!(
            c.valid_until.map(|t| t.to_rfc3339()).as_deref(),
            Some("2022-06-24T16:14:00+00:00")
        );
        assert_eq!(c.licensing_urls.len(), 2);
        assert_eq!(c.issuer_host.as_deref(), Some("dc1.aip.com"));
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains("SECRET"));
    }

    #[test]
    fn other_json_is_not_a_jclc() {
        assert_eq!(parse_jclc(r#"{"a":1}"#), None);
        assert_eq!(parse_jclc("{not json"), None);
    }
}
