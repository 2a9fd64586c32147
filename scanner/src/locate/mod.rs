//! What to look for and where: pure policy over a [`Volume`].
//!
//! A real profile holds tens of thousands of folders; its store is four
//! levels down. Discovery never walks what is not on the way to a store: it
//! resolves the one table of store locations ([`locations`]) as a trie, so
//! each folder on the way is listed once ([`resolve`]). A root is read as
//! the part of a volume it is ([`root`]); `--deep` walks everything
//! ([`deep`]). Collections of several volumes (KAPE, Velociraptor) are
//! recognised in [`collection`].

pub mod collection;
pub mod containers;
pub mod deep;
pub mod locations;
pub mod resolve;
pub mod root;

pub use resolve::Discovery;
pub use root::{locate_profile, Located, Reading, RootKind};

use crate::volume::Volume;

/// Reads the root of `vol` (whose Windows name and the names above it are
/// `above`) and finds its stores; `deep` walks the whole volume instead.
/// `Err` is the advice for a root that is not recognised.
pub fn locate(vol: &dyn Volume, above: &[String], deep: bool) -> Result<Located, String> {
    if deep {
        return Ok(Located {
            reading: Reading {
                kind: RootKind::Deep,
                node: 0,
                ctx: Default::default(),
                prefix: Some(Vec::new()),
            },
            discovery: deep::deep(vol),
        });
    }
    root::locate(vol, above)
}

#[cfg(test)]
mod tests;
