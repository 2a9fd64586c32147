//! Disk images and profile containers read without mounting: the fixture
//! images (made by `fixtures/images/make-images.sh` with Debian's tools)
//! read through every layer, checked against what the script put in.

use std::collections::BTreeMap;
use std::path::Path;

use rmsweep_fixtures::images;
use rmsweep_scanner::volume::host::{HostVolume, Names};
use rmsweep_scanner::volume::image::container::{self, Format};
use rmsweep_scanner::volume::image::ntfs::NtfsVolume;
use rmsweep_scanner::volume::image::partition::{self, VolumeKind};
use rmsweep_scanner::volume::{EntryKind, ReadOptions, VPath, Volume};
use sha2::{Digest, Sha256};

/// What the script put into `image`: path inside the volume → (SHA-256, size).
fn contents(image: &str) -> BTreeMap<String, (String, u64)> {
    images::contents(image)
        .into_iter()
        .map(|(k, v)| (k, (v.sha256, v.size)))
        .collect()
}

fn unpack(dir: &Path, names: &[&str]) {
    images::unpack(dir, names).unwrap();
}

/// Every regular file of a volume: path → (SHA-256, size), or the read error.
fn walk(vol: &dyn Volume) -> BTreeMap<String, Result<(String, u64), String>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![VPath::root()];
    let opts = ReadOptions::default();
    let mut buf = Vec::new();
    while let Some(dir) = stack.pop() {
        for e in vol.list(&dir).unwrap() {
            match e.kind {
                EntryKind::Dir => stack.push(e.path),
                EntryKind::File => {
                    let key = String::from_utf8(e.path.as_bytes().to_vec()).unwrap();
                    let got = vol
                        .read(&e.path, &opts, &mut buf)
                        .map(|(st, b)| (hex(&Sha256::digest(&*b)), st.size))
                        .map_err(|e| e.to_string());
                    out.insert(key, got);
                }
                k => panic!("unexpected {k:?} at {:?}", e.path),
            }
        }
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Each volume of a disk: its number, kind and (for NTFS) the opened volume.
type Volumes = Vec<(Option<u32>, VolumeKind, Option<NtfsVolume>)>;

fn ntfs_volumes(dir: &Path, file: &str) -> (Format, Volumes) {
    let host = HostVolume::new(dir, Names::AsStored).unwrap();
    let disk = container::open(&host, &VPath::from_bytes(file))
        .unwrap()
        .unwrap();
    let parts = partition::partitions(&disk.source).unwrap();
    let vols = parts
        .into_iter()
        .map(|p| {
            let vol = (p.kind == VolumeKind::Ntfs).then(|| {
                NtfsVolume::open(p.source.clone(), dir.join(file), format!("test {file}")).unwrap()
            });
            (p.number, p.kind, vol)
        })
        .collect();
    (disk.format, vols)
}

const COMPRESSED: &str = "Users/zoë/AppData/Local/Microsoft/MSIPC/Templates/compressed.xml";

#[test]
fn every_container_of_the_gpt_disk_gives_every_file_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let files = [
        "ws01-gpt.raw",
        "ws01-gpt.vhdx",
        "ws01-gpt.vhd",
        "ws01-gpt.E01",
    ];
    unpack(tmp.path(), &files);
    let want = contents("ws01-gpt");
    assert_eq!(want.len(), 414);
    for (file, format) in files
        .iter()
        .zip([Format::Raw, Format::Vhdx, Format::Vhd, Format::Ewf])
    {
        let (got_format, vols) = ntfs_volumes(tmp.path(), file);
        assert_eq!(got_format, format, "{file}");
        let kinds: Vec<_> = vols.iter().map(|(n, k, _)| (*n, k.clone())).collect();
        assert_eq!(
            kinds,
            [(Some(1), VolumeKind::Other), (Some(2), VolumeKind::Ntfs)],
            "{file}"
        );
        let got = walk(vols[1].2.as_ref().unwrap());
        let diff = differences(&got, &want);
        assert!(diff.is_empty(), "{file}: {diff:#?}");
    }
}

/// Where a walk of a volume differs from what is expected.
fn differences(
    got: &BTreeMap<String, Result<(String, u64), String>>,
    want: &BTreeMap<String, (String, u64)>,
) -> Vec<String> {
    got.iter()
        .filter(|(k, v)| want.get(*k).map(|w| Ok(w.clone())).as_ref() != Some(*v))
        .map(|(k, v)| format!("got {k}: {v:?}"))
        .chain(
            want.keys()
                .filter(|k| !got.contains_key(*k))
                .map(|k| format!("missing {k}")),
        )
        .collect()
}

#[test]
fn a_differencing_disk_is_read_through_its_parent_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let changed = images::differencing();
    let mut want = contents("ws01-gpt");
    for r in &changed.removed {
        assert!(want.remove(r).is_some(), "{r} was in the parent");
    }
    want.extend(
        changed
            .added
            .into_iter()
            .map(|(k, p)| (k, (p.sha256, p.size))),
    );
    assert_eq!(want.len(), 415);
    for (child, parent) in images::CHILDREN {
        unpack(tmp.path(), &[child, parent]);
        let (_, vols) = ntfs_volumes(tmp.path(), child);
        let got = walk(vols[1].2.as_ref().unwrap());
        let diff = differences(&got, &want);
        assert!(diff.is_empty(), "{child}: {diff:#?}");
    }
}

#[test]
fn a_differencing_disk_without_its_own_parent_is_an_evidence_record() {
    let tmp = tempfile::tempdir().unwrap();
    let alone = tmp.path().join("alone");
    unpack(&alone, &["ws01-child.vhdx", "ws01-child.vhd"]);
    let got = scan(vec![
        Root::labelled(alone.join("ws01-child.vhdx"), "x"),
        Root::labelled(alone.join("ws01-child.vhd"), "x"),
    ]);
    let errors: Vec<&str> = got.unread.iter().map(|e| e.error.as_str()).collect();
    let missing = |kind: &str, parent: &str| {
        format!("differencing {kind} (an FSLogix RW.VHDX, a snapshot .avhdx): its parent disk {parent} is not beside it in {}: put the parent there under that name and scan again", alone.display())
    };
    assert_eq!(
        errors,
        [
            missing("VHD", "ws01-gpt.vhd"),
            missing("VHDX", "ws01-gpt.vhdx")
        ]
    );
    assert!(got.files.is_empty());
    // A disk of the parent's name that is not the parent: refused, not mixed.
    unpack(&alone, &["kape-ws03.vhdx"]);
    std::fs::rename(alone.join("kape-ws03.vhdx"), alone.join("ws01-gpt.vhdx")).unwrap();
    let got = scan(vec![Root::labelled(alone.join("ws01-child.vhdx"), "x")]);
    assert_eq!(got.unread.len(), 1);
    let e = &got.unread[0].error;
    assert!(
        e.starts_with("differencing VHDX: its parent ws01-gpt.vhdx is not the disk it was made from (the child names {")
            && e.ends_with("): reading through it would mix two disks"),
        "{e}"
    );
    assert!(got.files.is_empty());
}

#[test]
fn an_fslogix_rw_vhdx_is_the_newer_state_of_the_profile_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let share = tmp.path().join("profiles");
    let parent = images::SHARES[0];
    unpack(&share, &[parent, images::FSLOGIX_RW]);
    let got = scan(vec![Root::labelled(&share, "FS01")]);
    assert!(got.unread.is_empty(), "{:?}", got.unread);
    // Store files by container: path inside the profile volume → SHA-256.
    let mut per: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for r in &got.files {
        assert_eq!(
            (r.profile.as_deref(), r.sid.as_deref()),
            (Some("alice"), Some("S-1-5-21-1-2-3-1001"))
        );
        assert_eq!(r.image.container_kind.unwrap().as_str(), "fslogix_profile");
        let c = r.image.container.as_deref().unwrap();
        let inner = below(below(&r.path, c), "p2");
        per.entry(below(c, share.to_str().unwrap()).to_string())
            .or_default()
            .insert(inner.to_string(), r.sha256.clone().unwrap());
    }
    let put = |m: BTreeMap<String, images::Put>| -> BTreeMap<String, String> {
        m.into_iter()
            .filter(|(k, _)| k.contains("/Microsoft/"))
            .map(|(k, p)| (k, p.sha256))
            .collect()
    };
    let before = put(images::contents(parent));
    let mut after = before.clone();
    after.extend(put(images::differencing().rw_added));
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(per.get(parent), Some(&before));
    assert_eq!(per.get(images::FSLOGIX_RW), Some(&after));
    assert_eq!(per.len(), 2);
}

#[test]
fn a_split_raw_mbr_disk_is_read_as_one() {
    let tmp = tempfile::tempdir().unwrap();
    unpack(
        tmp.path(),
        &[
            "ws02-mbr.001",
            "ws02-mbr.002",
            "ws02-mbr.003",
            "ws02-mbr.004",
        ],
    );
    let host = HostVolume::new(tmp.path(), Names::AsStored).unwrap();
    let disk = container::open(&host, &VPath::from_bytes("ws02-mbr.001"))
        .unwrap()
        .unwrap();
    assert_eq!(disk.pieces.len(), 4);
    assert_eq!(disk.source.len(), 16 * 1024 * 1024);
    let (_, vols) = ntfs_volumes(tmp.path(), "ws02-mbr.001");
    assert_eq!(vols.len(), 1);
    assert_eq!((vols[0].0, vols[0].1.clone()), (Some(1), VolumeKind::Ntfs));
    let got = walk(vols[0].2.as_ref().unwrap());
    let want: BTreeMap<_, _> = contents("ws02-mbr")
        .into_iter()
        .map(|(k, v)| (k, Ok(v)))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn a_split_e01_is_read_as_one_from_its_first_segment() {
    let tmp = tempfile::tempdir().unwrap();
    unpack(tmp.path(), &images::WS02_E01);
    let host = HostVolume::new(tmp.path(), Names::AsStored).unwrap();
    let disk = container::open(&host, &VPath::from_bytes("ws02-mbr.E01"))
        .unwrap()
        .unwrap();
    assert_eq!(disk.format, Format::Ewf);
    let pieces: Vec<_> = disk
        .pieces
        .iter()
        .map(|p| String::from_utf8(p.as_bytes().to_vec()).unwrap())
        .collect();
    assert_eq!(pieces, images::WS02_E01);
    let (_, vols) = ntfs_volumes(tmp.path(), "ws02-mbr.E01");
    let got = walk(vols[0].2.as_ref().unwrap());
    let want: BTreeMap<_, _> = contents("ws02-mbr")
        .into_iter()
        .map(|(k, v)| (k, Ok(v)))
        .collect();
    assert_eq!(got, want);
    // Without its last segment the image is damaged, and says so.
    std::fs::remove_file(tmp.path().join("ws02-mbr.E05")).unwrap();
    let err = container::open(&host, &VPath::from_bytes("ws02-mbr.E01"))
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("damaged E01 container: its chunk tables cover 16646144 of 16777216 bytes: segments are missing or truncated (the last one found is ws02-mbr.E04)")
    );
}

#[test]
fn a_kape_collection_written_as_a_vhdx_is_read_like_the_collection() {
    let tmp = tempfile::tempdir().unwrap();
    unpack(tmp.path(), &["kape-ws03.vhdx"]);
    let image = tmp.path().join("kape-ws03.vhdx");
    let got = scan(vec![Root::new(&image)]);
    let put = contents("kape-ws03.vhdx");
    let base = format!("{}/p2", image.display());
    // The same drive as a folder: what the collection's image must give.
    let drive = tmp.path().join("C");
    let sample = images::images_dir().join("../sample-volume");
    let copy = |from: &str, to: &str| {
        let status = std::process::Command::new("cp")
            .args([
                "-r",
                sample.join(from).to_str().unwrap(),
                drive.join(to).to_str().unwrap(),
            ])
            .status()
            .unwrap();
        assert!(status.success());
    };
    std::fs::create_dir_all(drive.join("Users")).unwrap();
    std::fs::create_dir_all(drive.join("ProgramData")).unwrap();
    copy("Users/frank", "Users/");
    copy("ProgramData/Microsoft", "ProgramData/");
    let folder = scan(vec![Root::labelled(&drive, "folder")]);
    let want: BTreeMap<String, Option<String>> =
        sha_by_path(&folder.files, drive.to_str().unwrap());
    let got_files = sha_by_path(&got.files, &format!("{base}/C"));
    assert_eq!(got_files, want);
    assert_eq!(want.len(), 19);
    for r in &got.files {
        assert_eq!(r.label, "kape-ws03");
        assert_eq!(r.drive.as_deref(), Some("C:"));
        let inner = below(&r.path, &base);
        assert_eq!(r.sha256.as_ref(), Some(&put[inner].0), "{inner}");
        // volume_path is the path on the drive the collection copied.
        let on_drive = inner.strip_prefix("C/").unwrap().replace('/', "\\");
        assert_eq!(
            r.volume_path.as_deref(),
            Some(format!("\\{on_drive}").as_str())
        );
    }
}

#[test]
fn ntfs_lookups_fold_case_with_upcase_and_keep_twins_apart() {
    let tmp = tempfile::tempdir().unwrap();
    unpack(tmp.path(), &["ws01-gpt.raw"]);
    let (_, vols) = ntfs_volumes(tmp.path(), "ws01-gpt.raw");
    let vol = vols[1].2.as_ref().unwrap();
    // Both twins are listed and each resolves to itself.
    let dave: Vec<String> = vol
        .list(&VPath::from_bytes("Users/dave"))
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(
        dave.contains(&"AppData".to_string()) && dave.contains(&"appdata".to_string()),
        "{dave:?}"
    );
    let templates = vol
        .list(&VPath::from_bytes(
            "Users/dave/appdata/local/microsoft/msipc/TEMPLATES",
        ))
        .unwrap();
    assert_eq!(templates.len(), 4);
    // Non-ASCII names are found whatever their case, as Windows finds them.
    let st = vol
        .stat(&VPath::from_bytes(
            "USERS/ZOË/APPDATA/LOCAL/MICROSOFT/MSIPC/ωMEGA.XML",
        ))
        .unwrap();
    assert_eq!(st.size, 6214);
    assert_eq!(
        st.modified.unwrap().to_rfc3339(),
        "2024-03-01T12:00:00+00:00"
    );
    let meta = st.ntfs.unwrap();
    assert!(meta.mft_entry >= 16);
    assert_eq!(meta.volume_serial.len(), 16);
    // The alternate data stream is not a file; the sparse file reads as zeros then END.
    let msipc = vol
        .list(&VPath::from_bytes(
            "Users/zoë/AppData/Local/Microsoft/MSIPC/Templates",
        ))
        .unwrap();
    let names: Vec<_> = msipc.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["9b336a35-bcea-441f-b11b-613649fd751d.xml", "compressed.xml"]
    );
    let mut tail = [0u8; 4];
    let sparse = VPath::from_bytes("Users/zoë/AppData/Local/Microsoft/MSIPC/sparse.drm");
    assert_eq!(
        vol.read_at(&sparse, 5 * 1024 * 1024 - 1, &mut tail)
            .unwrap(),
        4
    );
    assert_eq!(&tail, b"\0END");
    // Files written into the compressed folder are stored compressed (and
    // read back as what was put in: see the byte-for-byte test).
    for name in ["compressed.xml", "9b336a35-bcea-441f-b11b-613649fd751d.xml"] {
        let p = format!("Users/zoë/AppData/Local/Microsoft/MSIPC/Templates/{name}");
        let st = vol.stat(&VPath::from_bytes(p.as_str())).unwrap();
        assert!(st.ntfs.unwrap().compressed, "{p}");
    }
    let mut middle = [0u8; 16];
    assert_eq!(
        vol.read_at(&VPath::from_bytes(COMPRESSED), 40_000, &mut middle)
            .unwrap(),
        16
    );
    let whole = std::fs::read(images::images_dir().join("../sample-volume/Users/frank/AppData/Local/Microsoft/MSIPC/Templates/9b336a35-bcea-441f-b11b-613649fd751d.xml")).unwrap();
    let repeated: Vec<u8> = whole
        .iter()
        .cycle()
        .take(8 * whole.len())
        .copied()
        .collect();
    assert_eq!(&middle, &repeated[40_000..40_016]);
    assert!(!vol.stat(&sparse).unwrap().ntfs.unwrap().compressed);
}

// ---- Planning and scanning image and container roots ----

use rmsweep_scanner::record::EvidenceRecord;
use rmsweep_scanner::{plan, run, Found, Record, Root, ScanConfig};

/// Everything a scan of `roots` gives: store files, hive records (path,
/// sha256, settings), evidence records.
#[derive(Default)]
struct Scanned {
    files: Vec<Record>,
    hives: Vec<(String, Option<String>, usize)>,
    unread: Vec<EvidenceRecord>,
}

fn scan(roots: Vec<Root>) -> Scanned {
    let cfg = ScanConfig {
        roots,
        deep: false,
        threads: 2,
        read: ReadOptions::default(),
        cancel: Default::default(),
        io: Default::default(),
    };
    let p = plan(&cfg).expect("plan");
    let mut out = Scanned::default();
    run(&p, &cfg, |f| {
        match f {
            Found::File(r) => out.files.push(r),
            Found::Hive(h) => {
                let hive = h.hive();
                out.hives
                    .push((hive.path.clone(), hive.sha256.clone(), h.records.len() - 1));
                out.files.extend(h.files);
            }
            Found::Evidence(e) => out.unread.push(e),
        }
        Ok::<(), ()>(())
    })
    .unwrap();
    out
}

/// The path of a record below `base/` (its path inside the volume).
/// Each record's SHA-256 by its path below `base`.
fn sha_by_path(files: &[Record], base: &str) -> BTreeMap<String, Option<String>> {
    files
        .iter()
        .map(|r| (below(&r.path, base).to_string(), r.sha256.clone()))
        .collect()
}

fn below<'a>(path: &'a str, base: &str) -> &'a str {
    path.strip_prefix(base)
        .and_then(|p| p.strip_prefix('/'))
        .unwrap_or_else(|| panic!("{path} is not below {base}"))
}

#[test]
fn a_disk_image_scans_like_the_folder_it_was_made_from() {
    let tmp = tempfile::tempdir().unwrap();
    unpack(tmp.path(), &["ws01-gpt.E01", "ws01-gpt.vhd"]);
    // The sample volume as a folder: what the image must give for the same files.
    let sample = images::images_dir()
        .join("../sample-volume")
        .canonicalize()
        .unwrap();
    let folder = scan(vec![Root::labelled(&sample, "folder")]);
    let want: BTreeMap<String, Option<String>> =
        sha_by_path(&folder.files, sample.to_str().unwrap());
    assert_eq!(want.len(), 79);
    // The same hive files in a folder: what the image must give for them.
    let hive_dir = tmp.path().join("hives");
    let hive_files = [
        ("SOFTWARE", "Windows/System32/config/SOFTWARE"),
        ("SYSTEM", "Windows/System32/config/SYSTEM"),
        ("NTUSER.DAT", "Users/dave/NTUSER.DAT"),
        (
            "UsrClass.dat",
            "Users/dave/AppData/Local/Microsoft/Windows/UsrClass.dat",
        ),
    ];
    for (from, to) in hive_files {
        let to = hive_dir.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(images::images_dir().join("../hives").join(from), to).unwrap();
    }
    let want_hives: Vec<_> = scan(vec![Root::labelled(&hive_dir, "folder")])
        .hives
        .into_iter()
        .map(|(p, sha, n)| (below(&p, hive_dir.to_str().unwrap()).to_string(), sha, n))
        .collect();
    assert_eq!(want_hives.len(), 4);
    let put = contents("ws01-gpt");
    for (path, sha, _) in &want_hives {
        assert_eq!(sha.as_ref(), Some(&put[path].0));
    }
    for (name, format) in [("ws01-gpt.E01", "E01"), ("ws01-gpt.vhd", "VHD")] {
        let image = tmp.path().join(name);
        let got = scan(vec![Root::new(&image)]);
        let base = format!("{}/p2", image.display());
        let mut sample_part = BTreeMap::new();
        let mut zoe = BTreeMap::new();
        let mut serials = std::collections::BTreeSet::new();
        for r in &got.files {
            // The computer name from the image's own SYSTEM hive labels it.
            assert_eq!(r.label, "WS01");
            assert_eq!(r.image.container.as_deref(), Some(image.to_str().unwrap()));
            assert_eq!(r.image.container_format.as_deref(), Some(format));
            assert_eq!(r.image.partition, Some(2));
            let ntfs = r.image.ntfs.as_ref().expect("NTFS metadata");
            serials.insert(ntfs.volume_serial.clone());
            assert!(ntfs.mft_entry >= 16, "{}", r.path);
            let inner = below(&r.path, &base).to_string();
            assert_eq!(
                r.volume_path.as_deref(),
                Some(format!("\\{}", inner.replace('/', "\\")).as_str())
            );
            if let Some(sha) = &r.sha256 {
                assert_eq!(Some(sha), put.get(&inner).map(|p| &p.0), "{inner}");
            }
            if inner.starts_with("Users/zoë/") {
                zoe.insert(inner, r.content.error.clone());
            } else {
                sample_part.insert(inner, r.sha256.clone());
            }
        }
        assert_eq!(serials.len(), 1);
        assert_eq!(sample_part, want, "{name}");
        // zoë: 300 unmanaged templates, Ωmega.xml, the sparse file (no
        // XrML), the two compressed templates (read decompressed).
        assert_eq!(zoe.len(), 304, "{name}");
        let errors: Vec<_> = zoe
            .iter()
            .filter_map(|(k, e)| Some((k.as_str(), e.as_deref()?)))
            .collect();
        assert_eq!(
            errors,
            [(
                "Users/zoë/AppData/Local/Microsoft/MSIPC/sparse.drm",
                "no XrML document found: not an RMS license or template file"
            ),]
        );
        // The hives inside the image, each with the hash of what was put in.
        let hives: Vec<_> = got
            .hives
            .iter()
            .map(|(p, sha, n)| (below(p, &base).to_string(), sha.clone(), *n))
            .collect();
        assert_eq!(hives, want_hives, "{name}");
        assert!(got.unread.is_empty());
    }
}

/// (container below the share, kind, partition, profile, SID).
type ContainerKey = (String, String, Option<u32>, Option<String>, Option<String>);

#[test]
fn profile_shares_give_one_profile_per_container_with_user_and_sid() {
    let tmp = tempfile::tempdir().unwrap();
    let share = tmp.path().join("profiles");
    unpack(&share, &images::SHARES);
    let got = scan(vec![Root::labelled(&share, "FS01")]);
    assert!(got.unread.is_empty());
    // (container, kind, partition, profile, SID) → store files.
    let mut per: BTreeMap<ContainerKey, usize> = BTreeMap::new();
    for r in &got.files {
        assert_eq!(r.label, "FS01");
        let c = r.image.container.as_deref().unwrap();
        let key = (
            below(c, share.to_str().unwrap()).to_string(),
            r.image.container_kind.unwrap().as_str().to_string(),
            r.image.partition,
            r.profile.clone(),
            r.sid.clone(),
        );
        *per.entry(key).or_default() += 1;
        // Each file is what the script put into its container.
        let inner = below(&r.path, c);
        let inner = inner
            .split_once('/')
            .filter(|(p, _)| p.starts_with('p'))
            .map_or(inner, |(_, rest)| rest);
        assert_eq!(
            r.sha256.as_ref(),
            Some(
                &contents(
                    below(c, tmp.path().to_str().unwrap())
                        .replace("profiles/", "")
                        .as_str()
                )[inner]
                    .0
            ),
            "{}",
            r.path
        );
    }
    let key = |c: &str, k: &str, p: Option<u32>, user: Option<&str>, sid: Option<&str>| {
        (
            c.to_string(),
            k.to_string(),
            p,
            user.map(str::to_string),
            sid.map(str::to_string),
        )
    };
    let want: BTreeMap<_, _> = [
        (
            key(
                "fslogix/Profile_carol.vhdx",
                "fslogix_profile",
                Some(2),
                Some("carol"),
                None,
            ),
            4,
        ),
        (
            key(
                "fslogix/S-1-5-21-1-2-3-1001_alice/Profile_alice.vhdx",
                "fslogix_profile",
                Some(2),
                Some("alice"),
                Some("S-1-5-21-1-2-3-1001"),
            ),
            4,
        ),
        (
            key(
                "fslogix/bob_S-1-5-21-1-2-3-1002/Profile_bob.vhd",
                "fslogix_profile",
                Some(1),
                Some("bob"),
                Some("S-1-5-21-1-2-3-1002"),
            ),
            4,
        ),
        (
            key(
                "upd/UVHD-S-1-5-21-1-2-3-1003.vhdx",
                "upd",
                None,
                None,
                Some("S-1-5-21-1-2-3-1003"),
            ),
            10,
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(per, want);
    // Every profile's NTUSER.DAT is read, under \Profile for FSLogix.
    let hives: Vec<_> = got
        .hives
        .iter()
        .map(|(p, _, _)| below(p, share.to_str().unwrap()).to_string())
        .collect();
    assert_eq!(
        hives,
        [
            "fslogix/Profile_carol.vhdx/p2/Profile/NTUSER.DAT",
            "fslogix/S-1-5-21-1-2-3-1001_alice/Profile_alice.vhdx/p2/Profile/NTUSER.DAT",
            "fslogix/bob_S-1-5-21-1-2-3-1002/Profile_bob.vhd/p1/Profile/NTUSER.DAT",
            "upd/UVHD-S-1-5-21-1-2-3-1003.vhdx/NTUSER.DAT",
        ]
    );
    let alice = got
        .files
        .iter()
        .find(|r| r.profile.as_deref() == Some("alice"))
        .unwrap();
    assert!(
        alice
            .volume_path
            .as_deref()
            .unwrap()
            .starts_with("\\Profile\\AppData\\"),
        "{:?}",
        alice.volume_path
    );
}

#[test]
fn a_container_on_an_imaged_file_server_is_read_through_it() {
    let tmp = tempfile::tempdir().unwrap();
    unpack(tmp.path(), &["fileserver.raw"]);
    let image = tmp.path().join("fileserver.raw");
    let got = scan(vec![Root::new(&image)]);
    let container = format!(
        "{}/p1/Profiles/S-1-5-21-1-2-3-1004_dan/Profile_dan.vhdx",
        image.display()
    );
    let put = contents("fileserver.raw/Profiles/S-1-5-21-1-2-3-1004_dan/Profile_dan.vhdx");
    assert_eq!(got.files.len(), 4);
    for r in &got.files {
        assert_eq!(r.label, "fileserver");
        assert_eq!(r.image.container.as_deref(), Some(container.as_str()));
        assert_eq!(
            r.image.container_kind.map(|k| k.as_str()),
            Some("fslogix_profile")
        );
        assert_eq!(
            (r.profile.as_deref(), r.sid.as_deref()),
            (Some("dan"), Some("S-1-5-21-1-2-3-1004"))
        );
        let inner = below(&r.path, &format!("{container}/p2"));
        assert_eq!(r.sha256.as_ref(), Some(&put[inner].0));
    }
    assert_eq!(got.hives.len(), 1);
}

/// What a scan of one damaged image gives: its evidence records' errors and
/// how many store files were still read.
fn damaged(dir: &Path, name: &str, bytes: &[u8]) -> (Vec<String>, usize) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let got = scan(vec![Root::labelled(&path, "x")]);
    for e in &got.unread {
        // A partition's failure is keyed by the partition.
        let want = match e.image.partition {
            Some(n) => format!("{}/p{n}", path.display()),
            None => path.display().to_string(),
        };
        assert_eq!(e.path, want);
        assert_eq!(e.image.container.as_deref(), path.to_str());
        assert_eq!(e.size, Some(bytes.len() as u64));
    }
    (
        got.unread.into_iter().map(|e| e.error).collect(),
        got.files.len(),
    )
}

#[test]
fn damaged_images_become_evidence_records_naming_what_was_damaged() {
    let tmp = tempfile::tempdir().unwrap();
    unpack(
        tmp.path(),
        &["ws01-gpt.raw", "ws01-gpt.vhdx", "ws01-gpt.E01"],
    );
    let raw = std::fs::read(tmp.path().join("ws01-gpt.raw")).unwrap();
    let vhdx = std::fs::read(tmp.path().join("ws01-gpt.vhdx")).unwrap();
    let e01 = std::fs::read(tmp.path().join("ws01-gpt.E01")).unwrap();
    let p2 = 34816 * 512;
    let d = tmp.path().join("damaged");
    std::fs::create_dir(&d).unwrap();

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated.vhdx", vhdx[..4 << 20].to_vec()),
        ("bad-headers.vhdx", {
            let mut b = vhdx.clone();
            b[(64 << 10) + 100] ^= 0xFF;
            b[(128 << 10) + 100] ^= 0xFF;
            b
        }),
        ("truncated.E01", e01[..e01.len() / 2].to_vec()),
        ("bitlocker.raw", {
            let mut b = raw.clone();
            b[p2 + 3..p2 + 11].copy_from_slice(b"-FVE-FS-");
            b
        }),
        ("bad-mft.raw", {
            let mut b = raw.clone();
            b[p2 + 0x30..p2 + 0x38].copy_from_slice(&u64::MAX.to_le_bytes());
            b
        }),
        ("primary-gpt-lost.raw", {
            let mut b = raw.clone();
            b[..34 * 512].fill(0);
            b
        }),
        ("no-table.raw", {
            let mut b = raw.clone();
            let end = b.len();
            b[..34 * 512].fill(0);
            b[end - 33 * 512..].fill(0);
            b[3..11].copy_from_slice(b"MSDOS5.0");
            b[510..512].copy_from_slice(&[0x55, 0xAA]);
            b
        }),
    ];
    let got: Vec<_> = cases
        .into_iter()
        .map(|(name, bytes)| (name, damaged(&d, name, &bytes)))
        .collect();
    let one = |e: &str| (vec![e.to_string()], 0);
    assert_eq!(
        got,
        [
            ("truncated.vhdx", one("damaged VHDX container: truncated: it ends at byte 8389118, 2 bytes short of what it describes")),
            ("bad-headers.vhdx", one("damaged VHDX container: no valid VHDX header found")),
            ("truncated.E01", one("damaged E01 container: its chunk tables cover 0 of 67108864 bytes: segments are missing or truncated (the last one found is truncated.E01)")),
            ("bitlocker.raw", one("BitLocker-encrypted partition 2: not readable without its recovery key; decrypt a copy of the image with your own tools and scan that")),
            ("bad-mft.raw", one("damaged NTFS volume (partition 2): The Logical Cluster Number (LCN) 18446744073709551615 is too big to be multiplied by the cluster size")),
            // The backup GPT at the end of the disk still describes it.
            ("primary-gpt-lost.raw", (vec![], 383)),
            ("no-table.raw", one("no NTFS volume on this disk (its partition table lists no partition)")),
        ]
    );
    // A share file named like a container whose content is no disk image.
    let share = tmp.path().join("share/S-1-5-21-9-9-9-1010_junk");
    std::fs::create_dir_all(&share).unwrap();
    std::fs::write(share.join("Profile_junk.vhdx"), b"not a disk").unwrap();
    let got = scan(vec![Root::labelled(tmp.path().join("share"), "FS")]);
    let e: Vec<_> = got
        .unread
        .iter()
        .map(|e| {
            (
                e.error.as_str(),
                e.profile.as_deref(),
                e.sid.as_deref(),
                e.image.container_kind.map(|k| k.as_str()),
            )
        })
        .collect();
    assert_eq!(
        e,
        [(
            "named like an FSLogix profile container, but its content is no disk image rmsweep reads (VHD, VHDX): not read",
            Some("junk"),
            Some("S-1-5-21-9-9-9-1010"),
            Some("fslogix_profile")
        )]
    );
}

#[test]
fn every_container_format_gives_the_raw_disk_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    unpack(tmp.path(), &images::WS01);
    let host = HostVolume::new(tmp.path(), Names::AsStored).unwrap();
    let raw = std::fs::read(tmp.path().join("ws01-gpt.raw")).unwrap();
    for name in ["ws01-gpt.vhdx", "ws01-gpt.vhd", "ws01-gpt.E01"] {
        let disk = container::open(&host, &VPath::from_bytes(name))
            .unwrap()
            .unwrap();
        assert_eq!(disk.source.len(), raw.len() as u64, "{name}");
        let mut buf = vec![0u8; 1 << 20];
        for (i, want) in raw.chunks(1 << 20).enumerate() {
            let n = disk.source.read_at((i << 20) as u64, &mut buf).unwrap();
            assert!(buf[..n] == *want, "{name}: MiB {i} differs");
        }
    }
}

/// A volume the `ntfs` crate panics on (a damaged index entry, found by the
/// `ntfs` fuzz target from its seed): every call is an error, never a panic.
#[test]
fn a_volume_the_ntfs_library_panics_on_gives_errors() {
    let compressed = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ntfs-index-panic.vol.xz"),
    )
    .unwrap();
    let mut bytes = Vec::new();
    lzma_rs::xz_decompress(&mut &compressed[..], &mut bytes).unwrap();
    let vol =
        NtfsVolume::open(std::sync::Arc::new(bytes), "/damaged".into(), "test".into()).unwrap();
    // Somewhere below the root the library panics; each call says so.
    let mut panicked = 0;
    let mut stack = vec![VPath::root()];
    while let Some(dir) = stack.pop() {
        match vol.list(&dir) {
            Ok(entries) => {
                for e in entries {
                    if e.kind == EntryKind::Dir {
                        stack.push(e.path.clone());
                    }
                    let _ = vol.stat(&e.path);
                    let _ = vol.open_source(&e.path);
                }
            }
            Err(e) => {
                panicked += usize::from(
                    e.to_string()
                        .starts_with("the NTFS reader failed on a folder listing"),
                )
            }
        }
    }
    assert!(panicked >= 1);
    assert!(vol
        .open_source(&VPath::from_bytes(
            "Users/a/AppData/Local/Microsoft/MSIPC/Templates/t.xml"
        ))
        .is_err());
}
