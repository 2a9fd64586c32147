//! The report's charts for an index of many hosts (a fleet sweep): how
//! many hosts hold what each issuer issued, and how many hosts hold stale
//! or foreign-issued records. Per-record charts say little across
//! thousands of hosts; these say where to look first.

use std::collections::BTreeSet;

use rmsweep_index::reports::IssuerRow;

use super::{charts, issuer_chart_name, issuer_chart_names, Data, CHART_ROWS};
use crate::error::CliError;
use crate::report::html::Page;

/// The fleet charts, drawn when the index holds more than one host.
pub(super) fn charts(page: &mut Page, d: &Data) -> Result<(), CliError> {
    let hosts = d.overview.labels.len();
    let mut by_hosts: Vec<&IssuerRow> = d.issuers.iter().collect();
    by_hosts.sort_by(|a, b| {
        b.hosts
            .cmp(&a.hosts)
            .then_with(|| issuer_chart_name(a, d).cmp(&issuer_chart_name(b, d)))
    });
    let shown: Vec<&IssuerRow> = by_hosts.iter().take(CHART_ROWS).copied().collect();
    let bars: Vec<(String, u64)> = issuer_chart_names(&shown, d)
        .into_iter()
        .zip(&shown)
        .map(|(name, r)| (name, r.hosts as u64))
        .collect();
    page.figure(
        "chart-hosts-per-issuer",
        &charts::bars("Hosts per issuer", &bars, charts::BLUE)?,
        &format!(
            "Hosts holding anything each issuer issued ({} of {} issuers, most hosts first; {hosts} hosts in all).",
            bars.len(),
            d.issuers.len()
        ),
    );
    let findings = with_findings(d);
    page.figure(
        "chart-hosts-with-findings",
        &charts::bars("Hosts with stale or foreign records", &findings, charts::VERMILION)?,
        &format!(
            "Hosts holding at least one record of each kind of finding, of {hosts} hosts. Foreign is counted only where trusted issuers are known (--trust or a host's registry)."
        ),
    );
    Ok(())
}

/// Hosts per finding: each stale reason, any stale record, a foreign issuer.
fn with_findings(d: &Data) -> Vec<(String, u64)> {
    let stale = &d.stale.found.hosts_by_reason;
    let mut rows: Vec<(String, u64)> = stale
        .iter()
        .map(|(reason, h)| {
            (
                format!("stale: {}", reason.replace('_', " ")),
                h.len() as u64,
            )
        })
        .collect();
    let any: BTreeSet<&String> = stale.values().flatten().collect();
    rows.push(("any stale record".into(), any.len() as u64));
    if let Some(foreign) = &d.foreign {
        let hosts = foreign.found.hosts_by_reason.values().flatten().count();
        rows.push(("foreign issuer".into(), hosts as u64));
    }
    rows
}
