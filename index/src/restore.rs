//! Records that were written elsewhere, added to an index as they were
//! written: the stored JSON of another index (`merge`) or the JSON lines of
//! `scan --jsonl` on another machine (`import`). Both hold the same three
//! kinds of record; a hive's records are adjacent and replaced together.

use rmsweep_scanner::record::{EvidenceRecord, HiveEntry, HiveRecords, SettingRecord};
use rmsweep_scanner::Record;

use crate::writer::IndexSession;
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
#[derive(Default)]
pub struct Restorer {
    hive: Vec<SettingRecord>,
}

impl Restorer {
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
                session.upsert_evidence(&r)
            }
            Stored::File(r) => {
                self.flush(session)?;
                session.upsert(&r)
            }
        }
    }

    /// Adds the gathered records of one hive (the hive's own record first).
    pub fn flush(&mut self, session: &mut IndexSession) -> Result<(), IndexError> {
        if self.hive.is_empty() {
            return Ok(());
        }
        let mut records = std::mem::take(&mut self.hive);
        records.sort_by_key(|r| !matches!(r.entry, HiveEntry::Hive(_)));
        session.upsert_hive(&HiveRecords {
            records,
            files: Vec::new(),
        })
    }
}
