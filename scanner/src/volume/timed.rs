//! A volume whose every request must answer within a time limit. A share
//! whose server went away mid-scan (or a hard NFS mount) blocks a listing
//! or a read for ever, and a scan that waits for it never finishes, nor
//! commits what it read. Each request of the inner volume runs on a helper
//! thread and is waited for at most the limit; one that does not answer in
//! time is given up as an error naming the limit (the file becomes an error
//! record, the folder a listing error) and the scan goes on. The helper
//! that hangs is left to finish on its own; another takes its place.
//!
//! Used only for roots on network and FUSE file systems: on a local disk a
//! request cannot hang, and a thread hop per request would cost time.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crossbeam_channel::{bounded, unbounded, Receiver, RecvTimeoutError, Sender};

use super::image::ImageSource;
use super::{Bytes, Entry, ReadError, ReadOptions, Stat, VPath, Volume};

type Task = Box<dyn FnOnce() + Send>;

/// The helper threads requests run on, shared by every `Timed` volume of
/// the process (a fleet on a share has thousands of volumes, not thousands
/// of threads): one more is started whenever none is idle, so a hung
/// request never delays the others.
struct Helpers {
    tasks: Sender<Task>,
    queue: Receiver<Task>,
    idle: Arc<AtomicUsize>,
}

impl Helpers {
    fn get() -> &'static Helpers {
        static HELPERS: OnceLock<Helpers> = OnceLock::new();
        HELPERS.get_or_init(Helpers::new)
    }

    fn new() -> Helpers {
        let (tasks, queue) = unbounded();
        Helpers {
            tasks,
            queue,
            idle: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn submit(&self, task: Task) {
        if self.idle.load(Ordering::SeqCst) == 0 {
            let (queue, idle) = (self.queue.clone(), Arc::clone(&self.idle));
            let started = std::thread::Builder::new()
                .name("rmsweep-io-wait".into())
                .spawn(move || loop {
                    idle.fetch_add(1, Ordering::SeqCst);
                    let task = queue.recv();
                    idle.fetch_sub(1, Ordering::SeqCst);
                    match task {
                        Ok(task) => task(),
                        Err(_) => return,
                    }
                });
            if started.is_err() {
                // No thread to be had: the request runs unlimited, here.
                let _ = self.tasks.send(task);
                if let Ok(task) = self.queue.try_recv() {
                    task();
                }
                return;
            }
        }
        let _ = self.tasks.send(task);
    }
}

/// `inner`, each request limited to `limit`.
pub struct Timed {
    inner: Arc<dyn Volume>,
    limit: Duration,
}

impl Timed {
    pub fn new(inner: Arc<dyn Volume>, limit: Duration) -> Timed {
        Timed { inner, limit }
    }

    /// Runs `request` on a helper and waits for it at most the limit.
    fn call<T: Send + 'static>(
        &self,
        what: &str,
        request: impl FnOnce(&dyn Volume) -> T + Send + 'static,
    ) -> Result<T, io::Error> {
        let (done, answer) = bounded(1);
        let inner = Arc::clone(&self.inner);
        Helpers::get().submit(Box::new(move || {
            let _ = done.send(request(inner.as_ref()));
        }));
        match answer.recv_timeout(self.limit) {
            Ok(t) => Ok(t),
            Err(RecvTimeoutError::Timeout) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "no answer to the {what} in {} s: the share may be hung or unreachable; scan it again when it answers (--io-timeout sets the limit)",
                    self.limit.as_secs_f64()
                ),
            )),
            Err(RecvTimeoutError::Disconnected) => Err(io::Error::other(format!(
                "the {what} failed (its thread ended without an answer)"
            ))),
        }
    }
}

impl Volume for Timed {
    fn list(&self, dir: &VPath) -> io::Result<Vec<Entry>> {
        let dir = dir.clone();
        self.call("listing", move |v| v.list(&dir))?
    }

    fn stat(&self, path: &VPath) -> io::Result<Stat> {
        let path = path.clone();
        self.call("stat", move |v| v.stat(&path))?
    }

    fn read<'b>(
        &self,
        path: &VPath,
        opts: &ReadOptions,
        buf: &'b mut Vec<u8>,
    ) -> Result<(Stat, Bytes<'b>), ReadError> {
        let (path, opts) = (path.clone(), *opts);
        let answer = self
            .call("read", move |v| {
                let mut own = Vec::new();
                match v.read(&path, &opts, &mut own) {
                    Ok((stat, Bytes::Mapped(map))) => Ok((stat, Err(map))),
                    Ok((stat, Bytes::Buffer(bytes))) => Ok((stat, Ok(bytes.to_vec()))),
                    Err(e) => Err(e),
                }
            })
            .map_err(ReadError::Io)?;
        match answer? {
            (stat, Err(map)) => Ok((stat, Bytes::Mapped(map))),
            (stat, Ok(bytes)) => {
                *buf = bytes;
                Ok((stat, Bytes::Buffer(&buf[..])))
            }
        }
    }

    fn read_at(&self, path: &VPath, offset: u64, buf: &mut [u8]) -> Result<usize, ReadError> {
        let (path, len) = (path.clone(), buf.len());
        let (read, own) = self
            .call("read", move |v| {
                let mut own = vec![0; len];
                (v.read_at(&path, offset, &mut own), own)
            })
            .map_err(ReadError::Io)?;
        let n = read?;
        buf[..n].copy_from_slice(&own[..n]);
        Ok(n)
    }

    /// The open is limited; an image's later reads go to the file it opened.
    fn open_source(&self, path: &VPath) -> Result<Arc<dyn ImageSource>, ReadError> {
        let path = path.clone();
        self.call("open", move |v| v.open_source(&path))
            .map_err(ReadError::Io)?
    }

    fn origin(&self) -> String {
        self.inner.origin()
    }

    fn stored_path(&self, path: &VPath) -> PathBuf {
        self.inner.stored_path(path)
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
    fn a_request_that_never_answers_is_an_error_and_the_others_are_read() {
        // A share whose folder `hung` never answers.
        let share = MemoryVolume::new()
            .file("hung/a.drm", b"never")
            .file("ok/b.drm", b"template")
            .on_every_request(|p| {
                while p.as_bytes().starts_with(b"hung") {
                    std::thread::park();
                }
            });
        let v = Timed::new(Arc::new(share), Duration::from_millis(50));
        let p = |s: &str| VPath::from_bytes(s);
        let hung = v.list(&p("hung")).unwrap_err();
        assert_eq!(hung.kind(), io::ErrorKind::TimedOut);
        assert_eq!(
            hung.to_string(),
            "no answer to the listing in 0.05 s: the share may be hung or unreachable; scan it again when it answers (--io-timeout sets the limit)"
        );
        let mut buf = Vec::new();
        let read = v.read(&p("hung/a.drm"), &ReadOptions::default(), &mut buf);
        assert!(matches!(read, Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::TimedOut));
        // Every helper is hung now; the next requests get helpers of their own.
        let names: Vec<Vec<u8>> = v
            .list(&p("ok"))
            .unwrap()
            .into_iter()
            .map(|e| e.path.as_bytes().to_vec())
            .collect();
        assert_eq!(names, vec![b"ok/b.drm".to_vec()]);
        let (stat, bytes) = v
            .read(&p("ok/b.drm"), &ReadOptions::default(), &mut buf)
            .unwrap();
        assert_eq!((stat.size, &bytes[..]), (8, &b"template"[..]));
        let mut head = [0u8; 4];
        assert_eq!(v.read_at(&p("ok/b.drm"), 4, &mut head).unwrap(), 4);
        assert_eq!(&head, b"late");
        assert_eq!(
            v.stat(&p("ok/missing")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
