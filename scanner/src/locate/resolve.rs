//! Resolving the location trie on a volume: each folder on the way to a
//! store is listed once, names match case-insensitively (mounted NTFS and
//! SMB shares return names as stored: `appdata/local/microsoft/msipc`),
//! every match is followed (a case-sensitive copy can hold `AppData` and
//! `appdata` side by side), and only real folders are entered: links are
//! never followed, so discovery cannot leave the evidence.

use std::path::PathBuf;

use rayon::prelude::*;

use super::locations::{Node, Step, Trie};
use crate::store::{is_sid, Store, StoreArea};
use crate::volume::{Entry, EntryKind, VPath, Volume};

/// Whose a folder is, as far as the path tells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ctx {
    pub profile: Option<String>,
    pub sid: Option<String>,
}

/// A trie node reached at a folder, with what the path told on the way,
/// for one way of reading the root (`reading` indexes the discoveries).
#[derive(Debug, Clone)]
pub struct State {
    pub node: usize,
    pub ctx: Ctx,
    pub reading: usize,
}

/// Stores found under one root, and what could not be looked at.
#[derive(Debug, Default)]
pub struct Discovery {
    pub stores: Vec<Store>,
    /// Profiles examined (with or without a store).
    pub profiles: usize,
    /// Folders that could not be listed (as stored), with the reason.
    pub errors: Vec<(PathBuf, String)>,
}

/// The state after entering a folder named `name` through `step` of `to`.
pub fn enter(trie: &Trie, from: &Ctx, step: Step, to: usize, name: &str) -> Option<State> {
    let mut ctx = from.clone();
    match step {
        Step::Name(n) if !name.eq_ignore_ascii_case(n) => return None,
        Step::Name(_) => {}
        Step::Profile => ctx.profile = Some(name.to_string()),
        Step::Sid if !is_sid(name) => return None,
        Step::Sid => ctx.sid = Some(name.to_string()),
    }
    if let Some(sid) = trie.nodes[to].service_sid {
        ctx.profile = Some(name.to_string());
        ctx.sid = Some(sid.to_string());
    }
    Some(State {
        node: to,
        ctx,
        reading: 0,
    })
}

/// Whether entering this node is entering a profile.
fn is_profile(node: &Node) -> bool {
    node.service_sid.is_some() || node.path.last() == Some(&Step::Profile)
}

/// Resolves the trie from `states` at `dir`, for every reading at once: each
/// folder is listed once however many readings reach it, and what a reading
/// finds goes to `found[state.reading]`.
pub fn resolve(vol: &dyn Volume, dir: &VPath, states: &[State], found: &mut [Discovery]) {
    let trie = Trie::get();
    let mut counted = Vec::new();
    for s in states {
        let node = &trie.nodes[s.node];
        if is_profile(node) && !counted.contains(&s.reading) {
            counted.push(s.reading);
            found[s.reading].profiles += 1;
        }
        if let Some(kind) = node.store {
            found[s.reading].stores.push(Store {
                dir: dir.clone(),
                mode: kind.mode,
                area: kind.area,
                client: kind.client,
                profile: s.ctx.profile.clone(),
                sid: s.ctx.sid.clone(),
                recursive: kind.area != StoreArea::Licenses,
            });
        }
    }
    if states
        .iter()
        .all(|s| trie.nodes[s.node].children.is_empty())
    {
        return;
    }
    let entries = match vol.list(dir) {
        Ok(e) => e,
        Err(e) => {
            let mut named = Vec::new();
            for s in states
                .iter()
                .filter(|s| !trie.nodes[s.node].children.is_empty())
            {
                if !named.contains(&s.reading) {
                    named.push(s.reading);
                    found[s.reading]
                        .errors
                        .push((vol.stored_path(dir), e.to_string()));
                }
            }
            return;
        }
    };
    let below: Vec<(&Entry, Vec<State>)> = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Dir)
        .map(|e| (e, step_into(trie, states, e)))
        .filter(|(_, next)| !next.is_empty())
        .collect();
    if below.len() < 2 {
        for (entry, next) in below {
            resolve(vol, &entry.path, &next, found);
        }
        return;
    }
    // Sibling folders (a share's profiles) are resolved at once, each
    // into its own discoveries, merged in listing order: the same result
    // as one after the other.
    let readings = found.len();
    let branches: Vec<Vec<Discovery>> = below
        .par_iter()
        .map(|(entry, next)| {
            let mut branch: Vec<Discovery> = (0..readings).map(|_| Discovery::default()).collect();
            resolve(vol, &entry.path, next, &mut branch);
            branch
        })
        .collect();
    for branch in branches {
        for (into, from) in found.iter_mut().zip(branch) {
            into.merge(from);
        }
    }
}

impl Discovery {
    /// Adds what `other` found after what this one found.
    pub fn merge(&mut self, other: Discovery) {
        self.stores.extend(other.stores);
        self.profiles += other.profiles;
        self.errors.extend(other.errors);
    }
}

/// The states a sub-folder reaches from `states`.
pub fn step_into(trie: &Trie, states: &[State], entry: &Entry) -> Vec<State> {
    let mut next = Vec::new();
    for s in states {
        for &(step, child) in &trie.nodes[s.node].children {
            if let Some(mut n) = enter(trie, &s.ctx, step, child, &entry.name) {
                n.reading = s.reading;
                next.push(n);
            }
        }
    }
    next
}
