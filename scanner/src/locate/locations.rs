//! The one table of store locations on a Windows volume. Discovery resolves
//! it (as a trie, so each folder on the way is listed once), root
//! classification matches roots against it, and the collector definitions
//! in `contrib/` must cover exactly its [`collection_roots`] (a test checks).
//!
//! Sources: `%LOCALAPPDATA%\Microsoft\MSIPC` and `…\DRM` per user (client
//! mode), `%ALLUSERSPROFILE%\Microsoft\MSIPC\Server\<SID>` per service
//! account (server mode; `Templates\<SID>` and `UnmanagedTemplates\<SID>`
//! beside it), MSDRM's `%APPDATA%\Microsoft\DRM\Templates`; XP's
//! `Local Settings\Application Data` and `All Users\Application Data`; the
//! service accounts' own profiles, where services running as them keep a
//! client-mode store; and all of it again under `Windows.old`.

use std::sync::OnceLock;

use crate::store::{RmsClient, StoreArea, StoreMode};

/// One step of a location's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A folder of this name, in any case.
    Name(&'static str),
    /// Any folder: a user profile named after it.
    Profile,
    /// A folder named like a SID: the service account it belongs to.
    Sid,
}

/// What a store folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreKind {
    pub mode: StoreMode,
    pub area: StoreArea,
    pub client: RmsClient,
}

/// Folders that hold user profiles, relative to the volume root, and whether
/// they hold XP profiles (`Local Settings/Application Data`) rather than
/// Vista and later ones (`AppData/Local`).
pub(crate) const PROFILE_PARENTS: &[(&str, bool)] = &[
    ("Users", false),
    ("Documents and Settings", true),
    ("Windows.old/Users", false),
    ("Windows.old/Documents and Settings", true),
];

/// The service accounts' profiles (Vista and later): (folder, SID).
pub(crate) const SERVICE_PROFILES: &[(&str, &str)] = &[
    ("Windows/System32/config/systemprofile", "S-1-5-18"),
    ("Windows/SysWOW64/config/systemprofile", "S-1-5-18"),
    ("Windows/ServiceProfiles/LocalService", "S-1-5-19"),
    ("Windows/ServiceProfiles/NetworkService", "S-1-5-20"),
];

/// Where `%ALLUSERSPROFILE%\…\Microsoft` lies, relative to the volume root.
const ALL_USERS_MICROSOFT: &[&str] = &[
    "ProgramData/Microsoft",
    "Documents and Settings/All Users/Application Data/Microsoft",
];

use RmsClient::{Msdrm, Msipc};
use StoreArea::{Licenses, Templates, UnmanagedTemplates};
use StoreMode::{Client, Server};

type StoreAt = (&'static str, StoreMode, StoreArea, RmsClient);

/// Client-mode stores, relative to a Vista or later profile.
pub const PROFILE_STORES: &[StoreAt] = &[
    ("AppData/Local/Microsoft/MSIPC", Client, Licenses, Msipc),
    (
        "AppData/Local/Microsoft/MSIPC/Templates",
        Client,
        Templates,
        Msipc,
    ),
    (
        "AppData/Local/Microsoft/MSIPC/UnmanagedTemplates",
        Client,
        UnmanagedTemplates,
        Msipc,
    ),
    ("AppData/Local/Microsoft/DRM", Client, Licenses, Msdrm),
    (
        "AppData/Local/Microsoft/DRM/Templates",
        Client,
        Templates,
        Msdrm,
    ),
    (
        "AppData/Roaming/Microsoft/DRM/Templates",
        Client,
        Templates,
        Msdrm,
    ),
];

/// Client-mode stores, relative to an XP profile.
pub const XP_PROFILE_STORES: &[StoreAt] = &[
    (
        "Local Settings/Application Data/Microsoft/MSIPC",
        Client,
        Licenses,
        Msipc,
    ),
    (
        "Local Settings/Application Data/Microsoft/MSIPC/Templates",
        Client,
        Templates,
        Msipc,
    ),
    (
        "Local Settings/Application Data/Microsoft/MSIPC/UnmanagedTemplates",
        Client,
        UnmanagedTemplates,
        Msipc,
    ),
    (
        "Local Settings/Application Data/Microsoft/DRM",
        Client,
        Licenses,
        Msdrm,
    ),
    (
        "Local Settings/Application Data/Microsoft/DRM/Templates",
        Client,
        Templates,
        Msdrm,
    ),
    (
        "Application Data/Microsoft/DRM/Templates",
        Client,
        Templates,
        Msdrm,
    ),
];

/// Server-mode stores, relative to an all-users `Microsoft` folder: each
/// `<SID>` sub-folder of these is one service account's store.
pub const SERVER_STORES: &[StoreAt] = &[
    ("MSIPC/Server", Server, Licenses, Msipc),
    ("MSIPC/Server/Templates", Server, Templates, Msipc),
    (
        "MSIPC/Server/UnmanagedTemplates",
        Server,
        UnmanagedTemplates,
        Msipc,
    ),
    ("DRM/Server", Server, Licenses, Msdrm),
];

/// One location: a path pattern relative to the volume root and the store
/// it names.
#[derive(Debug, Clone)]
pub struct Location {
    pub steps: Vec<Step>,
    pub store: StoreKind,
    /// A service account's profile on the way: its depth (steps from the
    /// volume root) and SID.
    pub service: Option<(usize, &'static str)>,
}

impl Location {
    /// The pattern as `/`-separated text, `*` for a profile or SID.
    pub fn pattern(&self) -> String {
        self.steps
            .iter()
            .map(|s| match s {
                Step::Name(n) => *n,
                Step::Profile | Step::Sid => "*",
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

fn names(path: &'static str) -> impl Iterator<Item = Step> {
    path.split('/').map(Step::Name)
}

/// Every store location, expanded (profile parents × their profiles' stores,
/// service profiles, every all-users folder × server stores, with
/// `Windows.old` twins).
pub fn locations() -> &'static [Location] {
    static ALL: OnceLock<Vec<Location>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut out = Vec::new();
        let kind = |mode, area, client| StoreKind { mode, area, client };
        let mut profile = |prefix: Vec<Step>, xp: bool, sid: Option<&'static str>| {
            let stores = if xp {
                XP_PROFILE_STORES
            } else {
                PROFILE_STORES
            };
            for &(rel, mode, area, client) in stores {
                out.push(Location {
                    steps: prefix.iter().copied().chain(names(rel)).collect(),
                    store: kind(mode, area, client),
                    service: sid.map(|s| (prefix.len(), s)),
                });
            }
        };
        for &(parent, xp) in PROFILE_PARENTS {
            profile(names(parent).chain([Step::Profile]).collect(), xp, None);
        }
        for &(dir, sid) in SERVICE_PROFILES {
            profile(names(dir).collect(), false, Some(sid));
        }
        for old in [false, true] {
            for ms in ALL_USERS_MICROSOFT {
                for &(rel, mode, area, client) in SERVER_STORES {
                    out.push(Location {
                        steps: old
                            .then_some(Step::Name("Windows.old"))
                            .into_iter()
                            .chain(names(ms))
                            .chain(names(rel))
                            .chain([Step::Sid])
                            .collect(),
                        store: kind(mode, area, client),
                        service: None,
                    });
                }
            }
        }
        out
    })
}

/// The folders a collector must copy (recursively) to hold every store: the
/// locations that lie under no other location, `/`-separated, `*` for a
/// profile, without the trailing SID of server stores.
pub fn collection_roots() -> Vec<String> {
    let mut roots: Vec<String> = Vec::new();
    for loc in locations() {
        let mut p = loc.pattern();
        if loc.steps.last() == Some(&Step::Sid) {
            p.truncate(p.len() - 2);
        }
        roots.push(p);
    }
    let all = roots.clone();
    roots.retain(|p| {
        !all.iter()
            .any(|q| q != p && p.starts_with(q.as_str()) && p.as_bytes()[q.len()] == b'/')
    });
    let mut seen = std::collections::HashSet::new();
    roots.retain(|p| seen.insert(p.clone()));
    roots
}

/// The trie of [`locations`]: node 0 is the volume root.
#[derive(Debug, Default)]
pub struct Trie {
    pub nodes: Vec<Node>,
}

/// One folder of the trie.
#[derive(Debug, Default)]
pub struct Node {
    /// The steps from the volume root to here.
    pub path: Vec<Step>,
    pub children: Vec<(Step, usize)>,
    /// The store this folder is, if any.
    pub store: Option<StoreKind>,
    /// Set on a service account's profile folder.
    pub service_sid: Option<&'static str>,
}

impl Trie {
    pub fn get() -> &'static Trie {
        static TRIE: OnceLock<Trie> = OnceLock::new();
        TRIE.get_or_init(|| {
            let mut t = Trie {
                nodes: vec![Node::default()],
            };
            for loc in locations() {
                let mut at = 0;
                for (i, step) in loc.steps.iter().enumerate() {
                    at = t.child(at, *step);
                    if let Some((depth, sid)) = loc.service {
                        if i + 1 == depth {
                            t.nodes[at].service_sid = Some(sid);
                        }
                    }
                }
                t.nodes[at].store = Some(loc.store);
            }
            t
        })
    }

    fn child(&mut self, at: usize, step: Step) -> usize {
        if let Some(&(_, c)) = self.nodes[at].children.iter().find(|(s, _)| *s == step) {
            return c;
        }
        let mut path = self.nodes[at].path.clone();
        path.push(step);
        self.nodes.push(Node {
            path,
            ..Node::default()
        });
        let c = self.nodes.len() - 1;
        self.nodes[at].children.push((step, c));
        c
    }

    /// The node at a `/`-separated path of names, `*` (a profile) and
    /// `<sid>`, matched case-insensitively.
    pub fn find(&self, pattern: &str) -> Option<usize> {
        let mut at = 0;
        for part in pattern.split('/').filter(|p| !p.is_empty()) {
            at = self.nodes[at]
                .children
                .iter()
                .find(|(s, _)| match (s, part) {
                    (Step::Profile, "*") | (Step::Sid, "<sid>") => true,
                    (Step::Name(n), p) => n.eq_ignore_ascii_case(p),
                    _ => false,
                })?
                .1;
        }
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_roots_cover_every_location_once() {
        let roots = collection_roots();
        assert!(roots.contains(&"Users/*/AppData/Local/Microsoft/MSIPC".to_string()));
        assert!(roots.contains(&"Windows.old/ProgramData/Microsoft/MSIPC/Server".to_string()));
        assert!(roots.contains(
            &"Windows/ServiceProfiles/NetworkService/AppData/Local/Microsoft/MSIPC".to_string()
        ));
        // Templates under MSIPC are covered by MSIPC itself.
        assert!(!roots.iter().any(|r| r.ends_with("MSIPC/Templates")));
        for loc in locations() {
            let p = loc.pattern();
            assert!(
                roots.iter().any(|r| p.starts_with(r.as_str())),
                "{p} is not under any collection root"
            );
        }
    }

    #[test]
    fn the_trie_marks_service_profiles_and_stores() {
        let t = Trie::get();
        let sys = t.find("Windows/System32/config/systemprofile").unwrap();
        assert_eq!(t.nodes[sys].service_sid, Some("S-1-5-18"));
        let msipc = t.find("Users/*/AppData/Local/Microsoft/MSIPC").unwrap();
        assert_eq!(
            t.nodes[msipc].store,
            Some(StoreKind {
                mode: Client,
                area: Licenses,
                client: Msipc
            })
        );
        let server = t.find("ProgramData/Microsoft/MSIPC/Server/<sid>").unwrap();
        assert_eq!(t.nodes[server].store.map(|s| s.mode), Some(Server));
        assert!(t.find("Users/*/Documents").is_none());
    }
}
