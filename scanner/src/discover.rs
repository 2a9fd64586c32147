//! Finding the stores under a root, without walking what is not a store.
//!
//! A real profile holds tens of thousands of folders; its store is four levels
//! down. Targeted discovery resolves the known relative paths one component
//! at a time, listing only the folders on the way (`AppData`, `Local`,
//! `Microsoft`) and matching names case-insensitively (mounted NTFS and SMB
//! shares return names as stored: `appdata/local/microsoft/msipc`).
//! Every component must be a real directory: symbolic links and junctions are
//! never followed, so discovery cannot leave the evidence.
//!
//! `--deep` is the fallback for unusual layouts: a parallel walk of the whole
//! tree that treats every `Microsoft/MSIPC` and `Microsoft/DRM` folder as a store.
//! Folders are listed with [`crate::dir`] (`O_NOATIME`, never through a link).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use crate::dir::{self, EntryKind};

use crate::store::{is_sid, RmsClient, Store, StoreArea, StoreMode};

/// What a root turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKind {
    /// A mounted volume (`Users/`, `ProgramData/`, `Windows.old/Users/`).
    Volume,
    /// A folder of profiles (`Users/` itself, a file server's profile share).
    ProfileFolder,
    /// One profile folder (has `AppData/`).
    Profile,
    /// A store folder itself (`…/Microsoft/MSIPC`, `…/DRM`, `…/Server/<SID>`).
    StoreFolder,
    /// Walked in full (`--deep`).
    Deep,
}

/// Stores found under one root, and what could not be looked at.
#[derive(Debug, Default)]
pub struct Discovery {
    pub stores: Vec<Store>,
    /// Profiles examined (with or without a store).
    pub profiles: usize,
    /// Folders that could not be listed, with the reason.
    pub errors: Vec<(PathBuf, String)>,
}

/// Why a root cannot be scanned.
#[derive(Debug, thiserror::Error)]
pub enum RootError {
    #[error("{path}: cannot read the root folder: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{0}: not a recognised root. Looked for a mounted volume (Users/, ProgramData/, Windows.old/Users/), \
         a folder of profiles (sub-folders with AppData/), a profile (AppData/), or a store folder \
         (Microsoft/MSIPC, Microsoft/DRM, MSIPC/Server/<SID>). Pass --deep to walk the whole tree for \
         Microsoft/MSIPC and Microsoft/DRM folders."
    )]
    Unrecognised(PathBuf),
}

/// Finds the children of `dir` named `name` in any case that are real
/// directories (never symlinks or junctions). Returns every match: a
/// case-sensitive copy of an NTFS volume can hold `AppData` and `appdata`
/// side by side, so the parent is always listed rather than probed.
pub fn child_dirs(dir: &Path, name: &str, errors: &mut Vec<(PathBuf, String)>) -> Vec<PathBuf> {
    named(&subdirs(dir, errors), name)
        .map(Path::to_path_buf)
        .collect()
}

/// Resolves a relative path of several components, case-insensitively.
pub fn resolve(
    dir: &Path,
    components: &[&str],
    errors: &mut Vec<(PathBuf, String)>,
) -> Vec<PathBuf> {
    let mut current = vec![dir.to_path_buf()];
    for c in components {
        current = current
            .iter()
            .flat_map(|d| child_dirs(d, c, errors))
            .collect();
        if current.is_empty() {
            break;
        }
    }
    current
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn real_subdirs(dir: &Path, errors: &mut Vec<(PathBuf, String)>) -> Vec<PathBuf> {
    subdirs(dir, errors).into_iter().map(|(_, p)| p).collect()
}

/// For classifying a folder only: listing errors are reported when the
/// folder is then discovered.
fn has_child_dir(dir: &Path, name: &str) -> bool {
    !child_dirs(dir, name, &mut Vec::new()).is_empty()
}

/// Decides what `root` is.
pub fn classify_root(root: &Path, deep: bool) -> Result<RootKind, RootError> {
    let meta = fs::metadata(root).map_err(|source| RootError::Unreadable {
        path: root.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(RootError::Unrecognised(root.to_path_buf()));
    }
    if deep {
        return Ok(RootKind::Deep);
    }
    if is_store_folder(root) {
        return Ok(RootKind::StoreFolder);
    }
    if has_child_dir(root, "Users")
        || has_child_dir(root, "ProgramData")
        || !resolve(root, &["Windows.old", "Users"], &mut Vec::new()).is_empty()
        || has_child_dir(root, "Documents and Settings")
    {
        return Ok(RootKind::Volume);
    }
    if has_child_dir(root, "AppData") || has_child_dir(root, "Local Settings") {
        return Ok(RootKind::Profile);
    }
    let mut errors = Vec::new();
    if real_subdirs(root, &mut errors)
        .iter()
        .any(|d| has_child_dir(d, "AppData"))
    {
        return Ok(RootKind::ProfileFolder);
    }
    Err(RootError::Unrecognised(root.to_path_buf()))
}

fn is_store_folder(dir: &Path) -> bool {
    let name = name_of(dir);
    let parent = dir.parent().map(name_of).unwrap_or_default();
    name.eq_ignore_ascii_case("MSIPC")
        || name.eq_ignore_ascii_case("DRM")
        || (is_sid(&name)
            && (parent.eq_ignore_ascii_case("Server")
                || parent.eq_ignore_ascii_case("Templates")
                || parent.eq_ignore_ascii_case("UnmanagedTemplates")))
}

/// Finds the stores under `root`.
pub fn discover(root: &Path, kind: RootKind) -> Discovery {
    let mut d = Discovery::default();
    match kind {
        RootKind::Volume => {
            for users in [
                &["Users"][..],
                &["Windows.old", "Users"],
                &["Documents and Settings"],
            ] {
                for dir in resolve(root, users, &mut d.errors) {
                    profiles_in(&dir, &mut d);
                }
            }
            for pd in child_dirs(root, "ProgramData", &mut d.errors) {
                for ms in child_dirs(&pd, "Microsoft", &mut d.errors) {
                    server_stores(&ms, &mut d);
                }
            }
        }
        RootKind::ProfileFolder => profiles_in(root, &mut d),
        RootKind::Profile => {
            d.profiles += 1;
            profile_stores(root, &mut d);
        }
        RootKind::StoreFolder => store_folder(root, &mut d),
        RootKind::Deep => deep(root, &mut d),
    }
    d.stores.sort();
    d.stores.dedup();
    d
}

fn profiles_in(dir: &Path, d: &mut Discovery) {
    let mut errors = Vec::new();
    for profile in real_subdirs(dir, &mut errors) {
        d.profiles += 1;
        profile_stores(&profile, d);
    }
    d.errors.extend(errors);
}

/// The real sub-directories of a folder, listed once: (name, path). A
/// folder that cannot be listed goes to `errors`: it may hold stores.
fn subdirs(dir: &Path, errors: &mut Vec<(PathBuf, String)>) -> Vec<(String, PathBuf)> {
    match dir::list(dir) {
        Ok(entries) => entries
            .into_iter()
            .filter(|e| e.kind == EntryKind::Dir)
            .map(|e| (e.name_lossy().into_owned(), e.path))
            .collect(),
        Err(e) => {
            errors.push((dir.to_path_buf(), e.to_string()));
            Vec::new()
        }
    }
}

/// The entries of a listing named `name` in any case.
fn named<'a>(list: &'a [(String, PathBuf)], name: &'a str) -> impl Iterator<Item = &'a Path> + 'a {
    list.iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, p)| p.as_path())
}

/// The client-mode stores of one profile. Each folder on the way is listed
/// once: the profile, `AppData`, `Local`, `Roaming`, their `Microsoft`.
fn profile_stores(profile: &Path, d: &mut Discovery) {
    let name = name_of(profile);
    let top = subdirs(profile, &mut d.errors);
    let mut local_microsoft: Vec<PathBuf> = Vec::new();
    let mut roaming_microsoft: Vec<PathBuf> = Vec::new();
    for appdata in named(&top, "AppData") {
        let ad = subdirs(appdata, &mut d.errors);
        for local in named(&ad, "Local") {
            local_microsoft
                .extend(named(&subdirs(local, &mut d.errors), "Microsoft").map(Path::to_path_buf));
        }
        for roaming in named(&ad, "Roaming") {
            roaming_microsoft.extend(
                named(&subdirs(roaming, &mut d.errors), "Microsoft").map(Path::to_path_buf),
            );
        }
    }
    // Windows XP profiles.
    for ls in named(&top, "Local Settings") {
        for app in named(&subdirs(ls, &mut d.errors), "Application Data") {
            local_microsoft
                .extend(named(&subdirs(app, &mut d.errors), "Microsoft").map(Path::to_path_buf));
        }
    }
    for app in named(&top, "Application Data") {
        roaming_microsoft
            .extend(named(&subdirs(app, &mut d.errors), "Microsoft").map(Path::to_path_buf));
    }
    for ms in &local_microsoft {
        let list = subdirs(ms, &mut d.errors);
        for msipc in named(&list, "MSIPC") {
            client_msipc(msipc, Some(&name), d);
        }
        for drm in named(&list, "DRM") {
            client_msdrm(drm, Some(&name), d);
        }
    }
    for ms in &roaming_microsoft {
        for drm in named(&subdirs(ms, &mut d.errors), "DRM") {
            for t in named(&subdirs(drm, &mut d.errors), "Templates") {
                client_store(d, t, StoreArea::Templates, RmsClient::Msdrm, Some(&name));
            }
        }
    }
}

fn store(
    dir: PathBuf,
    mode: StoreMode,
    area: StoreArea,
    client: RmsClient,
    profile: Option<&str>,
    sid: Option<&str>,
) -> Store {
    Store {
        recursive: area != StoreArea::Licenses,
        dir,
        mode,
        area,
        client,
        profile: profile.map(str::to_string),
        sid: sid.map(str::to_string),
    }
}

/// A client-mode store of `profile`.
fn client_store(
    d: &mut Discovery,
    dir: &Path,
    area: StoreArea,
    client: RmsClient,
    profile: Option<&str>,
) {
    d.stores.push(store(
        dir.to_path_buf(),
        StoreMode::Client,
        area,
        client,
        profile,
        None,
    ));
}

fn client_msipc(msipc: &Path, profile: Option<&str>, d: &mut Discovery) {
    client_store(d, msipc, StoreArea::Licenses, RmsClient::Msipc, profile);
    let list = subdirs(msipc, &mut d.errors);
    for t in named(&list, "Templates") {
        client_store(d, t, StoreArea::Templates, RmsClient::Msipc, profile);
    }
    for t in named(&list, "UnmanagedTemplates") {
        client_store(
            d,
            t,
            StoreArea::UnmanagedTemplates,
            RmsClient::Msipc,
            profile,
        );
    }
}

fn client_msdrm(drm: &Path, profile: Option<&str>, d: &mut Discovery) {
    client_store(d, drm, StoreArea::Licenses, RmsClient::Msdrm, profile);
    for t in child_dirs(drm, "Templates", &mut d.errors) {
        client_store(d, &t, StoreArea::Templates, RmsClient::Msdrm, profile);
    }
}

/// Server-mode stores under a `ProgramData/Microsoft` folder.
fn server_stores(microsoft: &Path, d: &mut Discovery) {
    for msipc in child_dirs(microsoft, "MSIPC", &mut d.errors) {
        msipc_server(&msipc, d);
    }
    for drm in child_dirs(microsoft, "DRM", &mut d.errors) {
        for server in child_dirs(&drm, "Server", &mut d.errors) {
            sid_stores(&server, StoreArea::Licenses, RmsClient::Msdrm, d);
        }
    }
}

fn msipc_server(msipc: &Path, d: &mut Discovery) {
    for server in child_dirs(msipc, "Server", &mut d.errors) {
        sid_stores(&server, StoreArea::Licenses, RmsClient::Msipc, d);
        for t in child_dirs(&server, "Templates", &mut d.errors) {
            sid_stores(&t, StoreArea::Templates, RmsClient::Msipc, d);
        }
        for t in child_dirs(&server, "UnmanagedTemplates", &mut d.errors) {
            sid_stores(&t, StoreArea::UnmanagedTemplates, RmsClient::Msipc, d);
        }
    }
}

/// Every `<SID>` folder of `dir` is a store; other folders are not.
fn sid_stores(dir: &Path, area: StoreArea, client: RmsClient, d: &mut Discovery) {
    let mut errors = Vec::new();
    for sub in real_subdirs(dir, &mut errors) {
        let name = name_of(&sub);
        if is_sid(&name) {
            d.stores.push(store(
                sub,
                StoreMode::Server,
                area,
                client,
                None,
                Some(&name),
            ));
        }
    }
    d.errors.extend(errors);
}

/// A root that is itself a store folder.
fn store_folder(dir: &Path, d: &mut Discovery) {
    let name = name_of(dir);
    let parent = dir.parent();
    let parent_name = parent.map(name_of).unwrap_or_default();
    if is_sid(&name) {
        let area = if parent_name.eq_ignore_ascii_case("Templates") {
            StoreArea::Templates
        } else if parent_name.eq_ignore_ascii_case("UnmanagedTemplates") {
            StoreArea::UnmanagedTemplates
        } else {
            StoreArea::Licenses
        };
        let msdrm = dir
            .ancestors()
            .any(|a| name_of(a).eq_ignore_ascii_case("DRM"));
        let client = if msdrm {
            RmsClient::Msdrm
        } else {
            RmsClient::Msipc
        };
        d.stores.push(store(
            dir.to_path_buf(),
            StoreMode::Server,
            area,
            client,
            None,
            Some(&name),
        ));
        return;
    }
    let profile = profile_of(dir);
    if name.eq_ignore_ascii_case("MSIPC") {
        if has_child_dir(dir, "Server") {
            msipc_server(dir, d);
        } else {
            client_msipc(dir, profile.as_deref(), d);
        }
    } else if name.eq_ignore_ascii_case("DRM") {
        if has_child_dir(dir, "Server") {
            for server in child_dirs(dir, "Server", &mut d.errors) {
                sid_stores(&server, StoreArea::Licenses, RmsClient::Msdrm, d);
            }
        } else {
            client_msdrm(dir, profile.as_deref(), d);
        }
    }
}

/// The profile a client store belongs to: the folder above `AppData` (or
/// `Local Settings` / `Application Data` on XP).
fn profile_of(store_dir: &Path) -> Option<String> {
    let comps: Vec<String> = store_dir
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let at = comps.iter().rposition(|c| {
        c.eq_ignore_ascii_case("AppData")
            || c.eq_ignore_ascii_case("Local Settings")
            || c.eq_ignore_ascii_case("Application Data")
    })?;
    let at = if at > 0
        && comps[at].eq_ignore_ascii_case("Application Data")
        && comps[at - 1].eq_ignore_ascii_case("Local Settings")
    {
        at - 1
    } else {
        at
    };
    comps.get(at.checked_sub(1)?).cloned()
}

/// Walks the whole tree in parallel (one thread per core, a shared stack of
/// folders); every `Microsoft/MSIPC` or `Microsoft/DRM` folder becomes a
/// store folder and is not descended into. Symlinks are never followed and
/// folders are listed with `O_NOATIME` like everywhere else.
fn deep(root: &Path, d: &mut Discovery) {
    let found: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let errors: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());
    let work = Mutex::new((vec![root.to_path_buf()], 0usize)); // (stack, folders being listed)
    let ready = Condvar::new();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let lock = |m| lock_ignoring_poison(m);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let next = {
                    let mut w = lock(&work);
                    loop {
                        if let Some(p) = w.0.pop() {
                            w.1 += 1;
                            break Some(p);
                        }
                        if w.1 == 0 {
                            break None;
                        }
                        w = ready.wait(w).unwrap_or_else(|p| p.into_inner());
                    }
                };
                let Some(dir) = next else {
                    ready.notify_all();
                    return;
                };
                let mut subdirs = Vec::new();
                match dir::list(&dir) {
                    Ok(entries) => {
                        for e in entries.into_iter().filter(|e| e.kind == EntryKind::Dir) {
                            let is_store = (dir::name_is(&e.name, "MSIPC")
                                || dir::name_is(&e.name, "DRM"))
                                && dir
                                    .file_name()
                                    .is_some_and(|n| dir::name_is(n, "Microsoft"));
                            if is_store {
                                found.lock().unwrap_or_else(|p| p.into_inner()).push(e.path);
                            } else {
                                subdirs.push(e.path);
                            }
                        }
                    }
                    Err(e) => errors
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((dir.clone(), e.to_string())),
                }
                let mut w = lock(&work);
                w.0.extend(subdirs);
                w.1 -= 1;
                drop(w);
                ready.notify_all();
            });
        }
    });
    let mut found = found.into_inner().unwrap_or_else(|p| p.into_inner());
    found.sort();
    let mut profiles = std::collections::BTreeSet::new();
    for dir in found {
        if let Some(p) = profile_of(&dir) {
            profiles.insert(
                dir.ancestors()
                    .find(|a| name_of(a) == p)
                    .map(Path::to_path_buf),
            );
        }
        store_folder(&dir, d);
    }
    d.profiles += profiles.len();
    let mut errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
    errors.sort();
    d.errors.extend(errors);
}

fn lock_ignoring_poison<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
