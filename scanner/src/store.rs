//! What a store is: where the RMS client keeps licences or templates, for whom
//! (a profile in client mode, a service-account SID in server mode) and which
//! client wrote it (MSIPC or MSDRM). Reference §1.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreMode {
    /// Per user: `%LOCALAPPDATA%\Microsoft\MSIPC` (or `…\DRM`).
    Client,
    /// Per service-account SID: `%ALLUSERSPROFILE%\Microsoft\MSIPC\Server\<SID>`.
    Server,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreArea {
    Licenses,
    Templates,
    UnmanagedTemplates,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RmsClient {
    /// RMS client 2 (msipc.dll).
    Msipc,
    /// RMS client 1 (msdrm.dll).
    Msdrm,
}

impl StoreMode {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreMode::Client => "client",
            StoreMode::Server => "server",
        }
    }
}

impl StoreArea {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreArea::Licenses => "licenses",
            StoreArea::Templates => "templates",
            StoreArea::UnmanagedTemplates => "unmanaged_templates",
        }
    }
}

impl RmsClient {
    pub fn as_str(self) -> &'static str {
        match self {
            RmsClient::Msipc => "msipc",
            RmsClient::Msdrm => "msdrm",
        }
    }
}

/// One store folder found on the volume.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Store {
    /// The folder inside its volume (on-disk spelling kept).
    pub dir: crate::volume::VPath,
    pub mode: StoreMode,
    pub area: StoreArea,
    pub client: RmsClient,
    /// The profile folder name (client mode).
    pub profile: Option<String>,
    /// The service account's SID (server mode).
    pub sid: Option<String>,
    /// Whether files in sub-folders belong to the store (template stores may be
    /// split per server; the licence store's sub-folders are other stores or logs).
    pub recursive: bool,
}

/// `S-1-<authority>-<sub>…`: the shape of a Windows SID.
pub fn is_sid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("S-1-").or_else(|| s.strip_prefix("s-1-")) else {
        return false;
    };
    !rest.is_empty()
        && rest
            .split('-')
            .all(|p| !p.is_empty() && p.len() <= 15 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The name of a well-known service SID.
pub fn well_known_sid(sid: &str) -> Option<&'static str> {
    match sid {
        "S-1-5-18" => Some("LocalSystem"),
        "S-1-5-19" => Some("LocalService"),
        "S-1-5-20" => Some("NetworkService"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_shapes_and_well_known_names() {
        assert!(is_sid("S-1-5-20"));
        assert!(is_sid("S-1-5-21-1004336348-1177238915-682003330-1105"));
        assert!(!is_sid("S-1-"));
        assert!(!is_sid("S-1-5-"));
        assert!(!is_sid("Backup"));
        assert!(!is_sid("S-1-5-x"));
        assert_eq!(well_known_sid("S-1-5-18"), Some("LocalSystem"));
    }
}
