//! The record: one per store file, provenance first, then what the parser
//! found. Its JSON form is rmsweep's output contract.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::locate::containers::ContainerKind;
use crate::parse::time::serde_rfc3339;
use crate::parse::{Anomaly, Content};
use crate::store::{well_known_sid, RmsClient, Store, StoreArea, StoreMode};
use crate::volume::{NtfsMeta, Stat};

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
    /// Where in a disk image or profile container the file lies.
    #[serde(flatten)]
    pub image: ImageOrigin,
    #[serde(flatten)]
    pub content: Content,
}

/// The disk image or profile container a record was read from, and where
/// in it (absent for a mounted folder).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageOrigin {
    /// The image or container file as stored (its first piece when split).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// What it is: `disk`, `fslogix_profile`, `fslogix_office`, `upd`,
    /// `upd_template`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_kind: Option<ContainerKind>,
    /// `raw`, `VHD`, `VHDX`, `E01`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_format: Option<String>,
    /// The 1-based partition (absent for a bare volume).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<u32>,
    /// The file's NTFS metadata (MFT entry, `$FILE_NAME` times, volume serial).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ntfs: Option<NtfsMeta>,
}

impl Record {
    /// A record with provenance from the store and path, and `content`.
    pub fn new(path: &Path, label: &str, store: &Store, content: Content) -> Record {
        let (path_str, path_hex) = path_strings(path);
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
            image: ImageOrigin::default(),
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
        self.image.ntfs = st.ntfs.as_deref().cloned();
    }
}

/// What reading one planned file gives: a store file's record, or a hive's.
// Nearly every item is a store file: boxing it would cost an allocation per
// file for the few hives.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Found {
    File(Record),
    Hive(HiveRecords),
    /// A disk image, profile container or volume that could not be read.
    Evidence(EvidenceRecord),
}

impl Found {
    /// The store file's record; `None` for a hive.
    pub fn into_file(self) -> Option<Record> {
        match self {
            Found::File(r) => Some(r),
            Found::Hive(_) | Found::Evidence(_) => None,
        }
    }
}

/// One hive's records, in order: the hive itself, then one per setting.
/// They share the hive's label and path, so they are replaced together.
/// `files`: the records of the template folders its `AdminTemplatePath`
/// names (each keyed by its own path).
#[derive(Debug, Clone)]
pub struct HiveRecords {
    pub records: Vec<SettingRecord>,
    pub files: Vec<Record>,
}

impl HiveRecords {
    /// The hive's own record (what was read, notes, error).
    pub fn hive(&self) -> &SettingRecord {
        &self.records[0]
    }
}

/// A registry record (`kind` `setting`): a hive read, or one value in it,
/// with the hive file's provenance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SettingRecord {
    /// The hive file's path as stored.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    pub label: String,
    pub volume_path: Option<String>,
    pub drive: Option<String>,
    pub kind: SettingKind,
    pub hive: crate::registry::HiveKind,
    pub profile: Option<String>,
    pub sid: Option<String>,
    pub sid_name: Option<String>,
    #[serde(flatten)]
    pub entry: HiveEntry,
    pub size: Option<u64>,
    #[serde(with = "serde_rfc3339::option")]
    pub modified: Option<DateTime<Utc>>,
    #[serde(with = "serde_rfc3339::option")]
    pub accessed: Option<DateTime<Utc>>,
    #[serde(with = "serde_rfc3339::option")]
    pub changed: Option<DateTime<Utc>>,
    #[serde(with = "serde_rfc3339::option")]
    pub created: Option<DateTime<Utc>>,
    /// SHA-256 of the hive file.
    pub sha256: Option<String>,
    #[serde(flatten)]
    pub image: ImageOrigin,
}

/// The `kind` of every registry record: `setting`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingKind {
    Setting,
}

/// The `setting` of a hive's own record: `hive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HiveMarker {
    Hive,
}

/// The hive record, or one setting.
// One hive record per hive, many settings: the settings are the common case.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HiveEntry {
    Hive(HiveSummary),
    Setting(crate::registry::Setting),
}

/// What reading a hive gave, as a whole (`setting` `hive`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HiveSummary {
    pub setting: HiveMarker,
    pub root_name: Option<String>,
    /// The transaction logs found beside it (replayed in memory).
    pub logs: Vec<String>,
    pub notes: Vec<String>,
    /// Why the hive (or part of it) could not be read.
    pub error: Option<String>,
    /// Setting records that follow.
    pub settings: usize,
    /// Template folders the hive names (Office's `AdminTemplatePath`) that
    /// were read with it, as paths inside the volume. A hive that names any
    /// is read again on every scan, so that its folders' records are too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub template_folders: Vec<String>,
}

impl SettingRecord {
    /// Fills size and times from the stat of the hive file.
    pub fn set_stat(&mut self, st: &Stat) {
        self.size = Some(st.size);
        self.modified = st.modified;
        self.accessed = st.accessed;
        self.changed = st.changed;
        self.created = st.created;
        self.image.ntfs = st.ntfs.as_deref().cloned();
    }
}

impl HiveSummary {
    /// A hive record with nothing read yet.
    pub fn new() -> HiveSummary {
        HiveSummary {
            setting: HiveMarker::Hive,
            root_name: None,
            logs: Vec::new(),
            notes: Vec::new(),
            error: None,
            settings: 0,
            template_folders: Vec::new(),
        }
    }
}

impl Default for HiveSummary {
    fn default() -> Self {
        HiveSummary::new()
    }
}

/// The path as a string, and its bytes in hex when they are not UTF-8.
pub fn path_strings(path: &Path) -> (String, Option<String>) {
    let raw = path.as_os_str().as_bytes();
    match std::str::from_utf8(raw) {
        Ok(s) => (s.to_string(), None),
        Err(_) => (
            String::from_utf8_lossy(raw).into_owned(),
            Some(raw.iter().map(|b| format!("{b:02x}")).collect()),
        ),
    }
}

/// A disk image or profile container, or a volume in one, that could not
/// be read (`kind` `evidence`): damaged, BitLocker-encrypted, a
/// differencing disk without its parent. The stores it may hold are not in
/// the results, and this record says so. No SHA-256: hashing a damaged
/// multi-gigabyte container is left to the imaging tools.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvidenceRecord {
    /// The image or container file as stored (with the partition, for a volume).
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    pub label: String,
    pub kind: EvidenceKind,
    /// The user and SID the container's names give.
    pub profile: Option<String>,
    pub sid: Option<String>,
    pub size: Option<u64>,
    #[serde(with = "serde_rfc3339::option")]
    pub modified: Option<DateTime<Utc>>,
    #[serde(with = "serde_rfc3339::option")]
    pub accessed: Option<DateTime<Utc>>,
    #[serde(with = "serde_rfc3339::option")]
    pub changed: Option<DateTime<Utc>>,
    #[serde(with = "serde_rfc3339::option")]
    pub created: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub image: ImageOrigin,
    /// What was damaged or missing, and what to do.
    pub error: String,
}

/// The `kind` of an evidence record: `evidence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Evidence,
}

impl EvidenceRecord {
    /// A record for `path` (as stored) that says `error`.
    pub fn new(path: &Path, label: &str, error: String) -> EvidenceRecord {
        let (path, path_hex) = path_strings(path);
        EvidenceRecord {
            path,
            path_hex,
            label: label.to_string(),
            kind: EvidenceKind::Evidence,
            profile: None,
            sid: None,
            size: None,
            modified: None,
            accessed: None,
            changed: None,
            created: None,
            image: ImageOrigin::default(),
            error,
        }
    }

    /// Fills size and times from the image file's stat.
    pub fn set_stat(&mut self, st: &Stat) {
        self.size = Some(st.size);
        self.modified = st.modified;
        self.accessed = st.accessed;
        self.changed = st.changed;
        self.created = st.created;
        self.image.ntfs = st.ntfs.as_deref().cloned();
    }
}
