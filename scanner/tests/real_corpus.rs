//! Every file of the real corpus (../shared/corpus/real, or $RMSWEEP_CORPUS)
//! parses to the values a human read off it. These files are test data, not
//! part of the product; most carry no licence and stay outside the repository.

use std::path::PathBuf;

use rmsweep_scanner::parse::{parse_store_file, Anomaly, ChainCache, Content, Kind, NameTable};

fn corpus() -> PathBuf {
    let dir = std::env::var_os("RMSWEEP_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/real")
        });
    assert!(
        dir.join("SOURCES.md").is_file(),
        "the real corpus is not at {} (expected ../shared/corpus/real beside the clone); \
         set RMSWEEP_CORPUS to its location",
        dir.display()
    );
    dir
}

fn parse(rel_glob_prefix: &str) -> Content {
    let root = corpus();
    let (dir, prefix) = rel_glob_prefix.rsplit_once('/').unwrap();
    let mut matches: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .collect();
    matches.sort();
    assert_eq!(matches.len(), 1, "{rel_glob_prefix} matches {matches:?}");
    let bytes = std::fs::read(&matches[0]).unwrap();
    let name = matches[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    parse_store_file(&bytes, &ChainCache::new(), Some(&name), NameTable::Msipc)
}

fn t(c: &Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    c.map(|t| rmsweep_scanner::parse::time::rfc3339(&t))
}

const ONPREM: &str = "kaedo-ms-aip-attacks/adrms-onprem-dc1.aip.com";
const AZURE: &str = "kaedo-ms-aip-attacks/azure-rms-eu-kaedo";
const KAEDO_SVC: &str = "d527de2a-b7c1-4a64-9900-1433176c4a84";
const KAEDO_TENANT: &str = "2f4c1049-906a-40ea-9178-4d64512b84ba";

fn assert_dc1(c: &Content) {
    assert_eq!(c.issuer_name.as_deref(), Some("DC1"));
    assert_eq!(
        c.issuer_id.as_deref(),
        Some("b5a7ab3e-c702-4a23-9592-74d92564996f")
    );
    assert_eq!(c.issuer_url.as_deref(), Some("HTTP://dc1.aip.com/_wmcs"));
    assert_eq!(c.issuer_host.as_deref(), Some("dc1.aip.com"));
    assert_eq!(c.issuer_kind.map(|k| k.as_str()), Some("adrms"));
    assert_eq!(c.rms_service_id, None);
    assert_eq!(c.tenant_id, None);
}

fn assert_kaedo(c: &Content) {
    assert_eq!(c.issuer_name.as_deref(), Some("Kaedo Sec"));
    assert_eq!(
        c.issuer_id.as_deref(),
        Some("d7e79aa0-b9ce-41d9-839a-b58d0f60dc19")
    );
    assert_eq!(
        c.issuer_host.as_deref(),
        Some(&*format!("{KAEDO_SVC}.rms.eu.aadrm.com"))
    );
    assert_eq!(c.issuer_kind.map(|k| k.as_str()), Some("azure_rms"));
    assert_eq!(c.rms_service_id.as_deref(), Some(KAEDO_SVC));
    assert_eq!(c.region.as_deref(), Some("eu"));
    assert_eq!(c.tenant_id.as_deref(), Some(KAEDO_TENANT));
}

#[test]
fn onprem_rac() {
    let c = parse(&format!("{ONPREM}/GIC-"));
    assert_eq!(c.kind, Kind::Rac);
    assert_dc1(&c);
    assert_eq!(c.server_version.as_deref(), Some("10.0.0.0"));
    assert_eq!(c.server_sku.as_deref(), Some("RMS 2.0"));
    assert_eq!(c.principal.as_deref(), Some("eve@aip.com"));
    assert_eq!(
        c.principal_id.as_deref(),
        Some("S-1-5-21-1180814224-3201008681-931666947-1114")
    );
    assert_eq!(t(&c.issued).as_deref(), Some("2021-06-24T16:14:00Z"));
    assert_eq!(t(&c.valid_from).as_deref(), Some("2021-06-23T16:14:00Z"));
    assert_eq!(t(&c.valid_until).as_deref(), Some("2022-06-24T16:14:00Z"));
    assert_eq!(
        c.doc_id.as_deref(),
        Some("8b29f0c6-640e-48db-8b78-9295568420b9")
    );
    assert_eq!(
        c.machine_id.as_deref(),
        Some("90611692-2841-48e6-a81c-470d59d9c7c4")
    );
    assert_eq!(c.documents, 5);
    assert_eq!(c.chain.len(), 4);
    assert_eq!(c.chain[0].kind, Kind::Slc);
    assert_eq!(c.chain[0].subject_name.as_deref(), Some("DC1"));
    assert_eq!(
        c.chain[0].issuer_name.as_deref(),
        Some("Microsoft DRM Server Self Enrollment Service")
    );
    assert_eq!(
        c.chain[3].issuer_name.as_deref(),
        Some("Microsoft DRM Production Root")
    );
    let name = c.file_name.as_ref().unwrap();
    assert_eq!(
        name.user_hash.as_deref(),
        Some("ONZFKQGeVibD53okHMiCNuBl8ps=")
    );
    assert_eq!(
        name.server_hash.as_deref(),
        Some("N/qk4EBPIds2SCC2mmZJa0ZMVjM=")
    );
    assert_eq!(
        name.guids,
        vec![
            "b5a7ab3e-c702-4a23-9592-74d92564996f",
            "8b29f0c6-640e-48db-8b78-9295568420b9"
        ]
    );
    assert_eq!(
        c.digest.as_ref().unwrap().algorithm.as_deref(),
        Some("SHA256")
    );
    assert_eq!(
        c.digest.as_ref().unwrap().value,
        "P5flOQqlcpIn5fHcLzUwiFF5K8vy4GIXXBwdBhMBnFQ="
    );
    assert_eq!(c.anomalies, Vec::<Anomaly>::new());
}

#[test]
fn onprem_clc() {
    let c = parse(&format!("{ONPREM}/CLC-"));
    assert_eq!(c.kind, Kind::Clc);
    assert_dc1(&c);
    assert_eq!(c.principal.as_deref(), Some("eve@aip.com"));
    assert_eq!(t(&c.issued).as_deref(), Some("2021-06-24T16:14:00Z"));
    assert_eq!(t(&c.valid_from).as_deref(), Some("2021-06-23T16:14:00Z"));
    assert_eq!(t(&c.valid_until).as_deref(), Some("2022-06-24T16:14:00Z"));
    assert_eq!(c.licensing_urls.len(), 1);
    assert_eq!(
        c.licensing_urls[0].url,
        "http://dc1.aip.com/_wmcs/licensing"
    );
    assert_eq!(c.licensing_urls[0].url_type, "License-Acquisition-URL");
    assert_eq!(c.anomalies, Vec::<Anomaly>::new());
}

#[test]
fn onprem_eul() {
    let c = parse(&format!("{ONPREM}/EUL-"));
    assert_eq!(c.kind, Kind::Eul);
    assert_dc1(&c);
    assert_eq!(c.principal.as_deref(), Some("eve@aip.com"));
    assert_eq!(t(&c.issued).as_deref(), Some("2021-06-26T10:00:00Z"));
    assert_eq!(
        c.content_id.as_deref(),
        Some("597e0191-b4b1-4024-933a-1fbd56b7243c")
    );
    assert_eq!(c.owner.as_deref(), Some("alice.mustermann@aip.com"));
    assert_eq!(c.template_names.len(), 1);
    assert_eq!(c.template_names[0].name, "Eingeschränkter Zugriff");
    assert_eq!(c.template_names[0].lcid, None);
    assert_eq!(
        c.template_names[0].description.as_deref(),
        Some("Berechtigung ist zurzeit eingeschränkt. Nur bestimmte Benutzer haben Zugriff zu diesem Inhalt.")
    );
    let rights: Vec<&str> = c.rights.iter().map(|r| r.right.as_str()).collect();
    assert_eq!(rights, vec!["VIEW", "OBJMODEL"]);
    assert_eq!(
        c.file_name.as_ref().unwrap().guids[0],
        "597e0191-b4b1-4024-933a-1fbd56b7243c"
    );
    assert_eq!(c.anomalies, Vec::<Anomaly>::new());
}

#[test]
fn machine_certificates() {
    for (name, issuer_id) in [
        (
            "CERT-Machine-2048.drm",
            "434cfc25-b93e-4298-9c3b-a3be49b737db",
        ),
        ("CERT-Machine.drm", "5b44ed92-3894-43eb-8395-2a13ae8df223"),
    ] {
        let c = parse(&format!("{ONPREM}/{name}"));
        assert_eq!(c.kind, Kind::MachineCert, "{name}");
        assert_eq!(c.issuer_kind.map(|k| k.as_str()), Some("microsoft_ca"));
        assert_eq!(c.issuer_id.as_deref(), Some(issuer_id));
        assert_eq!(t(&c.issued).as_deref(), Some("2020-12-15T04:35:00Z"));
        assert_eq!(c.documents, 5);
        assert_eq!(c.licensing_urls[0].url, "file:///ipcactivate.exe");
        assert_eq!(c.principal, None);
        assert_eq!(c.anomalies, Vec::<Anomaly>::new());
    }
}

#[test]
fn azure_rac() {
    let c = parse(&format!("{AZURE}/GIC-"));
    assert_eq!(c.kind, Kind::Rac);
    assert_kaedo(&c);
    assert_eq!(c.server_version.as_deref(), Some("1.0.0.0"));
    assert_eq!(c.principal.as_deref(), Some("alice@kaedo.onmicrosoft.com"));
    assert_eq!(
        c.principal_id.as_deref(),
        Some("{8ddcf196-d705-4cca-942d-6db785ede626}")
    );
    assert_eq!(t(&c.issued).as_deref(), Some("2019-11-07T13:09:00Z"));
    assert_eq!(t(&c.valid_until).as_deref(), Some("2019-12-07T13:09:00Z"));
    let scopes: Vec<String> = c
        .licensing_urls
        .iter()
        .map(|u| format!("{}:{:?}", u.url_type, u.scope))
        .collect();
    assert_eq!(
        scopes,
        vec!["Activation:Intranet", "Extranet-Activation:Extranet"]
    );
    assert_eq!(c.anomalies, Vec::<Anomaly>::new());
}

#[test]
fn azure_clc_and_eul() {
    let c = parse(&format!("{AZURE}/CLC-"));
    assert_eq!(c.kind, Kind::Clc);
    assert_kaedo(&c);
    assert_eq!(c.server_sku.as_deref(), Some("RMS 2.0"));
    assert_eq!(t(&c.valid_from).as_deref(), Some("2019-11-06T13:09:00Z"));
    assert_eq!(t(&c.valid_until).as_deref(), Some("2019-12-07T13:09:00Z"));

    let e = parse(&format!("{AZURE}/EUL-"));
    assert_eq!(e.kind, Kind::Eul);
    assert_kaedo(&e);
    assert_eq!(t(&e.issued).as_deref(), Some("2019-11-12T04:40:00Z"));
    assert_eq!(e.principal.as_deref(), Some("alice@kaedo.onmicrosoft.com"));
    assert_eq!(e.template_names[0].name, "Restricted Access");
    assert_eq!(e.rights[0].days, Some(30));
    assert_eq!(e.licensing_urls[0].url, "mailto:bob@kaedo.onmicrosoft.com");
    assert_eq!(e.anomalies, Vec::<Anomaly>::new());
}

#[test]
fn office_primary_streams() {
    let c = parse(&format!("{AZURE}/DRMEncryptedTransform_0x06Primary.bin"));
    assert_eq!(c.kind, Kind::PublishingLicense);
    assert_kaedo(&c);
    assert_eq!(
        c.template_id.as_deref(),
        Some("ac490a88-ac75-45a9-855e-a2f601e5d9f6")
    );
    assert_eq!(c.template_names[0].name, "Restricted Access");
    assert_eq!(c.template_names[0].lcid, Some(1033));
    assert_eq!(c.principal.as_deref(), Some("bob@kaedo.onmicrosoft.com"));
    assert_eq!(t(&c.issued).as_deref(), Some("2019-11-12T04:38:00Z"));
    assert_eq!(c.documents, 8);
    assert_eq!(c.anomalies, vec![Anomaly::LeadingBytes]);

    let j = parse("jtg-dbs-uclRequester/Primary.bin");
    assert_eq!(j.kind, Kind::PublishingLicense);
    assert_dc1(&j);
    assert_eq!(
        j.template_id.as_deref(),
        Some("a3248bd9-0ffa-42fe-adef-7eeeae4703d6")
    );
    assert_eq!(j.template_names[0].lcid, Some(1031));
    assert_eq!(j.template_names[0].name, "Eingeschränkter Zugriff");
    assert_eq!(j.principal.as_deref(), Some("alice.mustermann@aip.com"));
}

#[test]
fn sdk_publishing_licenses() {
    let pl = parse("azuread-rms-sdk-for-cpp/pl.xml");
    assert_eq!(pl.kind, Kind::PublishingLicense);
    assert_eq!(pl.issuer_name.as_deref(), Some("CorpRights"));
    assert_eq!(pl.issuer_host.as_deref(), Some("corprights.microsoft.com"));
    assert_eq!(pl.issuer_kind.map(|k| k.as_str()), Some("adrms"));
    assert_eq!(pl.server_version.as_deref(), Some("1.0.3012.0"));
    assert_eq!(t(&pl.valid_from).as_deref(), Some("2015-04-01T22:39:00Z"));
    assert_eq!(t(&pl.valid_until).as_deref(), Some("2015-04-15T07:00:00Z"));
    // Migration case: on-premises intranet URL, Azure extranet URL.
    let kinds: Vec<Option<&str>> = pl
        .licensing_urls
        .iter()
        .map(|u| u.issuer_kind.map(|k| k.as_str()))
        .collect();
    assert_eq!(kinds, vec![Some("adrms"), Some("azure_rms"), None]);
    assert_eq!(pl.documents, 8);
    assert_eq!(pl.anomalies, Vec::<Anomaly>::new());

    let alice = parse("azuread-rms-sdk-for-cpp/AliceBvt.txt.pfile");
    assert_eq!(alice.kind, Kind::PublishingLicense);
    assert_eq!(
        alice.template_id.as_deref(),
        Some("760cb90e-8715-4dcb-bf42-806b012d70f2")
    );
    assert_eq!(alice.template_version.as_deref(), Some("2016-12-14T01:23"));
    assert_eq!(
        alice.rms_service_id.as_deref(),
        Some("c04a2344-eae8-4d4f-89dc-036792332149")
    );
    assert_eq!(alice.region.as_deref(), Some("na"));
    assert_eq!(
        alice.tenant_id.as_deref(),
        Some("6594232e-6968-45f0-9f7e-c711fc49ef58")
    );
    assert_eq!(
        alice.template_names[0].name,
        "Microsoft Corporation - Confidential Change All without Copy"
    );
    assert_eq!(
        alice.anomalies,
        vec![Anomaly::LeadingBytes, Anomaly::TrailingBytes]
    );

    let clean = parse("azuread-rms-sdk-for-cpp/CleanAlice.txt.pfile");
    assert_eq!(
        clean.template_id.as_deref(),
        Some("586b5746-aa26-4310-81b1-ea20d40cfc89")
    );
    assert_eq!(
        t(&clean.valid_until).as_deref(),
        Some("2017-01-14T19:21:00Z")
    );

    let android = parse("azuread-rms-sdk-for-cpp/android_template_01.ptxt");
    assert_eq!(
        android.template_id.as_deref(),
        Some("bfa8d0f0-c965-4cce-b08c-f934f87faf4a")
    );
    assert_eq!(android.template_names.len(), 40);
    assert_eq!(android.template_names[0].lcid, Some(1033));
    assert_eq!(
        android.template_names[0].name,
        "Microsoft Corporation - Confidential"
    );
    assert!(android.template_names.iter().all(|n| n.lcid.is_some()));

    let sharing = parse("azuread-rms-sdk-for-cpp/rmsSharingAdminTest.ptxt");
    assert_eq!(sharing.kind, Kind::PublishingLicense);
    assert_eq!(
        sharing.template_id.as_deref(),
        Some("abaea924-e243-44ec-bcc1-53eaebd827fa")
    );
    assert_eq!(sharing.principal.as_deref(), Some("admuller@microsoft.com"));
    assert_eq!(sharing.documents, 8);
}

#[test]
fn spec_examples() {
    let tpl = parse("ms-rmpr-spec-examples/MS-RMPR_4.5.7_rights-policy-template.xml");
    assert_eq!(tpl.kind, Kind::Template);
    assert_eq!(
        tpl.template_id.as_deref(),
        Some("4b1010c0-92b8-4169-8493-b5137c6fe168")
    );
    assert_eq!(tpl.template_names.len(), 1);
    assert_eq!(tpl.template_names[0].lcid, Some(1033));
    assert_eq!(tpl.template_names[0].name, "CONTOSO Template");
    assert_eq!(
        tpl.template_names[0].description.as_deref(),
        Some("Template for CONTOSO")
    );
    assert_eq!(tpl.issuer_name.as_deref(), Some("CONTOSO-RMS"));
    assert_eq!(
        tpl.issuer_id.as_deref(),
        Some("96c4ca87-b3ff-4ded-9c15-53272e26396f")
    );
    assert_eq!(tpl.issuer_host.as_deref(), Some("rms"));
    assert_eq!(tpl.issuer_kind.map(|k| k.as_str()), Some("adrms"));
    assert_eq!(t(&tpl.issued).as_deref(), Some("2010-06-11T21:44:00Z"));
    assert_eq!(
        serde_json::to_string(&tpl.content_expiry).unwrap(),
        r#"{"type":"never"}"#
    );
    assert_eq!(tpl.licensing_urls[0].url, "http://rms/_wmcs/licensing");
    assert_eq!(tpl.licensing_urls[0].url_type, "Publishing-URL");
    let rights: Vec<String> = tpl
        .rights
        .iter()
        .map(|r| format!("{}:{}", r.right, r.principal.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        rights,
        vec![
            "OWNER:Owner",
            "VIEW:ANYONE",
            "EXTRACT:ANYONE",
            "OBJMODEL:ANYONE",
            "VIEWRIGHTSDATA:ANYONE",
            "PRINT:ANYONE",
            "EDIT:ANYONE"
        ]
    );
    let d = tpl.digest.as_ref().unwrap();
    assert_eq!(
        (d.algorithm.as_deref(), d.value.as_str()),
        (Some("SHA1"), "JJVD6qucgGq6dypaYD+Dwo167fU=")
    );
    assert_eq!(tpl.anomalies, Vec::<Anomaly>::new());

    let erd = parse("ms-rmpr-spec-examples/MS-RMPR_4.5.5_encrypted-rights-data.xml");
    assert_eq!(erd.kind, Kind::Template);
    assert_eq!(erd.doc_type.as_deref(), Some("Microsoft Rights Template"));
    assert_eq!(erd.anomalies, vec![Anomaly::MissingSignature]);

    let rac = parse("ms-rmpr-spec-examples/MS-RMPR_4.5.2_rac.xml");
    assert_eq!(rac.kind, Kind::Rac);
    assert_eq!(rac.issuer_name.as_deref(), Some("CONTOSO-RMS"));
    assert_eq!(rac.principal.as_deref(), Some("owner@contoso.com"));
    assert_eq!(t(&rac.valid_until).as_deref(), Some("2011-06-11T20:50:00Z"));

    let clc = parse("ms-rmpr-spec-examples/MS-RMPR_4.5.3_clc.xml");
    assert_eq!(clc.kind, Kind::Clc);
    assert_eq!(t(&clc.valid_from).as_deref(), Some("2010-06-10T20:50:00Z"));
    let hosts: Vec<(&str, &str)> = clc
        .licensing_urls
        .iter()
        .map(|u| (u.url_type.as_str(), u.host.as_deref().unwrap()))
        .collect();
    assert_eq!(
        hosts,
        vec![
            ("License-Acquisition-URL", "rms"),
            ("Extranet-License-Acquisition-URL", "rms.contoso.com")
        ]
    );
}

#[test]
fn chain_documents_are_parsed_once() {
    let root = corpus();
    let cache = ChainCache::new();
    let mut files = 0;
    for dir in [ONPREM, AZURE] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().and_then(|x| x.to_str()) == Some("drm") {
                let c =
                    parse_store_file(&std::fs::read(&p).unwrap(), &cache, None, NameTable::Msipc);
                assert_ne!(c.kind, Kind::Unreadable);
                files += 1;
            }
        }
    }
    assert_eq!(files, 8);
    // 8 files hold 32 chain documents, 12 of them distinct (counted
    // independently of this parser by splitting on `<XrML…</XrML>`).
    assert_eq!(cache.len(), 12);
}
