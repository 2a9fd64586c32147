//! A small Chrome DevTools Protocol client for tests: headless Chromium
//! driven over `--remote-debugging-pipe` (commands on its fd 3, replies and
//! events on its fd 4, NUL-separated JSON), so no port is opened and no
//! WebSocket library is needed.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Chromium: `$RMSWEEP_CHROMIUM`, else `chromium` or `chromium-browser` on
/// the PATH. Missing, the test fails and says how to install it.
pub fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("RMSWEEP_CHROMIUM") {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let exe = dir.join(name);
            if exe.is_file() {
                return exe;
            }
        }
    }
    panic!("Chromium is needed for the browser test: run .ci/deps (it installs Debian's chromium package), or set RMSWEEP_CHROMIUM to a Chromium binary");
}

fn pipe() -> (RawFd, RawFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    (fds[0], fds[1])
}

/// A running headless Chromium.
pub struct Browser {
    child: Child,
    commands: File,
    replies: Receiver<Value>,
    next_id: u64,
    /// Events received so far (method, params, sessionId).
    pub events: Vec<Value>,
    pub log: PathBuf,
}

impl Browser {
    /// Starts Chromium with a fresh profile under `scratch`, networking off.
    pub fn launch(exe: &Path, scratch: &Path) -> Browser {
        let (their_in, our_out) = pipe();
        let (our_in, their_out) = pipe();
        let log = scratch.join("chromium.log");
        let mut cmd = Command::new(exe);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--remote-debugging-pipe",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.join("profile").display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&log).unwrap());
        // SAFETY: only async-signal-safe calls between fork and exec. The
        // pipe ends are first moved above 10 so that placing them at 3 and
        // 4 cannot overwrite one another; dup2 clears close-on-exec.
        unsafe {
            cmd.pre_exec(move || {
                let a = libc::fcntl(their_in, libc::F_DUPFD, 10);
                let b = libc::fcntl(their_out, libc::F_DUPFD, 10);
                if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start Chromium");
        // SAFETY: each descriptor came from pipe2 above and is owned once.
        let (commands, replies_in) = unsafe {
            libc::close(their_in);
            libc::close(their_out);
            (File::from_raw_fd(our_out), File::from_raw_fd(our_in))
        };
        let (tx, replies) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(replies_in);
            let mut buf = Vec::new();
            while r.read_until(0, &mut buf).unwrap_or(0) > 0 {
                if buf.last() == Some(&0) {
                    buf.pop();
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
                buf.clear();
            }
        });
        Browser {
            child,
            commands,
            replies,
            next_id: 1,
            events: Vec::new(),
            log,
        }
    }

    fn fail(&self, what: String) -> ! {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        panic!(
            "{what}\n--- Chromium's log (last lines) ---\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }

    fn receive(&mut self, deadline: Instant, what: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.replies.recv_timeout(left) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => self.fail(format!("Chromium: no answer to {what}")),
            Err(RecvTimeoutError::Disconnected) => {
                self.fail(format!("Chromium exited while waiting for {what}"))
            }
        }
    }

    /// Sends a command (to a page when `session` is given) and returns its result.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        if let Err(e) = self.commands.write_all(&bytes) {
            self.fail(format!("cannot send {method} to Chromium: {e}"));
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self.receive(deadline, method);
            if v["id"] == json!(id) {
                if let Some(e) = v.get("error") {
                    self.fail(format!("{method} failed: {e}"));
                }
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    /// Opens `url` in a new page `width` pixels wide with the Page, Runtime
    /// and Log domains on, waits for its load event, and returns the page's
    /// session for [`Browser::call`].
    pub fn open_page(&mut self, url: &str, width: u32) -> String {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        let session = attached["sessionId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let s = Some(session.as_str());
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            self.call(s, domain, json!({}));
        }
        self.call(
            s,
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
        );
        self.call(s, "Page.navigate", json!({"url": url}));
        self.wait_for("Page.loadEventFired");
        session
    }

    /// Waits for an event of `method` (already received, or arriving).
    pub fn wait_for(&mut self, method: &str) -> Value {
        if let Some(e) = self.events.iter().find(|e| e["method"] == method) {
            return e.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self.receive(deadline, method);
            self.events.push(v.clone());
            if v["method"] == method {
                return v;
            }
        }
    }

    /// Console errors, uncaught exceptions and error log entries (CSP
    /// violations, failed loads) seen so far.
    pub fn errors(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| {
                let p = &e["params"];
                match e["method"].as_str()? {
                    "Runtime.exceptionThrown" => Some(p["exceptionDetails"].to_string()),
                    "Runtime.consoleAPICalled"
                        if matches!(p["type"].as_str(), Some("error" | "assert")) =>
                    {
                        Some(p["args"].to_string())
                    }
                    "Log.entryAdded" if p["entry"]["level"] == "error" => {
                        Some(p["entry"].to_string())
                    }
                    _ => None,
                }
            })
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
