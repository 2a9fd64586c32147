//! Where hives lie on a Windows volume: the machine hives under
//! `Windows\System32\config` (and `Windows.old`'s), and each profile's
//! `NTUSER.DAT` and `UsrClass.dat`, service-account profiles included
//! (their SIDs known from where they lie). Names match ignoring case; links
//! are never followed; transaction logs (`.LOG1`, `.LOG2`, `.LOG`) are taken
//! from the hive's own folder.

use super::HiveKind;
use crate::locate::locations::{PROFILE_PARENTS, SERVICE_PROFILES};
use crate::locate::RootKind;
use crate::volume::{Entry, EntryKind, VPath, Volume};

/// One hive file found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HiveFile {
    pub path: VPath,
    pub kind: HiveKind,
    /// The profile folder's name (NTUSER.DAT, UsrClass.dat).
    pub profile: Option<String>,
    /// A service account's SID, known from its profile's place.
    pub sid: Option<String>,
    /// Its transaction logs, in replay order (`.LOG1`, `.LOG2`, then `.LOG`).
    pub logs: Vec<VPath>,
}

/// Machine hives, relative to a volume root.
const MACHINE_HIVES: &[(&str, HiveKind)] = &[
    ("Windows/System32/config/SOFTWARE", HiveKind::Software),
    ("Windows/System32/config/SYSTEM", HiveKind::System),
    (
        "Windows.old/Windows/System32/config/SOFTWARE",
        HiveKind::Software,
    ),
    (
        "Windows.old/Windows/System32/config/SYSTEM",
        HiveKind::System,
    ),
];

/// A profile's hives, relative to the profile folder.
const PROFILE_HIVES: &[(&str, HiveKind)] = &[
    ("NTUSER.DAT", HiveKind::Ntuser),
    (
        "AppData/Local/Microsoft/Windows/UsrClass.dat",
        HiveKind::Usrclass,
    ),
    (
        "Local Settings/Application Data/Microsoft/Windows/UsrClass.dat",
        HiveKind::Usrclass,
    ),
];

/// The hive file patterns a collector must copy (`*` for a profile), each
/// with its logs beside it (`<name>.LOG*`).
pub fn collection_files() -> Vec<String> {
    let mut out: Vec<String> = MACHINE_HIVES.iter().map(|(p, _)| p.to_string()).collect();
    let mut profiles: Vec<String> = PROFILE_PARENTS
        .iter()
        .map(|(p, _)| format!("{p}/*"))
        .collect();
    profiles.extend(SERVICE_PROFILES.iter().map(|(p, _)| p.to_string()));
    for profile in profiles {
        for (rel, _) in PROFILE_HIVES {
            out.push(format!("{profile}/{rel}"));
        }
    }
    out
}

/// The hives of a root read as `kind` (a volume, a folder of profiles, a
/// profile); other readings hold none. `name` is the root folder's name.
pub fn find(vol: &dyn Volume, kind: RootKind, name: &str) -> Vec<HiveFile> {
    let mut out = Vec::new();
    let root = VPath::root();
    match kind {
        RootKind::Volume => {
            for &(rel, kind) in MACHINE_HIVES {
                out.extend(file(vol, &root, rel, kind, None, None));
            }
            for &(parent, _) in PROFILE_PARENTS {
                if let Some(dir) = folder(vol, &root, parent) {
                    profiles_in(vol, &dir, &mut out);
                }
            }
            for &(dir, sid) in SERVICE_PROFILES {
                if let Some(dir) = folder(vol, &root, dir) {
                    let profile = dir_name(&dir);
                    profile_hives(vol, &dir, &profile, Some(sid), &mut out);
                }
            }
        }
        RootKind::ProfileFolder => profiles_in(vol, &root, &mut out),
        RootKind::Profile => profile_hives(vol, &root, name, None, &mut out),
        _ => {}
    }
    out.sort();
    out.dedup_by(|a, b| a.path == b.path);
    out
}

fn dir_name(dir: &VPath) -> String {
    String::from_utf8_lossy(dir.file_name()).into_owned()
}

fn profiles_in(vol: &dyn Volume, dir: &VPath, out: &mut Vec<HiveFile>) {
    for e in vol.list(dir).unwrap_or_default() {
        if e.kind == EntryKind::Dir {
            profile_hives(vol, &e.path, &e.name, None, out);
        }
    }
}

fn profile_hives(
    vol: &dyn Volume,
    dir: &VPath,
    profile: &str,
    sid: Option<&str>,
    out: &mut Vec<HiveFile>,
) {
    for &(rel, kind) in PROFILE_HIVES {
        out.extend(file(vol, dir, rel, kind, Some(profile), sid));
    }
}

/// The folder at `rel` (`/`-separated Windows names) below `from`.
fn folder(vol: &dyn Volume, from: &VPath, rel: &str) -> Option<VPath> {
    let mut at = from.clone();
    for name in rel.split('/') {
        at = child(&vol.list(&at).ok()?, name, EntryKind::Dir)?
            .path
            .clone();
    }
    Some(at)
}

fn child<'a>(entries: &'a [Entry], name: &str, kind: EntryKind) -> Option<&'a Entry> {
    entries.iter().find(|e| e.kind == kind && e.is(name))
}

fn file(
    vol: &dyn Volume,
    from: &VPath,
    rel: &str,
    kind: HiveKind,
    profile: Option<&str>,
    sid: Option<&str>,
) -> Option<HiveFile> {
    let (dir, name) = match rel.rsplit_once('/') {
        Some((dir, name)) => (folder(vol, from, dir)?, name),
        None => (from.clone(), rel),
    };
    let entries = vol.list(&dir).ok()?;
    let hive = child(&entries, name, EntryKind::File)?;
    let logs = ["LOG1", "LOG2", "LOG"]
        .iter()
        .filter_map(|ext| child(&entries, &format!("{name}.{ext}"), EntryKind::File))
        .map(|e| e.path.clone())
        .collect();
    Some(HiveFile {
        path: hive.path.clone(),
        kind,
        profile: profile.map(str::to_string),
        sid: sid.map(str::to_string),
        logs,
    })
}
