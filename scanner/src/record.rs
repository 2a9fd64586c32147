//! The record: one per store file, provenance first, then what the parser
//! found. Its JSON form is rmsweep's output contract.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::parse::time::serde_rfc3339;
use crate::parse::{Anomaly, Content};
use crate::store::{well_known_sid, RmsClient, Store, StoreArea, StoreMode};
use crate::volume::Stat;

/// One store file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// The path as stored on disk (lossy UTF-8 when it is not UTF-8: see `path_hex`).
    pub path: String,
    /// The raw bytes of a non-UTF-8 path, hex-encoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    /// The host or case name (`--label`; by default the collection's host
    /// name, or the root folder's name).
    pub label: String,
    /// The path inside the host's volume, as Windows writes it
    /// (`\Users\alice\AppData\Local\Microsoft\MSIPC\x.drm`), where the layout tells it.
    #[serde(default)]
    pub volume_path: Option<String>,
    /// The drive letter (`C:`), where the evidence tells it.
    #[serde(default)]
    pub drive: Option<String>,
    pub store_mode: StoreMode,
    pub store_area: StoreArea,
    pub rms_client: RmsClient,
    pub profile: Option<String>,
    pub sid: Option<String>,
    /// The well-known name of `sid` (LocalSystem, LocalService, NetworkService).
    pub sid_name: Option<String>,
    pub size: Option<u64>,
    #[serde(with = "serde_rfc3339::option")]
    pub modified: Option<DateTime<Utc>>,
    #[serde(with = "serde_rfc3339::option")]
    pub accessed: Option<DateTime<Utc>>,
    /// Inode change time (ctime).
    #[serde(with = "serde_rfc3339::option")]
    pub changed: Option<DateTime<Utc>>,
    /// Birth time, where the filesystem records it.
    #[serde(with = "serde_rfc3339::option")]
    pub created: Option<DateTime<Utc>>,
    pub sha256: Option<String>,
    #[serde(flatten)]
    pub content: Content,
}

impl Record {
    /// A record with provenance from the store and path, and `content`.
    pub fn new(path: &Path, label: &str, store: &Store, content: Content) -> Record {
        let raw = path.as_os_str().as_bytes();
        let (path_str, path_hex) = match std::str::from_utf8(raw) {
            Ok(s) => (s.to_string(), None),
            Err(_) => (
                String::from_utf8_lossy(raw).into_owned(),
                Some(raw.iter().map(|b| format!("{b:02x}")).collect()),
            ),
        };
        let mut r = Record {
            path: path_str,
            path_hex,
            label: label.to_string(),
            volume_path: None,
            drive: None,
            store_mode: store.mode,
            store_area: store.area,
            rms_client: store.client,
            profile: store.profile.clone(),
            sid: store.sid.clone(),
            sid_name: store
                .sid
                .as_deref()
                .and_then(well_known_sid)
                .map(str::to_string),
            size: None,
            modified: None,
            accessed: None,
            changed: None,
            created: None,
            sha256: None,
            content,
        };
        if r.path_hex.is_some() {
            r.content.anomalies.push(Anomaly::NonUtf8Path);
            r.content.anomalies.sort();
        }
        // Server/<SID> holds licences and (newer layout) templates side by side.
        if store.mode == StoreMode::Server
            && store.area == StoreArea::Licenses
            && r.content.kind == crate::parse::Kind::Template
        {
            r.store_area = StoreArea::Templates;
        }
        r
    }

    /// Fills size and times from the stat of the opened file.
    pub fn set_stat(&mut self, st: &Stat) {
        self.size = Some(st.size);
        self.modified = st.modified;
        self.accessed = st.accessed;
        self.changed = st.changed;
        self.created = st.created;
    }
}
