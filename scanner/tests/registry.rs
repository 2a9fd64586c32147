//! The registry end to end through the scanner: the committed hives (made by
//! `fixtures/hives/make-hives.sh` with Debian's hivex tools) placed on a
//! volume give exact setting records; damaged and dirty hives give what can
//! be read, with notes and errors, never a panic; no key material leaves.

use std::io::Read;
use std::path::{Path, PathBuf};

use rmsweep_scanner::plan::plan;
use rmsweep_scanner::record::{HiveEntry, SettingRecord};
use rmsweep_scanner::registry::{hive::Hive, read_hive, HiveKind};
use rmsweep_scanner::{run, Found, Root, ScanConfig};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn hives() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/hives")
}

fn put(root: &Path, rel: &str, from: &Path) {
    let to = root.join(rel);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
}

/// A volume with the four hives where Windows keeps them.
fn volume() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let h = hives();
    put(
        tmp.path(),
        "Windows/System32/config/SOFTWARE",
        &h.join("SOFTWARE"),
    );
    put(
        tmp.path(),
        "Windows/System32/config/SYSTEM",
        &h.join("SYSTEM"),
    );
    put(tmp.path(), "Users/alice/NTUSER.DAT", &h.join("NTUSER.DAT"));
    put(
        tmp.path(),
        "Users/alice/AppData/Local/Microsoft/Windows/UsrClass.dat",
        &h.join("UsrClass.dat"),
    );
    tmp
}

fn scan(root: &Path) -> Vec<SettingRecord> {
    let config = ScanConfig {
        roots: vec![Root::labelled(root, "WS01")],
        deep: false,
        threads: 2,
        read: Default::default(),
        cancel: Default::default(),
        io: Default::default(),
    };
    let mut out = Vec::new();
    run(&plan(&config).unwrap(), &config, |found| {
        if let Found::Hive(h) = found {
            out.extend(h.records);
        }
        Ok::<(), ()>(())
    })
    .unwrap();
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn the_four_hives_give_their_settings_with_exact_values() {
    let tmp = volume();
    let records = scan(tmp.path());
    let hive_records: Vec<(String, String, Value)> = records
        .iter()
        .filter_map(|r| match &r.entry {
            HiveEntry::Hive(h) => Some((
                r.volume_path.clone().unwrap(),
                h.root_name.clone().unwrap(),
                json!([h.settings, h.error, h.notes, h.logs]),
            )),
            _ => None,
        })
        .collect();
    let plain = "CsiTool-CreateHive-{00000000-0000-0000-0000-000000000000}";
    let none: [String; 0] = [];
    assert_eq!(
        hive_records,
        vec![
            (
                r"\Users\alice\AppData\Local\Microsoft\Windows\UsrClass.dat".to_string(),
                "S-1-5-21-1111111111-2222222222-3333333333-1001_Classes".to_string(),
                json!([8, null, none, none])
            ),
            (
                r"\Users\alice\NTUSER.DAT".into(),
                plain.into(),
                // The test volume holds no C:\RMS\Templates (cli/tests/registry.rs reads one).
                json!([
                    5,
                    null,
                    [
                        r"AdminTemplatePath C:\RMS\Templates: not read: no such folder on this volume"
                    ],
                    none
                ])
            ),
            (
                r"\Windows\System32\config\SOFTWARE".into(),
                plain.into(),
                json!([16, null, none, none])
            ),
            (
                r"\Windows\System32\config\SYSTEM".into(),
                plain.into(),
                json!([4, null, none, none])
            ),
        ]
    );
    let cal = std::fs::read(hives().join("src/cal.der")).unwrap();
    let cal_temporary = std::fs::read(hives().join("src/cal-temporary.der")).unwrap();
    let settings: Vec<(&str, &str, &str, &str, Value)> = records
        .iter()
        .filter_map(|r| match &r.entry {
            HiveEntry::Setting(s) => Some((
                r.hive.as_str(),
                s.setting.as_str(),
                s.key.as_str(),
                s.value.as_str(),
                serde_json::to_value(&s.data).unwrap(),
            )),
            _ => None,
        })
        .collect();
    let msipc = r"Local Settings\Software\Microsoft\MSIPC";
    // NTUSER.DAT stores `software\microsoft` in lower case (make-hives.sh):
    // rmsweep looks up `Software\Microsoft\…` and reports keys as stored.
    let contoso_url = json!("https://rms.contoso.com/_wmcs/licensing");
    assert_eq!(
        settings,
        vec![
            (
                "usrclass",
                "msipc.protected_key",
                msipc,
                "MSIPP-MK",
                Value::Null
            ),
            (
                "usrclass",
                "msipc.template_update_frequency",
                msipc,
                "TemplateUpdateFrequency",
                json!(7)
            ),
            (
                "usrclass",
                "msipc.template_update_frequency_seconds",
                msipc,
                "TemplateUpdateFrequencyInSeconds",
                json!(86400)
            ),
            (
                "usrclass",
                "msipc.template_last_updated",
                r"Local Settings\Software\Microsoft\MSIPC\adrms.fabrikam.local\Template",
                "LastUpdatedTime",
                json!("2026-11-28T08:15")
            ),
            (
                "usrclass",
                "msipc.server_url",
                r"Local Settings\Software\Microsoft\MSIPC\rms.contoso.com\Identities",
                "ExternalUrl",
                contoso_url.clone()
            ),
            (
                "usrclass",
                "msipc.server_url",
                r"Local Settings\Software\Microsoft\MSIPC\rms.contoso.com\Identities",
                "InternalUrl",
                contoso_url.clone()
            ),
            (
                "usrclass",
                "msipc.template_last_updated",
                r"Local Settings\Software\Microsoft\MSIPC\rms.contoso.com\Template",
                "LastUpdatedTime",
                json!("2015-04-20T15:52")
            ),
            (
                "usrclass",
                "msipc.template_last_updated",
                r"Local Settings\Software\Microsoft\MSIPC\old.contoso.com\Template",
                "LastUpdatedTime",
                json!("2012-01-01T00:00")
            ),
            (
                "ntuser",
                "msdrm.template_last_updated",
                r"software\microsoft\msdrm\templatemanagement",
                "lastUpdatedTime",
                json!("2014-02-03T10:00:00")
            ),
            (
                "ntuser",
                "msdrm.template_update_frequency",
                r"software\microsoft\msdrm\templatemanagement",
                "UpdateFrequency",
                json!(30)
            ),
            (
                "ntuser",
                "office.drm.admin_template_path",
                r"software\microsoft\Office\16.0\Common\DRM",
                "AdminTemplatePath",
                json!(r"C:\RMS\Templates")
            ),
            (
                "ntuser",
                "office.drm.default_server",
                r"software\microsoft\Office\16.0\Common\DRM",
                "DefaultServer",
                json!("rms.contoso.com")
            ),
            (
                "ntuser",
                "office.drm.default_server_url",
                r"software\microsoft\Office\16.0\Common\DRM",
                "DefaultServerUrl",
                contoso_url.clone()
            ),
            (
                "software",
                "msipc.trace",
                r"Microsoft\MSIPC",
                "Trace",
                json!(0)
            ),
            (
                "software",
                "other",
                r"Microsoft\MSIPC\Experimental",
                "Unknown",
                json!("kept as other")
            ),
            (
                "software",
                "msipc.federation_home_realm",
                r"Microsoft\MSIPC\Federation",
                "FederationHomeRealm",
                json!("urn:federation:contoso")
            ),
            (
                "software",
                "msipc.template_update_frequency",
                r"Microsoft\MSIPC\Server\S-1-5-20",
                "TemplateUpdateFrequency",
                json!(1)
            ),
            (
                "software",
                "msipc.enterprise_certification",
                r"Microsoft\MSIPC\ServiceLocation\EnterpriseCertification",
                "(default)",
                json!("https://rms.contoso.com/_wmcs/Certification")
            ),
            (
                "software",
                "msipc.enterprise_publishing",
                r"Microsoft\MSIPC\ServiceLocation\EnterprisePublishing",
                "(default)",
                json!("https://rms.contoso.com/_wmcs/Licensing")
            ),
            (
                "software",
                "msipc.licensing_redirection",
                r"Microsoft\MSIPC\ServiceLocation\LicensingRedirection",
                "https://adrms.fabrikam.local/_wmcs/licensing",
                contoso_url.clone()
            ),
            (
                "software",
                "msipc.trusted_servers_only",
                r"Microsoft\MSIPC\TrustedServers",
                "AllowTrustedServersOnly",
                json!(1)
            ),
            (
                "software",
                "msipc.trusted_server",
                r"Microsoft\MSIPC\TrustedServers",
                "Partner",
                json!("rms.woodgrove.example")
            ),
            (
                "software",
                "rds.client_hwid",
                r"Microsoft\MSLicensing\HardwareID",
                "ClientHWID",
                json!("02000c00a1b2c3d4e5f60718293a4b5c6d7e8f90")
            ),
            (
                "software",
                "rds.client_license",
                r"Microsoft\MSLicensing\Store\LICENSE000",
                "ClientLicense",
                json!(hex(&cal))
            ),
            (
                "software",
                "rds.client_license",
                r"Microsoft\MSLicensing\Store\LICENSE001",
                "ClientLicense",
                json!(hex(&cal_temporary))
            ),
            (
                "software",
                "rds.license_servers",
                r"Policies\Microsoft\Windows NT\Terminal Services",
                "LicenseServers",
                json!("ls1.contoso.com,ls2.contoso.com")
            ),
            (
                "software",
                "rds.licensing_mode",
                r"Policies\Microsoft\Windows NT\Terminal Services",
                "LicensingMode",
                json!(4)
            ),
            (
                "software",
                "host.profile",
                r"Microsoft\Windows NT\CurrentVersion\ProfileList\S-1-5-20",
                "ProfileImagePath",
                json!(r"C:\Windows\ServiceProfiles\NetworkService")
            ),
            (
                "software",
                "host.profile",
                r"Microsoft\Windows NT\CurrentVersion\ProfileList\S-1-5-21-1111111111-2222222222-3333333333-1001",
                "ProfileImagePath",
                json!(r"C:\Users\alice")
            ),
            (
                "system",
                "host.computer_name",
                r"ControlSet001\Control\ComputerName\ComputerName",
                "ComputerName",
                json!("WS01")
            ),
            (
                "system",
                "rds.licensing_mode",
                r"ControlSet001\Control\Terminal Server\RCM\Licensing Core",
                "LicensingMode",
                json!(2)
            ),
            (
                "system",
                "rds.license_servers",
                r"ControlSet001\Services\TermService\Parameters\LicenseServers",
                "SpecifiedLicenseServers",
                json!(["ls1.contoso.com", "ls2.contoso.com"])
            ),
            (
                "system",
                "rds.grace_period",
                r"ControlSet001\Control\Terminal Server\RCM\GracePeriod",
                "L$RTMTIMEBOMB_1320153D-8DA3-4e8e-B27B-0D888223A588",
                Value::Null
            ),
        ]
    );
}

/// The record of one setting, as JSON.
fn setting(records: &[SettingRecord], name: &str, value: &str) -> Value {
    let r = records
        .iter()
        .find(
            |r| matches!(&r.entry, HiveEntry::Setting(s) if s.setting == name && s.value == value),
        )
        .unwrap_or_else(|| panic!("no {name} {value}"));
    serde_json::to_value(r).unwrap()
}

#[test]
fn decoded_details_provenance_and_recovered_values_are_exact() {
    let tmp = volume();
    let records = scan(tmp.path());
    let last = setting(&records, "msipc.template_last_updated", "LastUpdatedTime");
    assert_eq!(last["server"], "adrms.fabrikam.local");
    assert_eq!(last["time"], "2026-11-28T08:15:00Z");
    assert_eq!(last["profile"], "alice");
    // The owner's SID, from UsrClass.dat's root key name.
    assert_eq!(
        last["sid"],
        "S-1-5-21-1111111111-2222222222-3333333333-1001"
    );
    let usrclass = std::fs::read(hives().join("UsrClass.dat")).unwrap();
    assert_eq!(last["sha256"], hex(&Sha256::digest(&usrclass)));
    assert_eq!(last["size"], usrclass.len());
    let contoso = records
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .find(|r| r["server"] == "rms.contoso.com" && r["setting"] == "msipc.template_last_updated")
        .unwrap();
    // Set by make-hives.sh on the key cell.
    assert_eq!(contoso["key_last_write"], "2015-04-20T15:52:10Z");
    assert_eq!(contoso["recovered"], false);
    let old = records
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .find(|r| r["server"] == "old.contoso.com")
        .unwrap();
    assert_eq!(old["recovered"], true);
    assert_eq!(old["time"], "2012-01-01T00:00:00Z");
    let redirect = setting(
        &records,
        "msipc.licensing_redirection",
        "https://adrms.fabrikam.local/_wmcs/licensing",
    );
    assert_eq!(
        redirect["from_url"],
        "https://adrms.fabrikam.local/_wmcs/licensing"
    );
    assert_eq!(
        redirect["to_url"],
        "https://rms.contoso.com/_wmcs/licensing"
    );
    // NTUSER.DAT's records: the owner's SID from the same profile's UsrClass.dat.
    let msdrm = setting(
        &records,
        "msdrm.template_update_frequency",
        "UpdateFrequency",
    );
    assert_eq!(
        msdrm["sid"],
        "S-1-5-21-1111111111-2222222222-3333333333-1001"
    );
    // Server mode: the SID is the key's.
    let server = records
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .find(|r| r["key"] == r"Microsoft\MSIPC\Server\S-1-5-20")
        .unwrap();
    assert_eq!(
        (&server["sid"], &server["sid_name"]),
        (&json!("S-1-5-20"), &json!("NetworkService"))
    );
    let mode = setting(&records, "rds.licensing_mode", "LicensingMode");
    assert_eq!(mode["meaning"], "per user");
    let name = setting(&records, "host.computer_name", "ComputerName");
    assert_eq!(name["control_set"], "ControlSet001");
    let profile = setting(&records, "host.profile", "ProfileImagePath");
    assert_eq!(
        (&profile["sid"], &profile["profile"]),
        (&json!("S-1-5-20"), &json!("NetworkService"))
    );
    assert_eq!(profile["sid_name"], "NetworkService");
}

/// The licences' certificates as openssl read them, and the values
/// make-hives.sh put into their Microsoft extensions (`NAME.expected`).
#[test]
fn client_access_licences_say_what_their_certificates_and_extensions_hold() {
    let tmp = volume();
    let records = scan(tmp.path());
    let licence = |key: &str| {
        let r = records
            .iter()
            .find(|r| matches!(&r.entry, HiveEntry::Setting(s) if s.key.ends_with(key)))
            .unwrap_or_else(|| panic!("no {key}"));
        serde_json::to_value(r).unwrap()
    };
    for (key, name, certificates) in [("LICENSE000", "cal", 1), ("LICENSE001", "cal-temporary", 2)]
    {
        let expected = std::fs::read_to_string(hives().join(format!("{name}.expected"))).unwrap();
        let field = |k: &str| {
            expected
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .map(|v| v.trim().to_string())
        };
        let given = |k: &str| field(&format!("{k}=")).unwrap();
        let openssl_time = |k: &str| field(k).unwrap().replace(' ', "T");
        let flags = u32::from_str_radix(given("flags").trim_start_matches("0x"), 16).unwrap();
        let temporary = flags & 0x8000_0000 != 0;
        let mut want = json!({
            "cal_issuer": field("issuer=CN = ").unwrap(),
            "cal_subject": field("subject=CN = ").unwrap(),
            "valid_from": openssl_time("notBefore="),
            "valid_until": openssl_time("notAfter="),
            "cal_certificates": certificates,
            "cal_product_info": true,
            "cal_product": given("product"),
            "cal_version": format!("{}.{}", given("major"), given("minor")),
            "cal_temporary": temporary,
            "cal_flags": given("flags"),
            "cal_flag_names": if temporary { json!(["temporary", "rtm"]) } else { json!(["permanent", "rtm", "enforced"]) },
            "cal_license_count": given("count").parse::<u32>().unwrap(),
            "cal_platform_id": given("platform"),
            "cal_language_id": given("language").parse::<u32>().unwrap(),
            "cal_license_server": given("server"),
            "cal_license_server_scope": given("scope"),
        });
        if given("requested") != given("product") {
            want["cal_requested_product"] = json!(given("requested"));
        }
        if let Some(id) = field("server_id=") {
            want["cal_license_server_id"] = json!(id);
        }
        let got = licence(key);
        assert_eq!(got["cal"], want, "{key}");
        // The licence server is the setting's server: `server:LS1` finds it.
        assert_eq!(got["server"], given("server"), "{key}");
    }
}

#[test]
fn key_material_is_kept_by_size_and_hash_only() {
    let tmp = volume();
    let records = scan(tmp.path());
    let all: String = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    for secret in ["SECRET-USER-KEY", "SECRET-GRACE-END"] {
        assert!(!all.contains(secret));
        assert!(
            !all.contains(&hex(secret.as_bytes())),
            "{secret} leaked as hex"
        );
    }
    for (name, value, file) in [
        ("msipc.protected_key", "MSIPP-MK", "src/msipp-mk.bin"),
        (
            "rds.grace_period",
            "L$RTMTIMEBOMB_1320153D-8DA3-4e8e-B27B-0D888223A588",
            "src/grace.bin",
        ),
    ] {
        let blob = std::fs::read(hives().join(file)).unwrap();
        let r = setting(&records, name, value);
        assert_eq!(r["redacted"], true);
        assert_eq!(r["data"], Value::Null);
        assert_eq!(r["data_size"], blob.len());
        assert_eq!(r["data_sha256"], hex(&Sha256::digest(&blob)));
        assert_eq!(
            r["dpapi_master_key"],
            "3b5353fe-ef57-40d9-86e9-da9c04d4d986"
        );
    }
    let grace = setting(
        &records,
        "rds.grace_period",
        "L$RTMTIMEBOMB_1320153D-8DA3-4e8e-B27B-0D888223A588",
    );
    assert_eq!(grace["key_last_write"], "2026-11-28T08:15:30Z");
}

fn unxz(name: &str) -> Vec<u8> {
    let mut compressed = Vec::new();
    std::fs::File::open(hives().join("regipy").join(name))
        .unwrap()
        .read_to_end(&mut compressed)
        .unwrap();
    let mut out = Vec::new();
    lzma_rs::xz_decompress(&mut &compressed[..], &mut out).unwrap();
    out
}

#[test]
fn a_dirty_hive_is_read_with_its_logs_replayed_in_memory() {
    let primary = unxz("transactions_NTUSER.DAT.xz");
    let logs = vec![
        unxz("transactions_ntuser.dat.log1.xz"),
        unxz("transactions_ntuser.dat.log2.xz"),
    ];
    let with = Hive::open(&primary, &logs).unwrap();
    assert_eq!(
        with.notes,
        vec!["dirty hive: transaction logs replayed in memory"]
    );
    let without = Hive::open(&primary, &[]).unwrap();
    assert_eq!(
        without.notes,
        vec!["dirty hive (its base block says it needs its transaction logs), and no logs were found beside it"]
    );
    let read = read_hive(HiveKind::Ntuser, &primary, &logs);
    assert_eq!((read.error, read.settings.len()), (None, 0));
}

#[test]
fn damaged_hives_give_what_can_be_read_and_say_why() {
    // regipy's corrupted SYSTEM hive: the plain read works; the recovery
    // pass (which a read runs only for free key cells below the keys it
    // reads: none here) fails, and says so.
    let corrupted = unxz("corrupted_system_hive.xz");
    let read = read_hive(HiveKind::System, &corrupted, &[]);
    assert_eq!((read.error.as_deref(), read.notes.len()), (None, 0));
    let mut hive = Hive::open(&corrupted, &[]).unwrap();
    hive.recover();
    assert_eq!(hive.notes.len(), 1);
    assert!(
        hive.notes[0]
            .starts_with("deleted keys and values not recovered: the recovery pass failed"),
        "{:?}",
        hive.notes
    );
    // As `hivexsh -u` (hivex's unsafe mode) reads them; its Licensing Core key is unreachable.
    let got: Vec<(&str, Value)> = read
        .settings
        .iter()
        .map(|s| (s.setting.as_str(), serde_json::to_value(&s.data).unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("host.computer_name", json!("GINEVRA")),
            ("host.domain", json!("")),
            ("host.hostname", json!("ginevra")),
        ]
    );
    // Not a hive, empty, a base block only, cut short.
    let usrclass = std::fs::read(hives().join("UsrClass.dat")).unwrap();
    let cut = read_hive(HiveKind::Usrclass, &usrclass[..9000], &[]);
    assert_eq!(
        cut.notes,
        vec![format!(
            "truncated: the file holds 9000 of the {} bytes its header declares",
            usrclass.len()
        )]
    );
    type Case<'a> = (&'a str, Vec<u8>, Option<&'a str>, Vec<&'a str>);
    let cases: [Case; 4] = [
        (
            "garbage",
            b"MZ\x90\x00 not a hive".to_vec(),
            Some("not a registry hive (no `regf` signature)"),
            vec![],
        ),
        (
            "empty",
            Vec::new(),
            Some("not a registry hive (no `regf` signature)"),
            vec![],
        ),
        (
            "base block only",
            usrclass[..4096].to_vec(),
            Some("the hive cannot be read"),
            vec![],
        ),
        // MSIPC's key is before the cut, its values and live subkeys' lists
        // beyond it; the deleted key's cells (make-hives.sh put them early)
        // are before it, so that key is recovered and placed.
        (
            "cut in its second bin",
            usrclass[..9000].to_vec(),
            None,
            vec!["old.contoso.com"],
        ),
    ];
    for (what, bytes, error, settings) in cases {
        let read = read_hive(HiveKind::Usrclass, &bytes, &[]);
        match error {
            Some(e) => assert!(
                read.error.as_deref().is_some_and(|got| got.starts_with(e)),
                "{what}: {:?}",
                read.error
            ),
            None => assert_eq!(read.error, None, "{what}"),
        }
        let servers: Vec<&str> = read
            .settings
            .iter()
            .filter(|s| s.recovered)
            .filter_map(|s| s.detail.server.as_deref())
            .collect();
        assert_eq!(servers, settings, "{what}");
        assert_eq!(read.settings.len(), settings.len(), "{what}");
    }
}
