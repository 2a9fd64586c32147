//! Discovery on in-memory volumes: every location of the table found
//! without `--deep`, with owners, and each folder on the way listed once.

use super::*;
use crate::store::{RmsClient, StoreArea, StoreMode};
use crate::volume::memory::MemoryVolume;

/// (folder, mode, area, client, profile, sid) of every store found.
type Found = (
    String,
    StoreMode,
    StoreArea,
    RmsClient,
    Option<String>,
    Option<String>,
);

/// Every store a discovery found, sorted by folder.
fn stores_of(d: &Discovery) -> Vec<Found> {
    let mut stores: Vec<Found> = d
        .stores
        .iter()
        .map(|s| {
            (
                String::from_utf8_lossy(s.dir.as_bytes()).into_owned(),
                s.mode,
                s.area,
                s.client,
                s.profile.clone(),
                s.sid.clone(),
            )
        })
        .collect();
    stores.sort_by(|a, b| a.0.cmp(&b.0));
    stores
}

fn found(vol: &MemoryVolume, above: &[&str]) -> (RootKind, Vec<Found>, usize) {
    let above: Vec<String> = above.iter().map(|s| s.to_string()).collect();
    let l = locate(vol, &above, false).unwrap();
    (
        l.reading.kind,
        stores_of(&l.discovery),
        l.discovery.profiles,
    )
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[test]
fn a_volume_yields_service_profiles_windows_old_and_xp_all_users_stores() {
    let vol = MemoryVolume::new()
        .file("Users/alice/AppData/Local/Microsoft/MSIPC/CERT-Machine.drm", b"x")
        .dir("Users/Public")
        .file("Windows/System32/config/systemprofile/AppData/Local/Microsoft/MSIPC/GIC-a.drm", b"x")
        .file("Windows/ServiceProfiles/NetworkService/AppData/Local/Microsoft/MSIPC/Templates/t.xml", b"x")
        .file("Windows.old/ProgramData/Microsoft/MSIPC/Server/S-1-5-20/GIC-b.drm", b"x")
        .file("Documents and Settings/All Users/Application Data/Microsoft/DRM/Server/S-1-5-19/CLC.drm", b"x")
        .file("Documents and Settings/bob/Local Settings/Application Data/Microsoft/DRM/x.drm", b"x")
        .dir("Windows/System32/drivers");
    let (kind, stores, profiles) = found(&vol, &["mnt", "host1"]);
    assert_eq!(kind, RootKind::Volume);
    use RmsClient::*;
    use StoreArea::*;
    use StoreMode::*;
    assert_eq!(
        stores,
        vec![
            (
                "Documents and Settings/All Users/Application Data/Microsoft/DRM/Server/S-1-5-19"
                    .into(),
                Server,
                Licenses,
                Msdrm,
                None,
                s("S-1-5-19")
            ),
            (
                "Documents and Settings/bob/Local Settings/Application Data/Microsoft/DRM".into(),
                Client,
                Licenses,
                Msdrm,
                s("bob"),
                None
            ),
            (
                "Users/alice/AppData/Local/Microsoft/MSIPC".into(),
                Client,
                Licenses,
                Msipc,
                s("alice"),
                None
            ),
            (
                "Windows.old/ProgramData/Microsoft/MSIPC/Server/S-1-5-20".into(),
                Server,
                Licenses,
                Msipc,
                None,
                s("S-1-5-20")
            ),
            (
                "Windows/ServiceProfiles/NetworkService/AppData/Local/Microsoft/MSIPC".into(),
                Client,
                Licenses,
                Msipc,
                s("NetworkService"),
                s("S-1-5-20")
            ),
            (
                "Windows/ServiceProfiles/NetworkService/AppData/Local/Microsoft/MSIPC/Templates"
                    .into(),
                Client,
                Templates,
                Msipc,
                s("NetworkService"),
                s("S-1-5-20")
            ),
            (
                "Windows/System32/config/systemprofile/AppData/Local/Microsoft/MSIPC".into(),
                Client,
                Licenses,
                Msipc,
                s("systemprofile"),
                s("S-1-5-18")
            ),
        ]
    );
    // alice, Public, All Users, bob, systemprofile, NetworkService.
    assert_eq!(profiles, 6);
    // Each folder on the way is listed once; nothing off the way is listed.
    let listings = vol.listings();
    assert!(listings.values().all(|&n| n == 1), "{listings:?}");
    assert!(!listings.contains_key("Windows/System32/drivers"));
    assert!(!listings.contains_key("Users/Public/AppData"));
}

#[test]
fn partial_copies_are_read_by_their_names() {
    let local = MemoryVolume::new().file("Microsoft/MSIPC/GIC-a.drm", b"x");
    let (kind, stores, _) = found(&local, &["case", "alice", "AppData", "Local"]);
    assert_eq!(kind, RootKind::Partial);
    assert_eq!(stores.len(), 1);
    assert_eq!(stores[0].0, "Microsoft/MSIPC");
    assert_eq!(stores[0].4, s("alice"));

    let appdata = MemoryVolume::new()
        .file("Local/Microsoft/MSIPC/GIC-a.drm", b"x")
        .file("Roaming/Microsoft/DRM/Templates/t.xml", b"x");
    let (kind, stores, _) = found(&appdata, &["copy", "bob", "AppData"]);
    assert_eq!(kind, RootKind::Partial);
    assert_eq!(stores.len(), 2);
    assert!(stores.iter().all(|s| s.4.as_deref() == Some("bob")));

    let server = MemoryVolume::new()
        .file("S-1-5-20/GIC-a.drm", b"x")
        .file("Templates/S-1-5-18/t.xml", b"x")
        .dir("Backup");
    let (kind, stores, _) = found(&server, &["case", "MSIPC", "Server"]);
    assert_eq!(kind, RootKind::Partial);
    assert_eq!(
        stores
            .iter()
            .map(|s| (s.0.as_str(), s.2))
            .collect::<Vec<_>>(),
        vec![
            ("S-1-5-20", StoreArea::Licenses),
            ("Templates/S-1-5-18", StoreArea::Templates)
        ]
    );

    let program_data = MemoryVolume::new().file("Microsoft/DRM/Server/S-1-5-20/CLC.drm", b"x");
    let (kind, stores, _) = found(&program_data, &["case", "ProgramData"]);
    assert_eq!(kind, RootKind::Partial);
    assert_eq!(stores[0].3, RmsClient::Msdrm);
}

#[test]
fn a_bare_msipc_folder_is_a_server_store_parent_only_when_it_holds_server() {
    let server = MemoryVolume::new().file("Server/S-1-5-20/GIC-a.drm", b"x");
    let (_, stores, _) = found(&server, &["MSIPC"]);
    assert_eq!(stores.len(), 1);
    assert_eq!(stores[0].1, StoreMode::Server);
    let client = MemoryVolume::new().file("GIC-a.drm", b"x");
    let (kind, stores, _) = found(&client, &["MSIPC"]);
    assert_eq!(kind, RootKind::StoreFolder);
    assert_eq!(stores.len(), 1);
    assert_eq!(stores[0].1, StoreMode::Client);
}

#[test]
fn xp_profile_shares_and_empty_volumes_are_recognised() {
    let share = MemoryVolume::new()
        .file(
            "carol/Local Settings/Application Data/Microsoft/DRM/x.drm",
            b"x",
        )
        .file("dan/Application Data/Microsoft/DRM/Templates/t.xml", b"x");
    let (kind, stores, profiles) = found(&share, &["srv", "profiles"]);
    assert_eq!(kind, RootKind::ProfileFolder);
    assert_eq!(stores.len(), 2);
    assert_eq!(profiles, 2);
    // Every reading of the root is resolved in one pass: each folder once.
    let listings = share.listings();
    assert!(listings.values().all(|&n| n == 1), "{listings:?}");
    // A volume without stores is a result, not an error.
    let empty = MemoryVolume::new()
        .dir("Users/alice/AppData/Local")
        .dir("Windows");
    let (kind, stores, profiles) = found(&empty, &["host2"]);
    assert_eq!((kind, stores.len(), profiles), (RootKind::Volume, 0, 1));
}

#[test]
fn an_unrecognised_root_gets_advice_that_fits_it() {
    let docs = MemoryVolume::new().file("Reports/q1.docx", b"x");
    let err = locate(&docs, &["Documents".to_string()], false).unwrap_err();
    assert!(err.contains("it holds Reports/"), "{err}");
    assert!(err.contains("--deep"), "{err}");
    let empty = MemoryVolume::new();
    let err = locate(&empty, &[], false).unwrap_err();
    assert!(err.contains("the folder is empty"), "{err}");
}

#[test]
fn deep_reads_found_store_folders_by_their_names() {
    let vol = MemoryVolume::new()
        .file(
            "odd/place/bob/AppData/Local/Microsoft/MSIPC/GIC-a.drm",
            b"x",
        )
        .file("odd/pd/Microsoft/MSIPC/Server/S-1-5-20/GIC-b.drm", b"x")
        .file(
            "odd/pd/Microsoft/MSIPC/Server/Templates/S-1-5-18/t.xml",
            b"x",
        );
    let l = locate(&vol, &[], true).unwrap();
    let got: Vec<(String, StoreMode, Option<String>)> = stores_of(&l.discovery)
        .into_iter()
        .map(|(dir, mode, _, _, profile, _)| (dir, mode, profile))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "odd/pd/Microsoft/MSIPC/Server/S-1-5-20".into(),
                StoreMode::Server,
                None
            ),
            (
                "odd/pd/Microsoft/MSIPC/Server/Templates/S-1-5-18".into(),
                StoreMode::Server,
                None
            ),
            (
                "odd/place/bob/AppData/Local/Microsoft/MSIPC".into(),
                StoreMode::Client,
                s("bob")
            ),
        ]
    );
    assert_eq!(l.discovery.profiles, 1);
}
