//! Which runs wrote the index, and when.
//!
//! The history travels in tantivy's commit payload, so it is committed
//! atomically with the records it describes: a scan killed midway shows as
//! `incomplete` with the time of its last commit, which is exactly what the
//! index holds of it. Reports print it as the index's scan times.

use serde::{Deserialize, Serialize};

use crate::open::RmsIndex;
use crate::IndexError;

/// At most this many runs are kept (the oldest are dropped).
const KEEP_RUNS: usize = 1000;

/// How a run ended, as of the index's last commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still running at its last commit: killed, or crashed, before finishing.
    Incomplete,
    /// Stopped early (Ctrl-C, SIGTERM, a closed output) after committing what it read.
    Interrupted,
    Complete,
}

/// One run that wrote to the index (a `scan` or a `merge`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub command: String,
    /// What it read: scan roots, or the merged indexes.
    pub sources: Vec<String>,
    /// `--label`, when given.
    pub label: Option<String>,
    /// UTC, RFC 3339.
    pub started: String,
    /// The time of its last commit (UTC, RFC 3339).
    pub committed: Option<String>,
    pub status: RunStatus,
    /// Records added or replaced, and removed, up to its last commit.
    pub upserted: u64,
    pub deleted: u64,
    pub rmsweep_version: String,
    /// Profiles a scan examined (with or without a store).
    #[serde(default)]
    pub profiles_examined: Option<u64>,
    /// The folders a scan read, absolute and with links resolved (a
    /// collection's drive folders each): outputs never go inside them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl Run {
    /// A run starting now.
    pub fn new(command: &str, sources: Vec<String>, label: Option<String>) -> Run {
        Run {
            command: command.to_string(),
            sources,
            label,
            started: now(),
            committed: None,
            status: RunStatus::Incomplete,
            upserted: 0,
            deleted: 0,
            rmsweep_version: env!("CARGO_PKG_VERSION").to_string(),
            profiles_examined: None,
            evidence: Vec::new(),
        }
    }
}

/// Profiles examined by the latest scan of each set of roots: what a sweep
/// looked at, whether or not a profile held a store.
pub fn profiles_examined(runs: &[Run]) -> u64 {
    let mut latest: std::collections::BTreeMap<(&[String], &Option<String>), u64> =
        std::collections::BTreeMap::new();
    for r in runs.iter().filter(|r| r.command == "scan") {
        if let Some(n) = r.profiles_examined {
            latest.insert((&r.sources, &r.label), n);
        }
    }
    latest.values().sum()
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[derive(Default, Serialize, Deserialize)]
struct Payload {
    runs: Vec<Run>,
}

/// The runs recorded in the index's last commit, oldest first.
pub fn runs(idx: &RmsIndex) -> Result<Vec<Run>, IndexError> {
    let metas = idx
        .index
        .load_metas()
        .map_err(|e| IndexError::Tantivy(idx.dir.clone(), e.to_string()))?;
    Ok(decode(metas.payload.as_deref()))
}

/// Runs from a payload; anything unreadable (an index written before the
/// history existed) is an empty history.
pub(crate) fn decode(payload: Option<&str>) -> Vec<Run> {
    payload
        .and_then(|p| serde_json::from_str::<Payload>(p).ok())
        .map(|p| p.runs)
        .unwrap_or_default()
}

/// The payload of a commit: the earlier runs and the current one.
pub(crate) fn encode(earlier: &[Run], current: &Run) -> String {
    let skip = (earlier.len() + 1).saturating_sub(KEEP_RUNS);
    let runs: Vec<Run> = earlier
        .iter()
        .skip(skip)
        .chain(std::iter::once(current))
        .cloned()
        .collect();
    serde_json::to_string(&Payload { runs }).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_runs_and_reads_old_payloads_as_empty() {
        let earlier: Vec<Run> = (0..KEEP_RUNS)
            .map(|i| Run::new("scan", vec![format!("/r{i}")], None))
            .collect();
        let current = Run::new("merge", vec!["/x".into()], None);
        let runs = decode(Some(&encode(&earlier, &current)));
        assert_eq!(runs.len(), KEEP_RUNS);
        assert_eq!(runs[0].sources, vec!["/r1".to_string()]);
        assert_eq!(runs[KEEP_RUNS - 1], current);
        assert_eq!(decode(None), vec![]);
        assert_eq!(decode(Some("not json")), vec![]);
    }
}
