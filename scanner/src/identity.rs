//! What identifies the host behind a label's evidence, read before a scan
//! writes anything: the machine IDs of a few machine certificates
//! (`CERT-Machine*.drm`), found in the first licence stores of the label.
//! The index compares them with what it holds for that label.

use std::collections::BTreeSet;

use crate::gate::Gate;
use crate::parse::ChainCache;
use crate::plan::Plan;
use crate::process::process;
use crate::record::Found;
use crate::store::StoreArea;
use crate::volume::ReadOptions;

/// Machine certificates read at most, and licence stores listed at most.
const MAX_CERTS: usize = 4;
const MAX_STORES: usize = 32;

/// Machine IDs of up to a few machine certificates of `label`'s evidence.
pub fn sample_machine_ids(plan: &Plan, label: &str, opts: &ReadOptions) -> BTreeSet<String> {
    let cache = ChainCache::new();
    let mut buf = Vec::new();
    let mut out = BTreeSet::new();
    let (mut certs, mut stores) = (0, 0);
    for i in 0..plan.stores.len() {
        let s = &plan.stores[i];
        if plan.roots[s.root].label != label || s.store.area != StoreArea::Licenses {
            continue;
        }
        stores += 1;
        for job in plan.list(i).jobs {
            let name = String::from_utf8_lossy(job.path.file_name()).to_ascii_lowercase();
            if job.error.is_some() || !name.starts_with("cert-machine") {
                continue;
            }
            certs += 1;
            if let Found::File(r) = process(&job, plan, opts, &cache, &Gate::new(1), &mut buf) {
                out.extend(r.content.machine_id);
            }
        }
        if certs >= MAX_CERTS || stores >= MAX_STORES {
            break;
        }
    }
    out
}

/// The computer names (upper-cased) the volumes of a label give (each
/// volume's own SYSTEM hive), read before anything is written. Empty when
/// the evidence holds no SYSTEM hive.
pub fn computer_names(plan: &Plan, label: &str) -> BTreeSet<String> {
    plan.roots
        .iter()
        .filter(|r| r.label == label)
        .filter_map(|r| crate::registry::computer_name(r.volume.as_ref()))
        .map(|n| n.to_uppercase())
        .collect()
}
