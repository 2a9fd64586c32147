//! What each host's registry says, gathered from its `setting` records:
//! the template refresh interval in force per profile or service SID, each
//! server's last template refresh, licensing redirections, and the servers
//! the host's own configuration trusts. `stale` and `foreign` judge a
//! host's records by it; the report shows it.
//!
//! Setting records are few (dozens per profile), so they are read from the
//! stored records, not from columns.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use rmsweep_scanner::parse::issuer::url_host;
use serde_json::Value;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::Term;

use crate::open::RmsIndex;
use crate::rows::{for_each_in_order, matching};
use crate::IndexError;

/// MSIPC's documented default refresh interval when the registry sets none
/// (7 days; client 1.0.1784.0 and later use 1 day, reference §5).
pub const DEFAULT_REFRESH_SECS: i64 = 7 * 86_400;

/// Where a setting was read and what it says, for the answers to name:
/// `UsrClass.dat Local Settings\…\Template LastUpdatedTime = 2015-04-20T15:52`.
pub type Evidence = String;

/// The refresh interval in force, and what set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    pub secs: i64,
    pub source: String,
}

/// The refresh intervals a profile's or SID's registry sets, in seconds
/// (`…InSeconds`) and in days.
#[derive(Debug, Clone, Default)]
struct SetIntervals {
    seconds: Option<Interval>,
    days: Option<Interval>,
}

/// One host's (label's) configuration.
#[derive(Debug, Clone, Default)]
pub struct HostConfig {
    /// Profile or SID (lower-cased) → the intervals its registry sets.
    intervals: HashMap<String, SetIntervals>,
    /// (profile or SID lower-cased, server lower-cased) → last refresh.
    last_refresh: HashMap<(String, String), (DateTime<Utc>, Evidence)>,
    /// Redirected-from host → the redirection.
    pub redirected: BTreeMap<String, Evidence>,
    /// Hosts the configuration trusts (trusted servers, service locations,
    /// redirection targets).
    pub trusted: BTreeSet<String>,
    /// The computer names its SYSTEM hives give (upper-cased): what
    /// identifies the host besides its machine certificates.
    pub computer_names: BTreeSet<String>,
}

impl HostConfig {
    /// The refresh interval in force for a profile or SID: seconds over
    /// days over the documented default.
    pub fn interval(&self, holder: &str) -> Interval {
        let set = self.intervals.get(&holder.to_lowercase());
        set.and_then(|s| s.seconds.clone().or_else(|| s.days.clone()))
            .unwrap_or_else(|| Interval {
                secs: DEFAULT_REFRESH_SECS,
                source: "no refresh interval in the registry: MSIPC's default of 7 days".into(),
            })
    }

    /// When a profile or SID last refreshed templates from `server`.
    pub fn last_refresh(&self, holder: &str, server: &str) -> Option<&(DateTime<Utc>, Evidence)> {
        self.last_refresh
            .get(&(holder.to_lowercase(), server.to_lowercase()))
    }

    fn add(&mut self, r: &Value) {
        let s = |k: &str| r.get(k).and_then(Value::as_str);
        let Some(setting) = s("setting") else {
            return;
        };
        let evidence = || {
            format!(
                "{} {} {} = {}",
                hive_name(r),
                s("key").unwrap_or_default(),
                s("value").unwrap_or_default(),
                data_text(r.get("data"))
            )
        };
        let holders: Vec<String> = [s("profile"), s("sid")]
            .into_iter()
            .flatten()
            .map(str::to_lowercase)
            .collect();
        let number = r.get("data").and_then(Value::as_i64);
        match setting {
            "msipc.template_update_frequency_seconds" | "msipc.template_update_frequency" => {
                let Some(n) = number.filter(|&n| n > 0) else {
                    return;
                };
                let seconds = setting.ends_with("seconds");
                let interval = Interval {
                    secs: if seconds { n } else { n * 86_400 },
                    source: evidence(),
                };
                for h in &holders {
                    let slot = self.intervals.entry(h.clone()).or_default();
                    if seconds {
                        slot.seconds = Some(interval.clone());
                    } else {
                        slot.days = Some(interval.clone());
                    }
                }
            }
            "msipc.template_last_updated" => {
                let (Some(server), Some(time)) = (s("server"), s("time")) else {
                    return;
                };
                let Ok(time) = DateTime::parse_from_rfc3339(time) else {
                    return;
                };
                for h in &holders {
                    self.last_refresh.insert(
                        (h.clone(), server.to_lowercase()),
                        (time.with_timezone(&Utc), evidence()),
                    );
                }
            }
            "msipc.licensing_redirection" => {
                if let Some(from) = s("from_url").and_then(host_of) {
                    self.redirected.insert(from, evidence());
                }
                self.trusted.extend(s("to_url").and_then(host_of));
            }
            "host.computer_name" => {
                self.computer_names
                    .extend(s("data").map(str::to_uppercase).filter(|n| !n.is_empty()));
            }
            "msipc.trusted_server"
            | "msipc.enterprise_certification"
            | "msipc.enterprise_publishing" => {
                self.trusted.extend(s("url").and_then(host_of));
            }
            _ => {}
        }
    }
}

/// A URL's host, or the text itself when it is a bare host name.
fn host_of(url: &str) -> Option<String> {
    url_host(url).or_else(|| {
        let t = url.trim().trim_end_matches('/').to_ascii_lowercase();
        (!t.is_empty() && !t.contains(['/', ' '])).then_some(t)
    })
}

fn hive_name(r: &Value) -> String {
    r.get("path")
        .and_then(Value::as_str)
        .and_then(|p| p.rsplit(['/', '\\']).next())
        .unwrap_or_default()
        .to_string()
}

fn data_text(d: Option<&Value>) -> String {
    match d {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "(not shown)".into(),
        Some(other) => other.to_string(),
    }
}

/// Every label's configuration, by label.
pub type HostConfigs = BTreeMap<String, HostConfig>;

/// Every label's configuration, from its setting records (load once per
/// command: `stale`, `foreign` and the report take it).
pub fn load(idx: &RmsIndex) -> Result<HostConfigs, IndexError> {
    let searcher = crate::searcher(idx)?;
    let q = TermQuery::new(
        Term::from_field_text(idx.fields.kind, "setting"),
        IndexRecordOption::Basic,
    );
    let docs =
        matching(&searcher, &q).map_err(|e| IndexError::Tantivy(idx.dir.clone(), e.to_string()))?;
    let mut out: BTreeMap<String, HostConfig> = BTreeMap::new();
    let mut bad = None;
    for_each_in_order(
        idx,
        &searcher,
        &docs,
        None,
        |_, raw| match serde_json::from_str::<Value>(raw.get()) {
            Ok(r) => {
                let label = r.get("label").and_then(Value::as_str).unwrap_or_default();
                out.entry(label.to_string()).or_default().add(&r);
                ControlFlow::Continue(())
            }
            Err(e) => {
                bad = Some(IndexError::Corrupt(idx.dir.clone(), e.to_string()));
                ControlFlow::Break(())
            }
        },
    )?;
    bad.map_or(Ok(out), Err)
}
