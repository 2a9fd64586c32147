//! Which keys rmsweep reads in each hive, and what each value is called
//! (its `setting`). Reference `registry-and-rds.md` §2 (keys), §3 (formats).
//!
//! Each hive kind has a short list of keys; everything below an MSIPC,
//! MSDRM, Office DRM or MSLicensing key is walked (bounded in depth and
//! count) and every value becomes a [`Setting`]: named by a classifier when
//! rmsweep knows what it means, `other` when it does not. Elsewhere (SYSTEM,
//! ProfileList, Terminal Services policy) only the named values are read.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::cal::ClientLicense;
use super::classify::{
    licensing_mode, msdrm, msipc, mslicensing, office_value, text, winmsipc, Named,
};
use super::hive::{Hive, Key, RawData, Value};
use super::HiveKind;
use crate::parse::time::serde_rfc3339;
use crate::process::hex;

/// Binary data is shown as hex up to this size; larger data by size and hash only.
pub const MAX_HEX_BYTES: usize = 4096;
/// Keys below a walked key, at most this deep.
const MAX_DEPTH: usize = 8;
/// Values taken from one walked key's tree at most.
const MAX_VALUES: usize = 10_000;

/// A value's data as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Data {
    Number(u64),
    Text(String),
    List(Vec<String>),
}

impl Data {
    /// The data as one string (a list joined by `;`).
    pub fn text(&self) -> String {
        match self {
            Data::Number(n) => n.to_string(),
            Data::Text(s) => s.clone(),
            Data::List(l) => l.join(";"),
        }
    }
}

/// One registry value rmsweep reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    /// The stable name queries and the report use (`msipc.template_last_updated`, `other`).
    pub setting: String,
    /// The key's path inside the hive, as stored (the root key left out).
    pub key: String,
    /// The value's name; `(default)` for the default value.
    pub value: String,
    pub value_type: String,
    /// Strings, numbers and lists as they are; binary as hex up to
    /// [`MAX_HEX_BYTES`]; absent when `redacted` or larger.
    pub data: Option<Data>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_sha256: Option<String>,
    /// The data holds key material (a DPAPI blob, `MSIPP-*`): never shown.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
    #[serde(with = "serde_rfc3339::option")]
    pub key_last_write: Option<DateTime<Utc>>,
    /// Found in deleted space or only in a transaction log.
    pub recovered: bool,
    /// The SID the value is about (a server-mode `Server\<SID>` key, a
    /// ProfileList entry): the record's `sid`.
    #[serde(skip)]
    pub sid: Option<String>,
    /// The profile folder a ProfileList entry names: the record's `profile`.
    #[serde(skip)]
    pub profile: Option<String>,
    #[serde(flatten)]
    pub detail: Detail,
}

/// What a named setting says, decoded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Detail {
    /// The RMS server a per-server key names (`…\MSIPC\<server>\Template`),
    /// or the licence server that issued a client access licence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A licensing redirection: from this URL…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_url: Option<String>,
    /// …to this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_url: Option<String>,
    /// A time the data holds (a last template refresh), read as UTC.
    #[serde(
        default,
        with = "serde_rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub time: Option<DateTime<Utc>>,
    /// What a number means (a licensing mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meaning: Option<String>,
    /// The Office version key (`16.0`) of an Office DRM value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_version: Option<String>,
    /// The control set read (`ControlSet001`), for SYSTEM values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_set: Option<String>,
    /// The DPAPI master key that protects a redacted blob (not secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpapi_master_key: Option<String>,
    /// A Remote Desktop client access licence, decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cal: Option<ClientLicense>,
}

/// How a walked tree's values are named: the key names below the walked
/// key (lower-cased) and the value.
type Classifier = fn(&[String], &Value) -> Named;

/// The keys a walk visited, by cell offset: where a recovered key whose
/// parent is one of them belongs (its path, the names below the walked
/// key, how its values are named).
type Visited = HashMap<usize, (String, Vec<String>, Classifier)>;

/// Every setting of a hive of `kind`, in key order; then the values of
/// deleted keys recovered below the walked keys.
pub fn read(hive: &mut Hive, kind: HiveKind) -> Vec<Setting> {
    let mut r = Reader {
        hive,
        out: Vec::new(),
        visited: Visited::new(),
        truncated: false,
    };
    match kind {
        HiveKind::Usrclass => r.walk(r"Local Settings\Software\Microsoft\MSIPC", msipc),
        HiveKind::Ntuser => {
            r.walk(r"Software\Microsoft\MSIPC", msipc);
            r.walk(r"Software\Microsoft\MSDRM", msdrm);
            r.walk(r"Software\Policies\Microsoft\MSDRM", msdrm);
            r.office(r"Software\Microsoft\Office");
            r.office(r"Software\Policies\Microsoft\Office");
        }
        HiveKind::Software => {
            for prefix in ["", r"Wow6432Node\"] {
                r.walk(&format!(r"{prefix}Microsoft\MSIPC"), msipc);
                r.walk(&format!(r"{prefix}Microsoft\MSDRM"), msdrm);
            }
            r.walk(r"Policies\Microsoft\MSDRM", msdrm);
            r.walk(r"Microsoft\Windows\SettingSync\WinMSIPC", winmsipc);
            r.walk(r"Microsoft\MSLicensing", mslicensing);
            r.named_values(
                r"Policies\Microsoft\Windows NT\Terminal Services",
                &[
                    ("LicensingMode", "rds.licensing_mode"),
                    ("LicenseServers", "rds.license_servers"),
                ],
                None,
            );
            r.profile_list();
        }
        HiveKind::System => r.system(),
    }
    r.place_recovered();
    r.out
}

struct Reader<'h, 'b> {
    hive: &'h mut Hive<'b>,
    out: Vec<Setting>,
    visited: Visited,
    /// A tree had more values than are read (said once, in the notes).
    truncated: bool,
}

impl Reader<'_, '_> {
    /// Every value of the key at `path` and below it.
    fn walk(&mut self, path: &str, classify: Classifier) {
        let Some(mut key) = self.hive.key(path) else {
            return;
        };
        let mut budget = MAX_VALUES;
        self.visit(&mut key, &mut Vec::new(), classify, &mut budget);
    }

    fn visit(
        &mut self,
        key: &mut Key,
        below: &mut Vec<String>,
        classify: Classifier,
        budget: &mut usize,
    ) {
        self.visited
            .insert(key.offset, (key.path.clone(), below.clone(), classify));
        for v in self.hive.values(key) {
            if *budget == 0 {
                // Named once, never dropped silently.
                if !self.truncated {
                    self.truncated = true;
                    let note = format!(
                        "more than {MAX_VALUES} values in one tree: the rest from {} on not read",
                        key.path
                    );
                    self.hive.notes.push(note);
                }
                return;
            }
            *budget -= 1;
            let named = classify(below, &v);
            self.out.push(setting(key, &v, named));
        }
        if below.len() >= MAX_DEPTH {
            let subkeys = self.hive.subkeys(key).len();
            if subkeys > 0 {
                let note = format!(
                    "{} holds {subkeys} keys more than {MAX_DEPTH} levels down: not read",
                    key.path
                );
                self.hive.notes.push(note);
            }
            return;
        }
        for mut sub in self.hive.subkeys(key) {
            below.push(sub.name.to_ascii_lowercase());
            self.visit(&mut sub, below, classify, budget);
            below.pop();
        }
    }

    /// Deleted keys whose parent is a walked key (or another such deleted
    /// key): their values, marked recovered, named as live ones would be.
    fn place_recovered(&mut self) {
        let walked: std::collections::HashSet<usize> = self.visited.keys().copied().collect();
        if !self.hive.has_deleted_keys_below(&walked) {
            return;
        }
        self.hive.recover();
        let mut pending = self.hive.recovered();
        loop {
            let before = pending.len();
            let mut rest = Vec::new();
            for mut key in pending {
                let Some((parent, below, classify)) = self.visited.get(&key.parent_offset).cloned()
                else {
                    rest.push(key);
                    continue;
                };
                if self.visited.contains_key(&key.offset) {
                    continue;
                }
                key.path = format!("{parent}\\{}", key.name);
                let mut below = below;
                below.push(key.name.to_ascii_lowercase());
                let mut budget = MAX_VALUES;
                self.visit(&mut key, &mut below, classify, &mut budget);
            }
            if rest.len() == before || rest.is_empty() {
                break;
            }
            pending = rest;
        }
    }

    /// Only the listed values of one key, each under its name.
    fn named_values(&mut self, path: &str, wanted: &[(&str, &str)], control_set: Option<&str>) {
        let Some(key) = self.hive.key(path) else {
            return;
        };
        for v in key.values() {
            if let Some((_, name)) = wanted.iter().find(|(n, _)| v.name.eq_ignore_ascii_case(n)) {
                let mut named = Named::new(name);
                named.detail.control_set = control_set.map(str::to_string);
                if *name == "rds.licensing_mode" {
                    named.detail.meaning = licensing_mode(&v);
                }
                self.out.push(setting(&key, &v, named));
            }
        }
    }

    /// `Office\<version>\Common\DRM` in NTUSER (and its policy twin): every
    /// value, named `office.drm.<value in snake case>`.
    fn office(&mut self, path: &str) {
        let Some(mut office) = self.hive.key(path) else {
            return;
        };
        let versions: Vec<String> = self
            .hive
            .subkeys(&mut office)
            .into_iter()
            .filter(|k| {
                k.name.contains('.') && k.name.bytes().next().is_some_and(|b| b.is_ascii_digit())
            })
            .map(|k| k.name)
            .collect();
        for version in versions {
            let Some(mut drm) = self.hive.key(&format!(r"{path}\{version}\Common\DRM")) else {
                continue;
            };
            let start = self.out.len();
            let mut budget = MAX_VALUES;
            self.visit(&mut drm, &mut Vec::new(), office_value, &mut budget);
            for s in &mut self.out[start..] {
                s.detail.office_version = Some(version.clone());
            }
        }
    }

    /// `ProfileList\<SID>\ProfileImagePath` in SOFTWARE: which profile folder
    /// belongs to which SID.
    fn profile_list(&mut self) {
        let Some(mut list) = self
            .hive
            .key(r"Microsoft\Windows NT\CurrentVersion\ProfileList")
        else {
            return;
        };
        for entry in self.hive.subkeys(&mut list) {
            if !crate::store::is_sid(&entry.name) {
                continue;
            }
            for v in entry.values() {
                if !v.name.eq_ignore_ascii_case("ProfileImagePath") {
                    continue;
                }
                let mut n = Named::new("host.profile").sid(&entry.name);
                n.profile = text(&v)
                    .as_deref()
                    .and_then(|p| p.rsplit(['\\', '/']).find(|c| !c.is_empty()))
                    .map(str::to_string);
                self.out.push(setting(&entry, &v, n));
            }
        }
    }

    /// SYSTEM: the current control set's computer name, Remote Desktop
    /// licensing mode, licence servers and grace period.
    fn system(&mut self) {
        let current = self
            .hive
            .key("Select")
            .and_then(|k| {
                k.values()
                    .into_iter()
                    .find(|v| v.name.eq_ignore_ascii_case("Current"))
            })
            .and_then(|v| match v.data {
                RawData::Number(n) if (1..1000).contains(&n) => Some(n),
                _ => None,
            })
            .unwrap_or(1);
        let cs = format!("ControlSet{current:03}");
        let at = |tail: &str| format!(r"{cs}\{tail}");
        let named: [(&str, &[(&str, &str)]); 4] = [
            (
                r"Control\ComputerName\ComputerName",
                &[("ComputerName", "host.computer_name")],
            ),
            (
                r"Services\Tcpip\Parameters",
                &[("Hostname", "host.hostname"), ("Domain", "host.domain")],
            ),
            (
                r"Control\Terminal Server\RCM\Licensing Core",
                &[("LicensingMode", "rds.licensing_mode")],
            ),
            (
                r"Services\TermService\Parameters\LicenseServers",
                &[("SpecifiedLicenseServers", "rds.license_servers")],
            ),
        ];
        for (tail, wanted) in named {
            self.named_values(&at(tail), wanted, Some(&cs));
        }
        if let Some(key) = self
            .hive
            .key(&at(r"Control\Terminal Server\RCM\GracePeriod"))
        {
            for v in key.values() {
                let mut n = Named::new("rds.grace_period");
                n.redact = true;
                n.detail.control_set = Some(cs.clone());
                self.out.push(setting(&key, &v, n));
            }
        }
    }
}

fn setting(key: &Key, v: &Value, mut named: Named) -> Setting {
    let redacted =
        named.redact || v.name.to_ascii_lowercase().starts_with("msipp-") || is_dpapi(&v.raw);
    let digest = || Some(hex(&Sha256::digest(&v.raw)));
    let (data, data_size, data_sha256) = match &v.data {
        _ if redacted => (None, Some(v.raw.len() as u64), digest()),
        RawData::Bytes(b) => (
            (b.len() <= MAX_HEX_BYTES).then(|| Data::Text(hex(b))),
            Some(b.len() as u64),
            digest(),
        ),
        RawData::Text(s) => (Some(Data::Text(s.clone())), None, None),
        RawData::Number(n) => (Some(Data::Number(*n)), None, None),
        RawData::List(l) => (Some(Data::List(l.clone())), None, None),
        RawData::None => (None, Some(v.raw.len() as u64), None),
    };
    if redacted {
        named.detail.dpapi_master_key = dpapi_master_key(&v.raw);
        named.detail.cal = None;
    }
    Setting {
        setting: named.setting,
        key: key.path.clone(),
        value: v.name.clone(),
        value_type: v.value_type.clone(),
        data,
        data_size,
        data_sha256,
        redacted,
        key_last_write: key.last_write,
        recovered: v.recovered,
        sid: named.sid,
        profile: named.profile,
        detail: named.detail,
    }
}

/// The DPAPI provider GUID `{df9d8cd0-1501-11d1-8c7a-00c04fc297eb}` as it
/// follows the blob's version (reference §3.1).
const DPAPI_PROVIDER: [u8; 16] = [
    0xd0, 0x8c, 0x9d, 0xdf, 0x01, 0x15, 0xd1, 0x11, 0x8c, 0x7a, 0x00, 0xc0, 0x4f, 0xc2, 0x97, 0xeb,
];

fn is_dpapi(raw: &[u8]) -> bool {
    raw.get(4..20) == Some(&DPAPI_PROVIDER[..])
}

fn dpapi_master_key(raw: &[u8]) -> Option<String> {
    if !is_dpapi(raw) {
        return None;
    }
    crate::parse::guid::from_le_bytes(raw.get(24..40)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dpapi_blob_is_recognised_by_its_provider_and_names_its_master_key() {
        let mut blob = vec![1, 0, 0, 0];
        blob.extend_from_slice(&DPAPI_PROVIDER);
        blob.extend_from_slice(&[1, 0, 0, 0]);
        blob.extend_from_slice(&[
            0xfe, 0x53, 0x53, 0x3b, 0x57, 0xef, 0xd9, 0x40, 0x86, 0xe9, 0xda, 0x9c, 0x04, 0xd4,
            0xd9, 0x86,
        ]);
        assert!(is_dpapi(&blob));
        assert_eq!(
            dpapi_master_key(&blob).as_deref(),
            Some("3b5353fe-ef57-40d9-86e9-da9c04d4d986")
        );
        assert!(!is_dpapi(&blob[1..]));
    }
}
