//! The clinic's wall clock: Norway's time, from the core (the device reads a ward's staffed hours
//! in the same time), for times a nurse types and reads. The server stores and sends UTC.

pub use companion_core::norway::{from_local, local};
