//! Companion's clinic server: the hospital's end of sync. FHIR R4 REST over an embedded SQLite
//! store (or PostgreSQL), device pairing, staff access, and an audit log. Logs carry ids and actions, never
//! health data.

pub mod care;
pub mod carer_access;
pub mod db;
pub mod error;
pub mod fhir;
pub mod http;
pub mod origin;
pub mod search;
pub mod serve;
pub mod sql;
pub mod structure;
pub mod throttle;

pub use http::{app, AppState};
