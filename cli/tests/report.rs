//! `rmsweep report`: the numbers on the page are the volume's, evidence
//! values are escaped, and the page renders in headless Chromium with its
//! four charts and no console errors.

mod browser;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use rmsweep_fixtures::{write_adversarial, write_volume, Expect, VolumeSpec, SERVER_SIDS};
use serde_json::{json, Value};

fn rmsweep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rmsweep"))
        .args(args)
        .output()
        .unwrap()
}

/// The sample world's date, and its own AD RMS clusters as the trusted issuers.
const JUDGED_AS_OF_THE_SAMPLE: &[&str] = &[
    "--as-of",
    "2025-06-01",
    "--trust",
    "contoso.com",
    "fabrikam.local",
];

/// Scans `volume` into `idx` and writes the report; returns the page.
fn scan_and_report(volume: &Path, idx: &Path, out: &Path, extra: &[&str]) -> String {
    let scan = rmsweep(&[
        "scan",
        volume.to_str().unwrap(),
        "--index",
        idx.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(matches!(scan.status.code(), Some(0 | 2)), "{scan:?}");
    let mut args = vec![
        "report",
        "--index",
        idx.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let report = rmsweep(&args);
    assert_eq!(report.status.code(), Some(0), "{report:?}");
    std::fs::read_to_string(out).unwrap()
}

/// The number on the summary card labelled `label`.
fn card(html: &str, label: &str) -> String {
    let end = html
        .find(&format!("</b>{label}</div>"))
        .unwrap_or_else(|| panic!("no card {label:?}"));
    let start = html[..end].rfind("<b>").unwrap() + 3;
    html[start..end].to_string()
}

/// The body rows of the table of class `class`, as cell texts.
fn table(html: &str, class: &str) -> Vec<Vec<String>> {
    let Some(start) = html.find(&format!("<table class=\"{class}\">")) else {
        return Vec::new();
    };
    let body = &html[start..];
    let body = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|c| {
                    let c = &c[c.find('>').unwrap() + 1..];
                    c[..c.find("</td>").unwrap()].to_string()
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_report_counts_what_the_volume_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let volume = tmp.path().join("HOST-A");
    let m = write_volume(&volume, &VolumeSpec::sample()).unwrap();
    let (idx, out) = (tmp.path().join("idx"), tmp.path().join("report.html"));
    let html = scan_and_report(&volume, &idx, &out, JUDGED_AS_OF_THE_SAMPLE);

    let owners: BTreeSet<&str> = m
        .profiles
        .iter()
        .map(String::as_str)
        .chain(SERVER_SIDS)
        .collect();
    let stores: BTreeSet<&str> = m
        .files
        .iter()
        .map(|f| f.rel_path.rsplit_once('/').unwrap().0)
        .collect();
    let template_ids: BTreeSet<&str> = m
        .files
        .iter()
        .filter(|f| f.kind == "template")
        .filter_map(|f| f.template_id.as_deref())
        .collect();
    assert_eq!(card(&html, "hosts or cases"), "1");
    assert_eq!(card(&html, "store files"), m.files.len().to_string());
    assert_eq!(
        card(&html, "profiles and service SIDs with records"),
        owners.len().to_string()
    );
    // Every profile the scan looked at, with or without a store.
    assert_eq!(
        card(&html, "profiles examined"),
        m.profiles.len().to_string()
    );
    assert_eq!(card(&html, "stores"), stores.len().to_string());
    assert_eq!(card(&html, "templates"), template_ids.len().to_string());
    assert_eq!(card(&html, "unreadable files"), "0");
    assert_eq!(
        table(&html, "labels")[0][..2],
        ["HOST-A".to_string(), m.files.len().to_string()]
    );
    for row in table(&html, "kinds") {
        let n = m.count(|f| f.kind == row[0]);
        assert_eq!(row[1], n.to_string(), "kind {}", row[0]);
    }
    assert_eq!(table(&html, "templates").len(), template_ids.len());

    // The tables agree with the commands an examiner would run.
    let json = |args: &[&str]| -> Vec<Value> {
        let mut a = args.to_vec();
        a.extend(["--index", idx.to_str().unwrap(), "--format", "json"]);
        serde_json::from_slice(&rmsweep(&a).stdout).unwrap()
    };
    let stale = json(&["stale", "--as-of", "2025-06-01"]);
    let foreign = json(&["foreign", "--trust", "contoso.com", "fabrikam.local"]);
    let issuers = json(&["issuers"]);
    assert_eq!(card(&html, "stale records"), stale.len().to_string());
    assert_eq!(table(&html, "stale").len(), stale.len());
    assert_eq!(table(&html, "foreign").len(), foreign.len());
    assert!(!foreign.is_empty());
    let tagged = table(&html, "issuers")
        .iter()
        .filter(|r| r[0].contains("class=\"tag\">foreign"))
        .count();
    assert_eq!(card(&html, "foreign issuers"), tagged.to_string());
    assert_eq!(table(&html, "issuers").len(), issuers.len());

    // Four charts, each an inline SVG; the scan that wrote the index is listed.
    for id in [
        "chart-issuers",
        "chart-timeline",
        "chart-stale",
        "chart-profiles",
    ] {
        assert!(html.contains(&format!("<figure id=\"{id}\"><svg")), "{id}");
    }
    let scans = table(&html, "scans");
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0][0], "scan");
    assert_eq!(scans[0][5], "complete");
    assert_eq!(scans[0][6], m.profiles.len().to_string());
    assert_eq!(scans[0][7], m.files.len().to_string());
    // Self-contained: nothing is fetched, nothing runs.
    for banned in ["<script", "http://", "https://", "<link", "src=\""] {
        let outside_svg_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(!outside_svg_ns.contains(banned), "{banned}");
    }
}

#[test]
fn evidence_values_are_escaped_and_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let volume = tmp.path().join("vol");
    let cases = write_adversarial(&volume, 6).unwrap();
    let (idx, out) = (tmp.path().join("idx"), tmp.path().join("report.html"));
    let html = scan_and_report(&volume, &idx, &out, &["--as-of", "2025-06-01"]);
    // The template named `<script>alert(1)</script>=HYPERLINK("x")` ESC [31m BEL.
    assert!(html
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;=HYPERLINK(&quot;x&quot;)\\x1b[31m\\x07"));
    assert!(!html.contains("<script"));
    assert!(!html.contains('\u{1b}') && !html.contains('\u{7}'));
    // The 1 MB name is cut in the inventory.
    assert!(html.contains("<span class=\"cut\">… ("));
    assert!(html.len() < 1_000_000, "{} bytes", html.len());
    let unreadable = cases
        .iter()
        .filter(|c| matches!(c.expect, Expect::Unreadable(_)))
        .count();
    assert_eq!(card(&html, "unreadable files"), unreadable.to_string());
    assert_eq!(table(&html, "unreadable").len(), unreadable);
}

#[test]
fn a_scan_killed_after_a_commit_shows_as_incomplete() {
    // The history is in the commit payload: what the last commit says of the
    // run is what the report shows, even when no final commit came.
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let index = rmsweep_index::RmsIndex::open_or_create(&idx).unwrap();
    let run =
        rmsweep_index::history::Run::new("scan", vec!["/evidence".into()], Some("case-7".into()));
    let mut session = rmsweep_index::IndexSession::start(&index, 1, run).unwrap();
    session.commit().unwrap();
    // Wait for the commit to land, then abandon the session as a SIGKILL would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while rmsweep_index::history::runs(&index).unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the commit never landed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::mem::forget(session);
    let out = tmp.path().join("r.html");
    let r = rmsweep(&[
        "report",
        "--index",
        idx.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(0), "{r:?}");
    let scans = table(&std::fs::read_to_string(&out).unwrap(), "scans");
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0][..3], ["scan", "/evidence", "case-7"]);
    assert_eq!(
        scans[0][5],
        "incomplete (killed; the index holds its last commit)"
    );
}

#[test]
fn the_report_renders_in_headless_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sample-volume");
    let (idx, out) = (tmp.path().join("idx"), tmp.path().join("report.html"));
    scan_and_report(&sample, &idx, &out, JUDGED_AS_OF_THE_SAMPLE);

    let mut b = browser::Browser::launch(&browser::chromium(), tmp.path());
    let s = b.open_page(&format!("file://{}", out.display()), 1280);
    let s = Some(s.as_str());
    let probe = r#"JSON.stringify({
        title: document.title,
        charts: [...document.querySelectorAll('figure svg')].map(svg => ({
            id: svg.parentElement.id,
            width: Math.round(svg.getBoundingClientRect().width),
            bars: svg.querySelectorAll('rect').length,
            labels: svg.querySelectorAll('text').length,
        })),
        tables: document.querySelectorAll('table').length,
        height: document.documentElement.scrollHeight,
    })"#;
    let r = b.call(
        s,
        "Runtime.evaluate",
        json!({"expression": probe, "returnByValue": true}),
    );
    let page: Value = serde_json::from_str(r["result"]["value"].as_str().unwrap()).unwrap();
    assert_eq!(page["title"], "rmsweep report: sample-volume");
    let charts = page["charts"].as_array().unwrap();
    let ids: Vec<&str> = charts.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "chart-issuers",
            "chart-timeline",
            "chart-stale",
            "chart-profiles"
        ]
    );
    for c in charts {
        assert!(c["width"].as_u64().unwrap() >= 600, "{c}");
        // Bars beyond the background rectangle, and axis labels.
        assert!(c["bars"].as_u64().unwrap() > 2, "{c}");
        assert!(c["labels"].as_u64().unwrap() > 3, "{c}");
    }
    // Labels, kinds, templates, issuers, stale, foreign, scans (no unreadable files).
    assert_eq!(page["tables"], 7);
    assert_eq!(b.errors(), Vec::<String>::new(), "console errors");

    // The top of the page (summary and charts), as the README shows it.
    let height = page["height"].as_u64().unwrap().min(2600);
    let shot = b.call(
        s,
        "Page.captureScreenshot",
        json!({"format": "png", "captureBeyondViewport": true,
        "clip": {"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1}}),
    );
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert_eq!(width, 1280);
    let saved = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    std::fs::write(&saved, &png).unwrap();
    eprintln!("screenshot: {}", saved.display());
}

#[test]
fn the_browser_check_sees_console_errors() {
    // The no-errors check above could pass vacuously if errors never reached
    // it: a page that breaks its own Content-Security-Policy twice must
    // report exactly two errors.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bad.html");
    std::fs::write(&out, "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"></head><body><script>document.title = 'ran'</script><img src=\"http://example.invalid/x.png\"></body></html>").unwrap();
    let mut b = browser::Browser::launch(&browser::chromium(), tmp.path());
    let s = b.open_page(&format!("file://{}", out.display()), 800);
    let title = b.call(
        Some(&s),
        "Runtime.evaluate",
        json!({"expression": "document.title", "returnByValue": true}),
    );
    assert_eq!(title["result"]["value"], "");
    let errors = b.errors();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors.iter().all(|e| e.contains("Content Security Policy")));
}

#[test]
fn long_tables_stop_at_max_rows_and_say_how_to_get_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sample-volume");
    let (idx, out) = (tmp.path().join("idx"), tmp.path().join("report.html"));
    let mut args = JUDGED_AS_OF_THE_SAMPLE.to_vec();
    args.extend(["--max-rows", "2"]);
    let html = scan_and_report(&sample, &idx, &out, &args);
    let stale = card(&html, "stale records");
    assert!(stale.parse::<usize>().unwrap() > 2);
    assert_eq!(table(&html, "stale").len(), 2);
    assert_eq!(table(&html, "templates").len(), 2);
    // The hint is a command to run as it stands: with this index.
    assert!(html.contains(&format!(
        "Showing 2 of {stale} rows; all of them: <code>rmsweep stale --as-of 2025-06-01T00:00:00Z --older-than 30d --format csv --index {}</code>",
        idx.display()
    )), "{html}");
    assert!(
        html.contains(&format!(
        "<code>rmsweep foreign --trust contoso.com fabrikam.local --format csv --index {}</code>",
        idx.display()
    )),
        "{html}"
    );
}

#[test]
fn a_merged_index_keeps_every_host_scan_history() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sample-volume");
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    for (label, idx) in [("HOST-A", p("a")), ("HOST-B", p("b"))] {
        let scan = rmsweep(&[
            "scan",
            sample.to_str().unwrap(),
            "--index",
            &idx,
            "--label",
            label,
            "--quiet",
        ]);
        assert_eq!(scan.status.code(), Some(0));
    }
    let merge = rmsweep(&["merge", "--index", &p("all"), &p("a"), &p("b")]);
    assert_eq!(merge.status.code(), Some(0), "{merge:?}");
    let out = tmp.path().join("r.html");
    let r = rmsweep(&[
        "report",
        "--index",
        &p("all"),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(0));
    let scans = table(&std::fs::read_to_string(&out).unwrap(), "scans");
    // Newest first: the merge, then each host's scan.
    let rows: Vec<(&str, &str, &str)> = scans
        .iter()
        .map(|r| (r[0].as_str(), r[2].as_str(), r[5].as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("merge", "", "complete"),
            ("scan", "HOST-B", "complete"),
            ("scan", "HOST-A", "complete")
        ]
    );
    // The merge examined no profile; it wrote every record again.
    assert_eq!(scans[0][6], "");
    assert_eq!(scans[0][7], "158");
}

/// The texts of the chart figure `id`, in the order the SVG draws them.
fn chart_texts(html: &str, id: &str) -> Vec<String> {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no figure {id}"));
    let figure = &html[start..start + html[start..].find("</figure>").unwrap()];
    figure
        .split("<text")
        .skip(1)
        .map(|t| {
            let t = &t[t.find('>').unwrap() + 1..];
            t[..t.find("</text>").unwrap()].trim().to_string()
        })
        .collect()
}

#[test]
fn a_report_over_a_hunt_counts_hosts_per_issuer_and_with_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let hunt = rmsweep_fixtures::collections::zip(rmsweep_fixtures::collections::HUNT);
    let page = scan_and_report(
        &hunt,
        &tmp.path().join("idx"),
        &tmp.path().join("r.html"),
        &["--as-of", "2026-06-01", "--trust", "fabrikam.local"],
    );
    // Bars are listed bottom-up, their values top-down.
    assert_eq!(
        chart_texts(&page, "chart-hosts-per-issuer"),
        [
            "Hosts per issuer",
            "Microsoft DRM Production Desktop …",
            "CONTOSO-RMS (foreign)",
            "",
            "0",
            "1",
            "2",
            "3",
            "4",
            "3",
            "1"
        ]
    );
    assert_eq!(
        chart_texts(&page, "chart-hosts-with-findings"),
        [
            "Hosts with stale or foreign records",
            "foreign issuer",
            "any stale record",
            "stale: not refreshed",
            "stale: expired",
            "",
            "0",
            "1",
            "2",
            "3",
            "4",
            "3",
            "3",
            "3",
            // WS04-C.0123…'s own registry trusts CONTOSO-RMS.
            "2"
        ]
    );
    // Record tables name the host.
    let stale = table(&page, "stale");
    assert_eq!(stale.len(), 18);
    // The path as its store and file, the whole path on hover.
    let path = stale[0].last().unwrap();
    let whole = format!(
        "{}/WS04-C.0123456789abcdef/uploads/auto/C%3A/Users/frank%20smith/AppData/Local/Microsoft/MSIPC/CLC-",
        hunt.canonicalize().unwrap().display()
    );
    assert!(
        path.starts_with(&format!("<span title=\"{whole}"))
            && path.contains("\">msipc/licenses/CLC-{Ca4Pq+o07QP5DwQxUkotsRwBVkM=}"),
        "{path}"
    );
    let hosts: BTreeSet<&str> = stale.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        hosts,
        BTreeSet::from(["WS04-C.0123456789abcdef", "WS04-C.fedcba9876543210", "WS07"])
    );
    let foreign = table(&page, "foreign");
    let hosts: BTreeSet<&str> = foreign.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(hosts, BTreeSet::from(["WS04-C.fedcba9876543210", "WS07"]));
}
