//! What each value under a walked key is called: one classifier per tree
//! (MSIPC, MSDRM, WinMSIPC, MSLicensing, Office DRM) turns the key names
//! below the walked key and the value into a setting name and what the
//! value decodes to. Reference `registry-and-rds.md` §2.1–§3.

use super::cal;
use super::hive::{RawData, Value};
use super::settings::Detail;
use crate::parse::issuer::url_host;
use crate::parse::time::parse_xrml_time;

/// What a classifier says of one value.
#[derive(Default)]
pub(super) struct Named {
    pub(super) setting: String,
    pub(super) detail: Detail,
    pub(super) sid: Option<String>,
    pub(super) profile: Option<String>,
    /// Never show the data (a blob of key material by position, not shape).
    pub(super) redact: bool,
}

impl Named {
    pub(super) fn new(setting: &str) -> Named {
        Named {
            setting: setting.to_string(),
            ..Named::default()
        }
    }
    fn url(mut self, v: &Value) -> Named {
        self.detail.url = text(v);
        self
    }
    fn server(mut self, server: &str) -> Named {
        self.detail.server = Some(server.to_ascii_lowercase());
        self
    }
    pub(super) fn sid(mut self, sid: &str) -> Named {
        self.sid = Some(sid.to_string());
        self
    }
}

/// A value's text (a list's first item), trimmed; `None` when empty.
pub(super) fn text(v: &Value) -> Option<String> {
    let s = match &v.data {
        RawData::Text(s) => s.trim().to_string(),
        RawData::List(l) => l.first().map(|s| s.trim().to_string()).unwrap_or_default(),
        RawData::Number(n) => n.to_string(),
        _ => String::new(),
    };
    (!s.is_empty()).then_some(s)
}

/// `LicensingMode` (reference §3.4).
pub(super) fn licensing_mode(v: &Value) -> Option<String> {
    let RawData::Number(n) = v.data else {
        return None;
    };
    Some(
        match n {
            0 => "personal (Personal Terminal Server)",
            1 => "remote administration (Remote Desktop for Administration)",
            2 => "per device",
            4 => "per user",
            5 => "not configured",
            _ => "unknown",
        }
        .to_string(),
    )
}

fn is_one_of(name: &str, names: &[&str]) -> bool {
    names.iter().any(|n| name.eq_ignore_ascii_case(n))
}

/// `…\MSIPC` in UsrClass (client mode), NTUSER and SOFTWARE (reference §2.1).
pub(super) fn msipc(below: &[String], v: &Value) -> Named {
    let name = v.name.to_ascii_lowercase();
    let below: Vec<&str> = below.iter().map(String::as_str).collect();
    let update = |sid: Option<&str>| {
        let base = match name.as_str() {
            "templateupdatefrequency" => "msipc.template_update_frequency",
            "templateupdatefrequencyinseconds" => "msipc.template_update_frequency_seconds",
            _ => return None,
        };
        let n = Named::new(base);
        Some(match sid {
            Some(s) => n.sid(s),
            None => n,
        })
    };
    let named = match (below.as_slice(), name.as_str()) {
        ([], _) if update(None).is_some() => update(None),
        (["server", sid], _) if crate::store::is_sid(sid) => {
            update(Some(&sid.to_ascii_uppercase()))
        }
        ([], "disablepassportcertification") => {
            Some(Named::new("msipc.disable_passport_certification"))
        }
        ([], "trace") => Some(Named::new("msipc.trace")),
        ([], "diagnosticstate") => Some(Named::new("msipc.diagnostic_state")),
        (["servicelocation", "enterprisecertification"], "(default)") => {
            Some(Named::new("msipc.enterprise_certification").url(v))
        }
        (["servicelocation", "enterprisepublishing"], "(default)") => {
            Some(Named::new("msipc.enterprise_publishing").url(v))
        }
        (["servicelocation", "licensingredirection"], _) => {
            let mut n = Named::new("msipc.licensing_redirection");
            n.detail.from_url = Some(v.name.clone());
            n.detail.to_url = text(v);
            Some(n)
        }
        (["trustedservers"], "allowtrustedserversonly") => {
            Some(Named::new("msipc.trusted_servers_only"))
        }
        (["trustedservers"], _) => {
            let mut n = Named::new("msipc.trusted_server");
            n.detail.url = text(v).or_else(|| Some(v.name.clone()));
            Some(n)
        }
        (["federation"], "federationhomerealm") => Some(Named::new("msipc.federation_home_realm")),
        (["federation"], "enablebrowser") => Some(Named::new("msipc.federation_enable_browser")),
        ([server, "template"], "lastupdatedtime") if !is_fixed_msipc_key(server) => {
            let mut n = Named::new("msipc.template_last_updated").server(server);
            n.detail.time = text(v).as_deref().and_then(parse_xrml_time);
            Some(n)
        }
        (
            [server, "identities"] | ["msip", server, "identities"],
            "internalurl" | "externalurl",
        ) if !is_fixed_msipc_key(server) => {
            Some(Named::new("msipc.server_url").server(server).url(v))
        }
        _ if name.starts_with("msipp-") => Some(Named::new("msipc.protected_key")),
        _ => None,
    };
    named.unwrap_or_else(|| Named::new("other"))
}

/// Subkeys of `…\MSIPC` that are not server names.
fn is_fixed_msipc_key(name: &str) -> bool {
    is_one_of(
        name,
        &[
            "servicelocation",
            "trustedservers",
            "federation",
            "server",
            "msip",
            "rmssharingapp",
        ],
    )
}

/// `…\MSDRM` in NTUSER and SOFTWARE, and its policy twin.
pub(super) fn msdrm(below: &[String], v: &Value) -> Named {
    let name = v.name.to_ascii_lowercase();
    let below: Vec<&str> = below.iter().map(String::as_str).collect();
    match (below.as_slice(), name.as_str()) {
        (["templatemanagement"], "updatefrequency") => {
            Named::new("msdrm.template_update_frequency")
        }
        (["templatemanagement"], "lastupdatedtime") => {
            let mut n = Named::new("msdrm.template_last_updated");
            n.detail.time = text(v).as_deref().and_then(parse_xrml_time);
            n
        }
        (["servicelocation", "enterprisepublishing"], "(default)") => {
            Named::new("msdrm.enterprise_publishing").url(v)
        }
        (["servicelocation", "activation"], "(default)") => Named::new("msdrm.activation").url(v),
        (["federation"], "federationhomerealm") => Named::new("msdrm.federation_home_realm"),
        _ => Named::new("other"),
    }
}

/// `SettingSync\WinMSIPC\<tenant>` in SOFTWARE.
pub(super) fn winmsipc(below: &[String], v: &Value) -> Named {
    if below.len() == 1 && v.name.eq_ignore_ascii_case("AllowedRMSServerUrls") {
        Named::new("msipc.allowed_rms_server_urls")
    } else {
        Named::new("other")
    }
}

/// `Microsoft\MSLicensing` in SOFTWARE: the RDP client's licence store.
pub(super) fn mslicensing(below: &[String], v: &Value) -> Named {
    let below: Vec<&str> = below.iter().map(String::as_str).collect();
    match below.as_slice() {
        ["store", _] if v.name.eq_ignore_ascii_case("ClientLicense") => {
            let mut n = Named::new("rds.client_license");
            if let RawData::Bytes(b) = &v.data {
                n.detail.cal = cal::parse(b);
                n.detail.server = n
                    .detail
                    .cal
                    .as_ref()
                    .and_then(|c| c.license_server())
                    .map(str::to_string);
            }
            n
        }
        ["hardwareid"] if v.name.eq_ignore_ascii_case("ClientHWID") => {
            Named::new("rds.client_hwid")
        }
        _ => Named::new("other"),
    }
}

pub(super) fn office_value(below: &[String], v: &Value) -> Named {
    let mut parts: Vec<String> = below.iter().map(|k| snake(k)).collect();
    if v.name != "(default)" {
        parts.push(snake(&v.name));
    }
    let mut n = Named::new(&format!("office.drm.{}", parts.join(".")));
    if text(v).is_some_and(|t| url_host(&t).is_some()) {
        n.detail.url = text(v);
    }
    n
}

/// `AdminTemplatePath` → `admin_template_path`.
fn snake(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 4);
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
            if prev_lower || (prev_upper && next_lower) {
                s.push('_');
            }
            s.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('_') {
            s.push('_');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_names_become_snake_case_setting_names() {
        assert_eq!(snake("AdminTemplatePath"), "admin_template_path");
        assert_eq!(snake("DefaultServerUrl"), "default_server_url");
        assert_eq!(
            snake("CachedCorpLicenseServer"),
            "cached_corp_license_server"
        );
        assert_eq!(snake("RMSServerURL"), "rms_server_url");
        assert_eq!(snake("Service Locations"), "service_locations");
    }
}
