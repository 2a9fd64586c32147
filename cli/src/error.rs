//! The command line's outcomes: one error type that keeps the library error
//! it wraps as its source, and the exit status each way of ending means.

use std::fmt;
use std::process::ExitCode;

/// Why a command could not do what was asked (exit status 1).
#[derive(Debug)]
pub enum CliError {
    /// What the user must change or know (arguments, refusals, an output
    /// that cannot be written): the message says it all.
    Message(String),
    /// The index could not be opened, read or written.
    Index(rmsweep_index::IndexError),
    /// A root could not be read as evidence.
    Root(rmsweep_scanner::RootError),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Message(m) => f.write_str(m),
            CliError::Index(e) => e.fmt(f),
            CliError::Root(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CliError::Message(_) => None,
            CliError::Index(e) => Some(e),
            CliError::Root(e) => Some(e),
        }
    }
}

impl From<String> for CliError {
    fn from(m: String) -> CliError {
        CliError::Message(m)
    }
}

impl From<&str> for CliError {
    fn from(m: &str) -> CliError {
        CliError::Message(m.to_string())
    }
}

impl From<rmsweep_index::IndexError> for CliError {
    fn from(e: rmsweep_index::IndexError) -> CliError {
        CliError::Index(e)
    }
}

impl From<rmsweep_scanner::RootError> for CliError {
    fn from(e: rmsweep_scanner::RootError) -> CliError {
        CliError::Root(e)
    }
}

/// How a command that ran ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 0: everything was read.
    Success,
    /// 2: the command finished, but some inputs had errors (each is a
    /// record, or named on stderr).
    Partial,
    /// 128 + the signal: interrupted (Ctrl-C, SIGTERM) after what was read
    /// was committed.
    Interrupted(i32),
    /// 141: standard output was closed before the scan finished.
    OutputClosed,
}

impl Status {
    /// `Partial` when `errors`, else `Success`.
    pub fn partial_if(errors: bool) -> Status {
        if errors {
            Status::Partial
        } else {
            Status::Success
        }
    }
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        match s {
            Status::Success => ExitCode::SUCCESS,
            Status::Partial => ExitCode::from(2),
            Status::Interrupted(sig) => ExitCode::from((128 + sig).clamp(0, 255) as u8),
            Status::OutputClosed => ExitCode::from(141),
        }
    }
}
