//! Errors a provider reports (spec §1.3), as one ABI-stable type.

use std::fmt;

use abi_stable::std_types::{ROption, RString, RVec};
use abi_stable::StableAbi;

/// What kind of failure a [`SyncError`] is; decides what the host does next (spec §2.6).
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Temporary: the host retries later, up to `max_attempts`.
    Recoverable,
    /// Retrying will not help: the job is parked until a person retries it.
    Permanent,
    /// The provider's settings or mapping are wrong: parked until fixed and retried.
    Config,
    /// The provider broke its contract (panicked, returned garbage): parked.
    Internal,
}

impl ErrorKind {
    /// pretix's failure mode for this kind (`None` for recoverable errors, which are
    /// retried rather than parked).
    pub fn failure_mode(self) -> Option<&'static str> {
        match self {
            ErrorKind::Recoverable => None,
            ErrorKind::Permanent => Some("permanent"),
            ErrorKind::Config => Some("config"),
            ErrorKind::Internal => Some("internal"),
        }
    }
}

/// A failed provider call: pretix's `RecoverableSyncError`, `UnrecoverableSyncError`,
/// `SyncConfigError`, or an internal error the plugin-api produced from a panic.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct SyncError {
    /// What happens next.
    pub kind: ErrorKind,
    /// Human-readable messages for the operator.
    pub messages: RVec<RString>,
    /// Technical detail, e.g. the raw response of the external API.
    pub full_message: ROption<RString>,
    /// For recoverable errors: wait this many seconds before the next try, without
    /// counting an attempt (rate limits). Ignored for other kinds.
    pub retry_after_secs: ROption<u64>,
}

impl SyncError {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        SyncError {
            kind,
            messages: RVec::from(vec![RString::from(message.into())]),
            full_message: ROption::RNone,
            retry_after_secs: ROption::RNone,
        }
    }

    /// A temporary failure; the host will try again.
    pub fn recoverable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Recoverable, message)
    }

    /// A failure retrying cannot fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Permanent, message)
    }

    /// A misconfiguration (settings, mapping).
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// A broken contract; normally produced by the plugin-api itself.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// Adds a further message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.messages.push(RString::from(message.into()));
        self
    }

    /// Attaches technical detail (e.g. a raw response body).
    pub fn with_full_message(mut self, full_message: impl Into<String>) -> Self {
        self.full_message = ROption::RSome(RString::from(full_message.into()));
        self
    }

    /// Asks the host to wait `seconds` before retrying without consuming an attempt.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_secs = ROption::RSome(seconds);
        self
    }

    /// The messages joined with `"; "`.
    pub fn message(&self) -> String {
        self.messages
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ErrorKind::Recoverable => "recoverable",
            ErrorKind::Permanent => "permanent",
            ErrorKind::Config => "config",
            ErrorKind::Internal => "internal",
        };
        write!(f, "{kind} error: {}", self.message())
    }
}

impl std::error::Error for SyncError {}
