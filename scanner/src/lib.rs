//! rmsweep's scanner: finds MSIPC/MSDRM stores on mounted Windows volumes,
//! reads their files without touching the evidence, and parses them.
//!
//! - [`parse`]: the XrML/JCLC parser, pure (`&[u8]` in, record out).

pub mod parse;
