//! The report page, section by section: each function writes one part of
//! the page from the data `run` gathered.

use rmsweep_index::history::{self, RunStatus};
use rmsweep_index::reports::IssuerRow;

use super::html::{cell, esc, num, text, time, Page};
use super::*;
use crate::error::CliError;

/// The whole page.
pub(super) fn render(d: &Data, cx: &Context) -> Result<String, CliError> {
    let mut page = Page::default();
    let title = header(&mut page, d, cx);
    summary(&mut page, d, cx);
    charts_section(&mut page, d, cx)?;
    inventories(&mut page, d, cx);
    findings(&mut page, d, cx);
    configuration(&mut page, d, cx);
    history_section(&mut page, d, cx);
    Ok(page.finish(&title))
}

/// The title, what the page was made from, and the navigation; returns the title.
fn header(page: &mut Page, d: &Data, cx: &Context) -> String {
    let o = &d.overview;
    let title = format!("rmsweep report: {}", hosts_named(&o.labels));
    page.raw(&format!("<h1>{}</h1>\n", esc(&title)));
    page.raw(&format!(
        "<p class=\"meta\">Generated {} by rmsweep {} from the index <code>{}</code>. Stale and expired as of {} (not refreshed: untouched for {}).{}</p>\n",
        esc(&time(&now_rfc3339())),
        env!("CARGO_PKG_VERSION"),
        esc(&cx.index.display().to_string()),
        esc(&time(&cx.as_of_text)),
        esc(cx.older_than),
        if cx.trust.is_empty() && d.foreign.is_some() {
            " No trusted issuers given (--trust): foreign records are judged by each host's own registry configuration.".to_string()
        } else if cx.trust.is_empty() {
            " No trusted issuers given (--trust), and no host's registry names any: nothing is marked foreign.".to_string()
        } else {
            let unmatched = d.foreign.as_ref().map(|f| f.found.unmatched_trust.as_slice());
            let note = crate::query_cmd::unmatched_trust_note(unmatched.unwrap_or_default());
            format!(
                " Trusted issuers: {}.{}",
                esc(&cx.trust.patterns().join(", ")),
                note.map(|n| format!(" <strong>{}.</strong>", esc(&n))).unwrap_or_default()
            )
        }
    ));
    page.raw("<nav><a href=\"#summary\">Summary</a><a href=\"#charts\">Charts</a><a href=\"#templates\">Templates</a><a href=\"#issuers\">Issuers</a><a href=\"#stale\">Stale</a>");
    if d.foreign.is_some() {
        page.raw("<a href=\"#foreign\">Foreign</a>");
    }
    page.raw("<a href=\"#configuration\">Configuration</a><a href=\"#unreadable\">Unreadable</a><a href=\"#scans\">Scans</a></nav>\n");

    title
}

/// Cards and the per-host table.
fn summary(page: &mut Page, d: &Data, cx: &Context) {
    let o = &d.overview;
    let foreign_issuers = d.issuers.iter().filter(|r| d.foreign_on(r) > 0).count();
    page.section("summary", "Summary");
    page.raw("<div class=\"cards\">");
    card(page, "hosts or cases", o.labels.len(), false);
    card(
        page,
        "profiles examined",
        history::profiles_examined(&d.runs) as usize,
        false,
    );
    card(
        page,
        "profiles and service SIDs with records",
        o.total.profiles,
        false,
    );
    card(page, "stores", o.total.stores, false);
    card(page, "store files", o.total.files, false);
    card(page, "read", bytes(o.total.bytes), false);
    card(page, "templates", d.templates.len(), false);
    card(page, "issuers", d.issuers.len(), false);
    card(
        page,
        "stale records",
        d.stale.found.total,
        d.stale.found.total > 0,
    );
    if d.foreign.is_some() {
        card(
            page,
            "foreign issuers",
            foreign_issuers,
            foreign_issuers > 0,
        );
    }
    card(page, "unreadable files", o.total.errors, o.total.errors > 0);
    page.raw("</div>\n");
    page.table(
        "labels",
        &[
            text("host or case"),
            num("files"),
            num("profiles and SIDs"),
            num("stores"),
            num("size"),
            num("unreadable"),
        ],
        o.labels.iter().map(|l| {
            vec![
                cell(&l.label),
                l.files.to_string(),
                l.profiles.to_string(),
                l.stores.to_string(),
                esc(&bytes(l.bytes)),
                l.errors.to_string(),
            ]
        }),
        o.labels.len(),
        cx.max_rows,
        "rmsweep export --format csv",
    );
    page.raw("<h3>Files by kind</h3>\n");
    page.table(
        "kinds",
        &[text("kind"), num("files")],
        o.kinds.iter().map(|(k, n)| vec![cell(k), n.to_string()]),
        o.kinds.len(),
        cx.max_rows,
        &format!("rmsweep search 'kind:KIND' --all {}", cx.index_arg),
    );
}

/// The charts (and, for many hosts, the fleet charts).
fn charts_section(page: &mut Page, d: &Data, cx: &Context) -> Result<(), CliError> {
    let o = &d.overview;
    page.section("charts", "Charts");
    let mut by_issuer: Vec<&IssuerRow> = d.issuers.iter().collect();
    by_issuer.sort_by(|a, b| {
        (b.templates, b.profiles)
            .cmp(&(a.templates, a.profiles))
            .then_with(|| issuer_label(a).cmp(&issuer_label(b)))
    });
    let shown: Vec<&IssuerRow> = by_issuer.iter().take(CHART_ROWS).copied().collect();
    let issuer_bars: Vec<(String, u64, u64)> = issuer_chart_names(&shown, d)
        .into_iter()
        .zip(&shown)
        .map(|(name, r)| (name, r.templates as u64, r.profiles as u64))
        .collect();
    page.figure(
        "chart-issuers",
        &charts::issuers(&issuer_bars)?,
        &format!(
            "Issuers by distinct templates issued and by profiles or service SIDs holding anything they issued ({} of {} issuers, most templates first).",
            issuer_bars.len(),
            d.issuers.len()
        ),
    );
    if o.labels.len() > 1 {
        fleet::charts(page, d)?;
    }
    let dates: Vec<(Option<i64>, Option<i64>)> = o
        .revisions
        .iter()
        .map(|r| (r.issued, r.content_expiry))
        .collect();
    let timeline = charts::timeline(&dates, cx.as_of)?;
    let mut caption = format!(
        "Distinct template revisions ({}) by the {} they were issued and the {} their protected content expires; the grey line is the as-of date.",
        dates.len(),
        timeline.bin,
        timeline.bin
    );
    if timeline.outside > 0 {
        caption.push_str(&format!(
            " {} dates outside 1990–2100 are not drawn.",
            timeline.outside
        ));
    }
    page.figure("chart-timeline", &timeline.svg, &caption);
    let reasons: Vec<(String, u64)> = d
        .stale
        .found
        .by_reason
        .iter()
        .map(|(r, n)| (r.replace('_', " "), *n as u64))
        .collect();
    page.figure(
        "chart-stale",
        &charts::bars("Stale records per reason", &reasons, charts::VERMILION)?,
        "Stale records per reason (a record may have several): not refreshed (a managed template file untouched for longer than the window), superseded (a newer revision of the template exists), expired (certificate validity or content expiry passed).",
    );
    let owner_names: Vec<String> = o
        .owners
        .iter()
        .take(CHART_ROWS)
        .map(|w| {
            let who = if w.owner.is_empty() {
                "(machine-wide)"
            } else {
                w.owner.as_str()
            };
            let name = if o.labels.len() > 1 {
                format!("{}: {who}", w.label)
            } else {
                who.to_string()
            };
            name
        })
        .collect();
    let owner_bars: Vec<(String, u64)> = charts::chart_labels(&owner_names, 46)
        .into_iter()
        .zip(o.owners.iter())
        .map(|(name, w)| (name, w.files))
        .collect();
    page.figure(
        "chart-profiles",
        &charts::bars(
            "Store files per profile or service SID",
            &owner_bars,
            charts::BLUE,
        )?,
        &format!(
            "Store files per profile or service SID ({} of {}, most files first).",
            owner_bars.len(),
            o.owners.len()
        ),
    );

    Ok(())
}

/// The template and issuer inventories.
fn inventories(page: &mut Page, d: &Data, cx: &Context) {
    page.section("templates", "Template inventory");
    page.table(
        "templates",
        &[
            text("name"),
            text("template ID"),
            text("issuer"),
            text("issuer host"),
            num("stores"),
            num("profiles"),
            num("hosts"),
            num("revisions"),
            text("newest issued"),
            text("newest file modified"),
        ],
        d.templates.iter().map(|t| {
            vec![
                opt(&t.name),
                opt(&t.template_id),
                opt(&t.issuer_name),
                opt(&t.issuer_host),
                t.stores.to_string(),
                t.profiles.to_string(),
                t.hosts.to_string(),
                t.revisions.to_string(),
                opt_time(&t.newest_issued),
                opt_time(&t.newest_modified),
            ]
        }),
        d.templates.len(),
        cx.max_rows,
        "rmsweep templates --format csv",
    );

    page.section("issuers", "Issuers");
    if d.foreign.is_none() {
        page.para("Give the trusted issuers (--trust) to have the others marked foreign.");
    }
    let issuer_rows = d.issuers.iter().map(|r| {
        let mut name = opt(&r.issuer_name);
        let on = d.foreign_on(r);
        if on > 0 && on < r.hosts {
            name.push_str(&format!(
                " <span class=\"tag\">foreign on {on} of {} hosts</span>",
                r.hosts
            ));
        } else if on > 0 {
            name.push_str(" <span class=\"tag\">foreign</span>");
        }
        vec![
            name,
            opt(&r.issuer_host),
            opt(&r.issuer_kind),
            opt(&r.region),
            r.templates.to_string(),
            r.licenses.to_string(),
            r.profiles.to_string(),
            r.hosts.to_string(),
            opt(&r.tenant_id),
            opt(&r.issuer_id),
        ]
    });
    page.table(
        "issuers",
        &[
            text("issuer"),
            text("host"),
            text("kind"),
            text("region"),
            num("templates"),
            num("licences"),
            num("profiles"),
            num("hosts"),
            text("tenant ID"),
            text("issuer ID"),
        ],
        issuer_rows,
        d.issuers.len(),
        cx.max_rows,
        "rmsweep issuers --format csv",
    );
}

/// Stale and foreign records.
fn findings(page: &mut Page, d: &Data, cx: &Context) {
    let o = &d.overview;
    page.section("stale", "Stale records");
    // Record tables name the host where the index holds several.
    let (mut cols, mut headings) = (Vec::new(), Vec::new());
    if o.labels.len() > 1 {
        cols.push("label");
        headings.push(text("host"));
    }
    cols.extend(RECORD_COLUMNS);
    headings.extend(RECORD_HEADINGS);
    let stale_cols = [&["reasons"][..], &cols].concat();
    page.table(
        "stale",
        &[&[text("reasons")][..], &headings].concat(),
        d.stale.rows.iter().map(|r| record_cells(r, &stale_cols)),
        d.stale.found.total,
        cx.max_rows,
        &format!(
            "rmsweep stale --as-of {} --older-than {} --format csv {}",
            cx.as_of_text,
            shell_word(cx.older_than),
            cx.index_arg
        ),
    );

    if let Some(foreign) = &d.foreign {
        page.section("foreign", "Records from foreign issuers");
        page.table(
            "foreign",
            &headings,
            foreign.rows.iter().map(|r| record_cells(r, &cols)),
            foreign.found.total,
            cx.max_rows,
            &format!(
                "rmsweep foreign{} --format csv {}",
                cx.trust_args, cx.index_arg
            ),
        );
    }
}

/// The registry settings.
fn configuration(page: &mut Page, d: &Data, cx: &Context) {
    page.section("configuration", "Configuration (registry)");
    page.para("Per host and profile, as the hives on the evidence say: template refresh interval and last refresh per server, service locations, trusted servers, licensing redirections, Remote Desktop licensing mode, licence servers, grace period key (its data is never shown), client access licences.");
    page.table(
        "configuration",
        &[
            text("host"),
            text("profile"),
            text("sid"),
            text("setting"),
            text("data"),
            text("server"),
            text("meaning"),
            text("key last write"),
            text("recovered"),
        ],
        d.settings.iter().map(|r| {
            let mut r = r.clone();
            crate::cal::summarise(&mut r);
            record_cells(
                &r,
                &[
                    "label",
                    "profile",
                    "sid",
                    "setting",
                    "data",
                    "server",
                    "meaning",
                    "key_last_write",
                    "recovered",
                ],
            )
        }),
        d.settings_total,
        cx.max_rows,
        &format!("rmsweep settings --format csv {}", cx.index_arg),
    );
}

/// Unreadable files and the index's scan history.
fn history_section(page: &mut Page, d: &Data, cx: &Context) {
    let o = &d.overview;
    page.section("unreadable", "Unreadable files");
    page.table(
        "unreadable",
        &[text("path"), text("error"), num("size"), text("modified")],
        d.unreadable
            .iter()
            .map(|r| record_cells(r, &["path", "error", "size", "modified"])),
        o.total.errors as usize,
        cx.max_rows,
        &format!(
            "rmsweep search kind:unreadable --all --format csv {}",
            cx.index_arg
        ),
    );

    page.section("scans", "Scans of this index");
    page.table(
        "scans",
        &[
            text("command"),
            text("read"),
            text("label"),
            text("started"),
            text("last commit"),
            text("status"),
            num("profiles examined"),
            num("records written"),
            num("removed"),
            text("rmsweep"),
        ],
        d.runs.iter().rev().map(|r| {
            vec![
                esc(&r.command),
                cell(&r.sources.join(", ")),
                opt(&r.label),
                esc(&time(&r.started)),
                opt_time(&r.committed),
                esc(match r.status {
                    RunStatus::Complete => "complete",
                    RunStatus::Interrupted => "interrupted (what was read is committed)",
                    RunStatus::Incomplete => "incomplete (killed; the index holds its last commit)",
                }),
                r.profiles_examined
                    .map_or_else(|| "".to_string(), |n| n.to_string()),
                r.upserted.to_string(),
                r.deleted.to_string(),
                esc(&r.rmsweep_version),
            ]
        }),
        d.runs.len(),
        cx.max_rows,
        "(the index keeps the last 1000 runs)",
    );
}
