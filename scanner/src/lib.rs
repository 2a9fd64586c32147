//! rmsweep's scanner: finds MSIPC/MSDRM stores on Windows evidence, reads
//! their files without touching the evidence, and parses them.
//!
//! - [`volume`]: where bytes come from — a read-only volume of one host
//!   (a folder on this machine; in memory for tests). All host access and
//!   all `unsafe` live in [`volume::host`].
//! - [`locate`]: what to look for and where — the one table of store
//!   locations, root reading, triage collections, `--deep`.
//! - [`store`]: what a store is (mode, area, client, profile or SID).
//! - [`mod@plan`]: roots → volumes of hosts → sorted stores; listing a store.
//! - [`pipeline`]: the parallel, order-preserving run over a plan.
//! - [`process`]: one file read, hashed and parsed into its record.
//! - [`parse`]: the XrML/JCLC parser, pure (`&[u8]` in, [`parse::Content`] out).
//! - [`record`]: the output record with its provenance.
//! - [`registry`]: the settings in the evidence's hives (pure, bytes in).
//! - [`identity`]: what identifies a label's host (machine IDs), read first.
//! - [`gate`]: at most N threads parse while more wait on the file system.

pub mod gate;
pub mod identity;
pub mod locate;
pub mod parse;
pub mod pipeline;
pub mod plan;
pub mod process;
pub mod record;
pub mod registry;
pub mod store;
pub mod volume;

pub use pipeline::{run, run_incremental, CancelToken, RunError, ScanSummary};
pub use plan::{plan, IoConfig, Plan, Root, RootError, ScanConfig};
pub use record::{Found, Record};

/// The message a panic carried (`"a panic"` when it carried none), for
/// errors that report a caught panic.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}
