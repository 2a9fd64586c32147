//! Profile containers on a share: FSLogix (`Profile_<user>.vhd(x)`,
//! `ODFC_<user>.vhd(x)`, in a `<SID>_<user>` or `<user>_<SID>` folder or
//! none) and Remote Desktop User Profile Disks (`UVHD-<SID>.vhdx`, with
//! `UVHD-template.vhdx`). Told by name here; whether a file really is a
//! container is told by its content when it is opened.

use serde::{Deserialize, Serialize};

use crate::store::is_sid;
use crate::volume::{EntryKind, VPath, Volume};
use rayon::prelude::*;

/// What a container is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerKind {
    /// A disk image given as a root.
    Disk,
    /// FSLogix profile container: the profile is `\Profile\` in its volume.
    FslogixProfile,
    /// FSLogix Office container (`ODFC_`): Office data, searched like a profile.
    FslogixOffice,
    /// A User Profile Disk: its volume root is the profile.
    Upd,
    /// `UVHD-template.vhdx`: the disk new User Profile Disks are copied from.
    UpdTemplate,
    /// A zip archive given as a root (a Velociraptor collection).
    Archive,
}

impl ContainerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerKind::Disk => "disk",
            ContainerKind::FslogixProfile => "fslogix_profile",
            ContainerKind::FslogixOffice => "fslogix_office",
            ContainerKind::Upd => "upd",
            ContainerKind::UpdTemplate => "upd_template",
            ContainerKind::Archive => "archive",
        }
    }

    /// How the scan summary names it, with its article.
    pub fn describe(self) -> &'static str {
        match self {
            ContainerKind::Disk => "a disk image",
            ContainerKind::FslogixProfile => "an FSLogix profile container",
            ContainerKind::FslogixOffice => "an FSLogix Office container",
            ContainerKind::Upd => "a User Profile Disk",
            ContainerKind::UpdTemplate => "a User Profile Disk template",
            ContainerKind::Archive => "a zip archive",
        }
    }

    /// The folders, inside the container's volume, that may hold the profile
    /// (FSLogix: `\Profile\`; UPD: the root; an Office container's layout is
    /// not documented, so both, `\ODFC\` too).
    pub fn profile_roots(self) -> &'static [&'static str] {
        match self {
            ContainerKind::FslogixProfile => &["Profile"],
            ContainerKind::FslogixOffice => &["ODFC", "Profile", ""],
            ContainerKind::Upd | ContainerKind::UpdTemplate => &[""],
            ContainerKind::Disk | ContainerKind::Archive => &[],
        }
    }
}

/// A profile container found on a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundContainer {
    pub path: VPath,
    pub kind: ContainerKind,
    /// The user the names give.
    pub user: Option<String>,
    pub sid: Option<String>,
}

fn strip_ext(name: &str) -> Option<&str> {
    let (stem, ext) = name.rsplit_once('.')?;
    (ext.eq_ignore_ascii_case("vhd") || ext.eq_ignore_ascii_case("vhdx")).then_some(stem)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() > prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &s[prefix.len()..])
}

/// The SID a folder name gives: `<SID>_<user>` or `<user>_<SID>`.
fn sid_of_folder(folder: &str) -> Option<String> {
    if let Some((sid, _)) = folder.split_once('_').filter(|(s, _)| is_sid(s)) {
        return Some(sid.to_string());
    }
    folder
        .rsplit_once('_')
        .filter(|(_, s)| is_sid(s))
        .map(|(_, s)| s.to_string())
}

/// What the file `name` in folder `folder` is, by the names alone.
pub fn classify(name: &str, folder: &str, path: VPath) -> Option<FoundContainer> {
    let stem = strip_ext(name)?;
    let (kind, user, sid) = if let Some(user) = strip_prefix_ci(stem, "Profile_") {
        (
            ContainerKind::FslogixProfile,
            Some(user),
            sid_of_folder(folder),
        )
    } else if let Some(user) = strip_prefix_ci(stem, "ODFC_") {
        (
            ContainerKind::FslogixOffice,
            Some(user),
            sid_of_folder(folder),
        )
    } else if let Some(rest) = strip_prefix_ci(stem, "UVHD-") {
        if rest.eq_ignore_ascii_case("template") {
            (ContainerKind::UpdTemplate, None, None)
        } else if is_sid(rest) {
            (ContainerKind::Upd, None, Some(rest.to_string()))
        } else {
            return None;
        }
    } else {
        return None;
    };
    Some(FoundContainer {
        path,
        kind,
        user: user.map(str::to_string),
        sid,
    })
}

/// Whether `name` is how FSLogix or Hyper-V names a differencing disk kept
/// beside its parent: `RW.VHD(X)` (FSLogix concurrent sessions),
/// `merge.VHD(X)` (a merge under way), `*.avhd(x)` (a snapshot).
fn is_differencing_name(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    let ext = ext.to_ascii_lowercase();
    matches!(ext.as_str(), "avhd" | "avhdx")
        || (matches!(ext.as_str(), "vhd" | "vhdx")
            && (stem.eq_ignore_ascii_case("RW") || stem.eq_ignore_ascii_case("merge")))
}

/// The differencing disks among `files` of one folder, each taken as a
/// container of the folder's own (the first named one's kind and owner:
/// its parent, or a sibling of it, holds the same profile).
fn differencing_beside(
    files: Vec<(String, VPath)>,
    named: &[FoundContainer],
) -> Vec<FoundContainer> {
    let Some(first) = named.first() else {
        return Vec::new();
    };
    files
        .into_iter()
        .filter(|(name, _)| is_differencing_name(name))
        .map(|(_, path)| FoundContainer {
            path,
            ..first.clone()
        })
        .collect()
}

/// Folders a share walk never enters: a Windows volume's own folders
/// (profile containers live on shares, not in system folders).
const SKIP: &[&str] = &[
    "Windows",
    "Windows.old",
    "Program Files",
    "Program Files (x86)",
    "ProgramData",
    "AppData",
    "$Recycle.Bin",
    "System Volume Information",
    "Recovery",
];

/// How deep under a root containers are looked for: a share root, its
/// per-user folders, and two levels above them (`Shares\Profiles\…`).
pub const MAX_DEPTH: usize = 4;

/// Every profile container under the root of `vol`, sorted by path, at
/// most `max_depth` folders down (files in the root are depth 1). `skip_profiles`: leave `Users` and
/// `Documents and Settings` out (a workstation volume's profiles hold no
/// containers, and listing thousands of them would cost a share scan).
pub fn find(vol: &dyn Volume, max_depth: usize, skip_profiles: bool) -> Vec<FoundContainer> {
    let walk = Walk {
        vol,
        max_depth,
        skip_profiles,
    };
    let mut out = walk.below(&VPath::root(), "", 0);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The bounded search for containers; sibling folders are searched at once
/// (on a share each listing is a round trip).
struct Walk<'a> {
    vol: &'a dyn Volume,
    max_depth: usize,
    skip_profiles: bool,
}

impl Walk<'_> {
    /// The containers in `dir` (named `name`, `depth` folders down) and below it.
    fn below(&self, dir: &VPath, name: &str, depth: usize) -> Vec<FoundContainer> {
        let Ok(entries) = self.vol.list(dir) else {
            return Vec::new(); // discovery reports folders it cannot list
        };
        let (mut named, mut others, mut folders) = (Vec::new(), Vec::new(), Vec::new());
        for e in entries {
            match e.kind {
                EntryKind::File => match classify(&e.name, name, e.path.clone()) {
                    Some(c) => named.push(c),
                    None => others.push((e.name, e.path)),
                },
                EntryKind::Dir if depth + 1 < self.max_depth => {
                    let skipped = SKIP.iter().any(|s| e.is(s))
                        || (self.skip_profiles
                            && depth == 0
                            && (e.is("Users") || e.is("Documents and Settings")));
                    if !skipped {
                        folders.push((e.path, e.name));
                    }
                }
                _ => {}
            }
        }
        let mut out = differencing_beside(others, &named);
        out.extend(named);
        let deeper: Vec<Vec<FoundContainer>> = folders
            .par_iter()
            .map(|(path, name)| self.below(path, name, depth + 1))
            .collect();
        out.extend(deeper.into_iter().flatten());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::memory::MemoryVolume;

    #[test]
    fn fslogix_and_upd_names_give_user_and_sid() {
        let c = |name: &str, folder: &str| {
            classify(name, folder, VPath::root()).map(|c| (c.kind, c.user, c.sid))
        };
        let sid = Some("S-1-5-21-1-2-3-1001".to_string());
        assert_eq!(
            c("Profile_alice.vhdx", "S-1-5-21-1-2-3-1001_alice"),
            Some((
                ContainerKind::FslogixProfile,
                Some("alice".into()),
                sid.clone()
            ))
        );
        assert_eq!(
            c("profile_alice.VHD", "alice_S-1-5-21-1-2-3-1001"),
            Some((
                ContainerKind::FslogixProfile,
                Some("alice".into()),
                sid.clone()
            ))
        );
        assert_eq!(
            c("ODFC_alice.vhdx", ""),
            Some((ContainerKind::FslogixOffice, Some("alice".into()), None))
        );
        assert_eq!(
            c("UVHD-S-1-5-21-1-2-3-1001.vhdx", "upd"),
            Some((ContainerKind::Upd, None, sid))
        );
        assert_eq!(
            c("UVHD-template.vhdx", "upd"),
            Some((ContainerKind::UpdTemplate, None, None))
        );
        assert_eq!(c("UVHD-nonsense.vhdx", "upd"), None);
        assert_eq!(c("Profile_alice.vmdk", ""), None);
        assert_eq!(c("notes.vhdx", ""), None);
    }

    #[test]
    fn the_share_walk_is_bounded_and_skips_system_folders() {
        let vol = MemoryVolume::new()
            .file(
                "Profiles/S-1-5-21-1-2-3-1001_alice/Profile_alice.vhdx",
                b"x",
            )
            .file("UVHD-S-1-5-21-1-2-3-1002.vhdx", b"x")
            .file("Windows/Profile_sys.vhdx", b"x")
            .file("a/b/c/d/Profile_deep.vhdx", b"x")
            .file("Users/bob/Profile_bob.vhdx", b"x")
            .file("Profiles/S-1-5-21-1-2-3-1001_alice/RW.VHDX", b"x")
            .file("Profiles/S-1-5-21-1-2-3-1001_alice/notes.vhdx", b"x")
            .file("Profiles/RW.VHDX", b"x");
        let names = |skip| {
            find(&vol, MAX_DEPTH, skip)
                .into_iter()
                .map(|c| String::from_utf8(c.path.as_bytes().to_vec()).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(false),
            [
                "Profiles/S-1-5-21-1-2-3-1001_alice/Profile_alice.vhdx",
                "Profiles/S-1-5-21-1-2-3-1001_alice/RW.VHDX",
                "UVHD-S-1-5-21-1-2-3-1002.vhdx",
                "Users/bob/Profile_bob.vhdx"
            ]
        );
        assert_eq!(names(true).len(), 3);
        // A differencing disk beside a container holds the same profile;
        // one beside none is no container.
        let rw = find(&vol, MAX_DEPTH, true)
            .into_iter()
            .find(|c| c.path.file_name() == b"RW.VHDX")
            .unwrap();
        assert_eq!(
            (rw.kind, rw.user.as_deref(), rw.sid.as_deref()),
            (
                ContainerKind::FslogixProfile,
                Some("alice"),
                Some("S-1-5-21-1-2-3-1001")
            )
        );
    }
}
