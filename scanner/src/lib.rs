//! rmsweep's scanner: finds MSIPC/MSDRM stores on mounted Windows volumes,
//! reads their files without touching the evidence, and parses them.
//!
//! - [`parse`]: the XrML/JCLC parser, pure (`&[u8]` in, record out).
//! - [`store`]: what a store is (mode, area, client, profile or SID).
//! - [`dir`]: listing folders without touching their access times.
//! - [`discover`]: which stores a root holds, by targeted resolution or `--deep`.
//! - [`read`]: opening and reading evidence read-only, never following links.
//! - [`record`]: the output record with its provenance.
//! - [`scan`]: the parallel, order-preserving pipeline that ties them together.

pub mod dir;
pub mod discover;
pub mod parse;
pub mod read;
pub mod record;
pub mod scan;
pub mod store;

pub use record::Record;
pub use scan::{plan, run, run_incremental, Root, ScanConfig, ScanSummary};
