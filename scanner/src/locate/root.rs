//! What a root is. A root is read as every part of a Windows volume it could
//! be — the volume itself, a folder of profiles, a profile, or the folder of
//! the location table its own name and the names above it match
//! (`…/alice/AppData`, `MSIPC/Server`, `ProgramData`, a store folder) — and
//! the reading that finds the most stores wins. When none finds a store, the
//! root is still recognised by what it holds (a volume with no stores is a
//! result, not an error), and otherwise refused with advice that fits it.

use super::locations::{Step, Trie};
use super::resolve::{enter, resolve, Ctx, Discovery, State};
use crate::volume::{Entry, EntryKind, VPath, Volume};

/// What a root turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKind {
    /// A Windows volume (`Users/`, `ProgramData/`, `Windows/`, `Windows.old/`…).
    Volume,
    /// A folder of profiles (`Users/` itself, a file server's profile share).
    ProfileFolder,
    /// One profile (has `AppData/`, or XP's `Local Settings/`).
    Profile,
    /// Part of a profile or of `ProgramData` (`AppData`, `AppData/Local`,
    /// `ProgramData`, `MSIPC/Server`…), recognised by its name.
    Partial,
    /// A store folder itself (`…/Microsoft/MSIPC`, `…/DRM`, `…/Server/<SID>`).
    StoreFolder,
    /// Walked in full (`--deep`).
    Deep,
}

impl RootKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RootKind::Volume => "volume",
            RootKind::ProfileFolder => "profile folder",
            RootKind::Profile => "profile",
            RootKind::Partial => "part of a volume",
            RootKind::StoreFolder => "store folder",
            RootKind::Deep => "deep walk",
        }
    }
}

/// A root, read one way: as trie folder `node`, with what its path tells.
#[derive(Debug, Clone)]
pub struct Reading {
    pub kind: RootKind,
    pub node: usize,
    pub ctx: Ctx,
    /// The Windows path of the root folder inside its volume (components),
    /// when the layout tells it.
    pub prefix: Option<Vec<String>>,
}

/// The root as read, and what its reading found.
#[derive(Debug)]
pub struct Located {
    pub reading: Reading,
    pub discovery: Discovery,
}

/// Names that mark a volume root, a profile.
const VOLUME_MARKS: &[&str] = &[
    "Users",
    "ProgramData",
    "Windows",
    "Windows.old",
    "Documents and Settings",
];
const PROFILE_MARKS: &[&str] = &["AppData", "Local Settings", "Application Data"];

fn has(entries: &[Entry], names: &[&str]) -> bool {
    entries.iter().any(|e| {
        e.kind == EntryKind::Dir && names.iter().any(|n| e.is(n))
            || e.kind == EntryKind::File && e.is("NTUSER.DAT") && names == PROFILE_MARKS
    })
}

/// Reads the root of `vol`, whose Windows name and the names above it are
/// `above` (outermost first; empty when unknown): every reading resolved in
/// one pass, the best kept ([`resolve_readings`]). `Err` carries the advice
/// for a root that is not recognised.
pub fn locate(vol: &dyn Volume, above: &[String]) -> Result<Located, String> {
    let name = above.last().cloned().unwrap_or_default();
    let all = readings(&name, above);
    let (best, mut found) = resolve_readings(vol, &VPath::root(), &all);
    let pick = if found[best].stores.is_empty() {
        // No reading found a store: recognise the root by what it holds
        // (listed again on this rare path only).
        let entries = vol
            .list(&VPath::root())
            .map_err(|e| format!("cannot list it: {e}"))?;
        recognise(vol, &entries, &all).ok_or_else(|| advice(&entries))?
    } else {
        best
    };
    Ok(Located {
        reading: all[pick].clone(),
        discovery: found.swap_remove(pick),
    })
}

/// Resolves every reading of the folder `dir` in one pass (each folder
/// listed once) and returns the index of the best with every reading's
/// discovery: the most stores below `dir`, then in all, the earliest on a tie.
pub fn resolve_readings(vol: &dyn Volume, dir: &VPath, all: &[Reading]) -> (usize, Vec<Discovery>) {
    let states: Vec<State> = all
        .iter()
        .enumerate()
        .map(|(i, r)| State {
            node: r.node,
            ctx: r.ctx.clone(),
            reading: i,
        })
        .collect();
    let mut found: Vec<Discovery> = all.iter().map(|_| Discovery::default()).collect();
    resolve(vol, dir, &states, &mut found);
    let score = |d: &Discovery| {
        let below = d.stores.iter().filter(|s| &s.dir != dir).count();
        (below, d.stores.len())
    };
    let mut best = 0;
    for i in 1..found.len() {
        if score(&found[i]) > score(&found[best]) {
            best = i;
        }
    }
    (best, found)
}

/// Every way to read a root: as a volume, then by its names (most specific
/// first), as a profile, as a folder of profiles.
fn readings(name: &str, above: &[String]) -> Vec<Reading> {
    let trie = Trie::get();
    let mut out = vec![Reading {
        kind: RootKind::Volume,
        node: 0,
        ctx: Ctx::default(),
        prefix: Some(Vec::new()),
    }];
    out.extend(by_name(above));
    // Vista and later profiles first, then XP ones.
    for parent in ["Users", "Documents and Settings"] {
        if let Some(node) = trie.find(&format!("{parent}/*")) {
            out.push(Reading {
                kind: RootKind::Profile,
                node,
                ctx: Ctx {
                    profile: Some(name.to_string()),
                    sid: None,
                },
                prefix: Some(vec![parent.into(), name.to_string()]),
            });
        }
    }
    for parent in ["Users", "Documents and Settings"] {
        if let Some(node) = trie.find(parent) {
            out.push(Reading {
                kind: RootKind::ProfileFolder,
                node,
                ctx: Ctx::default(),
                prefix: Some(vec![parent.into()]),
            });
        }
    }
    out
}

/// Readings from the root's own name and the names above it: trie folders
/// whose path ends like the root's, ranked by how many names match.
pub fn by_name(above: &[String]) -> Vec<Reading> {
    let trie = Trie::get();
    let mut ranked: Vec<(usize, usize, usize)> = Vec::new(); // (literals, k, node)
    for (idx, node) in trie.nodes.iter().enumerate().skip(1) {
        let m = node.path.len();
        let mut best = None;
        for k in 1..=m.min(above.len()) {
            let steps = &node.path[m - k..];
            let names = &above[above.len() - k..];
            let mut literals = 0;
            let fits = steps.iter().zip(names).all(|(s, n)| match s {
                Step::Name(want) => {
                    literals += 1;
                    n.eq_ignore_ascii_case(want)
                }
                Step::Profile => true,
                Step::Sid => crate::store::is_sid(n),
            });
            if fits && literals > 0 {
                best = Some((literals, k));
            }
        }
        if let Some((literals, k)) = best {
            ranked.push((literals, k, idx));
        }
    }
    ranked.sort_by(|a, b| (b.0, b.1, a.2).cmp(&(a.0, a.1, b.2)));
    ranked.truncate(16);
    ranked
        .into_iter()
        .map(|(_, k, idx)| reading_at(idx, &above[above.len() - k..]))
        .collect()
}

/// The reading of a root that is trie node `idx`, whose last names are `tail`.
fn reading_at(idx: usize, tail: &[String]) -> Reading {
    let trie = Trie::get();
    let node = &trie.nodes[idx];
    let m = node.path.len();
    let unmatched = m - tail.len();
    // Walk the node's path: names known for the matched part only.
    let mut ctx = Ctx::default();
    let mut prefix = Some(Vec::new());
    let mut at = 0;
    for (i, step) in node.path.iter().enumerate() {
        let Some(&(_, child)) = trie.nodes[at].children.iter().find(|(s, _)| s == step) else {
            break;
        };
        let name = if i >= unmatched {
            Some(tail[i - unmatched].clone())
        } else {
            match step {
                Step::Name(n) => Some(n.to_string()),
                _ => None,
            }
        };
        match name {
            Some(n) => {
                if let Some(s) = enter(trie, &ctx, *step, child, &n) {
                    ctx = s.ctx;
                }
                if let Some(p) = prefix.as_mut() {
                    p.push(n);
                }
            }
            None => prefix = None,
        }
        at = child;
    }
    let kind = if node.store.is_some() {
        RootKind::StoreFolder
    } else if node.service_sid.is_some() || node.path.last() == Some(&Step::Profile) {
        RootKind::Profile
    } else if node.children.iter().any(|(s, _)| *s == Step::Profile) {
        RootKind::ProfileFolder
    } else {
        RootKind::Partial
    };
    Reading {
        kind,
        node: idx,
        ctx,
        prefix,
    }
}

/// A root in which no reading found a store, recognised by what it holds:
/// the index of the reading that fits it.
fn recognise(vol: &dyn Volume, entries: &[Entry], all: &[Reading]) -> Option<usize> {
    let pick = |kind: RootKind| all.iter().position(|r| r.kind == kind);
    if has(entries, VOLUME_MARKS) {
        return pick(RootKind::Volume);
    }
    if has(entries, PROFILE_MARKS) {
        return pick(RootKind::Profile);
    }
    let trie = Trie::get();
    let named = all.iter().position(|r| {
        let node = &trie.nodes[r.node];
        r.kind != RootKind::Volume
            && (node.store.is_some()
                || node
                    .children
                    .iter()
                    .any(|(s, _)| matches!(s, Step::Name(n) if has(entries, &[n]))))
    });
    if named.is_some() {
        return named;
    }
    let profiles = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Dir)
        .take(64)
        .any(|e| vol.list(&e.path).is_ok_and(|sub| has(&sub, PROFILE_MARKS)));
    profiles.then(|| pick(RootKind::ProfileFolder)).flatten()
}

/// Advice for a root that is not recognised, from what it holds.
fn advice(entries: &[Entry]) -> String {
    if entries.is_empty() {
        return "the folder is empty: point at the mounted volume, profile or collection folder that holds the evidence".into();
    }
    let dirs: Vec<&str> = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Dir)
        .take(5)
        .map(|e| e.name.as_str())
        .collect();
    format!(
        "not a recognised root (it holds {}). Looked for a mounted volume (Users/, ProgramData/, Windows/, \
         Windows.old/, Documents and Settings/), a folder of profiles, a profile (AppData/ or Local Settings/), \
         part of one by its name (AppData, AppData/Local, ProgramData, MSIPC/Server), a store folder \
         (Microsoft/MSIPC, Microsoft/DRM, Server/<SID>), a profile share of FSLogix (Profile_<user>.vhdx) or \
         User Profile Disk (UVHD-<SID>.vhdx) containers, a KAPE collection (drive-letter folders C/, D/…) or an \
         unzipped Velociraptor collection (uploads/auto/…, uploads/ntfs/…). Point at one of those (or at a \
         disk image file: raw, VHD, VHDX, E01), or pass \
         --deep to walk the whole tree for Microsoft/MSIPC and Microsoft/DRM folders",
        if dirs.is_empty() {
            "files only".to_string()
        } else {
            dirs.join("/, ") + "/…"
        }
    )
}

/// Reads the root of `vol` as one profile whose user and SID are known from
/// elsewhere (a profile container's names); `prefix` is the profile
/// folder's Windows path inside its volume.
pub fn locate_profile(
    vol: &dyn Volume,
    user: Option<&str>,
    sid: Option<&str>,
    prefix: Vec<String>,
) -> Located {
    let node = Trie::get()
        .find("Users/*")
        .expect("the location table has profiles");
    let reading = Reading {
        kind: RootKind::Profile,
        node,
        ctx: Ctx {
            profile: user.map(str::to_string),
            sid: sid.map(str::to_string),
        },
        prefix: Some(prefix),
    };
    let (_, mut found) = resolve_readings(vol, &VPath::root(), std::slice::from_ref(&reading));
    Located {
        reading,
        discovery: found.swap_remove(0),
    }
}
