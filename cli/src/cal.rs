//! A Remote Desktop client access licence in one line, where people read
//! settings (tables, the report): what the licence says rather than its
//! certificate's hex. CSV and JSON keep the value's bytes and the decoded
//! `cal` object as they are.

use serde_json::Value;

/// Puts a licence's summary in a setting row's `data`; other rows are left alone.
pub fn summarise(row: &mut Value) {
    if let Some(cal) = row.get("cal").cloned() {
        if let Some(obj) = row.as_object_mut() {
            obj.insert("data".into(), Value::from(summary(&cal)));
        }
    }
}

/// A client access licence in one line: `temporary licence A02 (Remote
/// Desktop 10.0) from LS1 (CONTOSO) to WS01, valid … to …`; what the
/// licence does not say is left out, or `?` for the certificate's own fields.
fn summary(cal: &Value) -> String {
    let f = |k: &str| cal.get(k).and_then(Value::as_str);
    let kind = match cal.get("cal_temporary").and_then(Value::as_bool) {
        Some(true) => "temporary licence",
        Some(false) => "permanent licence",
        None => "licence",
    };
    let mut s = kind.to_string();
    if let Some(product) = f("cal_product") {
        s += &format!(" {product}");
    }
    if let Some(version) = f("cal_version") {
        s += &format!(" (Remote Desktop {version})");
    }
    s += &format!(
        " from {}",
        f("cal_license_server").or(f("cal_issuer")).unwrap_or("?")
    );
    if let Some(scope) = f("cal_license_server_scope") {
        s += &format!(" ({scope})");
    }
    s + &format!(
        " to {}, valid {} to {}",
        f("cal_subject").unwrap_or("?"),
        f("valid_from").unwrap_or("?"),
        f("valid_until").unwrap_or("?")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_licence_reads_as_what_it_says_and_leaves_out_what_it_does_not() {
        let mut row = json!({"data": "3082", "cal": {
            "cal_issuer": "LS1.contoso.com", "cal_subject": "WS01",
            "valid_from": "2026-11-30T15:54:02Z", "valid_until": "2027-02-28T15:54:02Z",
            "cal_temporary": true, "cal_product": "A02", "cal_version": "10.0",
            "cal_license_server": "LS1", "cal_license_server_scope": "CONTOSO"}});
        summarise(&mut row);
        assert_eq!(
            row["data"],
            "temporary licence A02 (Remote Desktop 10.0) from LS1 (CONTOSO) to WS01, \
             valid 2026-11-30T15:54:02Z to 2027-02-28T15:54:02Z"
        );
        let mut row = json!({"data": "3082", "cal": {"cal_issuer": "LS1.contoso.com"}});
        summarise(&mut row);
        assert_eq!(
            row["data"],
            "licence from LS1.contoso.com to ?, valid ? to ?"
        );
        let mut row = json!({"data": "1"});
        summarise(&mut row);
        assert_eq!(row["data"], "1");
    }
}
