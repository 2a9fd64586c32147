//! One file: read it through its volume, hash it, parse it, and make its
//! record with provenance. The only place where sources and the parser meet.

use sha2::{Digest, Sha256};

use crate::gate::Gate;
use crate::parse::{self, ChainCache, Content, NameTable};
use crate::plan::{Job, Plan, PlannedRoot, Source};
use crate::record::{
    path_strings, Found, HiveEntry, HiveRecords, HiveSummary, Record, SettingKind, SettingRecord,
};
use crate::registry;
use crate::registry::HiveKind;
use crate::store::{well_known_sid, RmsClient, Store, StoreArea, StoreMode};
use crate::volume::{EntryKind, ReadOptions, VPath, Volume, LARGEST_MAX_FILE_SIZE};

/// What one planned file gives (an error record when it cannot be read).
pub fn process(
    job: &Job,
    plan: &Plan,
    opts: &ReadOptions,
    cache: &ChainCache,
    cpu: &Gate,
    buf: &mut Vec<u8>,
) -> Found {
    match job.source {
        Source::Store(i) => {
            let file = StoreFile {
                root: plan.root_of(i),
                store: &plan.stores[i].store,
                path: &job.path,
            };
            Found::File(file.read(job.error.as_deref(), opts, cache, cpu, buf))
        }
        Source::Hive(i) => Found::Hive(hive(i, plan, opts, cache, cpu, buf)),
        Source::Unread(i) => Found::Evidence(plan.unread[i].clone()),
    }
}

/// A file of a store, on its root's volume.
struct StoreFile<'a> {
    root: &'a PlannedRoot,
    store: &'a Store,
    path: &'a VPath,
}

impl StoreFile<'_> {
    /// Its record; `error` (set when it must not be opened) makes it an error record.
    fn read(
        &self,
        error: Option<&str>,
        opts: &ReadOptions,
        cache: &ChainCache,
        cpu: &Gate,
        buf: &mut Vec<u8>,
    ) -> Record {
        let (root, path) = (self.root, self.path);
        let volume = &root.volume;
        let stored = volume.stored_path(path);
        let record = |content| {
            let mut r = Record::new(&stored, &root.label, self.store, content);
            r.volume_path = root.volume_path(path);
            r.drive = root.drive.clone();
            r.image = root.image.clone();
            r
        };
        let not_read = |error: String, keep_size: bool| {
            let mut r = record(Content::unreadable(error));
            if let Ok(st) = volume.stat(path) {
                r.set_stat(&st);
                if !keep_size {
                    r.size = None;
                }
            }
            r
        };
        if let Some(error) = error {
            return not_read(error.to_string(), false);
        }
        match volume.read(path, opts, buf) {
            Ok((stat, bytes)) => cpu.hold(|| {
                let table = match self.store.client {
                    RmsClient::Msipc => NameTable::Msipc,
                    RmsClient::Msdrm => NameTable::Msdrm,
                };
                let name = std::str::from_utf8(path.file_name()).ok();
                let content = parse::parse_store_file(&bytes, cache, name, table);
                let mut r = record(content);
                r.set_stat(&stat);
                if bytes.len() as u64 != stat.size {
                    r.content
                        .anomalies
                        .push(parse::Anomaly::ChangedWhileReading);
                    r.content.anomalies.sort();
                }
                r.sha256 = Some(hex(&Sha256::digest(&bytes[..])));
                r
            }),
            Err(e) => not_read(e.to_string(), true),
        }
    }
}

/// A hive's records: the hive read (with its logs) and its settings, or
/// the hive record alone, carrying the error, when it cannot be read.
/// Hives are read whole whatever `--max-file-size` says (a SOFTWARE hive is
/// often over 100 MB), up to the largest size rmsweep ever reads.
fn hive(
    i: usize,
    plan: &Plan,
    opts: &ReadOptions,
    cache: &ChainCache,
    cpu: &Gate,
    buf: &mut Vec<u8>,
) -> HiveRecords {
    let planned = &plan.hives[i];
    let root = &plan.roots[planned.root];
    let volume = &root.volume;
    let file = &planned.hive;
    let opts = ReadOptions {
        max_file_size: LARGEST_MAX_FILE_SIZE,
        ..*opts
    };
    let (path, path_hex) = path_strings(&planned.stored);
    let mut base = SettingRecord {
        path,
        path_hex,
        label: root.label.clone(),
        volume_path: root.volume_path(&file.path),
        drive: root.drive.clone(),
        kind: SettingKind::Setting,
        hive: file.kind,
        profile: file.profile.clone(),
        sid: file.sid.clone(),
        sid_name: None,
        entry: HiveEntry::Hive(HiveSummary::new()),
        size: None,
        modified: None,
        accessed: None,
        changed: None,
        created: None,
        sha256: None,
        image: root.image.clone(),
    };
    let mut summary = HiveSummary::new();
    let read = match volume.read(&file.path, &opts, buf) {
        Ok((stat, bytes)) => {
            base.set_stat(&stat);
            base.sha256 = Some(hex(&Sha256::digest(&bytes[..])));
            let logs = read_logs(volume.as_ref(), &file.logs, &opts, &mut summary);
            Some(cpu.hold(|| registry::read_hive(file.kind, &bytes, &logs)))
        }
        Err(e) => {
            if let Ok(st) = volume.stat(&file.path) {
                base.set_stat(&st);
            }
            summary.error = Some(e.to_string());
            None
        }
    };
    // The hive's own record first; its summary is filled in below.
    let mut records = vec![base.clone()];
    if let Some(read) = read {
        summary.root_name = read.root_name;
        summary.notes.extend(read.notes);
        summary.error = read.error;
        summary.settings = read.settings.len();
        for mut setting in read.settings {
            let mut r = base.clone();
            if let Some(sid) = setting.sid.take() {
                r.sid = Some(sid);
            }
            if let Some(profile) = setting.profile.take() {
                r.profile = Some(profile);
            }
            r.entry = HiveEntry::Setting(setting);
            records.push(r);
        }
    }
    let files = admin_template_folders(i, plan, &records, &opts, cache, cpu, &mut summary);
    records[0].entry = HiveEntry::Hive(summary);
    for r in &mut records {
        r.sid_name = r
            .sid
            .as_deref()
            .and_then(well_known_sid)
            .map(str::to_string);
    }
    HiveRecords { records, files }
}

/// The files of the template folders a hive's `AdminTemplatePath` values
/// name, read as an MSDRM template store of the hive's profile, where the
/// folder is on this volume and no store already covers it. What became of
/// each value is a note on the hive record.
fn admin_template_folders(
    i: usize,
    plan: &Plan,
    records: &[SettingRecord],
    opts: &ReadOptions,
    cache: &ChainCache,
    cpu: &Gate,
    summary: &mut HiveSummary,
) -> Vec<Record> {
    let planned = &plan.hives[i];
    let root = &plan.roots[planned.root];
    let hive = &planned.hive;
    let profile_dir = hive.path.parent();
    let mut out = Vec::new();
    let admin = records.iter().filter_map(|r| match &r.entry {
        HiveEntry::Setting(s) if s.setting == "office.drm.admin_template_path" => {
            s.data.as_ref().map(|d| d.text())
        }
        _ => None,
    });
    for named in admin {
        let prefix = root.prefix.as_deref().unwrap_or(&[]);
        let found = registry::locate::windows_folder(
            root.volume.as_ref(),
            &named,
            prefix,
            root.drive.as_deref(),
            (hive.kind == HiveKind::Ntuser).then_some(&profile_dir),
        );
        let dir = match found {
            Ok(dir) if plan.is_store_dir(planned.root, &dir) => {
                summary.notes.push(format!(
                    "AdminTemplatePath {named}: read as a store already"
                ));
                continue;
            }
            Ok(dir) => dir,
            Err(why) => {
                summary
                    .notes
                    .push(format!("AdminTemplatePath {named}: not read: {why}"));
                continue;
            }
        };
        let store = Store {
            dir: dir.clone(),
            mode: StoreMode::Client,
            area: StoreArea::Templates,
            client: RmsClient::Msdrm,
            profile: hive.profile.clone(),
            sid: records.first().and_then(|r| r.sid.clone()),
            recursive: false,
        };
        let entries = match root.volume.list(&dir) {
            Ok(e) => e,
            Err(e) => {
                summary
                    .notes
                    .push(format!("AdminTemplatePath {named}: cannot list it: {e}"));
                continue;
            }
        };
        let mut buf = Vec::new();
        for entry in entries.iter().filter(|e| e.kind != EntryKind::Dir) {
            let file = StoreFile {
                root,
                store: &store,
                path: &entry.path,
            };
            let not_regular = (entry.kind != EntryKind::File)
                .then(|| format!("not a regular file ({}): not opened", entry.kind.describe()));
            out.push(file.read(not_regular.as_deref(), opts, cache, cpu, &mut buf));
        }
        summary
            .template_folders
            .push(root.volume_path(&dir).unwrap_or_else(|| named.clone()));
    }
    out
}

/// A hive's transaction logs, read in replay order; a log that cannot be
/// read is named in the hive record's notes and left out.
fn read_logs(
    volume: &dyn Volume,
    logs: &[VPath],
    opts: &ReadOptions,
    summary: &mut HiveSummary,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for log in logs {
        let mut buf = Vec::new();
        let name = String::from_utf8_lossy(log.file_name()).into_owned();
        match volume.read(log, opts, &mut buf) {
            Ok((_, bytes)) => {
                out.push(bytes.to_vec());
                summary.logs.push(name);
            }
            Err(e) => summary.notes.push(format!("{name}: not read: {e}")),
        }
    }
    out
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}
