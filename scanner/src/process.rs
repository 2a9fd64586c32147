//! One file: read it through its volume, hash it, parse it, and make its
//! record with provenance. The only place where sources and the parser meet.

use sha2::{Digest, Sha256};

use crate::parse::{self, ChainCache, Content, NameTable};
use crate::plan::{Job, Plan};
use crate::record::Record;
use crate::store::RmsClient;
use crate::volume::ReadOptions;

/// The record of one planned file (an error record when it cannot be read).
pub fn process(
    job: &Job,
    plan: &Plan,
    opts: &ReadOptions,
    cache: &ChainCache,
    buf: &mut Vec<u8>,
) -> Record {
    let planned = &plan.stores[job.store];
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
