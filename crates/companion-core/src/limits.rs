//! What a person may write, in one place: the lengths and ranges the diary accepts. The
//! record kinds (`domain`) and the instruments both check against these, and the limits a
//! carer's details share with the clinic come from `companion_protocol::limits`.

pub use companion_protocol::limits::{CARER_DAYS, INVITATION_HOURS, MAX_CODE, MAX_NAME, MAX_RELATIONSHIP};

/// Longest free-text note on an entry (or a free-text answer in a form), in characters.
pub const MAX_NOTE: usize = 2000;
/// Longest question for the visit, in characters.
pub const MAX_QUESTION: usize = 1000;
/// Longest answer to a question, in characters.
pub const MAX_ANSWER: usize = 4000;
/// Entries may be dated this far ahead of the clock, to allow for clocks that drift.
pub const FUTURE_TOLERANCE_MINUTES: i64 = 5;
/// The lowest and highest temperatures accepted, in °C.
pub const MIN_CELSIUS: f64 = 30.0;
pub const MAX_CELSIUS: f64 = 45.0;
/// Ratings (severity, wellbeing) are 0–10.
pub const MAX_RATING: i64 = 10;
