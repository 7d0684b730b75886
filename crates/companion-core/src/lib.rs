//! Companion's core: the domain, validation, the encrypted store and FHIR mapping.
//!
//! This crate knows nothing of Tauri or of terminals; its only network code is the sync
//! client in [`sync`], which talks to the clinic server. The app shell
//! (`src-tauri/`) and the CLI (`crates/companion-cli`) are thin adapters over it.
//! Health data never reaches a log line or an error message from here: errors
//! name fields and rules, never the values a person typed.

pub mod alarms;
pub mod api;
pub mod care_team;
pub mod clock;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod fault;
pub mod fhir;
pub mod files;
pub mod instruments;
pub mod keyfile;
pub mod limits;
pub mod logging;
pub mod norway;
pub mod paths;
pub mod pdf;
pub mod plan;
pub mod prefs;
pub mod replica;
pub mod role;
pub mod rules;
pub mod session;
pub mod store;
pub mod summary_pdf;
pub mod symptom;
pub mod sync;
pub mod treatment;

pub use clock::{Clock, SystemClock};
pub use domain::{Author, Entry, EntryData, EntryKind, NewEntry, QuestionState, RecordStatus, Role, SymptomCode};
pub use error::{Error, ErrorCode, ErrorPayload, Fault, Invalid, Problem, Result};
pub use store::{RecoveryCode, Store};
