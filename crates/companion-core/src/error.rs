//! Errors: a `thiserror` enum inside the core, and one serialisable payload for the edges.
//!
//! Messages name the field and the rule that was broken, never the value that was typed, so an
//! error can be logged or shown without carrying health data.

use serde::Serialize;
use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What was wrong with one field of the input.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// Nothing was given where something is needed.
    Required,
    /// Not one of the allowed choices.
    Unknown,
    /// A number outside the allowed range (inclusive).
    OutOfRange { min: f64, max: f64 },
    /// Text longer than allowed, counted in characters.
    TooLong { max: usize },
    /// Text shorter than allowed, counted in characters.
    TooShort { min: usize },
    /// A time later than now (allowing a few minutes of clock drift).
    InFuture,
    /// A time too far in the past to be a real entry.
    TooOld,
    /// Could not be read, e.g. a time that is not RFC 3339.
    BadFormat,
    /// Two inputs that must agree do not (e.g. passphrase and its confirmation).
    Mismatch,
    /// The same as the current value, or otherwise not allowed here.
    NotAllowed,
    /// A server whose certificate could not be verified (not from a trusted authority, or for
    /// another name).
    Untrusted,
    /// A list with the wrong number of values (e.g. answers to an instrument): `expected`, or
    /// up to `optional` more when unscored questions may follow.
    WrongCount { expected: usize, optional: usize },
}

/// Bad input: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct Invalid {
    pub field: &'static str,
    pub problem: Problem,
}

impl Invalid {
    pub fn new(field: &'static str, problem: Problem) -> Self {
        Self { field, problem }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.field;
        match &self.problem {
            Problem::Required => write!(f, "{field} is required"),
            Problem::Unknown => write!(f, "{field} is not one of the allowed values"),
            Problem::OutOfRange { min, max } => {
                write!(f, "{field} must be between {min} and {max}")
            }
            Problem::TooLong { max } => write!(f, "{field} must be at most {max} characters"),
            Problem::TooShort { min } => write!(f, "{field} must be at least {min} characters"),
            Problem::InFuture => write!(f, "{field} must not be in the future"),
            Problem::TooOld => write!(f, "{field} is too far in the past"),
            Problem::BadFormat => write!(f, "{field} is not in a format that can be read"),
            Problem::Mismatch => write!(f, "{field} does not match"),
            Problem::NotAllowed => write!(f, "{field} cannot be changed like this"),
            Problem::Untrusted => write!(f, "{field} has a certificate that could not be verified"),
            Problem::WrongCount { expected, optional: 0 } => write!(f, "{field} must have exactly {expected} values"),
            Problem::WrongCount { expected, optional } => {
                write!(f, "{field} must have {expected} values, or {} with the unscored question", expected + optional)
            }
        }
    }
}

/// Everything that can go wrong in the core.
/// Why a Questionnaire cannot be used. The text names the element and the item, never answers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unsupported questionnaire: {0}")]
pub struct Unsupported(pub String);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Invalid(#[from] Invalid),
    #[error("wrong passphrase")]
    WrongPassphrase { retry_after_secs: u64 },
    #[error("too many wrong attempts; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    #[error("no diary has been set up in this folder")]
    NotInitialised,
    #[error("a diary already exists in this folder")]
    AlreadyInitialised,
    /// The files are there but cannot be used. The text is ours and never contains health data.
    #[error("the diary cannot be opened: {0}; the files have been left as they are")]
    Damaged(&'static str),
    #[error("this diary was written by a newer version of Companion")]
    TooNew,
    #[error("this build is not linked against SQLCipher; refusing to store health data unencrypted")]
    NotEncrypted,
    #[error("the diary is locked")]
    Locked,
    #[error("no such entry")]
    NotFound,
    /// The person who unlocked may not do this: a carer outside what the patient allowed, or
    /// anyone but the patient managing carers.
    #[error("you have not been given access to this")]
    NotPermitted,
    /// A carer's passphrase after the time the patient gave them ran out.
    #[error("your access to this diary has ended")]
    AccessEnded,
    #[error("this entry has been withdrawn and cannot be changed")]
    Withdrawn,
    /// The database file failed SQLite's or SQLCipher's checks: pages that do not decrypt, a
    /// file cut short. Nothing more is written to it.
    #[error("the diary file is damaged; restore a backup if you have one (the clinic still holds what was synced); the files have been left as they are")]
    Corrupt,
    /// A key slot or sealed key in `keyslots.json` fails its checksum: the file is damaged, the
    /// passphrase may well be right, and no attempt is counted.
    #[error("the key file is damaged; unlock with your recovery code, or restore a backup; no attempt was counted")]
    KeysDamaged,
    /// A backup file that fails its checks (cut short, changed, not a backup): nothing of it
    /// is restored.
    #[error("the backup file is damaged or is not a Companion backup; nothing was restored")]
    BackupDamaged,
    /// The device refused to store: no room, no right to write, or a file-size limit.
    #[error("{0}")]
    Storage(Fault),
    #[error("storage error")]
    Db(rusqlite::Error),
    #[error("file error: {0}")]
    Io(std::io::Error),
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// The clinic server could not be reached (or did not answer in time).
    #[error("the clinic server could not be reached")]
    Offline,
    /// The clinic asked the device to wait (429, 503): it is busy, not gone.
    #[error("the clinic server is busy; the next try is in {retry_after_secs} seconds")]
    ClinicBusy { retry_after_secs: u64 },
    /// The clinic answered with an error of its own (5xx).
    #[error("the clinic server had a problem; the next try is in {retry_after_secs} seconds")]
    ClinicFailed { retry_after_secs: u64 },
    /// A patient's pairing code used to join as a carer (in an empty folder).
    #[error("this code connects a patient's own diary: set up the diary first (companion init --name NAME), then pair with the code")]
    PatientCode,
    /// A carer's invitation used to pair a diary that exists.
    #[error("this code is a carer's invitation: it sets up a new diary, so use it in an empty folder")]
    CarerCode,
    /// This diary is not connected to a clinic.
    #[error("this diary is not connected to a clinic")]
    NotPaired,
    /// A Questionnaire outside the subset Companion renders; the text names the element.
    #[error("{0}")]
    Unsupported(#[from] Unsupported),
}

/// Why the device would not store something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    #[error("there is no room left on this device")]
    NoSpace,
    #[error("Companion cannot write to its folder")]
    CannotWrite,
    #[error("the diary file has reached the largest file size this system allows")]
    TooLarge,
}

impl Fault {
    /// The fault an operating-system error number stands for, if it is one of these.
    pub fn from_errno(errno: i32) -> Option<Fault> {
        match errno {
            libc::ENOSPC | libc::EDQUOT => Some(Fault::NoSpace),
            libc::EROFS | libc::EACCES | libc::EPERM => Some(Fault::CannotWrite),
            libc::EFBIG => Some(Fault::TooLarge),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    /// SQLite's own verdicts are kept: a full disk, a read-only file, a damaged one. Other
    /// failures stay `Db` until [`crate::fault::explain`] has looked at the folder.
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            match f.code {
                rusqlite::ErrorCode::DiskFull => return Error::Storage(Fault::NoSpace),
                rusqlite::ErrorCode::ReadOnly => return Error::Storage(Fault::CannotWrite),
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase => return Error::Corrupt,
                _ => {}
            }
        }
        Error::Db(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        match e.raw_os_error().and_then(Fault::from_errno) {
            Some(fault) => Error::Storage(fault),
            None => Error::Io(e),
        }
    }
}

impl Error {
    pub fn invalid(field: &'static str, problem: Problem) -> Self {
        Error::Invalid(Invalid::new(field, problem))
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Invalid(_) => ErrorCode::Invalid,
            Error::WrongPassphrase { .. } => ErrorCode::WrongPassphrase,
            Error::Throttled { .. } => ErrorCode::Throttled,
            Error::NotInitialised => ErrorCode::NotInitialised,
            Error::AlreadyInitialised => ErrorCode::AlreadyInitialised,
            Error::Damaged(_) => ErrorCode::Damaged,
            Error::TooNew => ErrorCode::TooNew,
            Error::NotEncrypted => ErrorCode::NotEncrypted,
            Error::Locked => ErrorCode::Locked,
            Error::NotFound => ErrorCode::NotFound,
            Error::NotPermitted => ErrorCode::NotPermitted,
            Error::AccessEnded => ErrorCode::AccessEnded,
            Error::Withdrawn => ErrorCode::Withdrawn,
            Error::Unsupported(_) => ErrorCode::Unsupported,
            Error::Offline => ErrorCode::Offline,
            Error::NotPaired => ErrorCode::NotPaired,
            Error::Corrupt => ErrorCode::Corrupt,
            Error::KeysDamaged => ErrorCode::KeysDamaged,
            Error::BackupDamaged => ErrorCode::BackupDamaged,
            Error::Storage(Fault::NoSpace) => ErrorCode::NoSpace,
            Error::Storage(Fault::CannotWrite) => ErrorCode::CannotWrite,
            Error::Storage(Fault::TooLarge) => ErrorCode::TooLarge,
            Error::ClinicBusy { .. } => ErrorCode::ClinicBusy,
            Error::ClinicFailed { .. } => ErrorCode::ClinicFailed,
            Error::PatientCode => ErrorCode::PatientCode,
            Error::CarerCode => ErrorCode::CarerCode,
            Error::Db(_) | Error::Io(_) | Error::Internal(_) => ErrorCode::Internal,
        }
    }
}

/// Stable codes the UI translates. Add one only when the UI acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Invalid,
    WrongPassphrase,
    Throttled,
    NotInitialised,
    AlreadyInitialised,
    Damaged,
    TooNew,
    NotEncrypted,
    Locked,
    NotFound,
    NotPermitted,
    AccessEnded,
    Withdrawn,
    Unsupported,
    Offline,
    NotPaired,
    Corrupt,
    KeysDamaged,
    BackupDamaged,
    NoSpace,
    CannotWrite,
    TooLarge,
    ClinicBusy,
    ClinicFailed,
    PatientCode,
    CarerCode,
    Internal,
}

/// The one error type that crosses the IPC boundary: `{code, message, field?, problem?, retry_after_secs?}`.
/// `message` is English for logs and the CLI; the UI shows its own translation chosen by `code`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ErrorPayload {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub problem: Option<Problem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub retry_after_secs: Option<u64>,
}

impl From<&Error> for ErrorPayload {
    fn from(err: &Error) -> Self {
        let (field, problem) = match err {
            Error::Invalid(inv) => (Some(inv.field), Some(inv.problem.clone())),
            _ => (None, None),
        };
        let retry_after_secs = match err {
            Error::WrongPassphrase { retry_after_secs }
            | Error::Throttled { retry_after_secs }
            | Error::ClinicBusy { retry_after_secs }
            | Error::ClinicFailed { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        // Internal causes (SQLite, I/O) are logged where they happen; the edge gets no detail.
        let message = match err.code() {
            ErrorCode::Internal => "something went wrong while saving or reading the diary".into(),
            _ => err.to_string(),
        };
        ErrorPayload { code: err.code(), message, field, problem, retry_after_secs }
    }
}

impl From<Error> for ErrorPayload {
    fn from(err: Error) -> Self {
        ErrorPayload::from(&err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_field_and_the_rule() {
        let e = Error::invalid("severity", Problem::OutOfRange { min: 0.0, max: 10.0 });
        assert_eq!(e.to_string(), "severity must be between 0 and 10");
        let p = ErrorPayload::from(&e);
        assert_eq!(p.code, ErrorCode::Invalid);
        assert_eq!(p.field, Some("severity"));
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["problem"]["kind"], "out_of_range");
        assert_eq!(json["problem"]["max"], 10.0);
    }

    #[test]
    fn internal_errors_carry_no_detail_across_the_boundary() {
        let e = Error::Db(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(19), Some("CHECK constraint failed: secret".into())));
        let p = ErrorPayload::from(&e);
        assert_eq!(p.code, ErrorCode::Internal);
        assert!(!p.message.contains("secret"));
    }
}
