//! The registry: the settings that govern the stores (MSIPC, MSDRM, Office
//! DRM), Remote Desktop licensing, and what identifies the host and its
//! profiles, read offline from the hive files on the evidence.
//!
//! Like the store parser this core is pure: hive bytes (and those of its
//! transaction logs) in, [`HiveRead`] out; where the bytes come from is the
//! volume's business ([`locate`] finds the hives, `process` reads them).
//! Lookups go straight to the few keys that matter (reference
//! `registry-and-rds.md` §2), never over the whole hive, and every value
//! under the MSIPC, MSDRM and MSLicensing keys becomes a [`Setting`] (named
//! when rmsweep knows it, `other` when not), so nothing is dropped. Values
//! that hold keys (`MSIPP-*`, DPAPI blobs, the grace-period time bomb) are
//! kept by name, type, size and SHA-256 only.
//!
//! - [`hive`]: the hive library behind a small, panic-free surface.
//! - [`settings`]: which keys are read in which hive, as [`Setting`]s.
//! - `classify`: what each value under a walked key is called.
//! - [`cal`]: the Remote Desktop client access licence (an X.509 certificate).
//! - [`locate`]: where hives lie on a Windows volume.

pub mod cal;
mod classify;
pub mod hive;
pub mod locate;
pub mod settings;

use serde::{Deserialize, Serialize};

use crate::volume::{VPath, Volume};

pub use settings::Setting;

/// Which hive a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HiveKind {
    /// `Windows\System32\config\SOFTWARE` (`HKLM\SOFTWARE`).
    Software,
    /// `Windows\System32\config\SYSTEM` (`HKLM\SYSTEM`).
    System,
    /// A profile's `NTUSER.DAT` (`HKCU`).
    Ntuser,
    /// A profile's `UsrClass.dat` (`HKCU\Software\Classes`).
    Usrclass,
}

impl HiveKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HiveKind::Software => "software",
            HiveKind::System => "system",
            HiveKind::Ntuser => "ntuser",
            HiveKind::Usrclass => "usrclass",
        }
    }
}

/// The owner's SID of a `UsrClass.dat`, from its root key's name
/// (`<SID>_Classes`), read from the hive's first bytes only: the base block's
/// root cell offset, then the root key cell (two small reads, not the hive).
pub fn usrclass_owner(vol: &dyn Volume, path: &VPath) -> Option<String> {
    let mut base = [0u8; 40];
    if vol.read_at(path, 0, &mut base).ok()? < base.len() || &base[..4] != b"regf" {
        return None;
    }
    let root = u32::from_le_bytes([base[36], base[37], base[38], base[39]]) as u64;
    // The nk cell: size (4), "nk" (2), … the name's length at 76, the name at 80.
    let mut cell = [0u8; 80 + 256];
    let n = vol.read_at(path, 4096 + root, &mut cell).ok()?;
    if n < 80 || &cell[4..6] != b"nk" {
        return None;
    }
    let len = u16::from_le_bytes([cell[76], cell[77]]) as usize;
    let name = std::str::from_utf8(cell.get(80..80 + len.min(n - 80))?).ok()?;
    name.strip_suffix("_Classes")
        .filter(|sid| crate::store::is_sid(sid))
        .map(str::to_string)
}

/// The computer name a volume's `Windows\System32\config\SYSTEM` gives
/// (the current control set's), for a root that names no host.
pub fn computer_name(vol: &dyn Volume) -> Option<String> {
    let system = locate::system_hive(vol)?;
    let opts = crate::volume::ReadOptions {
        max_file_size: crate::volume::LARGEST_MAX_FILE_SIZE,
        mmap_threshold: None,
    };
    let mut buf = Vec::new();
    let (_, bytes) = vol.read(&system.path, &opts, &mut buf).ok()?;
    let read = read_hive(HiveKind::System, &bytes, &[]);
    read.settings
        .into_iter()
        .find(|s| s.setting == "host.computer_name")
        .and_then(|s| s.data)
        .map(|d| d.text().trim().to_string())
        .filter(|n| !n.is_empty() && !n.contains(['/', '\\', '\0']))
}

/// What reading one hive gave.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HiveRead {
    /// The root key's name; for `UsrClass.dat` it is `<SID>_Classes`.
    pub root_name: Option<String>,
    /// What opening the hive found or gave up (dirty, logs replayed, recovery retried).
    pub notes: Vec<String>,
    /// Why nothing (more) could be read.
    pub error: Option<String>,
    pub settings: Vec<Setting>,
}

/// Reads one hive from its bytes and its transaction logs' (`.LOG1`, `.LOG2`
/// or `.LOG`, in that order). Never panics; a hive that cannot be opened is
/// a [`HiveRead`] with `error` set.
pub fn read_hive(kind: HiveKind, primary: &[u8], logs: &[Vec<u8>]) -> HiveRead {
    let mut hive = match hive::Hive::open(primary, logs) {
        Ok(h) => h,
        Err(error) => {
            return HiveRead {
                error: Some(error),
                ..HiveRead::default()
            }
        }
    };
    let settings = settings::read(&mut hive, kind);
    HiveRead {
        root_name: Some(hive.root_name.clone()).filter(|n| !n.is_empty()),
        notes: hive.notes,
        error: None,
        settings,
    }
}
