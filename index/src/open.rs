//! Opening and creating an rmsweep index, with its schema version checked.

use std::fs;
use std::path::{Path, PathBuf};

use tantivy::directory::MmapDirectory;
use tantivy::Index;

use crate::schema::{Fields, SCHEMA_VERSION};
use crate::IndexError;

/// The file beside tantivy's that says what this index is.
pub const META_FILE: &str = "rmsweep-index.json";

/// An open rmsweep index.
pub struct RmsIndex {
    pub index: Index,
    pub fields: Fields,
    pub dir: PathBuf,
    /// Opened on first use and kept: segment readers are costly to open.
    pub(crate) reader: std::sync::OnceLock<tantivy::IndexReader>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Meta {
    format: String,
    schema_version: u32,
}

impl RmsIndex {
    /// Opens the index at `dir`, creating it if missing.
    ///
    /// A new index is built complete (rmsweep's meta file and tantivy's first
    /// commit) in a sibling folder and renamed into place, so a scan killed at
    /// any moment leaves either no index or a complete one, never half of one.
    pub fn open_or_create(dir: &Path) -> Result<RmsIndex, IndexError> {
        let io = |e: std::io::Error| IndexError::Io(dir.to_path_buf(), e);
        let empty = match fs::read_dir(dir) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(io(e)),
        };
        // An existing empty folder keeps its mode and owner (a case folder
        // made 0700 for one examiner must not become world-readable).
        let existing = fs::metadata(dir).ok().filter(|m| m.is_dir());
        if !empty {
            return Self::open(dir);
        }
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(io)?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let staging = parent.join(format!(".{name}.creating-{}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir(&staging).map_err(io)?;
        let meta = Meta {
            format: "rmsweep-index".into(),
            schema_version: SCHEMA_VERSION,
        };
        fs::write(
            staging.join(META_FILE),
            serde_json::to_vec_pretty(&meta).unwrap_or_default(),
        )
        .map_err(io)?;
        let fields = Fields::new();
        let mmap = MmapDirectory::open(&staging)
            .map_err(|e| IndexError::Tantivy(dir.to_path_buf(), e.to_string()))?;
        Index::create(mmap, fields.schema.clone(), Default::default())
            .map_err(|e| IndexError::Tantivy(dir.to_path_buf(), e.to_string()))?;
        if let Some(m) = &existing {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            fs::set_permissions(&staging, fs::Permissions::from_mode(m.mode() & 0o7777))
                .map_err(io)?;
            let _ = std::os::unix::fs::chown(&staging, Some(m.uid()), Some(m.gid()));
        }
        // rename(2) replaces an empty directory atomically.
        if let Err(e) = fs::rename(&staging, dir) {
            let _ = fs::remove_dir_all(&staging);
            return match e.raw_os_error() {
                // Another rmsweep created the index first: use it.
                Some(libc::ENOTEMPTY | libc::EEXIST) => Self::open(dir),
                Some(libc::EBUSY) => Err(IndexError::MountPoint(dir.to_path_buf())),
                _ => Err(io(e)),
            };
        }
        Self::open(dir)
    }

    /// Opens an existing index.
    pub fn open(dir: &Path) -> Result<RmsIndex, IndexError> {
        check_meta(dir)?;
        let index = Index::open_in_dir(dir)
            .map_err(|e| IndexError::Tantivy(dir.to_path_buf(), e.to_string()))?;
        crate::schema::register_tokenizers(&index);
        Ok(RmsIndex {
            index,
            fields: Fields::new(),
            dir: dir.to_path_buf(),
            reader: std::sync::OnceLock::new(),
        })
    }
}

/// Refuses folders that are not rmsweep indexes, or of another schema version.
fn check_meta(dir: &Path) -> Result<(), IndexError> {
    let meta_path = dir.join(META_FILE);
    let raw = match fs::read(&meta_path) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let empty = fs::read_dir(dir)
                .map(|mut d| d.next().is_none())
                .unwrap_or(true);
            return Err(if empty {
                IndexError::Missing(dir.to_path_buf())
            } else {
                IndexError::NotAnIndex(dir.to_path_buf())
            });
        }
        Err(e) => return Err(IndexError::Io(meta_path, e)),
    };
    let meta: Meta = serde_json::from_slice(&raw)
        .map_err(|e| IndexError::DamagedMeta(dir.to_path_buf(), e.to_string()))?;
    if meta.format != "rmsweep-index" {
        return Err(IndexError::NotAnIndex(dir.to_path_buf()));
    }
    if meta.schema_version != SCHEMA_VERSION {
        return Err(IndexError::Version {
            path: dir.to_path_buf(),
            found: meta.schema_version,
            expected: SCHEMA_VERSION,
        });
    }
    Ok(())
}
