//! Triage collections: one folder holding several volumes of one host.
//!
//! - **KAPE** copies each drive to a folder named by its letter:
//!   `<dest>/C/Users/…`, `<dest>/D/…`. The host is the collection folder's
//!   name (KAPE's `%m` destination names it after the machine).
//! - **Velociraptor**'s offline collector, unzipped, keeps uploads per
//!   accessor and drive with percent-encoded names: `uploads/auto/C%3A/…`,
//!   `uploads/ntfs/%5C%5C.%5CC%3A/…`. The host comes from the collection's
//!   own `client_info.json` (`Hostname`, `Fqdn`), else from the default
//!   folder name `Collection-<host>-<time>`.
//! - A Velociraptor **hunt download** holds one such collection per client,
//!   in folders `<host>-<client id>` (with `client_info.json`'s `hostname`
//!   and `client_id`); the server's **file store** keeps each collection
//!   as `clients/<client id>/collections/<flow id>/uploads/…`, with no
//!   host name beside it (the host's SYSTEM hive names it, else the client
//!   id does).

use std::path::{Path, PathBuf};

use super::root::RootKind;
use crate::volume::host::{list, HostVolume, Names};
use crate::volume::{percent_decode, EntryKind, VPath, Volume};

/// Which collector wrote a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collector {
    Kape,
    Velociraptor,
}

impl Collector {
    pub fn as_str(self) -> &'static str {
        match self {
            Collector::Kape => "KAPE collection",
            Collector::Velociraptor => "Velociraptor collection",
        }
    }
}

/// One volume of a collection.
#[derive(Debug, Clone)]
pub struct Part {
    pub base: PathBuf,
    /// `C:`.
    pub drive: String,
    pub names: Names,
}

/// A recognised collection.
#[derive(Debug, Clone)]
pub struct Collection {
    pub collector: Collector,
    /// The host name the collection names, if any.
    pub host: Option<String>,
    /// The Velociraptor client id it records, if any: two machines may
    /// share a host name.
    pub client_id: Option<String>,
    pub parts: Vec<Part>,
}

/// The drive letter a folder name stands for: `C`, `C$`, `C:`, `C_drive`.
pub fn drive_letter(name: &str) -> Option<char> {
    let mut chars = name.chars();
    let letter = chars.next().filter(char::is_ascii_alphabetic)?;
    let rest: String = chars.collect();
    matches!(
        rest.to_ascii_lowercase().as_str(),
        "" | "$" | ":" | "_drive" | "-drive" | "drive"
    )
    .then(|| letter.to_ascii_uppercase())
}

fn subdirs(dir: &Path) -> Vec<(String, PathBuf)> {
    list(dir)
        .map(|entries| {
            entries
                .into_iter()
                .filter(|e| e.kind == EntryKind::Dir)
                .map(|e| (e.name.to_string_lossy().into_owned(), e.path))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a folder holds what a Windows volume holds at its root.
fn looks_like_volume(vol: &dyn Volume) -> bool {
    vol.list(&VPath::root()).is_ok_and(|entries| {
        entries.iter().any(|e| {
            e.kind == EntryKind::Dir
                && [
                    "Users",
                    "ProgramData",
                    "Windows",
                    "Windows.old",
                    "Documents and Settings",
                ]
                .iter()
                .any(|m| e.is(m))
        })
    })
}

/// Recognises a collection folder; `None` for anything else.
pub fn recognise(root: &Path) -> Option<Collection> {
    velociraptor(root).or_else(|| kape(root))
}

fn kape(root: &Path) -> Option<Collection> {
    let parts: Vec<Part> = subdirs(root)
        .into_iter()
        .filter_map(|(name, path)| {
            let letter = drive_letter(&name)?;
            let vol = HostVolume::new(&path, Names::AsStored).ok()?;
            looks_like_volume(&vol).then(|| Part {
                base: path,
                drive: format!("{letter}:"),
                names: Names::AsStored,
            })
        })
        .collect();
    (!parts.is_empty()).then(|| Collection {
        collector: Collector::Kape,
        host: root.file_name().map(|n| n.to_string_lossy().into_owned()),
        client_id: None,
        parts,
    })
}

fn velociraptor(root: &Path) -> Option<Collection> {
    let vol = HostVolume::new(root, Names::AsStored).ok()?;
    let parts: Vec<Part> = velociraptor_drives(&vol)
        .into_iter()
        .map(|(at, drive)| Part {
            base: at.below(root),
            drive,
            names: Names::PercentEncoded,
        })
        .collect();
    let name = root.file_name()?.to_string_lossy();
    (!parts.is_empty()).then(|| Collection {
        collector: Collector::Velociraptor,
        host: velociraptor_host(Some(&vol), &name),
        client_id: velociraptor_client_id(&vol).or_else(|| filestore_client_id(root)),
        parts,
    })
}

/// The client id a collection folder in a Velociraptor server's file store
/// stands for: `…/clients/<client id>/collections/<flow id>`.
pub fn filestore_client_id(flow: &Path) -> Option<String> {
    let collections = flow.parent()?;
    let client = collections.parent()?;
    let clients = client.parent()?;
    (collections.file_name()? == "collections" && clients.file_name()? == "clients")
        .then(|| client.file_name()?.to_str().map(str::to_string))
        .flatten()
        .filter(|id| is_client_id(id))
}

/// Whether a name is a Velociraptor client id: `C.` and 16 hex digits (an
/// org's clients add `-<org id>`).
pub fn is_client_id(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("C.") else {
        return false;
    };
    let hex = rest.split_once('-').map_or(rest, |(h, _)| h);
    hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The collection folders of a Velociraptor server's file store at `dir`
/// (the datastore, or its `clients` folder): every
/// `clients/<client id>/collections/<flow id>` whose uploads hold a drive
/// with a Windows volume layout, sorted. The file store keeps every flow of
/// every client: those that uploaded something else are not evidence here.
pub fn filestore_collections(dir: &Path) -> Vec<PathBuf> {
    let clients = if dir.file_name().is_some_and(|n| n == "clients") {
        dir.to_path_buf()
    } else {
        dir.join("clients")
    };
    let mut out = Vec::new();
    for (id, client) in subdirs(&clients) {
        if !is_client_id(&id) {
            continue;
        }
        for (_, flow) in subdirs(&client.join("collections")) {
            let holds_volume = velociraptor(&flow).is_some_and(|c| {
                c.parts
                    .iter()
                    .any(|p| HostVolume::new(&p.base, p.names).is_ok_and(|v| looks_like_volume(&v)))
            });
            if holds_volume {
                out.push(flow);
            }
        }
    }
    out.sort();
    out
}

/// The drive folders of a Velociraptor collection at `vol`'s root
/// (`uploads/<accessor>/C%3A`, `uploads/ntfs/%5C%5C.%5CC%3A`), each with
/// its drive (`C:`); empty when it is none.
pub fn velociraptor_drives(vol: &dyn Volume) -> Vec<(VPath, String)> {
    velociraptor_drives_under(vol, &VPath::root())
}

/// The drive folders of a Velociraptor collection at `base` on `vol`, as
/// paths below `base`.
pub fn velociraptor_drives_under(vol: &dyn Volume, base: &VPath) -> Vec<(VPath, String)> {
    let dirs = |at: &VPath| -> Vec<VPath> {
        vol.list(at)
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e.kind == EntryKind::Dir)
            .map(|e| e.path)
            .collect()
    };
    let Some(uploads) = dirs(base)
        .into_iter()
        .find(|p| p.file_name().eq_ignore_ascii_case(b"uploads"))
    else {
        return Vec::new();
    };
    let below = |p: VPath| match p.as_bytes().get(base.as_bytes().len()..) {
        Some(rest) if !base.is_root() => VPath::from_bytes(rest.strip_prefix(b"/").unwrap_or(rest)),
        _ => p,
    };
    let mut drives = Vec::new();
    for accessor in dirs(&uploads) {
        for at in dirs(&accessor) {
            let decoded = String::from_utf8_lossy(&percent_decode(at.file_name())).into_owned();
            // `C:` (auto, file) or `\\.\C:` (ntfs).
            let device = decoded.trim_start_matches("\\\\.\\");
            if let Some(letter) = device.strip_suffix(':').and_then(drive_letter) {
                drives.push((below(at), format!("{letter}:")));
            }
        }
    }
    drives
}

/// The host a Velociraptor collection on `vol` names: its `client_info.json`
/// (`Hostname`, else `Fqdn`), else `name`, the collection's default name
/// `Collection-<host>-<time>` (`.zip` or not) or a hunt download's client
/// folder `<host>-<client id>`.
pub fn velociraptor_host(vol: Option<&dyn Volume>, name: &str) -> Option<String> {
    let info =
        vol.and_then(|v| crate::volume::read_small_json(v, &VPath::from_bytes("client_info.json")));
    if let Some(v) = info {
        for key in ["Hostname", "hostname", "Fqdn", "fqdn"] {
            if let Some(h) = v
                .get(key)
                .and_then(|h| h.as_str())
                .filter(|h| !h.is_empty())
            {
                return Some(h.to_string());
            }
        }
    }
    if let Some((host, id)) = name.rsplit_once("-C.") {
        if is_client_id(&format!("C.{id}")) && !host.is_empty() {
            return Some(host.to_string());
        }
    }
    let rest = name.strip_prefix("Collection-")?;
    let rest = rest.strip_suffix(".zip").unwrap_or(rest);
    // The time starts at the first `-` followed by a four-digit year.
    let cut = rest
        .char_indices()
        .filter(|&(_, c)| c == '-')
        .map(|(i, _)| i)
        .find(|&i| {
            rest[i + 1..]
                .chars()
                .take(4)
                .filter(char::is_ascii_digit)
                .count()
                == 4
        })
        .unwrap_or(rest.len());
    Some(rest[..cut].to_string()).filter(|h| !h.is_empty())
}

/// The client id a Velociraptor collection on `vol` records
/// (`client_info.json`'s `ClientId`, or `client_id` as the server writes
/// it into a hunt download): two machines may share a host name.
pub fn velociraptor_client_id(vol: &dyn Volume) -> Option<String> {
    let info = crate::volume::read_small_json(vol, &VPath::from_bytes("client_info.json"))?;
    ["ClientId", "client_id"]
        .iter()
        .find_map(|k| info.get(k)?.as_str().filter(|id| !id.is_empty()))
        .map(str::to_string)
}

/// Names that say where something is mounted, not which host it is.
const GENERIC: &[&str] = &[
    "mnt",
    "media",
    "mount",
    "mounts",
    "mountpoint",
    "image",
    "images",
    "evidence",
    "vol",
    "volume",
    "volumes",
    "disk",
    "disks",
    "ro",
    "rw",
    "root",
    "data",
    "run",
];

/// The label a plain folder root gets by default: its name, or, when that
/// names only a drive or a mount point, the nearest folder above that names
/// more (up to two levels up). `None` when nothing does (`/mnt/c`).
pub fn default_label(root: &Path) -> Option<String> {
    root.ancestors()
        .take(3)
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .find(|n| drive_letter(n).is_none() && !GENERIC.iter().any(|g| n.eq_ignore_ascii_case(g)))
}

/// What a plain folder root's own name says about its drive (`…/C`).
pub fn drive_of(root: &Path) -> Option<String> {
    let name = root.file_name()?.to_string_lossy();
    drive_letter(&name).map(|l| format!("{l}:"))
}

/// How a root's kind reads in the summary, with its collection.
pub fn describe(kind: RootKind, collector: Option<Collector>) -> String {
    match collector {
        Some(c) => format!("{} of a {}", kind.as_str(), c.as_str()),
        None => kind.as_str().to_string(),
    }
}
