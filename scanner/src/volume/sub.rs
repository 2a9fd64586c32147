//! A folder of a volume seen as a volume of its own: the `\Profile\`
//! folder of an FSLogix container is the profile a discovery reads.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use super::image::ImageSource;
use super::{Bytes, Entry, ReadError, ReadOptions, Stat, VPath, Volume};

/// `inner`'s folder `at`, as a volume.
pub struct SubVolume {
    inner: Arc<dyn Volume>,
    at: VPath,
}

impl SubVolume {
    pub fn new(inner: Arc<dyn Volume>, at: VPath) -> SubVolume {
        SubVolume { inner, at }
    }

    fn inner_path(&self, p: &VPath) -> VPath {
        if p.is_root() {
            self.at.clone()
        } else if self.at.is_root() {
            p.clone()
        } else {
            self.at.join(p.as_bytes())
        }
    }

    /// `p` of the inner volume, as a path of this one.
    fn outer_path(&self, p: &VPath) -> VPath {
        if self.at.is_root() {
            return p.clone();
        }
        VPath::from_bytes(
            p.as_bytes()
                .get(self.at.as_bytes().len() + 1..)
                .unwrap_or_default(),
        )
    }
}

impl Volume for SubVolume {
    fn list(&self, dir: &VPath) -> io::Result<Vec<Entry>> {
        let mut entries = self.inner.list(&self.inner_path(dir))?;
        for e in &mut entries {
            e.path = self.outer_path(&e.path);
        }
        Ok(entries)
    }
    fn stat(&self, path: &VPath) -> io::Result<Stat> {
        self.inner.stat(&self.inner_path(path))
    }
    fn read<'b>(
        &self,
        path: &VPath,
        opts: &ReadOptions,
        buf: &'b mut Vec<u8>,
    ) -> Result<(Stat, Bytes<'b>), ReadError> {
        self.inner.read(&self.inner_path(path), opts, buf)
    }
    fn read_at(&self, path: &VPath, offset: u64, buf: &mut [u8]) -> Result<usize, ReadError> {
        self.inner.read_at(&self.inner_path(path), offset, buf)
    }
    fn open_source(&self, path: &VPath) -> Result<Arc<dyn ImageSource>, ReadError> {
        self.inner.open_source(&self.inner_path(path))
    }
    fn origin(&self) -> String {
        self.inner.origin()
    }
    fn stored_path(&self, path: &VPath) -> PathBuf {
        self.inner.stored_path(&self.inner_path(path))
    }
    fn windows_names(&self, path: &VPath) -> Vec<String> {
        self.inner.windows_names(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::memory::MemoryVolume;

    #[test]
    fn a_folder_reads_as_a_volume_with_paths_of_its_own() {
        let inner: Arc<dyn Volume> =
            Arc::new(MemoryVolume::new().file("Profile/AppData/x.drm", b"abc"));
        let vol = SubVolume::new(inner, VPath::from_bytes("Profile"));
        let root = vol.list(&VPath::root()).unwrap();
        assert_eq!(root.len(), 1);
        assert_eq!(root[0].path.as_bytes(), b"AppData");
        let files = vol.list(&root[0].path).unwrap();
        assert_eq!(files[0].path.as_bytes(), b"AppData/x.drm");
        let mut buf = Vec::new();
        let (st, bytes) = vol
            .read(&files[0].path, &ReadOptions::default(), &mut buf)
            .unwrap();
        assert_eq!((st.size, &bytes[..]), (3, &b"abc"[..]));
        assert!(vol
            .stored_path(&files[0].path)
            .ends_with("Profile/AppData/x.drm"));
    }
}
