//! Damaged and hostile input: every case becomes an `unreadable` record or a
//! record with anomalies, never a panic. Built from the committed sample
//! volume so the suite needs nothing outside the repository.

use std::path::Path;

use rmsweep_scanner::parse::{parse_store_file, Anomaly, ChainCache, Content, Kind, NameTable};

fn sample(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/sample-volume")
            .join(rel),
    )
    .unwrap()
}

/// A real-shaped RAC chain (5 documents, UTF-16LE, trailing NUL).
fn rac() -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/sample-volume/Users/bob.V6/AppData/Local/Microsoft/MSIPC");
    let gic = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("GIC-"))
        .unwrap();
    std::fs::read(gic).unwrap()
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

fn parse(bytes: &[u8]) -> Content {
    parse_store_file(bytes, &ChainCache::new(), None, NameTable::Msipc)
}

/// Byte offsets (UTF-16LE) where each `<XrML` starts.
fn doc_starts(bytes: &[u8]) -> Vec<usize> {
    let pat = utf16("<XrML");
    (0..bytes.len() - pat.len())
        .filter(|&i| i % 2 == 0 && bytes[i..].starts_with(&pat))
        .collect()
}

fn template() -> String {
    let b = sample("ProgramData/Microsoft/MSIPC/Server/UnmanagedTemplates/S-1-5-21-1004336348-1177238915-682003330-1105/Woodgrove-Confidential.xml");
    String::from_utf8(b).unwrap()
}

#[test]
fn truncated_at_every_chain_boundary() {
    let full = rac();
    let starts = doc_starts(&full);
    assert_eq!(starts.len(), 5);
    for (k, &at) in starts.iter().enumerate().skip(1) {
        // Cut exactly between documents: a shorter but intact chain.
        let c = parse(&full[..at]);
        assert_eq!(
            (c.kind, c.documents, c.anomalies.clone()),
            (Kind::Rac, k, vec![]),
            "cut before document {k}"
        );
        // Cut 100 bytes into the next document: it is damaged and truncated.
        let c = parse(&full[..at + 100]);
        assert_eq!(c.kind, Kind::Rac);
        assert_eq!(c.documents, k + 1);
        assert_eq!(
            c.anomalies,
            vec![Anomaly::TruncatedDocument, Anomaly::ChainDocumentDamaged],
            "cut inside document {k}"
        );
    }
    // Cut inside the leaf: what was read before the cut is kept.
    let c = parse(&full[..starts[1] / 2]);
    assert_eq!(c.kind, Kind::Rac);
    assert_eq!(c.principal.as_deref(), Some("bob@fabrikam.local"));
    assert!(
        c.anomalies.contains(&Anomaly::TruncatedDocument)
            && c.anomalies.contains(&Anomaly::MissingSignature),
        "{:?}",
        c.anomalies
    );
    // An odd byte count cuts a UTF-16 code unit in half.
    let c = parse(&full[..full.len() - 3]);
    assert_eq!(c.kind, Kind::Rac);
    assert!(
        c.anomalies.contains(&Anomaly::InvalidEncoding),
        "{:?}",
        c.anomalies
    );
}

#[test]
fn junk_empty_and_not_xrml() {
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let c = parse(&junk);
    assert_eq!(c.kind, Kind::Unreadable);
    assert_eq!(
        c.error.as_deref(),
        Some("no XrML document found: not an RMS license or template file")
    );
    let c = parse(b"");
    assert_eq!(
        (c.kind, c.error.as_deref()),
        (Kind::Unreadable, Some("empty file (0 bytes)"))
    );
    let c = parse(b"<html><body>not a template</body></html>");
    assert_eq!(c.kind, Kind::Unreadable);
    let c = parse(b"<XrML version=\"1.2\"></XrML>");
    assert_eq!(
        (c.kind, c.error.as_deref()),
        (
            Kind::Unreadable,
            Some("the first XrML document has no BODY")
        )
    );
    let c = parse(b"<XrML><BODY type=\"Microsoft Official Rights Template\"><ISSUEDTIME>20");
    assert_eq!(c.kind, Kind::Template);
    assert_eq!(
        c.anomalies,
        vec![Anomaly::TruncatedDocument, Anomaly::MissingSignature]
    );
}

#[test]
fn deep_nesting_is_cut_off() {
    let mut s = String::from("<XrML><BODY type=\"Microsoft Official Rights Template\">");
    s.push_str(&"<DESCRIPTOR>".repeat(200_000));
    let c = parse(s.as_bytes());
    assert_eq!(c.kind, Kind::Template);
    assert_eq!(
        c.anomalies,
        vec![
            Anomaly::TruncatedDocument,
            Anomaly::NestingTooDeep,
            Anomaly::MissingSignature
        ]
    );
}

#[test]
fn entity_bombs_are_never_expanded_or_fetched() {
    let t = template();
    let body = t.split_once("<XrML").unwrap().1;
    let laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE XrML [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]><XrML{}",
        body.replacen("<NAME>", "<NAME>&lol3;", 1)
    );
    let c = parse(laughs.as_bytes());
    assert_eq!(c.kind, Kind::Template);
    assert_eq!(
        c.anomalies,
        vec![
            Anomaly::LeadingBytes,
            Anomaly::UnresolvedEntity,
            Anomaly::NameGrammar
        ]
    );
    // The reference is kept as text (`;` ends a grammar entry), then the real names.
    assert_eq!(c.template_names[0].name, "&lol3");
    assert_eq!(c.template_names[0].lcid, None);
    assert_eq!(c.template_names[1].lcid, Some(1033));
    assert_eq!(c.template_names[1].name, "Woodgrove Bank - Confidential");

    let xxe = format!(
        "<!DOCTYPE XrML [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><XrML{}",
        body.replacen("<ISSUEDTIME>", "<ISSUEDTIME>&xxe;", 1)
    );
    let c = parse(xxe.as_bytes());
    assert_eq!(c.kind, Kind::Template);
    assert_eq!(c.issued, None);
    assert_eq!(
        c.anomalies,
        vec![
            Anomaly::LeadingBytes,
            Anomaly::UnresolvedEntity,
            Anomaly::BadTime
        ]
    );
    assert!(!serde_json::to_string(&c).unwrap().contains("root:"));
}

#[test]
fn invalid_surrogates_and_mixed_encodings() {
    let t = template();
    let mut bytes = utf16(&t[..t.find("Woodgrove Bank - Confidential").unwrap()]);
    bytes.extend([0x00, 0xDC]); // a lone low surrogate inside the name
    bytes.extend(utf16(
        &t[t.find("Woodgrove Bank - Confidential").unwrap()..],
    ));
    let c = parse(&bytes);
    assert_eq!(c.kind, Kind::Template);
    assert_eq!(c.anomalies, vec![Anomaly::InvalidEncoding]);
    assert_eq!(
        c.template_names[0].name,
        "\u{FFFD}Woodgrove Bank - Confidential"
    );

    // A UTF-16LE leaf followed by a UTF-8 chain document.
    let mut mixed = utf16(&t);
    mixed.extend(t.as_bytes());
    let c = parse(&mixed);
    assert_eq!(c.kind, Kind::Template);
    assert_eq!(c.documents, 1);
    assert_eq!(
        c.anomalies,
        vec![Anomaly::InvalidEncoding, Anomaly::TrailingBytes]
    );
}

#[test]
fn a_50_mb_file_with_a_huge_name() {
    let t = template();
    let huge = "A".repeat(25 * 1024 * 1024);
    let doc = t.replacen(
        "<NAME> LCID 1033:NAME ",
        &format!("<NAME> LCID 1033:NAME {huge}"),
        1,
    );
    let bytes = utf16(&doc);
    assert!(bytes.len() > 50_000_000);
    let c = parse(&bytes);
    assert_eq!(c.kind, Kind::Template);
    assert_eq!(
        c.anomalies,
        vec![Anomaly::FieldTruncated, Anomaly::NameGrammar]
    );
    assert!(c
        .template_names
        .iter()
        .all(|n| n.name.chars().count() <= 4096));
}

#[test]
fn exact_ok_and_error_counts_over_the_damaged_set() {
    let full = rac();
    let starts = doc_starts(&full);
    let t = template();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("intact-chain", full.clone()),
        ("cut-between-leaf-and-slc", full[..starts[1]].to_vec()),
        ("cut-inside-slc", full[..starts[1] + 100].to_vec()),
        ("cut-inside-leaf-tag", full[..starts[1] / 2 + 1].to_vec()),
        ("odd-length", full[..full.len() - 1].to_vec()),
        ("zero-bytes", vec![]),
        ("junk", vec![0x9d; 1000]),
        ("nul-only", vec![0; 64]),
        ("json-not-jclc", utf16("{\"a\":1}")),
        ("xrml-without-body", b"<XrML></XrML>".to_vec()),
        ("utf8-template", t.clone().into_bytes()),
        ("utf16-bom-template", [vec![0xFF, 0xFE], utf16(&t)].concat()),
        (
            "utf8-bom-template",
            [vec![0xEF, 0xBB, 0xBF], t.clone().into_bytes()].concat(),
        ),
    ];
    let results: Vec<(&str, Content)> = cases.iter().map(|(n, b)| (*n, parse(b))).collect();
    let unreadable: Vec<&str> = results
        .iter()
        .filter(|(_, c)| c.kind == Kind::Unreadable)
        .map(|(n, _)| *n)
        .collect();
    let clean: Vec<&str> = results
        .iter()
        .filter(|(_, c)| c.kind != Kind::Unreadable && c.anomalies.is_empty())
        .map(|(n, _)| *n)
        .collect();
    let tolerated: Vec<&str> = results
        .iter()
        .filter(|(_, c)| c.kind != Kind::Unreadable && !c.anomalies.is_empty())
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(
        unreadable,
        vec![
            "zero-bytes",
            "junk",
            "nul-only",
            "json-not-jclc",
            "xrml-without-body"
        ]
    );
    assert_eq!(
        clean,
        vec![
            "intact-chain",
            "cut-between-leaf-and-slc",
            "utf8-template",
            "utf16-bom-template",
            "utf8-bom-template"
        ]
    );
    assert_eq!(
        tolerated,
        vec!["cut-inside-slc", "cut-inside-leaf-tag", "odd-length"]
    );
}

#[test]
fn a_huge_right_granted_to_thousands_stays_a_small_record() {
    // One right name of 1,000,000 characters granted to N principals.
    for (principals, grants) in [(1_000, 1_000), (10_000, 4_096)] {
        let name = "R".repeat(1_000_000);
        let access: String = (0..principals)
            .map(|i| format!("<ACCESS><PRINCIPAL><OBJECT><ID type=\"Unspecified\" /><NAME>u{i}@x.example</NAME></OBJECT></PRINCIPAL></ACCESS>"))
            .collect();
        let rights = format!(
            "<RIGHTSLIST><RIGHT name=\"{name}\"><CONDITIONLIST>{access}</CONDITIONLIST></RIGHT></RIGHTSLIST>"
        );
        let t = template();
        let at = t.find("<RIGHTSLIST>").unwrap();
        let end = t.find("</RIGHTSLIST>").unwrap() + "</RIGHTSLIST>".len();
        let crafted = format!("{}{rights}{}", &t[..at], &t[end..]);
        let c = parse(crafted.as_bytes());
        assert_eq!(c.kind, Kind::Template);
        assert_eq!(c.rights.len(), grants, "{principals} principals");
        assert!(c.rights.iter().all(|r| r.right.len() == 256));
        assert!(c.anomalies.contains(&Anomaly::FieldTruncated));
        let json = serde_json::to_vec(&c).unwrap();
        assert!(
            json.len() < 2 * 1024 * 1024,
            "record of {} bytes",
            json.len()
        );
    }
}
