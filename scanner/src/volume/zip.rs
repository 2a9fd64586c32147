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

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::image::{le16, le32, le64, read_exact_at, ImageSource, Slice, SourceReader};
use super::{Bytes, Entry, EntryKind, Names, ReadError, ReadOptions, Stat, VPath, Volume};

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;

/// The end-of-central-directory record is 22 bytes plus a comment of up to
/// 65,535: it lies in the archive's last 65,557 bytes.
const TAIL: u64 = 22 + 65_535;

const CRC32: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISO_HDLC);

/// One file of the archive, as its central directory describes it.
#[derive(Debug, Clone)]
struct Member {
    flags: u16,
    method: u16,
    crc: u32,
    compressed: u64,
    size: u64,
    local_header: u64,
    stat: Stat,
}

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

fn damaged(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// Whether `src` begins like a zip archive (a member, or an empty archive).
pub fn is_zip(src: &dyn ImageSource) -> bool {
    let mut head = [0u8; 4];
    matches!(src.read_at(0, &mut head), Ok(4))
        && matches!(u32::from_le_bytes(head), LOCAL_HEADER | END_OF_DIRECTORY)
}

/// Where the central directory lies and how many members it lists.
struct Directory {
    offset: u64,
    size: u64,
    count: u64,
}

fn find_directory(src: &dyn ImageSource) -> io::Result<Directory> {
    // Most archives have no comment: the record is the last 22 bytes.
    let mut last = [0u8; 22];
    let end = src.len().saturating_sub(22);
    let start = if read_exact_at(src, end, &mut last).is_ok()
        && le32(&last, 0) == END_OF_DIRECTORY
        && le16(&last, 20) == 0
    {
        end
    } else {
        src.len().saturating_sub(TAIL)
    };
    let mut tail = vec![0u8; (src.len() - start) as usize];
    read_exact_at(src, start, &mut tail)?;
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| le32(&tail, i) == END_OF_DIRECTORY)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "no end-of-central-directory record",
            )
        })?;
    let end = &tail[at..];
    if le16(end, 4) != 0 || le16(end, 6) != 0 {
        return Err(damaged(
            "a multi-part (spanned) archive: join its parts into one file first",
        ));
    }
    let mut dir = Directory {
        offset: le32(end, 16).into(),
        size: le32(end, 12).into(),
        count: le16(end, 10).into(),
    };
    let end_at = start + at as u64;
    let mut locator = [0u8; 20];
    if end_at >= 20
        && read_exact_at(src, end_at - 20, &mut locator).is_ok()
        && le32(&locator, 0) == ZIP64_LOCATOR
    {
        let mut end64 = [0u8; 56];
        read_exact_at(src, le64(&locator, 8), &mut end64)?;
        if le32(&end64, 0) != ZIP64_END {
            return Err(damaged(
                "its zip64 end-of-central-directory record is damaged",
            ));
        }
        dir = Directory {
            offset: le64(&end64, 48),
            size: le64(&end64, 40),
            count: le64(&end64, 32),
        };
    }
    Ok(dir)
}

/// A central-directory entry: its member and stored name; `None` past the
/// last one.
fn parse_entry(b: &[u8]) -> io::Result<(Member, Vec<u8>, usize)> {
    if b.len() < 46 || le32(b, 0) != CENTRAL_HEADER {
        return Err(damaged(
            "its central directory is damaged (an entry's signature is wrong)",
        ));
    }
    let (name_len, extra_len, comment_len) = (
        le16(b, 28) as usize,
        le16(b, 30) as usize,
        le16(b, 32) as usize,
    );
    let total = 46 + name_len + extra_len + comment_len;
    if b.len() < total {
        return Err(damaged("its central directory is cut short"));
    }
    let name = b[46..46 + name_len].to_vec();
    let extra = &b[46 + name_len..46 + name_len + extra_len];
    let mut m = Member {
        flags: le16(b, 8),
        method: le16(b, 10),
        crc: le32(b, 16),
        compressed: le32(b, 20).into(),
        size: le32(b, 24).into(),
        local_header: le32(b, 42).into(),
        stat: Stat::default(),
    };
    let unix_link = le16(b, 4) >> 8 == 3 && (le32(b, 38) >> 16) & 0o170000 == 0o120000;
    let dos = dos_time(le16(b, 14), le16(b, 12));
    read_extra(extra, &mut m);
    let kind = if name.ends_with(b"/") {
        EntryKind::Dir
    } else if unix_link {
        EntryKind::Symlink
    } else {
        EntryKind::File
    };
    m.stat.kind = Some(kind);
    m.stat.size = if kind == EntryKind::File { m.size } else { 0 };
    m.stat.mtime_ns = m
        .stat
        .modified
        .or(dos)
        .and_then(|t| t.timestamp_nanos_opt());
    Ok((m, name, total))
}

/// The zip64 sizes and offset, and the UTC times, of a member's extra field.
fn read_extra(mut extra: &[u8], m: &mut Member) {
    while extra.len() >= 4 {
        let (id, len) = (le16(extra, 0), le16(extra, 2) as usize);
        let Some(data) = extra.get(4..4 + len) else {
            break;
        };
        match id {
            0x0001 => {
                let mut fields = data.chunks_exact(8).map(|c| le64(c, 0));
                for field in [&mut m.size, &mut m.compressed, &mut m.local_header] {
                    if *field == u64::from(u32::MAX) {
                        match fields.next() {
                            Some(v) => *field = v,
                            None => break,
                        }
                    }
                }
            }
            // NTFS: after 4 reserved bytes, tag 1 holds three FILETIMEs
            // (modified, accessed, created).
            0x000a if data.len() >= 32 && le16(data, 4) == 1 && le16(data, 6) >= 24 => {
                m.stat.modified = crate::parse::time::filetime(le64(data, 8));
                m.stat.accessed = crate::parse::time::filetime(le64(data, 16));
                m.stat.created = crate::parse::time::filetime(le64(data, 24));
            }
            0x5455 if data.len() >= 5 && data[0] & 1 == 1 && m.stat.modified.is_none() => {
                let secs = i32::from_le_bytes(data[1..5].try_into().expect("4 bytes"));
                m.stat.modified = Utc.timestamp_opt(secs.into(), 0).single();
            }
            _ => {}
        }
        extra = &extra[4 + len..];
    }
}

/// The members of an archive whose central directory is lost, found by
/// walking their local headers from the start, and where the walk stopped.
fn walk_local_headers(src: &dyn ImageSource) -> (Vec<(Member, Vec<u8>)>, String) {
    let mut found = Vec::new();
    let mut at = 0u64;
    loop {
        match local_member(src, at) {
            Ok(Some((member, name, next))) => {
                found.push((member, name));
                at = next;
            }
            Ok(None) if at == 0 => return (found, "no member header at its start".into()),
            Ok(None) => return (found, format!("the members end at byte {at}")),
            Err(e) => return (found, format!("the member at byte {at} is lost: {e}")),
        }
    }
}

/// The member whose local header is at `at`, its name, and where the next
/// one starts; `None` where no local header is (the central directory, or
/// the end).
fn local_member(src: &dyn ImageSource, at: u64) -> io::Result<Option<(Member, Vec<u8>, u64)>> {
    let mut header = [0u8; 30];
    if read_exact_at(src, at, &mut header).is_err() || le32(&header, 0) != LOCAL_HEADER {
        return Ok(None);
    }
    let (name_len, extra_len) = (le16(&header, 26) as usize, le16(&header, 28) as usize);
    let mut name_extra = vec![0u8; name_len + extra_len];
    read_exact_at(src, at + 30, &mut name_extra)?;
    let mut m = Member {
        flags: le16(&header, 6),
        method: le16(&header, 8),
        crc: le32(&header, 14),
        compressed: le32(&header, 18).into(),
        size: le32(&header, 22).into(),
        local_header: at,
        stat: Stat::default(),
    };
    let dos = dos_time(le16(&header, 12), le16(&header, 10));
    read_extra(&name_extra[name_len..], &mut m);
    let name = name_extra[..name_len].to_vec();
    let kind = if name.ends_with(b"/") {
        EntryKind::Dir
    } else {
        EntryKind::File
    };
    m.stat.kind = Some(kind);
    m.stat.mtime_ns = m
        .stat
        .modified
        .or(dos)
        .and_then(|t| t.timestamp_nanos_opt());
    let data = at + 30 + (name_len + extra_len) as u64;
    let mut next = data.saturating_add(m.compressed);
    if m.flags & 8 != 0 {
        // Sizes follow the data (a streaming writer, as Velociraptor's):
        // the deflate stream tells where it ends.
        if m.method != 8 || m.flags & 1 != 0 {
            return Err(damaged(
                "its size is written after its data, which is not deflated: it cannot be delimited",
            ));
        }
        let (compressed, size) = deflated_extent(src, data)?;
        (m.compressed, m.size) = (compressed, size);
        next = data + compressed;
        let mut desc = [0u8; 24];
        let n = src.read_at(next, &mut desc)?;
        let skip = if n >= 4 && le32(&desc, 0) == DATA_DESCRIPTOR {
            4
        } else {
            0
        };
        if n >= skip + 4 {
            m.crc = le32(&desc, skip);
        }
        // zip64 descriptors hold 8-byte sizes.
        let wide = n >= skip + 20 && le64(&desc, skip + 4) == compressed;
        next += skip as u64 + if wide { 20 } else { 12 };
    }
    if next > src.len() {
        return Err(damaged(format!(
            "its {} bytes of data run past the archive's end (byte {})",
            m.compressed,
            src.len()
        )));
    }
    m.stat.size = if kind == EntryKind::File { m.size } else { 0 };
    Ok(Some((m, name, next)))
}

/// How many bytes a deflate stream starting at `at` takes, and how many it
/// inflates to.
fn deflated_extent(src: &dyn ImageSource, at: u64) -> io::Result<(u64, u64)> {
    let mut inflate = flate2::Decompress::new(false);
    let mut input = vec![0u8; 64 * 1024];
    let mut output = vec![0u8; 256 * 1024];
    let mut offset = at;
    let mut have = 0usize;
    loop {
        if have < input.len() {
            have += src.read_at(offset + have as u64, &mut input[have..])?;
        }
        let (before_in, before_out) = (inflate.total_in(), inflate.total_out());
        let status = inflate
            .decompress(&input[..have], &mut output, flate2::FlushDecompress::None)
            .map_err(|e| damaged(format!("its deflate stream is damaged: {e}")))?;
        if status == flate2::Status::StreamEnd {
            return Ok((inflate.total_in(), inflate.total_out()));
        }
        let used = (inflate.total_in() - before_in) as usize;
        if used == 0 && inflate.total_out() == before_out {
            return Err(damaged(
                "its deflate stream is cut off by the archive's end",
            ));
        }
        input.copy_within(used..have, 0);
        have -= used;
        offset += used as u64;
    }
}

/// An MS-DOS date and time, read as if it were UTC (it is local time).
fn dos_time(date: u16, time: u16) -> Option<DateTime<Utc>> {
    NaiveDate::from_ymd_opt(
        1980 + i32::from(date >> 9),
        u32::from((date >> 5) & 0xf),
        u32::from(date & 0x1f),
    )?
    .and_hms_opt(
        u32::from(time >> 11),
        u32::from((time >> 5) & 0x3f),
        u32::from(time & 0x1f) * 2,
    )
    .map(|t| t.and_utc())
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
        if m.size > opts.max_file_size {
            return Err(ReadError::TooLarge {
                size: m.size,
                max: opts.max_file_size,
            });
        }
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
