//! What members a zip archive holds and where: its central directory
//! (zip64 too), or, when that is lost (a collection cut short), its local
//! headers walked from the start, the deflate streams telling where each
//! member ends when its sizes follow its data.

use std::io;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::volume::image::{le16, le32, le64, read_exact_at, ImageSource};
use crate::volume::{EntryKind, Stat};

pub(super) const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
pub(super) const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;

/// The end-of-central-directory record is 22 bytes plus a comment of up to
/// 65,535: it lies in the archive's last 65,557 bytes.
const TAIL: u64 = 22 + 65_535;

/// One file of the archive, as its central directory describes it.
#[derive(Debug, Clone)]
pub(super) struct Member {
    pub(super) flags: u16,
    pub(super) method: u16,
    pub(super) crc: u32,
    pub(super) compressed: u64,
    pub(super) size: u64,
    pub(super) local_header: u64,
    pub(super) stat: Stat,
}

pub(super) fn damaged(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// Where the central directory lies and how many members it lists.
pub(super) struct Directory {
    pub(super) offset: u64,
    pub(super) size: u64,
    pub(super) count: u64,
}

pub(super) fn find_directory(src: &dyn ImageSource) -> io::Result<Directory> {
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
pub(super) fn parse_entry(b: &[u8]) -> io::Result<(Member, Vec<u8>, usize)> {
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
pub(super) fn walk_local_headers(src: &dyn ImageSource) -> (Vec<(Member, Vec<u8>)>, String) {
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
