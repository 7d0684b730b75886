//! Limits the device checks before it sends and the clinic checks again when it receives, so
//! the two never disagree about what a person may type.

/// A person's name (the patient's, a carer's): characters after trimming.
pub const MAX_NAME: usize = 100;
/// A carer's relationship to the patient ("daughter").
pub const MAX_RELATIONSHIP: usize = 50;
/// A carer added or invited for a number of days: from one day to ten years.
pub const CARER_DAYS: std::ops::RangeInclusive<i64> = 1..=3650;
/// A pairing code or invitation as sent: longer is not a code.
pub const MAX_CODE: usize = 64;
/// How long an invitation code can be redeemed.
pub const INVITATION_HOURS: i64 = 72;
