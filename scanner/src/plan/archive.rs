//! Planning a triage collection kept as a zip archive: Velociraptor's
//! offline collector writes `Collection-<host>-<time>.zip`, its server a
//! hunt download `H.<hunt id>.zip` with one folder per client
//! (`<host>-<client id>/uploads/…`). Each drive folder in it
//! (`uploads/auto/C%3A`) is read in place, like the unzipped collection's,
//! with the archive as the records' container; a hunt's clients are a
//! label each.

use std::sync::Arc;

use super::fleet::{tell_apart, Member};
use super::images::{planned, Owner, Planned, Unread};
use super::{Root, RootError};
use crate::locate;
use crate::locate::collection::{self, Collector};
use crate::locate::containers::ContainerKind;
use crate::record::{EvidenceRecord, ImageOrigin};
use crate::volume::reopen::{Opener, Pool, Reopening};
use crate::volume::sub::SubVolume;
use crate::volume::zip::{self, ZipVolume};
use crate::volume::{percent_decode, EntryKind, Names, VPath, Volume};

/// A root that is a zip archive: the drives of the Velociraptor collection
/// it holds. `Ok(None)`: the file is no zip archive.
pub(super) fn zip_root(
    root: &Root,
    host: &Arc<dyn Volume>,
    file: &VPath,
    pool: &Arc<Pool>,
    unread: &mut Vec<EvidenceRecord>,
) -> Result<Option<Vec<Planned>>, RootError> {
    let unreadable = |e: crate::volume::ReadError| RootError::Unreadable {
        path: root.path.clone(),
        source: std::io::Error::other(e.to_string()),
    };
    let src = host.open_source(file).map_err(unreadable)?;
    if !zip::is_zip(src.as_ref()) {
        return Ok(None);
    }
    let stored = host.stored_path(file);
    let name = String::from_utf8_lossy(file.file_name()).into_owned();
    let image = ImageOrigin {
        container: Some(stored.to_string_lossy().into_owned()),
        container_kind: Some(ContainerKind::Archive),
        container_format: Some("zip".into()),
        ..ImageOrigin::default()
    };
    let opened = ZipVolume::open(src, stored.clone(), Names::PercentEncoded);
    let archive = match &opened {
        Ok(None) => return Ok(None),
        Ok(Some(a)) => Some(a),
        Err(_) => None,
    };
    let label = root
        .label
        .clone()
        .or_else(|| collection::velociraptor_host(archive.map(|a| a as &dyn Volume), &name));
    let problem = match &opened {
        Err(e) => Some(format!("damaged zip archive: {e}")),
        Ok(a) => a.as_ref().and_then(|a| a.recovered.clone()),
    };
    let recorded = problem.is_some();
    if let Some(why) = problem {
        let stem = name.split('.').next().unwrap_or(&name).to_string();
        let mut unread = Unread {
            label: label.as_deref().unwrap_or(&stem),
            records: unread,
        };
        unread.push(host.as_ref(), file, image.clone(), &Owner::default(), why);
    }
    let Ok(Some(archive)) = opened else {
        return Ok(Some(Vec::new()));
    };
    let collections = collections_in(&archive);
    if collections.is_empty() && recorded {
        return Ok(Some(Vec::new())); // what was recovered holds no drive
    }
    if collections.is_empty() {
        return Err(RootError::Unrecognised {
            path: root.path.clone(),
            advice: "a zip archive that is not a Velociraptor collection or hunt download (no uploads/<accessor>/<drive> folders): unzip it and scan the folder".into(),
        });
    }
    if collections.len() > 1 && root.label.is_some() {
        return Err(RootError::Unrecognised {
            path: root.path.clone(),
            advice: format!("this hunt download holds the collections of {} clients, each labelled by its own host name: drop --label", collections.len()),
        });
    }
    let archive = pooled(host, file, stored, archive, pool);
    let mut out = Vec::new();
    let mut members = Vec::new();
    for c in collections {
        let client = SubVolume::new(archive.clone(), c.at.clone());
        let label = match &c.folder {
            None => label.clone(),
            Some(folder) => collection::velociraptor_host(Some(&client), folder),
        };
        let label = label.ok_or_else(|| RootError::NoLabel(root.path.clone()))?;
        let client_id = collection::velociraptor_client_id(&client);
        let first = out.len();
        for (at, drive) in c.drives {
            let part = SubVolume::new(archive.clone(), c.at.join(at.as_bytes()));
            let Ok(located) = locate::locate(&part, &[], false) else {
                continue; // a drive that holds no Windows layout
            };
            let (mut planned, discovery) = planned(
                root,
                &label,
                located,
                image.clone(),
                Owner::default(),
                Box::new(part),
            );
            planned.collector = Some(Collector::Velociraptor);
            planned.drive = Some(drive);
            planned.client_id = client_id.clone();
            out.push((planned, discovery));
        }
        members.push(Member {
            client_id,
            roots: first..out.len(),
            records: 0..0,
        });
    }
    tell_apart(members, &mut out, &mut []);
    if out.is_empty() && !recorded {
        return Err(RootError::Unrecognised {
            path: root.path.clone(),
            advice: "a Velociraptor collection whose drive folders hold no Windows volume layout (Users/, ProgramData/, Windows/): unzip it and point at a drive folder with --deep".into(),
        });
    }
    Ok(Some(out))
}

/// One Velociraptor collection in an archive: at its root (an offline
/// collection), or a client's folder of a hunt download.
struct InArchive {
    /// Where it lies in the archive (the root, or `<host>-<client id>`).
    at: VPath,
    /// The client folder's name, for a hunt download.
    folder: Option<String>,
    /// Its drive folders (below `at`) and drives.
    drives: Vec<(VPath, String)>,
}

/// The collections a zip archive holds: itself, when it is an offline
/// collection (`uploads/` at its root), else each folder of a hunt download
/// (`hunt_info.json`, `results/`, `<host>-<client id>/uploads/…`) that holds
/// a client's uploads.
fn collections_in(archive: &ZipVolume) -> Vec<InArchive> {
    let drives = collection::velociraptor_drives(archive);
    if !drives.is_empty() {
        return vec![InArchive {
            at: VPath::root(),
            folder: None,
            drives,
        }];
    }
    let folders = archive.list(&VPath::root()).unwrap_or_default();
    folders
        .into_iter()
        .filter(|e| e.kind == EntryKind::Dir)
        .filter_map(|e| {
            let drives = collection::velociraptor_drives_under(archive, &e.path);
            (!drives.is_empty()).then(|| InArchive {
                folder: Some(
                    String::from_utf8_lossy(&percent_decode(e.path.file_name())).into_owned(),
                ),
                at: e.path,
                drives,
            })
        })
        .collect()
}

/// The opened archive, closed when the pool needs the room (a hunt holds
/// thousands of collections) and reopened when the run reads it; its drives
/// share it.
fn pooled(
    host: &Arc<dyn Volume>,
    file: &VPath,
    stored: std::path::PathBuf,
    archive: ZipVolume,
    pool: &Arc<Pool>,
) -> Arc<dyn Volume> {
    let (host, file) = (host.clone(), file.clone());
    let opener: Opener = Box::new(move || {
        let src = host.open_source(&file).map_err(std::io::Error::other)?;
        let zip = ZipVolume::open(src, stored.clone(), Names::PercentEncoded)?
            .ok_or_else(|| std::io::Error::other("no longer a zip archive"))?;
        Ok(Arc::new(zip) as Arc<dyn Volume>)
    });
    Arc::new(
        Reopening::new(Arc::new(archive), opener, pool.clone()).with_names(Names::PercentEncoded),
    )
}
