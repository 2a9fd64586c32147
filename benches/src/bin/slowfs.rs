//! `slowfs`: a read-only FUSE passthrough that adds a fixed delay to every
//! operation, so a local folder behaves like a file share across a network.
//!
//! ```text
//! slowfs SOURCE MOUNTPOINT [DELAY_MS [TTL_MS]]     (defaults 2 and 1000)
//! ```
//!
//! Every request the kernel sends (lookup, getattr, opendir, readdir, open,
//! read, release, readlink, statfs) waits `DELAY_MS` before it is answered,
//! on a pool of 128 threads: requests in flight at once are delayed at once,
//! as on a share, so a client that keeps many requests outstanding gains
//! what it would gain there. Names and attributes are cached by the kernel
//! for `TTL_MS` (a default CIFS mount caches them for one second); file data
//! is not kept between opens. With `SLOWFS_HANG=TEXT`, requests about
//! paths containing TEXT are never answered (a server gone mid-scan). Runs
//! in the foreground until unmounted (`fusermount -u MOUNTPOINT`). Used by
//! `benches/latency.sh`.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use crossbeam_channel::{unbounded, Sender};
use fuser::{
    FileAttr, FileType, Filesystem, MountOption, ReplyAttr, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyStatfs, Request,
};

const POOL_THREADS: usize = 128;

/// Inode numbers handed to the kernel, and the source paths they stand for.
#[derive(Default)]
struct Inodes {
    paths: Vec<PathBuf>,
    numbers: HashMap<PathBuf, u64>,
}

impl Inodes {
    fn path(&self, ino: u64) -> Option<PathBuf> {
        let index = usize::try_from(ino.checked_sub(1)?).ok()?;
        self.paths.get(index).cloned()
    }
    fn number(&mut self, path: &Path) -> u64 {
        if let Some(&ino) = self.numbers.get(path) {
            return ino;
        }
        self.paths.push(path.to_path_buf());
        let ino = self.paths.len() as u64;
        self.numbers.insert(path.to_path_buf(), ino);
        ino
    }
}

struct Shared {
    inodes: Mutex<Inodes>,
    open: Mutex<HashMap<u64, Arc<File>>>,
    next_handle: Mutex<u64>,
    delay: Duration,
    ttl: Duration,
    /// `SLOWFS_HANG`: requests about paths containing it are never answered.
    hang: Option<String>,
}

impl Shared {
    fn path(&self, ino: u64) -> Option<PathBuf> {
        let path = self.inodes.lock().unwrap().path(ino)?;
        // A share whose server stopped answering for these paths.
        if let Some(hang) = &self.hang {
            while path.to_string_lossy().contains(hang.as_str()) {
                std::thread::park();
            }
        }
        Some(path)
    }
    fn attr(&self, path: &Path) -> std::io::Result<FileAttr> {
        let meta = std::fs::symlink_metadata(path)?;
        let ino = self.inodes.lock().unwrap().number(path);
        let time = |secs: i64, nanos: i64| {
            UNIX_EPOCH + Duration::new(secs.max(0) as u64, nanos.clamp(0, 999_999_999) as u32)
        };
        Ok(FileAttr {
            ino,
            size: meta.len(),
            blocks: meta.blocks(),
            atime: time(meta.atime(), meta.atime_nsec()),
            mtime: time(meta.mtime(), meta.mtime_nsec()),
            ctime: time(meta.ctime(), meta.ctime_nsec()),
            crtime: time(meta.mtime(), meta.mtime_nsec()),
            kind: kind(meta.file_type()),
            perm: (meta.mode() & 0o7777) as u16,
            nlink: meta.nlink() as u32,
            uid: meta.uid(),
            gid: meta.gid(),
            rdev: meta.rdev() as u32,
            blksize: 4096,
            flags: 0,
        })
    }
}

fn kind(t: std::fs::FileType) -> FileType {
    if t.is_dir() {
        FileType::Directory
    } else if t.is_symlink() {
        FileType::Symlink
    } else if t.is_block_device() {
        FileType::BlockDevice
    } else if t.is_char_device() {
        FileType::CharDevice
    } else if t.is_fifo() {
        FileType::NamedPipe
    } else if t.is_socket() {
        FileType::Socket
    } else {
        FileType::RegularFile
    }
}

fn errno(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

type Work = Box<dyn FnOnce(&Shared) + Send>;

/// The file system: each request becomes work for the pool, which sleeps
/// the delay and then answers it from the source folder.
struct SlowFs {
    pool: Sender<Work>,
}

impl SlowFs {
    fn new(source: PathBuf, delay: Duration, ttl: Duration) -> SlowFs {
        let mut inodes = Inodes::default();
        inodes.number(&source);
        let shared = Arc::new(Shared {
            inodes: Mutex::new(inodes),
            open: Mutex::new(HashMap::new()),
            next_handle: Mutex::new(1),
            delay,
            ttl,
            hang: std::env::var("SLOWFS_HANG").ok().filter(|h| !h.is_empty()),
        });
        let (pool, work) = unbounded::<Work>();
        for _ in 0..POOL_THREADS {
            let (work, shared) = (work.clone(), Arc::clone(&shared));
            std::thread::spawn(move || {
                for job in work {
                    std::thread::sleep(shared.delay);
                    job(&shared);
                }
            });
        }
        SlowFs { pool }
    }
    fn later(&self, work: impl FnOnce(&Shared) + Send + 'static) {
        let _ = self.pool.send(Box::new(work));
    }
}

impl Filesystem for SlowFs {
    fn lookup(&mut self, _req: &Request<'_>, parent: u64, name: &OsStr, reply: ReplyEntry) {
        let name = name.to_os_string();
        self.later(move |fs| match fs.path(parent) {
            None => reply.error(libc::ENOENT),
            Some(dir) => match fs.attr(&dir.join(name)) {
                Ok(attr) => reply.entry(&fs.ttl, &attr, 0),
                Err(e) => reply.error(errno(&e)),
            },
        });
    }
    fn getattr(&mut self, _req: &Request<'_>, ino: u64, _fh: Option<u64>, reply: ReplyAttr) {
        self.later(move |fs| match fs.path(ino).map(|p| fs.attr(&p)) {
            Some(Ok(attr)) => reply.attr(&fs.ttl, &attr),
            Some(Err(e)) => reply.error(errno(&e)),
            None => reply.error(libc::ENOENT),
        });
    }
    fn readlink(&mut self, _req: &Request<'_>, ino: u64, reply: ReplyData) {
        self.later(move |fs| match fs.path(ino).map(std::fs::read_link) {
            Some(Ok(target)) => reply.data(target.as_os_str().as_encoded_bytes()),
            Some(Err(e)) => reply.error(errno(&e)),
            None => reply.error(libc::ENOENT),
        });
    }
    fn opendir(&mut self, _req: &Request<'_>, _ino: u64, _flags: i32, reply: ReplyOpen) {
        self.later(move |_| reply.opened(0, 0));
    }
    fn readdir(
        &mut self,
        _req: &Request<'_>,
        ino: u64,
        _fh: u64,
        offset: i64,
        mut reply: ReplyDirectory,
    ) {
        self.later(move |fs| {
            let Some(dir) = fs.path(ino) else {
                return reply.error(libc::ENOENT);
            };
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) => return reply.error(errno(&e)),
            };
            let mut all: Vec<(u64, FileType, std::ffi::OsString)> = vec![
                (ino, FileType::Directory, ".".into()),
                (ino, FileType::Directory, "..".into()),
            ];
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(t) = entry.file_type() else { continue };
                let number = fs.inodes.lock().unwrap().number(&path);
                all.push((number, kind(t), entry.file_name()));
            }
            for (i, (number, kind, name)) in all.iter().enumerate().skip(offset as usize) {
                if reply.add(*number, (i + 1) as i64, *kind, name) {
                    break;
                }
            }
            reply.ok();
        });
    }
    fn releasedir(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        _fh: u64,
        _flags: i32,
        reply: ReplyEmpty,
    ) {
        self.later(move |_| reply.ok());
    }
    fn open(&mut self, _req: &Request<'_>, ino: u64, _flags: i32, reply: ReplyOpen) {
        self.later(move |fs| match fs.path(ino).map(File::open) {
            Some(Ok(file)) => {
                let fh = {
                    let mut next = fs.next_handle.lock().unwrap();
                    *next += 1;
                    *next
                };
                fs.open.lock().unwrap().insert(fh, Arc::new(file));
                reply.opened(fh, 0);
            }
            Some(Err(e)) => reply.error(errno(&e)),
            None => reply.error(libc::ENOENT),
        });
    }
    fn read(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        fh: u64,
        offset: i64,
        size: u32,
        _flags: i32,
        _lock_owner: Option<u64>,
        reply: ReplyData,
    ) {
        self.later(move |fs| {
            let Some(file) = fs.open.lock().unwrap().get(&fh).cloned() else {
                return reply.error(libc::EBADF);
            };
            let mut buf = vec![0; size as usize];
            match file.read_at(&mut buf, offset.max(0) as u64) {
                Ok(n) => reply.data(&buf[..n]),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }
    fn release(
        &mut self,
        _req: &Request<'_>,
        _ino: u64,
        fh: u64,
        _flags: i32,
        _lock_owner: Option<u64>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.later(move |fs| {
            fs.open.lock().unwrap().remove(&fh);
            reply.ok();
        });
    }
    fn statfs(&mut self, _req: &Request<'_>, _ino: u64, reply: ReplyStatfs) {
        self.later(move |_| reply.statfs(0, 0, 0, 0, 0, 4096, 255, 0));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(source), Some(mountpoint)) = (args.first(), args.get(1)) else {
        eprintln!("usage: slowfs SOURCE MOUNTPOINT [DELAY_MS [TTL_MS]]");
        std::process::exit(2);
    };
    let millis = |i: usize, default: u64| {
        args.get(i).map_or(default, |s| {
            s.parse().unwrap_or_else(|_| {
                eprintln!("slowfs: {s} is not a number of milliseconds");
                std::process::exit(2)
            })
        })
    };
    let (delay, ttl) = (millis(2, 2), millis(3, 1000));
    let source = match std::fs::canonicalize(source) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("slowfs: {source}: {e}");
            std::process::exit(1)
        }
    };
    let fs = SlowFs::new(
        source,
        Duration::from_millis(delay),
        Duration::from_millis(ttl),
    );
    let options = [MountOption::RO, MountOption::FSName("slowfs".into())];
    if let Err(e) = fuser::mount2(fs, mountpoint, &options) {
        eprintln!("slowfs: cannot mount on {mountpoint}: {e}");
        std::process::exit(1);
    }
}
