//! Planning disk images and profile containers: a root that is an image
//! file, and the profile containers a folder or an image's volume holds.
//! Each NTFS volume becomes a [`PlannedRoot`] like a mounted folder; what
//! cannot be read (a damaged container, a BitLocker volume, a differencing
//! disk without its parent) becomes an `evidence` record, never a silent gap.

use std::path::Path;
use std::sync::Arc;

use super::{PlannedRoot, Root, RootError};
use crate::locate::collection;
use crate::locate::containers::{self, ContainerKind, FoundContainer};
use crate::locate::{self, Discovery};
use crate::record::{EvidenceRecord, ImageOrigin};
use crate::registry;
use crate::volume::host::{HostVolume, Names};
use crate::volume::image::container::{self, Disk, ImageError};
use crate::volume::image::ntfs::NtfsVolume;
use crate::volume::image::partition::{self, VolumeKind};
use crate::volume::reopen::{Opener, Pool, Reopening};
use crate::volume::sub::SubVolume;
use crate::volume::{EntryKind, VPath, Volume};

/// A planned volume and what its discovery found.
pub type Planned = (PlannedRoot, Discovery);

/// An NTFS volume of an image, with where it lies.
struct ImageVolume {
    volume: NtfsVolume,
    image: ImageOrigin,
}

/// The user and SID a profile container's names give.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owner {
    pub user: Option<String>,
    pub sid: Option<String>,
}

impl Owner {
    /// Whom a container's names say it belongs to.
    fn of(c: &FoundContainer) -> Owner {
        Owner {
            user: c.user.clone(),
            sid: c.sid.clone(),
        }
    }
}

/// What cannot be read is written down here, under `label`.
pub struct Unread<'a> {
    pub label: &'a str,
    pub records: &'a mut Vec<EvidenceRecord>,
}

impl Unread<'_> {
    pub(super) fn push(
        &mut self,
        vol: &dyn Volume,
        file: &VPath,
        image: ImageOrigin,
        owner: &Owner,
        error: String,
    ) {
        // A partition's failure is keyed by the partition (`image/p2`): two
        // failed partitions of one image are two records.
        let stored = match image.partition {
            Some(n) => vol.stored_path(file).join(format!("p{n}")),
            None => vol.stored_path(file),
        };
        let mut r = EvidenceRecord::new(&stored, self.label, error);
        if let Ok(st) = vol.stat(file) {
            r.set_stat(&st);
        }
        r.profile = owner.user.clone();
        r.sid = owner.sid.clone();
        r.image = ImageOrigin {
            ntfs: r.image.ntfs.take(),
            ..image
        };
        self.records.push(r);
    }
}

fn where_on_disk(partition: Option<u32>) -> String {
    partition
        .map(|n| format!("partition {n}"))
        .unwrap_or("volume".into())
}

/// The NTFS volume in partition `p` of `disk` (stored at `stored`): its
/// paths are `stored/pN/…` (`stored/…` for a bare volume).
fn ntfs_volume(
    stored: &Path,
    disk: &Disk,
    p: &partition::Partition,
) -> std::io::Result<NtfsVolume> {
    let base = match p.number {
        Some(n) => stored.join(format!("p{n}")),
        None => stored.to_path_buf(),
    };
    let origin = format!(
        "NTFS {} of {} {}",
        where_on_disk(p.number),
        disk.format.as_str(),
        stored.display()
    );
    NtfsVolume::open(p.source.clone(), base, origin)
}

/// Opens partition `number` of the image `file` on `host` again (a pooled
/// container, closed since planning).
fn reopen_ntfs(
    host: &dyn Volume,
    file: &VPath,
    number: Option<u32>,
) -> std::io::Result<NtfsVolume> {
    let gone = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let disk = container::open(host, file)
        .map_err(|e| gone(e.to_string()))?
        .ok_or_else(|| gone("no longer a disk image".into()))?;
    let parts = partition::partitions(&disk.source).map_err(|e| gone(e.to_string()))?;
    let p = parts
        .iter()
        .find(|p| p.number == number && p.kind == VolumeKind::Ntfs)
        .ok_or_else(|| {
            gone(format!(
                "{} is no longer an NTFS volume",
                where_on_disk(number)
            ))
        })?;
    ntfs_volume(&host.stored_path(file), &disk, p)
}

/// The NTFS volumes of the disk in `file` on `vol`; `Ok(None)` when the
/// file is no image. What cannot be read goes to `unread`.
fn image_volumes(
    vol: &dyn Volume,
    file: &VPath,
    kind: ContainerKind,
    owner: &Owner,
    unread: &mut Unread<'_>,
) -> Option<Vec<ImageVolume>> {
    let stored = vol.stored_path(file);
    let mut image = ImageOrigin {
        container: Some(stored.to_string_lossy().into_owned()),
        container_kind: Some(kind),
        ..ImageOrigin::default()
    };
    let disk: Disk = match container::open(vol, file) {
        Ok(Some(d)) => d,
        Ok(None) => return None,
        Err(e) => {
            unread.push(vol, file, image, owner, e.to_string());
            return Some(Vec::new());
        }
    };
    image.container_format = Some(disk.format.as_str().to_string());
    let parts = match partition::partitions(&disk.source) {
        Ok(p) => p,
        Err(ImageError::Unreadable(source)) => {
            let e = ImageError::Damaged {
                format: disk.format.as_str(),
                source,
            };
            unread.push(vol, file, image, owner, e.to_string());
            return Some(Vec::new());
        }
        Err(e) => {
            unread.push(vol, file, image, owner, e.to_string());
            return Some(Vec::new());
        }
    };
    let mut out = Vec::new();
    let mut seen = Vec::new();
    let unread_before = unread.records.len();
    for p in parts {
        let image = ImageOrigin {
            partition: p.number,
            ..image.clone()
        };
        let where_ = where_on_disk(p.number);
        seen.push(format!("{where_}: {:?}", p.kind));
        match p.kind {
            VolumeKind::Ntfs => {
                match ntfs_volume(&stored, &disk, &p) {
                    Ok(v) => out.push(ImageVolume {
                        volume: v,
                        image,
                    }),
                    Err(e) => {
                        let e = ImageError::Ntfs {
                            partition: p.number,
                            detail: e.to_string(),
                        };
                        unread.push(vol, file, image, owner, e.to_string());
                    }
                }
            }
            VolumeKind::BitLocker => unread.push(
                vol,
                file,
                image,
                owner,
                format!("BitLocker-encrypted {where_}: not readable without its recovery key; decrypt a copy of the image with your own tools and scan that"),
            ),
            VolumeKind::Other => {}
        }
    }
    if out.is_empty() && unread.records.len() == unread_before {
        let seen = if seen.is_empty() {
            "its partition table lists no partition".to_string()
        } else {
            format!("partitions seen: {}", seen.join(", "))
        };
        unread.push(
            vol,
            file,
            image,
            owner,
            ImageError::NoNtfs(seen).to_string(),
        );
    }
    Some(out)
}

/// A root that is a file: a disk image (each NTFS volume read like a mounted
/// volume, the profile containers on it too) or a profile container.
pub(super) fn image_root(
    root: &Root,
    path: &Path,
    deep: bool,
    pool: &Arc<Pool>,
    unread: &mut Vec<EvidenceRecord>,
) -> Result<Vec<Planned>, RootError> {
    let unreadable = |source| RootError::Unreadable {
        path: root.path.clone(),
        source,
    };
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(RootError::File(root.path.clone()));
    };
    let host: Arc<dyn Volume> =
        Arc::new(HostVolume::new(dir, Names::AsStored).map_err(unreadable)?);
    let file = VPath::from_bytes(name.as_encoded_bytes());
    if let Some(planned) = super::archive::zip_root(root, &host, &file, pool, unread)? {
        return Ok(planned);
    }
    let name = name.to_string_lossy();
    let folder = dir
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let named = containers::classify(&name, &folder, file.clone());
    let stem = name.split('.').next().unwrap_or(&name).to_string();
    let mut records = Vec::new();
    // The label is known once a volume is read; errors are labelled after.
    let mut pending = Unread {
        label: "",
        records: &mut records,
    };
    let out = match &named {
        Some(c) => {
            let label = root
                .label
                .clone()
                .unwrap_or_else(|| collection::default_label(dir).unwrap_or(stem.clone()));
            let planned = container_root(root, &label, &host, c, pool, &mut pending);
            planned.ok_or_else(|| RootError::File(root.path.clone()))?
        }
        None => {
            let vols = image_volumes(
                host.as_ref(),
                &file,
                ContainerKind::Disk,
                &Owner::default(),
                &mut pending,
            )
            .ok_or_else(|| RootError::File(root.path.clone()))?;
            let label = root.label.clone().unwrap_or_else(|| {
                vols.iter()
                    .find_map(|v| registry::computer_name(&v.volume))
                    .unwrap_or(stem.clone())
            });
            let mut out = Vec::new();
            for v in vols {
                out.extend(image_volume_roots(
                    root,
                    &label,
                    v,
                    deep,
                    pool,
                    &mut pending,
                ));
            }
            out
        }
    };
    let label = out
        .first()
        .map(|(p, _)| p.label.clone())
        .or(root.label.clone())
        .unwrap_or(stem);
    if out.is_empty() && records.is_empty() {
        return Err(RootError::Unrecognised {
            path: root.path.clone(),
            advice: "no NTFS volume of this image holds a Windows volume layout (Users/, ProgramData/, Windows/), a profile or a profile container: pass --deep to walk its volumes for Microsoft/MSIPC and Microsoft/DRM folders".into(),
        });
    }
    for mut r in records {
        r.label = label.clone();
        unread.push(r);
    }
    Ok(out)
}

/// One NTFS volume of a disk image: read like a mounted volume, and
/// searched for profile containers.
fn image_volume_roots(
    root: &Root,
    label: &str,
    v: ImageVolume,
    deep: bool,
    pool: &Arc<Pool>,
    unread: &mut Unread<'_>,
) -> Vec<Planned> {
    let mut out = Vec::new();
    let located = locate::locate(&v.volume, &[], deep).ok();
    let is_volume = located
        .as_ref()
        .is_some_and(|l| l.reading.kind == locate::RootKind::Volume);
    let host: Arc<dyn Volume> = Arc::new(v.volume.clone());
    for c in containers::find(host.as_ref(), containers::MAX_DEPTH, is_volume) {
        out.extend(found_container(root, label, &host, &c, pool, unread));
    }
    if located.is_none() && !deep {
        out.splice(0..0, kape_drives(root, label, &v));
    }
    if let Some(located) = located.filter(|l| !deep || !l.discovery.stores.is_empty()) {
        let planned = planned(
            root,
            label,
            located,
            v.image,
            Owner::default(),
            Box::new(v.volume),
        );
        out.insert(0, planned);
    }
    out
}

/// A volume read from an image, as `located` read it.
pub(super) fn planned(
    root: &Root,
    label: &str,
    located: locate::Located,
    image: ImageOrigin,
    owner: Owner,
    volume: Box<dyn Volume>,
) -> Planned {
    let planned = PlannedRoot {
        given: root.path.clone(),
        label: label.to_string(),
        kind: located.reading.kind,
        collector: None,
        drive: None,
        prefix: located.reading.prefix,
        image,
        owner,
        client_id: None,
        volume,
    };
    (planned, located.discovery)
}

/// A KAPE collection written as a VHDX: a volume whose root holds a
/// folder per drive letter (`C`, `D`), each read as that drive's volume.
fn kape_drives(root: &Root, label: &str, v: &ImageVolume) -> Vec<Planned> {
    let inner: Arc<dyn Volume> = Arc::new(v.volume.clone());
    let entries = inner.list(&VPath::root()).unwrap_or_default();
    entries
        .into_iter()
        .filter(|e| e.kind == EntryKind::Dir)
        .filter_map(|e| {
            let letter = collection::drive_letter(&e.name)?;
            let sub = SubVolume::new(inner.clone(), e.path);
            let located = locate::locate(&sub, &[], false)
                .ok()
                .filter(|l| l.reading.kind == locate::RootKind::Volume)?;
            let (mut drive, discovery) = planned(
                root,
                label,
                located,
                v.image.clone(),
                Owner::default(),
                Box::new(sub),
            );
            drive.collector = Some(collection::Collector::Kape);
            drive.drive = Some(format!("{letter}:"));
            Some((drive, discovery))
        })
        .collect()
}

/// The profile in a profile container on `vol`: its volumes' profile
/// folders, each read as that user's profile. `None`: the file is no image.
pub(super) fn container_root(
    root: &Root,
    label: &str,
    host: &Arc<dyn Volume>,
    c: &FoundContainer,
    pool: &Arc<Pool>,
    unread: &mut Unread<'_>,
) -> Option<Vec<Planned>> {
    let owner = Owner::of(c);
    let vols = image_volumes(host.as_ref(), &c.path, c.kind, &owner, unread)?;
    let mut out = Vec::new();
    for v in vols {
        let inner: Arc<dyn Volume> = Arc::new(v.volume);
        let Some(at) = c.kind.profile_roots().iter().find(|at| {
            at.is_empty()
                || inner
                    .stat(&VPath::from_bytes(**at))
                    .is_ok_and(|s| s.kind == Some(EntryKind::Dir))
        }) else {
            continue; // an Office container without a profile folder
        };
        let sub: Arc<dyn Volume> = Arc::new(SubVolume::new(inner, VPath::from_bytes(*at)));
        let prefix = if at.is_empty() {
            Vec::new()
        } else {
            vec![at.to_string()]
        };
        let located = locate::locate_profile(
            sub.as_ref(),
            owner.user.as_deref(),
            owner.sid.as_deref(),
            prefix,
        );
        // Closed when the pool needs the room, reopened when the run reads it.
        let (host, file, number) = (host.clone(), c.path.clone(), v.image.partition);
        let opener: Opener = Box::new(move || {
            let ntfs: Arc<dyn Volume> = Arc::new(reopen_ntfs(host.as_ref(), &file, number)?);
            Ok(Arc::new(SubVolume::new(ntfs, VPath::from_bytes(*at))) as Arc<dyn Volume>)
        });
        let volume = Reopening::new(sub, opener, pool.clone());
        out.push(planned(
            root,
            label,
            located,
            v.image,
            owner.clone(),
            Box::new(volume),
        ));
    }
    Some(out)
}

/// A container found on a volume by its name: its profile, or an
/// evidence record when its content is no disk image.
fn found_container(
    root: &Root,
    label: &str,
    host: &Arc<dyn Volume>,
    c: &FoundContainer,
    pool: &Arc<Pool>,
    unread: &mut Unread<'_>,
) -> Vec<Planned> {
    let vol = host.as_ref();
    container_root(root, label, host, c, pool, unread).unwrap_or_else(|| {
        let image = ImageOrigin {
            container: Some(vol.stored_path(&c.path).to_string_lossy().into_owned()),
            container_kind: Some(c.kind),
            ..ImageOrigin::default()
        };
        let owner = Owner::of(c);
        let why = format!(
            "named like {}, but its content is no disk image rmsweep reads (VHD, VHDX): not read",
            c.kind.describe()
        );
        unread.push(vol, &c.path, image, &owner, why);
        Vec::new()
    })
}

/// The profile containers a folder root holds (a profile share), each
/// planned as a profile of the root's label.
pub(super) fn folder_containers(
    root: &Root,
    label: &str,
    host: &Arc<dyn Volume>,
    kind: Option<locate::RootKind>,
    pool: &Arc<Pool>,
    unread: &mut Vec<EvidenceRecord>,
) -> Vec<Planned> {
    use locate::RootKind;
    // A share keeps containers at its root or one folder down; a volume
    // deeper (`Shares\Profiles\…`), never among its own profiles.
    let (depth, skip_profiles) = match kind {
        None | Some(RootKind::Volume) | Some(RootKind::Deep) => (containers::MAX_DEPTH, true),
        Some(RootKind::ProfileFolder) => (2, false),
        Some(_) => return Vec::new(),
    };
    let mut unread = Unread {
        label,
        records: unread,
    };
    containers::find(host.as_ref(), depth, skip_profiles)
        .iter()
        .flat_map(|c| found_container(root, label, host, c, pool, &mut unread))
        .collect()
}
