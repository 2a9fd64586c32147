//! How many file-system requests a scan keeps in flight, and how long one
//! may take: a share answers each listing, `stat` and read a round trip
//! late, so discovery, store listings and reads overlap there
//! (`--io-depth`), and a share that stops answering must not hold the scan
//! for ever (`--io-timeout`).

use std::sync::Arc;
use std::time::Duration;

use super::ScanConfig;
use crate::volume::timed::Timed;
use crate::volume::Volume;

/// How many file-system requests a scan keeps in flight: discovery's
/// listings, store listings and file reads, apart from the threads that
/// parse. A share answers each request a round trip late, so many are kept
/// outstanding there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoConfig {
    /// Requests in flight at once; `None`: [`REMOTE_IO_DEPTH`] when a root
    /// lies on a network or FUSE file system (`statfs` tells), else the
    /// thread count.
    pub depth: Option<usize>,
    /// How long one request (a listing, a stat, a whole file's read) to a
    /// network or FUSE file system may take before it is given up as an
    /// error record ([`crate::volume::timed`]); zero: no limit.
    pub timeout: Duration,
}

impl Default for IoConfig {
    fn default() -> IoConfig {
        IoConfig {
            depth: None,
            timeout: DEFAULT_IO_TIMEOUT,
        }
    }
}

/// Requests in flight on a network or FUSE file system unless told otherwise.
pub const REMOTE_IO_DEPTH: usize = 32;
/// The longest one request to a share may take unless told otherwise: a
/// SOFTWARE hive of a few hundred MB read across a slow link fits.
pub const DEFAULT_IO_TIMEOUT: Duration = Duration::from_secs(300);

/// The requests in flight a plan was made with, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoPlan {
    pub depth: usize,
    /// The first root's network or FUSE file system, when one is.
    pub remote: Option<&'static str>,
    /// The limit of one request on such a file system (none when zero).
    pub timeout: Duration,
}

impl Default for IoPlan {
    fn default() -> IoPlan {
        IoPlan {
            depth: 1,
            remote: None,
            timeout: Duration::ZERO,
        }
    }
}

impl IoPlan {
    /// The depth `config` asks for, or the one its roots' file systems call for.
    pub fn of(config: &ScanConfig) -> IoPlan {
        let remote = config
            .roots
            .iter()
            .find_map(|r| remote_file_system(&r.path));
        let chosen = match remote {
            Some(_) => REMOTE_IO_DEPTH,
            None => config.threads,
        };
        IoPlan {
            depth: config.io.depth.unwrap_or(chosen).max(1),
            remote,
            timeout: config.io.timeout,
        }
    }

    /// The limit for requests to the root at `path`: on a network or FUSE
    /// file system only.
    pub(super) fn limit_for(&self, path: &std::path::Path) -> Option<Duration> {
        let limited = self.remote.is_some() && !self.timeout.is_zero();
        (limited && remote_file_system(path).is_some()).then_some(self.timeout)
    }
}

/// The name of the network or FUSE file system `path` lies on, if it does.
fn remote_file_system(path: &std::path::Path) -> Option<&'static str> {
    use crate::volume::host::fs::{file_system, FileSystem};
    match file_system(path) {
        Ok(FileSystem::Remote(name)) => Some(name),
        _ => None,
    }
}

/// `volume`, each request limited to `limit` when there is one.
pub(super) fn limited(volume: Box<dyn Volume>, limit: Option<Duration>) -> Box<dyn Volume> {
    match limit {
        Some(limit) => Box::new(Timed::new(Arc::from(volume), limit)),
        None => volume,
    }
}
