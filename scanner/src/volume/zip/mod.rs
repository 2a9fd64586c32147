//! A zip archive as a read-only volume: a Velociraptor offline collection
//! (`Collection-<host>-<time>.zip`) read where it lies, as its unzipped
//! form would be, without extracting anything.
//!
//! The central directory (zip64 too) is read once when the archive is
//! opened. A member is found through its local header, inflated (stored and
//! deflated members; any other method or an encrypted member is refused by
//! name) and checked against its CRC-32. Member names are the stored bytes
//! split at `/`; a collector's percent-encoding is undone for the Windows
//! names, as on the unzipped form ([`Names`]). Times come from the
//! extended-timestamp and NTFS extra fields (UTC); an MS-DOS time alone is
//! the writer's local time in an unknown zone, so it gives no `modified`
//! (it still tells a changed member on a re-scan).

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;

mod directory;

use directory::{damaged, find_directory, parse_entry, walk_local_headers, Member};
use directory::{END_OF_DIRECTORY, LOCAL_HEADER};

use super::image::{le16, le32, read_exact_at, ImageSource, Slice, SourceReader};
use super::{Bytes, Entry, EntryKind, Names, ReadError, ReadOptions, Stat, VPath, Volume};

const CRC32: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISO_HDLC);

#[derive(Debug, Clone)]
enum Node {
    Dir(Stat),
    File(usize),
}

/// A zip archive's members as a volume.
pub struct ZipVolume {
    src: Arc<dyn ImageSource>,
    /// The archive as stored: members' paths are `base/<member name>`.
    base: PathBuf,
    names: Names,
    members: Vec<Member>,
    /// Every path (`a/b/c`) to its node; folders are implied by members.
    nodes: HashMap<Vec<u8>, Node>,
    /// Each folder's children's stored names, sorted (`""`: the root).
    children: HashMap<Vec<u8>, Vec<Vec<u8>>>,
    /// Set when the central directory was lost and the members were found
    /// by their local headers: what was recovered, and where it stopped.
    pub recovered: Option<String>,
}

/// Whether `src` begins like a zip archive (a member, or an empty archive).
pub fn is_zip(src: &dyn ImageSource) -> bool {
    let mut head = [0u8; 4];
    matches!(src.read_at(0, &mut head), Ok(4))
        && matches!(u32::from_le_bytes(head), LOCAL_HEADER | END_OF_DIRECTORY)
}

impl ZipVolume {
    /// Reads the archive's central directory. `Ok(None)`: `src` is no zip
    /// archive. Members' paths are `base/<name>`.
    pub fn open(
        src: Arc<dyn ImageSource>,
        base: PathBuf,
        names: Names,
    ) -> io::Result<Option<ZipVolume>> {
        if !is_zip(src.as_ref()) {
            return Ok(None);
        }
        let dir = match find_directory(src.as_ref()) {
            Ok(dir) => dir,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let (found, stopped) = walk_local_headers(src.as_ref());
                let mut vol = ZipVolume::empty(src, base, names);
                let count = found.len();
                for (member, name) in found {
                    vol.add(member, &name);
                }
                vol.sort();
                vol.recovered = Some(format!(
                    "zip archive without its central directory (truncated: a collection interrupted while it was written?): {count} members recovered from their local headers; {stopped}"
                ));
                return Ok(Some(vol));
            }
            Err(e) => return Err(e),
        };
        if dir.offset.saturating_add(dir.size) > src.len() || dir.size > 1 << 32 {
            return Err(damaged(format!(
                "its central directory ({} bytes at {}) lies past the archive's end ({} bytes): the archive is truncated",
                dir.size,
                dir.offset,
                src.len()
            )));
        }
        let mut table = vec![0u8; dir.size as usize];
        read_exact_at(src.as_ref(), dir.offset, &mut table)?;
        let mut vol = ZipVolume::empty(src, base, names);
        let mut at = 0;
        for _ in 0..dir.count {
            let (member, name, len) = parse_entry(&table[at..])?;
            at += len;
            vol.add(member, &name);
        }
        vol.sort();
        Ok(Some(vol))
    }

    fn empty(src: Arc<dyn ImageSource>, base: PathBuf, names: Names) -> ZipVolume {
        ZipVolume {
            src,
            base,
            names,
            members: Vec::new(),
            nodes: HashMap::new(),
            children: HashMap::new(),
            recovered: None,
        }
    }

    fn sort(&mut self) {
        for names in self.children.values_mut() {
            names.sort();
            names.dedup();
        }
    }

    /// Adds a member under its path, and the folders above it.
    fn add(&mut self, member: Member, name: &[u8]) {
        let parts: Vec<&[u8]> = name
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty() && *c != b".")
            .collect();
        let Some((last, folders)) = parts.split_last() else {
            return;
        };
        let mut dir = Vec::new();
        for folder in folders {
            let path = VPath::from_bytes(dir.clone())
                .join(folder)
                .as_bytes()
                .to_vec();
            self.children.entry(dir).or_default().push(folder.to_vec());
            self.nodes
                .entry(path.clone())
                .or_insert_with(|| Node::Dir(dir_stat()));
            dir = path;
        }
        let path = VPath::from_bytes(dir.clone())
            .join(last)
            .as_bytes()
            .to_vec();
        self.children.entry(dir).or_default().push(last.to_vec());
        let node = if member.stat.kind == Some(EntryKind::Dir) {
            Node::Dir(member.stat)
        } else {
            // A name stored twice: the later member wins, as unzipping does.
            self.members.push(member);
            Node::File(self.members.len() - 1)
        };
        self.nodes.insert(path, node);
    }

    fn node(&self, p: &VPath) -> io::Result<&Node> {
        self.nodes
            .get(p.as_bytes())
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }

    fn member(&self, p: &VPath) -> Result<&Member, ReadError> {
        match self.node(p)? {
            Node::File(i) if self.members[*i].stat.kind == Some(EntryKind::File) => {
                Ok(&self.members[*i])
            }
            Node::File(i) => Err(ReadError::NotRegular(
                self.members[*i]
                    .stat
                    .kind
                    .unwrap_or(EntryKind::Unknown)
                    .describe(),
            )),
            Node::Dir(_) => Err(ReadError::NotRegular(EntryKind::Dir.describe())),
        }
    }

    /// A member's stored bytes, after its local header.
    fn stored_bytes(&self, m: &Member) -> Result<Slice, ReadError> {
        if m.flags & 1 != 0 {
            return Err(ReadError::Unsupported("encrypted in its zip archive (a Velociraptor collection protected by a password or certificate): decrypt the collection with Velociraptor first, then scan the result"));
        }
        let mut header = [0u8; 30];
        read_exact_at(self.src.as_ref(), m.local_header, &mut header)?;
        if le32(&header, 0) != LOCAL_HEADER {
            return Err(ReadError::Io(damaged(format!(
                "the zip archive is damaged: no local header at byte {}",
                m.local_header
            ))));
        }
        let start = m
            .local_header
            .saturating_add(30 + u64::from(le16(&header, 26)) + u64::from(le16(&header, 28)));
        if start.saturating_add(m.compressed) > self.src.len() {
            return Err(ReadError::Io(damaged(format!(
                "the zip archive is truncated: the member's {} bytes at {start} run past its end ({} bytes)",
                m.compressed,
                self.src.len()
            ))));
        }
        Ok(Slice {
            inner: self.src.clone(),
            start,
            len: m.compressed,
        })
    }

    /// A reader of a member's content (inflated).
    fn content(&self, m: &Member) -> Result<Box<dyn Read>, ReadError> {
        let reader = SourceReader::new(Arc::new(self.stored_bytes(m)?));
        match m.method {
            0 => Ok(Box::new(reader)),
            8 => Ok(Box::new(flate2::read::DeflateDecoder::new(reader))),
            _ => Err(ReadError::Unsupported(
                "compressed in its zip archive with a method rmsweep does not read (only stored and deflated members): unzip it with a tool that does and scan the result",
            )),
        }
    }
}

fn dir_stat() -> Stat {
    Stat {
        kind: Some(EntryKind::Dir),
        ..Stat::default()
    }
}

impl Volume for ZipVolume {
    fn list(&self, dir: &VPath) -> io::Result<Vec<Entry>> {
        if !dir.is_root() && !matches!(self.node(dir)?, Node::Dir(_)) {
            return Err(io::Error::from(io::ErrorKind::NotADirectory));
        }
        let Some(names) = self.children.get(dir.as_bytes()) else {
            return Ok(Vec::new());
        };
        Ok(names
            .iter()
            .map(|name| {
                let path = dir.join(name);
                let kind = match &self.nodes[path.as_bytes()] {
                    Node::Dir(_) => EntryKind::Dir,
                    Node::File(i) => self.members[*i].stat.kind.unwrap_or(EntryKind::Unknown),
                };
                Entry {
                    name: self.names.windows_name(name),
                    path,
                    kind,
                }
            })
            .collect())
    }

    fn stat(&self, path: &VPath) -> io::Result<Stat> {
        if path.is_root() {
            return Ok(dir_stat());
        }
        Ok(match self.node(path)? {
            Node::Dir(st) => st.clone(),
            Node::File(i) => self.members[*i].stat.clone(),
        })
    }

    fn read<'b>(
        &self,
        path: &VPath,
        opts: &ReadOptions,
        buf: &'b mut Vec<u8>,
    ) -> Result<(Stat, Bytes<'b>), ReadError> {
        let m = self.member(path)?;
        opts.admit(m.size)?;
        buf.clear();
        self.content(m)?.take(m.size + 1).read_to_end(buf)?;
        if buf.len() as u64 != m.size {
            return Err(ReadError::Io(damaged(format!(
                "the zip member is damaged: it holds {} bytes where its directory says {}",
                buf.len(),
                m.size
            ))));
        }
        if CRC32.checksum(buf) != m.crc {
            return Err(ReadError::Io(damaged(
                "the zip member is damaged: its CRC-32 does not match its content",
            )));
        }
        Ok((m.stat.clone(), Bytes::Buffer(buf)))
    }

    fn read_at(&self, path: &VPath, offset: u64, buf: &mut [u8]) -> Result<usize, ReadError> {
        let m = self.member(path)?;
        let mut content = self.content(m)?.take(m.size);
        io::copy(&mut content.by_ref().take(offset), &mut io::sink())?;
        let mut done = 0;
        while done < buf.len() {
            match content.read(&mut buf[done..])? {
                0 => break,
                n => done += n,
            }
        }
        Ok(done)
    }

    fn open_source(&self, path: &VPath) -> Result<Arc<dyn ImageSource>, ReadError> {
        let m = self.member(path)?;
        if m.method != 0 {
            return Err(ReadError::Unsupported("compressed in its zip archive, so it cannot be read in place as an image: unzip it and scan the copy"));
        }
        Ok(Arc::new(self.stored_bytes(m)?))
    }

    fn origin(&self) -> String {
        format!("zip archive {}", self.base.display())
    }

    fn stored_path(&self, path: &VPath) -> PathBuf {
        path.below(&self.base)
    }

    fn windows_names(&self, path: &VPath) -> Vec<String> {
        self.names.windows_names(path)
    }
}
