//! Planning a scan: roots → volumes of hosts → stores, sorted and
//! deduplicated; and listing one store's files when the run reaches it.
//!
//! Every root is checked and read here, before anything is written: a root
//! that is missing, a file, or not recognised stops the run with advice, and
//! no index or history entry is made.

use std::collections::{HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::locate::collection::{self, Collector};
use crate::locate::{self, RootKind};
use crate::record::{EvidenceRecord, ImageOrigin};
use crate::registry::{self, locate::HiveFile, HiveKind};
use crate::store::{Store, StoreMode};
use crate::volume::host::{HostVolume, Names};
use crate::volume::reopen::Pool;
use crate::volume::{ReadOptions, VPath, Volume};
use crate::CancelToken;
use std::sync::Arc;
use std::time::Duration;

use rayon::prelude::*;

mod archive;
mod fleet;
mod images;
mod io;
mod run;
pub use images::Owner;
use io::limited;
pub use io::{IoConfig, IoPlan, DEFAULT_IO_TIMEOUT, REMOTE_IO_DEPTH};

/// One root to scan, as given, and the label its records carry (`None`: the
/// default label, from the collection or the folder's name).
#[derive(Debug, Clone)]
pub struct Root {
    pub path: PathBuf,
    pub label: Option<String>,
}

impl Root {
    /// A root with the default label.
    pub fn new(path: impl Into<PathBuf>) -> Root {
        Root {
            path: path.into(),
            label: None,
        }
    }
    /// A root with an explicit label.
    pub fn labelled(path: impl Into<PathBuf>, label: &str) -> Root {
        Root {
            path: path.into(),
            label: Some(label.to_string()),
        }
    }
}

/// What to scan and how (the CLI's arguments, as plain data).
#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub roots: Vec<Root>,
    pub deep: bool,
    /// Parser threads (hashing and parsing); requests to the file system in
    /// flight are [`IoConfig::depth`].
    pub threads: usize,
    pub read: ReadOptions,
    /// Set (e.g. from a signal handler) to stop dispatching files: what was
    /// already read is still handed to the sink, then the run ends.
    pub cancel: CancelToken,
    /// File-system requests in flight (see [`IoConfig`]).
    pub io: IoConfig,
}

/// Why a root cannot be scanned. Each names the root and what to do.
#[derive(Debug, thiserror::Error)]
pub enum RootError {
    #[error("{path}: cannot read this root: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: this file is not a disk image or collection rmsweep reads (raw or split raw with a partition table or an NTFS boot sector, VHD, VHDX, E01, a Velociraptor collection zip, told by their content): point at an image, or at the folder that holds the evidence (a mounted volume, a profile share, a collection), or parse single store files with `rmsweep parse FILE`")]
    File(PathBuf),
    #[error("{0}: not a folder or a file (a device, FIFO or socket): point at the folder that holds the evidence")]
    Special(PathBuf),
    #[error("{path}: {advice}")]
    Unrecognised { path: PathBuf, advice: String },
    #[error(
        "{0}: --deep found no Microsoft/MSIPC or Microsoft/DRM folder anywhere under this root"
    )]
    NothingFound(PathBuf),
    #[error("{0}: cannot tell which host this is (its name is a drive letter or a mount point): pass --label HOST")]
    NoLabel(PathBuf),
}

/// A volume of one host, and how its root was read.
pub struct PlannedRoot {
    /// The root as given (a collection's parts share it).
    pub given: PathBuf,
    pub label: String,
    pub kind: RootKind,
    pub collector: Option<Collector>,
    /// `C:`, where the evidence tells it.
    pub drive: Option<String>,
    /// The root folder's Windows path inside the volume, where the layout tells it.
    pub prefix: Option<Vec<String>>,
    /// The image or container the volume is read from (empty for a folder).
    pub image: ImageOrigin,
    /// The user and SID a profile container's names give.
    pub owner: Owner,
    /// The Velociraptor client id of the collection it came from, where one
    /// is recorded: two machines may share a host name.
    pub client_id: Option<String>,
    pub volume: Box<dyn Volume>,
}

impl PlannedRoot {
    /// The root folder as stored (the volume's base).
    pub fn stored(&self) -> PathBuf {
        self.volume.stored_path(&VPath::root())
    }

    /// `volume_path` of a path in this root: `\Users\alice\…` (with no drive).
    pub fn volume_path(&self, p: &VPath) -> Option<String> {
        let prefix = self.prefix.as_ref()?;
        let mut s = String::new();
        for c in prefix.iter().cloned().chain(self.volume.windows_names(p)) {
            s.push('\\');
            s.push_str(&c);
        }
        Some(if s.is_empty() { "\\".into() } else { s })
    }
}

impl std::fmt::Debug for PlannedRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlannedRoot")
            .field("root", &self.stored())
            .field("label", &self.label)
            .field("kind", &self.kind)
            .field("drive", &self.drive)
            .finish()
    }
}

/// A store of a planned root.
#[derive(Debug)]
pub struct PlannedStore {
    pub root: usize,
    pub store: Store,
    /// The store folder as stored: the sort key.
    pub stored: PathBuf,
}

/// A hive of a planned root.
#[derive(Debug)]
pub struct PlannedHive {
    pub root: usize,
    pub hive: HiveFile,
    /// The hive file as stored: the sort key.
    pub stored: PathBuf,
}

/// Roots read, stores and hives found; store files are listed store by
/// store when a run reaches them.
#[derive(Debug, Default)]
pub struct Plan {
    pub roots: Vec<PlannedRoot>,
    /// Sorted by (label, stored folder), each folder once.
    pub stores: Vec<PlannedStore>,
    /// Sorted by (label, stored path), each file once; read beside the
    /// stores in path order ([`Plan::run_order`]).
    pub hives: Vec<PlannedHive>,
    /// Every store folder by (root, folder): a recursive store does not
    /// descend into a folder that is a store of its own.
    store_dirs: HashSet<(usize, VPath)>,
    pub profiles: usize,
    /// Folders discovery could not list (they may hold stores).
    pub listing_errors: Vec<(PathBuf, String)>,
    /// Each root as scanned (canonical) with the labels it gave: the
    /// records a re-scan may remove lie under these.
    pub scanned: Vec<(String, PathBuf)>,
    /// Images, containers and volumes in them that could not be read,
    /// sorted by (label, path): each becomes an `evidence` record.
    pub unread: Vec<EvidenceRecord>,
    /// Requests in flight while planning, and for the run.
    pub io: IoPlan,
}

/// What a file to read is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A file of store `i`.
    Store(usize),
    /// Hive `i`.
    Hive(usize),
    /// Evidence `i` that could not be read ([`Plan::unread`]).
    Unread(usize),
}

/// One file to read.
#[derive(Debug)]
pub struct Job {
    pub source: Source,
    pub path: VPath,
    /// Set when the entry must not or cannot be opened (not a regular file,
    /// an unlistable folder): the record carries this error.
    pub error: Option<String>,
}

/// One store's files, sorted, and what listing it found besides.
#[derive(Debug, Default)]
pub struct StoreListing {
    pub jobs: Vec<Job>,
    pub logs_skipped: usize,
    pub errors: Vec<(PathBuf, String)>,
}

/// What listing every store found (for `--dry-run`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ListingCounts {
    pub files: usize,
    /// Registry hives (counted apart from store files).
    pub hives: usize,
    pub logs_skipped: usize,
    /// Folders that could not be listed, discovery's included.
    pub listing_errors: usize,
}

/// Profile containers held open at once (each holds a descriptor and its
/// tables); the others are reopened when the run reaches them.
const CONTAINERS_OPEN: usize = 64;

/// Template stores may hold per-server sub-folders; not deeper than this.
const MAX_STORE_DEPTH: usize = 4;

/// Reads the roots and finds their stores, sorted by (label, folder).
/// Discovery's listings run on a pool of [`IoPlan::depth`] threads, so that
/// a share's round trips overlap.
pub fn plan(config: &ScanConfig) -> Result<Plan, RootError> {
    let io = IoPlan::of(config);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(io.depth)
        .thread_name(|i| format!("rmsweep-io-{i}"))
        .build();
    let mut plan = match pool {
        Ok(pool) => pool.install(|| plan_roots(config, &io))?,
        // No threads to be had: discovery lists on rayon's global pool.
        Err(_) => plan_roots(config, &io)?,
    };
    plan.io = io;
    Ok(plan)
}

fn plan_roots(config: &ScanConfig, io: &IoPlan) -> Result<Plan, RootError> {
    let mut plan = Plan::default();
    let pool = Pool::new(CONTAINERS_OPEN);
    for root in &config.roots {
        let unread_before = plan.unread.len();
        let reading = Reading {
            deep: config.deep,
            member: false,
            limit: io.limit_for(&root.path),
        };
        let (canonical, mut read) = read_root(root, reading, &pool, &mut plan.unread)?;
        // What this root covers, per label: a re-scan may remove records under it.
        let mut labels: Vec<&String> = read.iter().map(|(p, _)| &p.label).collect();
        labels.extend(plan.unread[unread_before..].iter().map(|u| &u.label));
        labels.sort();
        labels.dedup();
        for label in labels {
            plan.scanned.push((label.clone(), canonical.clone()));
        }
        // Each volume's hives, found at once (a fleet's hundreds of volumes
        // cost a few round trips each on a share); its stores get their
        // owners' SIDs from them.
        let hives: Vec<Vec<HiveFile>> = read
            .par_iter_mut()
            .map(|(planned, discovery)| hives_of(planned, &mut discovery.stores))
            .collect();
        for ((planned, discovery), hives) in read.into_iter().zip(hives) {
            let r = plan.roots.len();
            plan.profiles += discovery.profiles;
            plan.listing_errors.extend(discovery.errors);
            for store in discovery.stores {
                let stored = planned.volume.stored_path(&store.dir);
                plan.stores.push(PlannedStore {
                    root: r,
                    store,
                    stored,
                });
            }
            for hive in hives {
                let stored = planned.volume.stored_path(&hive.path);
                plan.hives.push(PlannedHive {
                    root: r,
                    hive,
                    stored,
                });
            }
            plan.roots.push(planned);
        }
    }
    let roots = &plan.roots;
    plan.stores.sort_by(|a, b| {
        (&roots[a.root].label, a.stored.as_os_str().as_bytes())
            .cmp(&(&roots[b.root].label, b.stored.as_os_str().as_bytes()))
    });
    // The same store reached twice (overlapping roots) is listed once.
    plan.stores
        .dedup_by(|a, b| roots[a.root].label == roots[b.root].label && a.stored == b.stored);
    plan.hives.sort_by(|a, b| {
        (&roots[a.root].label, a.stored.as_os_str().as_bytes())
            .cmp(&(&roots[b.root].label, b.stored.as_os_str().as_bytes()))
    });
    plan.hives
        .dedup_by(|a, b| roots[a.root].label == roots[b.root].label && a.stored == b.stored);
    plan.store_dirs = plan
        .stores
        .iter()
        .map(|s| (s.root, s.store.dir.clone()))
        .collect();
    plan.listing_errors.sort();
    plan.listing_errors.dedup();
    plan.unread
        .sort_by(|a, b| (&a.label, &a.path).cmp(&(&b.label, &b.path)));
    plan.unread
        .dedup_by(|a, b| a.label == b.label && a.path == b.path && a.error == b.error);
    Ok(plan)
}

/// The hives of a planned volume, with the SIDs their places, the
/// container's owner and the profiles' `UsrClass.dat` give; `stores` (the
/// volume's) get their owners' SIDs too.
fn hives_of(planned: &PlannedRoot, stores: &mut [Store]) -> Vec<HiveFile> {
    let name = match &planned.owner.user {
        Some(user) => user.clone(),
        None => planned
            .stored()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let mut hives = registry::locate::find(planned.volume.as_ref(), planned.kind, &name);
    for h in hives.iter_mut().filter(|h| h.sid.is_none()) {
        h.sid.clone_from(&planned.owner.sid);
    }
    give_owner_sids(planned.volume.as_ref(), &mut hives, stores);
    hives
}

/// Each profile's owner SID, where its `UsrClass.dat` names it
/// (`<SID>_Classes`); its client-mode stores and its `NTUSER.DAT` get it.
fn give_owner_sids(vol: &dyn Volume, hives: &mut [HiveFile], stores: &mut [Store]) {
    let owners: HashMap<String, String> = hives
        .par_iter()
        .filter(|h| h.kind == HiveKind::Usrclass)
        .filter_map(|h| Some((h.profile.clone()?, registry::usrclass_owner(vol, &h.path)?)))
        .collect();
    let owner = |profile: &Option<String>| profile.as_ref().and_then(|p| owners.get(p)).cloned();
    for h in hives.iter_mut().filter(|h| h.sid.is_none()) {
        h.sid = owner(&h.profile);
    }
    for s in stores.iter_mut() {
        if s.mode == StoreMode::Client && s.sid.is_none() {
            s.sid = owner(&s.profile);
        }
    }
}

/// One given root: its canonical path, and its volumes (several for a
/// collection), each read.
/// A collection's drive folder held through `pool`: its base folder's
/// descriptor is closed when others need the room and opened again (by its
/// path, with the same rules) when the run reads it.
fn pooled_folder(vol: HostVolume, part: &collection::Part, pool: &Arc<Pool>) -> Box<dyn Volume> {
    let (base, names) = (part.base.clone(), part.names);
    let opener: crate::volume::reopen::Opener =
        Box::new(move || Ok(Arc::new(HostVolume::new(&base, names)?) as Arc<dyn Volume>));
    Box::new(
        crate::volume::reopen::Reopening::new(Arc::new(vol), opener, pool.clone())
            .with_names(names),
    )
}

/// How a root is read.
#[derive(Debug, Clone, Copy)]
struct Reading {
    /// `--deep`: the whole tree walked.
    deep: bool,
    /// The root is one of a fleet's thousands of collections, whose
    /// volumes are held through the pool (a descriptor each only while in use).
    member: bool,
    /// Each request to its folders limited to this (a root on a share).
    limit: Option<Duration>,
}

fn read_root(
    root: &Root,
    reading: Reading,
    pool: &Arc<Pool>,
    unread: &mut Vec<EvidenceRecord>,
) -> Result<(PathBuf, Vec<(PlannedRoot, locate::Discovery)>), RootError> {
    let Reading {
        deep,
        member,
        limit,
    } = reading;
    let unreadable = |source| RootError::Unreadable {
        path: root.path.clone(),
        source,
    };
    // Records carry absolute paths, so a re-scan through another spelling
    // of the same root finds the same records.
    let path = std::fs::canonicalize(&root.path).map_err(unreadable)?;
    let meta = std::fs::metadata(&path).map_err(unreadable)?;
    if meta.is_file() {
        return Ok((
            path.clone(),
            images::image_root(root, &path, deep, pool, unread)?,
        ));
    }
    if !meta.is_dir() {
        return Err(RootError::Special(root.path.clone()));
    }
    let found = (!deep).then(|| collection::recognise(&path)).flatten();
    let unread_before = unread.len();
    let label = |host: Option<String>| {
        root.label
            .clone()
            .or(host)
            .ok_or_else(|| RootError::NoLabel(root.path.clone()))
    };
    let mut out = Vec::new();
    match found {
        Some(c) => {
            let mut volumes = Vec::new();
            for part in &c.parts {
                let vol = HostVolume::new(&part.base, part.names).map_err(unreadable)?;
                let vol = match member {
                    true => pooled_folder(vol, part, pool),
                    false => Box::new(vol) as Box<dyn Volume>,
                };
                volumes.push(limited(vol, limit));
            }
            // A server file store's collection names no host: its SYSTEM
            // hive does, else its client id.
            let host = c.host.clone().or_else(|| {
                let named = root.label.is_none().then(|| {
                    volumes
                        .iter()
                        .find_map(|v| registry::computer_name(v.as_ref()))
                });
                named.flatten().or(c.client_id.clone())
            });
            let label = label(host)?;
            for (part, volume) in c.parts.into_iter().zip(volumes) {
                let Ok(located) = locate::locate(volume.as_ref(), &[], false) else {
                    continue; // a drive that holds no Windows layout
                };
                let (mut p, discovery) = planned(
                    root,
                    &label,
                    located,
                    volume,
                    Some(c.collector),
                    Some(part.drive),
                );
                p.client_id = c.client_id.clone();
                out.push((p, discovery));
            }
        }
        None => {
            let folder = HostVolume::new(&path, Names::AsStored).map_err(unreadable)?;
            let volume = limited(Box::new(folder.clone()), limit);
            // A root named only by a drive or mount point (`/mnt/c`): the
            // computer name its SYSTEM hive gives, where it has one.
            let host = collection::default_label(&path).or_else(|| {
                root.label
                    .is_none()
                    .then(|| registry::computer_name(volume.as_ref()))
                    .flatten()
            });
            let label = label(host)?;
            let above: Vec<String> = path
                .components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect();
            let located = locate::locate(volume.as_ref(), &above, deep);
            // Profile containers (an FSLogix or User Profile Disk share).
            let kind = located.as_ref().ok().map(|l| l.reading.kind);
            let host: Arc<dyn Volume> = Arc::from(limited(Box::new(folder), limit));
            let held = images::folder_containers(root, &label, &host, kind, pool, unread);
            let no_containers = held.is_empty() && unread.len() == unread_before;
            match located {
                Err(advice) if no_containers => {
                    // A fleet sweep's results: a collection or image per host.
                    let members = fleet::members(&path);
                    if members.is_empty() {
                        return Err(RootError::Unrecognised {
                            path: root.path.clone(),
                            advice,
                        });
                    }
                    out.extend(fleet::read(root, members, reading, pool, unread)?);
                }
                Ok(l) if deep && l.discovery.stores.is_empty() && no_containers => {
                    return Err(RootError::NothingFound(root.path.clone()));
                }
                Ok(located) => {
                    let drive = collection::drive_of(&path);
                    out.push(planned(root, &label, located, volume, None, drive));
                }
                Err(_) => {}
            }
            out.extend(held);
        }
    }
    if out.is_empty() && unread.len() == unread_before {
        return Err(RootError::Unrecognised {
            path: root.path.clone(),
            advice: "a collection whose drive folders hold no Windows volume layout (Users/, ProgramData/, Windows/): point at a drive folder, or pass --deep".into(),
        });
    }
    Ok((path, out))
}

fn planned(
    root: &Root,
    label: &str,
    located: locate::Located,
    volume: Box<dyn Volume>,
    collector: Option<Collector>,
    drive: Option<String>,
) -> (PlannedRoot, locate::Discovery) {
    (
        PlannedRoot {
            given: root.path.clone(),
            label: label.to_string(),
            kind: located.reading.kind,
            collector,
            drive,
            prefix: located.reading.prefix,
            image: ImageOrigin::default(),
            owner: Owner::default(),
            client_id: None,
            volume,
        },
        located.discovery,
    )
}

impl Plan {
    /// The labels of the roots, sorted, each once.
    pub fn labels(&self) -> Vec<String> {
        let mut l: Vec<String> = self.roots.iter().map(|r| r.label.clone()).collect();
        l.sort();
        l.dedup();
        l
    }

    /// The root and label of store `i`.
    pub fn root_of(&self, store: usize) -> &PlannedRoot {
        &self.roots[self.stores[store].root]
    }

    /// Whether `dir` of root `root` is a planned store folder.
    pub fn is_store_dir(&self, root: usize, dir: &VPath) -> bool {
        self.store_dirs.contains(&(root, dir.clone()))
    }

    /// The root a job's file lies in (`None` for evidence that could not be read).
    pub fn root_of_job(&self, job: &Job) -> Option<&PlannedRoot> {
        match job.source {
            Source::Store(i) => Some(self.root_of(i)),
            Source::Hive(i) => Some(&self.roots[self.hives[i].root]),
            Source::Unread(_) => None,
        }
    }
}
