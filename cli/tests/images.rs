//! Disk images and profile containers end to end: scanned into an index,
//! queried by where they came from.

mod common;
use common::{exit, jsonl, rmsweep};
use rmsweep_fixtures::images;

#[test]
fn container_records_are_indexed_and_queryable_by_where_they_came_from() {
    let tmp = tempfile::tempdir().unwrap();
    let share = tmp.path().join("profiles");
    images::unpack(&share, &images::SHARES).unwrap();
    // A damaged container beside them: an evidence record, exit 2.
    std::fs::write(
        share.join("fslogix/Profile_eve.vhdx"),
        b"vhdxfile but nothing else",
    )
    .unwrap();
    let idx = tmp.path().join("index");
    let idx = idx.to_str().unwrap();
    let out = rmsweep(&[
        "scan",
        share.to_str().unwrap(),
        "--index",
        idx,
        "--label",
        "FS01",
    ]);
    let err = exit(&out, 2);
    assert!(
        err.contains("1 images or containers (kind:evidence)"),
        "{err}"
    );
    assert!(
        err.contains("(profile in an FSLogix profile container, label FS01)"),
        "{err}"
    );
    let search = |q: &str| {
        let out = rmsweep(&[
            "search", q, "--index", idx, "--format", "jsonl", "--limit", "1000",
        ]);
        jsonl(&out)
    };
    let fslogix = search("+container_kind:fslogix_profile -kind:setting -kind:evidence");
    assert_eq!(fslogix.len(), 12);
    assert_eq!(search("+container_kind:upd -kind:setting").len(), 10);
    assert_eq!(search("+partition:1 -kind:setting").len(), 4);
    let alice = format!(
        "{}/fslogix/S-1-5-21-1-2-3-1001_alice/Profile_alice.vhdx",
        share.canonicalize().unwrap().display()
    );
    let rows = search(&format!("container:\"{alice}\" AND kind:template"));
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r["profile"], "alice");
        assert_eq!(r["sid"], "S-1-5-21-1-2-3-1001");
        assert_eq!(r["container_format"], "VHDX");
        assert!(r["ntfs"]["mft_entry"].as_u64().unwrap() >= 16);
        assert!(r["path"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{alice}/p2/Profile/AppData/")));
    }
    let evidence = search("kind:evidence");
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0]["profile"], "eve");
    assert_eq!(evidence[0]["container_kind"], "fslogix_profile");
    assert!(
        evidence[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("damaged VHDX container: "),
        "{}",
        evidence[0]
    );
    // Once the container is mended (here: removed), a re-scan drops its record.
    std::fs::remove_file(share.join("fslogix/Profile_eve.vhdx")).unwrap();
    exit(
        &rmsweep(&[
            "scan",
            share.to_str().unwrap(),
            "--index",
            idx,
            "--label",
            "FS01",
            "--quiet",
        ]),
        0,
    );
    assert_eq!(search("kind:evidence").len(), 0);
    assert_eq!(
        search("+container_kind:fslogix_profile -kind:setting -kind:evidence").len(),
        12
    );
}
