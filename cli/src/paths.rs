//! Where outputs may go: never inside the evidence. One rule for `scan`'s
//! `--index` and `--jsonl` and `report`'s `--out`.

use crate::error::CliError;
use std::path::{Path, PathBuf};

/// Refuses an output inside one of `roots` (links resolved on both sides):
/// rmsweep never writes to the evidence, not even by an operator's slip.
pub fn refuse_inside(flag: &str, target: &Path, roots: &[PathBuf]) -> Result<(), CliError> {
    let resolved = resolve(target);
    for root in roots {
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.clone());
        if resolved.starts_with(&root) {
            return Err(format!(
                "{}: {flag} points inside the scanned evidence ({}): rmsweep never writes to the evidence; point {flag} at a folder outside it",
                target.display(),
                root.display()
            ).into());
        }
    }
    Ok(())
}

/// `path` made absolute with its existing part's links resolved (the rest
/// does not exist yet, so it cannot be a link).
fn resolve(path: &Path) -> PathBuf {
    let abs = std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    let mut rest = Vec::new();
    let mut at = abs.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(at) {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                at = parent;
            }
            _ => return abs,
        }
    }
}
