//! Where hives lie on a Windows volume: the machine hives under
//! `Windows\System32\config` (and `Windows.old`'s), and each profile's
//! `NTUSER.DAT` and `UsrClass.dat`, service-account profiles included
//! (their SIDs known from where they lie). Names match ignoring case; links
//! are never followed; transaction logs (`.LOG1`, `.LOG2`, `.LOG`) are taken
//! from the hive's own folder.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::HiveKind;
use crate::locate::locations::{PROFILE_PARENTS, SERVICE_PROFILES};
use crate::locate::RootKind;
use crate::volume::{Entry, EntryKind, VPath, Volume};
use rayon::prelude::*;

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

/// `UsrClass.dat` of a Vista and later profile, and of an XP one.
const USRCLASS: &str = "AppData/Local/Microsoft/Windows/UsrClass.dat";
const XP_USRCLASS: &str = "Local Settings/Application Data/Microsoft/Windows/UsrClass.dat";

/// A profile's hives, relative to the profile folder (both `UsrClass.dat`
/// places: a profile share does not say which Windows wrote it).
const PROFILE_HIVES: &[(&str, HiveKind)] = &[
    ("NTUSER.DAT", HiveKind::Ntuser),
    (USRCLASS, HiveKind::Usrclass),
    (XP_USRCLASS, HiveKind::Usrclass),
];

/// The hive files a collector must copy (`/`-separated, `*` for a profile);
/// each is to be taken with its logs (`<name>*`).
pub fn collection_files() -> Vec<String> {
    let mut out: Vec<String> = MACHINE_HIVES.iter().map(|(p, _)| p.to_string()).collect();
    let profiles = PROFILE_PARENTS
        .iter()
        .map(|&(p, xp)| (format!("{p}/*"), xp))
        .chain(SERVICE_PROFILES.iter().map(|(p, _)| (p.to_string(), false)));
    for (profile, xp) in profiles {
        out.push(format!("{profile}/NTUSER.DAT"));
        out.push(format!(
            "{profile}/{}",
            if xp { XP_USRCLASS } else { USRCLASS }
        ));
    }
    out
}

/// The folder a Windows path from the registry names on this volume:
/// `C:\RMS\Templates`, or `%USERPROFILE%\…`, `%LOCALAPPDATA%\…`,
/// `%APPDATA%\…` below `profile` (the profile folder). `prefix` is the
/// root folder's Windows path inside its volume (empty for a volume root),
/// `drive` the root's drive where known. Names match ignoring case. Why it
/// is not on this evidence, otherwise.
pub fn windows_folder(
    vol: &dyn Volume,
    path: &str,
    prefix: &[String],
    drive: Option<&str>,
    profile: Option<&VPath>,
) -> Result<VPath, String> {
    let path = path.trim().trim_end_matches('\\');
    if path.starts_with("\\\\") {
        return Err("a network path: not on this evidence".into());
    }
    let lower = path.to_ascii_lowercase();
    let parts = |rest: &str| -> Vec<String> {
        rest.split('\\')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    };
    for (var, below) in [
        ("%userprofile%", ""),
        ("%localappdata%", "AppData\\Local"),
        ("%appdata%", "AppData\\Roaming"),
    ] {
        if let Some(rest) = lower.starts_with(var).then(|| &path[var.len()..]) {
            let profile = profile.ok_or("names a profile folder, and this hive belongs to none")?;
            let rel = [parts(below), parts(rest)].concat().join("/");
            return resolve(vol, profile, &rel);
        }
    }
    let Some((letter, rest)) = path.split_once(':').filter(|(l, _)| l.len() == 1) else {
        return Err("not an absolute path".into());
    };
    if let Some(d) = drive.filter(|d| !d.trim_end_matches(':').eq_ignore_ascii_case(letter)) {
        return Err(format!("on drive {letter}:, not on this volume ({d})"));
    }
    let comps = parts(rest);
    let inside = comps.len() >= prefix.len()
        && comps
            .iter()
            .zip(prefix)
            .all(|(c, p)| c.eq_ignore_ascii_case(p));
    if !inside {
        return Err("outside the part of the volume this root holds".into());
    }
    resolve(vol, &VPath::root(), &comps[prefix.len()..].join("/"))
}

fn resolve(vol: &dyn Volume, from: &VPath, rel: &str) -> Result<VPath, String> {
    if rel.is_empty() {
        return Ok(from.clone());
    }
    folders(&Listings::new(vol), from, rel)
        .into_iter()
        .next()
        .ok_or_else(|| "no such folder on this volume".into())
}

/// The volume's own `Windows\System32\config\SYSTEM` (not `Windows.old`'s).
pub fn system_hive(vol: &dyn Volume) -> Option<HiveFile> {
    let (rel, kind) = MACHINE_HIVES[1];
    files(&Listings::new(vol), &VPath::root(), rel, kind, None, None)
        .into_iter()
        .next()
}

/// The hives of a root read as `kind` (a volume, a folder of profiles, a
/// profile); other readings hold none. `name` is the root folder's name.
pub fn find(vol: &dyn Volume, kind: RootKind, name: &str) -> Vec<HiveFile> {
    let mut out = Vec::new();
    let root = VPath::root();
    // The root and `Windows\System32\config` are on the way to most places.
    let machine = Listings::new(vol);
    match kind {
        RootKind::Volume => {
            for &(rel, kind) in MACHINE_HIVES {
                out.extend(files(&machine, &root, rel, kind, None, None));
            }
            for &(parent, _) in PROFILE_PARENTS {
                for dir in folders(&machine, &root, parent) {
                    profiles_in(&machine, &dir, &mut out);
                }
            }
            for &(dir, sid) in SERVICE_PROFILES {
                for dir in folders(&machine, &root, dir) {
                    let profile = dir_name(&dir);
                    profile_hives(vol, &dir, &profile, Some(sid), &mut out);
                }
            }
        }
        RootKind::ProfileFolder => profiles_in(&machine, &root, &mut out),
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

/// The hives of every profile in `dir`, the profiles looked at in parallel
/// (on a share each costs a few round trips), in listing order.
fn profiles_in(listings: &Listings<'_>, dir: &VPath, out: &mut Vec<HiveFile>) {
    let vol = listings.vol;
    let profiles: Vec<Entry> = listings
        .list(dir)
        .iter()
        .filter(|e| e.kind == EntryKind::Dir)
        .cloned()
        .collect();
    let found: Vec<Vec<HiveFile>> = profiles
        .par_iter()
        .map(|e| {
            let mut hives = Vec::new();
            profile_hives(vol, &e.path, &e.name, None, &mut hives);
            hives
        })
        .collect();
    out.extend(found.into_iter().flatten());
}

fn profile_hives(
    vol: &dyn Volume,
    dir: &VPath,
    profile: &str,
    sid: Option<&str>,
    out: &mut Vec<HiveFile>,
) {
    // The profile folder is on the way to each of its hives: listed once.
    let listings = Listings::new(vol);
    for &(rel, kind) in PROFILE_HIVES {
        out.extend(files(&listings, dir, rel, kind, Some(profile), sid));
    }
}

/// Folders as one search lists them: each listed once however many hive
/// places pass through it (the root is on the way to all of a volume's
/// machine hives and profile parents). Held for one search only; an
/// unlistable folder is empty (discovery reports it).
struct Listings<'a> {
    vol: &'a dyn Volume,
    seen: RefCell<HashMap<VPath, Rc<Vec<Entry>>>>,
}

impl<'a> Listings<'a> {
    fn new(vol: &'a dyn Volume) -> Listings<'a> {
        Listings {
            vol,
            seen: RefCell::default(),
        }
    }

    fn list(&self, dir: &VPath) -> Rc<Vec<Entry>> {
        if let Some(entries) = self.seen.borrow().get(dir) {
            return Rc::clone(entries);
        }
        let entries = Rc::new(self.vol.list(dir).unwrap_or_default());
        self.seen
            .borrow_mut()
            .insert(dir.clone(), Rc::clone(&entries));
        entries
    }
}

/// Every folder at `rel` (`/`-separated Windows names) below `from`: names
/// match ignoring case, and every case twin (a case-sensitive copy may
/// hold `Windows` and `windows`) is followed.
fn folders(listings: &Listings<'_>, from: &VPath, rel: &str) -> Vec<VPath> {
    let mut at = vec![from.clone()];
    for name in rel.split('/') {
        at = at
            .iter()
            .flat_map(|dir| {
                let entries = listings.list(dir);
                entries
                    .iter()
                    .filter(|e| e.kind == EntryKind::Dir && e.is(name))
                    .map(|e| e.path.clone())
                    .collect::<Vec<_>>()
            })
            .collect();
    }
    at
}

/// The hive files at `rel` below `from` (case twins included), each with its logs.
fn files(
    listings: &Listings<'_>,
    from: &VPath,
    rel: &str,
    kind: HiveKind,
    profile: Option<&str>,
    sid: Option<&str>,
) -> Vec<HiveFile> {
    let (dirs, name) = match rel.rsplit_once('/') {
        Some((dir, name)) => (folders(listings, from, dir), name),
        None => (vec![from.clone()], rel),
    };
    let mut out = Vec::new();
    for dir in dirs {
        let entries = listings.list(&dir);
        let is_file = |e: &&Entry, n: &str| e.kind == EntryKind::File && e.is(n);
        for hive in entries.iter().filter(|e| is_file(e, name)) {
            let logs = ["LOG1", "LOG2", "LOG"]
                .iter()
                .filter_map(|ext| {
                    let log = format!("{}.{ext}", hive.name);
                    entries.iter().find(|e| is_file(e, &log))
                })
                .map(|e| e.path.clone())
                .collect();
            out.push(HiveFile {
                path: hive.path.clone(),
                kind,
                profile: profile.map(str::to_string),
                sid: sid.map(str::to_string),
                logs,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::memory::MemoryVolume;

    #[test]
    fn hives_and_their_logs_are_found_where_windows_keeps_them() {
        let mut v = MemoryVolume::new();
        for f in [
            "windows/system32/CONFIG/software",
            "windows/system32/CONFIG/software.LOG1",
            "windows/system32/CONFIG/software.LOG2",
            "windows/system32/CONFIG/SYSTEM",
            "Users/alice/NTUSER.DAT",
            "Users/alice/ntuser.dat.log1",
            "Users/alice/AppData/Local/Microsoft/Windows/UsrClass.dat",
            "Documents and Settings/bob/NTUSER.DAT",
            "Documents and Settings/bob/Local Settings/Application Data/Microsoft/Windows/UsrClass.dat",
            "Windows/ServiceProfiles/NetworkService/NTUSER.DAT",
            "Windows.old/Windows/System32/config/SOFTWARE",
        ] {
            v = v.file(f, b"regf");
        }
        type Found = (String, HiveKind, Option<String>, Option<String>, usize);
        let hives = find(&v, RootKind::Volume, "C");
        // Each folder listed once, though the root and `config` are on the
        // way to several places (a round trip each on a share).
        let listed = v.listings();
        assert_eq!(listed.get(""), Some(&1));
        assert_eq!(listed.get("windows/system32/CONFIG"), Some(&1));
        assert!(listed.values().all(|&n| n == 1), "{listed:?}");
        let found: Vec<Found> = hives
            .into_iter()
            .map(|h| {
                let p = String::from_utf8_lossy(h.path.as_bytes()).into_owned();
                (p, h.kind, h.profile, h.sid, h.logs.len())
            })
            .collect();
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            found,
            vec![
                ("Documents and Settings/bob/Local Settings/Application Data/Microsoft/Windows/UsrClass.dat".into(), HiveKind::Usrclass, s("bob"), None, 0),
                ("Documents and Settings/bob/NTUSER.DAT".into(), HiveKind::Ntuser, s("bob"), None, 0),
                ("Users/alice/AppData/Local/Microsoft/Windows/UsrClass.dat".into(), HiveKind::Usrclass, s("alice"), None, 0),
                ("Users/alice/NTUSER.DAT".into(), HiveKind::Ntuser, s("alice"), None, 1),
                ("Windows.old/Windows/System32/config/SOFTWARE".into(), HiveKind::Software, None, None, 0),
                ("Windows/ServiceProfiles/NetworkService/NTUSER.DAT".into(), HiveKind::Ntuser, s("NetworkService"), s("S-1-5-20"), 0),
                ("windows/system32/CONFIG/SYSTEM".into(), HiveKind::System, None, None, 0),
                ("windows/system32/CONFIG/software".into(), HiveKind::Software, None, None, 2),
            ]
        );
    }
}
