//! Records that were written elsewhere, added to an index as they were
//! written: the stored JSON of another index (`merge`) or the JSON lines of
//! `scan --jsonl` on another machine (`import`). Both hold the same three
//! kinds of record; a hive's records are adjacent and replaced together.

use rmsweep_scanner::record::{EvidenceRecord, HiveEntry, HiveRecords, SettingRecord};
use rmsweep_scanner::Record;

use std::collections::HashSet;

use crate::writer::{prepare_evidence, prepare_hive, prepare_record, IndexSession, Prepared};
use crate::IndexError;

/// A record as written: a registry record (its `kind` is `setting`), an
/// evidence record, or a store file's.
#[derive(serde::Deserialize)]
#[serde(untagged)]
pub enum Stored {
    Setting(Box<SettingRecord>),
    Evidence(Box<EvidenceRecord>),
    File(Box<Record>),
}

impl Stored {
    /// The host the record belongs to.
    pub fn label(&self) -> &str {
        match self {
            Stored::Setting(r) => &r.label,
            Stored::Evidence(r) => &r.label,
            Stored::File(r) => &r.label,
        }
    }
}

/// Adds records one by one, gathering each hive's.
///
/// A record of a host the index holds nothing of (`fresh`: every host of a
/// new index, an imported host whose records were just deleted) is added
/// without queueing a delete of an earlier copy, unless its file came
/// before in this run: tantivy holds every queued delete in memory until
/// the next commit (about 1.2 KB each), which made merge and import grow
/// with the records.
#[derive(Default)]
pub struct Restorer {
    hive: Vec<SettingRecord>,
    fresh: HashSet<String>,
    /// The files added under fresh hosts so far.
    added: HashSet<[u8; 16]>,
    /// Every host is fresh (a new index).
    all_fresh: bool,
}

impl Restorer {
    /// For an index that holds nothing yet.
    pub fn for_new_index() -> Restorer {
        Restorer {
            all_fresh: true,
            ..Restorer::default()
        }
    }

    /// `label`'s records are no longer in the index (deleted, or never there).
    pub fn fresh_label(&mut self, label: &str) {
        self.fresh.insert(label.to_string());
    }

    pub fn add(&mut self, session: &mut IndexSession, record: Stored) -> Result<(), IndexError> {
        match record {
            Stored::Setting(r) => {
                let same = self
                    .hive
                    .first()
                    .is_none_or(|h| h.label == r.label && h.path == r.path);
                if !same {
                    self.flush(session)?;
                }
                self.hive.push(*r);
                Ok(())
            }
            Stored::Evidence(r) => {
                self.flush(session)?;
                let p = prepare_evidence(session.fields(), &r);
                self.send(session, p, &r.label)
            }
            Stored::File(r) => {
                self.flush(session)?;
                let p = prepare_record(session.fields(), &r);
                self.send(session, p, &r.label)
            }
        }
    }

    fn send(
        &mut self,
        session: &mut IndexSession,
        p: Prepared,
        label: &str,
    ) -> Result<(), IndexError> {
        let fresh = self.all_fresh || self.fresh.contains(label);
        let p = if fresh && self.added.insert(p.key()) {
            p.new_file()
        } else {
            p
        };
        session.upsert_prepared(p)
    }

    /// Adds the gathered records of one hive (the hive's own record first).
    pub fn flush(&mut self, session: &mut IndexSession) -> Result<(), IndexError> {
        if self.hive.is_empty() {
            return Ok(());
        }
        let mut records = std::mem::take(&mut self.hive);
        records.sort_by_key(|r| !matches!(r.entry, HiveEntry::Hive(_)));
        let label = records[0].label.clone();
        let hive = HiveRecords {
            records,
            files: Vec::new(),
        };
        let p = prepare_hive(session.fields(), &hive);
        self.send(session, p, &label)
    }
}
