//! One file: read it through its volume, hash it, parse it, and make its
//! record with provenance. The only place where sources and the parser meet.

use sha2::{Digest, Sha256};

use crate::parse::{self, ChainCache, Content, NameTable};
use crate::plan::{Job, Plan, Source};
use crate::record::{
    path_strings, Found, HiveEntry, HiveRecords, HiveSummary, Record, SettingKind, SettingRecord,
};
use crate::registry;
use crate::store::{well_known_sid, RmsClient};
use crate::volume::{ReadOptions, VPath, Volume, LARGEST_MAX_FILE_SIZE};

/// What one planned file gives (an error record when it cannot be read).
pub fn process(
    job: &Job,
    plan: &Plan,
    opts: &ReadOptions,
    cache: &ChainCache,
    buf: &mut Vec<u8>,
) -> Found {
    match job.source {
        Source::Store(i) => Found::File(store_file(job, i, plan, opts, cache, buf)),
        Source::Hive(i) => Found::Hive(hive(i, plan, opts, buf)),
    }
}

fn store_file(
    job: &Job,
    store: usize,
    plan: &Plan,
    opts: &ReadOptions,
    cache: &ChainCache,
    buf: &mut Vec<u8>,
) -> Record {
    let planned = &plan.stores[store];
    let root = &plan.roots[planned.root];
    let volume = &root.volume;
    let stored = volume.stored_path(&job.path);
    let record = |content| {
        let mut r = Record::new(&stored, &root.label, &planned.store, content);
        r.volume_path = root.volume_path(&job.path);
        r.drive = root.drive.clone();
        r
    };
    let not_read = |error: String, keep_size: bool| {
        let mut r = record(Content::unreadable(error));
        if let Ok(st) = volume.stat(&job.path) {
            r.set_stat(&st);
            if !keep_size {
                r.size = None;
            }
        }
        r
    };
    if let Some(error) = &job.error {
        return not_read(error.clone(), false);
    }
    match volume.read(&job.path, opts, buf) {
        Ok((stat, bytes)) => {
            let table = match planned.store.client {
                RmsClient::Msipc => NameTable::Msipc,
                RmsClient::Msdrm => NameTable::Msdrm,
            };
            let name = std::str::from_utf8(job.path.file_name()).ok();
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
        }
        Err(e) => not_read(e.to_string(), true),
    }
}

/// A hive's records: the hive read (with its logs) and its settings, or
/// the hive record alone, carrying the error, when it cannot be read.
/// Hives are read whole whatever `--max-file-size` says (a SOFTWARE hive is
/// often over 100 MB), up to the largest size rmsweep ever reads.
fn hive(i: usize, plan: &Plan, opts: &ReadOptions, buf: &mut Vec<u8>) -> HiveRecords {
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
    };
    let mut summary = HiveSummary::new();
    let read = match volume.read(&file.path, &opts, buf) {
        Ok((stat, bytes)) => {
            base.set_stat(&stat);
            base.sha256 = Some(hex(&Sha256::digest(&bytes[..])));
            let logs = read_logs(volume.as_ref(), &file.logs, &opts, &mut summary);
            Some(registry::read_hive(file.kind, &bytes, &logs))
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
        if base.sid.is_none() {
            base.sid = read.owner_sid.clone();
        }
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
    records[0].sid.clone_from(&base.sid);
    records[0].entry = HiveEntry::Hive(summary);
    for r in &mut records {
        r.sid_name = r
            .sid
            .as_deref()
            .and_then(well_known_sid)
            .map(str::to_string);
    }
    HiveRecords { records }
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
