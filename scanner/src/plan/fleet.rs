//! A folder of collections, one per host: a fleet sweep's results
//! (Velociraptor offline collection zips or folders, a hunt download
//! unzipped, a Velociraptor server's file store, KAPE collection folders,
//! disk images). Each member is read as a root of its own and labelled by
//! its own metadata (the collection's host name, the image's computer
//! name), so one run gives one label per host. A member that cannot be
//! read is an `evidence` record; the others are still read.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::{read_root, PlannedRoot, Reading, Root, RootError};
use crate::locate::{collection, containers, Discovery};
use crate::record::EvidenceRecord;
use crate::volume::host::{self, HostVolume, Names};
use crate::volume::image::container;
use crate::volume::reopen::Pool;
use crate::volume::{zip, EntryKind, VPath, Volume};

/// Whether a file name is a piece after the first of a split image
/// (`.002`, `.E02`): read with its first piece, never on its own.
fn is_later_piece(name: &str) -> bool {
    let Some((_, ext)) = name.rsplit_once('.') else {
        return false;
    };
    let ext = ext.to_ascii_uppercase();
    let numbered = ext.len() == 3 && ext.bytes().all(|b| b.is_ascii_digit()) && ext != "001";
    let ewf = ext.len() == 3
        && ext.starts_with('E')
        && ext[1..].bytes().all(|b| b.is_ascii_alphanumeric())
        && ext != "E01";
    numbered || ewf
}

/// Whether the file `name` on `vol` is a collection zip or a disk image
/// (told by content), other than a profile container (a share's, read by
/// the share's own rules).
fn is_member_file(vol: &HostVolume, name: &str) -> bool {
    if is_later_piece(name) || containers::classify(name, "", VPath::root()).is_some() {
        return false;
    }
    let Ok(src) = vol.open_source(&VPath::from_bytes(name.as_bytes())) else {
        return false;
    };
    zip::is_zip(src.as_ref()) || container::sniff(src.as_ref()).is_some()
}

/// The members of a fleet folder, sorted: collection folders, collection
/// zips and disk images directly in it, and the collections of a
/// Velociraptor file store it is. Empty when it holds none.
pub(super) fn members(dir: &Path) -> Vec<PathBuf> {
    let (Ok(entries), Ok(vol)) = (host::list(dir), HostVolume::new(dir, Names::AsStored)) else {
        return Vec::new();
    };
    // Recognised at once: on a share each costs a few round trips.
    let mut out: Vec<PathBuf> = entries
        .into_par_iter()
        .filter(|e| match e.kind {
            EntryKind::Dir => collection::recognise(&e.path).is_some(),
            EntryKind::File => is_member_file(&vol, &e.name.to_string_lossy()),
            _ => false,
        })
        .map(|e| e.path)
        .collect();
    out.extend(collection::filestore_collections(dir));
    out.sort();
    out
}

/// What one member of a fleet planned: its client id, and the ranges of
/// planned roots and evidence records it added.
pub(super) struct Member {
    pub client_id: Option<String>,
    pub roots: Range<usize>,
    pub records: Range<usize>,
}

/// Machines that share a host name (cloned images) told apart by their
/// client ids: `WS04-C.0123…`. A label only one client id gives is kept.
/// A client labelled by its id in one collection (a file store's flow
/// without its SYSTEM hive) takes the host name its other collections give.
pub(super) fn tell_apart(
    members: Vec<Member>,
    out: &mut [(PlannedRoot, Discovery)],
    unread: &mut [EvidenceRecord],
) {
    let mut named: HashMap<&str, HashSet<String>> = HashMap::new();
    for m in &members {
        let Some(id) = m.client_id.as_deref() else {
            continue;
        };
        let labels = out[m.roots.clone()].iter().map(|(p, _)| &p.label);
        named
            .entry(id)
            .or_default()
            .extend(labels.filter(|l| *l != id).cloned());
    }
    for m in &members {
        let Some(id) = m.client_id.as_deref() else {
            continue;
        };
        let Some(host) = named
            .get(id)
            .filter(|n| n.len() == 1)
            .and_then(|n| n.iter().next())
        else {
            continue;
        };
        relabel(m, out, unread, |l| (l == id).then(|| host.clone()));
    }
    let mut ids: HashMap<String, HashSet<String>> = HashMap::new();
    for m in &members {
        for (p, _) in &out[m.roots.clone()] {
            ids.entry(p.label.clone())
                .or_default()
                .extend(m.client_id.clone());
        }
    }
    let shared = |label: &str| ids.get(label).is_some_and(|s| s.len() > 1);
    for m in &members {
        let Some(id) = &m.client_id else { continue };
        relabel(m, out, unread, |l| shared(l).then(|| format!("{l}-{id}")));
    }
}

/// Gives `m`'s planned roots and evidence records the label `new` returns
/// for their current one (none: kept).
fn relabel(
    m: &Member,
    out: &mut [(PlannedRoot, Discovery)],
    unread: &mut [EvidenceRecord],
    new: impl Fn(&str) -> Option<String>,
) {
    let labels = out[m.roots.clone()]
        .iter_mut()
        .map(|(p, _)| &mut p.label)
        .chain(unread[m.records.clone()].iter_mut().map(|r| &mut r.label));
    for label in labels {
        if let Some(l) = new(label) {
            *label = l;
        }
    }
}

/// A volume of a member, read, with what it holds.
type Read = (PlannedRoot, Discovery);

/// Each member of the fleet folder `root` read as its own root.
pub(super) fn read(
    root: &Root,
    members: Vec<PathBuf>,
    reading: Reading,
    pool: &Arc<Pool>,
    unread: &mut Vec<EvidenceRecord>,
) -> Result<Vec<(PlannedRoot, Discovery)>, RootError> {
    if root.label.is_some() {
        return Err(RootError::Unrecognised {
            path: root.path.clone(),
            advice: format!("this folder holds {} collections or images, one per host, each labelled by its own host name: drop --label, or point at one of them to label it", members.len()),
        });
    }
    let reading = Reading {
        member: true,
        ..reading
    };
    // Members are read at once (on a share each costs a few round trips),
    // each into its own results, merged in member order.
    let each: Vec<(Vec<Read>, Vec<EvidenceRecord>)> = members
        .par_iter()
        .map(|member| {
            let mut records = Vec::new();
            let planned = match read_root(&Root::new(member), reading, pool, &mut records) {
                Ok((_, planned)) => planned,
                Err(e) => {
                    records.push(unreadable_member(member, e));
                    Vec::new()
                }
            };
            (planned, records)
        })
        .collect();
    let mut out = Vec::new();
    let mut read = Vec::new();
    for (planned, records) in each {
        let (roots, first_record) = (out.len(), unread.len());
        out.extend(planned);
        unread.extend(records);
        let records = first_record;
        // The client id its collection records (read once, when planned).
        let client_id = out[roots..].iter().find_map(|(p, _)| p.client_id.clone());
        read.push(Member {
            client_id,
            roots: roots..out.len(),
            records: records..unread.len(),
        });
    }
    tell_apart(read, &mut out, unread);
    Ok(out)
}

/// An evidence record for a member that could not be read, labelled by
/// what its name says (`Collection-<host>-<time>`, else its stem).
fn unreadable_member(member: &Path, e: RootError) -> EvidenceRecord {
    let name = member
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let label = collection::velociraptor_host(None, &name)
        .or_else(|| collection::filestore_client_id(member))
        .unwrap_or_else(|| name.split('.').next().unwrap_or(&name).to_string());
    let mut r = EvidenceRecord::new(member, &label, e.to_string());
    let stat = member.parent().and_then(|dir| {
        let vol = HostVolume::new(dir, Names::AsStored).ok()?;
        vol.stat(&VPath::from_bytes(name.as_bytes())).ok()
    });
    if let Some(st) = stat {
        r.set_stat(&st);
    }
    r
}
