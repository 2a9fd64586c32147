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
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Meta {
    format: String,
    schema_version: u32,
}

impl RmsIndex {
    /// Opens the index at `dir`, creating it (and the folder) if missing.
    pub fn open_or_create(dir: &Path) -> Result<RmsIndex, IndexError> {
        let io = |e: std::io::Error| IndexError::Io(dir.to_path_buf(), e);
        if !dir.exists() {
            fs::create_dir_all(dir).map_err(io)?;
        }
        let empty = fs::read_dir(dir).map_err(io)?.next().is_none();
        if !empty {
            return Self::open(dir);
        }
        let fields = Fields::new();
        let mmap = MmapDirectory::open(dir)
            .map_err(|e| IndexError::Tantivy(dir.to_path_buf(), e.to_string()))?;
        let index = Index::create(mmap, fields.schema.clone(), Default::default())
            .map_err(|e| IndexError::Tantivy(dir.to_path_buf(), e.to_string()))?;
        let meta = Meta {
            format: "rmsweep-index".into(),
            schema_version: SCHEMA_VERSION,
        };
        fs::write(
            dir.join(META_FILE),
            serde_json::to_vec_pretty(&meta).unwrap_or_default(),
        )
        .map_err(io)?;
        Ok(RmsIndex {
            index,
            fields,
            dir: dir.to_path_buf(),
        })
    }

    /// Opens an existing index.
    pub fn open(dir: &Path) -> Result<RmsIndex, IndexError> {
        let meta_path = dir.join(META_FILE);
        let raw = match fs::read(&meta_path) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(if dir.is_dir() {
                    IndexError::NotAnIndex(dir.to_path_buf())
                } else {
                    IndexError::Missing(dir.to_path_buf())
                })
            }
            Err(e) => return Err(IndexError::Io(meta_path, e)),
        };
        let meta: Meta =
            serde_json::from_slice(&raw).map_err(|_| IndexError::NotAnIndex(dir.to_path_buf()))?;
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
        let index = Index::open_in_dir(dir)
            .map_err(|e| IndexError::Tantivy(dir.to_path_buf(), e.to_string()))?;
        Ok(RmsIndex {
            index,
            fields: Fields::new(),
            dir: dir.to_path_buf(),
        })
    }
}
