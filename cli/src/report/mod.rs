//! `rmsweep report`: one self-contained HTML page to hand to a client or
//! keep with the case: a summary of what the index holds (hosts, profiles,
//! stores, files by kind, errors, scan times), four charts (issuers, the
//! template timeline, stale records per reason, files per profile; for many
//! hosts also hosts per issuer and hosts with findings) and the
//! inventories behind them. No scripts, no network: inline CSS and SVG,
//! readable offline years later.

mod charts;
mod fleet;
mod html;

use std::path::Path;
use std::process::ExitCode;

use rmsweep_index::history::{self, RunStatus};
use rmsweep_index::reports::{self, Found, IssuerRow, TemplateRow, TrustList};
use rmsweep_index::summary::{self, Overview};
use rmsweep_index::{query, RmsIndex};
use serde_json::Value;

use crate::args::ReportArgs;
use crate::output::column;
use crate::query_cmd::{stale_window, trust_list, RECORD_COLUMNS};
use html::{cell, esc, num, text, time, Page};

/// Headings of the record tables, one per column of [`RECORD_COLUMNS`].
const RECORD_HEADINGS: [html::Col; 7] = [
    text("kind"),
    text("profile or SID"),
    text("name"),
    text("issuer"),
    text("issued"),
    text("valid until"),
    text("path"),
];

/// Bars in the issuer and files-per-profile charts.
const CHART_ROWS: usize = 25;

pub fn run(a: ReportArgs) -> Result<ExitCode, String> {
    let (as_of, window) = stale_window(&a.window)?;
    let trust = trust_list(&a.trust)?;
    if a.out.is_dir() {
        return Err(format!(
            "{}: is a folder; --out takes the HTML file to write, e.g. --out report.html",
            a.out.display()
        ));
    }
    let dir = &a.index.index;
    let idx = RmsIndex::open(dir).map_err(|e| e.to_string())?;
    let e = |e: rmsweep_index::IndexError| e.to_string();
    // Every hit counted; only the rows the tables show read.
    let listed = |found: Found| -> Result<Listed, String> {
        let rows = found.rows(&idx, Some(a.max_rows)).map_err(e)?;
        Ok(Listed { found, rows })
    };
    let runs = history::runs(&idx).map_err(e)?;
    // Never written inside the evidence the index was made from.
    let roots: Vec<std::path::PathBuf> = runs
        .iter()
        .flat_map(|r| r.evidence.iter().map(std::path::PathBuf::from))
        .collect();
    crate::paths::refuse_inside("--out", &a.out, &roots)?;
    // Foreign is judged where something says what is trusted: --trust, or
    // a host's own registry.
    let configs = rmsweep_index::hostconfig::load(&idx).map_err(e)?;
    let host_trust = configs.values().any(|c| !c.trusted.is_empty());
    let mut settings = Vec::new();
    let settings_total = query::search_each(&idx, CONFIGURATION_QUERY, Some(a.max_rows), |r| {
        settings.push(serde_json::from_str(r.get()).unwrap_or(Value::Null));
        std::ops::ControlFlow::Continue(())
    })
    .map_err(e)?;
    let data = Data {
        overview: summary::overview(&idx).map_err(e)?,
        settings,
        settings_total,
        runs,
        templates: reports::templates(&idx).map_err(e)?,
        issuers: reports::issuers(&idx).map_err(e)?,
        stale: listed(reports::stale(&idx, &configs, as_of.timestamp(), window).map_err(e)?)?,
        foreign: if trust.is_empty() && !host_trust {
            None
        } else {
            Some(listed(
                reports::foreign(&idx, &configs, &trust).map_err(e)?,
            )?)
        },
        unreadable: query::search(&idx, "kind:unreadable", Some(a.max_rows))
            .map_err(e)?
            .iter()
            .map(|r| serde_json::from_str(r.get()).unwrap_or(Value::Null))
            .collect(),
    };
    let trust_args = match (&a.trust.trust_file, a.trust.trust.is_empty()) {
        (Some(f), _) => format!(" --trust-file {}", shell_word(&f.to_string_lossy())),
        (None, false) => format!(
            " --trust {}",
            a.trust
                .trust
                .iter()
                .map(|t| shell_word(t))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        (None, true) => String::new(),
    };
    let context = Context {
        index: dir,
        index_arg: format!("--index {}", shell_word(&dir.to_string_lossy())),
        trust_args,
        as_of: as_of.timestamp(),
        as_of_text: as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        older_than: &a.window.older_than,
        trust: &trust,
        max_rows: a.max_rows,
    };
    let page = render(&data, &context)?;
    write_atomically(&a.out, page.as_bytes())?;
    eprintln!(
        "rmsweep: wrote {} ({} files, {} templates, {} stale, {} unreadable)",
        a.out.display(),
        data.overview.total.files,
        data.templates.len(),
        data.stale.found.total,
        data.overview.total.errors
    );
    Ok(ExitCode::SUCCESS)
}

/// The settings the configuration section shows: named ones, not each
/// hive's own record nor unnamed (`other`) values.
const CONFIGURATION_QUERY: &str = "+kind:setting -setting:hive -setting:other";

/// What the report shows, read from the index.
struct Data {
    overview: Overview,
    runs: Vec<history::Run>,
    templates: Vec<TemplateRow>,
    issuers: Vec<IssuerRow>,
    stale: Listed,
    /// With trusted patterns (`--trust` or a host's registry) only.
    foreign: Option<Listed>,
    /// The first registry settings (`CONFIGURATION_QUERY`), and how many there are.
    settings: Vec<Value>,
    settings_total: usize,
    /// The first unreadable records (their number is in the overview).
    unreadable: Vec<Value>,
}

impl Data {
    /// The hosts where `r`'s records are judged foreign (the `foreign` rule:
    /// each host's registry and --trust); 0 when nothing says what is trusted.
    fn foreign_on(&self, r: &IssuerRow) -> usize {
        let (Some(f), Some(key)) = (&self.foreign, r.key()) else {
            return 0;
        };
        f.found.foreign_issuers.get(key).map_or(0, |h| h.len())
    }
}

/// A report's hits and the first of their records.
struct Listed {
    found: Found,
    rows: Vec<Value>,
}

struct Context<'a> {
    index: &'a Path,
    /// `--index DIR`, quoted for a shell: the report's hints are runnable.
    index_arg: String,
    /// ` --trust …` or ` --trust-file F` as given, quoted; empty without.
    trust_args: String,
    as_of: i64,
    as_of_text: String,
    older_than: &'a str,
    trust: &'a TrustList,
    max_rows: usize,
}

/// A word as a POSIX shell reads it: quoted unless it is plain.
/// The hosts a title names: up to three, then how many more (a fleet's
/// thousands of labels are in the hosts table).
fn hosts_named(labels: &[rmsweep_index::summary::LabelSummary]) -> String {
    crate::output::some_hosts(labels.iter().map(|l| l.label.as_str()), 3)
}

fn shell_word(w: &str) -> String {
    let plain = !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:@%+=-,".contains(&b));
    if plain {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// Writes next to `path`, then renames: a reader never sees half a report.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report.html".into());
    let tmp = path.with_file_name(format!(".{name}.writing-{}", std::process::id()));
    let fail = |e: std::io::Error| format!("{}: cannot write the report: {e}", path.display());
    std::fs::write(&tmp, bytes).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}

fn opt(s: &Option<String>) -> String {
    s.as_deref().map(cell).unwrap_or_default()
}

fn opt_time(s: &Option<String>) -> String {
    s.as_deref().map(time).map(|t| esc(&t)).unwrap_or_default()
}

/// An issuer's name in a chart: two issuers of one name (a cluster and a
/// tenant, say) told apart by host or ID, a foreign one marked.
fn issuer_chart_name(r: &IssuerRow, d: &Data) -> String {
    let label = issuer_label(r);
    let twins = d
        .issuers
        .iter()
        .filter(|o| issuer_label(o) == label)
        .count();
    let label = match (&r.issuer_host, &r.issuer_id) {
        (Some(h), _) | (None, Some(h)) if twins > 1 => format!("{label} ({h})"),
        _ => label,
    };
    let mut name = charts::chart_label(&label, 34);
    if d.foreign_on(r) > 0 {
        name.push_str(" (foreign)");
    }
    name
}

fn issuer_label(r: &IssuerRow) -> String {
    r.issuer_name
        .clone()
        .or_else(|| r.issuer_host.clone())
        .or_else(|| r.issuer_id.clone())
        .unwrap_or_else(|| "(no issuer)".into())
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn card(page: &mut Page, label: &str, value: impl std::fmt::Display, bad: bool) {
    let class = if bad { "card bad" } else { "card" };
    page.raw(&format!(
        "<div class=\"{class}\"><b>{}</b>{}</div>",
        esc(&value.to_string()),
        esc(label)
    ));
}

/// Record cells for the record tables, by column name.
fn record_cells(r: &Value, cols: &[&str]) -> Vec<String> {
    cols.iter()
        .map(|c| {
            let v = column(r, c);
            if matches!(*c, "issued" | "valid_until" | "modified") {
                esc(&time(&v))
            } else {
                cell(&v)
            }
        })
        .collect()
}

fn render(d: &Data, cx: &Context) -> Result<String, String> {
    let o = &d.overview;
    let mut page = Page::default();
    let title = format!("rmsweep report: {}", hosts_named(&o.labels));
    let foreign_issuers = d.issuers.iter().filter(|r| d.foreign_on(r) > 0).count();
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

    // Summary.
    page.section("summary", "Summary");
    page.raw("<div class=\"cards\">");
    card(&mut page, "hosts or cases", o.labels.len(), false);
    card(
        &mut page,
        "profiles examined",
        history::profiles_examined(&d.runs) as usize,
        false,
    );
    card(
        &mut page,
        "profiles and service SIDs with records",
        o.total.profiles,
        false,
    );
    card(&mut page, "stores", o.total.stores, false);
    card(&mut page, "store files", o.total.files, false);
    card(&mut page, "read", bytes(o.total.bytes), false);
    card(&mut page, "templates", d.templates.len(), false);
    card(&mut page, "issuers", d.issuers.len(), false);
    card(
        &mut page,
        "stale records",
        d.stale.found.total,
        d.stale.found.total > 0,
    );
    if d.foreign.is_some() {
        card(
            &mut page,
            "foreign issuers",
            foreign_issuers,
            foreign_issuers > 0,
        );
    }
    card(
        &mut page,
        "unreadable files",
        o.total.errors,
        o.total.errors > 0,
    );
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

    // Charts.
    page.section("charts", "Charts");
    let mut by_issuer: Vec<&IssuerRow> = d.issuers.iter().collect();
    by_issuer.sort_by(|a, b| {
        (b.templates, b.profiles)
            .cmp(&(a.templates, a.profiles))
            .then_with(|| issuer_label(a).cmp(&issuer_label(b)))
    });
    let issuer_bars: Vec<(String, u64, u64)> = by_issuer
        .iter()
        .take(CHART_ROWS)
        .map(|r| {
            let name = issuer_chart_name(r, d);
            (name, r.templates as u64, r.profiles as u64)
        })
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
        fleet::charts(&mut page, d)?;
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
    let owner_bars: Vec<(String, u64)> = o
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
            (charts::chart_label(&name, 46), w.files)
        })
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

    // Tables.
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
            // A client access licence: what it says, not its certificate's hex.
            let mut r = r.clone();
            if let (Some(cal), Some(obj)) = (r.get("cal").cloned(), r.as_object_mut()) {
                let f = |k: &str| {
                    cal.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string()
                };
                obj.insert(
                    "data".into(),
                    Value::from(format!(
                        "licence from {} to {}, valid {} to {}",
                        f("cal_issuer"),
                        f("cal_subject"),
                        f("valid_from"),
                        f("valid_until")
                    )),
                );
            }
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
    Ok(page.finish(&title))
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
